//! The runtimes besides Python that a trustrun'd program starts: Node (NODE_EXTRA_CA_CERTS), curl
//! (CURL_CA_BUNDLE) and git (GIT_SSL_CAINFO). Each control runs without trustrun, the machine's CA
//! presets removed, and must fail on the certificate.

use std::process::{Command, Output};

use crate::common::*;

/// The tool must be here: CI (.ci/run) installs it, and a test that cannot run must not pass.
fn require(program: &str) {
    let found = Command::new(program).arg("--version").output();
    assert!(
        found.is_ok_and(|o| o.status.success()),
        "{program} is not installed here (.ci/run installs it); this test cannot run without it"
    );
}

fn control(world: &World, program: &str, args: &[&str]) -> Output {
    let mut cmd = Command::new(program);
    clean(&mut cmd, world.cache.path()).args(args);
    cmd.output().unwrap()
}

fn through_trustrun(world: &World, program: &str, args: &[&str]) -> Output {
    world
        .trustrun()
        .arg("--ca")
        .arg(&world.pki.root_pem)
        .arg(program)
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn node_https() {
    require("node");
    let world = World::new();
    let script = "require('https').get(process.argv[1], r => { console.log('OK ' + r.statusCode); r.resume(); })\
                  .on('error', e => { console.log('FAIL ' + e.code + ' ' + e.message); process.exit(1); });";
    let url = format!("{}/node", world.server.url);
    let out = control(&world, "node", &["-e", script, &url]);
    let text = output_text(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("UNABLE_TO_GET_ISSUER_CERT_LOCALLY"), "{text}");
    assert_ok(
        &through_trustrun(&world, "node", &["-e", script, &url]),
        "200",
    );
}

#[test]
fn curl() {
    require("curl");
    let world = World::new();
    let url = format!("{}/curl", world.server.url);
    let args = [
        "--silent",
        "--show-error",
        "--max-time",
        "20",
        "--write-out",
        "\nOK %{http_code}",
        url.as_str(),
    ];
    let out = control(&world, "curl", &args);
    // curl's exit code 60: "Peer certificate cannot be authenticated with known CA certificates".
    assert_eq!(out.status.code(), Some(60), "{}", output_text(&out));
    assert_ok(&through_trustrun(&world, "curl", &args), "200");
}

#[test]
fn git_over_https() {
    require("git");
    let world = World::new();
    // The server speaks no git protocol: what matters is whether git gets past TLS.
    let url = format!("{}/repo.git", world.server.url);
    let args = ["ls-remote", url.as_str()];
    let out = control(&world, "git", &args);
    let text = output_text(&out);
    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains("server certificate verification failed")
            || text.contains("SSL certificate problem"),
        "{text}"
    );
    let before = world.server.answered();
    let out = through_trustrun(&world, "git", &args);
    let text = output_text(&out);
    assert!(!text.contains("certificate"), "git got past TLS: {text}");
    assert!(
        world.server.answered() > before,
        "git made its request: {text}"
    );
}
