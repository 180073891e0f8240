//! Shims: a directory of links to trustrun first on PATH makes plain `python3`, `pip` and console
//! scripts trusted, through other managers' shims, without loops.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use crate::common::*;

struct ShimWorld {
    world: World,
    tmp: tempfile::TempDir,
    shims: PathBuf,
}

impl ShimWorld {
    fn new(names: &[&str]) -> ShimWorld {
        let world = World::new();
        let tmp = tempfile::tempdir().unwrap();
        let shims = tmp.path().join("shims");
        let out = world
            .trustrun()
            .args(["shim", "install", "--dir"])
            .arg(&shims)
            .args(names)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", output_text(&out));
        ShimWorld { world, tmp, shims }
    }

    /// `trustrun shim ACTION FLAGS --dir <shims> NAMES`.
    fn shim(&self, action: &str, flags: &[&str], names: &[&str]) -> Output {
        let mut cmd = self.world.trustrun();
        cmd.args(["shim", action])
            .args(flags)
            .arg("--dir")
            .arg(&self.shims);
        cmd.args(names).output().unwrap()
    }

    fn venv_bin(&self) -> PathBuf {
        venv().join("bin")
    }

    /// `program args...` found through `path`, as a shell would, with the test root trusted
    /// through TRUSTRUN_CA (a shim takes no options).
    fn run(&self, path: &[&Path], program: &str, args: &[&str]) -> Output {
        let mut cmd = Command::new("/usr/bin/env");
        clean(&mut cmd, self.world.cache.path());
        let path = std::env::join_paths(
            path.iter()
                .copied()
                .chain([Path::new("/usr/bin"), Path::new("/bin")]),
        )
        .unwrap();
        cmd.env("PATH", path)
            .env("TRUSTRUN_CA", &self.world.pki.root_pem)
            .arg(program)
            .args(args);
        cmd.output().unwrap()
    }

    fn client(&self, path: &[&Path], client: &str) -> Output {
        let script = client_script();
        self.run(
            path,
            "python3",
            &[script.to_str().unwrap(), client, &self.world.server.url],
        )
    }

    fn script(&self, dir: &str, name: &str, body: &str) -> PathBuf {
        let dir = self.tmp.path().join(dir);
        fs::create_dir_all(&dir).unwrap();
        let file = dir.join(name);
        fs::write(&file, body).unwrap();
        fs::set_permissions(&file, fs::Permissions::from_mode(0o755)).unwrap();
        dir
    }
}

#[test]
fn plain_python3_is_trusted_with_the_shim_dir_first() {
    let sw = ShimWorld::new(&["python3"]);
    let bin = sw.venv_bin();
    for client in ["requests", "httpx"] {
        assert_certificate_failure(&sw.client(&[&bin], client));
        assert_ok(&sw.client(&[&sw.shims, &bin], client), "200");
    }
}

#[test]
fn a_console_script_is_trusted_through_its_own_shim() {
    // `openai` is a console script pip wrote with an absolute shebang: a python shim never sees it.
    let sw = ShimWorld::new(&["python3", "openai"]);
    let bin = sw.venv_bin();
    // The CLI joins paths to the base as given: the trailing slash matters.
    let api = format!("{}/v1/", sw.world.server.url);
    let args = [
        "-b",
        api.as_str(),
        "-k",
        "test-key",
        "api",
        "chat.completions.create",
        "-m",
        "gpt-test",
        "-g",
        "user",
        "ping",
    ];
    let control = sw.run(&[&bin], "openai", &args);
    assert!(!control.status.success(), "{}", output_text(&control));
    assert!(
        output_text(&control).contains("Connection error"),
        "{}",
        output_text(&control)
    );
    assert!(
        sw.world.server.saw_unknown_ca_alert(),
        "the control failed on the certificate"
    );
    let out = sw.run(&[&sw.shims, &bin], "openai", &args);
    assert!(out.status.success(), "{}", output_text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("pong"),
        "{}",
        output_text(&out)
    );
}

#[test]
fn the_shim_dir_twice_and_a_symlinked_alias_of_it() {
    let sw = ShimWorld::new(&["python3"]);
    let bin = sw.venv_bin();
    let alias = sw.tmp.path().join("alias");
    std::os::unix::fs::symlink(&sw.shims, &alias).unwrap();
    let with_slash = PathBuf::from(format!("{}/", sw.shims.display()));
    assert_ok(&sw.client(&[&sw.shims, &sw.shims, &bin], "requests"), "200");
    assert_ok(
        &sw.client(&[&alias, &sw.shims, &with_slash, &bin], "requests"),
        "200",
    );
}

#[test]
fn through_another_managers_shim_further_down() {
    let sw = ShimWorld::new(&["python3"]);
    let real = venv_python();
    let manager = sw.script(
        "manager",
        "python3",
        &format!(
            "#!/bin/sh\necho 'manager shim ran' >&2\nexec '{}' \"$@\"\n",
            real.display()
        ),
    );
    let out = sw.client(&[&sw.shims, &manager], "requests");
    assert_ok(&out, "200");
    assert!(
        output_text(&out).contains("manager shim ran"),
        "{}",
        output_text(&out)
    );
    assert_certificate_failure(&sw.client(&[&manager], "requests"));
}

#[test]
fn a_shim_with_nothing_real_behind_it_exits_127_at_once() {
    let sw = ShimWorld::new(&["harbor-test-tool"]);
    let start = Instant::now();
    let out = sw.run(&[&sw.shims], "harbor-test-tool", &["run"]);
    assert!(start.elapsed() < Duration::from_secs(5));
    assert_eq!(out.status.code(), Some(127), "{}", output_text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.trim_end(),
        format!(
            "trustrun: harbor-test-tool: nothing real behind the shims on PATH; found only {}/harbor-test-tool (skipped: a trustrun shim directory)",
            sw.shims.display()
        )
    );
}

#[test]
fn a_wrapper_that_calls_the_shim_again_ends_in_a_clear_loop_error() {
    let sw = ShimWorld::new(&["python3"]);
    let wrapper = sw.script("wrapper", "python3", "#!/bin/sh\nexec python3 \"$@\"\n");
    let start = Instant::now();
    let out = sw.run(
        &[&sw.shims, &wrapper, &sw.venv_bin()],
        "python3",
        &["-c", "pass"],
    );
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "took {:?}",
        start.elapsed()
    );
    assert_eq!(out.status.code(), Some(126), "{}", output_text(&out));
    let stderr = one_line_stderr(&out);
    assert!(
        stderr.contains("python3: trustrun started 16 times in a chain"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("{}/python3", wrapper.display())),
        "names the wrapper: {stderr}"
    );
}

#[test]
fn empty_and_relative_path_entries_are_read_as_the_shell_does() {
    let sw = ShimWorld::new(&[]);
    let here = sw.script(
        "work",
        "tool-in-cwd",
        "#!/bin/sh\necho \"tool ran with $SSL_CERT_FILE\"\n",
    );
    sw.script("work/rel", "tool-in-rel", "#!/bin/sh\necho rel ran\n");
    for (path, program, expect) in [
        (":/usr/bin:/bin", "tool-in-cwd", "tool ran with /"),
        ("rel:/usr/bin:/bin", "tool-in-rel", "rel ran"),
    ] {
        let mut cmd = sw.world.trustrun();
        let out = cmd
            .current_dir(&here)
            .env("PATH", path)
            .arg(program)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", output_text(&out));
        assert!(
            String::from_utf8_lossy(&out.stdout).starts_with(expect),
            "{}",
            output_text(&out)
        );
    }
}

#[test]
fn install_is_idempotent_refuses_foreign_files_and_remove_keeps_them() {
    let sw = ShimWorld::new(&["python3", "pip"]);
    let again = sw.shim("install", &[], &["python3", "pip"]);
    assert!(again.status.success());
    assert_eq!(
        String::from_utf8_lossy(&again.stdout)
            .matches("unchanged")
            .count(),
        2,
        "{}",
        output_text(&again)
    );

    fs::write(sw.shims.join("uv"), "#!/bin/sh\necho the user's own uv\n").unwrap();
    let refused = sw.shim("install", &[], &["uv", "git"]);
    assert_eq!(refused.status.code(), Some(1), "{}", output_text(&refused));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains(&format!(
            "refusing to replace {}/uv: not a trustrun shim (--force replaces it)",
            sw.shims.display()
        )),
        "{}",
        output_text(&refused)
    );
    assert!(!sw.shims.join("git").exists(), "a refusal changes nothing");
    assert_eq!(
        fs::read_to_string(sw.shims.join("uv")).unwrap(),
        "#!/bin/sh\necho the user's own uv\n"
    );

    let list = sw
        .world
        .trustrun()
        .env(
            "PATH",
            format!(
                "{}:{}:/usr/bin:/bin",
                sw.shims.display(),
                sw.venv_bin().display()
            ),
        )
        .args(["shim", "list", "--dir"])
        .arg(&sw.shims)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&list.stdout);
    assert!(
        text.contains(&format!(
            "python3      -> {}/python3",
            sw.venv_bin().display()
        )),
        "{text}"
    );

    let removed = sw.shim("remove", &[], &[]);
    assert!(removed.status.success(), "{}", output_text(&removed));
    assert!(!sw.shims.join("python3").exists() && !sw.shims.join("pip").exists());
    assert!(sw.shims.join("uv").exists(), "the user's file stays");

    let forced = sw.shim("install", &["--force"], &["uv"]);
    assert!(forced.status.success(), "{}", output_text(&forced));
    assert!(
        fs::symlink_metadata(sw.shims.join("uv"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
}

/// A file the user put where one of our shims was is theirs, though the manifest still lists
/// the name: neither install nor remove touches it without --force.
#[test]
fn a_users_file_in_place_of_a_shim_is_not_ours() {
    let sw = ShimWorld::new(&["python3", "mytool"]);
    let hardlinked = sw.shim("install", &["--hardlink"], &["python3"]);
    assert!(hardlinked.status.success(), "{}", output_text(&hardlinked));
    let user_script = "#!/bin/sh\necho the user's own mytool\n";
    fs::remove_file(sw.shims.join("mytool")).unwrap();
    fs::write(sw.shims.join("mytool"), user_script).unwrap();

    let again = sw.shim("install", &[], &["mytool"]);
    assert_eq!(again.status.code(), Some(1), "{}", output_text(&again));
    assert_eq!(
        fs::read_to_string(sw.shims.join("mytool")).unwrap(),
        user_script
    );

    let removed = sw.shim("remove", &[], &[]);
    assert_eq!(removed.status.code(), Some(1), "{}", output_text(&removed));
    assert!(
        output_text(&removed).contains("left alone"),
        "{}",
        output_text(&removed)
    );
    assert_eq!(
        fs::read_to_string(sw.shims.join("mytool")).unwrap(),
        user_script
    );
    assert!(
        !sw.shims.join("python3").exists(),
        "our hardlink shim was removed"
    );
}
