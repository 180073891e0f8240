//! Trust sources (sources stage): what goes into the bundle (`Inputs`), reading them all
//! (`gather`), and a cheap fingerprint of them (`fingerprint`). The readers: certificate files
//! and directories (`certs`), the OS store (`os_store`, with `provenance`
//! for where its roots came from), and the CA files an outer trustrun handed down (`inherited`).

pub mod certs;
mod fingerprint;
pub mod inherited;
pub mod os_store;
pub mod provenance;

use std::collections::HashSet;
use std::fmt;
use std::path::PathBuf;

use crate::settings::vars;
use serde::{Deserialize, Serialize};

use certs::{CaPathError, Der};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    OsStore,
    Mozilla,
    /// A CA file or directory the user named (`--ca`, `TRUSTRUN_CA`, config).
    Ca(PathBuf),
    /// What a CA variable in the caller's environment pointed at.
    Variable(String, PathBuf),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::OsStore => f.write_str("OS trust store"),
            Origin::Mozilla => f.write_str("Mozilla roots (webpki-root-certs)"),
            Origin::Ca(p) => write!(f, "CA file {}", p.display()),
            Origin::Variable(name, p) => write!(f, "{name}={}", p.display()),
        }
    }
}

/// What a bundle is made from, before anything is read. Made by `store::inputs` alone (a run,
/// `env`, `bundle`, doctor, setup), and kept as JSON in the cache for setup's stable file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inputs {
    /// CA files and directories the user named (`--ca`, `TRUSTRUN_CA`, config), absolute, in
    /// order.
    pub ca: Vec<PathBuf>,
    /// The caller's CA variables that are set (and not empty), as (name, path); never a bundle
    /// of a trustrun cache (`store::inputs` takes those out: they only repeat their sources).
    pub variables: Vec<(String, PathBuf)>,
}

impl Inputs {
    /// The caller's CA variables from this process's environment, and the ones an outer trustrun
    /// handed down in `TRUSTRUN_INHERITED_CA` (it pointed the variables themselves at its bundle).
    pub fn caller_variables() -> Vec<(String, PathBuf)> {
        vars::CA_VARIABLES
            .iter()
            .map(|(name, _)| *name)
            .chain([vars::SSL_CERT_DIR, vars::TRUSTRUN_INHERITED_CA])
            .filter_map(|name| {
                let value = vars::non_empty(name)?;
                // SSL_CERT_DIR is a path list, as OpenSSL reads it; our own marker is an escaped
                // one; every other variable holds one path, whatever characters are in it.
                let paths: Vec<PathBuf> = if name == vars::SSL_CERT_DIR {
                    crate::util::path_list::split(&value)
                } else if name == vars::TRUSTRUN_INHERITED_CA {
                    crate::sources::inherited::decode(&value)
                } else {
                    vec![PathBuf::from(value)]
                };
                Some(paths.into_iter().map(move |p| (name.to_owned(), p)))
            })
            .flatten()
            .collect()
    }

    /// The CA files the caller's variables named, for the child's `TRUSTRUN_INHERITED_CA`: the child's variables all point at our bundle, so a trustrun nested
    /// in it (a shim, `trustrun env` in a profile) would otherwise never see these files again.
    pub fn inherited(&self) -> Vec<PathBuf> {
        let mut out: Vec<PathBuf> = Vec::new();
        for (name, path) in &self.variables {
            if name != vars::SSL_CERT_DIR && !out.contains(path) {
                out.push(path.clone());
            }
        }
        out
    }
}

/// The certificates of every source, deduplicated by DER, first origin kept.
pub struct Gathered {
    pub certs: Vec<(Der, Origin)>,
    /// How many certificates each source gave (before deduplication).
    pub counts: Vec<(Origin, usize)>,
    /// Things worth a line under `-v` (unreadable OS store entries) or always (a caller's CA
    /// variable pointing at nothing).
    pub warnings: Vec<String>,
    pub verbose_notes: Vec<String>,
}

/// Reads every source. A CA file the user named that gives nothing is an error; anything else
/// that gives nothing is a warning, since the program would not have trusted it either.
pub fn gather(inputs: &Inputs) -> Result<Gathered, CaPathError> {
    let mut out = Gathered {
        certs: Vec::new(),
        counts: Vec::new(),
        warnings: Vec::new(),
        verbose_notes: Vec::new(),
    };
    let mut seen: HashSet<Vec<u8>> = HashSet::new();
    let mut add = |out: &mut Gathered, origin: Origin, certs: Vec<Der>| {
        out.counts.push((origin.clone(), certs.len()));
        for c in certs {
            if seen.insert(c.to_vec()) {
                out.certs.push((c, origin.clone()));
            }
        }
    };

    let os = os_store::load();
    out.verbose_notes.extend(
        os.warnings
            .into_iter()
            .map(|w| format!("OS trust store: {w}")),
    );
    add(&mut out, Origin::OsStore, os.certs);

    for path in &inputs.ca {
        let certs = certs::read_ca_path(path)?;
        add(&mut out, Origin::Ca(path.clone()), certs);
    }

    // The OS store's own files (SSL_CERT_DIR=/etc/ssl/certs, say) are read already.
    let mut read_paths: HashSet<PathBuf> = match os_store::freshness() {
        os_store::Freshness::Paths(paths) => paths.into_iter().map(|(p, _)| p).collect(),
        os_store::Freshness::Epoch(_) => HashSet::new(),
    };
    for (name, path) in &inputs.variables {
        if !read_paths.insert(path.clone()) {
            continue;
        }
        // SSL_CERT_DIR is read as OpenSSL reads it: only rehashed (`<hash>.<n>`) entries.
        let read = if name == vars::SSL_CERT_DIR {
            certs::read_hashed_dir(path).map(|(certs, notes)| {
                out.verbose_notes
                    .extend(notes.into_iter().map(|n| format!("{name}: skipped {n}")));
                if certs.is_empty() {
                    out.warnings.push(format!(
                        "{name}={} holds no certificate under a name OpenSSL looks up (<hash>.0); run c_rehash on it",
                        path.display()
                    ));
                }
                certs
            })
        } else {
            certs::read_ca_path(path)
        };
        match read {
            Ok(certs) => add(
                &mut out,
                Origin::Variable(name.clone(), path.clone()),
                certs,
            ),
            Err(e) => out.warnings.push(format!(
                "{name} in your environment is not usable, ignored: {e}"
            )),
        }
    }

    let mozilla = webpki_root_certs::TLS_SERVER_ROOT_CERTS
        .iter()
        .map(|c| c.clone().into_owned())
        .collect();
    add(&mut out, Origin::Mozilla, mozilla);
    Ok(out)
}

/// For `trustrun doctor`, which reads every source afresh: a line when the bundle in use holds
/// other certificates than the sources give now. The warm path's cheap signal for the OS store
/// misses a certificate edited in place behind an existing `<hash>.0` link (see docs/how-it-works.md).
pub fn stale_note(gathered: &Gathered, bundle: &[Der]) -> Option<String> {
    let now: HashSet<&[u8]> = gathered.certs.iter().map(|(c, _)| c.as_ref()).collect();
    let cached: HashSet<&[u8]> = bundle.iter().map(|c| c.as_ref()).collect();
    let missing = now.difference(&cached).count();
    let gone = cached.difference(&now).count();
    if missing == 0 && gone == 0 {
        return None;
    }
    Some(format!(
        "the cached bundle is stale ({missing} certificates of the sources are not in it, {gone} in it are no longer in the sources): the OS store changed in a way the warm path does not see; {REREAD}"
    ))
}

/// What makes the warm path read the OS store again, on this system: the tools that rewrite the
/// store's files where it watches files; where it watches a clock, the hour's turn.
#[cfg(all(unix, not(target_os = "macos")))]
const REREAD: &str = "run update-ca-certificates (or update-ca-trust), or delete the index \
directory in trustrun's cache";

#[cfg(any(windows, target_os = "macos"))]
const REREAD: &str = "delete the index directory in trustrun's cache, or wait: the OS store is \
read again within the hour";

#[cfg(test)]
mod tests {
    #[test]
    fn a_bundle_that_differs_from_the_sources_is_stale() {
        let roots = webpki_root_certs::TLS_SERVER_ROOT_CERTS;
        let gathered = super::Gathered {
            certs: vec![
                (roots[0].clone().into_owned(), super::Origin::OsStore),
                (roots[1].clone().into_owned(), super::Origin::Mozilla),
            ],
            counts: Vec::new(),
            warnings: Vec::new(),
            verbose_notes: Vec::new(),
        };
        let same = [roots[1].clone().into_owned(), roots[0].clone().into_owned()];
        assert_eq!(super::stale_note(&gathered, &same), None);
        let edited = [roots[1].clone().into_owned(), roots[2].clone().into_owned()];
        let note = super::stale_note(&gathered, &edited).unwrap();
        assert!(
            note.contains("(1 certificates of the sources are not in it, 1 in it"),
            "{note}"
        );
    }
}
