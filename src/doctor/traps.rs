//! The CA variables in the caller's environment, and the ways they quietly break or narrow trust.

use std::collections::HashSet;
use std::ffi::OsString;
use std::path::PathBuf;

use serde::Serialize;

use super::certinfo::{self, AnchorKey};
use crate::certs::{self, CaPathError};
use crate::vars;

/// Python 2.7's PEP 493 switch; Python 3 never read it, yet it is still handed around as a fix.
pub const PYTHONHTTPSVERIFY: &str = "PYTHONHTTPSVERIFY";

#[derive(Debug, Serialize)]
pub struct VarCheck {
    pub name: String,
    pub value: String,
    pub status: VarStatus,
    /// Whether this is a trap worth fixing.
    pub trap: bool,
    pub message: String,
}

/// What a CA variable's value amounts to; `--json` carries it as the snake_case name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VarStatus {
    Ok,
    TrustrunBundle,
    Empty,
    Missing,
    NotCertificates,
    LacksCorporateRoots,
    LacksPublicRoots,
    /// Set, but nothing reads it (PYTHONHTTPSVERIFY in Python 3).
    NoEffect,
}

/// What the checks compare a CA file with.
pub struct Expected<'a> {
    pub corporate: &'a [(AnchorKey, String)],
    pub mozilla: &'a HashSet<AnchorKey>,
}

pub fn check_environment(expected: &Expected<'_>) -> Vec<VarCheck> {
    let mut out = Vec::new();
    for (name, _) in vars::CA_VARIABLES {
        if let Some(value) = std::env::var_os(name) {
            out.push(check_file_variable(name, &value, expected));
        }
    }
    if let Some(value) = std::env::var_os(vars::SSL_CERT_DIR) {
        out.push(check_cert_dir(&value));
    }
    if let Some(value) = std::env::var_os(PYTHONHTTPSVERIFY) {
        let shown = value.to_string_lossy().into_owned();
        out.push(VarCheck {
            name: PYTHONHTTPSVERIFY.to_owned(),
            message: format!(
                "{PYTHONHTTPSVERIFY}={shown:?} does nothing in Python 3 (only some Python 2.7 builds read it): \
                 it neither turns verification off nor fixes it; remove it"
            ),
            value: shown,
            status: VarStatus::NoEffect,
            trap: true,
        });
    }
    out
}

fn check_file_variable(name: &str, value: &OsString, expected: &Expected<'_>) -> VarCheck {
    let shown = value.to_string_lossy().into_owned();
    let check = |status, trap, message: String| VarCheck {
        name: name.to_owned(),
        value: shown.clone(),
        status,
        trap,
        message,
    };
    if value.is_empty() {
        let message = if name == "SSL_CERT_FILE" {
            "SSL_CERT_FILE is set but empty: httpx ignores it, but OpenSSL (Python's ssl and urllib) \
             then loses its default CA file; unset it"
                .to_owned()
        } else {
            format!(
                "{name} is set but empty: some clients read it as unset, others as a file that does not exist; unset it"
            )
        };
        return check(VarStatus::Empty, true, message);
    }
    let path = PathBuf::from(value);
    if crate::cache_layout::is_cache_bundle(&path) {
        return check(
            VarStatus::TrustrunBundle,
            false,
            format!("{name} points at a trustrun bundle"),
        );
    }
    let found = match certs::read_ca_path(&path) {
        Ok(found) => found,
        Err(CaPathError::Missing(_)) => {
            return check(
                VarStatus::Missing,
                true,
                format!(
                    "{name}={shown}: no such file; programs that read it fail to verify anything (or silently use their own roots)"
                ),
            );
        }
        Err(e) => {
            return check(
                VarStatus::NotCertificates,
                true,
                format!("{name}: {e}; programs that read it cannot verify with it"),
            );
        }
    };
    let keys: HashSet<AnchorKey> = found
        .iter()
        .filter_map(|der| certinfo::parse(der).map(|p| p.anchor_key()))
        .collect();
    let missing: Vec<&str> = expected
        .corporate
        .iter()
        .filter(|(k, _)| !keys.contains(k))
        .map(|(_, name)| name.as_str())
        .collect();
    let adds_only = name == "NODE_EXTRA_CA_CERTS";
    let public = keys.intersection(expected.mozilla).count();
    let mut findings = Vec::new();
    if !missing.is_empty() {
        findings.push(if adds_only {
            format!(
                "lacks {}: Node adds this file to its roots, so it will not trust that root",
                missing.join(", ")
            )
        } else {
            format!(
                "lacks {}: programs that read it trust less than your OS does (this narrows trust instead of widening it)",
                missing.join(", ")
            )
        });
    }
    // A file holding only the corporate root is the usual hand-made fix: it makes the proxied
    // hosts work and every host the proxy lets through untouched fail.
    if !adds_only && public * 2 < expected.mozilla.len() {
        findings.push(format!(
            "holds {public} of Mozilla's {} roots: programs that read it fail on hosts the proxy does not re-sign",
            expected.mozilla.len()
        ));
    }
    if !findings.is_empty() {
        let status = if missing.is_empty() {
            VarStatus::LacksPublicRoots
        } else {
            VarStatus::LacksCorporateRoots
        };
        return check(
            status,
            true,
            format!(
                "{name}={shown} ({}) {}",
                crate::text::count(found.len(), "certificate"),
                findings.join("; it ")
            ),
        );
    }
    check(
        VarStatus::Ok,
        false,
        format!(
            "{name}={shown} ({})",
            crate::text::count(found.len(), "certificate")
        ),
    )
}

fn check_cert_dir(value: &OsString) -> VarCheck {
    let shown = value.to_string_lossy().into_owned();
    let name = vars::SSL_CERT_DIR.to_owned();
    if value.is_empty() {
        return VarCheck {
            name,
            value: shown,
            status: VarStatus::Empty,
            trap: true,
            message: "SSL_CERT_DIR is set but empty: httpx 0.27 reads it as the current directory; unset it"
                .to_owned(),
        };
    }
    let missing: Vec<String> = std::env::split_paths(value)
        .filter(|p| !p.as_os_str().is_empty() && !p.is_dir())
        .map(|p| p.display().to_string())
        .collect();
    if missing.is_empty() {
        VarCheck {
            name,
            message: format!("SSL_CERT_DIR={shown}"),
            value: shown,
            status: VarStatus::Ok,
            trap: false,
        }
    } else {
        VarCheck {
            name,
            message: format!(
                "SSL_CERT_DIR names {}, not a directory: OpenSSL looks up nothing there",
                missing.join(", ")
            ),
            value: shown,
            status: VarStatus::Missing,
            trap: true,
        }
    }
}
