//! trustrun: run a program so that every TLS client in it trusts the OS trust store, Mozilla's
//! roots and the CA files the user names.
//!
//! The pipeline, one stage a module or two:
//!
//! ```text
//! dispatch  cli (argv[0]: shim or trustrun; clap)  ->  settings::resolve(flags, env, config)
//!           = options::TrustOptions (+ each one's origin)
//! sources   sources (Inputs, fingerprint, gather) <- os_store, certs, input_file
//! bundle    prepare -> bundle (warm: index lookup; cold: write), cache_layout (names, format),
//!           cache (private dir), stable_bundle (setup's current.pem), cleanup, python_support
//! plan      plan::child_env (the child's variables) -> env_format (`trustrun env`)
//! locate    locate (PATH, skipping trustrun and its shims) -> shim, shim_shadow
//! launch    run::run_program -> containers::launch_hook (-> handoff: the engine's public copy)
//!           -> launch (exec / spawn and wait)
//! ```
//!
//! Beside the pipeline: `doctor` (reports on trust and hosts), `export` (`bundle --output`,
//! `--corporate-only`), `failure` (errors and exit codes), `vars` (every variable, named once).

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
