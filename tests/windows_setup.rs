//! `trustrun setup` on Windows, run for real under wine: it writes `HKCU\Environment`, a new
//! process started without trustrun (the Windows test client, which trusts only `SSL_CERT_FILE`)
//! verifies the test corporate root through it, and `--undo` removes the values again. The control
//! is the same client before setup and after the undo.

use std::path::Path;
use std::process::Output;

use crate::common::{World, output_text};
use crate::wine::{Wine, windows_path};

fn client(w: &Wine, cache: &Path, url: &str) -> Output {
    w.command(&w.client, cache, &[]).arg(url).output().unwrap()
}

fn assert_client(out: &Output, ok: bool) {
    let text = output_text(out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    if ok {
        assert_eq!(out.status.code(), Some(0), "expected success:\n{text}");
        assert!(stdout.starts_with("OK "), "expected OK:\n{text}");
    } else {
        assert_eq!(
            out.status.code(),
            Some(1),
            "expected a certificate failure:\n{text}"
        );
        assert!(stdout.contains("CERTIFICATE_VERIFY_FAILED"), "{text}");
    }
}

/// The prefix is shared with the other wine tests: setup is undone however this test ends.
struct UndoSetup<'a>(&'a Wine, &'a Path);

impl Drop for UndoSetup<'_> {
    fn drop(&mut self) {
        let _ = self
            .0
            .trustrun(self.1, &[])
            .args(["setup", "--undo"])
            .output();
    }
}

#[test]
fn setup_writes_the_user_environment_a_new_process_trusts_and_undo_takes_it_back() {
    let w = Wine::lock();
    let world = World::new();
    let cache = world.cache.path();
    assert_eq!(
        w.user_env("SSL_CERT_FILE"),
        None,
        "a value left by another run"
    );
    assert_client(&client(&w, cache, &world.server.url), false);

    let _undo = UndoSetup(&w, cache);
    let out = w
        .trustrun(cache, &[])
        .args(["setup", "--ca"])
        .arg(windows_path(&world.pki.root_pem))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
    let value = w
        .user_env("SSL_CERT_FILE")
        .expect("setup wrote SSL_CERT_FILE");
    assert!(value.ends_with("\\current.pem"), "{value}");
    assert_eq!(
        w.user_env("REQUESTS_CA_BUNDLE").as_deref(),
        Some(value.as_str())
    );
    // A new process, not started through trustrun, gets the value from the registry.
    assert_client(&client(&w, cache, &world.server.url), true);

    let out = w
        .trustrun(cache, &[])
        .args(["setup", "--undo"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
    assert_eq!(w.user_env("SSL_CERT_FILE"), None);
    assert_eq!(w.user_env("REQUESTS_CA_BUNDLE"), None);
    assert_client(&client(&w, cache, &world.server.url), false);
}

/// Issue 20 item 9 and issue 17 item 12 on Windows: setup writes no variable no Windows program
/// reads (`NIX_SSL_CERT_FILE`); `--python` names the stable python directory, which a later plain
/// setup keeps (and says so) until `--no-python`; `--dry-run` shows each value it would set.
#[test]
fn setup_writes_only_what_windows_programs_read_and_keeps_python() {
    let w = Wine::lock();
    let world = World::new();
    let cache = world.cache.path();
    let _undo = UndoSetup(&w, cache);
    let setup = |args: &[&str]| {
        let out = w
            .trustrun(cache, &[])
            .arg("setup")
            .args(args)
            .arg("--ca")
            .arg(windows_path(&world.pki.root_pem))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let dry = setup(&["--dry-run"]);
    assert!(
        dry.contains("HKCU\\Environment\\SSL_CERT_FILE = ") && dry.contains("current.pem"),
        "{dry}"
    );
    assert!(!dry.contains("NIX_SSL_CERT_FILE"), "{dry}");

    setup(&["--python"]);
    assert!(w.user_env("SSL_CERT_FILE").is_some());
    assert_eq!(w.user_env("NIX_SSL_CERT_FILE"), None);
    let dir = w
        .user_env("TRUSTRUN_PYTHON_DIR")
        .expect("--python set its directory");
    assert!(dir.ends_with("\\setup-python"), "{dir}");

    let later = setup(&[]);
    assert!(later.contains("--no-python"), "{later}");
    assert_eq!(
        w.user_env("TRUSTRUN_PYTHON_DIR").as_deref(),
        Some(dir.as_str())
    );
    setup(&["--no-python"]);
    assert_eq!(w.user_env("TRUSTRUN_PYTHON_DIR"), None);
}

/// Issue 22 on Windows: `--java` sets `JAVA_TOOL_OPTIONS` in `HKCU\Environment` to the stable
/// Java store beside `current.pem` (which exists when it is named); plain setup does not set it,
/// a later plain setup keeps it, `--no-java` removes it.
#[test]
fn setup_java_sets_java_tool_options_in_the_user_environment() {
    let w = Wine::lock();
    let world = World::new();
    let cache = world.cache.path();
    let _undo = UndoSetup(&w, cache);
    let setup = |args: &[&str]| {
        let out = w
            .trustrun(cache, &[])
            .arg("setup")
            .args(args)
            .arg("--ca")
            .arg(windows_path(&world.pki.root_pem))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    setup(&[]);
    assert_eq!(
        w.user_env("JAVA_TOOL_OPTIONS"),
        None,
        "plain setup leaves Java alone"
    );
    setup(&["--java"]);
    let value = w
        .user_env("JAVA_TOOL_OPTIONS")
        .expect("--java set JAVA_TOOL_OPTIONS");
    assert!(
        value.starts_with("-Djavax.net.ssl.trustStore=")
            && value.contains("\\current.p12")
            && value.ends_with(" -Djavax.net.ssl.trustStoreType=PKCS12"),
        "{value}"
    );
    assert!(cache.join("current.p12").is_file());
    let later = setup(&[]);
    assert!(later.contains("--no-java"), "{later}");
    assert_eq!(
        w.user_env("JAVA_TOOL_OPTIONS").as_deref(),
        Some(value.as_str())
    );
    setup(&["--no-java"]);
    assert_eq!(w.user_env("JAVA_TOOL_OPTIONS"), None);
}
