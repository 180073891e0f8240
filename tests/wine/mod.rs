//! Running the Windows build under wine: one prefix under `target/wine/prefix`, created once
//! (about 25 s) and reused by every test; `trustrun.exe` and the test client built with
//! `cargo build --target x86_64-pc-windows-gnu`; the C helpers built with mingw. One wineserver
//! serves a prefix, so the tests take `Wine::lock()` and run one at a time.

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Mutex, MutexGuard, OnceLock};

use crate::common;

pub const TARGET: &str = "x86_64-pc-windows-gnu";

/// Everything a wine test needs, built once per test run.
pub struct Wine {
    pub prefix: PathBuf,
    pub trustrun: PathBuf,
    pub client: PathBuf,
    pub addroot: PathBuf,
    pub sleeper: PathBuf,
    _guard: MutexGuard<'static, ()>,
}

fn wine_dir() -> PathBuf {
    common::repo().join("target/wine")
}

/// The environment every wine process gets: the test prefix, no debug chatter, no prompts to
/// install Mono or Gecko.
pub fn wine_env(cmd: &mut Command, prefix: &Path) {
    cmd.env("WINEPREFIX", prefix)
        .env("WINEDEBUG", "-all")
        .env("WINEDLLOVERRIDES", "mscoree,mshtml=");
}

/// The prefix, created on first use (CI creates it in `.ci/run` first, timed there), with the
/// `ProcessPrng` DLL that Rust programs need and wine 8 lacks.
fn prefix() -> PathBuf {
    let prefix = wine_dir().join("prefix");
    let dll = prefix.join("drive_c/windows/system32/bcryptprimitives.dll");
    let stamp = prefix.join(".trustrun-ready");
    if stamp.is_file() {
        return prefix;
    }
    fs::create_dir_all(wine_dir()).unwrap();
    let lock = fs::File::create(wine_dir().join("prefix.lock")).unwrap();
    lock.lock().unwrap();
    if stamp.is_file() {
        return prefix;
    }
    let mut kill = Command::new("wineserver");
    wine_env(&mut kill, &prefix);
    let _ = kill.arg("-k").output();
    let mut boot = Command::new("wineboot");
    wine_env(&mut boot, &prefix);
    common::run_ok(boot.arg("-i"));
    let mut wait = Command::new("wineserver");
    wine_env(&mut wait, &prefix);
    common::run_ok(wait.arg("-w"));
    mingw(
        &common::repo().join("tests/wine/bcryptprimitives.c"),
        &dll,
        &["-shared", "-ladvapi32"],
    );
    fs::write(&stamp, "").unwrap();
    prefix
}

fn mingw(source: &Path, out: &Path, flags: &[&str]) {
    common::run_ok(
        Command::new("x86_64-w64-mingw32-gcc")
            .args(["-O2", "-municode", "-o"])
            .arg(out)
            .arg(source)
            .args(flags),
    );
}

struct Built {
    trustrun: PathBuf,
    client: PathBuf,
    addroot: PathBuf,
    sleeper: PathBuf,
}

fn built() -> &'static Built {
    static BUILT: OnceLock<Built> = OnceLock::new();
    BUILT.get_or_init(|| {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        common::run_ok(
            Command::new(cargo)
                .current_dir(common::repo())
                .args(["build", "--quiet", "--target", TARGET])
                .args(["--bin", "trustrun", "--example", "tls_client"]),
        );
        let out = common::repo().join("target").join(TARGET).join("debug");
        let helpers = wine_dir().join("helpers");
        fs::create_dir_all(&helpers).unwrap();
        let addroot = helpers.join("addroot.exe");
        mingw(
            &common::repo().join("tests/wine/addroot.c"),
            &addroot,
            &["-lcrypt32"],
        );
        let sleeper = helpers.join("sleeper.exe");
        mingw(&common::repo().join("tests/wine/sleeper.c"), &sleeper, &[]);
        Built {
            trustrun: out.join("trustrun.exe"),
            client: out.join("examples/tls_client.exe"),
            addroot,
            sleeper,
        }
    })
}

impl Wine {
    /// Builds what is needed (once) and takes the prefix for this test.
    pub fn lock() -> Wine {
        static LOCK: Mutex<()> = Mutex::new(());
        let guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
        let prefix = {
            static PREFIX: OnceLock<PathBuf> = OnceLock::new();
            PREFIX.get_or_init(prefix).clone()
        };
        let b = built();
        Wine {
            prefix,
            trustrun: b.trustrun.clone(),
            client: b.client.clone(),
            addroot: b.addroot.clone(),
            sleeper: b.sleeper.clone(),
            _guard: guard,
        }
    }

    /// `wine PROGRAM` with the CA presets removed (common::clean), a private cache given as a
    /// Windows path, no Unix SHELL leaking in, and Windows PATH = `path` + the system's.
    pub fn command(&self, program: impl AsRef<OsStr>, cache: &Path, path: &[&Path]) -> Command {
        let mut cmd = Command::new("wine");
        common::clean(&mut cmd, cache);
        wine_env(&mut cmd, &self.prefix);
        cmd.env("TRUSTRUN_CACHE_DIR", windows_path(cache))
            .env_remove("SHELL")
            .env_remove("MSYSTEM")
            .env_remove("PSModulePath")
            .env(
                "WINEPATH",
                path.iter()
                    .map(|p| windows_path(p))
                    .collect::<Vec<_>>()
                    .join(";"),
            )
            .arg(program);
        cmd
    }

    /// The Windows test client alone (no trustrun) against `url`: the control of every case.
    pub fn client_alone(&self, cache: &Path, url: &str) -> Output {
        self.command(&self.client, cache, &[])
            .arg(url)
            .output()
            .unwrap()
    }

    /// `wine trustrun.exe ARGS...`, as `command`.
    pub fn trustrun(&self, cache: &Path, path: &[&Path]) -> Command {
        self.command(&self.trustrun, cache, path)
    }

    /// Adds a certificate to the machine's Group Policy Root store, as IT would.
    pub fn add_group_policy_root(&self, der_file: &Path) {
        let mut cmd = Command::new("wine");
        wine_env(&mut cmd, &self.prefix);
        common::run_ok(cmd.arg(&self.addroot).arg(windows_path(der_file)));
    }

    /// Empties the Group Policy Root store (the prefix outlives the test run). Through the
    /// registry key wine keeps it in: its CertDeleteCertificateFromStore leaves that key alone.
    pub fn clear_group_policy_roots(&self) {
        let mut cmd = Command::new("wine");
        wine_env(&mut cmd, &self.prefix);
        let key = r"HKLM\Software\Policies\Microsoft\SystemCertificates\Root\Certificates";
        // Fails when there is no such key: nothing to clear then.
        let _ = cmd.args(["reg", "delete", key, "/f"]).output().unwrap();
    }

    /// A value of `HKCU\Environment` as `reg query` prints it, or None.
    pub fn user_env(&self, name: &str) -> Option<String> {
        let mut cmd = Command::new("wine");
        wine_env(&mut cmd, &self.prefix);
        let out = cmd
            .args(["reg", "query", "HKCU\\Environment", "/v", name])
            .output()
            .unwrap();
        if !out.status.success() {
            return None;
        }
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.lines()
            .find(|l| l.trim_start().starts_with(name))
            .and_then(|l| l.split("REG_").nth(1))
            .map(|rest| {
                rest.split_once(char::is_whitespace)
                    .map(|x| x.1)
                    .unwrap_or("")
                    .trim()
                    .to_owned()
            })
    }

    /// Sets (Some) or deletes (None) a value of `HKCU\Environment`.
    pub fn set_user_env(&self, name: &str, value: Option<&str>) {
        let mut cmd = Command::new("wine");
        wine_env(&mut cmd, &self.prefix);
        cmd.args(["reg"]);
        match value {
            Some(v) => cmd.args([
                "add",
                "HKCU\\Environment",
                "/v",
                name,
                "/t",
                "REG_EXPAND_SZ",
                "/d",
                v,
                "/f",
            ]),
            None => cmd.args(["delete", "HKCU\\Environment", "/v", name, "/f"]),
        };
        let _ = cmd.output().unwrap();
    }

    /// The Linux path of a file under the prefix's C: drive.
    pub fn c_drive(&self, windows: &str) -> PathBuf {
        let rest = windows
            .strip_prefix("C:\\")
            .or_else(|| windows.strip_prefix("c:\\"))
            .unwrap_or_else(|| panic!("{windows} is not on C:"));
        self.prefix.join("drive_c").join(rest.replace('\\', "/"))
    }
}

/// A host path as Windows programs under wine name it: Z: is the host's root.
pub fn windows_path(p: &Path) -> String {
    let abs = std::path::absolute(p).unwrap();
    format!("Z:{}", abs.display().to_string().replace('/', "\\"))
}

/// The Windows test client reached the server and verified it.
pub fn assert_client_ok(out: &Output) {
    let text = common::output_text(out);
    assert_eq!(out.status.code(), Some(0), "expected success:\n{text}");
    // A line of its own: cmd echoes a script's commands around it.
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .any(|l| l.starts_with("OK {\"ok\":true")),
        "expected OK:\n{text}"
    );
}
