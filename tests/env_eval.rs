//! `trustrun env` is safe to eval: `--format bash` and `--format zsh` give sh syntax, and the
//! default on Unix is sh whatever `$SHELL` says, so `eval "$(trustrun env)"` in a bash or zsh
//! profile works for a user whose login shell is fish.

use std::process::{Command, Output};

use crate::common::*;

/// `trustrun env [--format FORMAT] --ca ROOT` with `SHELL` set to `login_shell`.
fn env_text(world: &World, format: Option<&str>, login_shell: &str) -> String {
    let mut cmd = world.trustrun();
    cmd.env("SHELL", login_shell).arg("env");
    if let Some(f) = format {
        cmd.args(["--format", f]);
    }
    let out = cmd.arg("--ca").arg(&world.pki.root_pem).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
    String::from_utf8(out.stdout).unwrap()
}

/// `shell -c 'eval "$1" && exec python client.py requests URL' _ SNIPPET` in a clean environment.
fn eval_then_client(world: &World, shell: &str, snippet: &str) -> Output {
    let mut cmd = Command::new(shell);
    clean(&mut cmd, world.cache.path())
        .arg("-c")
        .arg("eval \"$1\" && exec \"$2\" \"$3\" requests \"$4\"")
        .arg("trustrun-test")
        .arg(snippet)
        .arg(venv_python())
        .arg(client_script())
        .arg(&world.server.url);
    cmd.output().unwrap()
}

#[test]
fn bash_and_zsh_formats_are_sh_syntax() {
    let world = World::new();
    let sh = env_text(&world, Some("sh"), "/bin/sh");
    for name in ["bash", "zsh"] {
        assert_eq!(
            env_text(&world, Some(name), "/bin/sh"),
            sh,
            "--format {name}"
        );
    }
    // Control: the client alone fails on the certificate.
    assert_certificate_failure(&eval_then_client(&world, "bash", ""));
    assert_ok(
        &eval_then_client(&world, "bash", &env_text(&world, Some("bash"), "/bin/bash")),
        "200",
    );
    let zsh = env_text(&world, Some("zsh"), "/bin/zsh");
    let out = eval_then_client(&world, "zsh", &zsh);
    assert_ok(&out, "200");
}

#[test]
fn the_unix_default_is_sh_even_for_a_fish_user() {
    let world = World::new();
    let default = env_text(&world, None, "/usr/bin/fish");
    assert_eq!(default, env_text(&world, Some("sh"), "/usr/bin/fish"));
    // What the README says to put in ~/.bashrc works in bash with SHELL=fish.
    assert_ok(&eval_then_client(&world, "bash", &default), "200");
    // The fish format, which the old default gave here, is what bash cannot eval.
    let fish = env_text(&world, Some("fish"), "/usr/bin/fish");
    let out = eval_then_client(&world, "bash", &fish);
    assert_ne!(out.status.code(), Some(0), "{}", output_text(&out));
}
