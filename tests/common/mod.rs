//! Shared test fixtures, one file a part; every name is re-exported here, so a test says
//! `use crate::common::*;` and calls `World::new()`, `clean(...)`, `run_ok(...)`.
// Some fixtures serve only the Unix-only modules (tests.rs gates them): on Windows they are unused.
#![cfg_attr(not(unix), allow(dead_code))]

// The private Debian 13 engine for the tests that build images (.ci/engine).
#[cfg(target_os = "linux")]
pub mod engine;
// The host's Docker engine: `docker()`, `imported_image` (test images from this machine's files).
#[cfg(target_os = "linux")]
mod host_docker;
// The test corporate PKI: `Pki`, `ROOT_CN`.
mod pki;
// Child processes: `repo`, `trustrun_bin`, `clean`, `is_trust_variable`, `run_ok`, `output_text`.
mod process;
// The local HTTPS server: `Server`, `Routes`.
mod server;
// The pinned client venv and base interpreters: `venv`, `venv_python`, `create_venv`, ...
mod venv;
// One end-to-end case: `World`, `ClientRun`, `assert_ok`, `assert_certificate_failure`.
mod world;

#[cfg(target_os = "linux")]
pub use host_docker::*;
pub use pki::*;
pub use process::*;
pub use server::*;
pub use venv::*;
pub use world::*;
