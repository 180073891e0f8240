//! The environment a child gets (plan stage): every CA variable pointed at the bundle, our
//! sitecustomize first on `PYTHONPATH`, and the markers a nested trustrun reads. `trustrun PROGRAM`
//! applies it to the child's `Command`; `trustrun env` prints it. It is never applied to trustrun's
//! own process.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::java::{self, JavaOptions};
use crate::settings::options::TrustOptions;
use crate::settings::vars;
use crate::store::Prepared;
use crate::store::python_support;

/// Variables to set (`Some`) or remove (`None`), in a stable order.
#[derive(Debug, Default)]
pub struct EnvPlan {
    pub vars: Vec<(String, Option<OsString>)>,
}

impl EnvPlan {
    pub fn apply(&self, cmd: &mut std::process::Command) {
        for (name, value) in &self.vars {
            match value {
                Some(v) => cmd.env(name, v),
                None => cmd.env_remove(name),
            };
        }
    }
}

/// The child's environment for the prepared bundle: every CA variable at it (less
/// `leave_alone`, plus `extra_variables`), our python directory first on `PYTHONPATH`, and what a
/// nested trustrun needs to read the same trust again.
pub fn child_env(prepared: &Prepared, opts: &TrustOptions) -> Result<EnvPlan> {
    let (bundle, python_dir) = (prepared.bundle.as_path(), prepared.python_dir.as_path());
    let inherited = prepared.inputs.inherited();
    let mut vars: Vec<(String, Option<OsString>)> = Vec::new();
    for name in opts.ca_variables() {
        vars.push((name, Some(bundle.into())));
    }
    // A set SSL_CERT_DIR was read into the bundle and adds nothing wrong; an empty one is a trap.
    if std::env::var_os(vars::SSL_CERT_DIR).is_some_and(|v| v.is_empty()) {
        vars.push((vars::SSL_CERT_DIR.to_owned(), None));
    }
    if opts.java_tool_options() {
        java_options(prepared, opts, &mut vars);
    }
    vars.push((vars::PYTHONPATH.to_owned(), Some(python_path(python_dir)?)));
    vars.push((vars::TRUSTRUN_BUNDLE.to_owned(), Some(bundle.into())));
    vars.push((
        vars::TRUSTRUN_PYTHON_DIR.to_owned(),
        Some(python_dir.into()),
    ));
    let truststore = if opts.truststore.enabled() {
        "always"
    } else {
        "never"
    };
    vars.push((
        vars::TRUSTRUN_TRUSTSTORE.to_owned(),
        Some(truststore.into()),
    ));
    // Nested trustruns and shims started by the child must trust the same extra CAs.
    if !opts.ca.is_empty() {
        let list =
            std::env::join_paths(&opts.ca).context("a CA path contains the path-list separator")?;
        vars.push((vars::TRUSTRUN_CA.to_owned(), Some(list)));
    }
    if !inherited.is_empty() {
        // Escaped: these names came one per variable and may hold the list separator.
        let list = crate::sources::inherited::encode(&inherited);
        vars.push((vars::TRUSTRUN_INHERITED_CA.to_owned(), Some(list)));
    }
    // Booleans reach the child as the `1` or `0` we wrote, never the caller's spelling (our
    // sitecustomize takes nothing else as on). The relaxation is what the options decided.
    for name in vars::BOOLEANS {
        let value = if *name == vars::TRUSTRUN_RELAX_X509_STRICT && opts.relax_x509_strict {
            Some(true)
        } else {
            crate::settings::boolish::read(name).ok().flatten()
        };
        let value = value.map(|on| crate::settings::boolish::normalized(on).into());
        if value.is_some() || std::env::var_os(name).is_some() {
            vars.push((name.to_string(), value));
        }
    }
    Ok(EnvPlan { vars })
}

/// A container engine CLI's `JAVA_TOOL_OPTIONS`: the caller's own, with no trust store of ours
/// (an engine hands variables into containers, where the host's path names nothing).
pub fn engine_java_options(cmd: &mut std::process::Command) {
    let outer = outer_java_store();
    let current = std::env::var_os(vars::JAVA_TOOL_OPTIONS);
    let own = java::callers_own(current.as_deref(), outer.as_deref());
    match current {
        // Not touched (the plan may have set ours): the caller's bytes as they were.
        Some(c) if c.to_string_lossy().trim() == own => cmd.env(vars::JAVA_TOOL_OPTIONS, c),
        _ if own.is_empty() => cmd.env_remove(vars::JAVA_TOOL_OPTIONS),
        _ => cmd.env(vars::JAVA_TOOL_OPTIONS, own),
    };
}

/// The Java trust store an outer trustrun named: a store of a cache when that is all
/// `JAVA_TOOL_OPTIONS` holds (`setup --java`'s: a run from a set-up shell gets its own bundle's,
/// and an engine none), else the one beside its `TRUSTRUN_BUNDLE`.
fn outer_java_store() -> Option<PathBuf> {
    std::env::var_os(vars::JAVA_TOOL_OPTIONS)
        .and_then(|v| java::trustruns_store(&v))
        .or_else(|| {
            std::env::var_os(vars::TRUSTRUN_BUNDLE)
                .map(|b| crate::store::java_store::path_for(Path::new(&b)))
        })
}

/// `JAVA_TOOL_OPTIONS` naming the bundle's Java trust store, after the caller's own options
/// (the rule is `java::tool_options`).
fn java_options(
    prepared: &Prepared,
    opts: &TrustOptions,
    vars: &mut Vec<(String, Option<OsString>)>,
) {
    let store = crate::store::java_store::path_for(&prepared.bundle);
    let outer = outer_java_store();
    let current = std::env::var_os(vars::JAVA_TOOL_OPTIONS);
    match java::tool_options(&store, current.as_deref(), outer.as_deref()) {
        JavaOptions::Set(value) => vars.push((vars::JAVA_TOOL_OPTIONS.to_owned(), Some(value))),
        JavaOptions::CallersStore => crate::verbose!(
            opts.verbose,
            "JAVA_TOOL_OPTIONS already chooses a javax.net.ssl.trustStore: Java keeps that one"
        ),
        JavaOptions::Unwritable => crate::verbose!(
            opts.verbose,
            "{} cannot be written in JAVA_TOOL_OPTIONS: Java keeps its own trust",
            store.display()
        ),
    }
}

/// `PYTHONPATH` with our directory first and the caller's entries after it, less any python
/// support directory an outer trustrun put there.
pub fn python_path(python_dir: &Path) -> Result<OsString> {
    let outer = std::env::var_os(vars::TRUSTRUN_PYTHON_DIR).map(PathBuf::from);
    let mut entries: Vec<PathBuf> = vec![python_dir.to_owned()];
    if let Some(existing) = std::env::var_os(vars::PYTHONPATH).filter(|v| !v.is_empty()) {
        entries.extend(
            std::env::split_paths(&existing)
                .filter(|p| p.as_path() != python_dir && Some(p) != outer.as_ref())
                .filter(|p| p.as_os_str().is_empty() || !p.join(python_support::MARKER).is_file()),
        );
    }
    std::env::join_paths(entries)
        .context("the python support directory contains the path-list separator")
}
