//! The runtime matrix (issue 22), beside `other_runtimes.rs` (node, curl, git): deno and bun
//! (their npm packages ship the binaries), Go (Debian's golang-go) and, in `java.rs`, OpenJDK 17.
//! Each control runs the same client without trustrun, the machine's CA presets removed, and must
//! fail on the certificate; through `trustrun --ca root.pem` it passes. The versions tested are
//! in docs/java.md's matrix.
//!
//! And bun with the test root in an OS store it reads: in a private mount namespace, a Fedora
//! layout (`/etc/ssl/cert.pem`, which bun reads by itself; Debian's
//! `/etc/ssl/certs/ca-certificates.crt` it does not) over `/etc/ssl`, never the machine's own
//! store (every other test's control would pass). trustrun leaves it working, and mends it
//! when the user's `SSL_CERT_FILE` names certifi's bundle (the claude-code failure).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use crate::common::*;

/// The tool must be here: CI (.ci/run) installs it, and a test that cannot run must not pass.
fn require(program: &str, version_arg: &str) -> String {
    let found = Command::new(program).arg(version_arg).output();
    match found {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).into_owned(),
        _ => panic!(
            "{program} is not installed here (.ci/run installs it); this test cannot run without it"
        ),
    }
}

/// `fetch(URL)` and a line saying how it went, for deno and bun alike.
const FETCH: &str = "try { const r = await fetch(Deno_or_Bun_url); console.log('OK ' + r.status); } \
                     catch (e) { console.log('FAIL ' + (e.cause ?? e)); globalThis.Deno ? Deno.exit(1) : process.exit(1); }";

fn fetch_script(url: &str) -> String {
    FETCH.replace("Deno_or_Bun_url", &format!("{url:?}"))
}

/// A clean command for `program`: the machine's CA presets removed, deno's and Go's caches in
/// the world's temporary directory.
fn plain(world: &World, program: &Path) -> Command {
    let mut cmd = Command::new(program);
    clean(&mut cmd, world.cache.path());
    private_homes(&mut cmd, world);
    cmd
}

fn through_trustrun(world: &World, program: &Path) -> Command {
    let mut cmd = world.trustrun();
    private_homes(&mut cmd, world);
    cmd.arg("--ca").arg(&world.pki.root_pem).arg(program);
    cmd
}

fn private_homes(cmd: &mut Command, world: &World) {
    cmd.env("DENO_DIR", world.cache.path().join("deno"))
        .env("DENO_NO_UPDATE_CHECK", "1")
        .env("NO_COLOR", "1")
        .env_remove("NODE_USE_SYSTEM_CA")
        .env_remove("DENO_TLS_CA_STORE");
}

fn assert_fails_with(out: &Output, error: &str) {
    let text = output_text(out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains(error), "expected {error:?}:\n{text}");
}

#[test]
fn deno_fetch() {
    require("deno", "--version");
    let world = World::new();
    let script = fetch_script(&format!("{}/deno", world.server.url));
    let deno = PathBuf::from("deno");
    let out = plain(&world, &deno)
        .args(["eval", &script])
        .output()
        .unwrap();
    assert_fails_with(&out, "UnknownIssuer");
    let out = through_trustrun(&world, &deno)
        .args(["eval", &script])
        .output()
        .unwrap();
    assert_ok(&out, "200");
}

#[test]
fn bun_fetch() {
    require("bun", "--version");
    let world = World::new();
    let script = fetch_script(&format!("{}/bun", world.server.url));
    let bun = PathBuf::from("bun");
    let out = plain(&world, &bun).args(["-e", &script]).output().unwrap();
    assert_fails_with(&out, "unable to get local issuer certificate");
    let out = through_trustrun(&world, &bun)
        .args(["-e", &script])
        .output()
        .unwrap();
    assert_ok(&out, "200");
}

/// The Go client, built once per test run (Debian's go, no module download).
fn go_client() -> &'static Path {
    static CLIENT: OnceLock<PathBuf> = OnceLock::new();
    CLIENT.get_or_init(|| {
        require("go", "version");
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("go-client");
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("main.go"), GO_CLIENT).unwrap();
        let binary = dir.join(format!("client-{}", std::process::id()));
        run_ok(
            Command::new("go")
                .current_dir(&dir)
                .env("GOCACHE", dir.join("cache"))
                .env("GOPATH", dir.join("gopath"))
                .env("GO111MODULE", "off")
                .env("GOTOOLCHAIN", "local")
                .args(["build", "-o"])
                .arg(&binary)
                .arg("main.go"),
        );
        binary
    })
}

const GO_CLIENT: &str = r#"package main

import (
	"fmt"
	"net/http"
	"os"
	"time"
)

func main() {
	c := &http.Client{Timeout: 20 * time.Second}
	r, err := c.Get(os.Args[1])
	if err != nil {
		fmt.Println("FAIL", err)
		os.Exit(1)
	}
	r.Body.Close()
	fmt.Println("OK", r.StatusCode)
}
"#;

/// Go reads the OS store (and `SSL_CERT_FILE`, `SSL_CERT_DIR`) itself: the test root, kept out
/// of the machine's store, reaches it only through `--ca`.
#[test]
fn go_net_http() {
    let world = World::new();
    let client = go_client();
    let url = format!("{}/go", world.server.url);
    let out = plain(&world, client).arg(&url).output().unwrap();
    assert_fails_with(&out, "x509: certificate signed by unknown authority");
    let out = through_trustrun(&world, client).arg(&url).output().unwrap();
    assert_ok(&out, "200");
}

/// `unshare -m` (a private mount namespace) with `etc_ssl` bound over `/etc/ssl`, then `args`.
fn in_namespace(etc_ssl: &Path, args: &[&std::ffi::OsStr]) -> Command {
    let mut cmd = Command::new("unshare");
    cmd.args(["-m", "--propagation", "private", "sh", "-c"])
        .arg("mount --bind \"$0\" /etc/ssl && exec \"$@\"")
        .arg(etc_ssl)
        .args(args);
    cmd
}

#[test]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "a private mount namespace over /etc/ssl is Linux only"
)]
fn bun_with_the_root_in_the_os_store_it_reads_keeps_working_and_certifi_is_mended() {
    require("bun", "--version");
    let probe = Command::new("unshare").args(["-m", "true"]).output();
    assert!(
        probe.is_ok_and(|o| o.status.success()),
        "unshare -m is not allowed here (CI runs as root); this test cannot run without it"
    );
    let world = World::new();
    // The Fedora layout: Mozilla's roots and the test root in /etc/ssl/cert.pem.
    let etc_ssl = tempfile::tempdir().unwrap();
    let mut store = String::new();
    for der in webpki_root_certs::TLS_SERVER_ROOT_CERTS {
        store.push_str(&pem(der));
    }
    store.push_str(&fs::read_to_string(&world.pki.root_pem).unwrap());
    fs::write(etc_ssl.path().join("cert.pem"), &store).unwrap();
    let script = fetch_script(&format!("{}/bun-os-store", world.server.url));
    let bun = which("bun");
    let trustrun = trustrun_bin();
    let run = |through: bool, certifi: Option<&Path>| {
        let mut args: Vec<&std::ffi::OsStr> = Vec::new();
        if through {
            args.push(trustrun.as_os_str());
        }
        args.extend([bun.as_os_str(), "-e".as_ref(), script.as_ref()]);
        let mut cmd = in_namespace(etc_ssl.path(), &args);
        clean(&mut cmd, world.cache.path());
        private_homes(&mut cmd, &world);
        if let Some(file) = certifi {
            cmd.env("SSL_CERT_FILE", file);
        }
        cmd.output().unwrap()
    };
    assert_ok(&run(false, None), "200");
    assert_ok(&run(true, None), "200");
    // A user's SSL_CERT_FILE naming certifi's bundle (Mozilla's roots alone): bun fails...
    let certifi = world.cache.path().join("cacert.pem");
    let mozilla: String = webpki_root_certs::TLS_SERVER_ROOT_CERTS
        .iter()
        .map(|d| pem(d))
        .collect();
    fs::write(&certifi, mozilla).unwrap();
    assert_fails_with(
        &run(false, Some(&certifi)),
        "unable to get local issuer certificate",
    );
    // ... and through trustrun, the OS store joins certifi's roots in the bundle.
    assert_ok(&run(true, Some(&certifi)), "200");
}

fn which(program: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap();
    std::env::split_paths(&path)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("{program} not on PATH"))
}

fn pem(der: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap());
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

/// How an installed program spells its version: the command, its argument, and the prefix before
/// the number in its answer.
const PROBES: &[(&str, &str, &str, &str)] = &[
    ("OpenJDK", "java", "-version", ""),
    ("Node.js", "node", "--version", "v"),
    ("Deno", "deno", "--version", "deno "),
    ("Bun", "bun", "--version", ""),
    ("Go", "go", "version", "go"),
    ("curl", "curl", "--version", "curl "),
    ("git", "git", "--version", "git version "),
];

/// Whether `name` at `version` is what the tests ran: an installed program (`PROBES`), or a
/// package pinned in the test venv's tests/python/requirements.txt.
fn check_tested(name: &str, version: &str) {
    if let Some((_, program, arg, prefix)) = PROBES.iter().find(|p| p.0 == name) {
        let out = Command::new(program).arg(arg).output().unwrap();
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let spelt = format!("{prefix}{version}");
        let words: Vec<&str> = said.split_whitespace().collect();
        let found = said.contains(&spelt)
            || words
                .iter()
                .any(|w| w.trim_matches('"').starts_with(version));
        assert!(
            found,
            "the docs say {name} {version} was tested; {program} {arg} says:\n{said}"
        );
        return;
    }
    let pins = fs::read_to_string(repo().join("tests/python/requirements.txt")).unwrap();
    assert!(
        pins.lines()
            .any(|l| l.trim() == format!("{name}=={version}")),
        "the docs say {name} {version} was tested; tests/python/requirements.txt does not pin it"
    );
}

/// docs/java.md's matrix names the version of each runtime tested: the one installed here, which
/// the tests above ran (CI pins the npm ones). A runtime upgraded without the page is a failure.
#[test]
fn the_documented_versions_are_the_ones_tested() {
    let page = fs::read_to_string(repo().join("docs/java.md")).unwrap();
    let rows: Vec<&str> = page
        .lines()
        .skip_while(|l| !l.starts_with("| runtime (version tested)"))
        .skip(2)
        .take_while(|l| l.starts_with("| "))
        .collect();
    for name in ["OpenJDK", "Node.js", "Deno", "Bun", "Go"] {
        let row = rows
            .iter()
            .find(|r| r.starts_with(&format!("| {name} ")))
            .unwrap_or_else(|| panic!("no {name} row in docs/java.md's matrix"));
        let version = row[2 + name.len()..].split_whitespace().next().unwrap();
        check_tested(name, version);
    }
    // The reference's variable table: "tested with" names clients at the versions tested.
    let reference = fs::read_to_string(repo().join("docs/reference.md")).unwrap();
    let mut checked = 0;
    for row in reference
        .lines()
        .skip_while(|l| !l.starts_with("| variable | read by | tested with |"))
        .skip(2)
        .take_while(|l| l.starts_with("| `"))
    {
        let tested = row
            .trim()
            .trim_end_matches('|')
            .rsplit(" | ")
            .next()
            .unwrap();
        for client in tested.split(", ").map(str::trim).filter(|c| !c.is_empty()) {
            let (name, version) = client
                .rsplit_once(' ')
                .unwrap_or_else(|| panic!("{client:?}: not NAME VERSION"));
            check_tested(name, version);
            checked += 1;
        }
    }
    assert!(checked >= 6, "the reference's table names what was tested");
}
