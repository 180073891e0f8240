//! What a person needs to recognise a certificate (doctor, beside the pipeline): names, expiry,
//! and the identity trust is decided by.

use serde::Serialize;
use x509_parser::prelude::{FromDer, X509Certificate};

/// Trust anchors are a subject and a public key (that is all webpki keeps of a root), so two
/// encodings of the same root, one from Debian's file and one from webpki-root-certs, are the
/// same root.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AnchorKey {
    pub subject: Vec<u8>,
    pub spki: Vec<u8>,
}

#[derive(Clone, Debug, Serialize)]
pub struct CertInfo {
    pub subject: String,
    pub issuer: String,
    pub self_signed: bool,
    /// RFC 3339, UTC.
    pub not_after: String,
    pub expired: bool,
    pub sha256: String,
}

pub struct Parsed<'a> {
    pub cert: X509Certificate<'a>,
}

pub fn parse(der: &[u8]) -> Option<Parsed<'_>> {
    let (_, cert) = X509Certificate::from_der(der).ok()?;
    Some(Parsed { cert })
}

impl Parsed<'_> {
    pub fn anchor_key(&self) -> AnchorKey {
        AnchorKey {
            subject: self.cert.subject().as_raw().to_vec(),
            spki: self.cert.public_key().raw.to_vec(),
        }
    }

    /// Whether this certificate may issue others, as OpenSSL's `check_ca` decides: a keyUsage
    /// without keyCertSign says no; basicConstraints says it; without it, a version 1
    /// self-signed certificate (an old root) or a keyUsage with keyCertSign says yes. A
    /// self-signed server certificate (Debian's ssl-cert "snakeoil" `localhost`, CA:FALSE) sits
    /// in trust stores to be trusted as itself, and is no root of anything.
    pub fn can_issue(&self) -> bool {
        let ku = self.cert.key_usage().ok().flatten();
        if ku.as_ref().is_some_and(|k| !k.value.key_cert_sign()) {
            return false;
        }
        if let Some(bc) = self.cert.basic_constraints().ok().flatten() {
            return bc.value.ca;
        }
        let v1_self_signed = self.cert.version().0 == 0 && self.subject_raw() == self.issuer_raw();
        v1_self_signed || ku.is_some()
    }

    pub fn issuer_raw(&self) -> &[u8] {
        self.cert.issuer().as_raw()
    }

    pub fn subject_raw(&self) -> &[u8] {
        self.cert.subject().as_raw()
    }

    pub fn info(&self, der: &[u8]) -> CertInfo {
        let not_after = self.cert.validity().not_after.timestamp();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        CertInfo {
            subject: name_text(&self.cert.subject().to_string()),
            issuer: name_text(&self.cert.issuer().to_string()),
            self_signed: self.subject_raw() == self.issuer_raw(),
            not_after: rfc3339(not_after),
            expired: not_after < now,
            sha256: crate::util::digest::sha256_hex(der),
        }
    }
}

/// The common name alone is what users recognise ("Zscaler Root CA"); the full name tells apart
/// two roots that share one.
pub fn short_name(info: &CertInfo) -> String {
    info.subject
        .split(", ")
        .find_map(|part| part.strip_prefix("CN="))
        .map(str::to_owned)
        .unwrap_or_else(|| info.subject.clone())
}

fn name_text(text: &str) -> String {
    if text.is_empty() {
        "(empty name)".to_owned()
    } else {
        text.to_owned()
    }
}

/// Seconds since the epoch as `YYYY-MM-DDTHH:MM:SSZ` (proleptic Gregorian, Hinnant's algorithm),
/// to spare a date crate for one format.
pub fn rfc3339(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(4_102_444_799), "2099-12-31T23:59:59Z");
    }

    #[test]
    fn mozilla_roots_parse() {
        let roots = webpki_root_certs::TLS_SERVER_ROOT_CERTS;
        assert!(roots.len() > 100, "{} roots", roots.len());
        let mut subjects = Vec::new();
        for der in roots {
            let parsed = parse(der).expect("a Mozilla root parses");
            let info = parsed.info(der);
            // Roots are self-signed, and their names are read, not left empty.
            assert!(info.self_signed, "{}", info.subject);
            assert!(
                info.subject.contains("CN=") || info.subject.contains("O="),
                "{}",
                info.subject
            );
            assert_eq!(info.sha256.len(), 64, "{}", info.subject);
            subjects.push(info.subject);
        }
        assert!(
            subjects.iter().any(|s| s.contains("ISRG Root X1")),
            "Let's Encrypt's root is read by name: {subjects:?}"
        );
    }
}
