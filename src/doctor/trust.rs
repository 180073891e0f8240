//! Where trust comes from (doctor, beside the pipeline): the count each source gives, the bundle
//! `trustrun PROGRAM` would use, and the roots outside Mozilla's set, which behind an inspecting
//! proxy are the corporate ones.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::certinfo::{self, AnchorKey, CertInfo};
use super::strict;
use crate::sources::certs::{self, Der};
use crate::sources::provenance::Provenance;
use crate::sources::{Gathered, Origin};

/// The three trust sets a host is judged against.
pub struct TrustSets {
    pub mozilla: Anchors,
    pub os_store: Anchors,
    pub bundle: Anchors,
}

/// One trust set's certificates, parsed once (not once per host): each root's anchor key, which
/// names it by subject and identifies it by subject and key.
pub struct Anchors {
    pub certs: Vec<Der>,
    /// Index into `certs` and anchor key of each certificate that parses, in order.
    parsed: Vec<(usize, AnchorKey)>,
    pub keys: HashSet<AnchorKey>,
}

impl Anchors {
    pub fn new(certs: Vec<Der>) -> Anchors {
        let parsed: Vec<(usize, AnchorKey)> = certs
            .iter()
            .enumerate()
            .filter_map(|(i, der)| certinfo::parse(der).map(|p| (i, p.anchor_key())))
            .collect();
        let keys = parsed.iter().map(|(_, k)| k.clone()).collect();
        Anchors {
            certs,
            parsed,
            keys,
        }
    }

    /// The roots whose subject is `name` (a chain's last issuer), in the set's order.
    pub fn named<'a>(&'a self, name: &'a [u8]) -> impl Iterator<Item = &'a Der> + 'a {
        self.parsed
            .iter()
            .filter(move |(_, k)| k.subject == name)
            .map(|(i, _)| &self.certs[*i])
    }
}

#[derive(Debug, Serialize)]
pub struct SourceCount {
    pub kind: SourceKind,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variable: Option<String>,
    pub certificates: usize,
}

/// Which kind of source a count is from; `--json` carries it as the snake_case name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    OsStore,
    Mozilla,
    CaFile,
    Variable,
}

#[derive(Debug, Serialize)]
pub struct BundleInfo {
    pub path: Option<PathBuf>,
    pub age_seconds: Option<u64>,
    pub certificates: usize,
    /// Why there is no bundle file (the cache cannot be written...): the verdicts then use the
    /// certificates the bundle would hold.
    pub error: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct CorporateRoot {
    #[serde(flatten)]
    pub cert: CertInfo,
    pub source: String,
    pub passes_x509_strict: bool,
    pub x509_strict_problems: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct SourcesReport {
    pub sources: Vec<SourceCount>,
    pub bundle: BundleInfo,
    /// Roots outside Mozilla's set that the OS distribution did not ship either: added locally
    /// (by IT, a proxy's installer, you).
    pub corporate_roots: Vec<CorporateRoot>,
    /// Roots outside Mozilla's current set that the OS distribution ships as public roots
    /// (Mozilla removed or never had them): not corporate, listed by subject only.
    pub public_roots_not_in_mozilla: Vec<String>,
    /// Self-signed certificates that are not CAs (a server's own certificate, trusted as itself:
    /// Debian's ssl-cert `localhost`): no root of anything, so neither corporate nor public.
    pub self_signed_leaves: Vec<String>,
    pub warnings: Vec<String>,
}

pub fn mozilla() -> Vec<Der> {
    webpki_root_certs::TLS_SERVER_ROOT_CERTS
        .iter()
        .map(|c| c.clone().into_owned())
        .collect()
}

pub fn keys(certs: &[Der]) -> HashSet<AnchorKey> {
    certs
        .iter()
        .filter_map(|der| certinfo::parse(der).map(|p| p.anchor_key()))
        .collect()
}

pub fn source_counts(gathered: &Gathered) -> Vec<SourceCount> {
    gathered
        .counts
        .iter()
        .map(|(origin, n)| {
            let (kind, path, variable) = match origin {
                Origin::OsStore => (SourceKind::OsStore, None, None),
                Origin::Mozilla => (SourceKind::Mozilla, None, None),
                Origin::Ca(p) => (SourceKind::CaFile, Some(p.clone()), None),
                Origin::Variable(v, p) => (SourceKind::Variable, Some(p.clone()), Some(v.clone())),
            };
            SourceCount {
                kind,
                name: origin.to_string(),
                path,
                variable,
                certificates: *n,
            }
        })
        .collect()
}

/// The bundle file's certificates, or, when there is no file, what it would hold.
pub fn bundle(path: Result<&Path, String>, gathered: &Gathered) -> (BundleInfo, Vec<Der>) {
    let fallback = || gathered.certs.iter().map(|(c, _)| c.clone()).collect();
    match path {
        Ok(path) => {
            let age_seconds = std::fs::metadata(path)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .map(|d| d.as_secs());
            match certs::read_ca_path(path) {
                Ok(certs) => (
                    BundleInfo {
                        path: Some(path.to_owned()),
                        age_seconds,
                        certificates: certs.len(),
                        error: None,
                    },
                    certs,
                ),
                Err(e) => {
                    let certs: Vec<Der> = fallback();
                    (
                        BundleInfo {
                            path: Some(path.to_owned()),
                            age_seconds,
                            certificates: certs.len(),
                            error: Some(e.to_string()),
                        },
                        certs,
                    )
                }
            }
        }
        Err(error) => {
            let certs: Vec<Der> = fallback();
            (
                BundleInfo {
                    path: None,
                    age_seconds: None,
                    certificates: certs.len(),
                    error: Some(error),
                },
                certs,
            )
        }
    }
}

/// What the sources trust beyond Mozilla's roots, sorted by what it is.
pub struct Outside {
    /// Added locally (by IT, a proxy's installer, you).
    pub corporate: Vec<CorporateRoot>,
    /// Shipped by the OS distribution as public roots.
    pub public: Vec<String>,
    /// Trusted as themselves, not CAs.
    pub leaves: Vec<String>,
}

/// Roots we trust that Mozilla does not (from the OS store, a CA file, or a CA variable), split
/// into those added locally and those the distribution ships as public roots; certificates that
/// cannot issue any other are set apart as leaves.
pub fn roots_outside_mozilla(gathered: &Gathered, mozilla_keys: &HashSet<AnchorKey>) -> Outside {
    let shipped = keys(&distribution_public_roots());
    let signals = crate::sources::provenance::read();
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    let mut public = Vec::new();
    let mut leaves = Vec::new();
    for (der, origin) in &gathered.certs {
        if *origin == Origin::Mozilla {
            continue;
        }
        let Some(parsed) = certinfo::parse(der) else {
            continue;
        };
        let key = parsed.anchor_key();
        if mozilla_keys.contains(&key) || !seen.insert(key.clone()) {
            continue;
        }
        if !parsed.can_issue() {
            leaves.push(parsed.info(der).subject);
            continue;
        }
        // The OS's own word first (Windows, macOS); Linux falls back on what the distribution ships.
        let said = match origin {
            Origin::OsStore => signals.of(der),
            _ => None,
        };
        let source = match &said {
            Some(Provenance::Deployed(how)) => format!("{origin}, {how}"),
            _ => origin.to_string(),
        };
        let public_root = match said {
            Some(p) => p == Provenance::Vendor,
            None => shipped.contains(&key),
        };
        if public_root {
            public.push(parsed.info(der).subject);
            continue;
        }
        let problems = strict::check(&parsed.cert, strict::Position::Root);
        out.push(CorporateRoot {
            cert: parsed.info(der),
            source,
            passes_x509_strict: problems.is_empty(),
            x509_strict_problems: problems,
        });
    }
    Outside {
        corporate: out,
        public,
        leaves,
    }
}

/// The public roots the OS distribution ships, kept apart from the ones added locally: Debian,
/// Ubuntu and Alpine keep them under /usr/share/ca-certificates/mozilla, Fedora and RHEL in
/// p11-kit's source bundle. Elsewhere nothing tells them apart, and every root outside Mozilla's
/// set is listed as possibly corporate.
#[cfg(all(unix, not(target_os = "macos")))]
pub fn distribution_public_roots() -> Vec<Der> {
    let mut out = Vec::new();
    for path in [
        "/usr/share/ca-certificates/mozilla",
        "/usr/share/pki/ca-trust-source/ca-bundle.trust.p11-kit",
    ] {
        if let Ok(found) = certs::read_ca_path(Path::new(path)) {
            out.extend(found);
        }
    }
    out
}

#[cfg(any(windows, target_os = "macos"))]
pub fn distribution_public_roots() -> Vec<Der> {
    Vec::new()
}
