//! Reading certificates from the files and directories users and the OS name, and writing PEM
//! (sources stage).

use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use base64::Engine;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::{self, PemObject, SectionKind};

use crate::util::input_file::{self, ReadError};

pub type Der = CertificateDer<'static>;

/// Why a CA file or directory gives no certificates. Callers branch on it: a path the user named
/// is an error (exit 2), a path from the caller's environment is a warning.
#[derive(Debug)]
pub enum CaPathError {
    Missing(PathBuf),
    Unreadable(PathBuf, io::Error),
    NotCertificates(PathBuf),
    EmptyDirectory(PathBuf),
    /// A FIFO, a device, a socket: reading it could block or never end.
    NotRegular(PathBuf, &'static str),
    TooLarge(PathBuf, u64),
    /// A PEM block cut off or damaged. The whole file is refused, as Python refuses it: using the
    /// blocks before the damage would trust something other than what the file says.
    Damaged(PathBuf, &'static str),
    /// Certificates (or a key) in a format trustrun does not read, with the command that converts it.
    OtherFormat(PathBuf, ForeignFormat),
    /// Such a file inside a CA directory (the directory, the file): converting it there is not
    /// enough, it must leave the directory too.
    OtherFormatInDirectory(PathBuf, PathBuf, ForeignFormat),
}

/// Formats users export CA certificates in by mistake (Windows' chain export writes PKCS#7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ForeignFormat {
    Pkcs7Pem,
    Pkcs7Der,
    Pkcs12,
    PrivateKey,
}

impl CaPathError {
    pub fn path(&self) -> &Path {
        match self {
            CaPathError::Missing(p)
            | CaPathError::Unreadable(p, _)
            | CaPathError::NotCertificates(p)
            | CaPathError::EmptyDirectory(p)
            | CaPathError::NotRegular(p, _)
            | CaPathError::TooLarge(p, _)
            | CaPathError::Damaged(p, _)
            | CaPathError::OtherFormat(p, _)
            | CaPathError::OtherFormatInDirectory(p, _, _) => p,
        }
    }
}

impl fmt::Display for CaPathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CaPathError::Missing(p) => {
                write!(
                    f,
                    "CA file {}: no such file or directory{}",
                    p.display(),
                    missing_hint(p)
                )
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
            CaPathError::NotRegular(p, what) => write!(
                f,
                "CA file {}: not a regular file or directory ({what}); refused without reading",
                p.display()
            ),
            CaPathError::TooLarge(p, limit) => write!(
                f,
                "CA file {}: larger than {} MB, far more than any CA bundle; refused",
                p.display(),
                limit >> 20
            ),
            CaPathError::Damaged(p, what) => write!(
                f,
                "CA file {}: {what}; the whole file is refused, as Python refuses it",
                p.display()
            ),
            CaPathError::OtherFormat(p, ForeignFormat::PrivateKey)
            | CaPathError::OtherFormatInDirectory(_, p, ForeignFormat::PrivateKey) => write!(
                f,
                "CA file {}: holds a private key, not a certificate; name the CA's certificate instead (a key is secret and trusts nothing)",
                p.display()
            ),
            CaPathError::OtherFormat(p, format) => {
                let out = converted_name(p);
                write!(
                    f,
                    "CA file {} {}, not PEM certificates; convert it with `{}` and name {}",
                    p.display(),
                    format.what(),
                    format.command(p, &out),
                    out.display()
                )
            }
            CaPathError::OtherFormatInDirectory(dir, p, format) => {
                // The converted file stays in the directory; the original leaves it, or the same
                // error comes back.
                let out = converted_name(p);
                let parent = dir.parent().unwrap_or(dir);
                write!(
                    f,
                    "CA directory {}: {} {}, not PEM certificates; convert it and move it out of \
                     the directory: `{}`",
                    dir.display(),
                    p.display(),
                    format.what(),
                    crate::util::shell::Shell::detect()
                        .then(&format.command(p, &out), &move_command(p, parent)),
                )
            }
        }
    }
}

impl ForeignFormat {
    fn what(self) -> &'static str {
        match self {
            ForeignFormat::Pkcs7Pem => "is PKCS#7 (a .p7b/.p7c certificate chain)",
            ForeignFormat::Pkcs7Der => "is binary PKCS#7 (a .p7b/.p7c certificate chain)",
            ForeignFormat::Pkcs12 => {
                "is PKCS#12 (a .pfx/.p12 archive of certificates and a private key)"
            }
            ForeignFormat::PrivateKey => "holds a private key",
        }
    }

    /// The openssl command that writes the certificates of `path` to `out` as PEM.
    fn command(self, path: &Path, out: &Path) -> String {
        let (input, out) = (quoted(path), quoted(out));
        match self {
            ForeignFormat::Pkcs7Pem => format!("openssl pkcs7 -print_certs -in {input} -out {out}"),
            ForeignFormat::Pkcs7Der => {
                format!("openssl pkcs7 -inform DER -print_certs -in {input} -out {out}")
            }
            ForeignFormat::Pkcs12 => format!("openssl pkcs12 -in {input} -nokeys -out {out}"),
            ForeignFormat::PrivateKey => String::new(),
        }
    }
}

/// The command that moves `path` into `dir`, in the user's shell.
fn move_command(path: &Path, dir: &Path) -> String {
    let verb = match crate::util::shell::Shell::detect() {
        crate::util::shell::Shell::PowerShell => "Move-Item",
        crate::util::shell::Shell::Cmd => "move",
        _ => "mv",
    };
    format!("{verb} {} {}", quoted(path), quoted(dir))
}

impl std::error::Error for CaPathError {}

/// Why a path the user typed names nothing, when the path itself shows it: a `~` no shell
/// expanded (quoted, or PowerShell, which expands it for its own commands only), or a Windows
/// path given on another system.
fn missing_hint(path: &Path) -> String {
    let text = path.to_string_lossy();
    let tilde = path
        .components()
        .any(|c| c.as_os_str().to_string_lossy().starts_with('~'));
    if tilde {
        return if cfg!(windows) {
            format!(
                " (`~` was not expanded: PowerShell expands it only for its own commands, cmd \
                 never; write {} or the full path)",
                crate::util::shell::Shell::detect().home_file("...")
            )
        } else {
            " (`~` was not expanded: it was quoted; leave ~/ outside the quotes, or write \
             \"$HOME/...\")"
                .to_owned()
        };
    }
    // `C:\Users\...` or `\\server\share` on a system whose paths use `/`.
    let windows_path = text.contains('\\') && (text.contains(":\\") || text.contains("\\\\"));
    if !cfg!(windows) && windows_path {
        return " (a Windows path; name the file as this system sees it, e.g. under /mnt/c/ in \
                 WSL)"
            .to_owned();
    }
    String::new()
}

/// Where the conversion command writes: `corp.p7b` becomes `corp.pem`.
fn converted_name(path: &Path) -> PathBuf {
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("pem"))
    {
        path.with_extension("certs.pem")
    } else {
        path.with_extension("pem")
    }
}

/// A path as a shell word, so the printed command can be pasted as it is.
#[cfg(unix)]
fn quoted(path: &Path) -> String {
    let text = path.to_string_lossy();
    let plain = |c: char| c.is_ascii_alphanumeric() || "/._-+,:@%=".contains(c);
    if !text.is_empty() && text.chars().all(plain) {
        text.into_owned()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

#[cfg(windows)]
fn quoted(path: &Path) -> String {
    format!("\"{}\"", path.display())
}

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

/// Certificates from a directory read as OpenSSL reads `SSL_CERT_DIR` and `/etc/ssl/certs`:
/// only entries named `<8 hex digits>.<n>` (what `c_rehash` and `update-ca-certificates` write),
/// so a file dropped there without rehashing is trusted by neither. Entries OpenSSL could not use
/// are skipped and reported as warnings, since OpenSSL skips them too.
pub fn read_hashed_dir(path: &Path) -> Result<(Vec<Der>, Vec<String>), CaPathError> {
    let mut certs = Vec::new();
    let mut warnings = Vec::new();
    for file in hashed_entries(path)? {
        match read_file(&file) {
            Ok(found) => certs.extend(found),
            Err(e) => warnings.push(e.to_string()),
        }
    }
    Ok((certs, warnings))
}

/// The `<hash>.<n>` entries of a certificate directory, sorted (a file system's order is arbitrary,
/// and the bundle should not change with it).
pub fn hashed_entries(path: &Path) -> Result<Vec<PathBuf>, CaPathError> {
    let entries = fs::read_dir(path).map_err(|e| CaPathError::Unreadable(path.to_owned(), e))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_str().is_some_and(is_hashed_name))
        .map(|e| e.path())
        .collect();
    files.sort();
    Ok(files)
}

/// OpenSSL's lookup name for a certificate: the subject hash as 8 lowercase hex digits, a dot, a
/// decimal sequence number (`5ad8a5d6.0`). CRLs (`5ad8a5d6.r0`) and everything else are not.
pub fn is_hashed_name(name: &str) -> bool {
    let Some((hash, n)) = name.split_once('.') else {
        return false;
    };
    hash.len() == 8
        && hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        && !n.is_empty()
        && n.bytes().all(|b| b.is_ascii_digit())
}

fn read_file(path: &Path) -> Result<Vec<Der>, CaPathError> {
    let bytes = input_file::read(path, input_file::CA_FILE_LIMIT).map_err(|e| match e {
        ReadError::NotFound => CaPathError::Missing(path.to_owned()),
        ReadError::NotRegular(what) => CaPathError::NotRegular(path.to_owned(), what),
        ReadError::TooLarge(limit) => CaPathError::TooLarge(path.to_owned(), limit),
        ReadError::Io(e) => CaPathError::Unreadable(path.to_owned(), e),
    })?;
    match parse_strict(&bytes) {
        Ok(certs) if certs.is_empty() => Err(CaPathError::NotCertificates(path.to_owned())),
        Ok(certs) => Ok(certs),
        Err(Refused::Damaged(what)) => Err(CaPathError::Damaged(path.to_owned(), what)),
        Err(Refused::Other(format)) => Err(CaPathError::OtherFormat(path.to_owned(), format)),
    }
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
        match read_file(&file) {
            Ok(found) => certs.extend(found),
            // A README or a private key beside the certificates is not an error in a CA directory;
            // a damaged certificate file is, as it would be named on its own.
            Err(CaPathError::NotCertificates(_))
            | Err(CaPathError::OtherFormat(_, ForeignFormat::PrivateKey)) => {}
            Err(CaPathError::OtherFormat(file, format)) => {
                return Err(CaPathError::OtherFormatInDirectory(
                    path.to_owned(),
                    file,
                    format,
                ));
            }
            Err(e) => return Err(e),
        }
    }
    if certs.is_empty() {
        return Err(CaPathError::EmptyDirectory(path.to_owned()));
    }
    Ok(certs)
}

/// Why bytes that are not plain certificates were refused.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    Damaged(&'static str),
    Other(ForeignFormat),
}

const BOM: &[u8] = b"\xef\xbb\xbf";

/// Every certificate in PEM text, or the bytes as one DER certificate when they hold no PEM;
/// lenient, for files the OS ships (a damaged block is skipped).
pub fn parse(bytes: &[u8]) -> Vec<Der> {
    let bytes = bytes.strip_prefix(BOM).unwrap_or(bytes);
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

/// The certificates of a file a user named, all or nothing: a damaged or cut-off PEM block, or a
/// CERTIFICATE block that holds something else, refuses the file. A UTF-8 BOM (Notepad's default)
/// is accepted, as OpenSSL and Python accept it. No certificate at all is `Ok(empty)`, unless the
/// bytes are a format users confuse with certificates.
pub fn parse_strict(bytes: &[u8]) -> Result<Vec<Der>, Refused> {
    let bytes = bytes.strip_prefix(BOM).unwrap_or(bytes);
    let mut certs = Vec::new();
    let mut kinds = Vec::new();
    for item in <(SectionKind, Vec<u8>)>::pem_slice_iter(bytes) {
        let (kind, der) = item.map_err(|e| {
            Refused::Damaged(match e {
                pem::Error::MissingSectionEnd { .. } => {
                    "a PEM block is cut off (its -----END line is missing)"
                }
                pem::Error::IllegalSectionStart { .. } => "a -----BEGIN line is damaged",
                pem::Error::Base64Decode(_) => "a PEM block is damaged (not base64)",
                _ => "a PEM block is damaged",
            })
        })?;
        if kind == SectionKind::Certificate {
            if is_pkcs7(&der) {
                return Err(Refused::Other(ForeignFormat::Pkcs7Pem));
            }
            if !looks_like_der_certificate(&der) {
                return Err(Refused::Damaged(
                    "a CERTIFICATE block does not hold a certificate (cut off or damaged)",
                ));
            }
            certs.push(CertificateDer::from(der));
        } else {
            kinds.push(kind);
        }
    }
    if !certs.is_empty() {
        return Ok(certs);
    }
    // pki-types skips sections it has no kind for, such as PKCS7: look for their header.
    if contains(bytes, b"-----BEGIN PKCS7-----") {
        return Err(Refused::Other(ForeignFormat::Pkcs7Pem));
    }
    let key_kinds = [
        SectionKind::PrivateKey,
        SectionKind::RsaPrivateKey,
        SectionKind::EcPrivateKey,
    ];
    // ENCRYPTED and OPENSSH private keys have no kind of their own either.
    if kinds.iter().any(|k| key_kinds.contains(k)) || contains(bytes, b" PRIVATE KEY-----") {
        return Err(Refused::Other(ForeignFormat::PrivateKey));
    }
    if looks_like_der_certificate(bytes) {
        return Ok(vec![CertificateDer::from(bytes.to_vec())]);
    }
    if is_pkcs7(bytes) {
        return Err(Refused::Other(ForeignFormat::Pkcs7Der));
    }
    if is_pkcs12(bytes) {
        return Err(Refused::Other(ForeignFormat::Pkcs12));
    }
    if is_der_private_key(bytes) {
        return Err(Refused::Other(ForeignFormat::PrivateKey));
    }
    Ok(Vec::new())
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The content of the outer DER SEQUENCE, when `bytes` is exactly one.
fn sequence_content(bytes: &[u8]) -> Option<&[u8]> {
    let (h, len) = sequence_header(bytes)?;
    (h + len == bytes.len()).then(|| &bytes[h..])
}

fn sequence_header(b: &[u8]) -> Option<(usize, usize)> {
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

/// ContentInfo with the signedData OID (1.2.840.113549.1.7.2): a PKCS#7 certificate chain.
fn is_pkcs7(bytes: &[u8]) -> bool {
    sequence_content(bytes).is_some_and(|c| c.starts_with(&PKCS7_SIGNED_DATA))
}

const PKCS7_SIGNED_DATA: [u8; 11] = [
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02,
];

/// PFX: version 3, then ContentInfo (1.2.840.113549.1.7.1, data).
fn is_pkcs12(bytes: &[u8]) -> bool {
    sequence_content(bytes).is_some_and(|c| c.starts_with(&[0x02, 0x01, 0x03, 0x30]))
}

/// PKCS#8 (version 0, then an AlgorithmIdentifier) or PKCS#1 RSA (version 0, then the modulus).
fn is_der_private_key(bytes: &[u8]) -> bool {
    sequence_content(bytes).is_some_and(|c| {
        c.starts_with(&[0x02, 0x01, 0x00, 0x30]) || c.starts_with(&[0x02, 0x01, 0x00, 0x02])
    })
}

/// A DER certificate is one SEQUENCE spanning the whole input whose first element is a SEQUENCE
/// (the TBSCertificate). Enough to tell a `.cer` from a text file; the TLS stack that loads the
/// bundle does the real parsing.
fn looks_like_der_certificate(bytes: &[u8]) -> bool {
    sequence_content(bytes).is_some_and(|c| sequence_header(c).is_some())
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

    fn pem_of(index: usize) -> String {
        let mut pem = String::new();
        to_pem(&webpki_root_certs::TLS_SERVER_ROOT_CERTS[index], &mut pem);
        pem
    }

    #[test]
    fn strict_parsing_takes_a_file_whole_or_not_at_all() {
        let two = format!("{}{}", pem_of(0), pem_of(1));
        assert_eq!(parse_strict(two.as_bytes()).unwrap().len(), 2);
        let bom = format!("\u{feff}{two}");
        assert_eq!(parse_strict(bom.as_bytes()).unwrap().len(), 2);
        // Cut in the middle of the second block: no END line.
        let cut = &two[..pem_of(0).len() + pem_of(1).len() / 2];
        assert!(matches!(
            parse_strict(cut.as_bytes()),
            Err(Refused::Damaged(_))
        ));
        // Cut just before the END line of the second: what is left is not a certificate.
        let second = pem_of(1);
        let lines: Vec<&str> = second.lines().collect();
        let short = format!(
            "{}{}\n{}\n",
            pem_of(0),
            lines[..lines.len() - 3].join("\n"),
            lines[lines.len() - 1]
        );
        assert!(matches!(
            parse_strict(short.as_bytes()),
            Err(Refused::Damaged(_))
        ));
        assert_eq!(parse_strict(b"just text\n").unwrap().len(), 0);
    }

    #[test]
    fn formats_users_confuse_with_certificates_are_recognised() {
        assert_eq!(
            parse_strict(b"-----BEGIN PKCS7-----\nMIIB\n-----END PKCS7-----\n"),
            Err(Refused::Other(ForeignFormat::Pkcs7Pem))
        );
        assert_eq!(
            parse_strict(b"-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n"),
            Err(Refused::Other(ForeignFormat::PrivateKey))
        );
        let mut p7 = vec![0x30, 13];
        p7.extend(PKCS7_SIGNED_DATA);
        p7.extend([0xa0, 0x00]);
        assert_eq!(
            parse_strict(&p7),
            Err(Refused::Other(ForeignFormat::Pkcs7Der))
        );
        let p12 = [0x30, 0x06, 0x02, 0x01, 0x03, 0x30, 0x01, 0x00];
        assert_eq!(
            parse_strict(&p12),
            Err(Refused::Other(ForeignFormat::Pkcs12))
        );
    }

    #[test]
    fn only_openssl_lookup_names_are_hashed_entries() {
        for name in ["5ad8a5d6.0", "ffffffff.12"] {
            assert!(is_hashed_name(name), "{name}");
        }
        for name in [
            "5ad8a5d6.r0",
            "5AD8A5D6.0",
            "5ad8a5d.0",
            "5ad8a5d6.",
            "5ad8a5d6",
            "corp.pem",
            "5ad8a5d6.0.pem",
        ] {
            assert!(!is_hashed_name(name), "{name}");
        }
    }

    #[test]
    fn der_file_is_one_certificate() {
        let der = webpki_root_certs::TLS_SERVER_ROOT_CERTS[1].to_vec();
        assert_eq!(parse(&der).len(), 1);
        assert!(parse(b"hello, not a certificate\n").is_empty());
        assert!(parse(&der[..der.len() - 1]).is_empty());
    }
}
