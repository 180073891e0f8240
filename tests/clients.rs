//! End to end: real Python clients in a virtualenv against a local HTTPS server whose
//! certificate chains to a test corporate root. Each test first runs the control (no trustrun,
//! the machine's CA presets removed) and requires the certificate error users see; then the same
//! client through `trustrun --ca root.pem` must succeed and reach the server.

use crate::common::*;

fn control_fails_trustrun_succeeds(client: &str, expected: &str) {
    let world = World::new();
    let control = world.control(client);
    assert_certificate_failure(&control);
    let before = world.server.answered();
    let out = world.with_trustrun(client);
    assert_ok(&out, expected);
    assert!(
        world.server.answered() > before,
        "the server saw no request"
    );
}

#[test]
fn urllib() {
    control_fails_trustrun_succeeds("urllib", "200");
}

#[test]
fn requests() {
    control_fails_trustrun_succeeds("requests", "200");
}

#[test]
fn httpx() {
    control_fails_trustrun_succeeds("httpx", "200");
}

#[test]
fn aiohttp() {
    control_fails_trustrun_succeeds("aiohttp", "200");
}

#[test]
fn openai_sdk() {
    let world = World::new();
    let control = world.control("openai");
    assert_certificate_failure(&control);
    // The message users actually see from the SDK.
    assert!(
        output_text(&control).contains("Connection error"),
        "{}",
        output_text(&control)
    );
    assert_ok(&world.with_trustrun("openai"), "pong");
}

#[test]
fn litellm() {
    let world = World::new();
    let control = world.control("litellm");
    assert_certificate_failure(&control);
    assert!(
        output_text(&control).contains("Connection error"),
        "{}",
        output_text(&control)
    );
    assert_ok(&world.with_trustrun("litellm"), "pong");
}

/// Code that passes `verify=certifi.where()` itself: the environment variables cannot help
/// here, only the certifi redirect in our sitecustomize.
#[test]
fn requests_with_certifi_pinned() {
    control_fails_trustrun_succeeds("requests-certifi", "200");
}

#[test]
fn httpx_ignoring_the_environment() {
    control_fails_trustrun_succeeds("httpx-no-env", "200");
}

#[test]
fn ssl_context_from_certifi() {
    control_fails_trustrun_succeeds("httpx-certifi-context", "200");
}

/// `python -I` ignores PYTHONPATH (no sitecustomize of ours), but OpenSSL still reads
/// SSL_CERT_FILE: urllib verifies through the environment alone.
#[test]
fn isolated_python_verifies_through_the_environment() {
    let world = World::new();
    assert_certificate_failure(&world.alone("urllib").python_arg("-I").output());
    let out = world.client("urllib").with_root().python_arg("-I").output();
    assert_ok(&out, "200");
}

/// `--truststore always` swaps ssl.SSLContext for truststore's; on Linux truststore reads
/// OpenSSL's default paths, which SSL_CERT_FILE points at the bundle.
#[test]
fn truststore_always_still_trusts_the_corporate_root() {
    let world = World::new();
    assert_certificate_failure(&world.control("requests"));
    let out = world
        .trustrun()
        .args(["--truststore", "always", "--ca"])
        .arg(&world.pki.root_pem)
        .arg(venv_python())
        .arg("-c")
        .arg(format!(
            "import ssl, runpy, sys; sys.argv = ['client.py', 'requests', '{}']; \
             runpy.run_path({:?}, run_name='__main__')",
            world.server.url,
            client_script().to_string_lossy()
        ))
        .env("TRUSTRUN_DEBUG", "1")
        .output()
        .unwrap();
    assert_ok(&out, "200");
    assert!(
        output_text(&out).contains("ssl.SSLContext -> truststore.SSLContext"),
        "{}",
        output_text(&out)
    );
}

/// Without `--ca` the test root is in no trust source: trustrun must not make the client
/// succeed by itself (no trust is invented, no check turned off).
#[test]
fn without_the_root_trustrun_does_not_trust_the_server() {
    let world = World::new();
    assert_certificate_failure(&world.client("requests").output());
}
