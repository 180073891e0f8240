//! Bad input and the command line's contract: one clear line naming the thing, the documented
//! exit code, and the program not run when trust cannot be what the user asked for.

use std::fs;
use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;

use crate::common::*;

fn trustrun(cache: &Path) -> Command {
    let mut std_cmd = std::process::Command::new(trustrun_bin());
    clean(&mut std_cmd, cache);
    Command::from_std(std_cmd)
}

/// A program that leaves a mark when it runs, to prove it did not.
fn marking_program(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let mark = dir.join("ran");
    let script = dir.join("mark.sh");
    fs::write(&script, format!("#!/bin/sh\ntouch '{}'\n", mark.display())).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
    }
    (script, mark)
}

#[test]
fn a_missing_ca_file_is_named_and_the_program_does_not_run() {
    let tmp = tempfile::tempdir().unwrap();
    let (program, mark) = marking_program(tmp.path());
    let missing = tmp.path().join("no-such-root.pem");
    let out = trustrun(tmp.path())
        .arg("--ca")
        .arg(&missing)
        .arg(&program)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!(
            "trustrun: CA file {}: no such file or directory",
            missing.display()
        )))
        .get_output()
        .clone();
    one_line_stderr(&out);
    assert!(!mark.exists(), "the program must not run");
}

#[test]
fn a_ca_file_that_is_not_pem_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let (program, mark) = marking_program(tmp.path());
    let junk = tmp.path().join("root.pem");
    fs::write(&junk, "this is not a certificate\n").unwrap();
    let out = trustrun(tmp.path())
        .arg("--ca")
        .arg(&junk)
        .arg(&program)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!(
            "CA file {}: holds no certificate",
            junk.display()
        )))
        .get_output()
        .clone();
    one_line_stderr(&out);
    assert!(!mark.exists());
}

#[test]
fn a_ca_directory_without_certificates_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let (program, mark) = marking_program(tmp.path());
    let dir = tmp.path().join("cas");
    fs::create_dir(&dir).unwrap();
    fs::write(dir.join("README"), "certificates go here\n").unwrap();
    trustrun(tmp.path())
        .arg("--ca")
        .arg(&dir)
        .arg(&program)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!(
            "CA directory {}: holds no certificate file",
            dir.display()
        )));
    assert!(!mark.exists());
}

#[test]
fn trustrun_ca_variable_is_checked_like_the_flag() {
    let tmp = tempfile::tempdir().unwrap();
    let (program, mark) = marking_program(tmp.path());
    trustrun(tmp.path())
        .env("TRUSTRUN_CA", tmp.path().join("gone.pem"))
        .arg(&program)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "gone.pem: no such file or directory",
        ));
    assert!(!mark.exists());
}

/// As a user, a mode-000 CA file cannot be read. Root reads it anyway, so as root (CI runs as
/// root) trustrun runs as the unprivileged `nobody` (uid 65534), from a copy it may execute.
#[cfg(unix)]
#[test]
fn an_unreadable_ca_file_is_named() {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    let tmp = tempfile::tempdir().unwrap();
    // Everyone may enter the directory; only the file is unreadable.
    fs::set_permissions(tmp.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let file = tmp.path().join("secret-root.pem");
    let pki = Pki::corporate();
    fs::copy(&pki.root_pem, &file).unwrap();
    fs::set_permissions(&file, fs::Permissions::from_mode(0o000)).unwrap();
    let privileged = fs::read(&file).is_ok();
    let mut std_cmd = if privileged {
        let bin = tmp.path().join("trustrun");
        fs::copy(trustrun_bin(), &bin).unwrap();
        fs::set_permissions(&bin, fs::Permissions::from_mode(0o755)).unwrap();
        let home = tmp.path().join("home");
        fs::create_dir(&home).unwrap();
        std::os::unix::fs::chown(&home, Some(65534), Some(65534)).unwrap();
        let mut cmd = std::process::Command::new(bin);
        clean(&mut cmd, &home.join("cache"));
        cmd.env("HOME", &home).uid(65534).gid(65534);
        cmd
    } else {
        let mut cmd = std::process::Command::new(trustrun_bin());
        clean(&mut cmd, &tmp.path().join("cache"));
        cmd
    };
    std_cmd.arg("--ca").arg(&file).arg("true");
    Command::from_std(std_cmd)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!(
            "CA file {}: cannot read",
            file.display()
        )));
}

#[test]
fn a_der_certificate_file_is_accepted() {
    let tmp = tempfile::tempdir().unwrap();
    let pki = Pki::corporate();
    let der = tmp.path().join("root.cer");
    fs::write(&der, pki.root_der.as_ref()).unwrap();
    let out = trustrun(tmp.path())
        .arg("--ca")
        .arg(&der)
        .arg("bundle")
        .assert()
        .success();
    let bundle = String::from_utf8_lossy(&out.get_output().stdout)
        .trim()
        .to_owned();
    let text = fs::read_to_string(bundle).unwrap();
    assert!(text.contains(&format!("# from: CA file {}", der.display())));
}

#[cfg(unix)]
#[test]
fn program_not_found_is_127_and_not_executable_is_126() {
    let tmp = tempfile::tempdir().unwrap();
    trustrun(tmp.path())
        .arg("no-such-program-trustrun-test")
        .assert()
        .code(127)
        .stderr("trustrun: no-such-program-trustrun-test: command not found on PATH\n");
    let plain = tmp.path().join("plain.txt");
    fs::write(&plain, "not a program").unwrap();
    trustrun(tmp.path())
        .arg(&plain)
        .assert()
        .code(126)
        .stderr(predicate::str::contains(format!(
            "{}: permission denied",
            plain.display()
        )));
    trustrun(tmp.path())
        .arg(tmp.path().join("missing"))
        .assert()
        .code(127)
        .stderr(predicate::str::contains("missing: no such file"));
}

#[test]
fn no_program_and_bad_options_are_usage_errors() {
    let tmp = tempfile::tempdir().unwrap();
    trustrun(tmp.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no program given"));
    trustrun(tmp.path())
        .args(["--truststore", "sometimes", "true"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("sometimes"));
    trustrun(tmp.path())
        .env("TRUSTRUN_TRUSTSTORE", "sometimes")
        .arg("true")
        .assert()
        .code(2)
        .stderr("trustrun: TRUSTRUN_TRUSTSTORE=\"sometimes\": expected auto, always or never\n");
}

#[cfg(unix)]
#[test]
fn the_childs_exit_code_and_arguments_pass_through() {
    let tmp = tempfile::tempdir().unwrap();
    trustrun(tmp.path())
        .args(["sh", "-c", "exit 42"])
        .assert()
        .code(42);
    // Everything after PROGRAM is PROGRAM's, even what looks like our own options.
    trustrun(tmp.path())
        .args([
            "sh",
            "-c",
            "printf '%s|' \"$@\"",
            "sh",
            "--ca",
            "x",
            "-v",
            "--help",
        ])
        .assert()
        .success()
        .stdout("--ca|x|-v|--help|");
}

#[cfg(unix)]
#[test]
fn double_dash_runs_a_program_named_like_a_subcommand() {
    let tmp = tempfile::tempdir().unwrap();
    let bin = tmp.path().join("bin");
    fs::create_dir(&bin).unwrap();
    fs::write(
        bin.join("bundle"),
        "#!/bin/sh\necho 'the program named bundle'\n",
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(bin.join("bundle"), fs::Permissions::from_mode(0o755)).unwrap();
    }
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    trustrun(tmp.path())
        .env("PATH", &path)
        .args(["--", "bundle"])
        .assert()
        .success()
        .stdout("the program named bundle\n");
    trustrun(tmp.path())
        .env("PATH", &path)
        .arg("bundle")
        .assert()
        .success()
        .stdout(predicate::str::ends_with(".pem\n"));
}

#[cfg(unix)]
#[test]
fn the_child_gets_every_ca_variable_and_we_keep_ours_unchanged() {
    let tmp = tempfile::tempdir().unwrap();
    let out = trustrun(tmp.path())
        .env("SSL_CERT_DIR", "")
        .args(["sh", "-c", "env"])
        .assert()
        .success()
        .get_output()
        .clone();
    let env = String::from_utf8_lossy(&out.stdout);
    let bundle = env
        .lines()
        .find_map(|l| l.strip_prefix("TRUSTRUN_BUNDLE="))
        .expect("TRUSTRUN_BUNDLE set");
    for (name, _) in trustrun::vars::CA_VARIABLES {
        assert!(
            env.lines().any(|l| l == format!("{name}={bundle}")),
            "{name} not set: {env}"
        );
    }
    assert!(
        !env.lines().any(|l| l.starts_with("SSL_CERT_DIR=")),
        "an empty SSL_CERT_DIR is removed"
    );
    assert!(env.lines().any(|l| l == "TRUSTRUN_DEPTH=1"));
}

#[cfg(unix)]
#[test]
fn an_unusable_cache_falls_back_to_a_private_temporary_one() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("a-file");
    fs::write(&file, "").unwrap();
    // A cache "directory" below a regular file cannot be created.
    let out = trustrun(tmp.path())
        .env("TRUSTRUN_CACHE_DIR", file.join("cache"))
        .env("TMPDIR", tmp.path())
        .args(["sh", "-c", "echo $SSL_CERT_FILE"])
        .assert()
        .success()
        .stderr(predicate::str::contains(format!(
            "trustrun: warning: cannot read cache directory {}",
            file.join("cache").display()
        )))
        .stderr(predicate::str::contains(format!(
            "using {}",
            tmp.path().display()
        )))
        .get_output()
        .clone();
    let bundle = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert!(
        Path::new(&bundle).is_file(),
        "the child still got a bundle: {bundle}"
    );
    one_line_stderr(&out);
}

#[cfg(unix)]
#[test]
fn a_cache_other_users_can_write_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("shared-cache");
    fs::create_dir(&cache).unwrap();
    fs::set_permissions(&cache, fs::Permissions::from_mode(0o777)).unwrap();
    trustrun(tmp.path())
        .env("TRUSTRUN_CACHE_DIR", &cache)
        .arg("true")
        .assert()
        .success()
        .stderr(predicate::str::contains(format!(
            "cache directory {} is writable by other users (mode 777); run: chmod 700",
            cache.display()
        )));
    assert!(
        !cache.join("bundles").exists(),
        "nothing written into the open directory"
    );
}

#[cfg(unix)]
#[test]
fn internal_failure_runs_the_program_untouched_or_fails_with_strict() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("a-file");
    fs::write(&file, "").unwrap();
    let broken = |cmd: &mut Command| {
        // Neither the cache nor the temporary fallback can be created.
        cmd.env("TRUSTRUN_CACHE_DIR", file.join("cache"))
            .env("TMPDIR", file.join("tmp"));
    };
    let mut cmd = trustrun(tmp.path());
    broken(&mut cmd);
    cmd.args(["sh", "-c", "echo \"[${SSL_CERT_FILE:-unset}]\""])
        .assert()
        .success()
        .stdout("[unset]\n")
        .stderr(predicate::str::contains("trustrun: warning: running /"))
        .stderr(predicate::str::contains("without trustrun's CA bundle"));
    let mut cmd = trustrun(tmp.path());
    broken(&mut cmd);
    cmd.args(["--strict", "sh", "-c", "echo ran"])
        .assert()
        .code(125)
        .stdout("")
        .stderr(predicate::str::contains("--strict forbids running"));
}

#[test]
fn bundle_output_copies_the_bundle_or_names_the_file_it_cannot_write() {
    let tmp = tempfile::tempdir().unwrap();
    let pki = Pki::corporate();
    let copy = tmp.path().join("corp-bundle.pem");
    trustrun(tmp.path())
        .args(["bundle", "--ca"])
        .arg(&pki.root_pem)
        .arg("--output")
        .arg(&copy)
        .assert()
        .success()
        .stdout("");
    let text = fs::read_to_string(&copy).unwrap();
    assert!(text.starts_with("# trustrun bundle"));
    assert!(text.contains(&format!("# from: CA file {}", pki.root_pem.display())));

    let bad = tmp.path().join("no-such-dir").join("b.pem");
    trustrun(tmp.path())
        .args(["bundle", "--output"])
        .arg(&bad)
        .assert()
        .code(1)
        .stderr(predicate::str::starts_with(format!(
            "trustrun: --output {}: cannot write:",
            bad.display()
        )));
}

/// The fallback cache's stable name in /tmp can be planted by another user as a symbolic link to a
/// directory of ours; following it would let them point our sitecustomize anywhere later.
#[cfg(unix)]
#[test]
fn a_fallback_cache_link_planted_by_another_user_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let victim = tmp.path().join("victim-dir");
    fs::create_dir(&victim).unwrap();
    let me = String::from_utf8(
        std::process::Command::new("id")
            .arg("-u")
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let planted = tmp.path().join(format!("trustrun-{}", me.trim()));
    std::os::unix::fs::symlink(&victim, &planted).unwrap();
    // Making a link owned by another user takes root; CI runs as root. A test that cannot make
    // its attack cannot pass.
    std::os::unix::fs::lchown(&planted, Some(65534), Some(65534))
        .expect("this test must run as root (CI does): it plants a link owned by another user");
    let file = tmp.path().join("a-file");
    fs::write(&file, "").unwrap();
    let out = trustrun(tmp.path())
        .env("TRUSTRUN_CACHE_DIR", file.join("cache"))
        .env("TMPDIR", tmp.path())
        .args(["sh", "-c", "echo $TRUSTRUN_PYTHON_DIR"])
        .assert()
        .success()
        .get_output()
        .clone();
    let python_dir = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert!(!python_dir.is_empty(), "the child still got trust");
    // By path components: the fallback beside it (`trustrun-<uid>-XXXX`) shares the name's prefix.
    assert!(
        !std::path::Path::new(&python_dir).starts_with(&planted),
        "{python_dir}"
    );
    assert_eq!(
        fs::read_dir(&victim).unwrap().count(),
        0,
        "nothing written through the link"
    );
}

#[test]
fn bad_shim_names_and_a_missing_named_config_are_usage_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let shims = tmp.path().join("shims");
    for bad in ["../evil", "trustrun", ".hidden", "a b"] {
        trustrun(tmp.path())
            .args(["shim", "install", "--dir"])
            .arg(&shims)
            .arg(bad)
            .assert()
            .code(2)
            .stderr(predicate::str::starts_with("trustrun: "));
    }
    assert!(!shims.join(".trustrun-shims").exists(), "nothing installed");
    let missing = tmp.path().join("nope.toml");
    trustrun(tmp.path())
        .env("TRUSTRUN_CONFIG", &missing)
        .args(["sh", "-c", "echo ran"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(format!(
            "trustrun: config {} (TRUSTRUN_CONFIG): no such file\n",
            missing.display()
        ));
}

/// The README's first screen, `--help`, a bare `trustrun` and doctor (nothing set up, an
/// intercepted host) name the same next step: `trustrun setup` first, then one command and this
/// shell only as the alternatives. And the README gives the PowerShell line one way.
#[cfg(unix)]
#[test]
fn the_readme_help_bare_usage_and_doctor_name_the_same_next_step() {
    const SETUP: &str = "trustrun setup";
    const ONE: &str = "trustrun python app.py";
    const SHELL: &str = "eval \"$(trustrun env --format sh)\"";
    let world = World::new();
    let home = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let run = |args: &[&str]| {
        let mut cmd = std::process::Command::new(trustrun_bin());
        clean(&mut cmd, world.cache.path())
            .env("HOME", home.path())
            .env_remove("XDG_DATA_HOME")
            .env("SHELL", "/bin/bash")
            .env("PATH", home.path().join("no-such-dir"))
            .args(args);
        cmd.output().unwrap()
    };
    // The commands each names, in order: the lines that start with one, or inside backticks.
    let commands = |text: &str| -> Vec<String> {
        let mut found = Vec::new();
        for line in text.lines() {
            let line = line.trim_start();
            for c in [SETUP, ONE, SHELL] {
                if line.starts_with(c) && !found.contains(&c.to_owned()) {
                    found.push(c.to_owned());
                }
            }
        }
        found
    };

    let readme = fs::read_to_string(repo().join("README.md")).unwrap();
    let first_screen: String = readme.lines().take(30).collect::<Vec<_>>().join("\n");
    let help = String::from_utf8_lossy(&run(&["--help"]).stdout).into_owned();
    let examples = help.split("Examples:").nth(1).unwrap().to_owned();
    let bare = String::from_utf8_lossy(&run(&[]).stderr).into_owned();
    for (what, text) in [
        ("README's first screen", &first_screen),
        ("--help", &examples),
        ("bare trustrun", &bare),
    ] {
        assert_eq!(commands(text), [SETUP, ONE, SHELL], "{what}:\n{text}");
    }

    let host = format!("127.0.0.1:{}", world.server.port);
    let out = run(&[
        "doctor",
        "--ca",
        world.pki.root_pem.to_str().unwrap(),
        &host,
    ]);
    let report: String = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let next = report.split(" next: ").nth(1).unwrap_or("");
    assert!(
        next.starts_with(&format!("`{SETUP}`,"))
            && next.contains(&format!(
                "for one command `{ONE}`; for this shell only `{SHELL}`"
            )),
        "{}",
        output_text(&out)
    );

    // One PowerShell profile line, however often the README gives it.
    let powershell: std::collections::BTreeSet<&str> = readme
        .lines()
        .filter_map(|l| l.find("trustrun env --format powershell").map(|i| &l[i..]))
        .map(|l| l.split(['`', '#']).next().unwrap().trim_end())
        .collect();
    assert_eq!(
        powershell.into_iter().collect::<Vec<_>>(),
        ["trustrun env --format powershell | Out-String | Invoke-Expression"],
        "README"
    );
}
