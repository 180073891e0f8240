//! Containers: a TLS client inside a container trusts the corporate root when the container was
//! created through trustrun (`docker run`, `docker create` + `exec`, standalone `docker-compose`,
//! the docker shim), and nothing else changes. Against the real local engine: `.ci/run` starts
//! dockerd. The test image is the host's own curl and its libraries with Debian's public CA
//! store, imported with `docker import` (no registry here); containers use the host's network,
//! and the test server answers on loopback for a public name mapped with `--add-host`.
#![cfg(target_os = "linux")]

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::common::*;

const PUBLIC_NAME: &str = "api.openai.com";
const BUNDLE_TARGET: &str = "/etc/trustrun/ca-bundle.pem";

fn docker() -> Command {
    let mut cmd = Command::new("docker");
    cmd.env_remove("DOCKER_HOST").env_remove("DOCKER_CONTEXT");
    cmd
}

fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(out.status.success(), "{cmd:?}:\n{}", output_text(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The test image: curl, sleep, their libraries and Debian's public CA store. Built once per
/// host curl, named by its content so reruns reuse it.
fn image() -> &'static str {
    static IMAGE: OnceLock<String> = OnceLock::new();
    IMAGE.get_or_init(|| {
        let info = docker().arg("info").output().expect("docker CLI");
        assert!(
            info.status.success(),
            "no Docker engine answers (start dockerd; .ci/run does):\n{}",
            output_text(&info)
        );
        let files = ["/usr/bin/curl", "/usr/bin/sleep"];
        let ldd = run_ok(Command::new("ldd").args(files));
        let mut list: Vec<String> = files.iter().map(|f| f.to_string()).collect();
        for word in ldd.split_whitespace() {
            if word.starts_with('/') && !word.ends_with(':') && !list.contains(&word.to_owned()) {
                list.push(word.to_owned());
            }
        }
        list.push("/etc/ssl/certs/ca-certificates.crt".to_owned());
        let mut stamp = String::new();
        for f in &list {
            let m = fs::metadata(f).unwrap();
            stamp.push_str(&format!("{f} {} {:?}\n", m.len(), m.modified().unwrap()));
        }
        let tag = format!(
            "trustrun-test-curl:{}",
            &trustrun::digest::sha256_hex(stamp.as_bytes())[..12]
        );
        if docker()
            .args(["image", "inspect", &tag])
            .output()
            .unwrap()
            .status
            .success()
        {
            return tag;
        }
        let relative: Vec<&str> = list.iter().map(|f| f.trim_start_matches('/')).collect();
        let script = format!(
            "tar -chf - -C / {} | docker import - {tag}",
            relative.join(" ")
        );
        run_ok(Command::new("sh").args(["-c", &script]));
        tag
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
        let out = run_ok(docker().args(["inspect", "--format", "{{json .Config.Env}}", container]));
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
        run_ok(&mut runner);
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
    let private = run_ok(b.trustrun().arg("bundle"));
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
    run_ok(
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
        let ids = run_ok(
            Command::new("docker-compose")
                .current_dir(&dir)
                .args(["-p", project, "ps", "-q"]),
        );
        let ids: Vec<&str> = ids.split_whitespace().collect();
        assert_eq!(ids.len(), 2, "two containers in {project}");
        let codes = run_ok(
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
    run_ok(b.trustrun().args([
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
    run_ok(b.trustrun().args([
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
    run_ok(
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
    run_ok(b.trustrun().args([
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
    let bundle = run_ok(b.trustrun().arg("bundle"));
    let copy = b
        .cache
        .path()
        .join("public")
        .join(Path::new(bundle.trim()).file_name().unwrap());
    assert_eq!(
        web["volumes"][0],
        format!("{}:{BUNDLE_TARGET}:ro", copy.display())
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
        run_ok(&mut runner);
        name
    }

    /// The host file a container has at the bundle's target.
    fn mounted_bundle(&self, container: &str) -> PathBuf {
        let format = format!(
            "{{{{range .Mounts}}}}{{{{if eq .Destination \"{BUNDLE_TARGET}\"}}}}{{{{.Source}}}}{{{{end}}}}{{{{end}}}}"
        );
        let out = run_ok(docker().args(["inspect", "--format", &format, container]));
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
    run_ok(b.trustrun_bare().arg("true"));
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
    run_ok(
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
    run_ok(docker().args(["rm", &corp]));
    let other = Pki::build("Trustrun Test Other Root", |_| {});
    b.create_curl("other", b.trustrun_bare(), Some(&other.root_pem));
    assert!(!mounted.exists(), "an old copy no container mounts stayed");
}
