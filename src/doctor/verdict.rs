//! The verdict of each trust set on a chain a host presented (doctor, beside the pipeline): Mozilla
//! only (what plain Python with certifi sees), the OS store (what browsers see), trustrun's bundle
//! (what `trustrun PROGRAM` gives). Each is rustls' own WebPKI verifier with that set of roots;
//! nothing is relaxed.

use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::ServerCertVerifier;
use rustls::pki_types::{ServerName, UnixTime};
use rustls::{RootCertStore, crypto::CryptoProvider};
use serde::Serialize;

use crate::sources::certs::Der;

pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TrustSet {
    Mozilla,
    OsStore,
    TrustrunBundle,
}

#[derive(Clone, Debug, Serialize)]
pub struct Verdict {
    pub trust_set: TrustSet,
    pub trusted: bool,
    /// The chain is beyond what doctor's verifier can judge (not a verdict on trust).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub cannot_judge: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A verifier per trust set, or why the set cannot verify anything (no roots at all).
pub struct Judges {
    sets: Vec<(TrustSet, Result<Arc<WebPkiServerVerifier>, String>)>,
}

pub fn verifier(roots: &[Der]) -> Result<Arc<WebPkiServerVerifier>, String> {
    let mut store = RootCertStore::empty();
    store.add_parsable_certificates(roots.iter().cloned());
    if store.is_empty() {
        return Err("this trust set holds no usable root".to_owned());
    }
    WebPkiServerVerifier::builder_with_provider(Arc::new(store), provider())
        .build()
        .map_err(|e| e.to_string())
}

impl Judges {
    pub fn new(mozilla: &[Der], os_store: &[Der], bundle: &[Der]) -> Judges {
        Judges {
            sets: vec![
                (TrustSet::Mozilla, verifier(mozilla)),
                (TrustSet::OsStore, verifier(os_store)),
                (TrustSet::TrustrunBundle, verifier(bundle)),
            ],
        }
    }

    pub fn bundle(&self) -> Option<Arc<WebPkiServerVerifier>> {
        self.sets
            .iter()
            .find(|(s, _)| *s == TrustSet::TrustrunBundle)
            .and_then(|(_, v)| v.as_ref().ok().cloned())
    }

    pub fn judge(&self, chain: &[Der], name: &ServerName<'_>) -> Vec<Verdict> {
        let Some((end_entity, intermediates)) = chain.split_first() else {
            return Vec::new();
        };
        let now = UnixTime::now();
        self.sets
            .iter()
            .map(|(set, verifier)| {
                let result = match verifier {
                    Ok(v) => v
                        .verify_server_cert(end_entity, intermediates, name, &[], now)
                        .map(|_| ())
                        .map_err(|e| describe(&e)),
                    Err(e) => Err(e.clone()),
                };
                Verdict {
                    trust_set: *set,
                    trusted: result.is_ok(),
                    cannot_judge: result.as_ref().is_err_and(|e| e.starts_with(CANNOT_JUDGE)),
                    error: result.err(),
                }
            })
            .collect()
    }
}

/// How `describe` begins when the verifier cannot judge a chain at all.
pub const CANNOT_JUDGE: &str = "cannot judge";

/// rustls' words, with the common case said as users meet it elsewhere.
pub fn describe(e: &rustls::Error) -> String {
    use rustls::CertificateError;
    match e {
        rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer) => {
            "unknown issuer: the chain does not lead to a root in this set".to_owned()
        }
        other if beyond_path_depth(other) => format!(
            "{CANNOT_JUDGE}: the chain has more intermediates than doctor's verifier (webpki) follows \
             (6); OpenSSL, so Python and curl, allows many more: run the program itself to know"
        ),
        other => other.to_string(),
    }
}

/// webpki's fixed path-depth limit, which OpenSSL does not share. rustls carries webpki's error
/// only as an opaque `Other`, so its name is the one handle there is.
fn beyond_path_depth(e: &rustls::Error) -> bool {
    matches!(
        e,
        rustls::Error::InvalidCertificate(rustls::CertificateError::Other(_))
    ) && format!("{e:?}").contains("MaximumPathDepthExceeded")
}
