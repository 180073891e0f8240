//! A live look at a host (doctor, beside the pipeline): TCP (through a CONNECT proxy when the
//! environment names one), then a TLS handshake that records the chain the host presents. Every
//! step runs against one deadline, and every way it can fail becomes a `ProbeError` with a line a
//! user can act on.
//!
//! The handshake's verifier records the chain and then returns the verdict of rustls' WebPKI
//! verifier over trustrun's bundle: an untrusted chain aborts the handshake exactly as it would
//! for any client. No application data is ever sent.

use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, ClientConnection, DigitallySignedStruct, SignatureScheme};
use serde::Serialize;

use super::proxy::Route;
use super::target::Target;
use super::verdict;
use crate::sources::certs::Der;

#[derive(Clone, Debug, Serialize)]
pub struct ProbeError {
    pub kind: ProbeKind,
    pub message: String,
}

/// Where a live look stopped; `--json` carries it as the snake_case name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProbeKind {
    Dns,
    DnsTimeout,
    Refused,
    ConnectTimeout,
    Connect,
    ProxyUnsupported,
    ProxyRefused,
    ProxyError,
    ProxyTimeout,
    TlsTimeout,
    NotTls,
    Closed,
    Tls,
    /// The handshake stopped because trustrun's bundle does not trust the chain.
    Untrusted,
    /// doctor itself failed (a probe thread, a bundle with no usable root).
    Internal,
}

pub struct Probed {
    /// What the host presented, leaf first; empty when the handshake never got that far.
    pub chain: Vec<Der>,
    pub tls_version: Option<String>,
    pub error: Option<ProbeError>,
}

fn fail(kind: ProbeKind, message: String) -> ProbeError {
    ProbeError { kind, message }
}

pub fn probe(
    target: &Target,
    route: &Route,
    bundle: Arc<WebPkiServerVerifier>,
    timeout: Duration,
) -> Probed {
    let deadline = Instant::now() + timeout;
    let recorder = Arc::new(Recorder {
        inner: bundle,
        chain: Mutex::new(Vec::new()),
    });
    let result = connect(target, route, deadline, timeout)
        .and_then(|stream| handshake(target, stream, recorder.clone(), deadline, timeout));
    let chain = recorder.chain.lock().map(|c| c.clone()).unwrap_or_default();
    match result {
        Ok(version) => Probed {
            chain,
            tls_version: version,
            error: None,
        },
        Err(error) => Probed {
            chain,
            tls_version: None,
            error: Some(error),
        },
    }
}

fn remaining(deadline: Instant) -> Option<Duration> {
    deadline
        .checked_duration_since(Instant::now())
        .filter(|d| !d.is_zero())
}

/// The system resolver has no timeout of its own (it may wait on a dead DNS server for
/// tens of seconds), so it runs in a thread we stop waiting for at the deadline.
fn resolve(
    host: &str,
    port: u16,
    deadline: Instant,
    timeout: Duration,
) -> Result<Vec<SocketAddr>, ProbeError> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let (tx, rx) = mpsc::channel();
    let name = host.to_owned();
    std::thread::spawn(move || {
        let _ = tx.send(
            (name.as_str(), port)
                .to_socket_addrs()
                .map(|a| a.collect::<Vec<_>>()),
        );
    });
    let wait = remaining(deadline).unwrap_or_default();
    match rx.recv_timeout(wait) {
        Ok(Ok(addrs)) if !addrs.is_empty() => Ok(addrs),
        Ok(Ok(_)) => Err(fail(ProbeKind::Dns, format!("DNS: {host} has no address"))),
        Ok(Err(e)) => Err(fail(
            ProbeKind::Dns,
            format!("DNS: cannot resolve {host}: {}", resolver_error(&e)),
        )),
        Err(_) => Err(fail(
            ProbeKind::DnsTimeout,
            format!("DNS: no answer for {host} within {}", secs(timeout)),
        )),
    }
}

fn resolver_error(e: &io::Error) -> String {
    let text = e.to_string();
    if text.contains("failed to lookup address information") {
        text.replace("failed to lookup address information: ", "")
    } else {
        text
    }
}

pub fn secs(d: Duration) -> String {
    format!("{} s", d.as_secs_f64())
}

fn tcp(
    what: &str,
    addrs: &[SocketAddr],
    deadline: Instant,
    timeout: Duration,
) -> Result<TcpStream, ProbeError> {
    let mut last: Option<io::Error> = None;
    for addr in addrs {
        let Some(wait) = remaining(deadline) else {
            break;
        };
        match TcpStream::connect_timeout(addr, wait) {
            Ok(stream) => return Ok(stream),
            Err(e) => last = Some(e),
        }
    }
    Err(match last {
        Some(e) if e.kind() == io::ErrorKind::ConnectionRefused => fail(
            ProbeKind::Refused,
            format!("TCP: {what} refused the connection (nothing listens on that port)"),
        ),
        Some(e) if !is_timeout(&e) => fail(
            ProbeKind::Connect,
            format!("TCP: cannot connect to {what}: {e}"),
        ),
        _ => fail(
            ProbeKind::ConnectTimeout,
            format!("TCP: no answer from {what} within {}", secs(timeout)),
        ),
    })
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
    )
}

/// Socket timeouts shrink with the deadline, so no single read or write outlives it.
fn arm(stream: &TcpStream, deadline: Instant) -> io::Result<()> {
    let wait = remaining(deadline).unwrap_or(Duration::from_millis(1));
    stream.set_read_timeout(Some(wait))?;
    stream.set_write_timeout(Some(wait))
}

fn connect(
    target: &Target,
    route: &Route,
    deadline: Instant,
    timeout: Duration,
) -> Result<TcpStream, ProbeError> {
    match route {
        Route::Direct => {
            let addrs = resolve(&target.host, target.port, deadline, timeout)?;
            tcp(&target.display(), &addrs, deadline, timeout)
        }
        Route::Unsupported { url, why } => Err(fail(
            ProbeKind::ProxyUnsupported,
            format!("proxy {url}: {why}"),
        )),
        Route::Proxy {
            url,
            host,
            port,
            authorization,
        } => {
            let addrs = resolve(host, *port, deadline, timeout).map_err(|e| ProbeError {
                message: format!("proxy {url}: {}", e.message),
                ..e
            })?;
            let mut stream = tcp(&format!("the proxy {url}"), &addrs, deadline, timeout)?;
            tunnel(
                &mut stream,
                target,
                url,
                authorization.as_deref(),
                deadline,
                timeout,
            )?;
            Ok(stream)
        }
    }
}

/// `CONNECT host:port`, then the proxy's answer up to the blank line, read a byte at a time so
/// nothing of the TLS stream behind it is consumed.
fn tunnel(
    stream: &mut TcpStream,
    target: &Target,
    url: &str,
    authorization: Option<&str>,
    deadline: Instant,
    timeout: Duration,
) -> Result<(), ProbeError> {
    let io_fail = |e: io::Error| {
        if is_timeout(&e) {
            fail(
                ProbeKind::ProxyTimeout,
                format!("proxy {url}: no answer to CONNECT within {}", secs(timeout)),
            )
        } else {
            fail(ProbeKind::ProxyError, format!("proxy {url}: {e}"))
        }
    };
    arm(stream, deadline).map_err(io_fail)?;
    let authority = target.display();
    let mut request = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n");
    if let Some(auth) = authorization {
        request.push_str(&format!("Proxy-Authorization: {auth}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).map_err(io_fail)?;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && !head.ends_with(b"\n\n") {
        if head.len() > 16 * 1024 {
            return Err(fail(
                ProbeKind::ProxyError,
                format!("proxy {url}: its answer to CONNECT never ends"),
            ));
        }
        arm(stream, deadline).map_err(io_fail)?;
        match stream.read(&mut byte) {
            Ok(0) => {
                return Err(fail(
                    ProbeKind::ProxyError,
                    format!(
                        "proxy {url}: closed the connection without answering CONNECT {authority}"
                    ),
                ));
            }
            Ok(_) => head.push(byte[0]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io_fail(e)),
        }
    }
    let text = String::from_utf8_lossy(&head);
    let status_line = text.lines().next().unwrap_or_default().trim().to_owned();
    let mut words = status_line.split_whitespace();
    let (proto, code) = (words.next().unwrap_or_default(), words.next());
    if !proto.starts_with("HTTP/") {
        return Err(fail(
            ProbeKind::ProxyError,
            format!(
                "proxy {url}: answered CONNECT with something that is not HTTP: {status_line:?}"
            ),
        ));
    }
    match code {
        Some(c) if c.starts_with('2') => Ok(()),
        Some("407") => Err(fail(
            ProbeKind::ProxyRefused,
            format!(
                "proxy {url}: wants credentials for CONNECT {authority} ({status_line}); put them in the proxy URL"
            ),
        )),
        _ => Err(fail(
            ProbeKind::ProxyRefused,
            format!("proxy {url}: refused CONNECT {authority}: {status_line}"),
        )),
    }
}

/// Records the chain, then lets trustrun's bundle decide, as a client using it would.
#[derive(Debug)]
struct Recorder {
    inner: Arc<WebPkiServerVerifier>,
    chain: Mutex<Vec<Der>>,
}

impl ServerCertVerifier for Recorder {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let Ok(mut chain) = self.chain.lock() {
            *chain = std::iter::once(end_entity)
                .chain(intermediates)
                .map(|c| c.clone().into_owned())
                .collect();
        }
        self.inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// The first bytes the server sent: a TLS record starts with a content type of 20 to 23, so
/// anything else (an HTTP error page, an SSH banner) is named for what it is.
struct Sniffing {
    stream: TcpStream,
    first: Vec<u8>,
    deadline: Instant,
}

impl Read for Sniffing {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        arm(&self.stream, self.deadline)?;
        let n = self.stream.read(buf)?;
        if self.first.len() < 64 {
            let take = n.min(64 - self.first.len());
            self.first.extend_from_slice(&buf[..take]);
        }
        Ok(n)
    }
}

impl Write for Sniffing {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        arm(&self.stream, self.deadline)?;
        self.stream.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.stream.flush()
    }
}

fn handshake(
    target: &Target,
    stream: TcpStream,
    recorder: Arc<Recorder>,
    deadline: Instant,
    timeout: Duration,
) -> Result<Option<String>, ProbeError> {
    let tls_fail = |e: String| fail(ProbeKind::Tls, format!("TLS: {e}"));
    let config = ClientConfig::builder_with_provider(verdict::provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_fail(e.to_string()))?
        // "dangerous" is rustls' name for any custom verifier; this one only records the chain
        // and returns the real WebPKI verifier's answer.
        .dangerous()
        .with_custom_certificate_verifier(recorder.clone())
        .with_no_client_auth();
    let mut conn = ClientConnection::new(Arc::new(config), target.server_name())
        .map_err(|e| tls_fail(e.to_string()))?;
    let mut sock = Sniffing {
        stream,
        first: Vec::new(),
        deadline,
    };
    while conn.is_handshaking() {
        if remaining(deadline).is_none() {
            return Err(fail(
                ProbeKind::TlsTimeout,
                format!("TLS: handshake not finished within {}", secs(timeout)),
            ));
        }
        if let Err(e) = conn.complete_io(&mut sock) {
            return Err(classify(e, &sock.first, &recorder, timeout));
        }
    }
    let version = conn.protocol_version().map(|v| format!("{v:?}"));
    conn.send_close_notify();
    let _ = conn.complete_io(&mut sock);
    Ok(version)
}

fn classify(e: io::Error, first: &[u8], recorder: &Recorder, timeout: Duration) -> ProbeError {
    if !first.is_empty() && !(20..=23).contains(&first[0]) {
        let shown: String = String::from_utf8_lossy(first)
            .lines()
            .next()
            .unwrap_or_default()
            .chars()
            .filter(|c| !c.is_control())
            .take(60)
            .collect();
        return fail(
            ProbeKind::NotTls,
            format!("TLS: the server does not speak TLS on this port; it answered {shown:?}"),
        );
    }
    if is_timeout(&e) {
        return fail(
            ProbeKind::TlsTimeout,
            format!("TLS: handshake not finished within {}", secs(timeout)),
        );
    }
    let recorded = recorder
        .chain
        .lock()
        .map(|c| !c.is_empty())
        .unwrap_or(false);
    if let Some(rustls::Error::InvalidCertificate(cert)) = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        && recorded
    {
        return fail(
            ProbeKind::Untrusted,
            format!(
                "TLS: handshake stopped: trustrun's bundle does not trust this chain ({})",
                verdict::describe(&rustls::Error::InvalidCertificate(cert.clone()))
            ),
        );
    }
    if matches!(
        e.kind(),
        io::ErrorKind::UnexpectedEof
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
    ) {
        return fail(
            ProbeKind::Closed,
            format!("TLS: the server closed the connection during the handshake ({e})"),
        );
    }
    fail(ProbeKind::Tls, format!("TLS: {e}"))
}
