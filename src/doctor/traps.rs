//! The CA variables in the caller's environment, and the ways they quietly break or narrow trust
//! (doctor, beside the pipeline).

use std::collections::HashSet;
use std::ffi::OsString;
use std::path::PathBuf;

use serde::Serialize;

use super::certinfo::{self, AnchorKey};
use crate::settings::vars;
use crate::sources::certs::{self, CaPathError};

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
    /// The message in its parts, so that render can name on one line the variables that share a
    /// value and a finding without editing the finished text.
    #[serde(skip)]
    pub said: Said,
}

/// A message as how it names the variable, then what was found.
#[derive(Clone, Debug)]
pub struct Said {
    head: Head,
    rest: String,
}

#[derive(Clone, Copy, Debug)]
enum Head {
    /// `NAME`
    Name,
    /// `NAME=value`
    Assignment,
    /// `NAME="value"`, for values where the spelling matters (`0`, `""`).
    QuotedAssignment,
}

impl Said {
    /// The message naming `names` (one variable, or several joined) set to `value`.
    pub fn text(&self, names: &str, value: &str) -> String {
        let rest = &self.rest;
        match self.head {
            Head::Name => format!("{names}{rest}"),
            Head::Assignment => format!("{names}={value}{rest}"),
            Head::QuotedAssignment => format!("{names}={value:?}{rest}"),
        }
    }
}

impl VarCheck {
    fn new(name: &str, value: String, status: VarStatus, trap: bool, said: Said) -> VarCheck {
        VarCheck {
            name: name.to_owned(),
            message: said.text(name, &value),
            value,
            status,
            trap,
            said,
        }
    }
}

fn said(head: Head, rest: impl Into<String>) -> Said {
    Said {
        head,
        rest: rest.into(),
    }
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
    /// The corporate roots a file must hold: those that intercept a checked host. `None` when no
    /// host was checked: then any of them may be the one.
    pub needed: Option<&'a HashSet<AnchorKey>>,
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
        out.push(VarCheck::new(
            PYTHONHTTPSVERIFY,
            shown,
            VarStatus::NoEffect,
            true,
            said(
                Head::QuotedAssignment,
                " does nothing in Python 3 (only some Python 2.7 builds read it): \
                 it neither turns verification off nor fixes it; remove it",
            ),
        ));
    }
    out
}

fn check_file_variable(name: &str, value: &OsString, expected: &Expected<'_>) -> VarCheck {
    let shown = value.to_string_lossy().into_owned();
    let check = |status, trap, said: Said| VarCheck::new(name, shown.clone(), status, trap, said);
    if value.is_empty() {
        let rest = if name == "SSL_CERT_FILE" {
            " is set but empty: httpx ignores it, but OpenSSL (Python's ssl and urllib) \
             then loses its default CA file; unset it"
        } else {
            " is set but empty: some clients read it as unset, others as a file that does not exist; unset it"
        };
        return check(VarStatus::Empty, true, said(Head::Name, rest));
    }
    let path = PathBuf::from(value);
    if crate::store::layout::is_cache_bundle(&path) {
        return check(
            VarStatus::TrustrunBundle,
            false,
            said(Head::Name, " points at a trustrun bundle"),
        );
    }
    let found = match certs::read_ca_path(&path) {
        Ok(found) => found,
        Err(CaPathError::Missing(_)) => {
            return check(
                VarStatus::Missing,
                true,
                said(
                    Head::Assignment,
                    ": no such file; programs that read it fail to verify anything (or silently use their own roots)",
                ),
            );
        }
        Err(e) => {
            return check(
                VarStatus::NotCertificates,
                true,
                said(
                    Head::Name,
                    format!(": {e}; programs that read it cannot verify with it"),
                ),
            );
        }
    };
    let keys: HashSet<AnchorKey> = found
        .iter()
        .filter_map(|der| certinfo::parse(der).map(|p| p.anchor_key()))
        .collect();
    // A root no checked host leads to is not a trap to lack: a host needs the root that
    // intercepts it, and a file with that one works there.
    let mut missing: Vec<&str> = Vec::new();
    let mut unneeded: Vec<&str> = Vec::new();
    for (key, root) in expected.corporate.iter().filter(|(k, _)| !keys.contains(k)) {
        if expected.needed.is_none_or(|n| n.contains(key)) {
            missing.push(root);
        } else {
            unneeded.push(root);
        }
    }
    let adds_only = name == "NODE_EXTRA_CA_CERTS";
    let public = keys.intersection(expected.mozilla).count();
    let mut findings = Vec::new();
    if !missing.is_empty() {
        let fails = if adds_only {
            "Node adds this file to its roots, so it will not trust that root"
        } else if expected.needed.is_some() {
            "a checked host is intercepted by it, so programs that read it fail there"
        } else {
            "programs that read it trust less than your OS does (this narrows trust instead of widening it)"
        };
        findings.push(format!("lacks {}: {fails}", missing.join(", ")));
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
            said(
                Head::Assignment,
                format!(
                    " ({}) {}",
                    crate::util::text::count(found.len(), "certificate"),
                    findings.join("; it ")
                ),
            ),
        );
    }
    let certificates = crate::util::text::count(found.len(), "certificate");
    if !unneeded.is_empty() {
        return check(
            VarStatus::LacksCorporateRoots,
            false,
            said(
                Head::Assignment,
                format!(
                    " ({certificates}) lacks {}, which intercepts none of the checked hosts",
                    unneeded.join(", ")
                ),
            ),
        );
    }
    check(
        VarStatus::Ok,
        false,
        said(Head::Assignment, format!(" ({certificates})")),
    )
}

fn check_cert_dir(value: &OsString) -> VarCheck {
    let shown = value.to_string_lossy().into_owned();
    let check = |status, trap, said: Said| {
        VarCheck::new(vars::SSL_CERT_DIR, shown.clone(), status, trap, said)
    };
    if value.is_empty() {
        return check(
            VarStatus::Empty,
            true,
            said(
                Head::Name,
                " is set but empty: httpx 0.27 reads it as the current directory; unset it",
            ),
        );
    }
    let missing: Vec<String> = std::env::split_paths(value)
        .filter(|p| !p.as_os_str().is_empty() && !p.is_dir())
        .map(|p| p.display().to_string())
        .collect();
    if missing.is_empty() {
        check(VarStatus::Ok, false, said(Head::Assignment, ""))
    } else {
        check(
            VarStatus::Missing,
            true,
            said(
                Head::Name,
                format!(
                    " names {}, not a directory: OpenSSL looks up nothing there",
                    missing.join(", ")
                ),
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// render names every variable of a group through `Said`; the message is the one-name case.
    #[test]
    fn a_finding_names_one_variable_or_several() {
        let (corporate, mozilla) = (Vec::new(), HashSet::new());
        let expected = Expected {
            corporate: &corporate,
            mozilla: &mozilla,
            needed: None,
        };
        let value = OsString::from("/nonexistent/trustrun-ca.pem");
        let file = check_file_variable("SSL_CERT_FILE", &value, &expected);
        assert_eq!(file.status, VarStatus::Missing);
        assert_eq!(file.message, file.said.text("SSL_CERT_FILE", &file.value));
        assert!(
            file.message
                .starts_with("SSL_CERT_FILE=/nonexistent/trustrun-ca.pem: no such file"),
            "{}",
            file.message
        );
        let both = file.said.text("SSL_CERT_FILE, PIP_CERT", &file.value);
        assert!(
            both.starts_with("SSL_CERT_FILE, PIP_CERT=/nonexistent/trustrun-ca.pem: no such file"),
            "{both}"
        );
        // A message that names the variable without its value names all of them too.
        let dir = check_cert_dir(&value);
        assert_eq!(dir.message, dir.said.text("SSL_CERT_DIR", &dir.value));
        let both = dir.said.text("SSL_CERT_DIR, X_DIR", &dir.value);
        assert!(
            both.starts_with("SSL_CERT_DIR, X_DIR names /nonexistent"),
            "{both}"
        );
    }
}
