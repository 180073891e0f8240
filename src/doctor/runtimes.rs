//! doctor's "Runtimes" part (beside the pipeline): the runtimes on PATH that ignore the OS trust
//! store, so that a root IT installed there does not reach them, and for each whether trustrun
//! covers it and how. Found by name on PATH only, never started: doctor stays fast, and a
//! version would change nothing it says. Go reads the OS store itself and is not listed; bun
//! (1.4) reads `/etc/ssl/cert.pem` (the Fedora and macOS layout) but not Debian's bundle, and is.

use std::fmt::Write;
use std::path::PathBuf;

use serde::Serialize;

use crate::settings::options::TrustOptions;
use crate::settings::vars;

/// A runtime that trusts its own roots, what those are, and the variable trustrun reaches it by.
struct Runtime {
    name: &'static str,
    trusts: &'static str,
    variable: &'static str,
    how: &'static str,
}

const RUNTIMES: &[Runtime] = &[
    Runtime {
        name: "java",
        trusts: "its own cacerts",
        variable: vars::JAVA_TOOL_OPTIONS,
        how: "names a PKCS#12 copy of the bundle",
    },
    Runtime {
        name: "node",
        trusts: "its own copy of Mozilla's roots",
        variable: "NODE_EXTRA_CA_CERTS",
        how: "adds the bundle",
    },
    Runtime {
        name: "bun",
        trusts: "its own copy of Mozilla's roots (and /etc/ssl/cert.pem, not Debian's bundle)",
        variable: "NODE_EXTRA_CA_CERTS",
        how: "adds the bundle",
    },
    Runtime {
        name: "deno",
        trusts: "its own copy of Mozilla's roots",
        variable: "DENO_CERT",
        how: "names the bundle",
    },
];

#[derive(Debug, Serialize)]
pub struct RuntimeInfo {
    pub name: &'static str,
    pub path: PathBuf,
    /// What it trusts without trustrun.
    pub trusts: &'static str,
    /// The variable trustrun sets for it.
    pub variable: &'static str,
    /// Whether a trustrun'd program's copy of it trusts the bundle.
    pub covered: bool,
    /// How, or why not.
    pub how: String,
}

/// The runtimes on PATH that ignore the OS store, with trustrun's cover for each.
pub fn report(opts: &TrustOptions) -> Vec<RuntimeInfo> {
    let set = opts.ca_variables();
    RUNTIMES
        .iter()
        .filter_map(|rt| {
            let path = crate::shim::locate::find(std::ffi::OsStr::new(rt.name)).ok()?;
            let (covered, how) = if rt.variable == vars::JAVA_TOOL_OPTIONS {
                java_cover(opts, rt)
            } else if set.iter().any(|n| n == rt.variable) {
                (true, format!("{} {}", rt.variable, rt.how))
            } else {
                (false, format!("{} is in leave_alone", rt.variable))
            };
            Some(RuntimeInfo {
                name: rt.name,
                path,
                trusts: rt.trusts,
                variable: rt.variable,
                covered,
                how,
            })
        })
        .collect()
}

/// Java's cover: off by `leave_alone`, and a trust store the caller named wins (`run::java`).
fn java_cover(opts: &TrustOptions, rt: &Runtime) -> (bool, String) {
    if !opts.java_tool_options() {
        return (
            false,
            format!("{} is in leave_alone", vars::JAVA_TOOL_OPTIONS),
        );
    }
    let current = std::env::var_os(vars::JAVA_TOOL_OPTIONS);
    // `setup --java`'s value (or an outer run's) is trustrun's: a run replaces it with its own.
    if current
        .as_deref()
        .is_some_and(|v| crate::run::java::trustruns_store(v).is_none())
        && current
            .as_deref()
            .is_some_and(crate::run::java::names_trust_store)
    {
        return (
            false,
            "your JAVA_TOOL_OPTIONS chooses a javax.net.ssl.trustStore, which Java keeps"
                .to_owned(),
        );
    }
    (true, format!("{} {}", rt.variable, rt.how))
}

/// One line by default (which are here, and whether each is covered); each with its path, what
/// it trusts and how trustrun reaches it under `-v`.
pub fn render(runtimes: &[RuntimeInfo], verbose: bool, o: &mut String) {
    let _ = writeln!(o, "\nRuntimes that ignore the OS store");
    if runtimes.is_empty() {
        let _ = writeln!(o, "  none on PATH (java, node, bun, deno)");
        return;
    }
    if verbose {
        for r in runtimes {
            let cover = if r.covered {
                "trustrun: "
            } else {
                "NOT covered: "
            };
            let _ = writeln!(
                o,
                "  {} ({}): trusts {}; {cover}{}",
                r.name,
                r.path.display(),
                r.trusts,
                r.how
            );
        }
        return;
    }
    let yes: Vec<&str> = runtimes
        .iter()
        .filter(|r| r.covered)
        .map(|r| r.name)
        .collect();
    let mut parts = Vec::new();
    if !yes.is_empty() {
        parts.push(format!("{}: covered by trustrun", yes.join(", ")));
    }
    for r in runtimes.iter().filter(|r| !r.covered) {
        parts.push(format!("{}: NOT covered ({})", r.name, r.how));
    }
    let _ = writeln!(o, "  {} (-v: how)", parts.join("; "));
}
