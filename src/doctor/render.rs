//! The report as text (doctor, beside the pipeline): one screen, most important first within each
//! part, the fix beside the problem.

use std::fmt::Write;

use super::Report;
use super::certinfo::short_name;
use super::proxy::Route;
use super::verdict::TrustSet;

/// doctor's lines stay under this many columns (a terminal of 100, a pasted issue).
const WIDTH: usize = 99;

/// The report as text; `verbose` adds the public roots the OS ships beyond Mozilla's set.
pub fn text(r: &Report, verbose: bool) -> String {
    wrap(&unwrapped(r, verbose), WIDTH)
}

fn unwrapped(r: &Report, verbose: bool) -> String {
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
                "  bundle: {} ({}, written {age})",
                path.display(),
                crate::util::text::count(b.certificates, "certificate")
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
        if seen.is_empty() {
            let _ = writeln!(o, "  {}", c.subject);
        } else {
            let _ = writeln!(o, "  {} (intercepts {})", c.subject, seen.join(", "));
        }
        let issuer = if c.self_signed {
            "self-signed".to_owned()
        } else {
            format!("issuer {}", c.issuer)
        };
        let expired = if c.expired { " (EXPIRED)" } else { "" };
        // A pass fits on the line above; a failure gets its own line with the reasons.
        let strict = if root.passes_x509_strict {
            "; Python 3.13 strict checks: pass".to_owned()
        } else {
            format!(
                "\n    Python 3.13 strict X.509 checks: FAIL: {}",
                root.x509_strict_problems.join("; ")
            )
        };
        let _ = writeln!(
            o,
            "    {issuer}; expires {}{expired}; from {}{strict}",
            c.not_after, root.source
        );
    }
    let public = &r.sources.public_roots_not_in_mozilla;
    // Who vouches for them differs: Windows' authroot list, macOS' system roots, a Linux
    // distribution's package.
    let shipper = if cfg!(any(windows, target_os = "macos")) {
        "your OS vouches for"
    } else {
        "your OS distribution ships"
    };
    if !public.is_empty() {
        let _ = writeln!(
            o,
            "  and {} public {} {shipper} beyond Mozilla's (not corporate{}",
            public.len(),
            if public.len() == 1 { "root" } else { "roots" },
            if verbose { "):" } else { "; -v lists them)" }
        );
    }
    if verbose {
        for name in public {
            let _ = writeln!(o, "    {name}");
        }
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
        let message = v.said.text(&names.join(", "), &v.value);
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

    super::containers::render(&r.containers, &mut o);

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
    if !r.notes.is_empty() {
        let _ = writeln!(o, "\nNotes");
        for n in &r.notes {
            let _ = writeln!(o, "  - {n}");
        }
    }
    if r.advice.is_empty() && r.summary.exit_code == 0 {
        // One short line: the details are above.
        let checked = match r.summary.hosts {
            0 => "no host checked; name one: `trustrun doctor api.openai.com`".to_owned(),
            1 => "the host verifies with trustrun's bundle".to_owned(),
            n => format!("all {n} hosts verify with trustrun's bundle"),
        };
        let _ = writeln!(o, "\nhealthy: nothing to fix here ({checked})");
    } else {
        let _ = writeln!(o, "\nsummary: {}", r.summary.line);
    }
    o
}

/// Breaks lines longer than `width` at spaces; a continuation is indented two past the line's
/// own indent (past a list mark). A word longer than the width (a path) stays whole.
fn wrap(text: &str, width: usize) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let indent = line.len() - line.trim_start().len();
        let hanging = " ".repeat(indent + 2);
        let mut current = line[..indent].to_owned();
        let mut words_on_line = 0;
        for word in line[indent..].split(' ') {
            if words_on_line > 0 && current.chars().count() + 1 + word.chars().count() > width {
                out.push_str(&current);
                out.push('\n');
                current = hanging.clone();
                words_on_line = 0;
            }
            if words_on_line > 0 {
                current.push(' ');
            }
            current.push_str(word);
            words_on_line += 1;
        }
        out.push_str(&current);
        out.push('\n');
    }
    out
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

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn long_lines_wrap_under_the_width_with_a_hanging_indent() {
        let line = format!("  - {}", "word ".repeat(40).trim_end());
        let wrapped = wrap(&line, 30);
        assert!(wrapped.lines().count() > 1);
        for (i, l) in wrapped.lines().enumerate() {
            assert!(l.chars().count() <= 30, "{l:?}");
            assert!(
                l.starts_with(if i == 0 { "  - word" } else { "    word" }),
                "{l:?}"
            );
        }
        assert_eq!(
            wrapped.split_whitespace().filter(|w| *w == "word").count(),
            40
        );
    }

    #[test]
    fn a_word_longer_than_the_width_stays_whole() {
        let path = format!("/{}", "p".repeat(50));
        let wrapped = wrap(&format!("  bundle: {path} (1 certificate)"), 30);
        assert!(wrapped.lines().any(|l| l.trim() == path), "{wrapped}");
    }
}
