//! What trustrun writes, and how it ends: every `env` format rendered and read back by its consumer,
//! output errors on one line, a closed pipe a quiet exit 0, usage errors on one line with clap's
//! suggestion, and 125 never outside `--strict`.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use crate::common::*;

/// A cache path with a space, a `$` and a non-ASCII letter, so every format must really quote.
fn env_of(world: &World, format: &str) -> String {
    let cache = world.cache.path().join("cache dir $HOME é");
    let out = world
        .trustrun()
        .env("TRUSTRUN_CACHE_DIR", &cache)
        .args(["env", "--format", format, "--ca"])
        .arg(&world.pki.root_pem)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{format}: {}",
        output_text(&out)
    );
    assert!(out.stderr.is_empty(), "{format}: {}", output_text(&out));
    String::from_utf8(out.stdout).unwrap()
}

/// The set variables of the JSON format, the reference the other formats are compared with.
fn reference(world: &World) -> BTreeMap<String, String> {
    let doc: serde_json::Value = serde_json::from_str(&env_of(world, "json")).unwrap();
    let map = doc.as_object().expect("a JSON object");
    assert!(map.contains_key("SSL_CERT_FILE"), "{map:?}");
    map.iter()
        .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_owned())))
        .collect()
}

/// The environment a shell ends with after loading `file` (`env -0`, so any value survives).
fn shell_env(world: &World, shell: &str, script: &str) -> BTreeMap<String, String> {
    let mut cmd = Command::new(shell);
    clean(&mut cmd, world.cache.path())
        .env_remove("PYTHONPATH")
        .args(["-c", script]);
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{shell}: {}", output_text(&out));
    String::from_utf8(out.stdout)
        .unwrap()
        .split('\0')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

fn assert_carries(format: &str, got: &BTreeMap<String, String>, want: &BTreeMap<String, String>) {
    for (name, value) in want {
        assert_eq!(got.get(name), Some(value), "{format}: {name}\n{got:#?}");
    }
}

#[test]
fn every_env_format_renders_and_its_consumer_reads_the_same_values() {
    let world = World::new();
    let want = reference(&world);
    let python_dir = want["TRUSTRUN_PYTHON_DIR"].clone();
    assert_eq!(
        want["PYTHONPATH"], python_dir,
        "a clean caller has no PYTHONPATH of its own"
    );
    let tmp = world.cache.path();

    // sh and fish: the shells themselves load it.
    let sh = tmp.join("env.sh");
    fs::write(&sh, env_of(&world, "sh")).unwrap();
    let got = shell_env(&world, "sh", &format!(". '{}' && env -0", sh.display()));
    assert_carries("sh", &got, &want);
    let fish = tmp.join("env.fish");
    fs::write(&fish, env_of(&world, "fish")).unwrap();
    let got = shell_env(
        &world,
        "fish",
        &format!("source '{}'; and env -0", fish.display()),
    );
    assert_carries("fish", &got, &want);

    // dotenv: python-dotenv (in the test venv) reads it.
    let dotenv = tmp.join(".env");
    fs::write(&dotenv, env_of(&world, "dotenv")).unwrap();
    let mut cmd = Command::new(venv_python());
    clean(&mut cmd, tmp).args([
        "-c",
        "import json, sys; from dotenv import dotenv_values; print(json.dumps(dotenv_values(sys.argv[1])))",
    ]);
    let out = cmd.arg(&dotenv).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
    let got: BTreeMap<String, String> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(got, want, "dotenv");

    // github: GitHub's own rule, NAME=value to the end of the line (no heredoc needed here).
    let got: BTreeMap<String, String> = env_of(&world, "github")
        .lines()
        .map(|l| l.split_once('=').expect("NAME=value"))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    assert_eq!(got, want, "github");

    // cmd: no cmd.exe here, so its structure: `set "NAME=value"` with % doubled, PYTHONPATH whole.
    let text = env_of(&world, "cmd");
    let mut got = BTreeMap::new();
    for line in text.lines() {
        let inner = line
            .strip_prefix("set \"")
            .and_then(|l| l.strip_suffix('"'))
            .unwrap_or_else(|| panic!("cmd line is not set \"NAME=value\": {line}"));
        let (k, v) = inner.split_once('=').unwrap();
        assert!(!v.replace("%%", "").contains('%'), "{line}");
        if !v.is_empty() {
            got.insert(k.to_owned(), v.replace("%%", "%"));
        }
    }
    assert_eq!(got, want, "cmd");

    // PowerShell: no pwsh here either; `$env:NAME = '...'` lines with '' for ', and the
    // PYTHONPATH statement naming our directory.
    let text = env_of(&world, "powershell");
    let mut got = BTreeMap::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("$env:") {
            let (k, v) = rest.split_once(" = ").unwrap();
            let v = v
                .strip_prefix('\'')
                .and_then(|v| v.strip_suffix('\''))
                .unwrap();
            got.insert(k.to_owned(), v.replace("''", "'"));
        } else if line.starts_with("if (") {
            assert!(line.contains(&format!("'{python_dir}'")), "{line}");
            got.insert("PYTHONPATH".to_owned(), python_dir.clone());
        } else {
            assert!(line.starts_with("Remove-Item Env:"), "{line}");
        }
    }
    assert_eq!(got, want, "powershell");
}

fn trustrun_in(tmp: &Path) -> Command {
    let mut cmd = Command::new(trustrun_bin());
    clean(&mut cmd, &tmp.join("cache"));
    cmd
}

fn assert_one_line_error(out: &Output, code: i32, words: &str) {
    assert_eq!(out.status.code(), Some(code), "{}", output_text(out));
    let stderr = one_line_stderr(out);
    assert!(
        stderr.starts_with("trustrun: ") && stderr.contains(words),
        "one line with {words:?} expected: {stderr:?}"
    );
}

/// Commands whose main output goes to stdout, one of each way of printing it.
const PRINTING_COMMANDS: [&[&str]; 4] = [
    &["env"],
    &["bundle"],
    &["config", "show"],
    &["shim", "list"],
];

#[test]
fn a_full_disk_on_stdout_is_a_one_line_error() {
    let tmp = tempfile::tempdir().unwrap();
    for args in PRINTING_COMMANDS {
        let full = fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let out = trustrun_in(tmp.path())
            .args(args)
            .stdout(Stdio::from(full))
            .output()
            .unwrap();
        assert_one_line_error(
            &out,
            1,
            "cannot write to standard output: No space left on device",
        );
    }
}

#[test]
fn a_closed_pipe_ends_quietly_with_exit_0() {
    let tmp = tempfile::tempdir().unwrap();
    for args in PRINTING_COMMANDS {
        // The reader is gone before trustrun writes, as with `| head -0`.
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = trustrun_in(tmp.path())
            .args(args)
            .stdout(writer)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            output_text(&out)
        );
        assert!(out.stderr.is_empty(), "{args:?}: {}", output_text(&out));
    }
}

#[test]
fn clap_usage_errors_are_one_line_and_keep_the_suggestion() {
    let tmp = tempfile::tempdir().unwrap();
    let out = trustrun_in(tmp.path())
        .args(["--stict", "true"])
        .output()
        .unwrap();
    assert_one_line_error(&out, 2, "a similar argument exists: '--strict'");
    let out = trustrun_in(tmp.path())
        .args(["shim", "instal"])
        .output()
        .unwrap();
    assert_one_line_error(&out, 2, "'install'");
    let out = trustrun_in(tmp.path())
        .args(["env", "--format", "tcsh"])
        .output()
        .unwrap();
    assert_one_line_error(
        &out,
        2,
        "possible values: sh, fish, powershell, cmd, github, dotenv, json",
    );
    // Help is not an error.
    let out = trustrun_in(tmp.path()).arg("--help").output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
}

#[test]
fn trustrun_failing_outside_strict_is_exit_1_not_125() {
    let tmp = tempfile::tempdir().unwrap();
    // A shim directory that cannot be created.
    let out = trustrun_in(tmp.path())
        .args([
            "shim",
            "install",
            "--dir",
            "/proc/trustrun-no/shims",
            "python3",
        ])
        .output()
        .unwrap();
    assert_one_line_error(&out, 1, "/proc/trustrun-no/shims");
    // --force over a directory of the shim's name: removing it fails.
    let shims = tmp.path().join("shims");
    fs::create_dir_all(shims.join("python3").join("inside")).unwrap();
    let out = trustrun_in(tmp.path())
        .args(["shim", "install", "--force", "--dir"])
        .arg(&shims)
        .arg("python3")
        .output()
        .unwrap();
    assert_one_line_error(&out, 1, "python3");
    assert!(shims.join("python3").join("inside").is_dir());
    // env and bundle when no cache can be written at all (not even the temporary fallback).
    let file = tmp.path().join("a-file");
    fs::write(&file, "").unwrap();
    for command in ["env", "bundle"] {
        let out = trustrun_in(tmp.path())
            .env("TRUSTRUN_CACHE_DIR", file.join("cache"))
            .env("TMPDIR", file.join("tmp"))
            .arg(command)
            .output()
            .unwrap();
        assert_one_line_error(&out, 1, "cannot build the CA bundle");
    }
    // The same failure under --strict, when a program was to run, is 125.
    let out = trustrun_in(tmp.path())
        .env("TRUSTRUN_CACHE_DIR", file.join("cache"))
        .env("TMPDIR", file.join("tmp"))
        .args(["--strict", "true"])
        .output()
        .unwrap();
    assert_one_line_error(&out, 125, "--strict forbids running");
}
