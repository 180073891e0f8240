//! `trustrun doctor [HOST...]`: in one screen, whether TLS here is intercepted, by whom, and what
//! fixes it. Local analysis (trust sources, environment traps, Pythons on PATH) always; a live
//! look at each named host on request. Exit code: 0 when every named host verifies with
//! trustrun's bundle, 1 when one does not, 2 for usage errors.

mod advice;
mod certinfo;
mod containers;
mod corporate;
mod probe;
mod proxy;
mod pythons;
mod render;
mod strict;
mod target;
mod traps;
mod trust;
mod verdict;

use std::time::Duration;

use anyhow::Result;
use serde::Serialize;

use crate::certs::Der;
use crate::failure::Failure;
use crate::failure::PrepareError;
use crate::options::TrustOptions;
use crate::sources::{self, Inputs};

use certinfo::CertInfo;
pub use corporate::corporate_roots;
use probe::ProbeError;
use proxy::Route;
use verdict::{TrustSet, Verdict};

/// Exit code when a named host does not verify with trustrun's bundle.
pub const EXIT_NOT_VERIFIED: u8 = 1;

pub struct Args {
    pub hosts: Vec<String>,
    pub json: bool,
    pub timeout: Duration,
}

/// `--timeout`: seconds, fractions allowed, so tests can be quick and slow links patient.
pub fn parse_timeout(text: &str) -> Result<Duration, String> {
    match text.trim().parse::<f64>() {
        Ok(s) if s.is_finite() && s > 0.0 && s <= 3600.0 => Ok(Duration::from_secs_f64(s)),
        _ => Err(format!(
            "{text:?} is not a number of seconds more than 0 and at most 3600 (e.g. 0.5 or 30)"
        )),
    }
}

#[derive(Serialize)]
pub struct Report {
    pub trustrun_version: &'static str,
    pub sources: trust::SourcesReport,
    pub environment: Vec<traps::VarCheck>,
    pub pythons: Vec<pythons::PythonInfo>,
    pub containers: containers::ContainersReport,
    pub hosts: Vec<HostReport>,
    pub advice: Vec<String>,
    /// Worth knowing, nothing to do now (a root failing strict checks with no Python 3.13 here).
    pub notes: Vec<String>,
    /// `trustrun setup`: in place, fresh, shadowed (see `setup::status`).
    pub setup: String,
    pub summary: Summary,
}

#[derive(Serialize)]
pub struct HostReport {
    pub target: String,
    pub host: String,
    pub port: u16,
    pub route: Route,
    /// The chain the host presented, leaf first.
    pub chain: Vec<CertInfo>,
    /// The root the chain leads to, when one of the trust sets (or the chain itself) holds it.
    pub root: Option<RootFound>,
    /// The root's subject when the chain leads to a root outside Mozilla's set.
    pub intercepted_by: Option<String>,
    pub verdicts: Vec<Verdict>,
    /// The verdict of trustrun's bundle, the one the exit code follows.
    pub verified: bool,
    pub tls_version: Option<String>,
    /// What Python 3.13's VERIFY_X509_STRICT would reject in this chain, by certificate.
    pub x509_strict_problems: Vec<String>,
    pub error: Option<ProbeError>,
    /// The one-line verdict the text report shows.
    pub line: String,
}

#[derive(Serialize)]
pub struct RootFound {
    #[serde(flatten)]
    pub cert: CertInfo,
    pub in_mozilla: bool,
    pub in_os_store: bool,
    pub in_bundle: bool,
}

#[derive(Serialize)]
pub struct Summary {
    pub hosts: usize,
    pub verified: usize,
    pub not_verified: usize,
    pub intercepted: usize,
    pub environment_traps: usize,
    pub corporate_roots: usize,
    pub strict_failures: usize,
    pub exit_code: u8,
    pub line: String,
}

pub fn run(opts: &TrustOptions, args: &Args) -> Result<()> {
    // Bad input first, before any slow work.
    let targets = args
        .hosts
        .iter()
        .map(|h| target::parse(h))
        .collect::<Result<Vec<_>, Failure>>()?;
    let report = build(opts, &targets, args.timeout)?;
    if args.json {
        crate::outln!(
            "{}",
            serde_json::to_string_pretty(&report).map_err(anyhow::Error::from)?
        )?;
    } else {
        crate::out!("{}", render::text(&report, opts.verbose))?;
    }
    if report.summary.exit_code != 0 {
        // On one terminal the summary just printed is the last thing the user read.
        let line = if !args.json && render::same_terminal() {
            "see the summary above".to_owned()
        } else {
            report.summary.line.clone()
        };
        return Err(Failure::new(report.summary.exit_code, line).into());
    }
    Ok(())
}

fn build(opts: &TrustOptions, targets: &[target::Target], timeout: Duration) -> Result<Report> {
    let bundle_path = match crate::prepare::prepare(opts) {
        Ok(p) => Ok(p.bundle),
        Err(e @ PrepareError::UserCa { .. }) => return Err(e.into_error()),
        Err(PrepareError::Internal(e)) => Err(crate::failure::one_line(&e)),
    };
    let inputs = Inputs {
        ca: opts.ca.clone(),
        variables: {
            let mut v = Inputs::caller_variables();
            crate::stable_bundle::add_setup_sources(&mut v);
            v
        },
    };
    let gathered = sources::gather(&inputs).map_err(|e| Failure::usage(e.to_string()))?;
    let mozilla = trust::mozilla();
    let mozilla_keys = trust::keys(&mozilla);
    let os_store: Vec<Der> = gathered
        .certs
        .iter()
        .filter(|(_, o)| *o == sources::Origin::OsStore)
        .map(|(c, _)| c.clone())
        .collect();
    let (bundle_info, bundle) =
        trust::bundle(bundle_path.as_deref().map_err(Clone::clone), &gathered);
    let (corporate, public_roots) = trust::roots_outside_mozilla(&gathered, &mozilla_keys);
    let sets = trust::TrustSets {
        os_store,
        bundle,
        mozilla,
        mozilla_keys,
    };

    let corporate_keys: Vec<(certinfo::AnchorKey, String)> = gathered
        .certs
        .iter()
        .filter_map(|(der, _)| {
            let parsed = certinfo::parse(der)?;
            let sha = parsed.info(der).sha256;
            let root = corporate.iter().find(|r| r.cert.sha256 == sha)?;
            Some((parsed.anchor_key(), certinfo::short_name(&root.cert)))
        })
        .collect();
    let environment = traps::check_environment(&traps::Expected {
        corporate: &corporate_keys,
        mozilla: &sets.mozilla_keys,
    });

    let judges = verdict::Judges::new(&sets.mozilla, &sets.os_store, &sets.bundle);
    let (pythons, hosts) = std::thread::scope(|scope| {
        // One deadline for every Python, the same as for the hosts: doctor obeys --timeout.
        let deadline = std::time::Instant::now() + timeout;
        let pythons = scope.spawn(move || pythons::inspect(deadline));
        let probes: Vec<_> = targets
            .iter()
            .map(|t| {
                let judges = &judges;
                let sets = &sets;
                scope.spawn(move || host_report(t, judges, sets, timeout))
            })
            .collect();
        let hosts: Vec<HostReport> = probes
            .into_iter()
            .zip(targets)
            .map(|(h, t)| {
                h.join()
                    .unwrap_or_else(|_| HostReport::broken(t, "the probe thread failed"))
            })
            .collect();
        (pythons.join().unwrap_or_default(), hosts)
    });

    // The warm path's cheap OS-store signal misses edits behind a `<hash>.0` link; say so here.
    let stale = sources::stale_note(&gathered, &sets.bundle);
    let sources_report = trust::SourcesReport {
        sources: trust::source_counts(&gathered),
        bundle: bundle_info,
        corporate_roots: corporate,
        public_roots_not_in_mozilla: public_roots,
        warnings: gathered.warnings.iter().cloned().chain(stale).collect(),
    };
    let advice = advice::advise(&sources_report, &environment, &pythons, &hosts, opts);
    let summary = summary(&sources_report, &environment, &hosts);
    Ok(Report {
        trustrun_version: env!("CARGO_PKG_VERSION"),
        sources: sources_report,
        environment,
        pythons,
        containers: containers::report(opts),
        hosts,
        advice: advice.fixes,
        notes: advice.notes,
        setup: crate::setup::status::doctor_line(),
        summary,
    })
}

impl HostReport {
    fn broken(t: &target::Target, why: &str) -> HostReport {
        HostReport {
            target: t.display(),
            host: t.host.clone(),
            port: t.port,
            route: Route::Direct,
            chain: Vec::new(),
            root: None,
            intercepted_by: None,
            verdicts: Vec::new(),
            verified: false,
            tls_version: None,
            x509_strict_problems: Vec::new(),
            error: Some(ProbeError {
                kind: "internal",
                message: why.to_owned(),
            }),
            line: why.to_owned(),
        }
    }
}

fn host_report(
    t: &target::Target,
    judges: &verdict::Judges,
    sets: &trust::TrustSets,
    timeout: Duration,
) -> HostReport {
    let route = proxy::route_for(&t.host, t.port);
    let Some(bundle_verifier) = judges.bundle() else {
        return HostReport::broken(t, "trustrun's bundle holds no usable root");
    };
    let probed = probe::probe(t, &route, bundle_verifier, timeout);
    let chain_info: Vec<CertInfo> = probed
        .chain
        .iter()
        .filter_map(|der| certinfo::parse(der).map(|p| p.info(der)))
        .collect();
    let verdicts = judges.judge(&probed.chain, &t.server_name());
    let trusted = |set: TrustSet| verdicts.iter().any(|v| v.trust_set == set && v.trusted);
    let verified = trusted(TrustSet::TrustrunBundle);
    let root = find_root(&probed.chain, sets);
    let mut strict_problems = Vec::new();
    for der in &probed.chain {
        if let Some(p) = certinfo::parse(der) {
            let name = certinfo::short_name(&p.info(der));
            // A server that sends its root too: OpenSSL checks it as the anchor.
            let position = if p.subject_raw() == p.issuer_raw() {
                strict::Position::Root
            } else {
                strict::Position::Issued
            };
            for problem in strict::check(&p.cert, position) {
                strict_problems.push(format!("{name}: {problem}"));
            }
        }
    }
    let mut intercepted_by = None;
    if let Some((der, found)) = &root {
        if !found.in_mozilla && !trusted(TrustSet::Mozilla) {
            intercepted_by = Some(found.cert.subject.clone());
        }
        let presented = probed.chain.last() == Some(der);
        if !presented && let Some(p) = certinfo::parse(der) {
            for problem in strict::check(&p.cert, strict::Position::Root) {
                strict_problems.push(format!("{}: {problem}", certinfo::short_name(&found.cert)));
            }
        }
    }
    // "untrusted" is the bundle's verdict, shown with the others, not a failure to look.
    let error = probed
        .error
        .filter(|e| e.kind != "untrusted" || probed.chain.is_empty());
    let cannot_judge = verdicts
        .iter()
        .any(|v| v.trust_set == TrustSet::TrustrunBundle && v.cannot_judge);
    let line = if cannot_judge && error.is_none() {
        "doctor cannot judge this chain: it has more intermediates than doctor's verifier follows; \
         run the program itself (`trustrun PROGRAM`) to know"
            .to_owned()
    } else {
        host_line(
            &error,
            &intercepted_by,
            &root,
            &chain_info,
            verified,
            &trusted,
        )
    };
    HostReport {
        target: t.display(),
        host: t.host.clone(),
        port: t.port,
        route,
        chain: chain_info,
        root: root.map(|(_, f)| f),
        intercepted_by,
        verdicts,
        verified,
        tls_version: probed.tls_version,
        x509_strict_problems: strict_problems,
        error,
        line,
    }
}

fn host_line(
    error: &Option<ProbeError>,
    intercepted_by: &Option<String>,
    root: &Option<(Der, RootFound)>,
    chain: &[CertInfo],
    verified: bool,
    trusted: &dyn Fn(TrustSet) -> bool,
) -> String {
    if let Some(e) = error {
        return e.message.clone();
    }
    let outcome = if verified {
        "verifies with trustrun's bundle"
    } else {
        "does NOT verify with trustrun's bundle"
    };
    if let Some(by) = intercepted_by {
        let os = if trusted(TrustSet::OsStore) {
            "the OS store trusts it"
        } else {
            "the OS store does not trust it"
        };
        return format!("intercepted by {by}: plain Python fails, {os}; {outcome}");
    }
    match root {
        Some(_) if trusted(TrustSet::Mozilla) => {
            format!("not intercepted (a public chain); {outcome}")
        }
        Some((_, found)) => format!("chain leads to {}; {outcome}", found.cert.subject),
        None => {
            let issuer = chain
                .last()
                .map(|c| c.issuer.as_str())
                .unwrap_or("(no chain)");
            format!(
                "the chain ends at {issuer}, a root in none of the trust sets (an inspecting proxy whose root you \
                 lack, or a self-signed server); {outcome}"
            )
        }
    }
}

/// The root a chain leads to: the last certificate when it is self-signed, else a root in the
/// trust sets named as its issuer (preferring Mozilla's, then the OS store's, then any).
fn find_root(chain: &[Der], sets: &trust::TrustSets) -> Option<(Der, RootFound)> {
    let last_der = chain.last()?;
    let last = certinfo::parse(last_der)?;
    let mut candidates: Vec<&Der> = Vec::new();
    if last.subject_raw() == last.issuer_raw() {
        candidates.push(last_der);
    }
    for der in sets
        .mozilla
        .iter()
        .chain(&sets.os_store)
        .chain(&sets.bundle)
    {
        if certinfo::parse(der).is_some_and(|p| p.subject_raw() == last.issuer_raw()) {
            candidates.push(der);
        }
    }
    let der = (*candidates.first()?).clone();
    let parsed = certinfo::parse(&der)?;
    let key = parsed.anchor_key();
    let holds = |set: &[Der]| {
        set.iter()
            .any(|d| certinfo::parse(d).is_some_and(|p| p.anchor_key() == key))
    };
    let found = RootFound {
        cert: parsed.info(&der),
        in_mozilla: sets.mozilla_keys.contains(&key),
        in_os_store: holds(&sets.os_store),
        in_bundle: holds(&sets.bundle),
    };
    Some((der, found))
}

fn summary(
    sources: &trust::SourcesReport,
    environment: &[traps::VarCheck],
    hosts: &[HostReport],
) -> Summary {
    let verified = hosts.iter().filter(|h| h.verified).count();
    let intercepted = hosts.iter().filter(|h| h.intercepted_by.is_some()).count();
    let traps = environment.iter().filter(|v| v.trap).count();
    let strict_failures = sources
        .corporate_roots
        .iter()
        .filter(|r| !r.passes_x509_strict)
        .count();
    let exit_code = if verified == hosts.len() {
        0
    } else {
        EXIT_NOT_VERIFIED
    };
    let mut parts = Vec::new();
    if hosts.is_empty() {
        parts.push("no host checked (name one: trustrun doctor api.openai.com)".to_owned());
    } else {
        parts.push(format!(
            "{verified} of {} host{} verified with trustrun's bundle",
            hosts.len(),
            if hosts.len() == 1 { "" } else { "s" },
        ));
        if intercepted > 0 {
            parts.push(format!("{intercepted} intercepted"));
        }
    }
    parts.push(format!(
        "{} corporate root{} (outside Mozilla's set)",
        sources.corporate_roots.len(),
        if sources.corporate_roots.len() == 1 {
            ""
        } else {
            "s"
        }
    ));
    if strict_failures > 0 {
        parts.push(format!(
            "{strict_failures} fail{} Python 3.13's strict checks",
            if strict_failures == 1 { "s" } else { "" }
        ));
    }
    parts.push(format!(
        "{traps} environment trap{}",
        if traps == 1 { "" } else { "s" }
    ));
    Summary {
        hosts: hosts.len(),
        verified,
        not_verified: hosts.len() - verified,
        intercepted,
        environment_traps: traps,
        corporate_roots: sources.corporate_roots.len(),
        strict_failures,
        exit_code,
        line: parts.join("; "),
    }
}
