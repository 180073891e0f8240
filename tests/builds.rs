//! Trusted image builds on the private engine (.ci/engine: Docker 26.1, BuildKit with
//! named contexts, compose v2, buildx): each Dockerfile's RUN fetches from the test server over
//! TLS (Python's urllib, curl, pip from a package index it serves), which fails plainly with the
//! certificate error (the control) and builds through trustrun; the image then holds neither the bundle nor a CA variable, and is the
//! image a plain build makes. What trustrun cannot derive honestly runs as the user wrote it, with
//! one line saying why (tested against a stand-in `docker` that prints what it was given).
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::common::engine::{Engine, engine};
use crate::common::*;

/// The line trustrun says when a build runs as written.
const AS_WRITTEN: &str = "this build runs as you wrote it";

/// One test's world: the engine, a test server in its namespace, a project directory, a cache,
/// and the image tags it made (removed at the end).
struct Lab {
    engine: &'static Engine,
    pki: Pki,
    server: Server,
    tmp: tempfile::TempDir,
    tags: Vec<String>,
}

impl Lab {
    fn new() -> Lab {
        Lab::with_routes(Routes::new())
    }

    /// A lab whose server answers `routes` with their own bodies.
    fn with_routes(routes: Routes) -> Lab {
        let engine = engine();
        let pki = Pki::corporate();
        let server = engine.start_server_with_routes(pki.server_config.clone(), routes);
        Lab {
            engine,
            pki,
            server,
            tmp: tempfile::tempdir().unwrap(),
            tags: Vec::new(),
        }
    }

    fn dir(&self) -> PathBuf {
        self.tmp.path().join("project")
    }

    /// Writes `rel` in the project, `@BASE@` and `@URL@` filled in.
    fn write(&self, rel: &str, text: &str) {
        let path = self.dir().join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        let text = text
            .replace("@BASE@", self.engine.base_image())
            .replace("@URL@", &self.server.url);
        fs::write(path, text).unwrap();
    }

    fn tag(&mut self, what: &str) -> String {
        static N: AtomicUsize = AtomicUsize::new(0);
        let tag = format!(
            "trustrun-build-{what}:{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        );
        self.tags.push(tag.clone());
        tag
    }

    /// The 26.1 docker, plainly, in the project directory.
    fn plain(&self) -> Command {
        let mut cmd = self.engine.docker();
        cmd.current_dir(self.dir());
        cmd
    }

    /// `trustrun ARGS` with the test root, the 26.1 docker first on PATH, in the project.
    fn trustrun(&self) -> Command {
        let mut cmd = Command::new(trustrun_bin());
        self.engine.client_env(&mut cmd);
        clean(&mut cmd, &self.tmp.path().join("cache"));
        let path = std::env::join_paths([
            self.engine.bin_dir(),
            Path::new("/usr/bin"),
            Path::new("/bin"),
        ])
        .unwrap();
        cmd.env("PATH", path)
            .env("TRUSTRUN_CA", &self.pki.root_pem)
            .current_dir(self.dir());
        cmd
    }

    fn inspect(&self, image: &str, format: &str) -> String {
        let out = self
            .engine
            .docker()
            .args(["image", "inspect", "--format", format, image])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", output_text(&out));
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// `sh -c SCRIPT` as root in a container of `image` (no network): its stdout.
    fn in_image(&self, image: &str, script: &str) -> String {
        let out = self
            .engine
            .docker()
            .args(["run", "--rm", "--network", "none", "--user", "0", image])
            .args(["sh", "-c", script])
            .output()
            .unwrap();
        assert!(out.status.success(), "{script}:\n{}", output_text(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The image has neither trustrun's bundle nor a CA variable in its config.
    fn assert_clean(&self, image: &str) {
        let env = self.inspect(image, "{{json .Config.Env}}");
        for (name, _) in trustrun::vars::CA_VARIABLES {
            assert!(!env.contains(name), "{image} sets {name}: {env}");
        }
        assert_eq!(
            self.in_image(image, "ls -a /etc/trustrun 2>&1 || true")
                .trim(),
            "ls: cannot access '/etc/trustrun': No such file or directory",
            "{image}"
        );
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for tag in &self.tags {
            let _ = self.engine.docker().args(["rmi", "-f", tag]).output();
        }
    }
}

fn text(out: &Output) -> String {
    output_text(out)
}

/// The control's failure: the RUN's client refused the server's chain.
fn assert_certificate_refused(out: &Output) {
    let all = text(out);
    assert!(
        !out.status.success()
            && (all.contains("CERTIFICATE_VERIFY_FAILED")
                || all.contains("SSL certificate problem")),
        "expected the build to fail on the certificate:\n{all}"
    );
}

const FETCH: &str = "python3 -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1]).read().decode())'";

#[test]
fn docker_build_of_a_run_fetching_over_https_fails_plainly_and_builds_through_trustrun() {
    let mut lab = Lab::new();
    lab.write(
        "Dockerfile",
        &format!("FROM @BASE@\nRUN {FETCH} @URL@/urllib > /urllib.json\nRUN curl -fsS @URL@/curl -o /curl.json\n"),
    );
    let build = |cmd: &mut Command, tag: &str| {
        cmd.args([
            "build",
            "--network",
            "host",
            "--progress",
            "plain",
            "-t",
            tag,
            ".",
        ])
        .output()
        .unwrap()
    };
    let plain_tag = lab.tag("plain");
    let control = build(&mut lab.plain(), &plain_tag);
    assert_certificate_refused(&control);
    assert!(lab.server.saw_unknown_ca_alert());
    assert_eq!(lab.server.answered(), 0);

    // `trustrun docker build`.
    let tag = lab.tag("fetch");
    let out = build(lab.trustrun().arg("docker"), &tag);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(lab.server.answered(), 2);
    assert!(
        lab.in_image(&tag, "cat /urllib.json /curl.json")
            .contains(r#""path":"/curl""#)
    );
    lab.assert_clean(&tag);

    // `trustrun PROGRAM`: a program's own `docker build` finds trustrun's engine shim first on
    // PATH. (A new Dockerfile: the same one would be BuildKit's cache hit.)
    lab.write(
        "Dockerfile",
        &format!("FROM @BASE@\nRUN {FETCH} @URL@/shim > /shim.json\n"),
    );
    let tag = lab.tag("shim");
    let out = lab
        .trustrun()
        .args([
            "sh",
            "-c",
            &format!("docker build --network host -q -t {tag} ."),
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(lab.server.answered(), 3);
    lab.assert_clean(&tag);
}

/// The Dockerfile as users write it: `# escape=`, continuations, a heredoc RUN, an exec-form RUN,
/// a RUN with a cache mount of its own, three stages (one FROM an earlier one, one copying from
/// it), named with `-f` and an ignore file of its own beside it; built with `docker buildx build`.
#[test]
fn every_run_of_a_multi_stage_dockerfile_with_heredocs_and_directives_is_trusted() {
    let mut lab = Lab::new();
    lab.write(
        "docker/app.Dockerfile",
        &format!(
            "# escape=`\n\
             FROM @BASE@ AS fetch\n\
             RUN <<EOF\n\
             {FETCH} @URL@/heredoc > /heredoc.json\n\
             EOF\n\
             RUN --mount=type=cache,target=/root/.cache curl -fsS `\n  @URL@/continued -o /continued.json\n\
             FROM fetch AS more\n\
             RUN [\"python3\", \"-c\", \"import urllib.request; urllib.request.urlretrieve('@URL@/exec', '/exec.json')\"]\n\
             FROM @BASE@\n\
             COPY --from=more /heredoc.json /continued.json /exec.json /\n\
             COPY . /ctx\n"
        ),
    );
    lab.write("docker/app.Dockerfile.dockerignore", "secret.txt\n");
    lab.write("secret.txt", "not for the image\n");
    lab.write("kept.txt", "kept\n");
    let build = |cmd: &mut Command, tag: &str| {
        cmd.args(["buildx", "build", "--load", "--network", "host", "-f"])
            .args(["docker/app.Dockerfile", "-t", tag, "."])
            .output()
            .unwrap()
    };
    let plain_tag = lab.tag("plain");
    assert_certificate_refused(&build(&mut lab.plain(), &plain_tag));
    assert_eq!(lab.server.answered(), 0);

    let tag = lab.tag("stages");
    let out = build(lab.trustrun().arg("docker"), &tag);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(lab.server.answered(), 3, "{}", text(&out));
    let listing = lab.in_image(
        &tag,
        "ls /ctx; cat /heredoc.json /continued.json /exec.json",
    );
    assert!(listing.contains("kept.txt"), "{listing}");
    assert!(
        !listing.contains("secret.txt"),
        "the ignore file lost its force: {listing}"
    );
    for path in ["/heredoc", "/continued", "/exec"] {
        assert!(
            listing.contains(&format!(r#""path":"{path}""#)),
            "{listing}"
        );
    }
    lab.assert_clean(&tag);
}

/// The same Dockerfile built plainly and through trustrun (`docker image build`): the same config
/// and the same files (names, modes, sizes, contents); only the history differs.
#[test]
fn a_trusted_build_makes_the_image_a_plain_build_makes() {
    let mut lab = Lab::new();
    lab.write(
        "Dockerfile",
        "FROM @BASE@ AS first\nARG FLAVOUR=plain\nRUN mkdir -p /out && echo \"$FLAVOUR\" > /out/flavour\n\
         FROM @BASE@\nENV GREETING=hi\nWORKDIR /app\nCOPY --from=first /out /app/out\n\
         RUN <<EOF\nchmod 0750 /app/out\nEOF\nUSER nobody\nCMD [\"cat\", \"/app/out/flavour\"]\n",
    );
    let (plain_tag, trusted_tag) = (lab.tag("same-plain"), lab.tag("same-trusted"));
    let build = |cmd: &mut Command, tag: &str| {
        let out = cmd
            .args(["image", "build", "--network", "host", "-q", "-t", tag, "."])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out));
    };
    build(&mut lab.plain(), &plain_tag);
    build(lab.trustrun().arg("docker"), &trusted_tag);
    let config = "{{json .Config}}";
    assert_eq!(
        lab.inspect(&plain_tag, config),
        lab.inspect(&trusted_tag, config)
    );
    let files = "find / -xdev \\( -path /proc -o -path /sys -o -path /dev \\) -prune -o \
                 \\( -path /etc/hostname -o -path /etc/hosts -o -path /etc/resolv.conf \\) -prune -o \
                 -printf '%p %m %U %G %s %l\\n' | sort; \
                 find /app /etc /usr/local -xdev -type f ! -path /etc/hostname ! -path /etc/hosts \
                 ! -path /etc/resolv.conf -exec md5sum {} + | sort";
    let (plain_files, trusted_files) = (
        lab.in_image(&plain_tag, files),
        lab.in_image(&trusted_tag, files),
    );
    assert!(plain_files.contains("/app/out/flavour"), "{plain_files}");
    assert!(
        plain_files == trusted_files,
        "the files differ:\n{}",
        diff(&plain_files, &trusted_files)
    );
    // What differs: the history, with the ARG lines and the RUNs that saw them.
    let history = |tag: &str| {
        let out = lab
            .engine
            .docker()
            .args(["history", "--no-trunc", "--format", "{{.CreatedBy}}", tag])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let ours = "SSL_CERT_FILE=/etc/trustrun/ca-bundle.pem";
    assert!(!history(&plain_tag).contains(ours));
    assert!(
        history(&trusted_tag).contains(ours),
        "{}",
        history(&trusted_tag)
    );
}

fn diff(a: &str, b: &str) -> String {
    let (a, b): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    let mut out = String::new();
    for l in a.iter().filter(|l| !b.contains(l)).take(20) {
        out.push_str(&format!("- {l}\n"));
    }
    for l in b.iter().filter(|l| !a.contains(l)).take(20) {
        out.push_str(&format!("+ {l}\n"));
    }
    out
}

/// A user's `--build-arg`, a stage's own `ENV` and a base image's own `ENV` of a CA variable win;
/// the variables nobody set get trustrun's path.
#[test]
fn the_users_build_arg_a_stages_env_and_the_base_images_env_win() {
    let mut lab = Lab::new();
    let base = lab.tag("own-base");
    lab.write(
        "base/Dockerfile",
        "FROM @BASE@\nENV REQUESTS_CA_BUNDLE=/image.pem\n",
    );
    run_ok(lab.plain().args(["build", "-q", "-t", &base, "base"]));
    lab.write(
        "Dockerfile",
        &format!(
            "FROM {base}\nRUN echo \"$SSL_CERT_FILE $REQUESTS_CA_BUNDLE $CURL_CA_BUNDLE\" > /seen\n\
             FROM @BASE@\nENV PIP_CERT=/stage.pem\nCOPY --from=0 /seen /seen\n\
             RUN echo \"$PIP_CERT $CURL_CA_BUNDLE\" >> /seen\n"
        ),
    );
    let tag = lab.tag("own");
    let out = lab
        .trustrun()
        .args(["docker", "build", "--network", "host", "-q", "-t", &tag])
        .args(["--build-arg", "SSL_CERT_FILE=/mine.pem", "."])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let ours = "/etc/trustrun/ca-bundle.pem";
    assert_eq!(
        lab.in_image(&tag, "cat /seen"),
        format!("/mine.pem /image.pem {ours}\n/stage.pem {ours}\n")
    );
}

/// The one line said when a build runs as written, in `stderr`.
fn as_written_lines(out: &Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| l.contains(AS_WRITTEN))
        .map(str::to_owned)
        .collect()
}

/// What trustrun cannot derive honestly reaches docker byte for byte, with one line saying why:
/// the classic builder, a Dockerfile on stdin, a stdin or URL context, a `# syntax=` frontend too
/// old for named contexts, no buildx, an old buildx, an engine whose BuildKit predates them. A stand-in `docker` records its arguments
/// and answers trustrun's questions as such a machine would.
#[test]
fn what_cannot_be_derived_runs_as_written_with_one_line_saying_why() {
    let tmp = tempfile::tempdir().unwrap();
    let bin = tmp.path().join("bin");
    fs::create_dir_all(&bin).unwrap();
    let recorded = tmp.path().join("args");
    fs::write(
        bin.join("docker"),
        "#!/bin/sh\n\
         case \"$1 $2\" in\n\
         'buildx version') [ -n \"$FAKE_NO_BUILDX\" ] && exit 1; echo \"github.com/docker/buildx ${FAKE_BUILDX:-0.13.1} x\"; exit 0 ;;\n\
         'buildx inspect') printf 'Name: default\\nDriver: docker\\nBuildKit version: v0.0.0+unknown\\n'; exit 0 ;;\n\
         'version --format') echo \"${FAKE_ENGINE:-26.1.5} ${FAKE_OS:-linux}\"; exit 0 ;;\n\
         'image inspect') echo null; exit 0 ;;\n\
         esac\n\
         printf '%s\\n' \"$@\" > \"$FAKE_ARGS\"\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(bin.join("docker"), fs::Permissions::from_mode(0o755)).unwrap();
    let project = tmp.path().join("project");
    fs::create_dir_all(&project).unwrap();
    fs::write(project.join("Dockerfile"), "FROM scratch\nRUN true\n").unwrap();
    fs::write(
        project.join("old.Dockerfile"),
        "# syntax=docker/dockerfile:1.3\nFROM scratch\nRUN true\n",
    )
    .unwrap();
    let pki = Pki::corporate();
    let run = |args: &[&str], env: &[(&str, &str)]| {
        let _ = fs::remove_file(&recorded);
        let mut cmd = Command::new(trustrun_bin());
        clean(&mut cmd, &tmp.path().join("cache"));
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("DOCKER_") {
                cmd.env_remove(name);
            }
        }
        let path = std::env::join_paths([bin.as_path(), Path::new("/usr/bin"), Path::new("/bin")])
            .unwrap();
        cmd.env("PATH", path)
            .env("TRUSTRUN_CA", &pki.root_pem)
            .env("FAKE_ARGS", &recorded)
            .envs(env.iter().copied())
            .current_dir(&project)
            .arg("docker")
            .args(args);
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{}", text(&out));
        let given = fs::read_to_string(&recorded).unwrap_or_default();
        (out, given.lines().map(str::to_owned).collect::<Vec<_>>())
    };
    // The control: a build trustrun can derive gets the named context and the derived file.
    let (out, given) = run(&["build", "-t", "app", "."], &[]);
    assert!(as_written_lines(&out).is_empty(), "{}", text(&out));
    assert!(given.iter().any(|a| a == "--build-context"), "{given:?}");

    for (args, env, why) in [
        (
            &["build", "-t", "app", "."][..],
            &[("DOCKER_BUILDKIT", "0")][..],
            "DOCKER_BUILDKIT=0",
        ),
        (&["build", "-f", "-", "."], &[], "stdin (-f -)"),
        (
            &["build", "-f", "old.Dockerfile", "."],
            &[],
            "`# syntax=docker/dockerfile:1.3` frontend",
        ),
        (&["build", "-"], &[], "context comes from stdin"),
        (
            &["build", "https://git.corp.test/app.git#main"],
            &[],
            "is a URL",
        ),
        (
            &["image", "build", "."],
            &[("FAKE_NO_BUILDX", "1")],
            "no buildx plugin",
        ),
        (
            &["build", "."],
            &[("FAKE_BUILDX", "0.7.1")],
            "buildx 0.7.1 has no --build-context",
        ),
        (
            &["buildx", "build", "."],
            &[("FAKE_ENGINE", "20.10.24")],
            "Docker Engine 20.10's",
        ),
    ] {
        let (out, given) = run(args, env);
        assert_eq!(
            given, args,
            "{args:?} {env:?} did not reach docker as written"
        );
        let lines = as_written_lines(&out);
        assert!(
            lines.len() == 1 && lines[0].contains(why),
            "{args:?} {env:?}: expected one line saying {why:?}:\n{}",
            text(&out)
        );
    }
}

/// Never worse: `DOCKER_BUILDKIT=0` on the real engine builds with the classic builder, as it
/// does without trustrun.
#[test]
fn the_classic_builder_builds_as_it_does_without_trustrun() {
    let mut lab = Lab::new();
    lab.write("Dockerfile", "FROM @BASE@\nRUN echo classic > /built\n");
    let tag = lab.tag("classic");
    let out = lab
        .trustrun()
        .env("DOCKER_BUILDKIT", "0")
        .args(["docker", "build", "--network", "host", "-t", &tag, "."])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(as_written_lines(&out).len(), 1, "{}", text(&out));
    assert_eq!(lab.in_image(&tag, "cat /built"), "classic\n");
}

/// A compose service with `build:` whose RUN fetches: `up --build` fails plainly on the
/// certificate, and through `trustrun docker compose` builds and runs.
#[test]
fn compose_up_build_of_a_fetching_service_fails_plainly_and_builds_through_trustrun() {
    let lab = Lab::new();
    lab.write(
        "app/Dockerfile",
        &format!("FROM @BASE@\nRUN {FETCH} @URL@/compose > /fetched.json\nCMD [\"cat\", \"/fetched.json\"]\n"),
    );
    lab.write(
        "compose.yaml",
        "services:\n  app:\n    build:\n      context: ./app\n      network: host\n    network_mode: none\n",
    );
    static N: AtomicUsize = AtomicUsize::new(0);
    let project = format!(
        "trustrunbuild{}x{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    );
    struct Down<'l>(&'l Lab, String);
    impl Drop for Down<'_> {
        fn drop(&mut self) {
            let _ = self
                .0
                .plain()
                .args(["compose", "-p", &self.1, "down", "--rmi", "local"])
                .output();
        }
    }
    let _down = Down(&lab, project.clone());
    let up = [
        "compose",
        "-p",
        &project,
        "up",
        "--build",
        "--abort-on-container-exit",
    ];
    let control = lab.plain().args(up).output().unwrap();
    assert_certificate_refused(&control);
    assert_eq!(lab.server.answered(), 0);

    let out = lab.trustrun().arg("docker").args(up).output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains(r#""path":"/compose""#),
        "{}",
        text(&out)
    );
    assert_eq!(lab.server.answered(), 1);
    lab.assert_clean(&format!("{project}-app"));
}

/// Standalone compose v2 (the plugin binary run as `docker-compose`) and its `build` subcommand:
/// plainly the fetching RUN fails on the certificate, through `trustrun docker-compose build` it
/// builds.
#[test]
fn standalone_compose_build_of_a_fetching_service_builds_through_trustrun() {
    let mut lab = Lab::new();
    lab.write(
        "app/Dockerfile",
        &format!("FROM @BASE@\nRUN {FETCH} @URL@/standalone > /fetched.json\n"),
    );
    let tag = lab.tag("standalone");
    // A service trustrun cannot derive (a stage named like its context) builds as written, and
    // leaves the other one trusted.
    lab.write("odd/Dockerfile", "FROM @BASE@ AS trustrun-ca\nRUN true\n");
    let odd = lab.tag("odd");
    lab.write(
        "compose.yaml",
        &format!(
            "services:\n  app:\n    image: {tag}\n    build:\n      context: ./app\n      network: host\n  \
             odd:\n    image: {odd}\n    build:\n      context: ./odd\n      network: host\n"
        ),
    );
    let bin = lab.tmp.path().join("compose-bin");
    fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(lab.engine.compose_plugin(), bin.join("docker-compose")).unwrap();
    let path = std::env::join_paths([
        bin.as_path(),
        lab.engine.bin_dir(),
        Path::new("/usr/bin"),
        Path::new("/bin"),
    ])
    .unwrap();
    let mut plain = Command::new(bin.join("docker-compose"));
    lab.engine.client_env(&mut plain);
    let control = plain
        .current_dir(lab.dir())
        .args(["build", "--progress", "plain"])
        .output()
        .unwrap();
    assert_certificate_refused(&control);
    assert_eq!(lab.server.answered(), 0);

    let out = lab
        .trustrun()
        .env("PATH", &path)
        .args(["docker-compose", "build"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(lab.server.answered(), 1);
    assert!(
        lab.in_image(&tag, "cat /fetched.json")
            .contains("/standalone")
    );
    lab.assert_clean(&tag);
    let lines = as_written_lines(&out);
    assert!(
        lines.len() == 1 && lines[0].contains("service odd: a stage is named trustrun-ca"),
        "{}",
        text(&out)
    );
}

/// Compose v1 (Debian 12's `docker-compose` 1.29) builds with the classic builder: its build runs
/// as written, and still builds, with one line saying why.
#[test]
fn compose_v1_builds_as_written_with_one_line() {
    let mut lab = Lab::new();
    lab.write("app/Dockerfile", "FROM @BASE@\nRUN echo v1 > /built\n");
    let tag = lab.tag("v1");
    lab.write(
        "docker-compose.yml",
        &format!("services:\n  app:\n    image: {tag}\n    build:\n      context: ./app\n      network: host\n"),
    );
    let out = lab
        .trustrun()
        .args(["/usr/bin/docker-compose", "build"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let lines = as_written_lines(&out);
    assert!(
        lines.len() == 1 && lines[0].contains("compose v1"),
        "{}",
        text(&out)
    );
    assert_eq!(lab.in_image(&tag, "cat /built"), "v1\n");
}

/// pip in a RUN, installing from an intercepted package index (the test server serving a PEP 503
/// index with one wheel, tests/test_venv.rs's): plainly pip fails on the certificate, through
/// trustrun it installs (pip reads `PIP_CERT`/`REQUESTS_CA_BUNDLE`, never the OS store).
#[test]
fn pip_install_from_an_intercepted_index_fails_plainly_and_builds_through_trustrun() {
    use crate::test_venv::{PROJECT, WHEEL, hex, probe_wheel};
    use sha2::{Digest, Sha256};
    let wheel = probe_wheel();
    let hash = hex(&Sha256::digest(&wheel));
    let mut routes = Routes::new();
    routes.insert(
        format!("/simple/{PROJECT}/"),
        (
            "text/html",
            format!("<!DOCTYPE html><html><body><a href=\"/files/{WHEEL}#sha256={hash}\">{WHEEL}</a></body></html>")
                .into_bytes(),
        ),
    );
    routes.insert(
        format!("/files/{WHEEL}"),
        ("application/octet-stream", wheel),
    );
    let mut lab = Lab::with_routes(routes);
    // By name: pip's truststore refuses to check a certificate for an IP address.
    let port = lab.server.port;
    lab.write(
        "Dockerfile",
        &format!(
            "FROM @BASE@\nRUN python3 -m venv /venv && PIP_CONFIG_FILE=/dev/null /venv/bin/pip install \
             --disable-pip-version-check --no-cache-dir --retries 0 --timeout 20 \
             --index-url https://localhost:{port}/simple/ {PROJECT}\n"
        ),
    );
    let build = |cmd: &mut Command, tag: &str| {
        cmd.args([
            "build",
            "--network",
            "host",
            "--progress",
            "plain",
            "-t",
            tag,
            ".",
        ])
        .output()
        .unwrap()
    };
    let plain_tag = lab.tag("pip-plain");
    let control = build(&mut lab.plain(), &plain_tag);
    assert!(
        !control.status.success() && text(&control).contains("CERTIFICATE_VERIFY_FAILED"),
        "expected pip to fail on the certificate:\n{}",
        text(&control)
    );
    assert_eq!(lab.server.answered(), 0);

    let tag = lab.tag("pip");
    let out = build(lab.trustrun().arg("docker"), &tag);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(lab.server.answered(), 2, "the project page and the wheel");
    assert_eq!(
        lab.in_image(
            &tag,
            "/venv/bin/python -c 'import trustrun_probe; print(trustrun_probe.MARK)'"
        ),
        "installed-from-test-index\n"
    );
    lab.assert_clean(&tag);
}
