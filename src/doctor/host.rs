//! One named host, analysed (doctor, beside the pipeline): the chain it presents, the root that
//! chain leads to, each trust set's verdict, what Python 3.13's strict checks reject, and the
//! one-line verdict.

use std::time::Duration;

use super::certinfo::{self, CertInfo};
use super::probe::{self, ProbeError, ProbeKind};
use super::proxy::{self, Route};
use super::report::{HostReport, RootFound};
use super::verdict::{self, TrustSet};
use super::{strict, target, trust};
use crate::sources::certs::Der;

impl HostReport {
    pub fn broken(t: &target::Target, why: &str) -> HostReport {
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
                kind: ProbeKind::Internal,
                message: why.to_owned(),
            }),
            line: why.to_owned(),
        }
    }
}

pub fn host_report(
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
        .filter(|e| e.kind != ProbeKind::Untrusted || probed.chain.is_empty());
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
    let issuer = last.issuer_raw();
    candidates.extend(
        sets.mozilla
            .named(issuer)
            .chain(sets.os_store.named(issuer))
            .chain(sets.bundle.named(issuer)),
    );
    let der = (*candidates.first()?).clone();
    let parsed = certinfo::parse(&der)?;
    let key = parsed.anchor_key();
    let found = RootFound {
        cert: parsed.info(&der),
        in_mozilla: sets.mozilla.keys.contains(&key),
        in_os_store: sets.os_store.keys.contains(&key),
        in_bundle: sets.bundle.keys.contains(&key),
    };
    Some((der, found))
}
