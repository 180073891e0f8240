//! The operating system's trust store (sources stage), read without regard to
//! `SSL_CERT_FILE`/`SSL_CERT_DIR`.
//!
//! rustls-native-certs reads only those variables when they are set, and this machine's users and
//! CI often set them to some bundle; the OS store is what IT put the corporate root in, so read it
//! where the OS keeps it. Each platform has `load` (the certificates, plus warnings for entries
//! that could not be read) and `freshness` (what changes when the store does, cheap enough for
//! every run).

use std::path::PathBuf;

use crate::sources::certs::Der;

pub struct OsStore {
    pub certs: Vec<Der>,
    pub warnings: Vec<String>,
}

/// What the warm path looks at to tell whether the store may have changed.
pub enum Freshness {
    /// Files and directories whose size and mtime change when the store does, each with its
    /// metadata as the search for them read it (`None`: not there), so that the warm path stats
    /// each of them once. Linux and BSDs.
    #[cfg_attr(any(windows, target_os = "macos"), allow(dead_code))]
    Paths(Vec<(PathBuf, Option<std::fs::Metadata>)>),
    /// No file to stat: the store is re-read when this number changes (hours since the epoch;
    /// on Windows mixed with the root stores' registry write times).
    #[cfg_attr(all(unix, not(target_os = "macos")), allow(dead_code))]
    Epoch(u64),
}

/// The bundle files OpenSSL distributions ship, first existing one wins (openssl-probe's list,
/// without its environment lookup).
#[cfg(all(unix, not(target_os = "macos")))]
const CERT_FILES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/pki/tls/cacert.pem",
    "/etc/ssl/cert.pem",
    "/usr/local/etc/ssl/cert.pem",
    "/usr/local/share/certs/ca-root-nss.crt",
];

#[cfg(all(unix, not(target_os = "macos")))]
fn store_paths() -> (Option<PathBuf>, Vec<PathBuf>) {
    let file = CERT_FILES.iter().map(PathBuf::from).find(|p| p.is_file());
    let dirs = openssl_probe::candidate_cert_dirs()
        .map(PathBuf::from)
        .collect();
    (file, dirs)
}

#[cfg(all(unix, not(target_os = "macos")))]
pub fn load() -> OsStore {
    let (file, dirs) = store_paths();
    let mut certs = Vec::new();
    let mut warnings = Vec::new();
    if let Some(file) = file {
        let result = rustls_native_certs::load_certs_from_paths(Some(&file), None);
        certs.extend(result.certs);
        warnings.extend(result.errors.iter().map(|e| e.to_string()));
    }
    // Directories as OpenSSL reads them, only `<hash>.<n>` entries (rustls-native-certs would read
    // every file): a certificate copied into /etc/ssl/certs without update-ca-certificates or
    // c_rehash is trusted by neither OpenSSL nor us. Duplicates of the file are dropped later.
    for dir in dirs {
        match crate::sources::certs::read_hashed_dir(&dir) {
            Ok((found, notes)) => {
                certs.extend(found);
                warnings.extend(notes);
            }
            Err(e) => warnings.push(e.to_string()),
        }
    }
    stable_order(&mut certs);
    OsStore { certs, warnings }
}

/// The bundle file and the directories themselves, not the hundreds of entries: what real tools
/// do is caught (update-ca-certificates and c_rehash rewrite the bundle file and relink the
/// directory; a package upgrade replaces files and its trigger runs update-ca-certificates), at a
/// few stat calls per run. What slips through: a certificate edited in place behind an existing
/// `<hash>.0` link without running those tools; `trustrun doctor` notices it (`sources::stale_note`).
#[cfg(all(unix, not(target_os = "macos")))]
pub fn freshness() -> Freshness {
    // The first bundle file that exists, stat'd once; then every directory OpenSSL may read,
    // there or not (one that appears changes the store as much as one that changes).
    let file = CERT_FILES.iter().find_map(|p| {
        let meta = std::fs::metadata(p).ok().filter(|m| m.is_file())?;
        Some((PathBuf::from(p), Some(meta)))
    });
    let dirs = CERT_DIRS
        .iter()
        .map(|d| (PathBuf::from(d), std::fs::metadata(d).ok()));
    Freshness::Paths(file.into_iter().chain(dirs).collect())
}

/// openssl-probe's certificate directories (`candidate_cert_dirs` before its existence check,
/// which would cost a second `stat` of each on the warm path); a unit test keeps the two lists
/// in step.
#[cfg(all(unix, not(target_os = "macos"), not(target_os = "freebsd")))]
const CERT_DIRS: &[&str] = &[
    "/etc/ssl/certs",
    "/etc/pki/tls/certs",
    "/etc/security/certificates",
];
#[cfg(target_os = "freebsd")]
const CERT_DIRS: &[&str] = &["/etc/ssl/certs", "/usr/local/share/certs"];

#[cfg(windows)]
pub fn load() -> OsStore {
    use schannel::cert_context::ValidUses;
    use schannel::cert_store::CertStore;

    let mut certs = Vec::new();
    let mut warnings = Vec::new();
    // The current user's logical ROOT store includes the machine's and the enterprise's (group
    // policy) roots, which is where IT deploys a proxy's root.
    match CertStore::open_current_user("ROOT") {
        Ok(store) => {
            for cert in store.certs() {
                let server_auth = match cert.valid_uses() {
                    Ok(ValidUses::All) => true,
                    Ok(ValidUses::Oids(oids)) => oids.iter().any(|o| o == "1.3.6.1.5.5.7.3.1"),
                    Err(e) => {
                        warnings.push(format!("certificate usage unreadable: {e}"));
                        false
                    }
                };
                if server_auth && cert.is_time_valid().unwrap_or(false) {
                    certs.push(Der::from(cert.to_der().to_vec()));
                }
            }
        }
        Err(e) => warnings.push(format!("cannot open the Windows ROOT store: {e}")),
    }
    // What IT deployed, read from its own stores too: the logical view above may not include
    // them (wine's does not). Duplicates are merged later.
    certs.extend(
        crate::sources::provenance::deployed_roots()
            .into_iter()
            .map(|(d, _)| d),
    );
    stable_order(&mut certs);
    OsStore { certs, warnings }
}

#[cfg(target_os = "macos")]
pub fn load() -> OsStore {
    use security_framework::trust_settings::{Domain, TrustSettings, TrustSettingsForCertificate};
    use std::collections::HashMap;

    let mut warnings = Vec::new();
    // User settings override admin settings, which override the system's: first seen wins.
    let mut seen: HashMap<Vec<u8>, TrustSettingsForCertificate> = HashMap::new();
    for domain in [Domain::User, Domain::Admin, Domain::System] {
        let ts = TrustSettings::new(domain);
        let iter = match ts.iter() {
            Ok(iter) => iter,
            Err(e) => {
                warnings.push(format!("trust settings ({domain:?}) unreadable: {e}"));
                continue;
            }
        };
        for cert in iter {
            let trusted = match ts.tls_trust_settings_for_certificate(&cert) {
                Ok(t) => t.unwrap_or(TrustSettingsForCertificate::TrustRoot),
                Err(e) => {
                    warnings.push(format!("certificate trust unreadable: {e}"));
                    continue;
                }
            };
            seen.entry(cert.to_der()).or_insert(trusted);
        }
    }
    let mut certs: Vec<Der> = seen
        .into_iter()
        .filter(|(_, t)| {
            matches!(
                t,
                TrustSettingsForCertificate::TrustRoot | TrustSettingsForCertificate::TrustAsRoot
            )
        })
        .map(|(der, _)| Der::from(der))
        .collect();
    // The HashMap's order differs from run to run.
    stable_order(&mut certs);
    OsStore { certs, warnings }
}

#[cfg(target_os = "macos")]
pub fn freshness() -> Freshness {
    // Reading these stores costs tens of milliseconds and they have no file to stat: re-read hourly.
    Freshness::Epoch(hours_since_epoch())
}

/// Hourly, and at once when a root store's registry key changes: a root IT deploys by Group
/// Policy (or one the user imports) is in the next run's bundle, not an hour later. The keys'
/// last-write times cost a few registry calls, no certificate parsing.
#[cfg(windows)]
pub fn freshness() -> Freshness {
    use crate::util::windows::{HKEY_CURRENT_USER, HKEY_LOCAL_MACHINE, RegKey};
    const KEYS: &[(bool, &str)] = &[
        (
            true,
            r"SOFTWARE\Microsoft\SystemCertificates\Root\Certificates",
        ),
        (
            true,
            r"SOFTWARE\Policies\Microsoft\SystemCertificates\Root\Certificates",
        ),
        (
            true,
            r"SOFTWARE\Microsoft\EnterpriseCertificates\Root\Certificates",
        ),
        (
            false,
            r"Software\Microsoft\SystemCertificates\Root\Certificates",
        ),
        (
            false,
            r"Software\Policies\Microsoft\SystemCertificates\Root\Certificates",
        ),
    ];
    let mut n = hours_since_epoch();
    for (machine, key) in KEYS {
        let root = if *machine {
            HKEY_LOCAL_MACHINE
        } else {
            HKEY_CURRENT_USER
        };
        let Some(key) = RegKey::open(root, key) else {
            continue;
        };
        n = n.rotate_left(17) ^ key.last_write();
    }
    Freshness::Epoch(n)
}

#[cfg(any(windows, target_os = "macos"))]
fn hours_since_epoch() -> u64 {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    secs / 3600
}

/// Sorts the store's certificates by their DER bytes: the same store then gives the same bundle
/// bytes, and so the same content-addressed bundle, on every read (a HashMap or a directory
/// listing has no order of its own).
fn stable_order(certs: &mut [Der]) {
    certs.sort_unstable_by(|a, b| a.as_ref().cmp(b.as_ref()));
}

#[cfg(test)]
mod tests {
    #[cfg(all(unix, not(target_os = "macos")))]
    #[test]
    fn every_directory_openssl_probe_knows_is_watched() {
        for dir in openssl_probe::candidate_cert_dirs() {
            assert!(
                super::CERT_DIRS
                    .iter()
                    .any(|d| std::path::Path::new(d) == dir),
                "{} is read but not watched",
                dir.display()
            );
        }
    }

    #[test]
    fn the_same_certificates_come_out_in_the_same_order() {
        let der = |b: &[u8]| super::Der::from(b.to_vec());
        let mut one = vec![der(b"c"), der(b"a"), der(b"bb"), der(b"b")];
        let mut two = vec![der(b"b"), der(b"bb"), der(b"c"), der(b"a")];
        super::stable_order(&mut one);
        super::stable_order(&mut two);
        assert_eq!(one, two);
        assert_eq!(one[0].as_ref(), b"a");
    }
}
