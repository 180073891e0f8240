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
    let with = h.setup_ok(&["--ca", root, "--python"]);
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
