//! Java (issue 22): a JVM reads none of the CA variables, so trustrun hands it the bundle's
//! PKCS#12 twin through `JAVA_TOOL_OPTIONS`. A real OpenJDK `HttpClient` against the test server;
//! the control (the same client without trustrun) fails with Java's own certificate error.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use crate::common::*;

/// Java's certificate error, the same with and without a trust store that lacks the root.
pub(crate) const PKIX: &str = "PKIX path building failed";

/// The client: prints `OK <status>`, or `FAIL <exception>` and exits 1; then the trust store
/// it was given and a marker property, so a test sees which options reached the JVM.
const CLIENT: &str = r#"
import java.net.URI;
import java.net.http.*;
import java.time.Duration;
public class Get {
  public static void main(String[] a) throws Exception {
    System.out.println("store=" + System.getProperty("javax.net.ssl.trustStore"));
    System.out.println("marker=" + System.getProperty("trustrun.marker"));
    try {
      var client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(20)).build();
      var request = HttpRequest.newBuilder(URI.create(a[0])).timeout(Duration.ofSeconds(20)).build();
      var r = client.send(request, HttpResponse.BodyHandlers.discarding());
      System.out.println("OK " + r.statusCode());
    } catch (Exception e) {
      System.out.println("FAIL " + e);
      System.exit(1);
    }
  }
}
"#;

/// The compiled client's class directory, compiled once per test run.
pub(crate) fn client_classes() -> &'static Path {
    static CLASSES: OnceLock<PathBuf> = OnceLock::new();
    CLASSES.get_or_init(|| {
        let found = Command::new("javac").arg("-version").output();
        assert!(
            found.is_ok_and(|o| o.status.success()),
            "javac is not installed here (.ci/run installs openjdk-17-jdk-headless); this test cannot run without it"
        );
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("java-client-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("Get.java"), CLIENT).unwrap();
        run_ok(Command::new("javac").arg("-d").arg(&dir).arg(dir.join("Get.java")));
        dir
    })
}

/// `java Get URL`, as a command whose environment is the clean one plus `JAVA_TOOL_OPTIONS`
/// removed (a machine's own would decide the control).
fn java_args(world: &World) -> Vec<std::ffi::OsString> {
    vec![
        "java".into(),
        "-cp".into(),
        client_classes().into(),
        "Get".into(),
        format!("{}/java", world.server.url).into(),
    ]
}

fn control(world: &World) -> Output {
    let args = java_args(world);
    let mut cmd = Command::new(&args[0]);
    clean(&mut cmd, world.cache.path())
        .env_remove("JAVA_TOOL_OPTIONS")
        .args(&args[1..]);
    cmd.output().unwrap()
}

/// `trustrun --ca root.pem java Get URL` with `JAVA_TOOL_OPTIONS` as given.
fn through_trustrun(world: &World, tool_options: Option<&str>) -> Command {
    let mut cmd = world.trustrun();
    cmd.env_remove("JAVA_TOOL_OPTIONS");
    if let Some(v) = tool_options {
        cmd.env("JAVA_TOOL_OPTIONS", v);
    }
    cmd.arg("--ca")
        .arg(&world.pki.root_pem)
        .args(java_args(world));
    cmd
}

fn assert_pkix_failure(out: &Output) {
    let text = output_text(out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains(PKIX), "{text}");
}

/// The trust store the JVM was given, from the client's own report.
pub(crate) fn store_named(out: &Output) -> Option<PathBuf> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("store="))
        .filter(|s| *s != "null")
        .map(PathBuf::from)
}

#[test]
fn java_trusts_the_corporate_root_only_through_trustrun() {
    let world = World::new();
    let out = control(&world);
    assert_pkix_failure(&out);
    assert_eq!(store_named(&out), None);
    let out = through_trustrun(&world, None).output().unwrap();
    assert_ok(&out, "200");
    let store = store_named(&out).expect("a trust store named");
    assert!(store.is_file(), "{}", store.display());
    assert_eq!(store.extension().unwrap(), "p12");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("Picked up JAVA_TOOL_OPTIONS"),
        "{}",
        output_text(&out)
    );
    // The warm run names the same store.
    let again = through_trustrun(&world, None).output().unwrap();
    assert_ok(&again, "200");
    assert_eq!(store_named(&again), Some(store));
}

#[test]
fn keytool_reads_the_store_without_a_password_and_it_holds_the_bundle() {
    let world = World::new();
    let out = world
        .trustrun()
        .arg("bundle")
        .arg("--ca")
        .arg(&world.pki.root_pem)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
    let bundle = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    let store = bundle.with_extension("p12");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(&store).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "private, as the bundle");
    }
    // No -storepass, and nothing on stdin: a prompt would read an empty password.
    let out = Command::new("keytool")
        .args(["-list", "-storetype", "PKCS12", "-keystore"])
        .arg(&store)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let text = output_text(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    let pem = fs::read_to_string(&bundle).unwrap();
    let certs = pem.matches("BEGIN CERTIFICATE").count();
    assert_eq!(
        text.matches("trustedCertEntry").count(),
        certs,
        "one trusted entry per certificate of the bundle:\n{text}"
    );
    assert!(
        text.contains(&format!("Your keystore contains {certs} entries")),
        "{text}"
    );
}

#[test]
fn a_store_path_with_a_space_reaches_the_jvm() {
    let world = World::new();
    let cache = world.cache.path().join("Jane Smith").join("cache");
    let out = through_trustrun(&world, None)
        .env("TRUSTRUN_CACHE_DIR", &cache)
        .output()
        .unwrap();
    assert_ok(&out, "200");
    let store = store_named(&out).unwrap();
    assert!(store.starts_with(&cache), "{}", store.display());
}

#[test]
fn the_callers_options_are_kept_and_their_own_trust_store_wins() {
    let world = World::new();
    // Their options reach the JVM with ours.
    let out = through_trustrun(&world, Some("-Dtrustrun.marker=kept"))
        .output()
        .unwrap();
    assert_ok(&out, "200");
    assert!(String::from_utf8_lossy(&out.stdout).contains("marker=kept"));
    // A trust store of their own without the root: it stays theirs (and Java fails, as it did).
    let theirs = world.cache.path().join("theirs.p12");
    run_ok(
        Command::new("keytool")
            .args([
                "-genkeypair",
                "-alias",
                "x",
                "-keyalg",
                "EC",
                "-dname",
                "CN=x",
            ])
            .args([
                "-storetype",
                "PKCS12",
                "-storepass",
                "changeit",
                "-keystore",
            ])
            .arg(&theirs),
    );
    let options = format!(
        "-Djavax.net.ssl.trustStore={} -Djavax.net.ssl.trustStorePassword=changeit",
        theirs.display()
    );
    let out = through_trustrun(&world, Some(&options))
        .arg("-v")
        .output()
        .unwrap();
    assert_pkix_failure(&out);
    assert_eq!(store_named(&out), Some(theirs.clone()));
    // And with the root in it, theirs passes.
    run_ok(
        Command::new("keytool")
            .args(["-importcert", "-noprompt", "-alias", "corp", "-file"])
            .arg(&world.pki.root_pem)
            .args([
                "-storetype",
                "PKCS12",
                "-storepass",
                "changeit",
                "-keystore",
            ])
            .arg(&theirs),
    );
    let mut cmd = world.trustrun();
    cmd.env("JAVA_TOOL_OPTIONS", &options)
        .arg("-v")
        .args(java_args(&world));
    let out = cmd.output().unwrap();
    assert_ok(&out, "200");
    assert_eq!(store_named(&out), Some(theirs));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("JAVA_TOOL_OPTIONS already chooses a javax.net.ssl.trustStore"),
        "said under -v: {}",
        output_text(&out)
    );
}

#[test]
fn leave_alone_leaves_java_to_its_own_trust() {
    let world = World::new();
    let config = world.cache.path().join("config.toml");
    fs::write(&config, "leave_alone = [\"JAVA_TOOL_OPTIONS\"]\n").unwrap();
    let out = through_trustrun(&world, None)
        .env("TRUSTRUN_CONFIG", &config)
        .output()
        .unwrap();
    assert_pkix_failure(&out);
    assert_eq!(store_named(&out), None);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("Picked up JAVA_TOOL_OPTIONS"));
}

#[test]
fn a_store_that_went_missing_is_written_again_before_it_is_named() {
    let world = World::new();
    let out = through_trustrun(&world, None).output().unwrap();
    assert_ok(&out, "200");
    let store = store_named(&out).unwrap();
    // The store gone and its bundle touched (so its stamp no longer matches): the bundle is
    // checked, and the store written again before any JVM is pointed at it.
    fs::remove_file(&store).unwrap();
    let bundle = store.with_extension("pem");
    let text = fs::read(&bundle).unwrap();
    fs::write(&bundle, &text).unwrap();
    let out = through_trustrun(&world, None).output().unwrap();
    assert_ok(&out, "200");
    assert_eq!(store_named(&out).as_deref(), Some(store.as_path()));
    assert!(store.is_file());
    // The cold path cannot write the store where it belongs (a directory in the way): the run
    // goes on with a cache that can (the fallback), never naming a store that is not there.
    let other = World::new();
    let first = through_trustrun(&other, None).output().unwrap();
    let store = store_named(&first).unwrap();
    for entry in fs::read_dir(other.cache.path().join("index")).unwrap() {
        fs::remove_file(entry.unwrap().path()).unwrap();
    }
    fs::remove_file(&store).unwrap();
    fs::create_dir(&store).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let out = through_trustrun(&other, None)
        .env("TMPDIR", tmp.path())
        .output()
        .unwrap();
    let text = output_text(&out);
    if let Some(named) = store_named(&out) {
        assert!(
            named.is_file(),
            "{} named but not there:\n{text}",
            named.display()
        );
        assert_ok(&out, "200");
    } else {
        // No cache could hold it: the program ran untouched, as without trustrun.
        assert_pkix_failure(&out);
    }
}

/// `trustrun env` is for shells, CI jobs and .env files, where every JVM would print "Picked up
/// JAVA_TOOL_OPTIONS": it leaves the variable out (docs/java.md says why), while the run sets it.
#[test]
fn env_leaves_java_tool_options_out() {
    let world = World::new();
    let out = world
        .trustrun()
        .args(["env", "--format", "json", "--ca"])
        .arg(&world.pki.root_pem)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(doc.get("SSL_CERT_FILE").is_some(), "{doc}");
    assert!(doc.get("JAVA_TOOL_OPTIONS").is_none(), "{doc}");
}

/// A container engine CLI hands variables into containers (`-e JAVA_TOOL_OPTIONS`, compose's
/// `environment: [JAVA_TOOL_OPTIONS]`), where a host path names no file: the engine gets the
/// caller's own value back, whether trustrun runs it or its docker shim does inside a run.
#[cfg(unix)]
#[test]
fn a_container_engine_never_gets_a_host_trust_store() {
    use std::os::unix::fs::PermissionsExt;
    let world = World::new();
    let bin = tempfile::tempdir().unwrap();
    let docker = bin.path().join("docker");
    fs::write(&docker, "#!/bin/sh\necho \"engine=[$JAVA_TOOL_OPTIONS]\"\n").unwrap();
    fs::set_permissions(&docker, fs::Permissions::from_mode(0o755)).unwrap();
    let path = std::env::join_paths(
        std::iter::once(bin.path().to_owned())
            .chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
    )
    .unwrap();
    let run = |options: Option<&str>, args: &[&str]| {
        let mut cmd = world.trustrun();
        cmd.env("PATH", &path).env_remove("JAVA_TOOL_OPTIONS");
        if let Some(v) = options {
            cmd.env("JAVA_TOOL_OPTIONS", v);
        }
        let out = cmd.args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert!(run(None, &["docker", "ps"]).contains("engine=[]"));
    assert!(run(Some("-Xmx1g"), &["docker", "ps"]).contains("engine=[-Xmx1g]"));
    // Inside a run, through the docker shim: the program saw the store, the engine does not.
    let nested = run(
        Some("-Xmx1g"),
        &[
            "sh",
            "-c",
            "echo \"program=[$JAVA_TOOL_OPTIONS]\"; docker ps",
        ],
    );
    assert!(
        nested.contains("program=[-Xmx1g -Djavax.net.ssl.trustStore="),
        "{nested}"
    );
    assert!(nested.contains("engine=[-Xmx1g]"), "{nested}");
}
