//! What setup says (issue 20, items 4 and 9): plain setup says what it covers and what
//! `--python` adds; a later setup keeps `--python` unless `--no-python` says otherwise; its help
//! lists only options that apply; `--dry-run` shows the block it would write.

use super::*;

fn has_python_line(h: &Home) -> bool {
    let profile = fs::read_to_string(h.path().join(".profile")).unwrap();
    profile.contains("PYTHONPATH")
}

#[test]
fn plain_setup_says_what_it_covers_and_a_later_setup_keeps_python() {
    let h = Home::new();
    let root = h.world.pki.root_pem.to_str().unwrap();
    let plain = h.setup_ok(&["--ca", root]);
    // What it covers, and what it does not: the one flag that adds it.
    assert!(
        plain.contains("certifi") && plain.contains("trustrun setup --python"),
        "{plain}"
    );
    let with = h.setup_ok(&["--ca", root, "--python", "--truststore", "always"]);
    assert!(has_python_line(&h));
    assert!(!with.contains("trustrun setup --python"), "{with}");
    assert_ok(&h.login_shell("bash", "requests-certifi"), "200");

    // A later plain setup (a new --ca, say) keeps --python, and says so.
    let later = h.setup_ok(&["--ca", root]);
    assert!(
        later.contains("--python") && later.contains("--no-python"),
        "{later}"
    );
    assert!(
        has_python_line(&h),
        "a later setup dropped --python:\n{later}"
    );
    let profile = fs::read_to_string(h.path().join(".profile")).unwrap();
    assert!(
        profile.contains("TRUSTRUN_TRUSTSTORE='always'"),
        "{profile}"
    );
    assert_ok(&h.login_shell("bash", "requests-certifi"), "200");

    // --no-python drops it; the control then fails again.
    h.setup_ok(&["--ca", root, "--no-python"]);
    assert!(!has_python_line(&h));
    assert_certificate_failure(&h.login_shell("bash", "requests-certifi"));
}

#[test]
fn help_setup_lists_only_the_options_that_apply() {
    let h = Home::new();
    for args in [&["help", "setup"][..], &["setup", "--help"]] {
        let mut cmd = h.world.trustrun();
        h.user(&mut cmd).args(args);
        let out = cmd.output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
        for flag in ["--dry-run", "--undo", "--python", "--no-python", "--ca"] {
            assert!(text.contains(flag), "{flag} missing:\n{text}");
        }
        for flag in ["--strict", "--no-containers"] {
            assert!(!text.contains(flag), "{flag} listed:\n{text}");
        }
    }
    // Given anyway, --strict is refused with why rather than accepted and ignored.
    let out = h.setup(&["--strict"]);
    assert_eq!(out.status.code(), Some(2), "{}", output_text(&out));
}

#[test]
fn dry_run_shows_the_block_it_would_write() {
    let h = Home::new();
    let before = h.snapshot();
    let dry = h.setup_ok(&[
        "--dry-run",
        "--python",
        "--ca",
        h.world.pki.root_pem.to_str().unwrap(),
    ]);
    assert_eq!(h.snapshot(), before);
    assert!(dry.contains(BEGIN), "{dry}");
    let stable = h.stable();
    assert!(
        dry.contains(&format!("export SSL_CERT_FILE='{}'", stable.display())),
        "{dry}"
    );
    assert!(dry.contains("PYTHONPATH"), "{dry}");
    // Then setup writes exactly that block.
    h.setup_ok(&["--python", "--ca", h.world.pki.root_pem.to_str().unwrap()]);
    let profile = fs::read_to_string(h.path().join(".profile")).unwrap();
    let start = profile.find(BEGIN).unwrap();
    let block = &profile[start..];
    assert!(dry.contains(block.trim_end()), "{dry}\n---\n{block}");
}

/// The PowerShell profile line is spelt one way wherever it is given: the README, docs/ and
/// `trustrun env --help`. (Already one way on main since the guidance merge; this keeps it so.)
#[test]
fn the_powershell_profile_line_is_given_one_way() {
    const LINE: &str = "trustrun env --format powershell | Out-String | Invoke-Expression";
    let h = Home::new();
    let mut texts = vec![fs::read_to_string(repo().join("README.md")).unwrap()];
    for e in fs::read_dir(repo().join("docs")).unwrap() {
        texts.push(fs::read_to_string(e.unwrap().path()).unwrap());
    }
    let mut cmd = h.world.trustrun();
    h.user(&mut cmd).args(["env", "--help"]);
    texts.push(String::from_utf8_lossy(&cmd.output().unwrap().stdout).into_owned());
    let mut seen = 0;
    for line in texts.iter().flat_map(|t| t.lines()) {
        let evaluates = line.contains("Invoke-Expression") || line.contains("| iex");
        if line.contains("--format powershell") && evaluates {
            assert!(line.contains(LINE), "another spelling: {line}");
            seen += 1;
        }
    }
    assert!(
        seen >= 3,
        "the line is given in the README, docs and --help"
    );
}

/// Python 3.13 (pyenv's, as tests/cache.rs finds it).
fn python313() -> PathBuf {
    fs::read_dir("/root/.pyenv/versions")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin/python3.13"))
        .find(|p| p.is_file())
        .expect("Python 3.13 is needed (this machine kind has it at /root/.pyenv/versions/3.13.*)")
}

/// `--relax-x509-strict` was listed by `help setup` and did nothing: now it reaches new shells
/// with `--python` (our sitecustomize does it), is kept by a later setup, and says when it cannot.
#[test]
fn relax_x509_strict_reaches_new_shells_with_python_and_is_kept() {
    let h = Home::new();
    let pki = Pki::lax(
        "Trustrun Test Lax Setup Root",
        &["localhost", "127.0.0.1"],
        0x43,
    );
    let server = Server::start(pki.server_config.clone());
    let script = h.path().join("get.py");
    fs::write(
        &script,
        "import sys, urllib.request\n\
try:\n    print('OK', urllib.request.urlopen(sys.argv[1], timeout=10).status)\n\
except Exception as e:\n    print('FAILED', e); sys.exit(1)\n",
    )
    .unwrap();
    let shell = || {
        let line = format!(
            "{} {} {}",
            python313().display(),
            script.display(),
            server.url
        );
        let out = h.login_shell_running("bash", &line);
        (out.status.code(), output_text(&out))
    };
    let ca = pki.root_pem.to_str().unwrap();
    // Control: the root is trusted, and Python 3.13's strict checks reject it.
    h.setup_ok(&["--python", "--ca", ca]);
    let (code, text) = shell();
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("not marked critical"), "{text}");

    h.setup_ok(&["--python", "--relax-x509-strict", "--ca", ca]);
    let (code, text) = shell();
    assert_eq!(code, Some(0), "{text}");
    // A later plain setup keeps it, as it keeps --python.
    h.setup_ok(&["--ca", ca]);
    let (code, text) = shell();
    assert_eq!(code, Some(0), "{text}");
    // Without --python it cannot act, and setup says so.
    let plain = h.setup_ok(&["--ca", ca, "--no-python", "--relax-x509-strict"]);
    assert!(plain.contains("only with --python"), "{plain}");
    let (code, text) = shell();
    assert_eq!(code, Some(1), "{text}");
}

/// `-v`, listed by `help setup`, says what each source gave the stable bundle (it said nothing).
#[test]
fn verbose_setup_says_what_each_source_gave() {
    let h = Home::new();
    let out = h.setup(&["-v", "--ca", h.world.pki.root_pem.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
    assert!(
        stderr.contains("1 certificate from") && stderr.contains("certificates from"),
        "{stderr}"
    );
}

/// A later setup (to add --python, say) keeps the CA files the setup in place was given: it
/// must not quietly narrow every new shell's trust. It says so, and what starts over.
#[test]
fn a_later_setup_keeps_the_ca_files_given_before() {
    let h = Home::new();
    let corp = h.path().join("corp.pem");
    fs::copy(&h.world.pki.root_pem, &corp).unwrap();
    h.setup_ok(&["--ca", corp.to_str().unwrap()]);
    assert_ok(&h.login_shell("bash", "requests"), "200");
    let later = h.setup_ok(&["--python"]);
    assert!(
        later.contains(&format!("kept         --ca {}", corp.display())),
        "{later}"
    );
    assert_ok(&h.login_shell("bash", "requests"), "200");
    assert_ok(&h.login_shell("bash", "requests-certifi"), "200");
    // A --ca now replaces them (IT's new root file instead of the old one).
    let other = Pki::build("Trustrun Test Other Root", |_| {});
    h.setup_ok(&["--ca", other.root_pem.to_str().unwrap()]);
    assert_certificate_failure(&h.login_shell("bash", "requests"));
    // Undone, a new setup starts from nothing: the control fails again.
    h.setup_ok(&["--undo"]);
    h.setup_ok(&[]);
    assert_certificate_failure(&h.login_shell("bash", "requests"));
}
