//! A new user's mistakes get suggestions: a subcommand typo taken for a program, a bare
//! `trustrun`, another tool's CA option, options that mean nothing for a subcommand, an
//! out-of-range timeout, and counts that read as English.

use std::path::Path;
use std::process::{Command, Output};

use crate::common::*;

fn trustrun(cache: &Path) -> Command {
    let mut cmd = Command::new(trustrun_bin());
    clean(&mut cmd, cache);
    cmd
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn one_line(out: &Output) -> String {
    let text = stderr(out);
    assert_eq!(
        text.trim_end().lines().count(),
        1,
        "one line expected: {text:?}"
    );
    text
}

#[test]
fn a_subcommand_typo_suggests_the_subcommand_and_stays_127() {
    let tmp = tempfile::tempdir().unwrap();
    let out = trustrun(tmp.path())
        .args(["doctr", "api.openai.com"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(127), "{}", output_text(&out));
    let text = one_line(&out);
    assert!(
        text.contains("doctr: command not found on PATH; did you mean `trustrun doctor`?"),
        "{text}"
    );
    // A name close to nothing gets no suggestion.
    let out = trustrun(tmp.path())
        .arg("no-such-program-trustrun-test")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(127));
    assert!(!one_line(&out).contains("did you mean"), "{}", stderr(&out));
}

#[test]
fn bare_trustrun_prints_a_short_usage_with_three_examples() {
    let tmp = tempfile::tempdir().unwrap();
    let out = trustrun(tmp.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", output_text(&out));
    let text = stderr(&out);
    assert!(text.starts_with("usage: trustrun"), "{text}");
    let examples = text
        .lines()
        .filter(|l| l.starts_with("  trustrun ") || l.starts_with("  eval "))
        .count();
    assert_eq!(examples, 3, "{text}");
    assert!(
        text.trim_end().ends_with("trustrun: no program given"),
        "{text}"
    );
    assert!(text.lines().count() <= 8, "short means short: {text}");
}

#[test]
fn help_has_examples() {
    let tmp = tempfile::tempdir().unwrap();
    let out = trustrun(tmp.path()).arg("--help").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    let examples = text.split("Examples:").nth(1).expect("an Examples section");
    assert!(
        examples.contains("trustrun doctor api.openai.com"),
        "{text}"
    );
    assert!(examples.contains("trustrun env --format sh"), "{text}");
    assert!(examples.contains("trustrun -- "), "{text}");
}

#[test]
fn other_tools_ca_options_point_to_ca() {
    let tmp = tempfile::tempdir().unwrap();
    for args in [
        vec!["--cert", "x.pem", "python3"],
        vec!["--cacert=x.pem", "python3"],
    ] {
        let out = trustrun(tmp.path()).args(&args).output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            output_text(&out)
        );
        let text = one_line(&out);
        assert!(text.contains("trustrun's is --ca FILE|DIR"), "{text}");
    }
}

#[test]
fn strict_is_not_offered_where_it_means_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    for sub in ["doctor", "env", "bundle"] {
        let help = trustrun(tmp.path()).args([sub, "--help"]).output().unwrap();
        assert_eq!(help.status.code(), Some(0));
        assert!(
            !stdout(&help).contains("--strict"),
            "{sub} --help offers --strict:\n{}",
            stdout(&help)
        );
        let after = trustrun(tmp.path())
            .args([sub, "--strict"])
            .output()
            .unwrap();
        assert_eq!(
            after.status.code(),
            Some(2),
            "{sub} --strict: {}",
            output_text(&after)
        );
        let before = trustrun(tmp.path())
            .args(["--strict", sub])
            .output()
            .unwrap();
        assert_eq!(
            before.status.code(),
            Some(2),
            "--strict {sub}: {}",
            output_text(&before)
        );
        assert!(
            one_line(&before).contains(&format!("it means nothing for `trustrun {sub}`")),
            "{}",
            stderr(&before)
        );
    }
    // Where it does mean something, it is offered.
    let help = trustrun(tmp.path()).arg("--help").output().unwrap();
    assert!(stdout(&help).contains("--strict"));
}

#[test]
fn timeout_zero_states_the_allowed_range() {
    let tmp = tempfile::tempdir().unwrap();
    let out = trustrun(tmp.path())
        .args(["doctor", "--timeout", "0", "example.invalid"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let text = stderr(&out);
    assert!(text.contains("more than 0 and at most 3600"), "{text}");
    assert!(!text.contains("between 0"), "contradicts itself: {text}");
}

#[test]
fn shim_list_and_remove_document_dir_and_names() {
    let tmp = tempfile::tempdir().unwrap();
    for (sub, wants_names) in [("list", false), ("remove", true), ("install", true)] {
        let out = trustrun(tmp.path())
            .args(["shim", sub, "--help"])
            .output()
            .unwrap();
        let text = stdout(&out);
        // clap pads the column to the longest option of each subcommand.
        let words = text.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            words.contains("--dir <DIR> The shim directory [default: TRUSTRUN_SHIM_DIR"),
            "shim {sub} --help:\n{text}"
        );
        if wants_names {
            assert!(text.contains("[NAME]..."), "shim {sub} --help:\n{text}");
            assert!(
                text.lines()
                    .any(|l| l.trim_start().starts_with("[NAME]...  ")),
                "NAME is described in shim {sub} --help:\n{text}"
            );
        }
    }
}

#[test]
fn one_certificate_is_singular() {
    let tmp = tempfile::tempdir().unwrap();
    let pki = Pki::corporate();
    let out = trustrun(tmp.path())
        .arg("doctor")
        .env("PATH", tmp.path().join("no-such-dir"))
        .env("SSL_CERT_FILE", &pki.root_pem)
        .output()
        .unwrap();
    let text = stdout(&out);
    assert!(
        text.contains(&format!(
            "SSL_CERT_FILE={} (1 certificate)",
            pki.root_pem.display()
        )),
        "{}",
        output_text(&out)
    );
    assert!(!text.contains(" 1 certificates"), "{text}");
}
