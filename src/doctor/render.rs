//! The report as text: one screen, most important first within each part, the fix beside the
//! problem.

use std::fmt::Write;

use super::Report;
use super::certinfo::short_name;
use super::proxy::Route;
use super::verdict::TrustSet;

pub fn text(r: &Report) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "trustrun doctor {}", r.trustrun_version);

    let _ = writeln!(o, "\nTrust sources");
    for s in &r.sources.sources {
        let _ = writeln!(o, "  {:>5}  {}", s.certificates, s.name);
    }
    let b = &r.sources.bundle;
    match (&b.path, b.age_seconds) {
        (Some(path), age) => {
            let age = age
                .map(age_text)
                .unwrap_or_else(|| "age unknown".to_owned());
            let _ = writeln!(
                o,
                "  bundle: {} ({} certificates, written {age})",
                path.display(),
                b.certificates
            );
        }
        (None, _) => {
            let _ = writeln!(o, "  bundle: none");
        }
    }
    if let Some(e) = &b.error {
        let _ = writeln!(o, "  bundle problem: {e}");
    }
    for w in &r.sources.warnings {
        let _ = writeln!(o, "  warning: {w}");
    }

    let _ = writeln!(
        o,
        "\nRoots outside Mozilla's set, added locally (likely corporate)"
    );
    if r.sources.corporate_roots.is_empty() {
        let _ = writeln!(o, "  none");
    }
    for root in &r.sources.corporate_roots {
        let c = &root.cert;
        let _ = writeln!(o, "  {}", c.subject);
        let issuer = if c.self_signed {
            "self-signed".to_owned()
        } else {
            format!("issuer {}", c.issuer)
        };
        let expired = if c.expired { " (EXPIRED)" } else { "" };
        let strict = if root.passes_x509_strict {
            "pass".to_owned()
        } else {
            format!("FAIL: {}", root.x509_strict_problems.join("; "))
        };
        let _ = writeln!(
            o,
            "    {issuer}; expires {}{expired}; from {}\n    Python 3.13 strict X.509 checks: {strict}",
            c.not_after, root.source
        );
    }
    let public = &r.sources.public_roots_not_in_mozilla;
    if !public.is_empty() {
        let _ = writeln!(
            o,
            "  ({} more: public roots your OS distribution ships that Mozilla's current set lacks; not corporate)",
            public.len()
        );
    }

    let _ = writeln!(o, "\nEnvironment");
    if r.environment.is_empty() {
        let _ = writeln!(o, "  no CA variable is set");
    }
    // Machines often set a dozen variables to one file: one line per distinct finding.
    let mut groups: Vec<(Vec<&str>, &super::traps::VarCheck)> = Vec::new();
    for v in &r.environment {
        match groups
            .iter_mut()
            .find(|(_, g)| g.status == v.status && g.value == v.value && !v.value.is_empty())
        {
            Some((names, _)) => names.push(&v.name),
            None => groups.push((vec![&v.name], v)),
        }
    }
    for (names, v) in groups {
        let mark = if v.trap { "TRAP" } else { "ok  " };
        let message = if names.len() > 1 {
            v.message.replacen(
                &format!("{}=", v.name),
                &format!("{}=", names.join(", ")),
                1,
            )
        } else {
            v.message.clone()
        };
        let _ = writeln!(o, "  {mark} {message}");
    }

    let _ = writeln!(o, "  {}", r.setup);

    let _ = writeln!(o, "\nPythons on PATH");
    if r.pythons.is_empty() {
        let _ = writeln!(o, "  none found");
    }
    for p in &r.pythons {
        let _ = writeln!(o, "  {} ({})", p.name, p.path.display());
        if let Some(e) = &p.error {
            let _ = writeln!(o, "    cannot inspect: {e}");
            continue;
        }
        let yes_no = |b: Option<bool>| match b {
            Some(true) => "yes",
            Some(false) => "no",
            None => "unknown",
        };
        let _ = writeln!(
            o,
            "    Python {}, truststore: {}, certifi: {}",
            p.version.as_deref().unwrap_or("?"),
            yes_no(p.truststore),
            p.certifi.as_deref().unwrap_or("not installed")
        );
        match &p.sitecustomize {
            Some(s) => {
                let _ = writeln!(
                    o,
                    "    sitecustomize: {s} (trustrun's runs first, then this one)"
                );
            }
            None => {
                let _ = writeln!(o, "    sitecustomize: none to chain to");
            }
        }
        for n in &p.notes {
            let _ = writeln!(o, "    note: {n}");
        }
    }

    if !r.hosts.is_empty() {
        let _ = writeln!(o, "\nHosts");
    }
    for h in &r.hosts {
        let route = match &h.route {
            Route::Direct => "direct".to_owned(),
            Route::Proxy { url, .. } => format!("through proxy {url}"),
            Route::Unsupported { url, .. } => format!("proxy {url}"),
        };
        let _ = writeln!(o, "  {} ({route})", h.target);
        if !h.chain.is_empty() {
            let names: Vec<String> = h.chain.iter().map(short_name).collect();
            let _ = writeln!(o, "    chain: {}", names.join(" <- "));
        }
        for v in &h.verdicts {
            let result = if v.trusted {
                "trusted".to_owned()
            } else {
                format!("NOT trusted: {}", v.error.as_deref().unwrap_or("?"))
            };
            let label = match v.trust_set {
                TrustSet::Mozilla => "Mozilla only (plain Python):",
                TrustSet::OsStore => "OS trust store:",
                TrustSet::TrustrunBundle => "trustrun's bundle:",
            };
            let _ = writeln!(o, "    {label:<29}{result}");
        }
        for p in &h.x509_strict_problems {
            let _ = writeln!(o, "    Python 3.13 strict: {p}");
        }
        let _ = writeln!(o, "    => {}", h.line);
    }

    if !r.advice.is_empty() {
        let _ = writeln!(o, "\nWhat fixes it");
        for a in &r.advice {
            let _ = writeln!(o, "  - {a}");
        }
    }
    let _ = writeln!(o, "\nsummary: {}", r.summary.line);
    o
}

fn age_text(secs: u64) -> String {
    match secs {
        0..=89 => format!("{secs} s ago"),
        90..=5399 => format!("{} min ago", secs / 60),
        5400..=129_599 => format!("{} h ago", secs / 3600),
        _ => format!("{} days ago", secs / 86_400),
    }
}
