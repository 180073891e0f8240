//! Containers: a TLS client inside a container trusts the corporate root when the container was
//! created through trustrun (`docker run`, `docker create` + `exec`, standalone `docker-compose`,
//! the docker shim), and nothing else changes. Against the real local engine: `.ci/run` starts
//! dockerd. The test image is the host's own curl and its libraries with Debian's public CA
//! store, imported with `docker import` (no registry here); containers use the host's network,
//! and the test server answers on loopback for a public name mapped with `--add-host`.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::common::*;

const PUBLIC_NAME: &str = "api.openai.com";
const BUNDLE_TARGET: &str = "/etc/trustrun/ca-bundle.pem";

/// The test image: curl, sleep, their libraries and Debian's public CA store. Built once per
/// host curl, named by its content so reruns reuse it.
fn image() -> &'static str {
    static IMAGE: OnceLock<String> = OnceLock::new();
    IMAGE.get_or_init(|| {
        let digest = imported_image(
            "trustrun-test-curl",
            &["/usr/bin/curl", "/usr/bin/sleep"],
            &["/etc/ssl/certs/ca-certificates.crt"],
            &[],
        );
        format!("trustrun-test-curl:{digest}")
    })
}

/// A test corporate PKI whose leaf names the public host, a server for it, a private cache, and
/// the containers and compose projects to remove at the end.
struct Lab {
    pki: Pki,
    server: Server,
    cache: tempfile::TempDir,
    tmp: tempfile::TempDir,
    containers: Vec<String>,
    projects: Vec<(PathBuf, String)>,
    /// Images a test had compose build.
    images: Vec<String>,
}

impl Lab {
    fn new() -> Lab {
        let pki = Pki::build_for(ROOT_CN, &[PUBLIC_NAME, "localhost", "127.0.0.1"], |_| {});
        let server = Server::start(pki.server_config.clone());
        Lab {
            pki,
            server,
            cache: tempfile::tempdir().unwrap(),
            tmp: tempfile::tempdir().unwrap(),
            containers: Vec::new(),
            projects: Vec::new(),
            images: Vec::new(),
        }
    }

    fn url(&self) -> String {
        format!("https://{PUBLIC_NAME}:{}/v1/models", self.server.port)
    }

    /// The network options that keep traffic on loopback.
    fn net(&self) -> Vec<String> {
        vec![
            "--network".into(),
            "host".into(),
            "--add-host".into(),
            format!("{PUBLIC_NAME}:127.0.0.1"),
        ]
    }

    fn curl(&self) -> Vec<String> {
        vec![
            "/usr/bin/curl".into(),
            "-sS".into(),
            "--max-time".into(),
            "20".into(),
            self.url(),
        ]
    }

    /// A cleaned command (no CA presets, this box's cache), trusting the test root via TRUSTRUN_CA.
    fn cmd(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new(program);
        clean(&mut cmd, self.cache.path())
            .env_remove("DOCKER_HOST")
            .env_remove("DOCKER_CONTEXT")
            .env("TRUSTRUN_CA", &self.pki.root_pem);
        cmd
    }

    fn trustrun(&self) -> Command {
        self.cmd(trustrun_bin())
    }

    fn name(&mut self, what: &str) -> String {
        static N: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "trustrun-test-{what}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        );
        self.containers.push(name.clone());
        name
    }

    /// `docker run --rm <net> [extra] IMAGE curl URL`, through `runner` (docker itself, trustrun...).
    fn run_curl(&self, mut runner: Command, extra: &[&str]) -> Output {
        runner
            .args(["run", "--rm"])
            .args(self.net())
            .args(extra)
            .arg(image())
            .args(self.curl());
        runner.output().unwrap()
    }

    fn env_of(&self, container: &str) -> Vec<String> {
        let out = run_ok_stdout(docker().args([
            "inspect",
            "--format",
            "{{json .Config.Env}}",
            container,
        ]));
        serde_json::from_str(out.trim()).unwrap()
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for c in &self.containers {
            let _ = docker().args(["rm", "-f", c]).output();
        }
        for (dir, project) in &self.projects {
            let _ = Command::new("docker-compose")
                .current_dir(dir)
                .args(["-p", project, "down", "--remove-orphans"])
                .output();
        }
        for image in &self.images {
            let _ = docker().args(["rmi", "-f", image]).output();
        }
    }
}

/// curl in the container refused the chain: exit 60, "unable to get local issuer certificate".
fn assert_curl_certificate_failure(out: &Output) {
    let text = output_text(out);
    assert_eq!(
        out.status.code(),
        Some(60),
        "expected curl's exit 60:\n{text}"
    );
    assert!(
        text.contains("unable to get local issuer certificate"),
        "expected a certificate failure:\n{text}"
    );
}

fn assert_curl_ok(out: &Output) {
    let text = output_text(out);
    assert_eq!(out.status.code(), Some(0), "expected success:\n{text}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(r#""ok":true"#),
        "expected the server's answer:\n{text}"
    );
}

#[test]
fn docker_run_trusts_the_corporate_root_in_the_container() {
    let b = Lab::new();
    let control = b.run_curl(b.cmd("docker"), &[]);
    assert_curl_certificate_failure(&control);
    let mut tr = b.trustrun();
    tr.arg("docker");
    let out = b.run_curl(tr, &[]);
    assert_curl_ok(&out);
    assert_eq!(b.server.answered(), 1);
}

#[test]
fn docker_exec_inherits_the_trust_of_a_container_created_under_trustrun() {
    let mut b = Lab::new();
    let plain = b.name("exec-plain");
    let trusted = b.name("exec-trusted");
    let start = |runner: Command, name: &str| {
        let mut runner = runner;
        runner
            .args(["run", "-d", "--name", name])
            .args(b.net())
            .args([image(), "/usr/bin/sleep", "300"]);
        run_ok_stdout(&mut runner);
    };
    start(b.cmd("docker"), &plain);
    let mut tr = b.trustrun();
    tr.arg("docker");
    start(tr, &trusted);
    // `docker exec` itself without trustrun: the container carries the variables.
    let exec = |name: &str| {
        docker()
            .args(["exec", name])
            .args(b.curl())
            .output()
            .unwrap()
    };
    assert_curl_certificate_failure(&exec(&plain));
    assert_curl_ok(&exec(&trusted));
}

#[test]
fn a_non_root_container_user_reads_the_bundle() {
    let b = Lab::new();
    let user = ["--user", "65534:65534"];
    assert_curl_certificate_failure(&b.run_curl(b.cmd("docker"), &user));
    let mut tr = b.trustrun();
    tr.arg("docker");
    assert_curl_ok(&b.run_curl(tr, &user));
    // What it read: the public copy of the run's bundle, named like it, 0644.
    let private = run_ok_stdout(b.trustrun().arg("bundle"));
    let private = private.trim();
    let copy = b
        .cache
        .path()
        .join("public")
        .join(Path::new(private).file_name().unwrap());
    let mode = fs::metadata(&copy).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o644, "{}", copy.display());
    assert_eq!(fs::read(&copy).unwrap(), fs::read(private).unwrap());
    // Why the copy: the cache's own bundle (0600) cannot be read by that user.
    assert_eq!(
        fs::metadata(private).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let mount = format!("{private}:/private.pem:ro");
    let out = b.run_curl(
        b.cmd("docker"),
        &[
            "--user",
            "65534:65534",
            "-v",
            &mount,
            "-e",
            "CURL_CA_BUNDLE=/private.pem",
        ],
    );
    assert_eq!(out.status.code(), Some(77), "{}", output_text(&out));
}

#[test]
fn a_program_run_by_trustrun_reaches_docker_through_the_shim() {
    let b = Lab::new();
    let line = format!(
        "docker run --rm {} {} {}",
        b.net().join(" "),
        image(),
        b.curl().join(" ")
    );
    let control = b.cmd("sh").args(["-c", &line]).output().unwrap();
    assert_curl_certificate_failure(&control);
    let out = b.trustrun().args(["sh", "-c", &line]).output().unwrap();
    assert_curl_ok(&out);
    let path = b
        .trustrun()
        .args(["sh", "-c", "command -v docker"])
        .output()
        .unwrap();
    let shim = String::from_utf8_lossy(&path.stdout);
    assert!(
        shim.trim()
            .starts_with(b.cache.path().join("containers").to_str().unwrap()),
        "docker on the child's PATH is {shim}"
    );
}

#[test]
fn trustrun_shim_install_docker() {
    let b = Lab::new();
    let shims = b.tmp.path().join("shims");
    run_ok_stdout(
        b.trustrun()
            .args(["shim", "install", "--dir"])
            .arg(&shims)
            .arg("docker"),
    );
    let path =
        std::env::join_paths([shims.as_path(), Path::new("/usr/bin"), Path::new("/bin")]).unwrap();
    let mut plain = b.cmd("/usr/bin/env");
    plain.env("PATH", "/usr/bin:/bin").arg("docker");
    assert_curl_certificate_failure(&b.run_curl(plain, &[]));
    let mut shimmed = b.cmd("/usr/bin/env");
    shimmed.env("PATH", path).arg("docker");
    assert_curl_ok(&b.run_curl(shimmed, &[]));
}

#[test]
fn standalone_docker_compose_with_two_services() {
    let mut b = Lab::new();
    let dir = b.tmp.path().join("project");
    fs::create_dir_all(&dir).unwrap();
    let service = |name: &str| {
        format!(
            "  {name}:\n    image: {}\n    network_mode: host\n    extra_hosts:\n      - \"{PUBLIC_NAME}:127.0.0.1\"\n    command: [{}]\n",
            image(),
            b.curl()
                .iter()
                .map(|a| format!("\"{a}\""))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    fs::write(
        dir.join("docker-compose.yml"),
        format!(
            "version: \"3.7\"\nservices:\n{}{}",
            service("one"),
            service("two")
        ),
    )
    .unwrap();
    let exit_codes = |project: &str| -> Vec<String> {
        let ids = run_ok_stdout(
            Command::new("docker-compose")
                .current_dir(&dir)
                .args(["-p", project, "ps", "-q"]),
        );
        let ids: Vec<&str> = ids.split_whitespace().collect();
        assert_eq!(ids.len(), 2, "two containers in {project}");
        let codes = run_ok_stdout(
            docker()
                .args(["inspect", "--format", "{{.State.ExitCode}}"])
                .args(&ids),
        );
        codes.split_whitespace().map(str::to_owned).collect()
    };
    // No -f: the default file name in the current directory, as compose finds it.
    let up = |runner: Command, project: &str| {
        let mut runner = runner;
        runner
            .current_dir(&dir)
            .args(["-p", project, "up", "--no-color"]);
        let out = runner.output().unwrap();
        assert!(out.status.success(), "{}", output_text(&out));
        out
    };
    let plain = b.name("plain").replace('-', "");
    b.projects.push((dir.clone(), plain.clone()));
    let control = up(b.cmd("docker-compose"), &plain);
    assert_eq!(
        exit_codes(&plain),
        ["60", "60"],
        "{}",
        output_text(&control)
    );
    assert_eq!(b.server.answered(), 0);
    let trusted = b.name("trusted").replace('-', "");
    b.projects.push((dir.clone(), trusted.clone()));
    let mut tr = b.trustrun();
    tr.arg("docker-compose");
    let out = up(tr, &trusted);
    assert_eq!(exit_codes(&trusted), ["0", "0"], "{}", output_text(&out));
    assert_eq!(b.server.answered(), 2);
}

/// A stand-in `docker` that records each command line (arguments NUL-separated, one per line)
/// and exits 42; `image inspect` answers with an image whose config sets `image_env`. Used where
/// the arguments are the thing under test (remote engines, the compose v2 plugin, proxies).
fn fake_docker(dir: &Path, image_env: &str) -> (PathBuf, PathBuf) {
    let bin = dir.join("fakebin");
    fs::create_dir_all(&bin).unwrap();
    let log = dir.join("calls.log");
    let script = format!(
        "#!/bin/sh\n\
         if [ \"$1 $2\" = \"image inspect\" ]; then echo '[\"PATH=/usr/bin\"{image_env}]'; exit 0; fi\n\
         if [ \"$1\" = compose ] && [ \"$(eval echo \\${{$#}})\" = config ]; then shift; exec docker-compose \"$@\"; fi\n\
         for a in \"$@\"; do printf '%s\\0' \"$a\"; done >> {log}\n\
         echo >> {log}\n\
         exit 42\n",
        log = log.display()
    );
    let file = bin.join("docker");
    fs::write(&file, script).unwrap();
    fs::set_permissions(&file, fs::Permissions::from_mode(0o755)).unwrap();
    (bin, log)
}

fn calls(log: &Path) -> Vec<Vec<String>> {
    fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .map(|l| {
            // Each argument ends in a NUL: the piece after the last one is not an argument.
            let mut args: Vec<String> = l.split('\0').map(str::to_owned).collect();
            args.pop();
            args
        })
        .collect()
}

fn with_path(cmd: &mut Command, first: &Path) {
    let path = std::env::join_paths([first, Path::new("/usr/bin"), Path::new("/bin")]).unwrap();
    cmd.env("PATH", path);
}

#[test]
fn commands_that_create_no_container_pass_through_byte_for_byte() {
    let b = Lab::new();
    let (bin, log) = fake_docker(b.tmp.path(), "");
    let args = [
        "ps",
        "-a",
        "--format",
        "{{.ID}}\t{{.Names}}",
        "--filter",
        "name=späße with spaces",
        "",
    ];
    let mut tr = b.trustrun();
    with_path(&mut tr, &bin);
    let out = tr.arg("docker").args(args).output().unwrap();
    assert_eq!(out.status.code(), Some(42), "{}", output_text(&out));
    assert_eq!(calls(&log), vec![args.map(str::to_owned).to_vec()]);
    // And against the real engine: same output, same exit code.
    let plain = docker()
        .args(["inspect", "trustrun-no-such-container"])
        .output()
        .unwrap();
    let through = b
        .trustrun()
        .args(["docker", "inspect", "trustrun-no-such-container"])
        .output()
        .unwrap();
    assert_eq!(plain.status.code(), Some(1));
    assert_eq!(through.status.code(), plain.status.code());
    assert_eq!(through.stdout, plain.stdout);
    assert_eq!(through.stderr, plain.stderr);
}

#[test]
fn the_users_own_variable_wins_and_the_images_is_kept() {
    let mut b = Lab::new();
    let mine = b.name("mine");
    let ours = b.name("ours");
    run_ok_stdout(b.trustrun().args([
        "docker",
        "create",
        "--name",
        &mine,
        "-e",
        "SSL_CERT_FILE=/mine.pem",
        image(),
        "/usr/bin/sleep",
        "1",
    ]));
    run_ok_stdout(b.trustrun().args([
        "docker",
        "create",
        "--name",
        &ours,
        image(),
        "/usr/bin/sleep",
        "1",
    ]));
    let env_mine = b.env_of(&mine);
    let env_ours = b.env_of(&ours);
    let count = |env: &[String], prefix: &str| env.iter().filter(|e| e.starts_with(prefix)).count();
    assert!(
        env_mine.contains(&"SSL_CERT_FILE=/mine.pem".to_owned()),
        "{env_mine:?}"
    );
    assert_eq!(count(&env_mine, "SSL_CERT_FILE="), 1, "{env_mine:?}");
    assert!(env_mine.contains(&format!("REQUESTS_CA_BUNDLE={BUNDLE_TARGET}")));
    // The control: without the user's -e, the variable is trustrun's.
    assert!(
        env_ours.contains(&format!("SSL_CERT_FILE={BUNDLE_TARGET}")),
        "{env_ours:?}"
    );

    // An image whose config sets a CA variable keeps it (read with `docker image inspect`).
    let tag = format!("{}-own-ca", image());
    let dockerfile = format!("FROM {}\nENV NODE_EXTRA_CA_CERTS=/image.pem\n", image());
    run_ok_stdout(
        Command::new("sh")
            .env("DOCKER_BUILDKIT", "0")
            .args([
                "-c",
                "printf '%s' \"$1\" | docker build -q -t \"$2\" -",
                "sh",
            ])
            .args([&dockerfile, &tag]),
    );
    let own = b.name("own");
    run_ok_stdout(b.trustrun().args([
        "docker",
        "create",
        "--name",
        &own,
        &tag,
        "/usr/bin/sleep",
        "1",
    ]));
    let env_own = b.env_of(&own);
    assert!(
        env_own.contains(&"NODE_EXTRA_CA_CERTS=/image.pem".to_owned()),
        "{env_own:?}"
    );
    assert_eq!(count(&env_own, "NODE_EXTRA_CA_CERTS="), 1, "{env_own:?}");
    assert!(env_ours.contains(&format!("NODE_EXTRA_CA_CERTS={BUNDLE_TARGET}")));
}

#[test]
fn a_remote_engine_is_left_alone() {
    let b = Lab::new();
    let (bin, log) = fake_docker(b.tmp.path(), "");
    let args = ["run", "--rm", "alpine", "true"];
    let run = |docker_host: Option<&str>| {
        let mut tr = b.trustrun();
        with_path(&mut tr, &bin);
        if let Some(h) = docker_host {
            tr.env("DOCKER_HOST", h);
        }
        tr.arg("docker").args(args).output().unwrap()
    };
    let remote = run(Some("tcp://192.0.2.1:2375"));
    assert_eq!(remote.status.code(), Some(42));
    assert!(
        String::from_utf8_lossy(&remote.stderr)
            .contains("DOCKER_HOST=tcp://192.0.2.1:2375 is not this machine's engine"),
        "{}",
        output_text(&remote)
    );
    assert_eq!(calls(&log), vec![args.map(str::to_owned).to_vec()]);
    // The control: the local engine's command line is changed.
    let _ = fs::remove_file(&log);
    run(Some("unix:///var/run/docker.sock"));
    let local = calls(&log);
    assert!(local[0].iter().any(|a| a == "--mount"), "{local:?}");
}

#[test]
fn the_opt_outs_leave_containers_alone() {
    let b = Lab::new();
    let mut flag = b.trustrun();
    flag.args(["--no-containers", "docker"]);
    assert_curl_certificate_failure(&b.run_curl(flag, &[]));
    // Through a program: the child is told too, so its docker calls stay untouched.
    let line = format!(
        "docker run --rm {} {} {}",
        b.net().join(" "),
        image(),
        b.curl().join(" ")
    );
    let nested = b
        .trustrun()
        .args(["--no-containers", "sh", "-c", &line])
        .output()
        .unwrap();
    assert_curl_certificate_failure(&nested);

    let (bin, log) = fake_docker(b.tmp.path(), "");
    let config = b.tmp.path().join("config.toml");
    fs::write(&config, "containers = false\n").unwrap();
    for (name, value) in [
        ("TRUSTRUN_CONTAINERS", "0"),
        ("TRUSTRUN_CONFIG", config.to_str().unwrap()),
    ] {
        let _ = fs::remove_file(&log);
        let mut tr = b.trustrun();
        with_path(&mut tr, &bin);
        tr.env(name, value).args(["docker", "run", "img"]);
        assert_eq!(tr.output().unwrap().status.code(), Some(42));
        assert_eq!(
            calls(&log),
            vec![vec!["run".to_owned(), "img".to_owned()]],
            "{name}"
        );
    }
    // The control: without an opt-out the same command is changed.
    let _ = fs::remove_file(&log);
    let mut tr = b.trustrun();
    with_path(&mut tr, &bin);
    tr.args(["docker", "run", "img"]).output().unwrap();
    assert_ne!(calls(&log), vec![vec!["run".to_owned(), "img".to_owned()]]);
    // A value that means neither is an error naming the variable.
    let bad = b
        .trustrun()
        .env("TRUSTRUN_CONTAINERS", "maybe")
        .args(["docker", "ps"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("TRUSTRUN_CONTAINERS"));
}

#[test]
fn loopback_proxies_reach_bridge_containers_through_the_gateway() {
    let b = Lab::new();
    let (bin, log) = fake_docker(b.tmp.path(), "");
    let run = |extra: &[&str]| {
        let _ = fs::remove_file(&log);
        let mut tr = b.trustrun();
        with_path(&mut tr, &bin);
        tr.env("HTTPS_PROXY", "http://127.0.0.1:3128")
            .env("NO_PROXY", "localhost,.corp")
            .args(["docker", "run"])
            .args(extra)
            .arg("img")
            .output()
            .unwrap();
        calls(&log).remove(0)
    };
    let has = |args: &[String], pair: [&str; 2]| {
        args.windows(2).any(|w| w[0] == pair[0] && w[1] == pair[1])
    };
    let bridge = run(&[]);
    assert!(
        has(
            &bridge,
            ["-e", "HTTPS_PROXY=http://host.docker.internal:3128"]
        ),
        "{bridge:?}"
    );
    assert!(
        has(&bridge, ["--add-host", "host.docker.internal:host-gateway"]),
        "{bridge:?}"
    );
    assert!(
        has(&bridge, ["-e", "NO_PROXY=localhost,.corp"]),
        "{bridge:?}"
    );
    let host = run(&["--network", "host"]);
    assert!(
        has(&host, ["-e", "HTTPS_PROXY=http://127.0.0.1:3128"]),
        "{host:?}"
    );
    assert!(!host.iter().any(|a| a == "--add-host"), "{host:?}");
    let mine = run(&["-e", "HTTPS_PROXY=http://mine:1"]);
    assert!(
        !mine.iter().any(|a| a.contains("host.docker.internal")),
        "{mine:?}"
    );
}

#[test]
fn docker_compose_v2_gets_the_same_extra_file() {
    let b = Lab::new();
    let (bin, log) = fake_docker(b.tmp.path(), "");
    let dir = b.tmp.path().join("v2");
    fs::create_dir_all(&dir).unwrap();
    fs::write(
        dir.join("compose.yaml"),
        "services:\n  web:\n    image: img\n    environment:\n      SSL_CERT_FILE: /mine.pem\n",
    )
    .unwrap();
    fs::write(
        dir.join("compose.override.yaml"),
        "services:\n  web:\n    command: [\"true\"]\n",
    )
    .unwrap();
    fs::write(
        dir.join("other.yaml"),
        "services:\n  job:\n    image: img\n",
    )
    .unwrap();
    let run = |compose_file: Option<&str>, args: &[&str]| {
        let _ = fs::remove_file(&log);
        let mut tr = b.trustrun();
        with_path(&mut tr, &bin);
        if let Some(f) = compose_file {
            tr.env("COMPOSE_FILE", f);
        }
        let out = tr
            .current_dir(&dir)
            .arg("docker")
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(42), "{}", output_text(&out));
        calls(&log).remove(0)
    };
    let ours_dir = b.cache.path().join("containers/compose");
    let split = |args: &[String]| -> (Vec<String>, String) {
        let last = args.iter().rposition(|a| a == "-f").unwrap();
        (args[..last].to_vec(), args[last + 1].clone())
    };

    // Default names: the main file and its override, then ours, then the subcommand.
    let args = run(None, &["compose", "-p", "x", "up", "-d"]);
    let (head, ours) = split(&args);
    let want = |files: &[&str]| -> Vec<String> {
        let mut v = vec!["compose".to_owned(), "-p".to_owned(), "x".to_owned()];
        for f in files {
            v.push("-f".to_owned());
            v.push(dir.join(f).display().to_string());
        }
        v
    };
    assert_eq!(head, want(&["compose.yaml", "compose.override.yaml"]));
    assert_eq!(args[args.len() - 2..], ["up", "-d"]);
    assert!(Path::new(&ours).starts_with(&ours_dir), "{ours}");
    let doc: serde_json::Value = serde_json::from_str(&fs::read_to_string(&ours).unwrap()).unwrap();
    let web = &doc["services"]["web"];
    assert_eq!(
        web["environment"].get("SSL_CERT_FILE"),
        None,
        "the user's environment: wins"
    );
    assert_eq!(web["environment"]["REQUESTS_CA_BUNDLE"], BUNDLE_TARGET);
    // The public copy of the run's bundle, never the cache's current.pem.
    let bundle = run_ok_stdout(b.trustrun().arg("bundle"));
    let copy = b
        .cache
        .path()
        .join("public")
        .join(Path::new(bundle.trim()).file_name().unwrap());
    // (The config here is v1's, which the stand-in asks for: the long form without the key
    // v1's schema lacks; `compose_v2_...` below sees v2's.)
    assert_eq!(
        web["volumes"][0],
        serde_json::json!({"type": "bind", "source": copy.display().to_string(),
            "target": BUNDLE_TARGET, "read_only": true})
    );

    // COMPOSE_FILE: passed as -f, since -f makes compose ignore it.
    let args = run(Some("other.yaml"), &["compose", "run", "job"]);
    let (head, ours) = split(&args);
    assert_eq!(
        head,
        vec![
            "compose".to_owned(),
            "-f".to_owned(),
            dir.join("other.yaml").display().to_string()
        ]
    );
    let doc: serde_json::Value = serde_json::from_str(&fs::read_to_string(&ours).unwrap()).unwrap();
    assert!(doc["services"]["job"]["environment"]["SSL_CERT_FILE"] == BUNDLE_TARGET);

    // The user's -f: kept as given, ours after it.
    let args = run(None, &["compose", "-f", "other.yaml", "create"]);
    assert_eq!(args[..3], ["compose", "-f", "other.yaml"]);
    assert_eq!(args[3], "-f");
    assert_eq!(args[5], "create");

    // Not a creating subcommand: untouched.
    assert_eq!(run(None, &["compose", "ps", "-a"]), ["compose", "ps", "-a"]);
}

#[test]
fn doctor_says_what_trustrun_would_do_for_containers() {
    let b = Lab::new();
    let doctor = |extra: &[(&str, &str)]| {
        let mut cmd = b.trustrun();
        cmd.args(["doctor", "--json"]);
        for (k, v) in extra {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{}", output_text(&out));
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        doc["containers"].clone()
    };
    let local = doctor(&[]);
    assert_eq!(local["local"], true, "{local}");
    assert_eq!(local["socket_present"], true, "{local}");
    assert!(local["clis"][0]["path"].is_string(), "{local}");
    assert!(
        local["would"].as_str().unwrap().contains(BUNDLE_TARGET),
        "{local}"
    );
    let remote = doctor(&[("DOCKER_HOST", "ssh://me@build-box")]);
    assert_eq!(remote["local"], false, "{remote}");
    assert!(
        remote["would"].as_str().unwrap().contains("remote"),
        "{remote}"
    );
    let off = doctor(&[("TRUSTRUN_CONTAINERS", "0")]);
    assert_eq!(off["enabled"], false);
    assert!(off["would"].as_str().unwrap().starts_with("off"), "{off}");
    let text = b.trustrun().arg("doctor").output().unwrap();
    assert!(
        String::from_utf8_lossy(&text.stdout).contains("\nContainers\n  docker "),
        "{}",
        output_text(&text)
    );
}

// ---- which file a container gets: exactly its own run's bundle, kept while it is mounted ------

impl Lab {
    /// trustrun with no CA of the test's own (no `TRUSTRUN_CA`): only what `args` name.
    fn trustrun_bare(&self) -> Command {
        let mut cmd = self.trustrun();
        cmd.env_remove("TRUSTRUN_CA");
        cmd
    }

    /// `[trustrun --ca CA] docker create --name NAME <net> IMAGE curl URL` (plain docker when
    /// `runner` is docker itself); the container's name.
    fn create_curl(&mut self, what: &str, runner: Command, ca: Option<&Path>) -> String {
        let name = self.name(what);
        let mut runner = runner;
        if let Some(ca) = ca {
            runner.arg("--ca").arg(ca);
        }
        if runner.get_program() != "docker" {
            runner.arg("docker");
        }
        runner
            .args(["create", "--name", &name])
            .args(self.net())
            .arg(image())
            .args(self.curl());
        run_ok_stdout(&mut runner);
        name
    }

    /// The host file a container has at the bundle's target.
    fn mounted_bundle(&self, container: &str) -> PathBuf {
        let format = format!(
            "{{{{range .Mounts}}}}{{{{if eq .Destination \"{BUNDLE_TARGET}\"}}}}{{{{.Source}}}}{{{{end}}}}{{{{end}}}}"
        );
        let out = run_ok_stdout(docker().args(["inspect", "--format", &format, container]));
        PathBuf::from(out.trim())
    }
}

/// `docker start -a NAME`: the container's curl run again, as a restart runs it.
fn start(container: &str) -> Output {
    docker().args(["start", "-a", container]).output().unwrap()
}

fn set_age(path: &Path, days: u64) {
    fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(days * 86400))
        .unwrap();
}

#[test]
fn a_container_created_with_a_ca_keeps_it_after_a_later_plain_run() {
    let mut b = Lab::new();
    // The control: the same container created without trustrun does not trust the server.
    let plain = b.create_curl("plain", docker(), None);
    assert_curl_certificate_failure(&start(&plain));
    let root = b.pki.root_pem.clone();
    let corp = b.create_curl("corp", b.trustrun_bare(), Some(&root));
    assert_curl_ok(&start(&corp));
    // A later run without the CA file (any program, no container involved).
    run_ok_stdout(b.trustrun_bare().arg("true"));
    // Restarted, the container still trusts what it was created with.
    assert_curl_ok(&start(&corp));
    assert_eq!(b.server.answered(), 2);
}

#[test]
fn a_later_run_with_another_ca_does_not_widen_a_containers_trust() {
    let mut b = Lab::new();
    let plain = b.create_curl("plain", b.trustrun_bare(), None);
    assert_curl_certificate_failure(&start(&plain));
    // A run with the corporate root: its own containers trust the server...
    let root = b.pki.root_pem.clone();
    let corp = b.create_curl("corp", b.trustrun_bare(), Some(&root));
    assert_curl_ok(&start(&corp));
    run_ok_stdout(
        b.trustrun_bare()
            .arg("--ca")
            .arg(&b.pki.root_pem)
            .arg("true"),
    );
    // ...and the container created before it without that root still does not.
    assert_curl_certificate_failure(&start(&plain));
    assert_eq!(b.server.answered(), 1);
}

#[test]
fn cleanup_never_removes_a_public_copy_a_container_mounts() {
    let mut b = Lab::new();
    let public = b.cache.path().join("public");
    let root = b.pki.root_pem.clone();
    let corp = b.create_curl("corp", b.trustrun_bare(), Some(&root));
    let mounted = b.mounted_bundle(&corp);
    assert_eq!(
        mounted.parent(),
        Some(public.as_path()),
        "{}",
        mounted.display()
    );
    let mode = fs::metadata(&mounted).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode, 0o644, "{}", mounted.display());
    // Both last handed out 60 days ago; nothing mounts the second one.
    let unused = public.join(format!("{:032x}.pem", 7));
    fs::write(&unused, "# trustrun bundle\n").unwrap();
    set_age(&unused, 60);
    set_age(&mounted, 60);

    // A hand-off of another bundle writes a new copy, and cleans.
    b.create_curl("plain", b.trustrun_bare(), None);
    assert!(!unused.exists(), "an old copy nothing mounts stayed");
    assert!(
        mounted.is_file(),
        "the copy a stopped container mounts went"
    );
    assert_curl_ok(&start(&corp));

    // The control: once that container is gone, the next new copy's cleanup removes it too.
    run_ok_stdout(docker().args(["rm", &corp]));
    let other = Pki::build("Trustrun Test Other Root", |_| {});
    b.create_curl("other", b.trustrun_bare(), Some(&other.root_pem));
    assert!(!mounted.exists(), "an old copy no container mounts stayed");
}

// ---- a command that works without trustrun works with it, and what the user and the image ------
// ---- set stays theirs ------------------------------------------------------------------------

impl Lab {
    /// A compose project directory holding `files`, and a project name removed at the end.
    fn project(&mut self, what: &str, files: &[(&str, String)]) -> (PathBuf, String) {
        let name = self.name(what).replace('-', "");
        let dir = self.tmp.path().join(&name);
        fs::create_dir_all(&dir).unwrap();
        for (file, text) in files {
            let path = dir.join(file);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, text).unwrap();
        }
        self.projects.push((dir.clone(), name.clone()));
        (dir, name)
    }

    /// The command that runs the test's curl in a compose service, as compose wants it.
    fn compose_curl(&self) -> String {
        format!(
            "[{}]",
            self.curl()
                .iter()
                .map(|a| format!("\"{a}\""))
                .collect::<Vec<_>>()
                .join(", ")
        )
    }

    /// The containers of compose project `project`, one id per line, in creation order.
    fn project_containers(&self, project: &str) -> Vec<String> {
        let ids = run_ok_stdout(docker().args([
            "ps",
            "-a",
            "-q",
            "--no-trunc",
            "--filter",
            &format!("label=com.docker.compose.project={project}"),
        ]));
        ids.split_whitespace().map(str::to_owned).collect()
    }

    /// The one container of service `service` in compose project `project`.
    fn service_container(&self, project: &str, service: &str) -> String {
        let ids = run_ok_stdout(docker().args([
            "ps",
            "-a",
            "-q",
            "--filter",
            &format!("label=com.docker.compose.project={project}"),
            "--filter",
            &format!("label=com.docker.compose.service={service}"),
        ]));
        let ids: Vec<&str> = ids.split_whitespace().collect();
        assert_eq!(
            ids.len(),
            1,
            "one container of {project}/{service}: {ids:?}"
        );
        ids[0].to_owned()
    }

    /// A container's `{{json .HostConfig.X}}`.
    fn host_config(&self, container: &str, field: &str) -> serde_json::Value {
        let out = run_ok_stdout(docker().args([
            "inspect",
            "--format",
            &format!("{{{{json .HostConfig.{field}}}}}"),
            container,
        ]));
        serde_json::from_str(out.trim()).unwrap()
    }
}

/// `docker-compose` (v1, the host's) through `runner` in `dir`; its output.
fn compose_v1(mut runner: Command, dir: &Path, args: &[&str]) -> Output {
    runner
        .current_dir(dir)
        // v1's own builder, on the host's engine.
        .env("COMPOSE_DOCKER_CLI_BUILD", "0")
        .env("DOCKER_BUILDKIT", "0")
        .args(args);
    runner.output().unwrap()
}

fn assert_success(out: &Output) {
    assert!(out.status.success(), "{}", output_text(out));
}

fn value_of<'e>(env: &'e [String], name: &str) -> Vec<&'e str> {
    env.iter()
        .filter_map(|e| e.strip_prefix(name)?.strip_prefix('='))
        .collect()
}

/// Item 11: a service compose builds (only `build:`) keeps its image's own CA variables, read
/// from the image compose built under its name (`<project>_<service>` for v1). Before that image
/// exists, trustrun cannot read it: the service gets trustrun's variables, and trustrun says so.
#[test]
fn a_service_compose_builds_keeps_its_images_own_variables() {
    let mut b = Lab::new();
    let (dir, project) = b.project(
        "built",
        &[
            (
                "app/Dockerfile",
                format!("FROM {}\nENV NODE_EXTRA_CA_CERTS=/image.pem\n", image()),
            ),
            (
                "docker-compose.yml",
                "version: \"3.7\"\nservices:\n  app:\n    build: ./app\n    command: [\"/usr/bin/sleep\", \"1\"]\n"
                    .to_owned(),
            ),
        ],
    );
    b.images.push(format!("{project}_app"));
    let up = |b: &Lab| {
        let mut tr = b.trustrun();
        tr.arg("docker-compose");
        compose_v1(
            tr,
            &dir,
            &["-p", &project, "up", "--no-start", "--force-recreate"],
        )
    };
    // First `up`: compose builds the image, which trustrun could not read before.
    let first = up(&b);
    assert_success(&first);
    let said = format!("image {project}_app is not built yet");
    assert!(
        String::from_utf8_lossy(&first.stderr).contains(&said),
        "{}",
        output_text(&first)
    );
    let env = b.env_of(&b.service_container(&project, "app"));
    assert_eq!(
        value_of(&env, "NODE_EXTRA_CA_CERTS"),
        [BUNDLE_TARGET],
        "{env:?}"
    );
    // The image is here now: its own variable is kept, the others are trustrun's.
    let again = up(&b);
    assert_success(&again);
    assert!(
        !String::from_utf8_lossy(&again.stderr).contains("not built yet"),
        "{}",
        output_text(&again)
    );
    let env = b.env_of(&b.service_container(&project, "app"));
    assert_eq!(
        value_of(&env, "NODE_EXTRA_CA_CERTS"),
        ["/image.pem"],
        "{env:?}"
    );
    assert_eq!(value_of(&env, "SSL_CERT_FILE"), [BUNDLE_TARGET], "{env:?}");
}

/// Item 14: `--env-file /dev/stdin` and compose `-f <(...)` give their content once; trustrun
/// leaves them to the command (which then runs unchanged) instead of reading them first.
#[test]
fn a_piped_env_file_or_compose_file_is_left_to_the_command() {
    let mut b = Lab::new();
    let name = b.name("stdin-env");
    let mut tr = b.trustrun();
    tr.args([
        "docker",
        "create",
        "--name",
        &name,
        "--env-file",
        "/dev/stdin",
    ])
    .args([image(), "/usr/bin/sleep", "1"])
    .stdin(std::process::Stdio::piped())
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped());
    let mut child = tr.spawn().unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin
            .write_all(b"GREETING=hello\nSSL_CERT_FILE=/mine.pem\n")
            .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert_success(&out);
    let env = b.env_of(&name);
    assert_eq!(value_of(&env, "GREETING"), ["hello"], "{env:?}");
    assert_eq!(value_of(&env, "SSL_CERT_FILE"), ["/mine.pem"], "{env:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("/dev/stdin is not a regular file"),
        "{}",
        output_text(&out)
    );

    // compose -f <(...): bash hands the pipe as /dev/fd/N.
    let (dir, project) = b.project(
        "piped",
        &[(
            "compose.yml",
            format!(
                "version: \"3.7\"\nservices:\n  one:\n    image: {}\n    command: [\"/usr/bin/sleep\", \"1\"]\n",
                image()
            ),
        )],
    );
    let piped = |runner: &[&std::ffi::OsStr]| {
        let mut cmd = b.cmd("bash");
        cmd.current_dir(&dir)
            .arg("-c")
            .arg("exec \"$@\" -p \"$P\" -f <(cat compose.yml) up --no-start")
            .arg("bash")
            .args(runner)
            .env("P", &project);
        cmd.output().unwrap()
    };
    // The control: compose alone reads the pipe.
    assert_success(&piped(&["docker-compose".as_ref()]));
    run_ok_stdout(Command::new("docker-compose").current_dir(&dir).args([
        "-f",
        "compose.yml",
        "-p",
        &project,
        "rm",
        "-f",
    ]));
    let bin = trustrun_bin();
    let out = piped(&[bin.as_os_str(), "docker-compose".as_ref()]);
    assert_success(&out);
    assert_eq!(b.project_containers(&project).len(), 1);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("is not a regular file"),
        "{}",
        output_text(&out)
    );
}

/// Item 15: a container on another container's network (a VPN sidecar) cannot take
/// `--add-host`: the engine refuses the command (125). Only a bridge network gets it; on the
/// other's network a proxy on host loopback follows what that container can reach.
#[test]
fn a_loopback_proxy_with_another_containers_network_runs() {
    let mut b = Lab::new();
    let proxy = "http://127.0.0.1:3128";
    let trustrun = |b: &Lab, cli: &str| {
        let mut tr = b.trustrun();
        tr.env("HTTPS_PROXY", proxy).arg(cli);
        tr
    };
    let create = |b: &Lab, name: &str, extra: &[&str]| {
        let mut tr = trustrun(b, "docker");
        tr.args(["create", "--name", name])
            .args(extra)
            .args([image(), "/usr/bin/sleep", "300"]);
        tr.output().unwrap()
    };
    // A sidecar created plainly: it maps no gateway name, so the proxy cannot be reached.
    let plain_vpn = b.name("vpn");
    run_ok_stdout(docker().args([
        "create",
        "--name",
        &plain_vpn,
        image(),
        "/usr/bin/sleep",
        "300",
    ]));
    run_ok_stdout(docker().args(["start", &plain_vpn]));
    let behind = b.name("behind");
    let out = create(
        &b,
        &behind,
        &["--network", &format!("container:{plain_vpn}")],
    );
    assert_success(&out);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("HTTPS_PROXY is not passed"),
        "{}",
        output_text(&out)
    );
    assert_eq!(
        value_of(&b.env_of(&behind), "HTTPS_PROXY"),
        Vec::<&str>::new()
    );
    assert_eq!(
        value_of(&b.env_of(&behind), "SSL_CERT_FILE"),
        [BUNDLE_TARGET]
    );
    // A sidecar created through trustrun maps it: the one behind it reaches the proxy there too.
    let vpn = b.name("vpn");
    assert_success(&create(&b, &vpn, &[]));
    run_ok_stdout(docker().args(["start", &vpn]));
    let behind = b.name("behind");
    assert_success(&create(
        &b,
        &behind,
        &["--network", &format!("container:{vpn}")],
    ));
    assert_eq!(
        value_of(&b.env_of(&behind), "HTTPS_PROXY"),
        ["http://host.docker.internal:3128"]
    );
    // No network: nothing to map, the value as written.
    let isolated = b.name("none");
    assert_success(&create(&b, &isolated, &["--network", "none"]));
    assert_eq!(value_of(&b.env_of(&isolated), "HTTPS_PROXY"), [proxy]);
    assert_eq!(
        b.host_config(&isolated, "ExtraHosts"),
        serde_json::Value::Null
    );

    // compose: `network_mode: service:vpn` follows vpn, which trustrun gives the mapping.
    let service = |name: &str, extra: &str| {
        format!(
            "  {name}:\n    image: {}\n    command: [\"/usr/bin/sleep\", \"300\"]\n{extra}",
            image()
        )
    };
    let (dir, project) = b.project(
        "sidecar",
        &[(
            "docker-compose.yml",
            format!(
                "version: \"3.7\"\nservices:\n{}{}",
                service("vpn", ""),
                service("app", "    network_mode: service:vpn\n")
            ),
        )],
    );
    let out = compose_v1(
        trustrun(&b, "docker-compose"),
        &dir,
        &["-p", &project, "up", "-d"],
    );
    assert_success(&out);
    let app = b.service_container(&project, "app");
    assert_eq!(
        value_of(&b.env_of(&app), "HTTPS_PROXY"),
        ["http://host.docker.internal:3128"]
    );
    assert_eq!(b.host_config(&app, "ExtraHosts"), serde_json::Value::Null);
}

/// Item 16: a mount of the user's over the bundle's path or a directory above it wins: trustrun
/// mounts the bundle elsewhere (never inside the user's directory, which the engine would litter
/// with an empty root-owned file, or fail on when it is read-only).
#[test]
fn a_users_mount_over_the_bundles_path_wins() {
    let mut b = Lab::new();
    let mine = b.tmp.path().join("mine-ro");
    fs::create_dir_all(&mine).unwrap();
    let ro = format!("{}:/etc/trustrun:ro", mine.display());
    // The control: the user's mount alone does not make the server trusted.
    assert_curl_certificate_failure(&b.run_curl(b.cmd("docker"), &["-v", &ro]));
    let mut tr = b.trustrun();
    tr.arg("docker");
    assert_curl_ok(&b.run_curl(tr, &["-v", &ro]));
    assert_eq!(
        fs::read_dir(&mine).unwrap().count(),
        0,
        "{}",
        mine.display()
    );

    // Over /etc itself: the engine puts its own hosts file there, never a trustrun directory.
    let etc = b.tmp.path().join("mine-etc");
    fs::create_dir_all(&etc).unwrap();
    let name = b.name("etc");
    let mut tr = b.trustrun();
    tr.args(["docker", "create", "--name", &name, "-v"])
        .arg(format!("{}:/etc", etc.display()))
        .args(b.net())
        .arg(image())
        .args(b.curl());
    run_ok_stdout(&mut tr);
    assert_curl_ok(&start(&name));
    assert!(!etc.join("trustrun").exists(), "{}", etc.display());
    let env = b.env_of(&name);
    assert_eq!(
        value_of(&env, "CURL_CA_BUNDLE"),
        ["/run/trustrun/ca-bundle.pem"],
        "{env:?}"
    );

    // compose: the service's own volume over the directory.
    let (dir, project) = b.project(
        "covered",
        &[(
            "docker-compose.yml",
            format!(
                "version: \"3.7\"\nservices:\n  app:\n    image: {}\n    network_mode: host\n    extra_hosts:\n      - \"{PUBLIC_NAME}:127.0.0.1\"\n    volumes:\n      - ./mine:/etc/trustrun:ro\n    command: {}\n",
                image(),
                b.compose_curl()
            ),
        )],
    );
    fs::create_dir_all(dir.join("mine")).unwrap();
    let mut tr = b.trustrun();
    tr.arg("docker-compose");
    assert_success(&compose_v1(tr, &dir, &["-p", &project, "up"]));
    let app = b.service_container(&project, "app");
    let code = run_ok_stdout(docker().args(["inspect", "--format", "{{.State.ExitCode}}", &app]));
    assert_eq!(code.trim(), "0");
    assert_eq!(fs::read_dir(dir.join("mine")).unwrap().count(), 0);
}

/// Item 17: compose interpolates every file it reads, trustrun's too: a `$` in a proxy password
/// or in the cache's path reaches the container as written.
#[test]
fn compose_reads_a_dollar_in_a_proxy_password_and_the_cache_path_as_written() {
    let mut b = Lab::new();
    let cache = b.tmp.path().join("ca$che");
    let proxy = "http://user:pa$word@proxy.invalid:3128";
    let (dir, project) = b.project(
        "dollar",
        &[(
            "docker-compose.yml",
            format!(
                "version: \"3.7\"\nservices:\n  app:\n    image: {}\n    network_mode: host\n    extra_hosts:\n      - \"{PUBLIC_NAME}:127.0.0.1\"\n    command: {}\n",
                image(),
                b.compose_curl()
            ),
        )],
    );
    let no_proxy = format!("{PUBLIC_NAME},127.0.0.1,localhost");
    let mut tr = b.trustrun();
    tr.env("TRUSTRUN_CACHE_DIR", &cache)
        .env("HTTPS_PROXY", proxy)
        .env("NO_PROXY", &no_proxy)
        .env("no_proxy", &no_proxy)
        .arg("docker-compose");
    let out = compose_v1(tr, &dir, &["-p", &project, "up"]);
    assert_success(&out);
    let app = b.service_container(&project, "app");
    let code = run_ok_stdout(docker().args(["inspect", "--format", "{{.State.ExitCode}}", &app]));
    assert_eq!(code.trim(), "0", "{}", output_text(&out));
    assert_eq!(value_of(&b.env_of(&app), "HTTPS_PROXY"), [proxy]);
    assert_eq!(b.server.answered(), 1);
}

/// Item 18: the user's lower-case proxy variables win over the host's upper-case ones: a client
/// reading the other spelling would otherwise take another route.
#[test]
fn the_users_lowercase_proxy_variables_win() {
    let mut b = Lab::new();
    let host_proxy = "http://proxy.corp.example:8080";
    let trustrun = |b: &Lab| {
        let mut tr = b.trustrun();
        tr.env("HTTPS_PROXY", host_proxy)
            .env("HTTP_PROXY", host_proxy)
            .env_remove("no_proxy")
            .env("NO_PROXY", ".corp.example");
        tr
    };
    let name = b.name("lower");
    let mut tr = trustrun(&b);
    tr.args(["docker", "create", "--name", &name])
        .args([
            "-e",
            "https_proxy=http://mine.example:1",
            "-e",
            "no_proxy=.mine",
        ])
        .args([image(), "/usr/bin/sleep", "1"]);
    run_ok_stdout(&mut tr);
    let env = b.env_of(&name);
    assert_eq!(value_of(&env, "https_proxy"), ["http://mine.example:1"]);
    assert_eq!(value_of(&env, "HTTPS_PROXY"), Vec::<&str>::new(), "{env:?}");
    assert_eq!(value_of(&env, "NO_PROXY"), Vec::<&str>::new(), "{env:?}");
    // The control: what the user did not set is still passed on.
    assert_eq!(value_of(&env, "HTTP_PROXY"), [host_proxy], "{env:?}");

    let (dir, project) = b.project(
        "lower",
        &[(
            "docker-compose.yml",
            format!(
                "version: \"3.7\"\nservices:\n  app:\n    image: {}\n    environment:\n      - https_proxy=http://mine.example:1\n    command: [\"/usr/bin/sleep\", \"1\"]\n",
                image()
            ),
        )],
    );
    let mut tr = trustrun(&b);
    tr.arg("docker-compose");
    assert_success(&compose_v1(tr, &dir, &["-p", &project, "up", "--no-start"]));
    let env = b.env_of(&b.service_container(&project, "app"));
    assert_eq!(value_of(&env, "https_proxy"), ["http://mine.example:1"]);
    assert_eq!(value_of(&env, "HTTPS_PROXY"), Vec::<&str>::new(), "{env:?}");
    assert_eq!(value_of(&env, "HTTP_PROXY"), [host_proxy], "{env:?}");
}

/// Item 19: a `"` or `,` in the cache's path: the `--mount` value is quoted as the engine's CSV
/// reader reads it, and never falls back to `-v` (whose missing source the engine would create
/// as a directory).
#[test]
fn a_quote_or_comma_in_the_cache_path_still_mounts() {
    let mut b = Lab::new();
    for dir in ["ca\"che", "ca\"c,he"] {
        let cache = b.tmp.path().join(dir);
        let name = b.name("odd-path");
        let mut tr = b.trustrun();
        tr.env("TRUSTRUN_CACHE_DIR", &cache)
            .args(["docker", "create", "--name", &name])
            .args(b.net())
            .arg(image())
            .args(b.curl());
        run_ok_stdout(&mut tr);
        assert_curl_ok(&start(&name));
        let mounted = b.mounted_bundle(&name);
        assert!(mounted.starts_with(&cache), "{}", mounted.display());
        assert_eq!(
            b.host_config(&name, "Binds"),
            serde_json::Value::Null,
            "{dir}"
        );
    }
}

/// Item 20: the extra compose file binds the bundle in the long form: when the file is gone,
/// starting the container fails instead of the engine making a root-owned directory there.
#[test]
fn compose_never_has_the_engine_create_a_missing_bundle_source() {
    let mut b = Lab::new();
    let (dir, project) = b.project(
        "gone",
        &[(
            "docker-compose.yml",
            format!(
                "version: \"3.7\"\nservices:\n  app:\n    image: {}\n    command: [\"/usr/bin/sleep\", \"1\"]\n",
                image()
            ),
        )],
    );
    let mut tr = b.trustrun();
    tr.arg("docker-compose");
    assert_success(&compose_v1(tr, &dir, &["-p", &project, "up", "--no-start"]));
    let app = b.service_container(&project, "app");
    let copy = b.mounted_bundle(&app);
    assert!(copy.is_file(), "{}", copy.display());
    fs::remove_file(&copy).unwrap();
    let started = docker().args(["start", &app]).output().unwrap();
    assert!(!started.status.success(), "{}", output_text(&started));
    assert!(!copy.exists(), "the engine made {}", copy.display());
}

/// Item 11 and 20 with compose v2 (the private engine: Docker 26.1, compose 2.26), where v2's
/// behaviour is the point: `compose config` leaves out a service of a profile nobody enabled,
/// which `compose run` starts all the same (it got nothing from trustrun, silently); v2 names a
/// built image `<project>-<service>`; v2's schema takes `bind.create_host_path: false`.
#[test]
fn compose_v2_services_of_a_profile_and_built_ones_follow_the_rule() {
    let engine = crate::common::engine::engine();
    let pki = Pki::corporate();
    let server = engine.start_server(pki.server_config.clone());
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let dir = tmp.path().join("project");
    fs::create_dir_all(dir.join("app")).unwrap();
    fs::write(
        dir.join("app/Dockerfile"),
        format!(
            "FROM {}\nENV NODE_EXTRA_CA_CERTS=/image.pem\n",
            engine.base_image()
        ),
    )
    .unwrap();
    fs::write(
        dir.join("compose.yaml"),
        format!(
            "services:\n  tool:\n    image: {}\n    profiles: [tools]\n    network_mode: host\n    \
             command: [\"curl\", \"-sS\", \"--max-time\", \"20\", \"{}/profile\"]\n  \
             app:\n    build:\n      context: ./app\n      network: host\n    network_mode: none\n    \
             command: [\"true\"]\n",
            engine.base_image(),
            server.url
        ),
    )
    .unwrap();
    static N: AtomicUsize = AtomicUsize::new(0);
    let project = format!(
        "trustrunv2{}x{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    );
    struct Down<'e>(&'e crate::common::engine::Engine, PathBuf, String);
    impl Drop for Down<'_> {
        fn drop(&mut self) {
            let _ = self
                .0
                .docker()
                .current_dir(&self.1)
                .args([
                    "compose",
                    "-p",
                    &self.2,
                    "--profile",
                    "*",
                    "down",
                    "--rmi",
                    "local",
                ])
                .output();
        }
    }
    let _down = Down(engine, dir.clone(), project.clone());
    let plain = || {
        let mut cmd = engine.docker();
        cmd.current_dir(&dir).args(["compose", "-p", &project]);
        cmd
    };
    let trustrun = || {
        let mut cmd = Command::new(trustrun_bin());
        engine.client_env(&mut cmd);
        clean(&mut cmd, &cache);
        let path =
            std::env::join_paths([engine.bin_dir(), Path::new("/usr/bin"), Path::new("/bin")])
                .unwrap();
        cmd.env("PATH", path)
            .env("TRUSTRUN_CA", &pki.root_pem)
            .current_dir(&dir)
            .args(["docker", "compose", "-p", &project]);
        cmd
    };

    // The control: plainly, the service of the profile does not trust the server.
    let control = plain().args(["run", "--rm", "tool"]).output().unwrap();
    assert_eq!(control.status.code(), Some(60), "{}", output_text(&control));
    let out = trustrun().args(["run", "--rm", "tool"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(r#""path":"/profile""#),
        "{}",
        output_text(&out)
    );
    assert_eq!(server.answered(), 1);

    // A service compose built: its image's own variable is kept.
    run_ok_stdout(plain().args(["build", "app"]));
    let created = trustrun().args(["create", "app"]).output().unwrap();
    assert!(created.status.success(), "{}", output_text(&created));
    let container = format!("{project}-app-1");
    let env: Vec<String> = serde_json::from_str(
        run_ok_stdout(engine.docker().args([
            "inspect",
            "--format",
            "{{json .Config.Env}}",
            &container,
        ]))
        .trim(),
    )
    .unwrap();
    assert_eq!(
        value_of(&env, "NODE_EXTRA_CA_CERTS"),
        ["/image.pem"],
        "{env:?}"
    );
    assert_eq!(value_of(&env, "SSL_CERT_FILE"), [BUNDLE_TARGET], "{env:?}");

    // Item 20: the bundle's bind never has the engine create a missing source.
    let format = format!(
        "{{{{range .Mounts}}}}{{{{if eq .Destination \"{BUNDLE_TARGET}\"}}}}{{{{.Source}}}}{{{{end}}}}{{{{end}}}}"
    );
    let copy = PathBuf::from(
        run_ok_stdout(
            engine
                .docker()
                .args(["inspect", "--format", &format, &container]),
        )
        .trim(),
    );
    assert!(copy.is_file(), "{}", copy.display());
    fs::remove_file(&copy).unwrap();
    let started = engine
        .docker()
        .args(["start", &container])
        .output()
        .unwrap();
    assert!(!started.status.success(), "{}", output_text(&started));
    assert!(!copy.exists(), "the engine made {}", copy.display());
}
