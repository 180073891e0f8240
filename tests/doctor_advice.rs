//! doctor's advice fits the situation: the verdict and the step to take first lead the report,
//! which fits one screen; the step follows setup's state (setup first when nothing is in place,
//! nothing when it works here, a new terminal when this shell started before it); without a host
//! it says what it did not check; Debian's self-signed `localhost` is no corporate root and a CA
//! file lacking it no trap; `--relax-x509-strict` is a fix only when a Python 3.13+ is on PATH and
//! the root intercepting a checked host fails the strict checks (a note otherwise); every line
//! fits 100 columns.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::*;

const PYTHON_311: &str = "/root/.pyenv/versions/3.11.7/bin/python3.11";

/// A directory holding only `python3`, a link to `python`: what doctor finds on PATH.
fn path_with_python(dir: &Path, python: &Path) -> PathBuf {
    assert!(
        python.is_file(),
        "{} is needed for this test (pyenv install on this machine image)",
        python.display()
    );
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(python, bin.join("python3")).unwrap();
    bin
}

/// A home directory of its own (setup's record lives there), under target/tmp: setup refuses a
/// stable bundle below a directory others can write, as /tmp is.
struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    fn new() -> Home {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        Home { dir }
    }

    /// `trustrun ARGS` as this user: this home, its cache, none of the machine's CA presets.
    fn trustrun(&self, path: &Path) -> Command {
        let mut cmd = Command::new(trustrun_bin());
        clean(&mut cmd, &self.dir.path().join("cache"))
            .env("HOME", self.dir.path().join("home"))
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("XDG_DATA_HOME")
            .env_remove("ZDOTDIR")
            .env("SHELL", "/bin/bash")
            .env("PATH", path);
        std::fs::create_dir_all(self.dir.path().join("home")).unwrap();
        cmd
    }
}

fn doctor(cache: &Path, path: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::new(trustrun_bin());
    clean(&mut cmd, cache)
        .env("HOME", cache.join("home"))
        .env_remove("XDG_DATA_HOME")
        .env("PATH", path)
        .arg("doctor")
        .args(args);
    cmd.output().unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn words(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn section<'a>(report: &'a str, title: &str) -> &'a str {
    report
        .split(&format!("\n{title}\n"))
        .nth(1)
        .map(|rest| rest.split("\n\n").next().unwrap_or(""))
        .unwrap_or("")
}

/// The report's head: from `verdict:` up to the first blank line (verdict, next step, the fixes
/// after it), as one line of words.
fn head(report: &str) -> String {
    words(report.split("\n\n").next().unwrap_or(""))
}

/// The step to take first, as one line of words.
fn next_step(report: &str) -> String {
    let head = head(report);
    let next = head.split(" next: ").nth(1).unwrap_or("");
    next.split(" then: ").next().unwrap_or("").to_owned()
}

fn assert_fits(report: &str) {
    for line in report.lines() {
        assert!(
            line.chars().count() < 100,
            "over 99 columns: {line:?}\n{report}"
        );
    }
}

#[test]
fn relax_is_a_fix_with_python_313_and_a_note_without() {
    let pki = lax_root_pki();
    let server = Server::start(pki.server_config.clone());
    let tmp = tempfile::tempdir().unwrap();
    let host = format!("127.0.0.1:{}", server.port);
    let root = pki.root_pem.to_str().unwrap();

    // Python 3.13 on PATH, the lax root intercepting the checked host: the fix.
    let with_313 = path_with_python(&tmp.path().join("p313"), &python313());
    let out = doctor(tmp.path(), &with_313, &["--ca", root, &host]);
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
    assert_fits(&report);
    let fixes = head(&report);
    assert!(
        fixes.contains(&format!(
            "{LAX_ROOT_CN} fails Python 3.13's strict X.509 checks"
        )) && fixes.contains("`trustrun --relax-x509-strict PROGRAM`"),
        "{report}"
    );
    // The root that intercepts the host is listed first.
    let roots = section(
        &report,
        "Roots outside Mozilla's set, added locally (likely corporate)",
    );
    assert!(
        roots.trim_start().starts_with(&format!("CN={LAX_ROOT_CN}"))
            && roots.contains("(intercepts 127.0.0.1)"),
        "{report}"
    );
    // The persistent fix is named, with the other ways as alternatives.
    assert!(fixes.contains("`trustrun setup`"), "{report}");
    assert!(
        fixes.contains("eval \"$(trustrun env --format sh)\""),
        "{report}"
    );

    // Only Python 3.11 on PATH: the same root is a note, the fix is not offered.
    let with_311 = path_with_python(&tmp.path().join("p311"), Path::new(PYTHON_311));
    let out = doctor(tmp.path(), &with_311, &["--ca", root, &host]);
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
    assert!(!head(&report).contains("--relax-x509-strict"), "{report}");
    assert!(
        words(section(&report, "Notes")).contains(&format!(
            "{LAX_ROOT_CN} fails Python 3.13's strict X.509 checks; no Python 3.13+ is on PATH"
        )),
        "{report}"
    );
}

/// Without a host doctor cannot know whether plain Python works here: it says what it did not
/// check instead of calling the machine healthy. A trap gets its fix, first.
#[test]
fn without_a_host_doctor_says_what_it_did_not_check() {
    let tmp = tempfile::tempdir().unwrap();
    let out = doctor(tmp.path(), &tmp.path().join("no-such-dir"), &[]);
    let report = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
    assert_fits(&report);
    assert!(!report.contains("healthy"), "{report}");
    assert!(
        head(&report).contains(
            "not checked: whether your hosts are intercepted and whether plain Python \
                       (certifi) trusts them (name one: `trustrun doctor api.openai.com`)"
        ),
        "{report}"
    );
    // An environment trap is the step to take first.
    let out = {
        let mut cmd = Command::new(trustrun_bin());
        clean(&mut cmd, tmp.path())
            .env("HOME", tmp.path().join("home"))
            .env("PATH", tmp.path().join("no-such-dir"))
            .env("SSL_CERT_FILE", "")
            .arg("doctor");
        cmd.output().unwrap()
    };
    let report = stdout(&out);
    assert!(
        head(&report).contains("1 trap in the CA variables")
            && next_step(&report).starts_with("Unset SSL_CERT_FILE (`unset SSL_CERT_FILE`"),
        "{report}"
    );
}

/// One intercepted host, a Python on PATH, nothing set up: the verdict and the step to take
/// first are in the first five lines, the whole report under 40; `-v` has the details.
#[test]
fn one_intercepted_host_fits_one_screen_with_the_verdict_first() {
    let world = World::new();
    let home = Home::new();
    let python_bin = venv_python().parent().unwrap().to_path_buf();
    let host = format!("127.0.0.1:{}", world.server.port);
    let run = |extra: &[&str]| {
        let out = home
            .trustrun(&python_bin)
            .args(["doctor", "--ca"])
            .arg(&world.pki.root_pem)
            .args(extra)
            .arg(&host)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
        stdout(&out)
    };
    let report = run(&[]);
    assert_fits(&report);
    let lines: Vec<&str> = report.lines().collect();
    // `-- --nocapture` shows the report and its length.
    println!("{report}({} lines)", lines.len());
    assert!(lines.len() < 40, "{} lines:\n{report}", lines.len());
    let first_five = words(&lines[..5].join("\n"));
    assert!(
        first_five.contains(&format!(
            "verdict: {host}: intercepted by CN={ROOT_CN}, O=Trustrun Tests: plain Python fails"
        )) && first_five.contains("next: `trustrun setup`"),
        "{report}"
    );
    // The Python on PATH is named, on one line.
    assert!(
        section(&report, "Pythons on PATH").lines().count() >= 1
            && report.contains(&format!("({})", venv_python().display())),
        "{report}"
    );
    // The details are one -v away.
    assert!(!report.contains("Mozilla only (plain Python):"), "{report}");
    let verbose = run(&["-v"]);
    assert_fits(&verbose);
    assert!(
        verbose.contains("Mozilla only (plain Python):") && verbose.contains("summary: "),
        "{verbose}"
    );
}

/// The step follows setup's state, for the same intercepted host: nothing in place -> setup
/// first; set up and in use here -> nothing to prescribe; set up, but this shell started
/// before -> exactly that.
#[test]
fn the_next_step_follows_setups_state() {
    let world = World::new();
    let home = Home::new();
    let no_python = home.dir.path().join("no-such-dir");
    let host = format!("127.0.0.1:{}", world.server.port);
    let doctor = |env: &[(&str, &Path)]| {
        let mut cmd = home.trustrun(&no_python);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd
            .args(["doctor", "--ca"])
            .arg(&world.pki.root_pem)
            .arg(&host)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
        stdout(&out)
    };
    let before = doctor(&[]);
    assert!(
        next_step(&before).starts_with(
            "`trustrun setup`, then open a new terminal: every new shell and program of yours \
             trusts the corporate root (or: for one command `trustrun python app.py`; for this \
             shell only `eval \"$(trustrun env --format sh)\"`)"
        ),
        "{before}"
    );

    let out = home
        .trustrun(&no_python)
        .args(["setup", "--ca"])
        .arg(&world.pki.root_pem)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
    let stable = home.dir.path().join("cache/current.pem");
    assert!(stable.is_file(), "{}", output_text(&out));

    // A shell started after setup has its variables: nothing to do.
    let inside = doctor(&[("SSL_CERT_FILE", &stable), ("REQUESTS_CA_BUNDLE", &stable)]);
    let said = head(&inside);
    assert!(
        said.contains("setup is in place and in use here")
            && next_step(&inside) == "nothing to fix",
        "{inside}"
    );
    assert!(!said.contains("trustrun env"), "{inside}");
    assert!(!said.contains("`trustrun setup`,"), "{inside}");

    // The shell that ran setup, or an IDE started before: exactly that.
    let old_shell = doctor(&[]);
    assert!(
        next_step(&old_shell).starts_with(
            "setup is in place, but this shell (or your IDE) started before it ran: open a new \
             terminal"
        ),
        "{old_shell}"
    );
}

/// A self-signed server certificate that is not a CA (Debian's ssl-cert "snakeoil" `localhost`
/// in /etc/ssl/certs) is no corporate root, and the usual forum fix, REQUESTS_CA_BUNDLE at the
/// distribution's bundle (which holds the intercepting root and works), is no trap for lacking
/// it. A file lacking the root that intercepts a checked host stays one.
#[test]
fn debians_snakeoil_leaf_is_neither_a_root_nor_a_trap() {
    let world = World::new();
    let tmp = world.cache.path();
    // The snakeoil as make-ssl-cert writes it: self-signed, CA:FALSE, CN=localhost, in a
    // directory OpenSSL reads by hash.
    let snakeoil = {
        let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "localhost");
        params.is_ca = rcgen::IsCa::ExplicitNoCa;
        params
            .self_signed(&rcgen::KeyPair::generate().unwrap())
            .unwrap()
    };
    let certs_dir = tmp.join("certs");
    std::fs::create_dir_all(&certs_dir).unwrap();
    std::fs::write(certs_dir.join("ssl-cert-snakeoil.pem"), snakeoil.pem()).unwrap();
    let rehash = Command::new("openssl")
        .args(["rehash"])
        .arg(&certs_dir)
        .output()
        .unwrap();
    assert!(rehash.status.success(), "{}", output_text(&rehash));
    // The distribution's bundle, with the corporate root added as update-ca-certificates adds it.
    let bundle = tmp.join("ca-certificates.crt");
    let mut pem = std::fs::read_to_string(first_existing(&[
        "/etc/ssl/certs/ca-certificates.crt",
        "/etc/pki/tls/certs/ca-bundle.crt",
    ]))
    .unwrap();
    pem.push_str(&std::fs::read_to_string(&world.pki.root_pem).unwrap());
    std::fs::write(&bundle, pem).unwrap();

    // The fix works: requests trusts the intercepted host with it; the control fails without.
    assert_certificate_failure(&world.control("requests"));
    assert_ok(
        &world
            .alone("requests")
            .env("REQUESTS_CA_BUNDLE", &bundle)
            .output(),
        "200",
    );

    let host = format!("127.0.0.1:{}", world.server.port);
    let report = |args: &[&str], requests_ca: &Path| {
        let mut cmd = Command::new(trustrun_bin());
        clean(&mut cmd, tmp)
            .env("HOME", tmp.join("home"))
            .env("PATH", tmp.join("no-such-dir"))
            .env("SSL_CERT_DIR", &certs_dir)
            .env("REQUESTS_CA_BUNDLE", requests_ca)
            .args(["doctor", "--json", "--ca"])
            .arg(&world.pki.root_pem)
            .args(args);
        let out = cmd.output().unwrap();
        serde_json::from_slice::<serde_json::Value>(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", output_text(&out)))
    };
    let requests = |doc: &serde_json::Value| {
        doc["environment"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["name"] == "REQUESTS_CA_BUNDLE")
            .unwrap()
            .clone()
    };
    for args in [vec![], vec![host.as_str()]] {
        let doc = report(&args, &bundle);
        let corporate: Vec<&str> = doc["sources"]["corporate_roots"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["subject"].as_str().unwrap())
            .collect();
        assert!(
            !corporate.contains(&"CN=localhost"),
            "{args:?}: {corporate:?}"
        );
        assert!(
            doc["sources"]["self_signed_leaves"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s == "CN=localhost"),
            "{args:?}: {doc:#}"
        );
        let var = requests(&doc);
        assert_eq!(var["trap"], false, "{args:?}: {var}");
        assert!(
            !var["message"].as_str().unwrap().contains("localhost"),
            "{var}"
        );
    }

    // The other side of the rule: a file without the root that intercepts the checked host is a
    // trap; one without a root that intercepts nothing checked is not.
    let mozilla_only = tmp.join("mozilla-only.pem");
    let mut pem = String::new();
    for der in webpki_root_certs::TLS_SERVER_ROOT_CERTS {
        trustrun::certs::to_pem(der, &mut pem);
    }
    std::fs::write(&mozilla_only, &pem).unwrap();
    let var = requests(&report(&[&host], &mozilla_only));
    assert_eq!(var["trap"], true, "{var}");
    assert!(
        var["message"].as_str().unwrap().contains(&format!(
            "lacks {ROOT_CN}: a checked host is intercepted by it"
        )),
        "{var}"
    );
    let other = Pki::build("Trustrun Test Other Root CA", |_| {});
    let var = requests(&report(
        &["--ca", other.root_pem.to_str().unwrap(), &host],
        &bundle,
    ));
    assert_eq!(var["trap"], false, "{var}");
    assert!(
        var["message"]
            .as_str()
            .unwrap()
            .contains("Trustrun Test Other Root CA, which intercepts none of the checked hosts"),
        "{var}"
    );
}

fn first_existing(paths: &[&str]) -> PathBuf {
    paths
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .expect("the distribution's CA bundle")
}

/// Several roots failing the strict checks read as English: "A, B fail", not "A, B fails".
#[test]
fn several_roots_failing_strict_checks_read_as_english() {
    let tmp = tempfile::tempdir().unwrap();
    let a = Pki::lax("Trustrun Test Lax A", &["localhost"], 0x51);
    let b = Pki::lax("Trustrun Test Lax B", &["localhost"], 0x52);
    let out = doctor(
        tmp.path(),
        &tmp.path().join("no-such-dir"),
        &[
            "--ca",
            a.root_pem.to_str().unwrap(),
            "--ca",
            b.root_pem.to_str().unwrap(),
        ],
    );
    let notes = words(section(&stdout(&out), "Notes"));
    assert!(
        notes.contains(
            "Trustrun Test Lax A, Trustrun Test Lax B fail Python 3.13's strict X.509 checks"
        ),
        "{}",
        output_text(&out)
    );
    assert!(!notes.contains("fails Python 3.13"), "{notes}");
}

/// On one terminal (a pty from util-linux `script`) the verdict is printed once; piped, stderr
/// carries the summary too, for scripts that read only stderr.
#[test]
fn the_summary_is_printed_once_on_one_terminal() {
    let tmp = tempfile::tempdir().unwrap();
    // A port that was just free: refused, so exit 1 with a summary.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let command = format!(
        "'{}' doctor --timeout 2 127.0.0.1:{port}",
        trustrun_bin().display()
    );
    let mut on_tty = Command::new("/usr/bin/script");
    clean(&mut on_tty, tmp.path())
        // script starts the shell by its absolute path; doctor then finds no Python, quickly.
        .env("PATH", tmp.path().join("no-such-dir"))
        .args(["-qec", &command, "/dev/null"]);
    let out = on_tty
        .output()
        .expect("util-linux `script` is needed (Debian's bsdutils, always installed)");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{}", output_text(&out));
    // The verdict leads the report; stderr points at it instead of repeating it.
    assert_eq!(text.matches("verdict: ").count(), 1, "{text}");
    assert_eq!(
        words(&text).matches("refused the connection").count(),
        1,
        "{text}"
    );
    assert!(
        !text.contains("0 of 1 host verified"),
        "printed twice: {text}"
    );
    assert!(text.contains("trustrun: see the verdict above"), "{text}");

    // Control: piped apart, stderr has the summary line itself.
    let out = doctor(
        tmp.path(),
        &tmp.path().join("no-such-dir"),
        &["--timeout", "2", &format!("127.0.0.1:{port}")],
    );
    assert_eq!(out.status.code(), Some(1), "{}", output_text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("trustrun: 0 of 1 host verified"),
        "{stderr}"
    );
}
