//! The report as text (doctor, beside the pipeline): one screen. The verdict and the step to take
//! first come first, the details after, each part most important first, one line per thing;
//! `-v` adds what only a closer look needs (each trust set's verdict, the chain, each root's
//! issuer and expiry, the Pythons' sitecustomize, the public roots the OS ships, the summary).

use std::fmt::Write;

use super::Report;
use super::certinfo::short_name;
use super::proxy::Route;
use super::verdict::TrustSet;
use crate::util::text::{WIDTH, count, wrap};

/// The report as text; `verbose` adds the details.
pub fn text(r: &Report, verbose: bool) -> String {
    wrap(&unwrapped(r, verbose), WIDTH)
}

fn unwrapped(r: &Report, verbose: bool) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "trustrun doctor {}", r.trustrun_version);
    let _ = writeln!(o, "verdict: {}", r.verdict);
    let _ = writeln!(o, "next: {}", super::conclusion::next(&r.advice, &r.hosts));
    if r.advice.len() > 1 {
        let _ = writeln!(o, "then:");
        for a in &r.advice[1..] {
            let _ = writeln!(o, "  - {a}");
        }
    }

    hosts(r, verbose, &mut o);
    environment(r, &mut o);
    sources(r, verbose, &mut o);
    roots(r, verbose, &mut o);
    pythons(r, verbose, &mut o);
    super::runtimes::render(&r.runtimes, verbose, &mut o);
    super::containers::render(&r.containers, &mut o);

    if !r.notes.is_empty() {
        let _ = writeln!(o, "\nNotes");
        for n in &r.notes {
            let _ = writeln!(o, "  - {n}");
        }
    }
    if verbose {
        let _ = writeln!(o, "\nsummary: {}", r.summary.line);
    }
    o
}

/// Each host with its route, each trust set's verdict and the chain (`-v`); by default only what
/// the verdict does not say already: a chain's strict-check problems.
fn hosts(r: &Report, verbose: bool, o: &mut String) {
    let shown: Vec<&super::HostReport> = r
        .hosts
        .iter()
        .filter(|h| verbose || !h.x509_strict_problems.is_empty())
        .collect();
    if shown.is_empty() {
        return;
    }
    let _ = writeln!(o, "\nHosts");
    for h in shown {
        let route = match &h.route {
            Route::Direct => "direct".to_owned(),
            Route::Proxy { url, .. } => format!("through proxy {url}"),
            Route::Unsupported { url, .. } => format!("proxy {url}"),
        };
        let _ = writeln!(o, "  {} ({route})", h.target);
        if verbose && !h.chain.is_empty() {
            let names: Vec<String> = h.chain.iter().map(short_name).collect();
            let _ = writeln!(o, "    chain: {}", names.join(" <- "));
        }
        if verbose {
            for v in &h.verdicts {
                let result = if v.trusted {
                    "trusted".to_owned()
                } else if v.cannot_judge {
                    v.error.clone().unwrap_or_default()
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
        }
        for p in &h.x509_strict_problems {
            let _ = writeln!(o, "    Python 3.13 strict: {p}");
        }
        // The verdict says it already; a closer look repeats it under the details.
        if verbose {
            let _ = writeln!(o, "    => {}", h.line);
        }
    }
}

fn environment(r: &Report, o: &mut String) {
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
        let message = v.said.text(&names.join(", "), &v.value);
        let _ = writeln!(o, "  {mark} {message}");
    }
    let _ = writeln!(o, "  {}", r.setup);
}

fn sources(r: &Report, verbose: bool, o: &mut String) {
    let b = &r.sources.bundle;
    let age = b
        .age_seconds
        .map(|a| format!("written {}", age_text(a)))
        .unwrap_or_else(|| "age unknown".to_owned());
    let certificates = count(b.certificates, "certificate");
    if verbose {
        let _ = writeln!(o, "\nTrust sources");
        for s in &r.sources.sources {
            let _ = writeln!(o, "  {:>5}  {}", s.certificates, s.name);
        }
        match &b.path {
            Some(path) => {
                let _ = writeln!(o, "  bundle: {} ({certificates}, {age})", path.display());
            }
            None => {
                let _ = writeln!(o, "  bundle: none");
            }
        }
    } else {
        // One line: the counts, and the bundle they make.
        let counts: Vec<String> = r
            .sources
            .sources
            .iter()
            .map(|s| format!("{} {}", s.certificates, s.name))
            .collect();
        let bundle = match &b.path {
            Some(_) => format!("{certificates}, {age}"),
            None => "none".to_owned(),
        };
        let _ = writeln!(
            o,
            "\nTrust sources: {}; bundle: {bundle} (-v: its path)",
            counts.join(", ")
        );
    }
    if let Some(e) = &b.error {
        let _ = writeln!(o, "  bundle problem: {e}");
    }
    for w in &r.sources.warnings {
        let _ = writeln!(o, "  warning: {w}");
    }
}

fn roots(r: &Report, verbose: bool, o: &mut String) {
    let _ = writeln!(
        o,
        "\nRoots outside Mozilla's set, added locally (likely corporate)"
    );
    if r.sources.corporate_roots.is_empty() {
        let _ = writeln!(o, "  none");
    }
    // The roots that matter first: those that intercept a checked host, then the others.
    let intercepts = |root: &super::trust::CorporateRoot| -> Vec<&str> {
        r.hosts
            .iter()
            .filter(|h| {
                h.root
                    .as_ref()
                    .is_some_and(|x| x.cert.sha256 == root.cert.sha256)
            })
            .map(|h| h.host.as_str())
            .collect()
    };
    let mut roots: Vec<&super::trust::CorporateRoot> = r.sources.corporate_roots.iter().collect();
    roots.sort_by_key(|root| intercepts(root).is_empty());
    for root in roots {
        let c = &root.cert;
        let seen = intercepts(root);
        let intercepting = if seen.is_empty() {
            String::new()
        } else {
            format!(" (intercepts {})", seen.join(", "))
        };
        let expired = if c.expired { "; EXPIRED" } else { "" };
        let strict = match (root.passes_x509_strict, verbose) {
            (true, _) => "",
            (false, true) => "",
            (false, false) => "; FAILS Python 3.13's strict X.509 checks (-v: why)",
        };
        let _ = writeln!(
            o,
            "  {}{intercepting}: from {}{expired}{strict}",
            c.subject, root.source
        );
        if verbose {
            let issuer = if c.self_signed {
                "self-signed".to_owned()
            } else {
                format!("issuer {}", c.issuer)
            };
            let strict = if root.passes_x509_strict {
                "Python 3.13 strict checks: pass".to_owned()
            } else {
                format!(
                    "Python 3.13 strict X.509 checks: FAIL: {}",
                    root.x509_strict_problems.join("; ")
                )
            };
            let _ = writeln!(o, "    {issuer}; expires {}; {strict}", c.not_after);
        }
    }
    let public = &r.sources.public_roots_not_in_mozilla;
    // Who vouches for them differs: Windows' authroot list, macOS' system roots, a Linux
    // distribution's package.
    let shipper = if cfg!(any(windows, target_os = "macos")) {
        "your OS vouches for"
    } else {
        "your OS distribution ships"
    };
    let leaves = &r.sources.self_signed_leaves;
    let mut beside = Vec::new();
    if !public.is_empty() {
        beside.push(format!(
            "{} {shipper} beyond Mozilla's",
            count(public.len(), "public root")
        ));
    }
    if !leaves.is_empty() {
        beside.push(format!(
            "{} (not {}, trusted as {})",
            count(leaves.len(), "self-signed server certificate"),
            if leaves.len() == 1 { "a CA" } else { "CAs" },
            if leaves.len() == 1 {
                "itself"
            } else {
                "themselves"
            },
        ));
    }
    if !beside.is_empty() {
        let more = if verbose { ":" } else { " (-v lists them)" };
        let _ = writeln!(o, "  not corporate: {}{more}", beside.join("; "));
    }
    if verbose {
        for name in public.iter().chain(leaves) {
            let _ = writeln!(o, "    {name}");
        }
    }
}

fn pythons(r: &Report, verbose: bool, o: &mut String) {
    let _ = writeln!(o, "\nPythons on PATH");
    if r.pythons.is_empty() {
        let _ = writeln!(o, "  none found");
    }
    for p in &r.pythons {
        if let Some(e) = &p.error {
            let _ = writeln!(
                o,
                "  {} ({}): cannot inspect: {e}",
                p.name,
                p.path.display()
            );
            continue;
        }
        let truststore = match p.truststore {
            Some(true) => "truststore",
            Some(false) => "no truststore",
            None => "truststore unknown",
        };
        let certifi = if p.certifi.is_some() {
            "certifi"
        } else {
            "no certifi"
        };
        let _ = writeln!(
            o,
            "  {} ({}): Python {}, {certifi}, {truststore}",
            p.name,
            p.path.display(),
            p.version.as_deref().unwrap_or("?"),
        );
        if verbose {
            if let Some(c) = &p.certifi {
                let _ = writeln!(o, "    certifi: {c}");
            }
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
        }
        for n in &p.notes {
            let _ = writeln!(o, "    note: {n}");
        }
    }
}

/// Whether stdout and stderr are one terminal, so a line on both would be read twice.
pub fn same_terminal() -> bool {
    use std::io::IsTerminal;
    std::io::stdout().is_terminal() && std::io::stderr().is_terminal() && same_device()
}

/// The two descriptors are the same terminal device (not two terminals, one per stream).
#[cfg(unix)]
fn same_device() -> bool {
    use crate::util::unix::device_of;
    let out = device_of(libc::STDOUT_FILENO);
    out.is_some() && out == device_of(libc::STDERR_FILENO)
}

/// Windows has one console per process: both being terminals means the same one.
#[cfg(not(unix))]
fn same_device() -> bool {
    true
}

fn age_text(secs: u64) -> String {
    match secs {
        0..=89 => format!("{secs} s ago"),
        90..=5399 => format!("{} min ago", secs / 60),
        5400..=129_599 => format!("{} h ago", secs / 3600),
        _ => format!("{} days ago", secs / 86_400),
    }
}
