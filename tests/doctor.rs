//! `trustrun doctor`: a local HTTPS server whose chain leads to a test corporate root, reached
//! directly or only through a CONNECT proxy in the test; the verdict of each trust set; every
//! failure mode of the live probe within its timeout; strict X.509 findings; and the same facts
//! in --json as in the text.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::common::*;
use serde_json::Value;

/// The only name the test proxy maps to the test server; it never resolves otherwise (RFC 2606).
const PROXY_ONLY_HOST: &str = "corp-only.invalid";

fn doctor(cache: &Path) -> Command {
    let mut cmd = Command::new(trustrun_bin());
    clean(&mut cmd, cache);
    // The Python checks are not what most tests look at: an empty PATH keeps them quick. A home
    // of its own: setup's state is this user's, not the machine's.
    cmd.env("PATH", cache.join("no-such-dir"))
        .env("HOME", cache.join("home"))
        .env_remove("XDG_DATA_HOME");
    cmd
}

fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("--json output does not parse: {e}\n{}", output_text(out)))
}

/// A CONNECT proxy on loopback that knows one name and refuses every other.
struct Proxy {
    url: String,
    tunnels: Arc<AtomicUsize>,
}

impl Proxy {
    fn start(name: &'static str, upstream_port: u16) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let tunnels = Arc::new(AtomicUsize::new(0));
        let count = tunnels.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let count = count.clone();
                std::thread::spawn(move || {
                    let _ = serve_connect(client, name, upstream_port, &count);
                });
            }
        });
        Proxy { url, tunnels }
    }
}

fn serve_connect(
    client: TcpStream,
    name: &str,
    upstream_port: u16,
    count: &AtomicUsize,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(client.try_clone()?);
    let mut request = String::new();
    reader.read_line(&mut request)?;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line.trim().is_empty() {
            break;
        }
    }
    let mut client = client;
    let wanted = format!("CONNECT {name}:443 ");
    if !request.starts_with(&wanted) {
        client.write_all(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")?;
        return Ok(());
    }
    let upstream = TcpStream::connect(("127.0.0.1", upstream_port))?;
    count.fetch_add(1, Ordering::SeqCst);
    client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")?;
    let (mut up_read, mut up_write) = (upstream.try_clone()?, upstream);
    let mut client_write = client.try_clone()?;
    let t = std::thread::spawn(move || {
        let _ = std::io::copy(&mut reader, &mut up_write);
        let _ = up_write.shutdown(Shutdown::Write);
    });
    let _ = std::io::copy(&mut up_read, &mut client_write);
    let _ = client_write.shutdown(Shutdown::Write);
    let _ = t.join();
    Ok(())
}

#[test]
fn intercepted_host_reached_only_through_the_proxy() {
    let pki = Pki::build_for(ROOT_CN, &[PROXY_ONLY_HOST], |_| {});
    let server = Server::start(pki.server_config.clone());
    let proxy = Proxy::start(PROXY_ONLY_HOST, server.port);
    let cache = tempfile::tempdir().unwrap();

    // Direct, the name does not resolve: only the proxy path can work.
    let out = doctor(cache.path())
        .args(["doctor", "--timeout", "3", "--ca"])
        .arg(&pki.root_pem)
        .arg(PROXY_ONLY_HOST)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", output_text(&out));
    assert!(text(&out).contains("DNS"), "{}", output_text(&out));

    // -v: each trust set's verdict, and the summary.
    let out = doctor(cache.path())
        .env("HTTPS_PROXY", &proxy.url)
        .args(["doctor", "-v", "--timeout", "5", "--ca"])
        .arg(&pki.root_pem)
        .arg(PROXY_ONLY_HOST)
        .output()
        .unwrap();
    let report = text(&out);
    assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
    assert!(
        proxy.tunnels.load(Ordering::SeqCst) >= 1,
        "the proxy saw no tunnel"
    );
    assert!(
        report.contains(&format!("through proxy {}", proxy.url)),
        "{report}"
    );
    assert!(
        report.contains(&format!("intercepted by CN={ROOT_CN}")),
        "{report}"
    );
    let verdict = |label: &str| {
        report
            .lines()
            .find(|l| l.trim_start().starts_with(label))
            .unwrap_or_else(|| panic!("no {label} line:\n{report}"))
            .to_owned()
    };
    assert!(
        verdict("Mozilla only (plain Python):").contains("NOT trusted"),
        "{report}"
    );
    assert!(
        verdict("OS trust store:").contains("NOT trusted"),
        "{report}"
    );
    assert!(
        verdict("trustrun's bundle:").ends_with("trusted"),
        "{report}"
    );
    assert!(!verdict("trustrun's bundle:").contains("NOT"), "{report}");
    assert!(
        report.contains("summary: 1 of 1 host verified with"),
        "{report}"
    );
    // A sound root: no relaxation recommended for it (this machine's own roots may need one).
    assert!(
        !report
            .lines()
            .any(|l| l.contains("--relax-x509-strict") && l.contains(ROOT_CN)),
        "{report}"
    );
    // No request was ever made: the server answered nothing.
    assert_eq!(server.answered(), 0);
}

#[test]
fn json_carries_the_same_facts_as_the_text() {
    let pki = Pki::build_for(ROOT_CN, &[PROXY_ONLY_HOST], |_| {});
    let server = Server::start(pki.server_config.clone());
    let proxy = Proxy::start(PROXY_ONLY_HOST, server.port);
    let cache = tempfile::tempdir().unwrap();
    let run = |flag: Option<&str>| {
        let mut cmd = doctor(cache.path());
        cmd.env("HTTPS_PROXY", &proxy.url)
            .env("SSL_CERT_FILE", "")
            .args(["doctor", "--timeout", "5", "--ca"])
            .arg(&pki.root_pem)
            .arg(PROXY_ONLY_HOST)
            .arg("other.invalid");
        cmd.args(flag);
        cmd.output().unwrap()
    };
    // The text with every detail (-v) against the JSON.
    let (text_out, json_out) = (run(Some("-v")), run(Some("--json")));
    assert_eq!(
        text_out.status.code(),
        Some(1),
        "{}",
        output_text(&text_out)
    );
    assert_eq!(
        json_out.status.code(),
        Some(1),
        "{}",
        output_text(&json_out)
    );
    let report = text(&text_out);
    let doc = json(&json_out);
    // `cargo test --test integration json_carries -- --nocapture` shows a whole report, as
    // docs/doctor.md does.
    println!("{}", text(&run(None)));

    let hosts = doc["hosts"].as_array().unwrap();
    assert_eq!(hosts.len(), 2);
    let good = &hosts[0];
    assert_eq!(good["target"], format!("{PROXY_ONLY_HOST}:443"));
    assert_eq!(good["route"]["kind"], "proxy");
    assert_eq!(good["verified"], true);
    let by = good["intercepted_by"].as_str().unwrap();
    assert!(by.contains(ROOT_CN));
    assert!(report.contains(&format!("intercepted by {by}")), "{report}");
    let verdicts: Vec<(String, bool)> = good["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["trust_set"].as_str().unwrap().to_owned(),
                v["trusted"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        verdicts,
        [
            ("mozilla".to_owned(), false),
            ("os_store".to_owned(), false),
            ("trustrun_bundle".to_owned(), true)
        ]
    );
    assert_eq!(good["chain"].as_array().unwrap().len(), 2);
    assert!(good["root"]["subject"].as_str().unwrap().contains(ROOT_CN));
    assert_eq!(good["root"]["in_mozilla"], false);

    // The host the proxy refuses.
    let refused = &hosts[1];
    assert_eq!(refused["verified"], false);
    assert_eq!(refused["error"]["kind"], "proxy_refused");
    let message = refused["error"]["message"].as_str().unwrap();
    assert!(message.contains("403"), "{message}");
    assert!(report.contains(message), "{report}");

    // Sources: the test root is a corporate root from the CA file, passing the strict checks.
    let roots = doc["sources"]["corporate_roots"].as_array().unwrap();
    let root = roots
        .iter()
        .find(|r| r["subject"].as_str().unwrap().contains(ROOT_CN))
        .expect("the test root is listed");
    assert_eq!(root["passes_x509_strict"], true);
    assert!(
        root["source"]
            .as_str()
            .unwrap()
            .contains("corporate-root.pem")
    );
    assert!(report.contains(&format!("CN={ROOT_CN}")), "{report}");
    let kinds: Vec<&str> = doc["sources"]["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"mozilla") && kinds.contains(&"ca_file"),
        "{kinds:?}"
    );
    let bundle = doc["sources"]["bundle"]["path"].as_str().unwrap();
    assert!(report.contains(bundle), "{report}");

    // The empty SSL_CERT_FILE trap, in both.
    let env = doc["environment"].as_array().unwrap();
    let trap = env.iter().find(|v| v["name"] == "SSL_CERT_FILE").unwrap();
    assert_eq!(trap["status"], "empty");
    assert_eq!(trap["trap"], true);
    // The text wraps long lines under 100 columns: compare words.
    let words = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        words(&report).contains(&words(trap["message"].as_str().unwrap())),
        "{report}"
    );

    let summary = &doc["summary"];
    assert_eq!(summary["exit_code"], 1);
    assert_eq!(summary["hosts"], 2);
    assert_eq!(summary["verified"], 1);
    assert_eq!(summary["intercepted"], 1);
    let line = summary["line"].as_str().unwrap();
    assert!(
        words(&report).contains(&words(&format!("summary: {line}"))),
        "{report}"
    );
}

/// Each failure of the live look gets its own line, within the timeout, and exit code 1.
#[test]
fn every_failure_mode_has_a_line_within_the_timeout() {
    let cache = tempfile::tempdir().unwrap();

    // Refused: a port that was just free.
    let refused_port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    // Silent: accepts, never answers the ClientHello.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_port = silent.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in silent.incoming().flatten() {
            held.push(s);
        }
    });
    // Plain HTTP on the port.
    let http = TcpListener::bind("127.0.0.1:0").unwrap();
    let http_port = http.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut s in http.incoming().flatten() {
            let mut buf = [0u8; 512];
            let _ = s.read(&mut buf);
            let _ = s.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
        }
    });
    // Hangs up at once.
    let hangup = TcpListener::bind("127.0.0.1:0").unwrap();
    let hangup_port = hangup.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in hangup.incoming().flatten() {
            drop(s);
        }
    });
    // A proxy that refuses everything it is asked for.
    let proxy = Proxy::start("nothing-allowed.invalid", refused_port);

    let cases: Vec<(String, Option<&str>, &[&str])> = vec![
        (
            format!("127.0.0.1:{refused_port}"),
            None,
            &["refused the connection"],
        ),
        (
            format!("127.0.0.1:{silent_port}"),
            None,
            &["handshake not finished within 2 s"],
        ),
        (
            format!("127.0.0.1:{http_port}"),
            None,
            &["does not speak TLS", "HTTP/1.1 400 Bad Request"],
        ),
        (
            format!("127.0.0.1:{hangup_port}"),
            None,
            &["closed the connection"],
        ),
        ("no-such-host.invalid".to_owned(), None, &["DNS"]),
        (
            "blocked.invalid".to_owned(),
            Some(proxy.url.as_str()),
            &["refused CONNECT blocked.invalid:443", "403 Forbidden"],
        ),
    ];
    for (host, proxy_url, expected) in cases {
        let mut cmd = doctor(cache.path());
        if let Some(url) = proxy_url {
            cmd.env("HTTPS_PROXY", url);
        }
        let started = Instant::now();
        // -v: each host's line under it too.
        let out = cmd
            .args(["doctor", "-v", "--timeout", "2", &host])
            .output()
            .unwrap();
        let took = started.elapsed();
        let report = output_text(&out);
        assert_eq!(out.status.code(), Some(1), "{host}: {report}");
        assert!(!report.contains("panicked"), "{host}: {report}");
        let line = text(&out)
            .lines()
            .find(|l| l.trim_start().starts_with("=>"))
            .unwrap_or_else(|| panic!("{host}: no verdict line: {report}"))
            .to_owned();
        for e in expected {
            assert!(
                line.contains(e),
                "{host}: expected {e:?} in {line:?}\n{report}"
            );
        }
        // 2 s for the host, the rest for the local analysis of a debug build.
        assert!(took < Duration::from_secs(8), "{host}: took {took:?}");
    }
}

#[test]
fn usage_errors_exit_2_with_one_line() {
    let cache = tempfile::tempdir().unwrap();
    for args in [
        vec!["doctor", "host:0"],
        vec!["doctor", "bad host"],
        vec!["doctor", "--timeout", "0", "example.invalid"],
        vec!["doctor", "--timeout", "soon"],
        vec!["doctor", "--ca", "/no/such/root.pem"],
        vec!["doctor", "--no-such-flag"],
    ] {
        let out = doctor(cache.path()).args(&args).output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            output_text(&out)
        );
        let stderr = one_line_stderr(&out);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}: {}", output_text(&out));
        assert!(
            stderr.starts_with("trustrun: ") && stderr.ends_with('\n'),
            "{args:?}: one line expected: {stderr:?}"
        );
    }
}

#[test]
fn environment_traps_are_named() {
    let pki = Pki::corporate();
    let cache = tempfile::tempdir().unwrap();
    let mozilla_only = cache.path().join("mozilla-only.pem");
    let mut pem = String::new();
    for der in webpki_root_certs::TLS_SERVER_ROOT_CERTS {
        trustrun::certs::to_pem(der, &mut pem);
    }
    std::fs::write(&mozilla_only, pem).unwrap();
    let out = doctor(cache.path())
        .env("SSL_CERT_FILE", "")
        .env("REQUESTS_CA_BUNDLE", cache.path().join("missing.pem"))
        .env("CURL_CA_BUNDLE", &mozilla_only)
        .env("AWS_CA_BUNDLE", &pki.root_pem)
        .env("PYTHONHTTPSVERIFY", "0")
        .args(["doctor", "--json", "--ca"])
        .arg(&pki.root_pem)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
    let doc = json(&out);
    let status = |name: &str| {
        doc["environment"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["name"] == name)
            .unwrap_or_else(|| panic!("{name} not reported: {doc:#}"))
            .clone()
    };
    assert_eq!(status("SSL_CERT_FILE")["status"], "empty");
    assert_eq!(status("REQUESTS_CA_BUNDLE")["status"], "missing");
    let curl = status("CURL_CA_BUNDLE");
    assert_eq!(curl["status"], "lacks_corporate_roots");
    assert!(
        curl["message"].as_str().unwrap().contains(ROOT_CN),
        "{curl}"
    );
    assert!(
        curl["message"].as_str().unwrap().contains("narrows trust"),
        "{curl}"
    );
    // Only the corporate root: the proxied hosts work, every other host fails.
    // (This machine's OS store may hold local roots of its own, missing from that file too.)
    let aws = status("AWS_CA_BUNDLE");
    assert!(
        aws["status"] == "lacks_public_roots" || aws["status"] == "lacks_corporate_roots",
        "{aws}"
    );
    assert!(
        aws["message"]
            .as_str()
            .unwrap()
            .contains("holds 0 of Mozilla's"),
        "{aws}"
    );
    let verify = status("PYTHONHTTPSVERIFY");
    assert!(
        verify["message"]
            .as_str()
            .unwrap()
            .contains("does nothing in Python 3")
    );
    assert!(
        doc["environment"]
            .as_array()
            .unwrap()
            .iter()
            .all(|v| v["trap"] == true)
    );
}

#[test]
fn a_root_failing_strict_checks_is_flagged_and_the_relaxation_recommended() {
    let pki = lax_root_pki();
    let server = Server::start(pki.server_config.clone());
    let cache = tempfile::tempdir().unwrap();
    // -v: why the root fails.
    let out = doctor(cache.path())
        .args(["doctor", "-v", "--ca"])
        .arg(&pki.root_pem)
        .arg(format!("127.0.0.1:{}", server.port))
        .output()
        .unwrap();
    let report = text(&out);
    // Trusted all the same: rustls, like OpenSSL without the strict flag, does not mind.
    assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
    assert!(
        report.contains(&format!("intercepted by CN={LAX_ROOT_CN}")),
        "{report}"
    );
    assert!(
        report.contains("basicConstraints is not marked critical"),
        "{report}"
    );
    assert!(
        report.contains("Python 3.13 strict X.509 checks: FAIL"),
        "{report}"
    );
    // No Python on PATH (doctor() empties it): a note, not a fix; tests/doctor_advice.rs has
    // the case with a Python 3.13 on PATH.
    let words = report.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        words.contains("no Python 3.13+ is on PATH, so nothing to do now"),
        "{report}"
    );

    let out = doctor(cache.path())
        .args(["doctor", "--json", "--ca"])
        .arg(&pki.root_pem)
        .output()
        .unwrap();
    let doc = json(&out);
    let root = doc["sources"]["corporate_roots"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["subject"].as_str().unwrap().contains(LAX_ROOT_CN))
        .cloned()
        .expect("the lax root is listed");
    assert_eq!(root["passes_x509_strict"], false);
    let problems = root["x509_strict_problems"].to_string();
    assert!(
        problems.contains("basicConstraints is not marked critical"),
        "{problems}"
    );
    // Only that: the fixture is otherwise sound, so the check is not merely failing everything.
    assert_eq!(
        root["x509_strict_problems"].as_array().unwrap().len(),
        1,
        "{problems}"
    );
}

/// A Python 3.13 with real requests and urllib3 2.x: `TRUSTRUN_TEST_PY313_REQUESTS`, else a venv
/// made from `python313()` in `target/py313-venv` on first use with the pins of
/// tests/python/requirements.txt (pip reaches the registry with this machine's own settings).
fn python313_with_requests() -> PathBuf {
    if let Some(p) = std::env::var_os("TRUSTRUN_TEST_PY313_REQUESTS") {
        return PathBuf::from(p);
    }
    let dir = repo().join("target/py313-venv");
    let requirements =
        std::fs::read_to_string(repo().join("tests/python/requirements.txt")).unwrap();
    let pins: Vec<&str> = requirements
        .lines()
        .filter(|l| {
            [
                "requests==",
                "urllib3==",
                "certifi==",
                "idna==",
                "charset-normalizer==",
            ]
            .iter()
            .any(|p| l.starts_with(p))
        })
        .collect();
    assert_eq!(
        pins.len(),
        5,
        "pins for requests and its dependencies: {pins:?}"
    );
    let stamp = dir.join(".trustrun-requirements");
    let wanted = pins.join("\n");
    let python = dir.join("bin/python");
    if std::fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str()) {
        return python;
    }
    std::fs::create_dir_all(repo().join("target")).unwrap();
    let lock = std::fs::File::create(dir.with_extension("lock")).unwrap();
    lock.lock().unwrap();
    if std::fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str()) {
        return python;
    }
    let _ = std::fs::remove_dir_all(&dir);
    run_ok(Command::new(python313()).args(["-m", "venv"]).arg(&dir));
    run_ok(
        Command::new(dir.join("bin/pip"))
            .args(["install", "--quiet", "--disable-pip-version-check"])
            .args(&pins),
    );
    std::fs::write(&stamp, wanted).unwrap();
    python
}

const URLLIB_CLIENT: &str = r#"
import sys, urllib.request
try:
    with urllib.request.urlopen(sys.argv[1] + "/ok", timeout=10) as r:
        print("OK", r.status)
except Exception as e:
    print("FAILED", e)
    sys.exit(1)
"#;

/// `trustrun [--relax-x509-strict] --ca ROOT PYTHON -c CODE URL`, cleaned of the machine's presets.
fn run_python(
    python: &Path,
    pki: &Pki,
    cache: &Path,
    code: &str,
    url: &str,
    relax: bool,
) -> Output {
    let mut cmd = Command::new(trustrun_bin());
    clean(&mut cmd, cache);
    if relax {
        cmd.arg("--relax-x509-strict");
    }
    cmd.arg("--ca")
        .arg(&pki.root_pem)
        .arg(python)
        .args(["-c", code, url])
        .output()
        .unwrap()
}

#[test]
fn relax_x509_strict_lets_python_313_accept_a_lax_root() {
    let python = python313();
    let pki = lax_root_pki();
    let server = Server::start(pki.server_config.clone());
    let cache = tempfile::tempdir().unwrap();
    let run = |relax: bool| {
        run_python(
            &python,
            &pki,
            cache.path(),
            URLLIB_CLIENT,
            &server.url,
            relax,
        )
    };
    let strict = run(false);
    let strict_text = output_text(&strict);
    assert_eq!(strict.status.code(), Some(1), "{strict_text}");
    assert!(
        strict_text.contains("Basic Constraints of CA cert not marked critical"),
        "Python 3.13 should reject the lax root for the reason doctor names:\n{strict_text}"
    );
    let relaxed = run(true);
    assert_ok(&relaxed, "200");
}

/// urllib3 2.x copies VERIFY_X509_STRICT into its own contexts on 3.13; the relaxation covers
/// its defaults too, and leaves flags a caller names alone. A stand-in module with urllib3's
/// signature and behaviour keeps this test off the network.
#[test]
fn relax_x509_strict_covers_urllib3_default_contexts() {
    let python = python313();
    let cache = tempfile::tempdir().unwrap();
    let site = cache.path().join("site");
    std::fs::create_dir_all(site.join("urllib3/util")).unwrap();
    std::fs::write(site.join("urllib3/__init__.py"), "").unwrap();
    std::fs::write(
        site.join("urllib3/util/__init__.py"),
        "from .ssl_ import create_urllib3_context\n",
    )
    .unwrap();
    std::fs::write(
        site.join("urllib3/util/ssl_.py"),
        r#"import ssl, sys
def create_urllib3_context(ssl_version=None, cert_reqs=None, options=None, ciphers=None,
                           ssl_minimum_version=None, ssl_maximum_version=None, verify_flags=None):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if verify_flags is None:
        verify_flags = 0
        if sys.version_info >= (3, 13):
            verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN | ssl.VERIFY_X509_STRICT
    context.verify_flags |= verify_flags
    return context
"#,
    )
    .unwrap();
    let probe = "import ssl, urllib3.util as u\n\
                 d = u.create_urllib3_context()\n\
                 e = u.create_urllib3_context(verify_flags=ssl.VERIFY_X509_STRICT)\n\
                 print('default', bool(d.verify_flags & ssl.VERIFY_X509_STRICT), \
                 'partial', bool(d.verify_flags & ssl.VERIFY_X509_PARTIAL_CHAIN), \
                 'explicit', bool(e.verify_flags & ssl.VERIFY_X509_STRICT))";
    let run = |relax: bool| {
        let mut cmd = Command::new(trustrun_bin());
        clean(&mut cmd, cache.path());
        if relax {
            cmd.arg("--relax-x509-strict");
        }
        let out = cmd
            .arg(&python)
            .args(["-c", probe])
            .env("PYTHONPATH", &site)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
        text(&out).trim().to_owned()
    };
    assert_eq!(run(false), "default True partial True explicit True");
    assert_eq!(run(true), "default False partial True explicit True");
}

#[test]
fn pythons_on_path_are_described() {
    let python = python313();
    let cache = tempfile::tempdir().unwrap();
    let bin = cache.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    // `python3` is a script run under -I, as some installers write them.
    let script = bin.join("python3");
    std::fs::write(
        &script,
        format!("#!{} -I\nprint('hello')\n", python.display()),
    )
    .unwrap();
    // `python` is the interpreter itself.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::os::unix::fs::symlink(&python, bin.join("python")).unwrap();
    }
    let mut cmd = Command::new(trustrun_bin());
    clean(&mut cmd, cache.path());
    let out = cmd
        .env("PATH", &bin)
        .args(["doctor", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
    let doc = json(&out);
    let pythons = doc["pythons"].as_array().unwrap();
    let by_name = |n: &str| {
        pythons
            .iter()
            .find(|p| p["name"] == n)
            .unwrap_or_else(|| panic!("{n} not listed: {doc:#}"))
    };
    let plain = by_name("python");
    assert!(
        plain["version"].as_str().unwrap().starts_with("3.13"),
        "{plain}"
    );
    assert_eq!(plain["x509_strict_default"], true);
    assert!(plain["isolation_flags"].as_array().unwrap().is_empty());
    let isolated = by_name("python3");
    assert_eq!(isolated["isolation_flags"][0], "-I", "{isolated}");
    assert!(
        isolated["version"].as_str().unwrap().starts_with("3.13"),
        "{isolated}"
    );
    assert!(
        isolated["notes"]
            .to_string()
            .contains("PYTHONPATH is ignored"),
        "{isolated}"
    );
}

/// Real requests + urllib3 2.x on Python 3.13 (`python313_with_requests`).
#[test]
fn relax_x509_strict_with_real_requests_on_313() {
    let python = python313_with_requests();
    let pki = lax_root_pki();
    let server = Server::start(pki.server_config.clone());
    let cache = tempfile::tempdir().unwrap();
    let client = "import sys, requests\n\
                  try:\n    print('OK', requests.get(sys.argv[1] + '/ok', timeout=10).status_code)\n\
                  except Exception as e:\n    print('FAILED', e); sys.exit(1)\n";
    let run = |relax: bool| run_python(&python, &pki, cache.path(), client, &server.url, relax);
    let strict = run(false);
    assert_eq!(strict.status.code(), Some(1), "{}", output_text(&strict));
    assert!(
        output_text(&strict).contains("Basic Constraints of CA cert not marked critical"),
        "{}",
        output_text(&strict)
    );
    let relaxed = run(true);
    assert_ok(&relaxed, "200");
}

/// NO_PROXY wins over HTTPS_PROXY: a loopback host goes direct even with a proxy that would
/// refuse it, and the proxy is used again once NO_PROXY no longer names the host.
#[test]
fn no_proxy_is_honoured() {
    let pki = Pki::corporate();
    let server = Server::start(pki.server_config.clone());
    let proxy = Proxy::start("nothing-allowed.invalid", server.port);
    let cache = tempfile::tempdir().unwrap();
    let target = format!("127.0.0.1:{}", server.port);
    let run = |no_proxy: &str| {
        let out = doctor(cache.path())
            .env("HTTPS_PROXY", &proxy.url)
            .env("NO_PROXY", no_proxy)
            .env("no_proxy", no_proxy)
            .args(["doctor", "--json", "--timeout", "3", "--ca"])
            .arg(&pki.root_pem)
            .arg(&target)
            .output()
            .unwrap();
        (out.status.code(), json(&out)["hosts"][0].clone())
    };
    let (code, host) = run("localhost,127.0.0.0/8");
    assert_eq!(code, Some(0), "{host}");
    assert_eq!(host["route"]["kind"], "direct");
    assert!(host["intercepted_by"].as_str().unwrap().contains(ROOT_CN));
    let (code, host) = run("example.invalid");
    assert_eq!(code, Some(1), "{host}");
    assert_eq!(host["route"]["kind"], "proxy");
    assert_eq!(host["error"]["kind"], "proxy_refused");
}
