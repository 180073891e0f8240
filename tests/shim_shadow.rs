//! A virtualenv activated after the shims comes first on PATH and bypasses them: `shim install`
//! says so once, in one line, with what covers it, `shim list` marks it within 100 columns, and
//! `doctor` names it. The control: with the shim directory first, none complains, and the venv's
//! python through the shim directory does trust the corporate root.

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

fn words(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A real venv, as `python -m venv .venv` makes it.
fn make_venv(dir: &Path) -> std::path::PathBuf {
    let status = Command::new(venv_python())
        .args(["-m", "venv", "--without-pip"])
        .arg(dir)
        .status()
        .unwrap();
    assert!(status.success());
    dir.join("bin")
}

/// `shim install` inside an activated venv: one line, once, that the venv's python comes first
/// and what covers it. The control: the same install outside the venv says nothing of it.
#[test]
fn shim_install_in_an_active_venv_says_once_what_covers_it() {
    let world = World::new();
    let venv = world.cache.path().join("venv");
    let venv_bin = make_venv(&venv);
    let install = |dir: &str, activated: bool| {
        let mut cmd = world.trustrun();
        if activated {
            // What `source .venv/bin/activate` does.
            cmd.env("VIRTUAL_ENV", &venv)
                .env("PATH", path_of(&[&venv_bin]));
        }
        let out = cmd
            .env("SHELL", "/bin/bash")
            .args(["shim", "install", "--dir"])
            .arg(world.cache.path().join(dir))
            .args(["python", "python3", "pip"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
        out
    };
    let out = install("shims", true);
    let said =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    let venv_lines: Vec<&str> = said.lines().filter(|l| l.contains("virtualenv")).collect();
    assert_eq!(
        venv_lines,
        [
            "trustrun: the active virtualenv's python, python3 come first on PATH, so the shims do \
          not run there; `trustrun setup` covers virtualenvs; shims cover what setup cannot \
          (programs started without your shell's variables)"
        ],
        "{}",
        output_text(&out)
    );
    // Control: outside the venv, no such line.
    let out = install("shims-outside", false);
    assert!(
        !output_text(&out).contains("virtualenv"),
        "{}",
        output_text(&out)
    );
}

#[test]
fn a_venv_ahead_of_the_shims_is_reported_by_shim_list_and_doctor() {
    let world = World::new();
    let shims = world.cache.path().join("shims");
    let venv_bin = make_venv(&world.cache.path().join("venv"));
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
            "python3      -> {}   [symlink; SHADOWED: PATH finds it first]",
            venv_bin.join("python3").display()
        )) && words(&list).contains(
            "SHADOWED: PATH finds that program before the shim directory (an activated \
             virtualenv?), so the shim never runs; `trustrun setup` covers virtualenvs"
        ),
        "{}",
        output_text(&out)
    );
    for line in list.lines() {
        assert!(
            line.chars().count() < 100,
            "over 99 columns: {line:?}\n{list}"
        );
    }
    let out = trustrun(&world, &shadowed, &shims, &["doctor"]);
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        words(&report).contains("python3: PATH finds")
            && words(&report)
                .contains("so the shim is bypassed there; `trustrun setup` covers virtualenvs"),
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
