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
    pub bundle: PathBuf,
    pub python_dir: PathBuf,
    pub plan: EnvPlan,
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
        variables: Inputs::caller_variables(),
    };
    // No known cache directory is handled like an unusable one: the fallback still serves.
    let attempt = cache::preferred_dir()
        .map_err(PrepareError::Internal)
        .and_then(|dir| prepare_in(&dir, &inputs, opts));
    let (bundle, python_dir) = match attempt {
        Ok(done) => done,
        Err(PrepareError::Internal(e)) => {
            let fallback = cache::fallback_dir().map_err(PrepareError::Internal)?;
            eprintln!(
                "trustrun: warning: {}; using {} instead",
                crate::failure::one_line(&e),
                fallback.display()
            );
            prepare_in(&fallback, &inputs, opts)?
        }
        Err(user) => return Err(user),
    };
    let plan = plan::plan(&bundle, &python_dir, opts, &inputs.inherited())
        .map_err(PrepareError::Internal)?;
    Ok(Prepared {
        bundle,
        python_dir,
        plan,
    })
}

fn prepare_in(
    root: &std::path::Path,
    inputs: &Inputs,
    opts: &TrustOptions,
) -> Result<(PathBuf, PathBuf), PrepareError> {
    cache::ensure_private(root).map_err(PrepareError::Internal)?;
    let bundle = match bundle::ensure(root, inputs) {
        Ok(b) => b,
        Err(BundleError::UserCa(e)) => {
            return Err(PrepareError::UserCa(Failure::usage(e.to_string())));
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
                eprintln!("trustrun: {n:>4} certificates from {origin}");
            }
            eprintln!(
                "trustrun: wrote {} ({} distinct certificates)",
                bundle.path.display(),
                built.certs.len()
            );
        }
    } else if opts.verbose {
        eprintln!("trustrun: using cached bundle {}", bundle.path.display());
    }
    let python_dir = python_support::ensure(root).map_err(PrepareError::Internal)?;
    // `trustrun setup` is refreshed whenever trustrun runs; a failure keeps the old stable file
    // and is not this program's problem, so it is only told under -v.
    match crate::stable_bundle::refresh_if_set_up(root) {
        Err(e) if opts.verbose => eprintln!(
            "trustrun: stable bundle not refreshed: {}",
            crate::failure::one_line(&e)
        ),
        Ok(Some(crate::stable_bundle::Refreshed::Written)) if opts.verbose => {
            eprintln!(
                "trustrun: refreshed {}",
                crate::stable_bundle::path(root).display()
            )
        }
        _ => {}
    }
    Ok((bundle.path, python_dir))
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
    cmd.args(args);
    match prepare(opts) {
        Ok(prepared) => {
            prepared.plan.apply(&mut cmd);
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
