//! Java's trust store in containers, an opt-in (`TRUSTRUN_CONTAINERS_JAVA=1`, config
//! `containers_java = true`): with it on, a container created through trustrun has the run's
//! PKCS#12 store mounted beside the bundle, readable by a non-root user, and `JAVA_TOOL_OPTIONS`
//! naming it, unless the user or the image sets `JAVA_TOOL_OPTIONS`; with it off (the control,
//! and the default) neither. Against the real local engine (`.ci/run` starts dockerd).
//!
//! No JVM is in these images (no registry here, and the host's JDK with its libraries would be a
//! large import): the store is checked without one, byte for byte against the host's store,
//! which `tests/java.rs` proves a JDK's `keytool` and `HttpClient` accept. The image is the
//! host's `dash` and `cat` and their libraries, imported with `docker import`.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::common::*;

const STORE_TARGET: &str = "/etc/trustrun/java-truststore.p12";
const IMAGE_OPTIONS: &str = "-Dfrom.the.image=1";

/// `dash` as `/bin/sh`, `cat`, their libraries; `with_env` adds an image config `ENV`. Named by
/// content, so reruns reuse it.
fn image(with_env: bool) -> String {
    static BASE: OnceLock<String> = OnceLock::new();
    let base = BASE.get_or_init(|| {
        imported_image(
            "trustrun-test-sh",
            &["/bin/sh", "/bin/cat"],
            &[],
            &[(
                "trustrun-test-sh-java-env",
                &format!("--change 'ENV JAVA_TOOL_OPTIONS={IMAGE_OPTIONS}'"),
            )],
        )
    });
    if with_env {
        format!("trustrun-test-sh-java-env:{base}")
    } else {
        format!("trustrun-test-sh:{base}")
    }
}

/// What the container says: `JAVA_TOOL_OPTIONS` (or `unset`) on the first line of stderr, and on
/// stdout the bytes of the file its `javax.net.ssl.trustStore` names (read by the container's
/// user); `STORE_TARGET`'s presence on the second line of stderr.
const REPORT: &str = r#"
echo "${JAVA_TOOL_OPTIONS-unset}" >&2
if [ -e /etc/trustrun/java-truststore.p12 ]; then echo present >&2; else echo absent >&2; fi
for o in $JAVA_TOOL_OPTIONS; do
  case "$o" in -Djavax.net.ssl.trustStore=*) cat "${o#*=}" || exit 3;; esac
done
"#;

struct Lab {
    pki: Pki,
    cache: tempfile::TempDir,
    config: tempfile::TempDir,
    containers: Vec<String>,
}

impl Lab {
    fn new() -> Lab {
        let lab = Lab {
            pki: Pki::build_for(ROOT_CN, &["localhost"], |_| {}),
            cache: tempfile::tempdir().unwrap(),
            config: tempfile::tempdir().unwrap(),
            containers: Vec::new(),
        };
        lab.configure("");
        lab
    }

    /// Our own config file, so the developer's cannot turn the setting on.
    fn configure(&self, text: &str) {
        fs::write(self.config.path().join("config.toml"), text).unwrap();
    }

    fn trustrun(&self) -> Command {
        let mut cmd = Command::new(trustrun_bin());
        clean(&mut cmd, self.cache.path())
            .env_remove("DOCKER_HOST")
            .env_remove("DOCKER_CONTEXT")
            .env_remove("JAVA_TOOL_OPTIONS")
            .env("TRUSTRUN_CONFIG", self.config.path().join("config.toml"))
            .env("TRUSTRUN_CA", &self.pki.root_pem);
        cmd
    }

    /// `trustrun [env] docker run --name N [extra] IMAGE sh -c REPORT` as user nobody.
    fn report(&mut self, java_env: Option<&str>, extra: &[&str], image: &str) -> (Output, String) {
        static N: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "trustrun-test-java-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        );
        self.containers.push(name.clone());
        let mut cmd = self.trustrun();
        if let Some(v) = java_env {
            cmd.env("TRUSTRUN_CONTAINERS_JAVA", v);
        }
        cmd.args(["docker", "run", "--name", &name, "--network", "none"])
            .args(["--user", "65534:65534"])
            .args(extra)
            .args([image, "/bin/sh", "-c", REPORT]);
        (cmd.output().unwrap(), name)
    }

    /// The run's private store, and its public copy.
    fn stores(&self) -> (PathBuf, PathBuf) {
        let bundle = run_ok_stdout(self.trustrun().arg("bundle"));
        let private = Path::new(bundle.trim()).with_extension("p12");
        let public = self
            .cache
            .path()
            .join("public")
            .join(private.file_name().unwrap());
        (private, public)
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for c in &self.containers {
            let _ = docker().args(["rm", "-f", c]).output();
        }
    }
}

fn said(out: &Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| !l.starts_with("trustrun"))
        .map(str::to_owned)
        .collect()
}

/// The container's mounts: (destination, read-write).
fn mounts(container: &str) -> Vec<(String, bool)> {
    let out = run_ok_stdout(docker().args([
        "inspect",
        "--format",
        "{{range .Mounts}}{{.Destination}} {{.RW}}\n{{end}}",
        container,
    ]));
    out.lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(d, rw)| (d.to_owned(), rw == "true"))
        .collect()
}

#[test]
fn a_container_gets_the_java_store_only_when_asked() {
    let mut lab = Lab::new();
    // Off (the default, and the control): the bundle, but no store and no variable.
    let (off, name) = lab.report(None, &[], &image(false));
    assert!(off.status.success(), "{}", output_text(&off));
    assert_eq!(said(&off), ["unset", "absent"], "{}", output_text(&off));
    assert!(off.stdout.is_empty());
    let bundle_only: Vec<String> = mounts(&name).into_iter().map(|(d, _)| d).collect();
    assert_eq!(bundle_only, ["/etc/trustrun/ca-bundle.pem"]);

    // On: nobody reads the file JAVA_TOOL_OPTIONS names, and it is the host's store.
    let (on, name) = lab.report(Some("1"), &[], &image(false));
    assert!(on.status.success(), "{}", output_text(&on));
    assert_eq!(
        said(&on),
        [
            format!(
                "-Djavax.net.ssl.trustStore={STORE_TARGET} -Djavax.net.ssl.trustStoreType=PKCS12"
            ),
            "present".to_owned()
        ],
        "{}",
        output_text(&on)
    );
    let (private, public) = lab.stores();
    let host = fs::read(&private).unwrap();
    assert!(host.len() > 100, "{}", private.display());
    assert_eq!(on.stdout, host, "the container's store is the host's");
    assert_eq!(fs::read(&public).unwrap(), host);
    assert_eq!(
        fs::metadata(&public).unwrap().permissions().mode() & 0o777,
        0o644
    );
    // The private store is not what is mounted: nobody could not read it.
    assert_eq!(
        fs::metadata(&private).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let mut on_mounts = mounts(&name);
    on_mounts.sort();
    assert_eq!(
        on_mounts,
        [
            ("/etc/trustrun/ca-bundle.pem".to_owned(), false),
            (STORE_TARGET.to_owned(), false)
        ]
    );

    // Explicitly off, by the one boolean rule.
    let (no, _) = lab.report(Some("no"), &[], &image(false));
    assert_eq!(said(&no), ["unset", "absent"], "{}", output_text(&no));
}

#[test]
fn the_users_and_the_images_java_tool_options_are_kept_in_a_container() {
    let mut lab = Lab::new();
    lab.configure("containers_java = true\n");
    // The user's own: kept, and the store is still there for their options to name.
    let (users, _) = lab.report(None, &["-e", "JAVA_TOOL_OPTIONS=-Xmx64m"], &image(false));
    assert!(users.status.success(), "{}", output_text(&users));
    assert_eq!(
        said(&users),
        ["-Xmx64m", "present"],
        "{}",
        output_text(&users)
    );
    // The image's own: kept.
    let (image_own, _) = lab.report(None, &[], &image(true));
    assert!(image_own.status.success(), "{}", output_text(&image_own));
    assert_eq!(
        said(&image_own),
        [IMAGE_OPTIONS, "present"],
        "{}",
        output_text(&image_own)
    );
    // A mount of the user's at the store's path: theirs, trustrun stays out and says so.
    let own = lab.config.path().join("own.p12");
    fs::write(&own, "not ours").unwrap();
    fs::set_permissions(&own, fs::Permissions::from_mode(0o644)).unwrap();
    let volume = format!("{}:{STORE_TARGET}:ro", own.display());
    let (mounted, _) = lab.report(None, &["-v", &volume], &image(false));
    assert!(mounted.status.success(), "{}", output_text(&mounted));
    assert_eq!(
        said(&mounted),
        ["unset", "present"],
        "{}",
        output_text(&mounted)
    );
    assert!(
        String::from_utf8_lossy(&mounted.stderr).contains("Java trust store"),
        "{}",
        output_text(&mounted)
    );
}

#[test]
fn standalone_docker_compose_mounts_and_names_the_store_when_asked() {
    let lab = Lab::new();
    lab.configure("containers_java = true\n");
    // `docker logs` does not carry binary output intact: the container reads the store, and
    // the engine says which file it binds there.
    let compose_report = REPORT.replace(
        r#"cat "${o#*=}" || exit 3"#,
        r#"cat "${o#*=}" >/dev/null && echo readable >&2 || exit 3"#,
    );
    assert_ne!(compose_report, REPORT);
    let dir = lab.config.path().join("project");
    fs::create_dir_all(&dir).unwrap();
    let service = |name: &str, extra: &str| {
        format!(
            "  {name}:\n    image: {}\n    network_mode: none\n    user: \"65534:65534\"\n{extra}    command: [\"/bin/sh\", \"-c\", {}]\n",
            image(false),
            serde_json::to_string(&compose_report.replace('$', "$$")).unwrap()
        )
    };
    fs::write(
        dir.join("docker-compose.yml"),
        format!(
            "version: \"3.7\"\nservices:\n{}{}",
            service("plain", ""),
            service(
                "own",
                "    environment:\n      JAVA_TOOL_OPTIONS: -Xmx64m\n"
            )
        ),
    )
    .unwrap();
    let project = format!("trustrunjava{}", std::process::id());
    struct Down<'a>(&'a Path, &'a str);
    impl Drop for Down<'_> {
        fn drop(&mut self) {
            let _ = Command::new("docker-compose")
                .current_dir(self.0)
                .args(["-p", self.1, "down", "--remove-orphans"])
                .output();
        }
    }
    let _down = Down(&dir, &project);
    let mut up = lab.trustrun();
    up.current_dir(&dir)
        .args(["docker-compose", "-p", &project, "up", "--no-color"]);
    let out = up.output().unwrap();
    assert!(out.status.success(), "{}", output_text(&out));
    let logs = |svc: &str| {
        let id = run_ok_stdout(
            Command::new("docker-compose")
                .current_dir(&dir)
                .args(["-p", &project, "ps", "-q", svc]),
        );
        let id = id.trim().to_owned();
        (docker().args(["logs", &id]).output().unwrap(), id)
    };
    let (plain, id) = logs("plain");
    assert_eq!(
        said(&plain),
        [
            format!(
                "-Djavax.net.ssl.trustStore={STORE_TARGET} -Djavax.net.ssl.trustStoreType=PKCS12"
            ),
            "present".to_owned(),
            "readable".to_owned()
        ],
        "{}\n{}",
        output_text(&plain),
        output_text(&out)
    );
    let (private, public) = lab.stores();
    assert_eq!(fs::read(&public).unwrap(), fs::read(&private).unwrap());
    let source = run_ok_stdout(docker().args([
        "inspect",
        "--format",
        &format!("{{{{range .Mounts}}}}{{{{if eq .Destination \"{STORE_TARGET}\"}}}}{{{{.Source}}}} {{{{.RW}}}}{{{{end}}}}{{{{end}}}}"),
        &id,
    ]));
    assert_eq!(source.trim(), format!("{} false", public.display()));
    let (own, _) = logs("own");
    assert_eq!(said(&own), ["-Xmx64m", "present"], "{}", output_text(&own));
}
