//! `trustrun doctor [HOST...]` (beside the pipeline, reading the sources and the bundle stage's
//! result): in one screen, whether TLS here is intercepted, by whom, and what
//! fixes it. Local analysis (trust sources, environment traps, Pythons on PATH) always; a live
//! look at each named host on request. Exit code: 0 when every named host verifies with
//! trustrun's bundle, 1 when one does not, 2 for usage errors.

mod advice;
mod certinfo;
mod conclusion;
mod containers;
mod corporate;
mod host;
mod probe;
mod proxy;
mod pythons;
mod render;
mod report;
mod runtimes;
mod strict;
mod summary;
mod target;
mod traps;
mod trust;
mod verdict;

use std::time::Duration;

use anyhow::Result;

use crate::failure::Failure;
use crate::settings::options::TrustOptions;
use crate::sources;
use crate::sources::certs::Der;
use crate::store::PrepareError;

pub use corporate::corporate_roots;
use report::{HostReport, Report};

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
        // On one terminal the report just printed says it: its verdict first (and its summary
        // last under -v).
        let line = if !args.json && render::same_terminal() {
            let above = if opts.verbose { "summary" } else { "verdict" };
            format!("see the {above} above")
        } else {
            report.summary.line.clone()
        };
        return Err(Failure::new(report.summary.exit_code, line).into());
    }
    Ok(())
}

fn build(opts: &TrustOptions, targets: &[target::Target], timeout: Duration) -> Result<Report> {
    let bundle_path = match crate::store::prepare(opts) {
        Ok(p) => Ok(p.bundle),
        Err(e @ PrepareError::UserCa { .. }) => return Err(e.into_error()),
        Err(PrepareError::Internal(e)) => Err(crate::failure::one_line(&e)),
    };
    let inputs = crate::store::inputs(opts);
    let gathered = sources::gather(&inputs).map_err(|e| Failure::usage(e.to_string()))?;
    let mozilla = trust::Anchors::new(trust::mozilla());
    let os_store: Vec<Der> = gathered
        .certs
        .iter()
        .filter(|(_, o)| *o == sources::Origin::OsStore)
        .map(|(c, _)| c.clone())
        .collect();
    let (bundle_info, bundle) =
        trust::bundle(bundle_path.as_deref().map_err(Clone::clone), &gathered);
    let outside = trust::roots_outside_mozilla(&gathered, &mozilla.keys);
    let sets = trust::TrustSets {
        os_store: trust::Anchors::new(os_store),
        bundle: trust::Anchors::new(bundle),
        mozilla,
    };

    let judges = verdict::Judges::new(
        &sets.mozilla.certs,
        &sets.os_store.certs,
        &sets.bundle.certs,
    );
    let (pythons, hosts) = std::thread::scope(|scope| {
        // One deadline for every Python, the same as for the hosts: doctor obeys --timeout.
        let deadline = std::time::Instant::now() + timeout;
        let pythons = scope.spawn(move || pythons::inspect(deadline));
        let probes: Vec<_> = targets
            .iter()
            .map(|t| {
                let judges = &judges;
                let sets = &sets;
                scope.spawn(move || host::host_report(t, judges, sets, timeout))
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

    // What a CA variable must hold: the corporate roots, each by its anchor key; with hosts
    // checked, only those that intercept one of them.
    let corporate_keys: Vec<(certinfo::AnchorKey, String, String)> = gathered
        .certs
        .iter()
        .filter_map(|(der, _)| {
            let parsed = certinfo::parse(der)?;
            let sha = parsed.info(der).sha256;
            let root = outside.corporate.iter().find(|r| r.cert.sha256 == sha)?;
            Some((parsed.anchor_key(), certinfo::short_name(&root.cert), sha))
        })
        .collect();
    let needed: std::collections::HashSet<certinfo::AnchorKey> = corporate_keys
        .iter()
        .filter(|(_, _, sha)| {
            hosts.iter().any(|h| {
                h.intercepted_by.is_some() && h.root.as_ref().is_some_and(|r| &r.cert.sha256 == sha)
            })
        })
        .map(|(key, _, _)| key.clone())
        .collect();
    let corporate_named: Vec<(certinfo::AnchorKey, String)> = corporate_keys
        .into_iter()
        .map(|(key, name, _)| (key, name))
        .collect();
    let environment = traps::check_environment(&traps::Expected {
        corporate: &corporate_named,
        mozilla: &sets.mozilla.keys,
        needed: (!hosts.is_empty()).then_some(&needed),
    });

    // The warm path's cheap OS-store signal misses edits behind a `<hash>.0` link; say so here.
    let stale = sources::stale_note(&gathered, &sets.bundle.certs);
    let sources_report = trust::SourcesReport {
        sources: trust::source_counts(&gathered),
        bundle: bundle_info,
        corporate_roots: outside.corporate,
        public_roots_not_in_mozilla: outside.public,
        self_signed_leaves: outside.leaves,
        warnings: gathered.warnings.iter().cloned().chain(stale).collect(),
    };
    let setup = crate::setup::status::status();
    let advice = advice::advise(
        &advice::Found {
            sources: &sources_report,
            environment: &environment,
            pythons: &pythons,
            hosts: &hosts,
            setup: &setup,
        },
        opts,
        crate::util::shell::Shell::detect(),
    );
    let summary = summary::summary(&sources_report, &environment, &hosts);
    Ok(Report {
        trustrun_version: env!("CARGO_PKG_VERSION"),
        verdict: conclusion::verdict(&hosts, &environment, &setup),
        next: advice.fixes.first().cloned(),
        sources: sources_report,
        environment,
        pythons,
        runtimes: runtimes::report(opts),
        containers: containers::report(opts),
        hosts,
        advice: advice.fixes,
        notes: advice.notes,
        setup: setup.line(),
        summary,
    })
}
