//! A new user's mistakes get suggestions: a subcommand typo taken for a program, a bare
//! `trustrun`, another tool's CA option (`-ca` too), a program named like a trustrun command, a
//! CA path that names nothing for a reason the path shows (a Windows path, a quoted `~`), a
//! .p12 in a CA directory, options that mean nothing for a subcommand, an out-of-range timeout,
//! and counts that read as English.

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

#[test]
fn a_subcommand_typo_suggests_the_subcommand_and_stays_127() {
    let tmp = tempfile::tempdir().unwrap();
    let out = trustrun(tmp.path())
        .args(["doctr", "api.openai.com"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(127), "{}", output_text(&out));
    let text = one_line_stderr(&out);
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
    assert!(
        !one_line_stderr(&out).contains("did you mean"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn bare_trustrun_prints_a_short_usage_setup_first() {
    let tmp = tempfile::tempdir().unwrap();
    let out = trustrun(tmp.path())
        .env("SHELL", "/bin/bash")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", output_text(&out));
    let text = stderr(&out);
    assert!(text.starts_with("usage: trustrun"), "{text}");
    let examples: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("  trustrun ") || l.starts_with("  eval "))
        .collect();
    assert_eq!(examples.len(), 4, "{text}");
    assert!(examples[0].starts_with("  trustrun setup "), "{text}");
    assert!(
        text.trim_end().ends_with("trustrun: no program given"),
        "{text}"
    );
    assert!(text.lines().count() <= 8, "short means short: {text}");
}

#[cfg(unix)]
#[test]
fn help_has_examples_setup_first() {
    let tmp = tempfile::tempdir().unwrap();
    let out = trustrun(tmp.path())
        .env("SHELL", "/bin/bash")
        .arg("--help")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    let examples = text.split("Examples:").nth(1).expect("an Examples section");
    assert!(
        examples.trim_start().starts_with("trustrun setup "),
        "{text}"
    );
    assert!(
        examples.contains("trustrun doctor api.openai.com"),
        "{text}"
    );
    assert!(examples.contains("trustrun env --format sh"), "{text}");
    assert!(examples.contains("trustrun -- "), "{text}");
    for line in examples
        .lines()
        .take_while(|l| !l.starts_with("Exit codes"))
    {
        assert!(line.chars().count() < 100, "over 99 columns: {line:?}");
    }
}

#[test]
fn other_tools_ca_options_point_to_ca() {
    let tmp = tempfile::tempdir().unwrap();
    for args in [
        vec!["--cert", "x.pem", "python3"],
        vec!["--cacert=x.pem", "python3"],
        // One dash, as curl's and openssl's users type it: clap reads `-c` and stops there.
        vec!["-ca", "x.pem", "python3"],
        vec!["-CAfile", "x.pem", "python3"],
    ] {
        let out = trustrun(tmp.path()).args(&args).output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            output_text(&out)
        );
        let text = one_line_stderr(&out);
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
            one_line_stderr(&before).contains(&format!("it means nothing for `trustrun {sub}`")),
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

/// `trustrun env FOO=1 python app.py` meant the program env: the line to type instead, which
/// then runs it with trustrun's trust. A word that is no program on PATH (`config`) keeps
/// clap's error, and an option trustrun's env has a near spelling of keeps clap's suggestion.
#[cfg(unix)]
#[test]
fn a_program_named_like_a_command_gets_the_line_to_type() {
    let tmp = tempfile::tempdir().unwrap();
    let out = trustrun(tmp.path())
        .env("SHELL", "/bin/bash")
        .args(["env", "FOO=1", "sh", "-c", "echo \"$FOO $SSL_CERT_FILE\""])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", output_text(&out));
    let text = one_line_stderr(&out);
    let typed = text
        .trim_end()
        .split("type: ")
        .nth(1)
        .unwrap_or_else(|| panic!("no line to type: {text}"));
    assert_eq!(
        typed, r#"trustrun -- env FOO=1 sh -c 'echo "$FOO $SSL_CERT_FILE"'"#,
        "{text}"
    );
    // What it says to type works: env runs with FOO=1 and trustrun's bundle.
    let run = Command::new("sh")
        .arg("-c")
        .arg(typed.replacen("trustrun", &format!("'{}'", trustrun_bin().display()), 1))
        .env_remove("SSL_CERT_FILE")
        .env("TRUSTRUN_CACHE_DIR", tmp.path())
        .output()
        .unwrap();
    let said = stdout(&run);
    assert!(
        said.starts_with("1 ") && said.trim_end().ends_with(".pem"),
        "{}",
        output_text(&run)
    );
    // Flags before the command stay before the `--`.
    let out = trustrun(tmp.path())
        .args(["--ca", "root.pem", "env", "-i", "python3"])
        .output()
        .unwrap();
    assert!(
        one_line_stderr(&out).contains("type: trustrun --ca root.pem -- env -i python3"),
        "{}",
        output_text(&out)
    );
    // Not a program: clap's own error.
    let out = trustrun(tmp.path())
        .args(["config", "FOO=1"])
        .output()
        .unwrap();
    assert!(
        !one_line_stderr(&out).contains("type:"),
        "{}",
        output_text(&out)
    );
    let out = trustrun(tmp.path())
        .args(["env", "--formt", "sh"])
        .output()
        .unwrap();
    assert!(
        one_line_stderr(&out).contains("a similar argument exists: '--format'"),
        "{}",
        output_text(&out)
    );
}

/// A CA path that names nothing gets the reason the path shows: a Windows path typed on Linux
/// is missing (not "contains ':'", which stays for a file that exists), a quoted `~` was not
/// expanded.
#[cfg(unix)]
#[test]
fn ca_path_mistakes_get_the_real_reason() {
    let tmp = tempfile::tempdir().unwrap();
    let out = trustrun(tmp.path())
        .args(["--ca", r"C:\Users\me\Downloads\zscaler.crt", "true"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", output_text(&out));
    let text = one_line_stderr(&out);
    assert!(
        text.contains(
            r"C:\Users\me\Downloads\zscaler.crt: no such file or directory (a Windows path"
        ),
        "{text}"
    );
    assert!(!text.contains("contains ':'"), "{text}");
    // The separator rule itself stays, for a file that exists.
    let colon = tmp.path().join("corp:root.pem");
    std::fs::copy(&Pki::corporate().root_pem, &colon).unwrap();
    let out = trustrun(tmp.path())
        .arg("--ca")
        .arg(&colon)
        .arg("true")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", output_text(&out));
    assert!(
        one_line_stderr(&out).contains("its name contains ':'"),
        "{}",
        output_text(&out)
    );

    let out = trustrun(tmp.path())
        .args(["--ca", "~/Downloads/x.crt", "true"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", output_text(&out));
    let text = one_line_stderr(&out);
    assert!(
        text.contains("no such file or directory (`~` was not expanded: it was quoted; leave ~/ outside the quotes, or write \"$HOME/...\")"),
        "{text}"
    );
}

/// A .p12 in a `--ca` directory: the error names the file, and the command it gives converts it
/// into the directory and moves the archive out, after which the same directory is accepted.
#[cfg(unix)]
#[test]
fn a_p12_in_a_ca_directory_gets_a_command_that_ends_the_error() {
    let tmp = tempfile::tempdir().unwrap();
    let pki = Pki::corporate();
    let dir = tmp.path().join("corp-cas");
    std::fs::create_dir(&dir).unwrap();
    let p12 = dir.join("zscaler.p12");
    let export = Command::new("openssl")
        .args(["pkcs12", "-export", "-nokeys", "-passout", "pass:", "-in"])
        .arg(&pki.root_pem)
        .arg("-out")
        .arg(&p12)
        .output()
        .unwrap();
    assert!(export.status.success(), "{}", output_text(&export));
    let run = || {
        trustrun(tmp.path())
            .env("SHELL", "/bin/bash")
            .arg("--ca")
            .arg(&dir)
            .args(["sh", "-c", "cat \"$SSL_CERT_FILE\""])
            .output()
            .unwrap()
    };
    let out = run();
    assert_eq!(out.status.code(), Some(2), "{}", output_text(&out));
    let text = one_line_stderr(&out);
    assert!(
        text.contains(&format!(
            "CA directory {}: {} is PKCS#12",
            dir.display(),
            p12.display()
        )),
        "{text}"
    );
    let command = text
        .trim_end()
        .rsplit('`')
        .nth(1)
        .unwrap_or_else(|| panic!("no command: {text}"));
    assert_eq!(
        command,
        format!(
            "openssl pkcs12 -in {} -nokeys -out {} && mv {} {}",
            p12.display(),
            dir.join("zscaler.pem").display(),
            p12.display(),
            tmp.path().display()
        )
    );
    // Run as given; openssl asks for the archive's password on a terminal, here it is empty.
    let convert = Command::new("sh")
        .arg("-c")
        .arg(command.replacen(" -nokeys", " -nokeys -passin pass:", 1))
        .output()
        .unwrap();
    assert!(convert.status.success(), "{}", output_text(&convert));
    let out = run();
    assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
    let root = std::fs::read_to_string(&pki.root_pem).unwrap();
    let body: String = root.lines().filter(|l| !l.starts_with("-----")).collect();
    assert!(
        stdout(&out).lines().collect::<String>().contains(&body),
        "the bundle holds the converted root"
    );
}
