//! Trusted image builds (issue 21) on the private engine (.ci/engine: Docker 26.1, BuildKit with
//! named contexts, compose v2, buildx): each Dockerfile's RUN fetches from the test server over
//! TLS (Python's urllib, curl), which fails plainly with the certificate error (the control) and
//! builds through trustrun; the image then holds neither the bundle nor a CA variable, and is the
//! image a plain build makes. What trustrun cannot derive honestly runs as the user wrote it, with
//! one line saying why (tested against a stand-in `docker` that prints what it was given).
#![cfg(target_os = "linux")]

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
        let engine = engine();
        let pki = Pki::corporate();
        let server = engine.start_server(pki.server_config.clone());
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
