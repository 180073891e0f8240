//! Install without Rust: the wheels `.ci/wheels` builds are tagged honestly, install with pip,
//! `uv tool install` and `pipx install`, and the trustrun each puts on PATH makes a real client
//! trust the test corporate root, against the control that fails without it. Shims installed
//! from a pip-installed trustrun keep working after `pip install --force-reinstall`.
//!
//! The wheels are built here, by `.ci/wheels` (a no-op for cargo when .ci/run built them just
//! before): a missing or stale wheel is rebuilt, a failed build fails the tests.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::common::*;

const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The wheels of this source tree, built once per test process and copied out of target/wheels,
/// so that another test process rebuilding them cannot change a file under this one.
fn wheels() -> &'static Path {
    static WHEELS: OnceLock<tempfile::TempDir> = OnceLock::new();
    WHEELS
        .get_or_init(|| {
            let target = repo().join("target");
            fs::create_dir_all(&target).unwrap();
            let lock = fs::File::create(target.join("wheels.lock")).unwrap();
            lock.lock().unwrap();
            let out = Command::new(repo().join(".ci/wheels")).output().unwrap();
            assert!(
                out.status.success(),
                ".ci/wheels failed:\n{}",
                output_text(&out)
            );
            let copy = tempfile::tempdir().unwrap();
            for entry in fs::read_dir(target.join("wheels")).unwrap() {
                let path = entry.unwrap().path();
                fs::copy(&path, copy.path().join(path.file_name().unwrap())).unwrap();
            }
            copy
        })
        .path()
}

/// The Linux wheel; its name carries the platform tag pip matches against the running system.
fn linux_wheel() -> PathBuf {
    wheel(&format!(
        "trustrun-{VERSION}-py3-none-manylinux2014_x86_64.manylinux_2_17_x86_64.whl"
    ))
}

fn windows_wheel() -> PathBuf {
    wheel(&format!("trustrun-{VERSION}-py3-none-win_amd64.whl"))
}

fn wheel(name: &str) -> PathBuf {
    let path = wheels().join(name);
    let found: Vec<_> = fs::read_dir(wheels())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(path.is_file(), "no {name} among {found:?}");
    path
}

/// The file names inside a wheel (a zip), read with Python's zipfile.
fn wheel_names(wheel: &Path) -> Vec<String> {
    let out = run_ok(
        Command::new("python3")
            .arg("-c")
            .arg("import sys, zipfile; print('\\n'.join(zipfile.ZipFile(sys.argv[1]).namelist()))")
            .arg(wheel),
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn wheel_member(wheel: &Path, name: &str) -> Vec<u8> {
    run_ok(
        Command::new("python3")
            .arg("-c")
            .arg("import sys, zipfile; sys.stdout.buffer.write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]))")
            .arg(wheel)
            .arg(name),
    )
    .stdout
}

/// What every wheel's metadata must say, whatever its platform; `tags` are its WHEEL Tag lines.
fn assert_metadata(wheel: &Path, tags: &[&str]) {
    let dist_info = format!("trustrun-{VERSION}.dist-info");
    let wheel_file = String::from_utf8(wheel_member(wheel, &format!("{dist_info}/WHEEL"))).unwrap();
    let found: Vec<&str> = wheel_file
        .lines()
        .filter_map(|l| l.strip_prefix("Tag: "))
        .collect();
    assert_eq!(found, tags, "{wheel:?} WHEEL:\n{wheel_file}");
    assert!(
        wheel_file.contains("Root-Is-Purelib: false"),
        "{wheel_file}"
    );
    let metadata =
        String::from_utf8(wheel_member(wheel, &format!("{dist_info}/METADATA"))).unwrap();
    for line in [
        "Name: trustrun".to_owned(),
        format!("Version: {VERSION}"),
        "License-Expression: MIT OR Apache-2.0".to_owned(),
        "Classifier: Operating System :: Microsoft :: Windows".to_owned(),
        "Classifier: Operating System :: MacOS".to_owned(),
        "Classifier: Operating System :: POSIX :: Linux".to_owned(),
        "Description-Content-Type: text/markdown; charset=UTF-8; variant=GFM".to_owned(),
    ] {
        assert!(
            metadata.lines().any(|l| l == line),
            "{wheel:?} METADATA lacks {line:?}:\n{}",
            &metadata[..metadata.len().min(2000)]
        );
    }
    let names = wheel_names(wheel);
    for licence in ["LICENSE-MIT", "LICENSE-APACHE"] {
        assert!(
            names.contains(&format!("{dist_info}/licenses/{licence}")),
            "{wheel:?} lacks {licence}: {names:?}"
        );
    }
}

#[test]
fn the_linux_wheel_is_manylinux2014_and_asks_glibc_for_nothing_newer_than_2_17() {
    let wheel = linux_wheel();
    assert_metadata(
        &wheel,
        &[
            "py3-none-manylinux2014_x86_64",
            "py3-none-manylinux_2_17_x86_64",
        ],
    );
    let script = format!("trustrun-{VERSION}.data/scripts/trustrun");
    assert!(wheel_names(&wheel).contains(&script));

    // The tag is a promise: the executable runs on glibc 2.17. Read what it asks the dynamic
    // linker for ourselves instead of trusting the build tool's check.
    let tmp = tempfile::tempdir().unwrap();
    let exe = tmp.path().join("trustrun");
    fs::write(&exe, wheel_member(&wheel, &script)).unwrap();
    let dynamic =
        String::from_utf8(run_ok(Command::new("objdump").arg("-T").arg(&exe)).stdout).unwrap();
    let mut versions: Vec<(u32, u32)> = dynamic
        .split_whitespace()
        .filter_map(|word| word.trim_matches(['(', ')']).strip_prefix("GLIBC_"))
        .filter_map(|v| {
            let (major, minor) = v.split_once('.')?;
            Some((major.parse().ok()?, minor.split('.').next()?.parse().ok()?))
        })
        .collect();
    versions.sort();
    assert!(
        !versions.is_empty(),
        "no GLIBC_ symbol versions: not the dynamic executable expected\n{dynamic}"
    );
    assert!(
        *versions.last().unwrap() <= (2, 17),
        "needs glibc {:?}, newer than manylinux2014's 2.17",
        versions.last().unwrap()
    );
    let needed =
        String::from_utf8(run_ok(Command::new("objdump").arg("-p").arg(&exe)).stdout).unwrap();
    for line in needed
        .lines()
        .filter(|l| l.trim_start().starts_with("NEEDED"))
    {
        let lib = line.split_whitespace().last().unwrap();
        // manylinux2014 allows these system libraries and nothing else we could need.
        assert!(
            [
                "libc.so.6",
                "libm.so.6",
                "libdl.so.2",
                "libpthread.so.0",
                "librt.so.1",
                "ld-linux-x86-64.so.2",
                "libgcc_s.so.1"
            ]
            .contains(&lib),
            "{lib} is not a manylinux2014 system library"
        );
    }
}

#[test]
fn the_windows_wheel_holds_the_exe_under_data_scripts_tagged_win_amd64() {
    let wheel = windows_wheel();
    assert_metadata(&wheel, &["py3-none-win_amd64"]);
    let script = format!("trustrun-{VERSION}.data/scripts/trustrun.exe");
    let names = wheel_names(&wheel);
    assert!(names.contains(&script), "{script} not in {names:?}");

    let exe = wheel_member(&wheel, &script);
    // A PE file for x86-64: "MZ", then at the offset stored at 0x3c "PE\0\0" and machine 0x8664.
    assert_eq!(&exe[..2], b"MZ");
    let pe = u32::from_le_bytes(exe[0x3c..0x40].try_into().unwrap()) as usize;
    assert_eq!(&exe[pe..pe + 4], b"PE\0\0");
    assert_eq!(u16::from_le_bytes([exe[pe + 4], exe[pe + 5]]), 0x8664);

    // It must start on a Windows without mingw: only DLLs every Windows has, no libgcc or
    // winpthread beside it.
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("trustrun.exe");
    fs::write(&file, &exe).unwrap();
    let dump = String::from_utf8(
        run_ok(
            Command::new("x86_64-w64-mingw32-objdump")
                .arg("-p")
                .arg(&file),
        )
        .stdout,
    )
    .unwrap();
    let dlls: Vec<String> = dump
        .lines()
        .filter_map(|l| l.trim().strip_prefix("DLL Name: "))
        .map(|d| d.to_ascii_lowercase())
        .collect();
    assert!(dlls.iter().any(|d| d == "kernel32.dll"), "{dlls:?}");
    for dll in &dlls {
        assert!(
            !dll.starts_with("libgcc")
                && !dll.starts_with("libwinpthread")
                && !dll.starts_with("libstdc++"),
            "trustrun.exe needs {dll}, which only a mingw installation has: {dlls:?}"
        );
    }
}

/// `trustrun --ca root.pem python client.py requests URL` with an installed trustrun: the same
/// end-to-end case as tests/clients.rs, after its control failed on the certificate.
fn assert_installed_trustrun_works(world: &World, trustrun: &Path) {
    assert_certificate_failure(&world.control("requests"));
    let mut version = Command::new(trustrun);
    clean(&mut version, world.cache.path()).arg("--version");
    let out = run_ok(&mut version);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("trustrun {VERSION}")
    );
    let mut cmd = Command::new(trustrun);
    clean(&mut cmd, world.cache.path())
        .arg("--ca")
        .arg(&world.pki.root_pem)
        .arg(venv_python())
        .arg(client_script())
        .args(["requests", &world.server.url]);
    assert_ok(&cmd.output().unwrap(), "200");
}

/// A command with the cleaned environment, for installers: nothing from this machine's CA or
/// proxy settings, and no package index (the wheel has no dependencies: nothing is downloaded).
fn installer(program: impl AsRef<std::ffi::OsStr>, world: &World) -> Command {
    let mut cmd = Command::new(program);
    clean(&mut cmd, world.cache.path())
        .env("PIP_NO_INDEX", "1")
        .env("PIP_DISABLE_PIP_VERSION_CHECK", "1");
    cmd
}

fn tools_bin() -> PathBuf {
    // .ci/wheels installed uv and pipx there (pinned in .ci/wheel-tools.txt).
    wheels();
    repo().join("target/wheel-tools/bin")
}

#[test]
fn pip_install_into_a_fresh_venv_then_shims_survive_a_force_reinstall() {
    let world = World::new();
    let wheel = linux_wheel();
    let tmp = tempfile::tempdir().unwrap();
    let venv = tmp.path().join("venv");
    run_ok(Command::new("python3").arg("-m").arg("venv").arg(&venv));
    run_ok(
        installer(venv.join("bin/pip"), &world)
            .arg("install")
            .arg(&wheel),
    );
    let trustrun = venv.join("bin/trustrun");
    assert_installed_trustrun_works(&world, &trustrun);

    // Shims made by the installed trustrun are links to it, where pip put it.
    let shims = tmp.path().join("shims");
    let mut install = Command::new(&trustrun);
    clean(&mut install, world.cache.path())
        .args(["shim", "install", "--dir"])
        .arg(&shims)
        .arg("python3");
    run_ok(&mut install);
    assert_eq!(
        fs::canonicalize(shims.join("python3")).unwrap(),
        fs::canonicalize(&trustrun).unwrap()
    );
    let shim_python = || {
        let mut cmd = Command::new("/usr/bin/env");
        clean(&mut cmd, world.cache.path())
            .env(
                "PATH",
                std::env::join_paths([
                    shims.clone(),
                    venv_python().parent().unwrap().into(),
                    "/usr/bin".into(),
                    "/bin".into(),
                ])
                .unwrap(),
            )
            .env("TRUSTRUN_CA", &world.pki.root_pem)
            .arg("python3")
            .arg(client_script())
            .args(["requests", &world.server.url]);
        cmd.output().unwrap()
    };
    assert_ok(&shim_python(), "200");

    // pip replaces the executable (a new file, not a rewrite in place); the shim names the path,
    // so it follows.
    let before = fs::metadata(&trustrun).unwrap().ino();
    run_ok(
        installer(venv.join("bin/pip"), &world)
            .args(["install", "--force-reinstall"])
            .arg(&wheel),
    );
    let after = fs::metadata(&trustrun).unwrap().ino();
    assert_ne!(
        before, after,
        "pip did not replace {trustrun:?}: the check below proves nothing"
    );
    assert_ok(&shim_python(), "200");
    assert_certificate_failure(&world.control("requests"));
}

#[test]
fn uv_tool_install_into_an_isolated_tool_dir() {
    let world = World::new();
    let wheel = linux_wheel();
    let tmp = tempfile::tempdir().unwrap();
    let (tools, bin) = (tmp.path().join("tools"), tmp.path().join("bin"));
    run_ok(
        installer(tools_bin().join("uv"), &world)
            .env("UV_TOOL_DIR", &tools)
            .env("UV_TOOL_BIN_DIR", &bin)
            .env("UV_CACHE_DIR", tmp.path().join("cache"))
            .env("UV_PYTHON_DOWNLOADS", "never")
            .env("UV_NO_CONFIG", "1")
            .args(["tool", "install", "--offline", "--python", "python3"])
            .arg(&wheel),
    );
    let trustrun = bin.join("trustrun");
    assert!(
        fs::canonicalize(&trustrun)
            .unwrap()
            .starts_with(fs::canonicalize(&tools).unwrap()),
        "{trustrun:?} does not lead into the tool dir {tools:?}"
    );
    assert_installed_trustrun_works(&world, &trustrun);
}

#[test]
fn pipx_install_into_an_isolated_home() {
    let world = World::new();
    let wheel = linux_wheel();
    let tmp = tempfile::tempdir().unwrap();
    let (home, bin) = (tmp.path().join("pipx"), tmp.path().join("bin"));
    run_ok(
        installer(tools_bin().join("pipx"), &world)
            .env("PIPX_HOME", &home)
            .env("PIPX_BIN_DIR", &bin)
            .env("PIPX_MAN_DIR", tmp.path().join("man"))
            .arg("install")
            .arg(&wheel),
    );
    let trustrun = bin.join("trustrun");
    assert!(
        fs::canonicalize(&trustrun)
            .unwrap()
            .starts_with(fs::canonicalize(&home).unwrap()),
        "{trustrun:?} does not lead into PIPX_HOME {home:?}"
    );
    assert_installed_trustrun_works(&world, &trustrun);
}

#[test]
fn the_release_archives_hold_the_wheels_executables_and_their_sha256_checks() {
    let tmp = tempfile::tempdir().unwrap();
    for (wheel, target, extension, exe) in [
        (
            linux_wheel(),
            "x86_64-unknown-linux-gnu",
            "tar.gz",
            "trustrun",
        ),
        (
            windows_wheel(),
            "x86_64-pc-windows-gnu",
            "zip",
            "trustrun.exe",
        ),
    ] {
        let out = run_ok(
            Command::new("python3")
                .arg(repo().join(".ci/archive.py"))
                .arg(&wheel)
                .arg(target)
                .arg(tmp.path()),
        );
        let stem = format!("trustrun-{VERSION}-{target}");
        let archive = tmp.path().join(format!("{stem}.{extension}"));
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            archive.to_str().unwrap()
        );
        run_ok(
            Command::new("sha256sum")
                .arg("-c")
                .arg(format!("{stem}.{extension}.sha256"))
                .current_dir(tmp.path()),
        );
        let unpacked = tmp.path().join(target);
        run_ok(
            Command::new("python3")
                .arg("-c")
                .arg("import shutil, sys; shutil.unpack_archive(sys.argv[1], sys.argv[2])")
                .arg(&archive)
                .arg(&unpacked),
        );
        let dir = unpacked.join(&stem);
        for file in ["README.md", "LICENSE-MIT", "LICENSE-APACHE"] {
            assert!(dir.join(file).is_file(), "{archive:?} lacks {file}");
        }
        let script = format!("trustrun-{VERSION}.data/scripts/{exe}");
        assert!(
            fs::read(dir.join(exe)).unwrap() == wheel_member(&wheel, &script),
            "{archive:?}: {exe} is not the wheel's"
        );
    }
    // The Linux archive's executable keeps its mode and runs as unpacked.
    let unpacked = tmp.path().join(format!(
        "x86_64-unknown-linux-gnu/trustrun-{VERSION}-x86_64-unknown-linux-gnu/trustrun"
    ));
    let out = run_ok(Command::new(&unpacked).arg("--version"));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("trustrun {VERSION}")
    );
}

/// The Windows wheel's own `trustrun.exe` (the release build maturin put in it, not the test
/// build) does the main job under wine: the Windows test client fails alone and verifies through it.
#[test]
fn the_windows_wheels_exe_runs_under_wine_and_makes_a_client_trust_the_root() {
    let wheel = windows_wheel();
    let script = format!("trustrun-{VERSION}.data/scripts/trustrun.exe");
    let tmp = tempfile::tempdir().unwrap();
    let exe = tmp.path().join("trustrun.exe");
    fs::write(&exe, wheel_member(&wheel, &script)).unwrap();

    let w = crate::wine::Wine::lock();
    let world = World::new();
    let cache = world.cache.path();
    let control = w.client_alone(cache, &world.server.url);
    assert_certificate_failure(&control);
    let through = w
        .command(&exe, cache, &[])
        .arg("--ca")
        .arg(crate::wine::windows_path(&world.pki.root_pem))
        .arg(crate::wine::windows_path(&w.client))
        .arg(&world.server.url)
        .output()
        .unwrap();
    crate::wine::assert_client_ok(&through);
    assert_eq!(world.server.answered(), 1);
}
