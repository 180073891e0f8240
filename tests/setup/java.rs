//! `setup --java` (issue 22): JVMs of new shells trust the stable bundle only when asked. A real
//! OpenJDK 17 `HttpClient` (the client of tests/java.rs) in a fresh `bash -l -i` login shell of a
//! temporary HOME: it fails plainly and after a plain setup (the control), passes after
//! `setup --java`, and fails again after `--no-java` and after `--undo`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use super::Home;
use crate::common::*;
use crate::java::{PKIX, client_classes, store_named};

/// `java Get URL` in a fresh login shell of this user, as a new terminal starts it (nothing
/// inherited but HOME and PATH: no JAVA_TOOL_OPTIONS, no CA variable), optionally through the
/// real trustrun (`prefix`).
fn java_in_login_shell(h: &Home, through_trustrun: bool) -> Output {
    let prefix = if through_trustrun {
        format!("{} ", sh(&trustrun_bin()))
    } else {
        String::new()
    };
    let line = format!(
        "{prefix}java -cp {} Get {}/java",
        sh(client_classes()),
        h.world.server.url
    );
    h.login_shell_running("bash", &line)
}

fn sh(path: &Path) -> String {
    format!("'{}'", path.display().to_string().replace('\'', "'\\''"))
}

fn assert_pkix(out: &Output) {
    let text = output_text(out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains(PKIX), "{text}");
}

fn profile(h: &Home) -> String {
    fs::read_to_string(h.path().join(".profile")).unwrap_or_default()
}

#[test]
fn java_in_a_login_shell_trusts_only_after_setup_java_and_not_after_no_java_or_undo() {
    let h = Home::new();
    let root = h.world.pki.root_pem.to_str().unwrap();
    // Control: a fresh login shell's JVM fails on the corporate root.
    assert_pkix(&java_in_login_shell(&h, false));

    // Plain setup leaves Java alone: no JAVA_TOOL_OPTIONS, still Java's own error.
    let plain = h.setup_ok(&["--ca", root]);
    assert!(
        !profile(&h).contains("JAVA_TOOL_OPTIONS"),
        "{}",
        profile(&h)
    );
    assert!(!plain.contains("--java"), "{plain}");
    assert_pkix(&java_in_login_shell(&h, false));

    // --dry-run shows the variable and writes nothing.
    let dry = h.setup_ok(&["--java", "--dry-run"]);
    assert!(dry.contains("JAVA_TOOL_OPTIONS="), "{dry}");
    assert!(!profile(&h).contains("JAVA_TOOL_OPTIONS"));

    let out = h.setup_ok(&["--java"]);
    let store = h.cache.join("current.p12");
    assert!(out.contains(&store.display().to_string()), "{out}");
    let meta = fs::metadata(&store).unwrap();
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        meta.permissions().mode() & 0o777,
        0o644,
        "world-readable like current.pem"
    );
    assert!(profile(&h).contains("JAVA_TOOL_OPTIONS"), "{}", profile(&h));
    let passed = java_in_login_shell(&h, false);
    assert_ok(&passed, "200");
    assert_eq!(store_named(&passed), Some(store.clone()));
    // The corporate root kept from the first setup (no --ca now) is in the store too: it passed.

    // A trustrun run from that shell gives Java its own bundle's store, not setup's.
    let run = java_in_login_shell(&h, true);
    assert_ok(&run, "200");
    let named = store_named(&run).expect("a store named");
    assert_ne!(named, store, "{}", output_text(&run));
    assert!(named.is_file());

    // A later plain setup, from a shell that has setup's value, keeps --java: that value is
    // setup's own, not one of the user's to keep.
    let setups = PathBuf::from(format!(
        "-Djavax.net.ssl.trustStore={} -Djavax.net.ssl.trustStoreType=PKCS12",
        store.display()
    ));
    let again = h.setup_with(&[], &[("JAVA_TOOL_OPTIONS", &setups)]);
    let again = output_text(&again);
    assert!(again.contains("kept         --java"), "{again}");
    assert!(!again.contains("kept         JAVA_TOOL_OPTIONS"), "{again}");
    assert!(profile(&h).contains("JAVA_TOOL_OPTIONS"), "{}", profile(&h));
    assert_ok(&java_in_login_shell(&h, false), "200");

    // --no-java drops it; --java again, then --undo takes it back.
    h.setup_ok(&["--no-java"]);
    assert!(!profile(&h).contains("JAVA_TOOL_OPTIONS"));
    assert_pkix(&java_in_login_shell(&h, false));
    h.setup_ok(&["--java"]);
    assert_ok(&java_in_login_shell(&h, false), "200");
    h.setup_ok(&["--undo"]);
    assert_pkix(&java_in_login_shell(&h, false));
    // The store stays for JVMs started before, as current.pem does.
    assert!(store.is_file());
}

#[test]
fn a_store_gone_from_the_cache_is_written_again_before_a_run_or_setup_names_it() {
    let h = Home::new();
    let root = h.world.pki.root_pem.to_str().unwrap();
    h.setup_ok(&["--ca", root, "--java"]);
    let store = h.cache.join("current.p12");
    fs::remove_file(&store).unwrap();
    // Any run with setup in place brings it back (the same rule as current.pem).
    let mut cmd = h.world.trustrun();
    h.user(&mut cmd);
    let out = cmd.args(["bundle"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
    assert!(store.is_file(), "{}", output_text(&out));
    assert_ok(&java_in_login_shell(&h, false), "200");
}

#[test]
fn a_java_tool_options_of_the_users_own_is_kept_and_reported() {
    let h = Home::new();
    let root = h.world.pki.root_pem.to_str().unwrap();
    fs::write(
        h.path().join(".profile"),
        "export JAVA_TOOL_OPTIONS=-Dtrustrun.marker=mine\n",
    )
    .unwrap();
    let out = h.setup_ok(&["--ca", root, "--java"]);
    assert!(
        out.contains("kept         JAVA_TOOL_OPTIONS (set in"),
        "{out}"
    );
    let block = profile(&h);
    assert!(
        !block.contains("trustStore"),
        "theirs is not replaced:\n{block}"
    );
    // Their options reach the JVM; Java keeps its own trust, as they chose.
    let shell = java_in_login_shell(&h, false);
    assert!(
        String::from_utf8_lossy(&shell.stdout).contains("marker=mine"),
        "{}",
        output_text(&shell)
    );
    assert_pkix(&shell);
    // And in setup's own environment: kept too, with the value named.
    let mine = PathBuf::from("-Xmx64m");
    let out = h.setup_with(&["--java"], &[("JAVA_TOOL_OPTIONS", &mine)]);
    assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("kept         JAVA_TOOL_OPTIONS=-Xmx64m"),
        "{}",
        output_text(&out)
    );
}

#[test]
fn doctor_in_a_set_up_shell_counts_setups_java_store_as_trustruns() {
    let h = Home::new();
    h.setup_ok(&["--ca", h.world.pki.root_pem.to_str().unwrap(), "--java"]);
    let setups = format!(
        "-Djavax.net.ssl.trustStore={} -Djavax.net.ssl.trustStoreType=PKCS12",
        h.cache.join("current.p12").display()
    );
    let doctor = |value: &str| {
        let mut cmd = h.world.trustrun();
        h.user(&mut cmd);
        let out = cmd
            .env("JAVA_TOOL_OPTIONS", value)
            .args(["doctor", "-v", "--timeout", "1", "127.0.0.1"])
            .output()
            .unwrap();
        output_text(&out)
    };
    let yours = "NOT covered: your JAVA_TOOL_OPTIONS";
    // Control: a store of the user's own is theirs, and doctor says Java keeps it.
    let control = doctor("-Djavax.net.ssl.trustStore=/etc/corp.jks");
    assert!(control.contains(yours), "the control:\n{control}");
    let text = doctor(&setups);
    assert!(!text.contains(yours), "{text}");
    assert!(text.contains("java ("), "java is on PATH here:\n{text}");
}
