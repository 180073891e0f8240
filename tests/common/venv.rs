//! The Python side: the pinned virtualenv of real clients (tests/python), made once and shared,
//! and the interpreters other venvs are made from.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use super::{repo, run_ok, trustrun_bin};

pub fn client_script() -> PathBuf {
    repo().join("tests/python/client.py")
}

/// The virtualenv with the pinned clients: `TRUSTRUN_TEST_VENV`, else `target/e2e-venv`, created
/// on first use (under a file lock, since test binaries and nextest processes run at once) with
/// `TRUSTRUN_TEST_BASE_PYTHON` (else `python3`), its pip running through the freshly built
/// trustrun: behind an intercepting proxy plain pip fails on the corporate root, and the tests
/// should pass for exactly the users trustrun is for.
pub fn venv() -> &'static Path {
    static VENV: OnceLock<PathBuf> = OnceLock::new();
    VENV.get_or_init(|| {
        let dir = std::env::var_os("TRUSTRUN_TEST_VENV")
            .map(PathBuf::from)
            .unwrap_or_else(|| repo().join("target/e2e-venv"));
        let requirements = repo().join("tests/python/requirements.txt");
        let wanted = fs::read_to_string(&requirements).unwrap();
        let stamp = dir.join(".trustrun-requirements");
        if fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str()) {
            return dir;
        }
        fs::create_dir_all(dir.parent().unwrap()).unwrap();
        let lock = fs::File::create(dir.with_extension("lock")).unwrap();
        lock.lock().unwrap();
        if fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str()) {
            return dir;
        }
        // Straight to the terminal, past the test harness's capture: this takes a minute or two.
        let _ = writeln!(
            std::io::stderr(),
            "creating the test venv (first run only): {} (pip through trustrun)",
            dir.display()
        );
        let _ = fs::remove_dir_all(&dir);
        create_venv(&dir);
        // pip reaches the package registry with this machine's own settings, through trustrun:
        // the OS trust store and any CA file the machine's variables name are trusted.
        let mut install = venv_pip_install(&dir);
        install.arg("-r").arg(&requirements);
        run_ok(install.env(
            "TRUSTRUN_CACHE_DIR",
            repo().join("target/trustrun-test-cache"),
        ));
        fs::write(&stamp, wanted).unwrap();
        dir
    })
}

/// The base interpreter test virtualenvs are made from.
pub fn base_python() -> std::ffi::OsString {
    std::env::var_os("TRUSTRUN_TEST_BASE_PYTHON").unwrap_or_else(|| "python3".into())
}

/// `BASE -m venv DIR`, with pip.
pub fn create_venv(dir: &Path) {
    run_ok(Command::new(base_python()).arg("-m").arg("venv").arg(dir));
}

/// `trustrun DIR/bin/python -m pip install`, arguments to follow: how `venv()` installs the
/// pinned clients (the test venv test runs it against an intercepted index of its own).
pub fn venv_pip_install(dir: &Path) -> Command {
    let mut cmd = Command::new(trustrun_bin());
    cmd.arg(venv_interpreter(dir)).args([
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
    ]);
    cmd
}

pub fn venv_python() -> PathBuf {
    venv_interpreter(venv())
}

/// A virtualenv's interpreter: `bin/python` on Unix, `Scripts\python.exe` on Windows.
#[cfg(unix)]
pub fn venv_interpreter(dir: &Path) -> PathBuf {
    dir.join("bin/python")
}
#[cfg(windows)]
pub fn venv_interpreter(dir: &Path) -> PathBuf {
    dir.join("Scripts").join("python.exe")
}

/// Python 3.13: `TRUSTRUN_TEST_PYTHON313`, else pyenv's `/root/.pyenv/versions/3.13.*` (where this
/// machine kind has it), else `python3.13` on PATH. Missing is a failure, not a skip: CI has it.
pub fn python313() -> PathBuf {
    if let Some(p) = std::env::var_os("TRUSTRUN_TEST_PYTHON313") {
        return PathBuf::from(p);
    }
    let mut found: Vec<PathBuf> = fs::read_dir("/root/.pyenv/versions")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("3.13"))
        })
        .map(|p| p.join("bin/python3.13"))
        .filter(|p| p.is_file())
        .collect();
    found.sort();
    if let Some(p) = found.pop() {
        return p;
    }
    let out = Command::new("python3.13")
        .args(["-c", "import sys; print(sys.executable)"])
        .output();
    match out {
        Ok(out) if out.status.success() => {
            PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
        }
        _ => panic!(
            "no Python 3.13: set TRUSTRUN_TEST_PYTHON313, or install it (pyenv's /root/.pyenv/versions/3.13.0 \
             or python3.13 on PATH)"
        ),
    }
}
