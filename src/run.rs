//! `trustrun PROGRAM ARGS...`: prepare the trust, then hand over to the real program.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::Command;

use anyhow::Result;

use crate::bundle::{self, BundleError};
use crate::cache;
use crate::failure::{EXIT_CANNOT_EXECUTE, EXIT_INTERNAL, Failure};
use crate::launch;
use crate::locate;
use crate::options::TrustOptions;
use crate::plan::{self, EnvPlan};
use crate::python_support;
use crate::sources::Inputs;
use crate::vars;

/// More nested trustruns than this is a loop (a wrapper script named like a shim that calls the
/// shim again); real nesting (a tool starting python starting pip) stays far below it.
pub const MAX_DEPTH: u32 = 16;

pub struct Prepared {
    /// The cache directory in use (the preferred one or the fallback).
    pub root: PathBuf,
    pub bundle: PathBuf,
    pub python_dir: PathBuf,
    pub plan: EnvPlan,
    /// The cache's stable, world-readable copy of `bundle` (see `stable_bundle`), or why it could
    /// not be written.
    pub stable_bundle: Result<PathBuf, String>,
}

/// Why the trust could not be prepared: the user's CA file (always an error) or our own trouble.
pub enum PrepareError {
    UserCa(Failure),
    Internal(anyhow::Error),
}

/// Builds or finds the bundle and the python support directory, and the child's environment.
pub fn prepare(opts: &TrustOptions) -> Result<Prepared, PrepareError> {
    let inputs = Inputs {
        extra: opts.ca.clone(),
        variables: {
            let mut v = Inputs::caller_variables();
            crate::stable_bundle::add_setup_sources(&mut v);
            v
        },
    };
    // No known cache directory is handled like an unusable one: the fallback still serves.
    let attempt = cache::preferred_dir()
        .map_err(PrepareError::Internal)
        .and_then(|dir| Ok((prepare_in(&dir, &inputs, opts)?, dir)));
    let ((bundle, python_dir, stable_bundle), root) = match attempt {
        Ok(done) => done,
        Err(PrepareError::Internal(e)) => {
            let fallback = cache::fallback_dir().map_err(PrepareError::Internal)?;
            eprintln!(
                "trustrun: warning: {}; using {} instead",
                crate::failure::one_line(&e),
                fallback.display()
            );
            (prepare_in(&fallback, &inputs, opts)?, fallback)
        }
        Err(user) => return Err(user),
    };
    let plan = plan::plan(&bundle, &python_dir, opts, &inputs.inherited())
        .map_err(PrepareError::Internal)?;
    Ok(Prepared {
        root,
        bundle,
        python_dir,
        plan,
        stable_bundle,
    })
}

/// The stable bundle file (`<cache>/current.pem`, mode 0644, replaced atomically, never removed
/// by cleanup) holding the bundle for `opts`: for what hands the bundle to another user or keeps
/// its path for long (containers, setup). See `stable_bundle.rs`.
pub fn stable_bundle(opts: &TrustOptions) -> Result<PathBuf> {
    match prepare(opts) {
        Ok(prepared) => prepared.stable_bundle.map_err(anyhow::Error::msg),
        Err(PrepareError::UserCa(f)) => Err(f.into()),
        Err(PrepareError::Internal(e)) => Err(e.context("cannot build the CA bundle")),
    }
}

fn prepare_in(
    root: &std::path::Path,
    inputs: &Inputs,
    opts: &TrustOptions,
) -> Result<(PathBuf, PathBuf, Result<PathBuf, String>), PrepareError> {
    cache::ensure_private(root).map_err(PrepareError::Internal)?;
    let bundle = match bundle::ensure(root, inputs) {
        Ok(b) => b,
        Err(BundleError::UserCa(e)) => {
            // A file the config named says so: the user may not remember writing it there.
            let origin = opts
                .ca_origins
                .iter()
                .find(|(p, _)| p == e.path())
                .map(|(_, key)| format!("{key}: "))
                .unwrap_or_default();
            return Err(PrepareError::UserCa(Failure::usage(format!("{origin}{e}"))));
        }
        Err(BundleError::Internal(e)) => return Err(PrepareError::Internal(e)),
    };
    if let Some(built) = &bundle.built {
        for w in &built.warnings {
            eprintln!("trustrun: warning: {w}");
        }
        if opts.verbose {
            for note in &built.verbose_notes {
                eprintln!("trustrun: {note}");
            }
            for (origin, n) in &built.counts {
                eprintln!(
                    "trustrun: {} from {origin}",
                    crate::text::count(*n, "certificate")
                );
            }
            eprintln!(
                "trustrun: wrote {} ({})",
                bundle.path.display(),
                crate::text::count(built.certs.len(), "distinct certificate")
            );
        }
    } else if opts.verbose {
        eprintln!("trustrun: using cached bundle {}", bundle.path.display());
    }
    let python_dir = python_support::ensure(root).map_err(PrepareError::Internal)?;
    // Secondary: a program still runs with the bundle when its stable copy cannot be written.
    // With `trustrun setup` in place the stable file follows setup's sources (see stable_bundle).
    let stable = crate::stable_bundle::keep_fresh(root, &bundle.path)
        .map_err(|e| crate::failure::one_line(&e));
    if let (Err(why), true) = (&stable, opts.verbose) {
        eprintln!("trustrun: the stable bundle file was not refreshed: {why}");
    }
    Ok((bundle.path, python_dir, stable))
}

/// Runs `program` with the prepared trust. Returns only on failure: on success the program has
/// replaced us (Unix) or we exited with its code (Windows).
pub fn run_program(opts: &TrustOptions, program: &OsString, args: &[OsString]) -> Result<()> {
    let depth = current_depth();
    if depth >= MAX_DEPTH {
        return Err(loop_failure(program, depth).into());
    }
    let target = locate::find(program)?;
    let mut cmd = Command::new(&target);
    match prepare(opts) {
        Ok(prepared) => {
            prepared.plan.apply(&mut cmd);
            // Container engines get the bundle handed into the containers they create, and the
            // program's own calls to them go through trustrun (see `containers`).
            let args =
                crate::containers::launch_hook(opts, &prepared, program, &target, args, &mut cmd);
            cmd.args(args);
            if opts.verbose {
                eprintln!(
                    "trustrun: running {} with SSL_CERT_FILE={} and {} first on PYTHONPATH",
                    target.display(),
                    prepared.bundle.display(),
                    prepared.python_dir.display()
                );
                if opts.relax_x509_strict {
                    eprintln!(
                        "trustrun: --relax-x509-strict: Python will not apply VERIFY_X509_STRICT to its default contexts"
                    );
                }
            }
        }
        Err(PrepareError::UserCa(f)) => return Err(f.into()),
        Err(PrepareError::Internal(e)) if opts.strict => {
            return Err(Failure::new(
                EXIT_INTERNAL,
                format!(
                    "cannot prepare the CA bundle, and --strict forbids running {} without it: {}",
                    target.display(),
                    crate::failure::one_line(&e)
                ),
            )
            .into());
        }
        Err(PrepareError::Internal(e)) => {
            cmd.args(args);
            // Fail safe: the program gets exactly the trust it had without us.
            eprintln!(
                "trustrun: warning: running {} without trustrun's CA bundle: {}",
                target.display(),
                crate::failure::one_line(&e)
            );
        }
    }
    cmd.env(vars::TRUSTRUN_DEPTH, (depth + 1).to_string());
    Err(launch::launch(cmd).into())
}

fn current_depth() -> u32 {
    std::env::var(vars::TRUSTRUN_DEPTH)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

fn loop_failure(program: &OsString, depth: u32) -> Failure {
    let found: Vec<String> = locate::candidates(program, true)
        .into_iter()
        .map(|(p, v)| format!("{} ({v})", p.display()))
        .collect();
    Failure::new(
        EXIT_CANNOT_EXECUTE,
        format!(
            "{}: trustrun started {depth} times in a chain, a loop between shims and wrappers; on PATH: {}",
            std::path::Path::new(program).display(),
            if found.is_empty() {
                "nothing".to_owned()
            } else {
                found.join(", ")
            }
        ),
    )
}
