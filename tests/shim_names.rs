//! `shim install`: a name with nothing behind it on PATH warns (usually a typo), and the default
//! set makes a `harbor` shim only where harbor is installed, saying what it is otherwise.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Output;

use crate::common::*;

fn install(world: &World, path: &std::ffi::OsStr, shims: &Path, names: &[&str]) -> Output {
    let mut cmd = world.trustrun();
    cmd.env("PATH", path)
        .args(["shim", "install", "--dir"])
        .arg(shims)
        .args(names);
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
    out
}

#[test]
fn a_name_with_nothing_behind_it_warns() {
    let world = World::new();
    let shims = world.cache.path().join("shims");
    let path = std::env::var_os("PATH").unwrap();
    let out = install(&world, &path, &shims, &["pyhton3"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("warning: nothing named pyhton3 on PATH behind the shim (a typo?)"),
        "{}",
        output_text(&out)
    );
    // Control: a program that exists gets no warning.
    let out = install(&world, &path, &shims, &["sh"]);
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("warning"),
        "{}",
        output_text(&out)
    );
}

#[test]
fn the_default_set_has_harbor_only_where_it_is_installed() {
    let world = World::new();
    let empty = world.cache.path().join("empty-bin");
    fs::create_dir_all(&empty).unwrap();
    let shims = world.cache.path().join("shims-a");
    let out = install(&world, empty.as_os_str(), &shims, &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("skipped    harbor: not on PATH; the agent benchmark harness"),
        "{}",
        output_text(&out)
    );
    assert!(!shims.join("harbor").exists());
    assert!(
        shims.join("python3").exists(),
        "the rest of the default set"
    );

    // With a harbor on PATH, it is shimmed.
    let bin = world.cache.path().join("bin");
    fs::create_dir_all(&bin).unwrap();
    fs::write(bin.join("harbor"), "#!/bin/sh\necho harbor\n").unwrap();
    fs::set_permissions(bin.join("harbor"), fs::Permissions::from_mode(0o755)).unwrap();
    let shims = world.cache.path().join("shims-b");
    let out = install(&world, bin.as_os_str(), &shims, &[]);
    assert!(shims.join("harbor").exists(), "{}", output_text(&out));
    assert!(!String::from_utf8_lossy(&out.stdout).contains("skipped"));
}
