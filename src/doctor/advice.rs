//! "What fixes it" (doctor, beside the pipeline): advice that fits what doctor found, before
//! render. A fix
//! is offered only for a problem seen here; what could matter later is a note.

use super::pythons::PythonInfo;
use super::traps::{VarCheck, VarStatus};
use super::{HostReport, certinfo, trust};
use crate::settings::options::TrustOptions;

/// The persistent ways to get trustrun's trust, named wherever advice says "run it through
/// trustrun": one command is rarely what a user wants.
const PERSISTENT: &str = "for one command `trustrun python app.py`; for every shell add \
`eval \"$(trustrun env --format sh)\"` to ~/.bashrc or ~/.zshrc (fish: `trustrun env --format \
fish | source`); for plain `python`, `pip` and `harbor` everywhere `trustrun shim install`";

pub struct Advice {
    /// Fixes for problems seen now.
    pub fixes: Vec<String>,
    /// Worth knowing, nothing to do now.
    pub notes: Vec<String>,
}

pub fn advise(
    sources: &trust::SourcesReport,
    environment: &[VarCheck],
    pythons: &[PythonInfo],
    hosts: &[HostReport],
    opts: &TrustOptions,
) -> Advice {
    let mut fixes = Vec::new();
    let mut notes = Vec::new();
    strict_advice(sources, pythons, hosts, opts, &mut fixes, &mut notes);
    for v in environment.iter().filter(|v| v.trap) {
        fixes.push(trap_fix(v));
    }
    if hosts
        .iter()
        .any(|h| h.intercepted_by.is_some() && h.verified)
    {
        fixes.push(format!(
            "Plain Python (certifi) fails on the intercepted hosts and trustrun fixes it: {PERSISTENT}"
        ));
    }
    if hosts
        .iter()
        .any(|h| h.error.is_none() && !h.verified && !h.chain.is_empty())
    {
        fixes.push(
            "A host's chain leads to a root trustrun does not have: get your proxy's root certificate \
             from IT (or export it from the browser's certificate viewer) and run \
             `trustrun --ca ROOT.pem ...` or set TRUSTRUN_CA"
                .to_owned(),
        );
    }
    if let Ok(dir) = crate::shim::default_dir() {
        for (name, first) in crate::shim::shadow::shadowed_in(&dir) {
            fixes.push(crate::shim::shadow::explain(&name, &first));
        }
    }
    Advice { fixes, notes }
}

/// `--relax-x509-strict` is recommended only when it changes something: a Python 3.13+ is on
/// PATH and a root that matters fails the strict checks. A root matters when it intercepts a
/// checked host, or, with no host checked, when it is any corporate root.
fn strict_advice(
    sources: &trust::SourcesReport,
    pythons: &[PythonInfo],
    hosts: &[HostReport],
    opts: &TrustOptions,
    fixes: &mut Vec<String>,
    notes: &mut Vec<String>,
) {
    let failing: Vec<&trust::CorporateRoot> = sources
        .corporate_roots
        .iter()
        .filter(|r| !r.passes_x509_strict)
        .collect();
    if failing.is_empty() {
        return;
    }
    let intercepting = |r: &trust::CorporateRoot| {
        hosts.iter().any(|h| {
            h.intercepted_by.is_some()
                && h.root
                    .as_ref()
                    .is_some_and(|root| root.cert.sha256 == r.cert.sha256)
        })
    };
    let (matter, others): (Vec<&trust::CorporateRoot>, Vec<&trust::CorporateRoot>) = failing
        .into_iter()
        .partition(|r| hosts.is_empty() || intercepting(r));
    let names = |roots: &[&trust::CorporateRoot]| {
        roots
            .iter()
            .map(|r| certinfo::short_name(&r.cert))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let strict_python = pythons.iter().find(|p| is_strict_python(p));
    match (matter.is_empty(), strict_python) {
        (false, Some(p)) if opts.relax_x509_strict => notes.push(format!(
            "--relax-x509-strict is on: {} ({}) accepts {}",
            p.name,
            p.version.as_deref().unwrap_or("3.13+"),
            names(&matter)
        )),
        (false, Some(p)) => fixes.push(format!(
            "{} fails Python 3.13's strict X.509 checks, and {} is Python {}: it rejects that root \
             even though trusted. Run `trustrun --relax-x509-strict PROGRAM` (or set \
             relax_x509_strict = true in the config) until IT reissues the root with critical \
             basicConstraints, keyUsage and subjectKeyIdentifier",
            names(&matter),
            p.path.display(),
            p.version.as_deref().unwrap_or("3.13+"),
        )),
        (false, None) => notes.push(format!(
            "{} fails Python 3.13's strict X.509 checks; no Python 3.13+ is on PATH, so nothing \
             to do now (with 3.13+: `trustrun --relax-x509-strict`)",
            names(&matter)
        )),
        (true, _) => {}
    }
    if !others.is_empty() {
        notes.push(format!(
            "{} fails Python 3.13's strict X.509 checks but intercepts none of the checked hosts",
            names(&others)
        ));
    }
}

/// Python 3.13+ (which sets VERIFY_X509_STRICT by default), by what it said or its version.
fn is_strict_python(p: &PythonInfo) -> bool {
    if let Some(strict) = p.x509_strict_default {
        return strict;
    }
    let Some(version) = &p.version else {
        return false;
    };
    let mut parts = version.split('.').map(|n| n.parse::<u32>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    (major, minor) >= (3, 13)
}

/// The fix for one environment trap, by what is wrong with the variable.
fn trap_fix(v: &VarCheck) -> String {
    let name = &v.name;
    match v.status {
        VarStatus::Empty => format!(
            "Unset {name} (`unset {name}`, and remove it where your profile sets it): empty, it \
             hides OpenSSL's default CA file"
        ),
        VarStatus::Missing | VarStatus::NotCertificates => format!(
            "{name} names a file with no certificate to trust ({}): unset it, or point it at a real \
             CA file; trustrun then adds it to its bundle",
            v.value
        ),
        VarStatus::LacksCorporateRoots => format!(
            "{name} points at a bundle without the corporate roots, so programs run without \
             trustrun fail: unset it (trustrun and `trustrun env` point it at a bundle with \
             everything)"
        ),
        VarStatus::LacksPublicRoots => format!(
            "{name} holds (almost) only corporate roots, so public hosts fail: give that file to \
             trustrun instead (`--ca {}` or TRUSTRUN_CA) and unset {name}",
            v.value
        ),
        VarStatus::NoEffect => format!("Unset {name}: it does nothing in Python 3"),
        // Not traps, so never asked for; said plainly should that change.
        VarStatus::Ok | VarStatus::TrustrunBundle => format!("{name}: {}", v.message),
    }
}
