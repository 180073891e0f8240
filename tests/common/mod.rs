//! Shared test fixtures: a test "corporate" PKI, a local HTTPS server on loopback, the pinned
//! virtualenv of real Python clients, and child environments cleaned of this machine's CA presets.

use std::ffi::{OsStr, OsString};
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, CustomExtension, DnType, IsCa,
    KeyIdMethod, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

// The private Debian 13 engine for the tests that build images (.ci/engine).
pub mod engine;

pub const ROOT_CN: &str = "Trustrun Test Corporate Root CA";

/// A root, an intermediate (as Zscaler and friends use) and a leaf for 127.0.0.1 and localhost.
pub struct Pki {
    // Kept alive: the PEM files live in it.
    pub dir: tempfile::TempDir,
    pub root_pem: PathBuf,
    pub root_der: CertificateDer<'static>,
    pub server_config: Arc<rustls::ServerConfig>,
}

impl Pki {
    pub fn corporate() -> Pki {
        Pki::build(ROOT_CN, |_| {})
    }

    /// A root whose basicConstraints is not critical and that has no keyUsage (`key_byte` fills
    /// its key identifier): trusted by OpenSSL and rustls, rejected by Python 3.13's
    /// VERIFY_X509_STRICT.
    pub fn lax(root_cn: &str, names: &[&str], key_byte: u8) -> Pki {
        Pki::build_for(root_cn, names, |params| {
            let key_id = vec![key_byte; 20];
            params.is_ca = IsCa::NoCa;
            params.key_identifier_method = KeyIdMethod::PreSpecified(key_id.clone());
            // BasicConstraints ::= SEQUENCE { cA BOOLEAN TRUE }, not critical.
            let mut bc = CustomExtension::from_oid_content(
                &[2, 5, 29, 19],
                vec![0x30, 0x03, 0x01, 0x01, 0xff],
            );
            bc.set_criticality(false);
            let mut ski_der = vec![0x04, key_id.len() as u8];
            ski_der.extend(&key_id);
            let ski = CustomExtension::from_oid_content(&[2, 5, 29, 14], ski_der);
            params.custom_extensions = vec![bc, ski];
        })
    }

    /// A PKI whose root parameters `tweak` may change (non-critical basicConstraints...).
    pub fn build(root_cn: &str, tweak: impl FnOnce(&mut CertificateParams)) -> Pki {
        Pki::build_for(root_cn, &["localhost", "127.0.0.1"], tweak)
    }

    /// The same with a leaf for `names` (a name only a test proxy resolves, say).
    pub fn build_for(
        root_cn: &str,
        names: &[&str],
        tweak: impl FnOnce(&mut CertificateParams),
    ) -> Pki {
        let mut root_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        root_params
            .distinguished_name
            .push(DnType::CommonName, root_cn);
        root_params
            .distinguished_name
            .push(DnType::OrganizationName, "Trustrun Tests");
        root_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        root_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        tweak(&mut root_params);
        let root = CertifiedIssuer::self_signed(root_params, KeyPair::generate().unwrap()).unwrap();

        let mut inter_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        inter_params
            .distinguished_name
            .push(DnType::CommonName, "Trustrun Test Inspection Intermediate");
        inter_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        inter_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        inter_params.use_authority_key_identifier_extension = true;
        let inter =
            CertifiedIssuer::signed_by(inter_params, KeyPair::generate().unwrap(), &root).unwrap();

        let leaf_key = KeyPair::generate().unwrap();
        let mut leaf_params =
            CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .unwrap();
        leaf_params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        leaf_params.use_authority_key_identifier_extension = true;
        leaf_params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        leaf_params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
        let leaf = leaf_params.signed_by(&leaf_key, &inter).unwrap();

        let dir = tempfile::tempdir().unwrap();
        let root_pem = dir.path().join("corporate-root.pem");
        fs::write(&root_pem, root.pem()).unwrap();

        let chain = vec![leaf.der().clone(), inter.der().clone()];
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
        Pki {
            dir,
            root_pem,
            root_der: root.der().clone(),
            server_config: Arc::new(config),
        }
    }
}

/// An HTTPS server on 127.0.0.1 answering every request with JSON (an OpenAI-shaped chat
/// completion under /v1/chat/completions). Counts the requests it answered.
pub struct Server {
    pub port: u16,
    pub url: String,
    answered: Arc<AtomicUsize>,
    errors: Arc<std::sync::Mutex<Vec<String>>>,
}

/// Fixed answers by request path (query string ignored): content type and body. A path not in
/// the map gets the JSON answer.
pub type Routes = std::collections::HashMap<String, (&'static str, Vec<u8>)>;

impl Server {
    pub fn start(config: Arc<rustls::ServerConfig>) -> Server {
        Server::start_with_routes(config, Routes::new())
    }

    /// The same server, answering `routes` with their own bodies (a package index, say).
    pub fn start_with_routes(config: Arc<rustls::ServerConfig>, routes: Routes) -> Server {
        let routes = Arc::new(routes);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let answered = Arc::new(AtomicUsize::new(0));
        let errors = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (counter, error_log) = (answered.clone(), errors.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let config = config.clone();
                let counter = counter.clone();
                let error_log = error_log.clone();
                let routes = routes.clone();
                std::thread::spawn(move || match serve_one(stream, config, &routes) {
                    Ok(()) => {
                        counter.fetch_add(1, Ordering::SeqCst);
                    }
                    Err(e) => error_log.lock().unwrap().push(e.to_string()),
                });
            }
        });
        Server {
            port,
            url: format!("https://127.0.0.1:{port}"),
            answered,
            errors,
        }
    }

    /// Whether a client aborted a handshake because it did not trust our chain: the TLS alert
    /// "unknown CA", as OpenSSL sends it. Proof of a certificate failure for clients that hide it.
    pub fn saw_unknown_ca_alert(&self) -> bool {
        // The handshake thread may still be recording when the client has already exited.
        for _ in 0..50 {
            if self
                .errors
                .lock()
                .unwrap()
                .iter()
                .any(|e| e.contains("UnknownCA"))
            {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    pub fn answered(&self) -> usize {
        self.answered.load(Ordering::SeqCst)
    }
}

fn serve_one(
    stream: TcpStream,
    config: Arc<rustls::ServerConfig>,
    routes: &Routes,
) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let conn = rustls::ServerConnection::new(config).map_err(std::io::Error::other)?;
    let mut tls = BufReader::new(rustls::StreamOwned::new(conn, stream));
    let mut request_line = String::new();
    tls.read_line(&mut request_line)?;
    let path = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .to_owned();
    let mut content_length = 0usize;
    loop {
        let mut line = String::new();
        if tls.read_line(&mut line)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            content_length = value.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0u8; content_length];
    tls.read_exact(&mut body)?;
    let route_key = path.split('?').next().unwrap_or_default();
    if let Some((content_type, body)) = routes.get(route_key) {
        let mut tls = tls.into_inner();
        write!(
            tls,
            "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )?;
        tls.write_all(body)?;
        tls.flush()?;
        tls.conn.send_close_notify();
        let _ = tls.flush();
        return Ok(());
    }
    let reply = if path.contains("/chat/completions") {
        r#"{"id":"chatcmpl-test","object":"chat.completion","created":1700000000,"model":"gpt-test","choices":[{"index":0,"message":{"role":"assistant","content":"pong"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}"#.to_owned()
    } else {
        format!(r#"{{"ok":true,"path":"{path}"}}"#)
    };
    let mut tls = tls.into_inner();
    write!(
        tls,
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
        reply.len(),
        reply
    )?;
    tls.flush()?;
    tls.conn.send_close_notify();
    let _ = tls.flush();
    Ok(())
}

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn client_script() -> PathBuf {
    repo().join("tests/python/client.py")
}

pub fn trustrun_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_trustrun"))
}

/// The virtualenv with the pinned clients: `TRUSTRUN_TEST_VENV`, else `target/e2e-venv`, created
/// on first use (under a file lock, since test binaries and nextest processes run at once) with
/// `TRUSTRUN_TEST_BASE_PYTHON` (else `python3`), its pip running through the freshly built
/// trustrun: behind an intercepting proxy plain pip fails on the corporate root, and the tests
/// should pass for exactly the users trustrun is for.
pub fn venv() -> &'static Path {
    static VENV: OnceLock<PathBuf> = OnceLock::new();
    VENV.get_or_init(|| {
        let dir = std::env::var_os("TRUSTRUN_TEST_VENV")
            .map(PathBuf::from)
            .unwrap_or_else(|| repo().join("target/e2e-venv"));
        let requirements = repo().join("tests/python/requirements.txt");
        let wanted = fs::read_to_string(&requirements).unwrap();
        let stamp = dir.join(".trustrun-requirements");
        if fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str()) {
            return dir;
        }
        fs::create_dir_all(dir.parent().unwrap()).unwrap();
        let lock = fs::File::create(dir.with_extension("lock")).unwrap();
        lock.lock().unwrap();
        if fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str()) {
            return dir;
        }
        // Straight to the terminal, past the test harness's capture: this takes a minute or two.
        let _ = writeln!(
            std::io::stderr(),
            "creating the test venv (first run only): {} (pip through trustrun)",
            dir.display()
        );
        let _ = fs::remove_dir_all(&dir);
        create_venv(&dir);
        // pip reaches the package registry with this machine's own settings, through trustrun:
        // the OS trust store and any CA file the machine's variables name are trusted.
        let mut install = venv_pip_install(&dir);
        install.arg("-r").arg(&requirements);
        run_ok(install.env(
            "TRUSTRUN_CACHE_DIR",
            repo().join("target/trustrun-test-cache"),
        ));
        fs::write(&stamp, wanted).unwrap();
        dir
    })
}

/// The base interpreter test virtualenvs are made from.
pub fn base_python() -> std::ffi::OsString {
    std::env::var_os("TRUSTRUN_TEST_BASE_PYTHON").unwrap_or_else(|| "python3".into())
}

/// `BASE -m venv DIR`, with pip.
pub fn create_venv(dir: &Path) {
    run_ok(Command::new(base_python()).arg("-m").arg("venv").arg(dir));
}

/// `trustrun DIR/bin/python -m pip install`, arguments to follow: how `venv()` installs the
/// pinned clients (the test venv test runs it against an intercepted index of its own).
pub fn venv_pip_install(dir: &Path) -> Command {
    let mut cmd = Command::new(trustrun_bin());
    cmd.arg(dir.join("bin/python")).args([
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
    ]);
    cmd
}

pub fn venv_python() -> PathBuf {
    venv().join("bin/python")
}

pub fn run_ok(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Whether an environment variable name is one of the CA settings this machine and CI pre-set
/// (SSL_CERT_FILE, REQUESTS_CA_BUNDLE, PIP_CERT, NODE_EXTRA_CA_CERTS, ...) or one of ours. Matched
/// broadly on purpose: a control that passes because of a leftover preset proves nothing.
pub fn is_trust_variable(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    upper.starts_with("TRUSTRUN_")
        || upper == "PYTHONPATH"
        || upper.contains("CERT")
        || upper.contains("CA_BUNDLE")
        || upper.contains("CAFILE")
        || upper.contains("CAINFO")
        || upper.contains("CA_CERTS")
        || upper.contains("CAPATH")
        || upper.ends_with("_PROXY")
        || trustrun::vars::CA_VARIABLES
            .iter()
            .any(|(n, _)| *n == upper)
}

/// A child environment as a user behind a proxy has it: none of the CA presets, a private cache.
pub fn clean<'a>(cmd: &'a mut Command, cache: &Path) -> &'a mut Command {
    for (name, _) in std::env::vars_os() {
        if is_trust_variable(&name.to_string_lossy()) {
            cmd.env_remove(&name);
        }
    }
    cmd.env("TRUSTRUN_CACHE_DIR", cache)
        .env("NO_PROXY", "127.0.0.1,localhost,::1")
        .env("no_proxy", "127.0.0.1,localhost,::1")
        // litellm fetches a price list from the internet at import unless told not to.
        .env("LITELLM_LOCAL_MODEL_COST_MAP", "True")
        .env("LITELLM_TELEMETRY", "False")
        .env("PYTHONDONTWRITEBYTECODE", "1")
}

pub fn output_text(out: &Output) -> String {
    format!(
        "status: {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Everything one end-to-end test needs: PKI, server, a private cache.
pub struct World {
    pub pki: Pki,
    pub server: Server,
    pub cache: tempfile::TempDir,
}

impl World {
    pub fn new() -> World {
        let pki = Pki::corporate();
        let server = Server::start(pki.server_config.clone());
        World {
            pki,
            server,
            cache: tempfile::tempdir().unwrap(),
        }
    }

    /// `python client.py CLIENT URL` straight from the venv, without trustrun: the control.
    pub fn control(&self, client: &str) -> Output {
        self.alone(client).output()
    }

    /// The same through `trustrun --ca root.pem`.
    pub fn with_trustrun(&self, client: &str) -> Output {
        self.client(client).with_root().output()
    }

    /// A Python client of the test venv against this world's server, through trustrun (no
    /// `--ca` until asked for).
    pub fn client(&self, client: &str) -> ClientRun<'_> {
        ClientRun::new(self, client, true)
    }

    /// A Python client of the test venv against this world's server, without trustrun.
    pub fn alone(&self, client: &str) -> ClientRun<'_> {
        ClientRun::new(self, client, false)
    }

    /// `trustrun --ca CA true`: what trustrun makes of a CA file, with no client to run.
    pub fn trustrun_ca(&self, ca: impl AsRef<OsStr>) -> Output {
        let mut cmd = self.trustrun();
        cmd.arg("--ca").arg(ca).arg("true").output().unwrap()
    }

    /// `NAME=VALUE trustrun true`: what trustrun makes of a variable, with no client to run.
    pub fn trustrun_var(&self, name: &str, value: impl AsRef<OsStr>) -> Output {
        let mut cmd = self.trustrun();
        cmd.env(name, value).arg("true").output().unwrap()
    }

    /// A cleaned `trustrun` command using this world's cache.
    pub fn trustrun(&self) -> Command {
        let mut cmd = Command::new(trustrun_bin());
        clean(&mut cmd, self.cache.path());
        cmd
    }
}

/// The one spelling of "run a Python client (tests/python/client.py) against the test server",
/// through trustrun or alone, with the CA files, variables, trustrun options and Python flags a
/// case needs: `world.client("requests").with_root().output()`.
pub struct ClientRun<'w> {
    world: &'w World,
    client: String,
    through_trustrun: bool,
    python: PathBuf,
    trustrun_args: Vec<OsString>,
    python_args: Vec<OsString>,
    envs: Vec<(OsString, OsString)>,
}

impl<'w> ClientRun<'w> {
    fn new(world: &'w World, client: &str, through_trustrun: bool) -> ClientRun<'w> {
        ClientRun {
            world,
            client: client.to_owned(),
            through_trustrun,
            python: venv_python(),
            trustrun_args: Vec::new(),
            python_args: Vec::new(),
            envs: Vec::new(),
        }
    }

    /// `--ca PATH` (through trustrun only).
    pub fn ca(self, path: impl AsRef<OsStr>) -> Self {
        self.trustrun_args(["--ca".as_ref(), path.as_ref()])
    }

    /// `--ca` the world's corporate root.
    pub fn with_root(self) -> Self {
        let root = self.world.pki.root_pem.clone();
        self.ca(root)
    }

    /// trustrun's own options, before the program.
    pub fn trustrun_args<I, A>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = A>,
        A: AsRef<OsStr>,
    {
        assert!(
            self.through_trustrun,
            "trustrun options for a run without trustrun"
        );
        let args = args.into_iter().map(|a| a.as_ref().to_owned());
        self.trustrun_args.extend(args);
        self
    }

    /// Python's own options, before the client script (`-I`).
    pub fn python_arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.python_args.push(arg.as_ref().to_owned());
        self
    }

    /// Another interpreter than the test venv's.
    pub fn python(mut self, python: impl Into<PathBuf>) -> Self {
        self.python = python.into();
        self
    }

    pub fn env(mut self, name: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        let pair = (name.as_ref().to_owned(), value.as_ref().to_owned());
        self.envs.push(pair);
        self
    }

    pub fn command(&self) -> Command {
        let mut cmd = if self.through_trustrun {
            let mut cmd = self.world.trustrun();
            cmd.args(&self.trustrun_args).arg(&self.python);
            cmd
        } else {
            let mut cmd = Command::new(&self.python);
            clean(&mut cmd, self.world.cache.path());
            cmd
        };
        cmd.envs(self.envs.iter().map(|(k, v)| (k, v)))
            .args(&self.python_args)
            .arg(client_script())
            .args([&self.client, &self.world.server.url]);
        cmd
    }

    pub fn output(&self) -> Output {
        self.command().output().unwrap()
    }
}

/// Asserts the control failed on certificate verification, not for some other reason.
pub fn assert_certificate_failure(out: &Output) {
    let text = output_text(out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "expected a certificate failure:\n{text}"
    );
    assert!(
        text.contains("CERTIFICATE_VERIFY_FAILED"),
        "expected CERTIFICATE_VERIFY_FAILED:\n{text}"
    );
}

pub fn assert_ok(out: &Output, expected: &str) {
    let text = output_text(out);
    assert_eq!(out.status.code(), Some(0), "expected success:\n{text}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(&format!("OK {expected}")),
        "expected OK {expected}:\n{text}"
    );
}
