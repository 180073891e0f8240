//! trustrun: run a program so that every TLS client in it trusts the OS trust store, Mozilla's
//! roots and the CA files the user names.
//!
//! The tree is the map: one folder per stage, in the order a run goes through them, then what
//! stands beside the pipeline.
//!
//! ```text
//! cli/        dispatch: argv[0] (shim or trustrun), clap, each command to its body
//! settings/   flags, environment and config resolved once into TrustOptions
//! sources/    what a bundle is made from (Inputs), reading it all, the warm path's fingerprint
//! store/      the bundle stage: prepare, the cache and its layout, bundles, the stable file,
//!             public copies, cleanup, python support
//! run/        plan (the child's environment), launch (exec / spawn and wait)
//! shim/       locate (the real program past our shims), the shims and their manifest
//! containers/ the launch stage for docker, podman and compose: the bundle into containers
//! setup/      make every new shell trusted (profiles, user environment) and take it back
//! user_env/   the record of every change to the user's environment, and undoing it
//! doctor/     where trust comes from, and what a host presents, on one screen
//! util/       helpers no stage owns: output, files, digests, path lists, libc/Win32 calls
//! failure.rs  errors that end trustrun with a documented exit code
//! ```

mod cli;
pub(crate) mod containers;
pub(crate) mod doctor;
pub mod failure;
pub(crate) mod run;
pub(crate) mod settings;
pub(crate) mod setup;
pub(crate) mod shim;
pub(crate) mod sources;
pub(crate) mod store;
pub(crate) mod user_env;
pub(crate) mod util;

// Paths the integration tests name.
pub use settings::vars;
pub use sources::certs;
pub use util::digest;

use std::process::ExitCode;

/// The whole program: parse argv, run, and print any error once, on one line.
pub fn main() -> ExitCode {
    match cli::dispatch(std::env::args_os().collect()) {
        Ok(()) => ExitCode::SUCCESS,
        // The reader of our output went away (`| head`): it wanted no more, so no error.
        Err(err) if util::output::is_closed_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            // The error once, on one line, in the voice of every other message.
            util::output::say(format_args!("{}", failure::one_line(&err)));
            ExitCode::from(failure::exit_code_of(&err))
        }
    }
}
