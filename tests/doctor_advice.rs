//! doctor's advice fits the situation: `--relax-x509-strict` is a fix only when a Python 3.13+
//! is on PATH and the root intercepting a checked host fails the strict checks (a note
//! otherwise); every line fits 100 columns; a healthy machine ends in one line saying so.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::*;

const LAX_CN: &str = "Trustrun Test Lax Advice Root CA";
const PYTHON_313: &str = "/root/.pyenv/versions/3.13.0/bin/python3.13";
const PYTHON_311: &str = "/root/.pyenv/versions/3.11.7/bin/python3.11";

/// A root whose basicConstraints is not critical: trusted by rustls, rejected by Python 3.13.
fn lax_root_pki() -> Pki {
    Pki::lax(LAX_CN, &["localhost", "127.0.0.1"], 0x43)
}

/// A directory holding only `python3`, a link to `python`: what doctor finds on PATH.
fn path_with_python(dir: &Path, python: &str) -> PathBuf {
    assert!(
        Path::new(python).is_file(),
        "{python} is needed for this test (pyenv install on this machine image)"
    );
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(python, bin.join("python3")).unwrap();
    bin
}

fn doctor(cache: &Path, path: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::new(trustrun_bin());
    clean(&mut cmd, cache)
        .env("PATH", path)
        .arg("doctor")
        .args(args);
    cmd.output().unwrap()
}

fn words(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn section<'a>(report: &'a str, title: &str) -> &'a str {
    report
        .split(&format!("\n{title}\n"))
        .nth(1)
        .map(|rest| rest.split("\n\n").next().unwrap_or(""))
        .unwrap_or("")
}

fn assert_fits(report: &str) {
    for line in report.lines() {
        assert!(
            line.chars().count() < 100,
            "over 99 columns: {line:?}\n{report}"
        );
    }
}

#[test]
fn relax_is_a_fix_with_python_313_and_a_note_without() {
    let pki = lax_root_pki();
    let server = Server::start(pki.server_config.clone());
    let tmp = tempfile::tempdir().unwrap();
    let host = format!("127.0.0.1:{}", server.port);
    let root = pki.root_pem.to_str().unwrap();

    // Python 3.13 on PATH, the lax root intercepting the checked host: the fix.
    let with_313 = path_with_python(&tmp.path().join("p313"), PYTHON_313);
    let out = doctor(tmp.path(), &with_313, &["--ca", root, &host]);
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
    assert_fits(&report);
    let fixes = words(section(&report, "What fixes it"));
    assert!(
        fixes.contains(&format!("{LAX_CN} fails Python 3.13's strict X.509 checks"))
            && fixes.contains("`trustrun --relax-x509-strict PROGRAM`"),
        "{report}"
    );
    // The root that intercepts the host is listed first.
    let roots = section(
        &report,
        "Roots outside Mozilla's set, added locally (likely corporate)",
    );
    assert!(
        roots.trim_start().starts_with(&format!("CN={LAX_CN}"))
            && roots.contains("(intercepts 127.0.0.1)"),
        "{report}"
    );
    // The persistent fixes are named.
    assert!(
        fixes.contains("eval \"$(trustrun env --format sh)\""),
        "{report}"
    );
    assert!(fixes.contains("trustrun shim install"), "{report}");

    // Only Python 3.11 on PATH: the same root is a note, the fix is not offered.
    let with_311 = path_with_python(&tmp.path().join("p311"), PYTHON_311);
    let out = doctor(tmp.path(), &with_311, &["--ca", root, &host]);
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
    assert!(
        !words(section(&report, "What fixes it")).contains("--relax-x509-strict"),
        "{report}"
    );
    assert!(
        words(section(&report, "Notes")).contains(&format!(
            "{LAX_CN} fails Python 3.13's strict X.509 checks; no Python 3.13+ is on PATH"
        )),
        "{report}"
    );
}

#[test]
fn a_healthy_machine_ends_in_one_line_saying_so() {
    let tmp = tempfile::tempdir().unwrap();
    let out = doctor(tmp.path(), &tmp.path().join("no-such-dir"), &[]);
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
    assert_fits(&report);
    assert!(!report.contains("What fixes it"), "{report}");
    let last = report.trim_end().lines().last().unwrap();
    assert!(last.starts_with("healthy: nothing to fix here"), "{report}");
    // An environment trap is not healthy: it gets its fix.
    let out = {
        let mut cmd = Command::new(trustrun_bin());
        clean(&mut cmd, tmp.path())
            .env("PATH", tmp.path().join("no-such-dir"))
            .env("SSL_CERT_FILE", "")
            .arg("doctor");
        cmd.output().unwrap()
    };
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        words(section(&report, "What fixes it"))
            .contains("Unset SSL_CERT_FILE (`unset SSL_CERT_FILE`"),
        "{report}"
    );
    let last_paragraph = report.trim_end().rsplit("\n\n").next().unwrap();
    assert!(last_paragraph.starts_with("summary: "), "{report}");
}

/// On one terminal (a pty from util-linux `script`) the summary is printed once; piped, stderr
/// carries it too, for scripts that read only stderr.
#[test]
fn the_summary_is_printed_once_on_one_terminal() {
    let tmp = tempfile::tempdir().unwrap();
    // A port that was just free: refused, so exit 1 with a summary.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let command = format!(
        "'{}' doctor --timeout 2 127.0.0.1:{port}",
        trustrun_bin().display()
    );
    let mut on_tty = Command::new("/usr/bin/script");
    clean(&mut on_tty, tmp.path())
        // script starts the shell by its absolute path; doctor then finds no Python, quickly.
        .env("PATH", tmp.path().join("no-such-dir"))
        .args(["-qec", &command, "/dev/null"]);
    let out = on_tty
        .output()
        .expect("util-linux `script` is needed (Debian's bsdutils, always installed)");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{}", output_text(&out));
    assert_eq!(text.matches("summary: ").count(), 1, "{text}");
    assert_eq!(
        text.matches("0 of 1 host verified").count(),
        1,
        "printed twice: {text}"
    );
    assert!(text.contains("trustrun: see the summary above"), "{text}");

    // Control: piped apart, stderr has the summary line itself.
    let out = doctor(
        tmp.path(),
        &tmp.path().join("no-such-dir"),
        &["--timeout", "2", &format!("127.0.0.1:{port}")],
    );
    assert_eq!(out.status.code(), Some(1), "{}", output_text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("trustrun: 0 of 1 host verified"),
        "{stderr}"
    );
}
