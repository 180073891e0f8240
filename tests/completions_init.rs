//! `trustrun completions SHELL` prints a script the shell parses, and `trustrun config init`
//! writes a commented template the config loader accepts, never over an existing file.

use std::fs;
use std::process::Command;

use crate::common::*;

#[cfg(unix)]
#[test]
fn completions_parse_in_their_shells() {
    let tmp = tempfile::tempdir().unwrap();
    for (shell, check) in [
        ("bash", Some(vec!["bash", "-n"])),
        ("zsh", Some(vec!["zsh", "-n"])),
        ("fish", Some(vec!["fish", "--no-execute"])),
        ("powershell", None),
    ] {
        let mut cmd = Command::new(trustrun_bin());
        clean(&mut cmd, tmp.path()).args(["completions", shell]);
        let out = cmd.output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{shell}: {}", output_text(&out));
        let script = String::from_utf8(out.stdout).unwrap();
        // The subcommands and the options (fish spells --ca as `-l ca`).
        assert!(
            script.contains("doctor") && script.contains("relax-x509-strict"),
            "{shell}: {script}"
        );
        if let Some(check) = check {
            let file = tmp.path().join(format!("completion.{shell}"));
            fs::write(&file, &script).unwrap();
            let parsed = Command::new(check[0])
                .args(&check[1..])
                .arg(&file)
                .output()
                .unwrap_or_else(|e| panic!("{} is needed (.ci/run installs it): {e}", check[0]));
            assert!(parsed.status.success(), "{shell}: {}", output_text(&parsed));
        }
    }
}

#[test]
fn config_init_writes_a_template_the_loader_accepts_and_never_overwrites() {
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("conf dir").join("config.toml");
    let run = |args: &[&str]| {
        let mut cmd = Command::new(trustrun_bin());
        clean(&mut cmd, tmp.path())
            .env("TRUSTRUN_CONFIG", &config)
            .args(args);
        cmd.output().unwrap()
    };
    let out = run(&["config", "init"]);
    assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
    let template = fs::read_to_string(&config).unwrap();
    assert!(
        template.lines().all(|l| l.is_empty() || l.starts_with('#')),
        "every line commented: {template}"
    );
    let out = run(&["config", "show"]);
    assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));

    // A second init refuses and leaves the file alone.
    fs::write(&config, "truststore = \"never\"\n").unwrap();
    let out = run(&["config", "init"]);
    assert_eq!(out.status.code(), Some(1), "{}", output_text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("exists already"));
    assert_eq!(
        fs::read_to_string(&config).unwrap(),
        "truststore = \"never\"\n"
    );

    // Uncommented, every setting in the template is one the loader knows.
    let ca = tmp.path().join("root.pem");
    fs::copy(&Pki::corporate().root_pem, &ca).unwrap();
    let uncommented: String = template
        .lines()
        .filter_map(|l| l.strip_prefix("# "))
        .filter(|l| l.contains(" = "))
        .map(|l| {
            if l.starts_with("ca = ") {
                format!("ca = [{:?}]\n", ca.display().to_string())
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    fs::write(&config, &uncommented).unwrap();
    let out = run(&["config", "show"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{uncommented}\n{}",
        output_text(&out)
    );
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(
        shown.contains("MY_TOOL_CA_BUNDLE") && shown.contains("(config)"),
        "{shown}"
    );
}
