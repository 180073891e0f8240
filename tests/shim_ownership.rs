//! Which files in a shim directory are ours: a directory shared with the user's other programs
//! keeps them reachable, a user's own symlink at a shim name is theirs, and `remove` checks every
//! name before touching anything.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

use crate::common::*;

fn shim(world: &World, dir: &Path, args: &[&str]) -> Output {
    let (verb, names) = args.split_first().unwrap();
    world
        .trustrun()
        .args(["shim", verb, "--dir"])
        .arg(dir)
        .args(names)
        .output()
        .unwrap()
}

fn manifest_lists(dir: &Path, name: &str) -> bool {
    fs::read_to_string(dir.join(".trustrun-shims"))
        .unwrap()
        .lines()
        .any(|l| l.starts_with(&format!("shim {name} ")))
}

#[test]
fn a_shim_directory_shared_with_other_programs_keeps_them_reachable() {
    let world = World::new();
    let tmp = tempfile::tempdir().unwrap();
    let bin = tmp.path().join("local-bin");
    fs::create_dir(&bin).unwrap();
    // The user's own console script in ~/.local/bin, as `pip install --user` writes one.
    let tool = bin.join("corp-tool");
    fs::write(
        &tool,
        format!(
            "#!/bin/sh\nexec '{}' '{}' requests '{}'\n",
            venv_python().display(),
            client_script().display(),
            world.server.url
        ),
    )
    .unwrap();
    fs::set_permissions(&tool, fs::Permissions::from_mode(0o755)).unwrap();
    let out = shim(&world, &bin, &["install", "python3"]);
    assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));

    let path =
        std::env::join_paths([bin.as_path(), Path::new("/usr/bin"), Path::new("/bin")]).unwrap();
    // Control: the tool on its own fails on the corporate root.
    let mut control = Command::new(&tool);
    clean(&mut control, world.cache.path()).env("PATH", &path);
    assert_certificate_failure(&control.output().unwrap());
    // Through trustrun, found in the shim directory, it trusts the root.
    let out = world
        .trustrun()
        .env("PATH", &path)
        .env("TRUSTRUN_CA", &world.pki.root_pem)
        .arg("corp-tool")
        .output()
        .unwrap();
    assert_ok(&out, "200");
    // Our own shim there is still skipped: python3 reaches the real one, no loop.
    let out = world
        .trustrun()
        .env("PATH", &path)
        .args(["python3", "-c", "import sys; print(sys.executable)"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
    let real = String::from_utf8_lossy(&out.stdout);
    assert!(!real.starts_with(bin.to_str().unwrap()), "{real}");
}

#[test]
fn a_users_own_symlink_at_a_shim_name_is_theirs() {
    let world = World::new();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("shims");
    let out = shim(&world, &dir, &["install", "python3"]);
    assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
    // The user points the name at a program of theirs, by a symlink like ours.
    let link = dir.join("python3");
    fs::remove_file(&link).unwrap();
    std::os::unix::fs::symlink("/bin/true", &link).unwrap();

    let out = shim(&world, &dir, &["remove", "python3"]);
    assert_eq!(out.status.code(), Some(1), "{}", output_text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a trustrun shim"));
    assert_eq!(fs::read_link(&link).unwrap(), Path::new("/bin/true"));

    let out = shim(&world, &dir, &["install", "python3"]);
    assert_eq!(out.status.code(), Some(1), "{}", output_text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("refusing to replace"));
    assert_eq!(fs::read_link(&link).unwrap(), Path::new("/bin/true"));
}

#[test]
fn remove_checks_every_name_before_touching_anything() {
    let world = World::new();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("shims");
    let out = shim(&world, &dir, &["install", "python3", "pip3"]);
    assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
    let out = shim(&world, &dir, &["remove", "python3", "a b"]);
    assert_eq!(out.status.code(), Some(2), "{}", output_text(&out));
    assert!(
        fs::symlink_metadata(dir.join("python3")).is_ok(),
        "python3 kept"
    );
    assert!(manifest_lists(&dir, "python3") && manifest_lists(&dir, "pip3"));
    // A good removal still works and the manifest follows it.
    let out = shim(&world, &dir, &["remove", "python3"]);
    assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
    assert!(fs::symlink_metadata(dir.join("python3")).is_err());
    assert!(!manifest_lists(&dir, "python3") && manifest_lists(&dir, "pip3"));
}
