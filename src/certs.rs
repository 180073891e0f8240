//! Reading certificates from the files and directories users and the OS name, and writing PEM.

use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use base64::Engine;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

pub type Der = CertificateDer<'static>;

/// Why a CA file or directory gives no certificates. Callers branch on it: a path the user named
/// is an error (exit 2), a path from the caller's environment is a warning.
#[derive(Debug)]
pub enum CaPathError {
    Missing(PathBuf),
    Unreadable(PathBuf, io::Error),
    NotCertificates(PathBuf),
    EmptyDirectory(PathBuf),
}

impl fmt::Display for CaPathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CaPathError::Missing(p) => {
                write!(f, "CA file {}: no such file or directory", p.display())
            }
            CaPathError::Unreadable(p, e) => write!(f, "CA file {}: cannot read: {e}", p.display()),
            CaPathError::NotCertificates(p) => write!(
                f,
                "CA file {}: holds no certificate (expected PEM 'BEGIN CERTIFICATE' blocks or one DER certificate)",
                p.display()
            ),
            CaPathError::EmptyDirectory(p) => {
                write!(f, "CA directory {}: holds no certificate file", p.display())
            }
        }
    }
}

impl std::error::Error for CaPathError {}

/// Certificates from a file (PEM with any number of certificates, or a single DER certificate,
/// as Windows' "export .cer" writes) or from every file directly inside a directory.
pub fn read_ca_path(path: &Path) -> Result<Vec<Der>, CaPathError> {
    let meta = match fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(CaPathError::Missing(path.to_owned()));
        }
        Err(e) => return Err(CaPathError::Unreadable(path.to_owned(), e)),
    };
    if meta.is_dir() {
        read_dir(path)
    } else {
        read_file(path)
    }
}

fn read_file(path: &Path) -> Result<Vec<Der>, CaPathError> {
    let bytes = fs::read(path).map_err(|e| CaPathError::Unreadable(path.to_owned(), e))?;
    let certs = parse(&bytes);
    if certs.is_empty() {
        return Err(CaPathError::NotCertificates(path.to_owned()));
    }
    Ok(certs)
}

fn read_dir(path: &Path) -> Result<Vec<Der>, CaPathError> {
    let entries = fs::read_dir(path).map_err(|e| CaPathError::Unreadable(path.to_owned(), e))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    // Directory order is arbitrary; the bundle should not change with it.
    files.sort();
    let mut certs = Vec::new();
    for file in files {
        // A README or a private key beside the certificates is not an error in a CA directory.
        if let Ok(found) = read_file(&file) {
            certs.extend(found);
        }
    }
    if certs.is_empty() {
        return Err(CaPathError::EmptyDirectory(path.to_owned()));
    }
    Ok(certs)
}

/// Every certificate in PEM text, or the bytes as one DER certificate when they hold no PEM.
pub fn parse(bytes: &[u8]) -> Vec<Der> {
    let pem: Vec<Der> = CertificateDer::pem_slice_iter(bytes)
        .filter_map(Result::ok)
        .collect();
    if !pem.is_empty() {
        return pem;
    }
    if looks_like_der_certificate(bytes) {
        return vec![CertificateDer::from(bytes.to_vec())];
    }
    Vec::new()
}

/// A DER certificate is one SEQUENCE spanning the whole input whose first element is a SEQUENCE
/// (the TBSCertificate). Enough to tell a `.cer` from a text file; the TLS stack that loads the
/// bundle does the real parsing.
fn looks_like_der_certificate(bytes: &[u8]) -> bool {
    fn header(b: &[u8]) -> Option<(usize, usize)> {
        // returns (header length, content length) of a SEQUENCE
        if b.len() < 2 || b[0] != 0x30 {
            return None;
        }
        let first = b[1] as usize;
        if first < 0x80 {
            return Some((2, first));
        }
        let n = first & 0x7f;
        if n == 0 || n > 4 || b.len() < 2 + n {
            return None;
        }
        let len = b[2..2 + n]
            .iter()
            .fold(0usize, |acc, &x| (acc << 8) | x as usize);
        Some((2 + n, len))
    }
    match header(bytes) {
        Some((h, len)) if h + len == bytes.len() => header(&bytes[h..]).is_some(),
        _ => false,
    }
}

/// One certificate as a PEM block.
pub fn to_pem(der: &[u8], out: &mut String) {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    out.push_str("-----BEGIN CERTIFICATE-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        // base64 output is ASCII.
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_round_trip() {
        let der = webpki_root_certs::TLS_SERVER_ROOT_CERTS[0].to_vec();
        let mut pem = String::new();
        to_pem(&der, &mut pem);
        let back = parse(pem.as_bytes());
        assert_eq!(back.len(), 1);
        assert_eq!(back[0].as_ref(), der.as_slice());
    }

    #[test]
    fn der_file_is_one_certificate() {
        let der = webpki_root_certs::TLS_SERVER_ROOT_CERTS[1].to_vec();
        assert_eq!(parse(&der).len(), 1);
        assert!(parse(b"hello, not a certificate\n").is_empty());
        assert!(parse(&der[..der.len() - 1]).is_empty());
    }
}
