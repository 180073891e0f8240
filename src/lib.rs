//! trustrun: run a program so that every TLS client in it trusts the OS trust store, Mozilla's
//! roots and the CA files the user names. See DESIGN.md in the repository for the data flow.

mod authority;
pub mod bundle;
pub mod cache;
pub mod cache_layout;
pub mod certs;
pub mod cleanup;
mod cli;
pub mod config;
mod config_init;
pub mod containers;
pub mod digest;
pub mod doctor;
pub mod env_format;
mod export;
pub mod failure;
mod file_id;
pub mod input_file;
pub mod launch;
pub mod locate;
pub mod options;
pub mod os_store;
pub mod output;
pub mod path_escape;
pub mod plan;
pub mod prepare;
pub mod python_support;
pub mod run;
pub mod settings;
pub mod shell;
pub mod shim;
mod shim_names;
pub mod shim_shadow;
pub mod sources;
pub mod stable_bundle;
mod suggest;
pub mod text;
pub mod truststore;
mod user_dirs;
pub mod vars;

use std::process::ExitCode;

/// The whole program: parse argv, run, and print any error once, on one line.
pub fn main() -> ExitCode {
    match cli::dispatch(std::env::args_os().collect()) {
        Ok(()) => ExitCode::SUCCESS,
        // The reader of our output went away (`| head`): it wanted no more, so no error.
        Err(err) if output::is_closed_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("trustrun: {}", failure::one_line(&err));
            ExitCode::from(failure::exit_code_of(&err))
        }
    }
}
