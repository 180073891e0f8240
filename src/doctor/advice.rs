//! What fixes it (doctor, beside the pipeline): advice that fits what doctor found and the
//! state setup is in, before render. A fix is offered only for a problem seen here, first the one
//! to take first (the verdict's next step); what could matter later is a note. Command lines are
//! in the syntax of the user's shell.

use super::pythons::PythonInfo;
use super::traps::{VarCheck, VarStatus};
use super::{HostReport, certinfo, trust};
use crate::settings::options::TrustOptions;
use crate::setup::status::{Freshness, Here, Status};
use crate::util::next_step;
use crate::util::shell::Shell;

pub struct Advice {
    /// Fixes for problems seen now, the one to take first first.
    pub fixes: Vec<String>,
    /// Worth knowing, nothing to do now.
    pub notes: Vec<String>,
}

/// What advice is given from.
pub struct Found<'a> {
    pub sources: &'a trust::SourcesReport,
    pub environment: &'a [VarCheck],
    pub pythons: &'a [PythonInfo],
    pub hosts: &'a [HostReport],
    pub setup: &'a Status,
}

pub fn advise(found: &Found<'_>, opts: &TrustOptions, shell: Shell) -> Advice {
    let Found {
        sources,
        environment,
        pythons,
        hosts,
        setup,
    } = *found;
    let mut fixes = Vec::new();
    let mut notes = Vec::new();
    // A root trustrun lacks first: nothing else helps until it is named.
    if hosts
        .iter()
        .any(|h| h.error.is_none() && !h.verified && !h.chain.is_empty())
    {
        fixes.push(format!(
            "A host's chain leads to a root trustrun does not have: get your proxy's root \
             certificate from IT (or export it from the browser's certificate viewer) and run \
             `trustrun --ca ROOT.pem ...` or set TRUSTRUN_CA; for good: `trustrun setup --ca \
             {}`",
            shell.home_file("ROOT.pem")
        ));
    }
    // Then the variables that break trust: setup keeps a variable the user set.
    for v in environment.iter().filter(|v| v.trap) {
        fixes.push(trap_fix(v, shell));
    }
    strict_advice(sources, pythons, hosts, opts, &mut fixes, &mut notes);
    if let Some(step) = setup_step(setup, hosts, sources, shell) {
        fixes.push(step);
    }
    if let Ok(dir) = crate::shim::default_dir() {
        for (name, first) in crate::shim::shadow::shadowed_in(&dir) {
            let line = crate::shim::shadow::explain(&name, &first);
            if setup.working_here() {
                notes.push(line);
            } else {
                fixes.push(line);
            }
        }
    }
    Advice { fixes, notes }
}

/// The step that makes trust last, from setup's state: setup first when nothing is in place,
/// a new terminal when setup is in place but this process started before it, nothing when it
/// works here. Only when trust is wanted: a checked host is intercepted, or, with no host
/// checked, a root outside Mozilla's set is trusted here.
fn setup_step(
    setup: &Status,
    hosts: &[HostReport],
    sources: &trust::SourcesReport,
    shell: Shell,
) -> Option<String> {
    let wanted = if hosts.is_empty() {
        !sources.corporate_roots.is_empty()
    } else {
        hosts
            .iter()
            .any(|h| h.intercepted_by.is_some() && h.verified)
    };
    if !wanted {
        return None;
    }
    match setup {
        Status::NotInPlace | Status::Unknown(_) => Some(next_step::setup_first(shell)),
        Status::InPlace {
            freshness: Freshness::Stale,
            ..
        } => Some(
            "Run `trustrun setup --refresh`: setup's bundle is older than its sources".to_owned(),
        ),
        Status::InPlace {
            here: Here::NotYet, ..
        } => Some(next_step::NOT_REACHING_HERE.to_owned()),
        // In use, or a variable of the user's in its place (a trap when it breaks trust).
        Status::InPlace { .. } => None,
    }
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
    // "X fails", "X, Y fail".
    let fail = |roots: &[&trust::CorporateRoot]| {
        if roots.len() == 1 { "fails" } else { "fail" }
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
            "{} {} Python 3.13's strict X.509 checks, and {} is Python {}: it rejects {} \
             even though trusted. Run `trustrun --relax-x509-strict PROGRAM` (or set \
             relax_x509_strict = true in the config) until IT reissues {} with critical \
             basicConstraints, keyUsage and subjectKeyIdentifier",
            names(&matter),
            fail(&matter),
            p.path.display(),
            p.version.as_deref().unwrap_or("3.13+"),
            if matter.len() == 1 {
                "that root"
            } else {
                "those roots"
            },
            if matter.len() == 1 {
                "the root"
            } else {
                "them"
            },
        )),
        (false, None) => notes.push(format!(
            "{} {} Python 3.13's strict X.509 checks; no Python 3.13+ is on PATH, so nothing \
             to do now (with 3.13+: `trustrun --relax-x509-strict`)",
            names(&matter),
            fail(&matter)
        )),
        (true, _) => {}
    }
    if !others.is_empty() {
        notes.push(format!(
            "{} {} Python 3.13's strict X.509 checks but {} none of the checked hosts",
            names(&others),
            fail(&others),
            if others.len() == 1 {
                "intercepts"
            } else {
                "intercept"
            }
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

/// Where a variable the user set is set, to remove it for good.
fn where_set() -> &'static str {
    if cfg!(windows) {
        "and remove it where it is set (your $PROFILE, or System Properties > Environment \
         Variables)"
    } else {
        "and remove it where your profile sets it"
    }
}

/// The fix for one environment trap, by what is wrong with the variable.
fn trap_fix(v: &VarCheck, shell: Shell) -> String {
    let name = &v.name;
    let unset = shell.unset(name);
    let where_set = where_set();
    match v.status {
        VarStatus::Empty => format!(
            "Unset {name} (`{unset}`, {where_set}): empty, it hides OpenSSL's default CA file"
        ),
        VarStatus::Missing | VarStatus::NotCertificates => format!(
            "{name} names a file with no certificate to trust ({}): unset it (`{unset}`), or point \
             it at a real CA file; trustrun then adds it to its bundle",
            v.value
        ),
        VarStatus::LacksCorporateRoots => format!(
            "{name} points at a bundle without the corporate root, so programs run without \
             trustrun fail: unset it (`{unset}`, {where_set}); trustrun, `trustrun env` and \
             setup point it at a bundle with everything"
        ),
        VarStatus::LacksPublicRoots => format!(
            "{name} holds (almost) only corporate roots, so public hosts fail: give that file to \
             trustrun instead (`--ca {}` or TRUSTRUN_CA) and unset {name} (`{unset}`)",
            v.value
        ),
        VarStatus::NoEffect => format!("Unset {name} (`{unset}`): it does nothing in Python 3"),
        // Not traps, so never asked for; said plainly should that change.
        VarStatus::Ok | VarStatus::TrustrunBundle => format!("{name}: {}", v.message),
    }
}
