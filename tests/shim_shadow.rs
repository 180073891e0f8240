//! A virtualenv activated after the shims comes first on PATH and bypasses them: `shim list`
//! and `doctor` say so. The control: with the shim directory first, neither complains, and the
//! venv's python through the shim directory does trust the corporate root.

use std::path::Path;
use std::process::{Command, Output};

use crate::common::*;

fn path_of(dirs: &[&Path]) -> std::ffi::OsString {
    let mut all: Vec<std::path::PathBuf> = dirs.iter().map(|d| d.to_path_buf()).collect();
    all.extend(std::env::split_paths(&std::env::var_os("PATH").unwrap()));
    std::env::join_paths(all).unwrap()
}

fn trustrun(world: &World, path: &std::ffi::OsStr, shims: &Path, args: &[&str]) -> Output {
    let mut cmd = world.trustrun();
    cmd.env("PATH", path)
        .env("TRUSTRUN_SHIM_DIR", shims)
        .args(args);
    cmd.output().unwrap()
}

#[test]
fn a_venv_ahead_of_the_shims_is_reported_by_shim_list_and_doctor() {
    let world = World::new();
    let shims = world.cache.path().join("shims");
    let venv = world.cache.path().join("venv");
    // A real venv, as `python -m venv .venv && source .venv/bin/activate` makes it.
    let status = Command::new(venv_python())
        .args(["-m", "venv", "--without-pip"])
        .arg(&venv)
        .status()
        .unwrap();
    assert!(status.success());
    let venv_bin = venv.join("bin");
    let out = world
        .trustrun()
        .args(["shim", "install", "--dir"])
        .arg(&shims)
        .arg("python3")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));

    // Activated after the shims: the venv's bin is first.
    let shadowed = path_of(&[&venv_bin, &shims]);
    let out = trustrun(&world, &shadowed, &shims, &["shim", "list"]);
    let list = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        list.contains(&format!(
            "SHADOWED python3: PATH finds {} before the shim directory",
            venv_bin.join("python3").display()
        )),
        "{}",
        output_text(&out)
    );
    let out = trustrun(&world, &shadowed, &shims, &["doctor"]);
    let report = String::from_utf8_lossy(&out.stdout);
    let words = report.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        words.contains("python3: PATH finds") && words.contains("so the shim is bypassed"),
        "{report}"
    );
    // What it means: python3 from that shell does not trust the corporate root.
    let mut plain = Command::new("sh");
    clean(&mut plain, world.cache.path())
        .env("PATH", &shadowed)
        .env("TRUSTRUN_CA", &world.pki.root_pem)
        .args(["-c", "exec python3 \"$0\" urllib \"$1\""])
        .arg(client_script())
        .arg(&world.server.url);
    assert_certificate_failure(&plain.output().unwrap());

    // Control: shims first, no complaint, and the same python3 trusts the root.
    let covered = path_of(&[&shims, &venv_bin]);
    let out = trustrun(&world, &covered, &shims, &["shim", "list"]);
    let list = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(list.contains("python3"), "{list}");
    assert!(!list.contains("SHADOWED"), "{list}");
    let out = trustrun(&world, &covered, &shims, &["doctor"]);
    assert!(!String::from_utf8_lossy(&out.stdout).contains("bypassed"));
    let mut shimmed = Command::new("sh");
    clean(&mut shimmed, world.cache.path())
        .env("PATH", &covered)
        .env("TRUSTRUN_CA", &world.pki.root_pem)
        .args(["-c", "exec python3 \"$0\" urllib \"$1\""])
        .arg(client_script())
        .arg(&world.server.url);
    assert_ok(&shimmed.output().unwrap(), "200");
}
