//! `trustrun env` loaded by its real consumers (bash, fish, python-dotenv, `set -a; .`, GitHub's
//! `$GITHUB_ENV` rules) gives a process with no trustrun in its tree that trusts the corporate
//! root; the config file's precedence and errors.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::*;

/// A world whose cache path has a space, a `$`, a quote and a non-ASCII letter in it, so every
/// bundle path the formats print needs real quoting.
fn nasty_world(with_quote: bool) -> (World, PathBuf) {
    let world = World::new();
    let name = if with_quote {
        "cache dir $HOME it's é"
    } else {
        "cache dir $HOME %PATH% é"
    };
    let cache = world.cache.path().join(name);
    (world, cache)
}

fn env_output(world: &World, cache: &Path, format: &str, extra: &[&str]) -> String {
    let out = world
        .trustrun()
        .env("TRUSTRUN_CACHE_DIR", cache)
        .args(["env", "--format", format, "--ca"])
        .arg(&world.pki.root_pem)
        .args(extra)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", output_text(&out));
    String::from_utf8(out.stdout).unwrap()
}

/// Runs `shell -c script` in a clean environment; the script ends by running the client.
fn in_shell(world: &World, shell: &str, script: &str) -> Output {
    let mut cmd = Command::new(shell);
    clean(&mut cmd, world.cache.path()).arg("-c").arg(script);
    cmd.output().unwrap()
}

fn client_line(world: &World) -> String {
    format!(
        "'{}' '{}' requests '{}'",
        venv_python().display(),
        client_script().display(),
        world.server.url
    )
}

#[test]
fn bash_eval_of_the_sh_format() {
    for with_quote in [false, true] {
        let (world, cache) = nasty_world(with_quote);
        let snippet = env_output(&world, &cache, "sh", &[]);
        let file = world.cache.path().join("env.sh");
        fs::write(&file, &snippet).unwrap();
        assert_certificate_failure(&in_shell(
            &world,
            "bash",
            &format!("exec {}", client_line(&world)),
        ));
        let script = format!(
            "eval \"$(cat '{}')\" && eval \"$(cat '{}')\" && echo \"$PYTHONPATH\" >&2 && exec {}",
            file.display(),
            file.display(),
            client_line(&world)
        );
        let out = in_shell(&world, "bash", &script);
        assert_ok(&out, "200");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            stderr.trim().split(':').count(),
            1,
            "evaluated twice, PYTHONPATH holds ours once: {stderr}"
        );
        assert!(
            stderr.contains(cache.to_str().unwrap()),
            "the path survived quoting: {stderr}"
        );
    }
}

#[test]
fn fish_sources_the_fish_format() {
    // fish must be here: .ci/run installs it from Debian, and a test that cannot run must fail.
    assert!(
        Command::new("fish").arg("--version").output().is_ok(),
        "fish is not installed (.ci/run installs it from Debian)"
    );
    for with_quote in [false, true] {
        let (world, cache) = nasty_world(with_quote);
        let file = world.cache.path().join("env.fish");
        fs::write(&file, env_output(&world, &cache, "fish", &[])).unwrap();
        assert_certificate_failure(&in_shell(
            &world,
            "fish",
            &format!("exec {}", client_line(&world)),
        ));
        let script = format!(
            "source '{}'; and source '{}'; and echo $PYTHONPATH >&2; and exec {}",
            file.display(),
            file.display(),
            client_line(&world)
        );
        let out = in_shell(&world, "fish", &script);
        assert_ok(&out, "200");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(cache.to_str().unwrap()), "{stderr}");
    }
}

#[test]
fn dotenv_read_by_python_dotenv_and_by_sh() {
    let (world, cache) = nasty_world(false);
    let file = world.cache.path().join(".env");
    fs::write(&file, env_output(&world, &cache, "dotenv", &[])).unwrap();
    // The control reads a .env without our variables, by the same two readers, and must fail.
    let empty = world.cache.path().join("empty.env");
    fs::write(&empty, "# no trustrun variables\n").unwrap();
    // python-dotenv (a litellm dependency in the venv) loads the file, then becomes the client.
    let by_python_dotenv = |file: &Path| {
        let loader = format!(
            "import os, sys; from dotenv import dotenv_values; env = dict(os.environ); \
             env.update(dotenv_values({:?})); \
             os.execve(sys.executable, [sys.executable, {:?}, 'requests', {:?}], env)",
            file.to_str().unwrap(),
            client_script().to_str().unwrap(),
            world.server.url
        );
        let mut cmd = Command::new(venv_python());
        clean(&mut cmd, world.cache.path()).args(["-c", &loader]);
        cmd.output().unwrap()
    };
    // The same file as shell: `set -a; . .env`.
    let by_sh = |file: &Path| {
        in_shell(
            &world,
            "sh",
            &format!(
                "set -a; . '{}'; set +a; exec {}",
                file.display(),
                client_line(&world)
            ),
        )
    };
    assert_certificate_failure(&by_python_dotenv(&empty));
    assert_ok(&by_python_dotenv(&file), "200");
    assert_certificate_failure(&by_sh(&empty));
    assert_ok(&by_sh(&file), "200");
}

/// `$GITHUB_ENV` as the runner reads it: `NAME=value` (the rest of the line, verbatim) or
/// `NAME<<DELIMITER` ... `DELIMITER`.
fn parse_github_env(text: &str) -> Vec<(String, String)> {
    let mut vars = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if let Some((name, delimiter)) = line.split_once("<<") {
            let mut value = Vec::new();
            for l in lines.by_ref() {
                if l == delimiter {
                    break;
                }
                value.push(l);
            }
            vars.push((name.to_owned(), value.join("\n")));
        } else if let Some((name, value)) = line.split_once('=') {
            vars.push((name.to_owned(), value.to_owned()));
        } else {
            panic!("not a GITHUB_ENV line: {line:?}");
        }
    }
    vars
}

#[test]
fn github_env_rules() {
    let (world, cache) = nasty_world(true);
    let vars = parse_github_env(&env_output(&world, &cache, "github", &[]));
    // The same client in the same clean environment, without and with the variables.
    let client = world.alone("requests-certifi");
    assert_certificate_failure(&client.output());
    let mut cmd = client.command();
    for (name, value) in &vars {
        cmd.env(name, value);
    }
    let bundle = &vars.iter().find(|(n, _)| n == "SSL_CERT_FILE").unwrap().1;
    assert!(bundle.starts_with(cache.to_str().unwrap()), "{bundle}");
    assert_ok(&cmd.output().unwrap(), "200");
}

#[test]
fn json_format_carries_the_same_plan() {
    let (world, cache) = nasty_world(true);
    let json = env_output(&world, &cache, "json", &[]);
    let check = "import json, sys; d = json.loads(sys.stdin.read()); \
         assert d['SSL_CERT_FILE'] == d['REQUESTS_CA_BUNDLE'] == d['TRUSTRUN_BUNDLE'], d; \
         assert d['PYTHONPATH'].startswith(d['TRUSTRUN_PYTHON_DIR']), d; print(d['SSL_CERT_FILE'])";
    let mut child = Command::new(venv_python())
        .args(["-c", check])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(json.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{json}");
    assert!(String::from_utf8_lossy(&out.stdout).starts_with(cache.to_str().unwrap()));
}

fn with_config(world: &World, config: &str) -> (Command, PathBuf) {
    let dir = world.cache.path().join("config");
    fs::create_dir_all(&dir).unwrap();
    let path = dir.join("config.toml");
    fs::write(&path, config).unwrap();
    let mut cmd = world.trustrun();
    cmd.env("TRUSTRUN_CONFIG", &path);
    (cmd, path)
}

fn json_env(mut cmd: Command, args: &[&str]) -> String {
    let out = cmd
        .args(["env", "--format", "json"])
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", output_text(&out));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn config_precedence_flags_then_environment_then_config() {
    let world = World::new();
    let config = "truststore = \"always\"\nleave_alone = [\"NODE_EXTRA_CA_CERTS\"]\nextra_variables = [\"MY_TOOL_CA_BUNDLE\"]\n";
    let (cmd, _) = with_config(&world, config);
    let json = json_env(cmd, &[]);
    assert!(
        json.contains("\"TRUSTRUN_TRUSTSTORE\": \"always\""),
        "{json}"
    );
    assert!(!json.contains("NODE_EXTRA_CA_CERTS"), "left alone: {json}");
    assert!(json.contains("\"MY_TOOL_CA_BUNDLE\": "), "{json}");

    let (mut cmd, _) = with_config(&world, config);
    cmd.env("TRUSTRUN_TRUSTSTORE", "never");
    assert!(
        json_env(cmd, &[]).contains("\"TRUSTRUN_TRUSTSTORE\": \"never\""),
        "environment beats config"
    );

    let (mut cmd, _) = with_config(&world, config);
    cmd.env("TRUSTRUN_TRUSTSTORE", "never");
    assert!(
        json_env(cmd, &["--truststore", "always"]).contains("\"TRUSTRUN_TRUSTSTORE\": \"always\""),
        "the flag beats the environment"
    );
}

#[test]
fn a_ca_file_in_the_config_is_trusted() {
    let world = World::new();
    let config = format!("ca = [{:?}]\n", world.pki.root_pem.to_str().unwrap());
    let (mut cmd, _) = with_config(&world, &config);
    assert_certificate_failure(&world.control("requests"));
    let out = cmd
        .arg(venv_python())
        .arg(client_script())
        .args(["requests", &world.server.url])
        .output()
        .unwrap();
    assert_ok(&out, "200");
}

#[test]
fn a_broken_config_names_the_file_the_line_and_the_key() {
    let world = World::new();
    let (mut cmd, path) = with_config(&world, "truststore = \"auto\"\ncafile = [\"/x.pem\"]\n");
    let out = cmd.args(["sh", "-c", "echo ran"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", output_text(&out));
    assert_eq!(out.stdout, b"", "the program does not run");
    let stderr = one_line_stderr(&out);
    assert!(
        stderr.starts_with(&format!(
            "trustrun: config {}:2: unknown field `cafile`, expected one of",
            path.display()
        )),
        "{stderr}"
    );

    let (mut cmd, path) = with_config(&world, "strict = true\ntruststore = [1, 2\n");
    let out = cmd.args(["env"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", output_text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .starts_with(&format!("trustrun: config {}:2:", path.display())),
        "{}",
        output_text(&out)
    );

    let (mut cmd, path) = with_config(&world, "truststore = \"maybe\"\n");
    let out = cmd.args(["config", "show"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "trustrun: config {}:1: key `truststore`: \"maybe\" is not auto, always or never\n",
            path.display()
        )
    );
}

#[test]
fn config_show_says_where_each_setting_comes_from() {
    let world = World::new();
    let (mut cmd, path) = with_config(&world, "strict = true\n");
    let out = cmd
        .env("TRUSTRUN_TRUSTSTORE", "always")
        .args(["config", "show"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", output_text(&out));
    assert!(
        text.contains(&format!("config file      {} (read)", path.display())),
        "{text}"
    );
    assert!(
        text.contains("truststore       always (TRUSTRUN_TRUSTSTORE; on here)"),
        "{text}"
    );
    assert!(text.contains("strict           true (config)"), "{text}");
}
