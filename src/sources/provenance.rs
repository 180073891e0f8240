//! Where the OS says its roots came from: deployed by an administrator (Windows' Group Policy and
//! Enterprise stores, macOS' admin and user trust settings) or shipped by the OS vendor (Windows'
//! `authroot` list of Microsoft's root program). Sources stage, for `doctor` (which roots are the
//! corporate ones) and `os_store` (Windows: the physical stores IT deploys to are read
//! explicitly). On Linux the OS has no such signal; doctor keeps its distribution heuristic.

use std::collections::{HashMap, HashSet};

use crate::sources::certs::Der;

/// How a root got into the OS store, as far as the OS tells.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Provenance {
    /// An administrator (or the user) put it there: "deployed by Group Policy" and the like.
    Deployed(&'static str),
    /// Part of the OS vendor's own root program: a public root, not corporate.
    Vendor,
    /// In neither: added locally by something else (an installer, a user).
    AddedLocally,
}

/// The OS's own signals, read once.
pub struct Signals {
    deployed: HashMap<Vec<u8>, &'static str>,
    /// SHA-1 thumbprints of the vendor's root program; None where the OS keeps no list (Linux,
    /// macOS, wine).
    vendor: Option<HashSet<Vec<u8>>>,
}

impl Signals {
    /// None: this OS says nothing about `der` (Linux), the caller decides by other means.
    /// Windows and macOS always answer: without a vendor list, a root that no administrator
    /// deployed counts as the vendor's (the OS ships dozens that Mozilla lacks).
    pub fn of(&self, der: &Der) -> Option<Provenance> {
        if !cfg!(any(windows, target_os = "macos")) {
            return None;
        }
        if let Some(how) = self.deployed.get(der.as_ref()) {
            return Some(Provenance::Deployed(how));
        }
        match &self.vendor {
            Some(list) if !list.contains(&thumbprint(der)) => Some(Provenance::AddedLocally),
            _ => Some(Provenance::Vendor),
        }
    }
}

pub fn read() -> Signals {
    Signals {
        deployed: deployed_roots()
            .into_iter()
            .map(|(d, how)| (d.to_vec(), how))
            .collect(),
        vendor: vendor_program(),
    }
}

/// The root stores an administrator deploys to, each with the words doctor uses for it.
#[cfg(windows)]
const DEPLOYED_STORES: &[(u32, &str)] = &[
    (8, "deployed by Group Policy"),        // LOCAL_MACHINE_GROUP_POLICY
    (7, "deployed by Group Policy (user)"), // CURRENT_USER_GROUP_POLICY
    (9, "deployed by your organization (Enterprise store)"), // LOCAL_MACHINE_ENTERPRISE
];

/// The roots in Windows' Group Policy and Enterprise Root stores, read one by one: the logical
/// CurrentUser Root view may not show them (wine's does not).
#[cfg(windows)]
pub fn deployed_roots() -> Vec<(Der, &'static str)> {
    DEPLOYED_STORES
        .iter()
        .flat_map(|(location, how)| {
            crate::util::windows::system_store_certificates(*location, "Root")
                .into_iter()
                .map(move |der| (Der::from(der), *how))
        })
        .collect()
}

/// Roots with trust settings in the admin or user domain: an administrator or the user trusted
/// them; Apple's own roots carry none there.
#[cfg(target_os = "macos")]
pub fn deployed_roots() -> Vec<(Der, &'static str)> {
    use security_framework::trust_settings::{Domain, TrustSettings};
    let mut out = Vec::new();
    for (domain, how) in [
        (
            Domain::Admin,
            "trusted by an administrator (admin trust settings)",
        ),
        (Domain::User, "trusted by you (user trust settings)"),
    ] {
        if let Ok(iter) = TrustSettings::new(domain).iter() {
            out.extend(iter.map(|cert| (Der::from(cert.to_der()), how)));
        }
    }
    out
}

#[cfg(not(any(windows, target_os = "macos")))]
pub fn deployed_roots() -> Vec<(Der, &'static str)> {
    Vec::new()
}

/// The thumbprints in the `authroot` certificate trust list Windows caches in the registry: every
/// root of Microsoft's program, downloaded or not. None when there is no list (offline images,
/// wine).
#[cfg(windows)]
fn vendor_program() -> Option<HashSet<Vec<u8>>> {
    use crate::util::windows::{HKEY_LOCAL_MACHINE, binary_value, trust_list_subjects};
    let ctl = binary_value(
        HKEY_LOCAL_MACHINE,
        r"SOFTWARE\Microsoft\SystemCertificates\AuthRoot\AutoUpdate",
        "EncodedCtl",
    )?;
    Some(trust_list_subjects(&ctl)?.into_iter().collect())
}

#[cfg(not(windows))]
fn vendor_program() -> Option<HashSet<Vec<u8>>> {
    None
}

/// A certificate's SHA-1 thumbprint, the identifier the authroot list uses.
#[cfg(windows)]
fn thumbprint(der: &Der) -> Vec<u8> {
    crate::util::windows::sha1_thumbprint(der.as_ref())
}

/// Only Windows keeps a vendor list; elsewhere nothing is looked up by thumbprint.
#[cfg(not(windows))]
fn thumbprint(_der: &Der) -> Vec<u8> {
    Vec::new()
}
