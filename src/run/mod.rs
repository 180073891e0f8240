//! `trustrun PROGRAM ARGS...`, the pipeline after dispatch: locate the real program, prepare
//! the trust (bundle stage), plan the child's environment (`plan`), let containers add theirs,
//! and hand over (`launch`). Also the recursion guard against shims that loop.

pub mod env_format;
pub mod java;
pub mod launch;
pub mod plan;

use std::ffi::OsString;
use std::process::Command;

use anyhow::Result;

use crate::failure::{EXIT_CANNOT_EXECUTE, EXIT_INTERNAL, Failure};
use crate::settings::options::TrustOptions;
use crate::settings::vars;
use crate::shim::locate;
use crate::store::{PrepareError, prepare};

/// More nested trustruns than this is a loop (a wrapper script named like a shim that calls the
/// shim again); real nesting (a tool starting python starting pip) stays far below it.
pub const MAX_DEPTH: u32 = 16;

/// Runs `program` with the prepared trust. Returns only on failure: on success the program has
/// replaced us (Unix) or we exited with its code (Windows).
pub fn run_program(opts: &TrustOptions, program: &OsString, args: &[OsString]) -> Result<()> {
    let depth = current_depth();
    if depth >= MAX_DEPTH {
        return Err(loop_failure(program, depth).into());
    }
    let target = locate::find(program)?;
    let mut cmd = Command::new(&target);
    let prepared = prepare(opts).and_then(|prepared| {
        let plan = plan::child_env(&prepared, opts).map_err(PrepareError::Internal)?;
        Ok((prepared, plan))
    });
    match prepared {
        Ok((prepared, plan)) => {
            plan.apply(&mut cmd);
            // An engine hands variables into containers: no host trust store may go with them.
            if crate::containers::EngineCli::of(program).is_some() {
                plan::engine_java_options(&mut cmd);
            }
            // Container engines get the bundle handed into the containers they create, and the
            // program's own calls to them go through trustrun (see `containers`).
            let args =
                crate::containers::launch_hook(opts, &prepared, program, &target, args, &mut cmd);
            cmd.args(args);
            if opts.verbose {
                crate::note!(
                    "running {} with SSL_CERT_FILE={} and {} first on PYTHONPATH",
                    target.display(),
                    prepared.bundle.display(),
                    prepared.python_dir.display()
                );
                if opts.relax_x509_strict {
                    crate::note!(
                        "--relax-x509-strict: Python will not apply VERIFY_X509_STRICT to its default contexts"
                    );
                }
            }
        }
        Err(e @ PrepareError::UserCa { .. }) => return Err(e.into_error()),
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
            crate::warn!(
                "running {} without trustrun's CA bundle: {}",
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
