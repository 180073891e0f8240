//! The inputs' fingerprint (sources stage, the warm path): a hash of everything that decides the
//! bundle's content, from `stat` calls alone; reading and parsing certificates happens only when
//! it changes. What it stats: every entry of a directory the user named (`--ca DIR`,
//! `SSL_CERT_DIR`), and for the OS store only its bundle file and its directories (see
//! `os_store::freshness`).

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use sha2::{Digest, Sha256};

use super::{Inputs, certs, os_store};
use crate::settings::vars;

impl Inputs {
    /// A hash of everything that decides the bundle's content, from `stat` calls alone.
    pub fn fingerprint(&self) -> String {
        let mut h = Sha256::new();
        h.update(b"trustrun-fingerprint-1\0");
        h.update(env!("CARGO_PKG_VERSION").as_bytes());
        // A rebuilt binary may carry other Mozilla roots or bundle logic under the same version.
        if let Some(exe) = crate::util::exe::path() {
            meta_into(&mut h, exe, crate::util::exe::metadata());
        }
        h.update(webpki_root_certs::TLS_SERVER_ROOT_CERTS.len().to_le_bytes());
        let os_paths = match os_freshness() {
            os_store::Freshness::Paths(paths) => {
                for (p, meta) in paths {
                    meta_into(&mut h, p, meta.as_ref());
                }
                paths.as_slice()
            }
            os_store::Freshness::Epoch(n) => {
                h.update(n.to_le_bytes());
                &[]
            }
        };
        h.update(b"\0extra\0");
        for p in &self.ca {
            stat_into(&mut h, p);
            // A directory's mtime changes when files come or go, not when one is rewritten in
            // place: every entry is looked at, since every entry is read.
            if let Ok(entries) = fs::read_dir(p) {
                let mut names: Vec<PathBuf> =
                    entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
                names.sort();
                for n in names {
                    stat_into(&mut h, &n);
                }
            }
        }
        h.update(b"\0vars\0");
        // A few entries: a list, where a HashSet would also cost a `getrandom` for its keys.
        let mut seen: Vec<&PathBuf> = Vec::new();
        for (name, p) in &self.variables {
            if !seen.contains(&p) {
                seen.push(p);
                // The OS store's own path (SSL_CERT_DIR=/etc/ssl/certs) was stat'd just above.
                match os_paths.iter().find(|(os, _)| os == p) {
                    Some((_, meta)) => meta_into(&mut h, p, meta.as_ref()),
                    None => stat_into(&mut h, p),
                }
                // SSL_CERT_DIR: the entries OpenSSL would look up, each (size, mtime, ctime, inode
                // through its link), so an edit in place is seen as well as a rehash. Not when it
                // names the OS store's own directory (a common preset): that is read as the OS
                // store, and watched like it, since a stat per entry there costs about 1.5 ms.
                if name == vars::SSL_CERT_DIR
                    && !os_paths.iter().any(|(os, _)| os == p)
                    && let Ok(entries) = certs::hashed_entries(p)
                {
                    for n in entries {
                        stat_into(&mut h, &n);
                    }
                }
            }
        }
        crate::util::digest::hex(&h.finalize()[..16])
    }
}

/// The OS store's freshness, looked at once per process: with setup in place a run fingerprints
/// setup's inputs too, and the store's stats serve both.
fn os_freshness() -> &'static os_store::Freshness {
    static FRESHNESS: OnceLock<os_store::Freshness> = OnceLock::new();
    FRESHNESS.get_or_init(os_store::freshness)
}

fn stat_into(h: &mut Sha256, path: &Path) {
    meta_into(h, path, fs::metadata(path).ok().as_ref());
}

/// `stat_into` with the metadata already read (`None`: the path is not there).
fn meta_into(h: &mut Sha256, path: &Path, meta: Option<&fs::Metadata>) {
    h.update(path.as_os_str().as_encoded_bytes());
    h.update([0]);
    match meta {
        Some(m) => {
            h.update(m.len().to_le_bytes());
            if let Ok(t) = m.modified()
                && let Ok(d) = t.duration_since(std::time::UNIX_EPOCH)
            {
                h.update(d.as_nanos().to_le_bytes());
            }
            #[cfg(unix)]
            {
                use std::os::unix::fs::MetadataExt;
                h.update(m.ino().to_le_bytes());
                h.update(m.ctime().to_le_bytes());
                h.update(m.ctime_nsec().to_le_bytes());
            }
        }
        None => h.update(b"missing"),
    }
    h.update([0]);
}
