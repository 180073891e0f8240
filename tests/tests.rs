//! The integration tests, one binary (as ripgrep's `tests/tests.rs`): each module is a feature,
//! run against the built `trustrun` and, for the end-to-end ones, a local HTTPS server whose
//! certificate chains to a test corporate root. `common` holds the shared world (PKI, server,
//! test venv, clean environments). `cargo test` runs them all; `cargo test --test integration
//! doctor::` runs one module.

mod common;
// Running the Windows build under wine (one prefix, one test at a time).
mod wine;

mod bundle_export;
mod cache;
mod cli;
mod clients;
mod completions_init;
mod containers;
mod doctor;
mod doctor_advice;
mod doctor_limits;
mod doctor_runtimes;
mod engine_smoke;
mod env_and_config;
mod env_eval;
mod harbor;
mod inputs;
mod install;
mod java;
mod mistakes;
mod other_runtimes;
mod outputs;
mod python_env;
mod python_side;
mod readme;
mod runtimes;
mod setup;
mod shim_names;
mod shim_ownership;
mod shim_shadow;
mod shims;
mod test_venv;
mod windows;
mod windows_setup;
