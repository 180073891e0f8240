//! A TLS client for the Windows tests under wine (built for x86_64-pc-windows-gnu): it trusts the
//! certificates in `SSL_CERT_FILE` and nothing else, as OpenSSL-based clients (Python's ssl, httpx,
//! litellm) do when that variable is set. Real Windows Python is not available under wine here.
//!
//!   tls_client URL        GET URL; prints `OK <body>` (exit 0), or the failure on one line:
//!                         `CERTIFICATE_VERIFY_FAILED: ...` for a certificate error (exit 1),
//!                         `ERROR: ...` for anything else (exit 2)

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};

fn main() {
    let url = std::env::args().nth(1).unwrap_or_default();
    match get(&url) {
        Ok(body) => println!("OK {body}"),
        Err(Failure::Certificate(e)) => {
            println!("CERTIFICATE_VERIFY_FAILED: {e}");
            std::process::exit(1);
        }
        Err(Failure::Other(e)) => {
            println!("ERROR: {e}");
            std::process::exit(2);
        }
    }
}

enum Failure {
    Certificate(String),
    Other(String),
}

fn other(e: impl std::fmt::Display) -> Failure {
    Failure::Other(e.to_string())
}

fn get(url: &str) -> Result<String, Failure> {
    let rest = url
        .strip_prefix("https://")
        .ok_or_else(|| other(format!("not an https URL: {url:?}")))?;
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let (host, port) = authority
        .rsplit_once(':')
        .ok_or_else(|| other("the URL needs HOST:PORT"))?;

    // No SSL_CERT_FILE means no trust at all: this client has no built-in roots.
    let mut roots = rustls::RootCertStore::empty();
    if let Some(file) = std::env::var_os("SSL_CERT_FILE").filter(|v| !v.is_empty()) {
        let certs = CertificateDer::pem_file_iter(&file)
            .map_err(|e| other(format!("SSL_CERT_FILE {}: {e}", file.to_string_lossy())))?;
        for cert in certs {
            let cert = cert.map_err(|e| other(format!("SSL_CERT_FILE: {e}")))?;
            // A root the verifier cannot use is skipped, as OpenSSL skips it.
            let _ = roots.add(cert);
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(other)?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = ServerName::try_from(host.to_owned()).map_err(other)?;
    let conn = rustls::ClientConnection::new(Arc::new(config), name).map_err(other)?;
    let sock = TcpStream::connect((host, port.parse::<u16>().map_err(other)?)).map_err(other)?;
    let mut tls = rustls::StreamOwned::new(conn, sock);
    let request = format!("GET /{path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n");
    let mut response = Vec::new();
    let io = tls
        .write_all(request.as_bytes())
        .and_then(|_| tls.read_to_end(&mut response));
    if let Err(e) = io {
        let certificate = e
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
            .is_some_and(|r| matches!(r, rustls::Error::InvalidCertificate(_)));
        return Err(if certificate {
            Failure::Certificate(e.to_string())
        } else {
            other(e)
        });
    }
    let text = String::from_utf8_lossy(&response);
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    Ok(body.trim().to_owned())
}
