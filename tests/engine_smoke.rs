//! The private engine the build tests use (`.ci/engine`, tests/common/engine.rs): it is the modern
//! one (26.1 with the compose v2 and buildx plugins), and a BuildKit build on host networking
//! reaches the test server in the engine's namespace, fails on the test corporate root (the
//! control), and trusts it when the root comes in through a named build context bind-mounted into
//! the RUN: the mechanism issue 21's trusted builds stand on, here with a hand-written Dockerfile.
//! The image built that way has neither the root nor the CA variable.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::common::engine::{Engine, engine};
use crate::common::*;

/// The name the build resolves with --add-host: nothing outside the namespace answers it.
const HOST: &str = "downloads.corp.test";

/// `run_ok_stdout`, trimmed: the ids and names the engine prints.
fn stdout_ok(cmd: &mut Command) -> String {
    run_ok_stdout(cmd).trim().to_owned()
}

/// Image tags this test made, removed at the end.
struct Images<'e> {
    engine: &'e Engine,
    tags: Vec<String>,
}

impl Images<'_> {
    fn tag(&mut self, what: &str) -> String {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::SeqCst);
        let tag = format!("trustrun-test-{what}:{}-{n}", std::process::id());
        self.tags.push(tag.clone());
        tag
    }
}

impl Drop for Images<'_> {
    fn drop(&mut self) {
        for tag in &self.tags {
            let _ = self.engine.docker().args(["rmi", "-f", tag]).output();
        }
    }
}

/// `docker build` (BuildKit, plain progress) on host networking with HOST resolved to loopback.
fn build(engine: &Engine, context: &Path, tag: &str, extra: &[&str]) -> Output {
    engine
        .docker()
        .args(["build", "--progress", "plain", "--network", "host"])
        .args(["--add-host", &format!("{HOST}:127.0.0.1"), "-t", tag])
        .args(extra)
        .arg(context)
        .output()
        .unwrap()
}

#[test]
fn the_private_engine_is_the_modern_one_with_its_plugins() {
    let engine = engine();
    let server = stdout_ok(
        engine
            .docker()
            .args(["version", "--format", "{{.Server.Version}}"]),
    );
    assert!(server.starts_with("26."), "server version {server}");
    let compose = stdout_ok(engine.docker().args(["compose", "version", "--short"]));
    assert!(
        compose.starts_with("2."),
        "compose plugin version {compose}"
    );
    let buildx = stdout_ok(engine.docker().args(["buildx", "version"]));
    assert!(buildx.contains(" 0.1"), "buildx plugin version {buildx}");
    // The plugins the client finds are the ones the harness names, and `docker` first on PATH
    // with bin_dir() is the same 26.1 client.
    let direct = stdout_ok(Command::new(engine.compose_plugin()).arg("version"));
    assert!(direct.contains(&compose), "{direct} vs {compose}");
    let direct = stdout_ok(Command::new(engine.buildx_plugin()).arg("version"));
    assert_eq!(direct, buildx);
    let path = std::env::join_paths(
        std::iter::once(engine.bin_dir().to_path_buf())
            .chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
    )
    .unwrap();
    let mut by_name = Command::new("docker");
    engine.client_env(&mut by_name).env("PATH", path);
    let client = stdout_ok(by_name.args(["version", "--format", "{{.Client.Version}}"]));
    let named = stdout_ok(Command::new(engine.docker_bin()).args([
        "version",
        "--format",
        "{{.Client.Version}}",
    ]));
    assert!(
        client.starts_with("26.") && client == named,
        "{client} vs {named}"
    );
    let base = stdout_ok(engine.docker().args([
        "run",
        "--rm",
        "--network",
        "none",
        engine.base_image(),
        "sh",
        "-c",
        ". /etc/os-release; echo $VERSION_CODENAME; for p in curl python3 tmux; do command -v $p; done",
    ]));
    assert_eq!(
        base.lines().collect::<Vec<_>>(),
        [
            "trixie",
            "/usr/bin/curl",
            "/usr/bin/python3",
            "/usr/bin/tmux"
        ]
    );
}

/// A server started in the namespace answers a program started there (`enter`), and is not
/// reachable from the host: the test traffic stays in the namespace.
#[test]
fn the_namespace_server_answers_only_inside_the_namespace() {
    let engine = engine();
    let pki = Pki::corporate();
    let server = engine.start_server(pki.server_config.clone());
    let curl = |inside: bool| {
        let mut cmd = Command::new("curl");
        clean(&mut cmd, Path::new("/nonexistent"));
        cmd.args(["-sS", "--max-time", "10", "--cacert"])
            .arg(&pki.root_pem)
            .arg(format!("{}/inside", server.url));
        if inside {
            engine.enter(&mut cmd);
        }
        cmd.output().unwrap()
    };
    // From the host the port is closed (curl's exit 7), or at worst some host service's: never
    // this server.
    let outside = curl(false);
    assert!(
        !outside.status.success() && server.answered() == 0,
        "the namespace's server answered from the host:\n{}",
        output_text(&outside)
    );
    let inside = curl(true);
    let text = output_text(&inside);
    assert!(
        inside.status.success() && text.contains(r#""path":"/inside""#),
        "{text}"
    );
    assert_eq!(server.answered(), 1);
}

#[test]
fn a_build_trusts_a_root_only_from_a_named_context_mounted_into_its_run() {
    let engine = engine();
    let pki = Pki::build_for(ROOT_CN, &[HOST], |_| {});
    let server = engine.start_server(pki.server_config.clone());
    let mut images = Images {
        engine,
        tags: Vec::new(),
    };
    let tmp = tempfile::tempdir().unwrap();
    let fetch = format!(
        "curl -sS --max-time 20 https://{HOST}:{}/fetched-at-build -o /fetched.json",
        server.port
    );

    // The build context: a Dockerfile as its author wrote it.
    let context = tmp.path().join("context");
    fs::create_dir(&context).unwrap();
    let base = engine.base_image();
    fs::write(
        context.join("Dockerfile"),
        format!("FROM {base}\nRUN {fetch}\n"),
    )
    .unwrap();

    // Control: the RUN reaches the server in the namespace and curl refuses its chain.
    let plain = build(engine, &context, &images.tag("plain"), &[]);
    let text = output_text(&plain);
    assert!(!plain.status.success(), "expected a failed build:\n{text}");
    assert!(
        text.contains("unable to get local issuer certificate") && text.contains("exit code: 60"),
        "expected curl's certificate failure (exit 60):\n{text}"
    );
    assert!(
        server.saw_unknown_ca_alert(),
        "the build did not reach the namespace's server:\n{text}"
    );

    // The root in a directory of its own (BuildKit uploads the whole named context), and a
    // derived Dockerfile elsewhere: the CA variable as a build ARG (RUN sees it, the image
    // config does not) and the root bind-mounted read-only into the RUN from the named context.
    let ca_dir = tmp.path().join("ca");
    fs::create_dir(&ca_dir).unwrap();
    fs::copy(&pki.root_pem, ca_dir.join("ca.pem")).unwrap();
    let derived = tmp.path().join("derived.Dockerfile");
    fs::write(
        &derived,
        format!(
            "FROM {base}\n\
             ARG CURL_CA_BUNDLE=/run/trustrun/ca.pem\n\
             RUN --mount=type=bind,from=trustrun-ca,source=ca.pem,target=/run/trustrun/ca.pem,readonly {fetch}\n"
        ),
    )
    .unwrap();
    let trusted_tag = images.tag("trusted");
    let context_arg = format!("trustrun-ca={}", ca_dir.display());
    let derived_arg = derived.display().to_string();
    let trusted = build(
        engine,
        &context,
        &trusted_tag,
        &[
            "--no-cache",
            "--build-context",
            &context_arg,
            "-f",
            &derived_arg,
        ],
    );
    assert!(
        trusted.status.success(),
        "expected the trusted build to pass:\n{}",
        output_text(&trusted)
    );
    assert!(server.answered() >= 1, "the server answered no request");

    // The RUN's download is in the image; the root and the variable are not.
    let fetched = stdout_ok(engine.docker().args([
        "run",
        "--rm",
        "--network",
        "none",
        &trusted_tag,
        "sh",
        "-c",
        "cat /fetched.json; test ! -e /run/trustrun && echo no-bundle-dir",
    ]));
    assert!(
        fetched.contains(r#""path":"/fetched-at-build""#) && fetched.ends_with("no-bundle-dir"),
        "{fetched}"
    );
    let env_of = |image: &str| {
        stdout_ok(engine.docker().args([
            "image",
            "inspect",
            "--format",
            "{{json .Config.Env}}",
            image,
        ]))
    };
    let env = env_of(&trusted_tag);
    assert!(!env.contains("CURL_CA_BUNDLE"), "{env}");
    assert_eq!(
        env,
        env_of(base),
        "the build changed the image's environment"
    );
}
