//! The checks OpenSSL makes under `X509_V_FLAG_X509_STRICT` (doctor, beside the pipeline), which
//! Python 3.13's `ssl.create_default_context()` (and urllib3 2.x on 3.13) turn on: a root that IT
//! installed and every TLS client trusts can still be rejected by Python 3.13 for one of these.
//!
//! Mirrors `check_extensions` and `check_chain` in OpenSSL 3's `crypto/x509/x509_vfy.c`, with
//! OpenSSL's own error texts in quotes so a user can match them to what Python printed.

use x509_parser::extensions::ParsedExtension;
use x509_parser::oid_registry::OID_KEY_TYPE_EC_PUBLIC_KEY;
use x509_parser::prelude::X509Certificate;

/// Where the certificate sits: OpenSSL asks more of a certificate that has one above it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Position {
    /// The trust anchor, last in the chain.
    Root,
    /// A leaf or an intermediate: something signed it.
    Issued,
}

/// Problems with one certificate, empty when it passes.
pub fn check(cert: &X509Certificate<'_>, position: Position) -> Vec<String> {
    let mut problems = Vec::new();
    let bc = cert.basic_constraints().ok().flatten();
    let is_ca = bc.as_ref().is_some_and(|b| b.value.ca);
    let ku = cert.key_usage().ok().flatten();
    let key_cert_sign = ku.as_ref().is_some_and(|k| k.value.key_cert_sign());
    let crl_sign = ku.as_ref().is_some_and(|k| k.value.crl_sign());

    if let Some(b) = &bc {
        if is_ca && !b.critical {
            problems.push(
                "basicConstraints is not marked critical (\"Basic Constraints of CA cert not marked critical\")"
                    .to_owned(),
            );
        }
        if b.value.path_len_constraint.is_some() {
            if !is_ca {
                problems.push("a path length is set on a certificate that is not a CA".to_owned());
            } else if !key_cert_sign {
                problems.push("a path length is set without keyUsage keyCertSign".to_owned());
            }
        }
    }
    if is_ca && ku.is_none() {
        problems.push(
            "no keyUsage extension on a CA certificate (\"CA cert does not include key usage extension\")"
                .to_owned(),
        );
    }
    if !is_ca && key_cert_sign {
        problems.push(
            "keyUsage keyCertSign without basicConstraints CA:TRUE (\"Key usage keyCertSign invalid for non-CA cert\")"
                .to_owned(),
        );
    }

    let mut san = None;
    let mut san_critical = false;
    let mut akid = None;
    let mut akid_critical = false;
    let mut skid_present = false;
    let mut skid_critical = false;
    for ext in cert.extensions() {
        match ext.parsed_extension() {
            ParsedExtension::SubjectAlternativeName(s) => {
                san = Some(s.general_names.len());
                san_critical = ext.critical;
            }
            ParsedExtension::AuthorityKeyIdentifier(a) => {
                akid = Some(a.key_identifier.is_some());
                akid_critical = ext.critical;
            }
            ParsedExtension::SubjectKeyIdentifier(_) => {
                skid_present = true;
                skid_critical = ext.critical;
            }
            _ => {}
        }
    }

    if cert.issuer().iter_attributes().next().is_none() {
        problems.push("the issuer name is empty".to_owned());
    }
    let subject_empty = cert.subject().iter_attributes().next().is_none();
    if subject_empty && (is_ca || crl_sign || san.is_none()) {
        problems.push("the subject name is empty".to_owned());
    }
    if subject_empty && san.is_some() && !san_critical {
        problems.push("the subject is empty and subjectAltName is not critical".to_owned());
    }
    if san == Some(0) {
        problems.push("subjectAltName is empty".to_owned());
    }
    if cert.signature_algorithm != cert.tbs_certificate.signature {
        problems
            .push("the signature algorithm differs from the one inside the certificate".to_owned());
    }
    if akid_critical {
        problems.push("authorityKeyIdentifier is marked critical".to_owned());
    }
    if skid_critical {
        problems.push("subjectKeyIdentifier is marked critical".to_owned());
    }
    if cert.version().0 >= 2 {
        if position == Position::Issued && akid != Some(true) {
            problems.push(
                "no authorityKeyIdentifier (\"Missing Authority Key Identifier\")".to_owned(),
            );
        }
        if is_ca && !skid_present {
            problems.push(
                "no subjectKeyIdentifier on a CA certificate (\"Missing Subject Key Identifier\")"
                    .to_owned(),
            );
        }
    } else if !cert.extensions().is_empty() {
        problems.push("extensions in a version 1 or 2 certificate".to_owned());
    }
    let spki = cert.public_key();
    if spki.algorithm.algorithm == OID_KEY_TYPE_EC_PUBLIC_KEY
        && spki
            .algorithm
            .parameters
            .as_ref()
            .is_some_and(|p| p.header.tag().0 == 16)
    {
        problems.push("an EC key with explicit curve parameters".to_owned());
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Mozilla's roots are reviewed against these rules; a few old ones predate them, so only
    /// most of them must pass. This guards against a check that fails everything.
    #[test]
    fn most_mozilla_roots_pass() {
        let roots = webpki_root_certs::TLS_SERVER_ROOT_CERTS;
        let passing = roots
            .iter()
            .filter(|der| {
                let parsed = crate::doctor::certinfo::parse(der).unwrap();
                check(&parsed.cert, Position::Root).is_empty()
            })
            .count();
        assert!(
            passing * 10 > roots.len() * 9,
            "{passing} of {}",
            roots.len()
        );
    }
}
