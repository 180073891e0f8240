//! The integration tests, one binary (as ripgrep's `tests/tests.rs`): each module below is one
//! behaviour of the built `trustrun`, and the end-to-end ones run real clients against a local
//! HTTPS server whose certificate chains to a test corporate root, each beside a control that
//! fails without trustrun. `cargo test --test integration doctor::` runs one module.
//!
//! Where a new test goes: in the module whose line below names the behaviour it checks, else in a
//! new module listed here with one line saying what lives in it, under the platforms it runs on.
//! Its fixtures come from `common` (`use crate::common::*;`); a helper two modules need goes
//! there too, not into a copy.

// Shared fixtures, one file a part: the test PKI (`common/pki.rs`), the HTTPS server
// (`server.rs`), the pinned client venv and interpreters (`venv.rs`), child processes with a
// clean environment and their output (`process.rs`), one case's `World` and its client runs
// (`world.rs`), and the private image-building engine (`engine.rs`, Linux).
mod common;

// On every platform, so a Windows contributor's `cargo test` builds and runs them.

// Bad input: one line naming the thing, the documented exit code, the program not run.
mod cli;
// Real Python clients (requests, httpx, urllib, pip, ...) trust the root through trustrun.
mod clients;
// `trustrun completions SHELL` and `trustrun config init`.
mod completions_init;
// `trustrun doctor`: verdicts, probe failures, proxies, strict X.509 findings, --json.
mod doctor;
// A new user's mistakes get a suggestion: typos, other tools' CA options, odd CA paths.
mod mistakes;
// Node, curl and git started by a trustrun'd program trust the root.
mod other_runtimes;
// A Python's start-up under trustrun: certifi redirect, sitecustomize chaining, PYTHONPATH.
mod python_env;
// Our sitecustomize's own robustness: its import hook and its guard of last resort.
mod python_side;
// The docs' promises the code can check: reference tables, --help options, relative links.
mod readme;
// The test venv's own installer goes through trustrun against an intercepted index.
mod test_venv;

// Unix only: Unix file modes, shells, `/bin/sh` programs or `bin/` venv layouts.

// `trustrun bundle --output`: a 0644 file to hand out, `--corporate-only`.
#[cfg(unix)]
mod bundle_export;
// The cache's privacy, verification and cleanup; one reading of every boolean switch.
#[cfg(unix)]
mod cache;
// doctor's advice: the verdict and first step lead, follow setup's state, fit one screen.
#[cfg(unix)]
mod doctor_advice;
// doctor's own limits: its overall --timeout, chains deeper than its verifier.
#[cfg(unix)]
mod doctor_limits;
// doctor's "Runtimes that ignore the OS store": java, node, bun, deno on PATH and their cover.
#[cfg(unix)]
mod doctor_runtimes;
// `trustrun env` read by its consumers (bash, fish, dotenv, $GITHUB_ENV); the config file.
#[cfg(unix)]
mod env_and_config;
// `eval "$(trustrun env)"` gives sh syntax whatever `$SHELL` says.
#[cfg(unix)]
mod env_eval;
// Trust inputs: CA files used whole or refused by name, broken inherited ones, directories.
#[cfg(unix)]
mod inputs;
// Java (OpenJDK's HttpClient, keytool) trusts the root through the PKCS#12 store named by
// JAVA_TOOL_OPTIONS; the caller's own options and store, leave_alone, engines.
#[cfg(unix)]
mod java;
// Every `env` format read back by its consumer, output errors, closed pipes, exit 125.
#[cfg(unix)]
mod outputs;
// deno, bun and Go trust the root through trustrun; bun with the root in its OS store; the
// versions the docs name are the ones tested.
#[cfg(unix)]
mod runtimes;
// `trustrun setup`: login shells trust the root after setup and not after `--undo`; hardening.
#[cfg(unix)]
mod setup;
// `shim install` warns about names with nothing behind them on PATH.
#[cfg(unix)]
mod shim_names;
// Which files in a shim directory are ours; `shim remove` checks before touching.
#[cfg(unix)]
mod shim_ownership;
// A venv activated after the shims bypasses them: install, list and doctor say so.
#[cfg(unix)]
mod shim_shadow;
// Shims on PATH make plain `python3`, `pip` and console scripts trusted, without loops.
#[cfg(unix)]
mod shims;
// A warm run's system calls within the budget BENCHMARKS.md lists (strace); the engine shims
// follow what PATH holds.
#[cfg(unix)]
mod warm_budget;

// The Windows build run for real under wine, from a Unix host (one prefix, one test at a time).
#[cfg(unix)]
mod wine;
// trustrun.exe under wine: a Windows client, `cmd`, `reg`, paths users read.
#[cfg(unix)]
mod windows;
// `trustrun setup` on Windows under wine: `HKCU\Environment` written and undone.
#[cfg(unix)]
mod windows_setup;

// Linux only: a container engine, or Linux wheels.

// Image builds trusted with the Dockerfile untouched: every RUN, the same image, pass-throughs.
#[cfg(target_os = "linux")]
mod builds;
// Containers created through trustrun trust the root (`docker run`, compose, the docker shim).
#[cfg(target_os = "linux")]
mod containers;
// Java's trust store in containers, opt-in: mounted and named only when asked; theirs kept.
#[cfg(target_os = "linux")]
mod containers_java;
// The private engine (.ci/engine) the build tests use: version, builds on host networking.
#[cfg(target_os = "linux")]
mod engine_smoke;
// The original report's scenario: the real `harbor run` on the private engine.
#[cfg(target_os = "linux")]
mod harbor;
// Install without Rust: the wheels, pip / uv / pipx installs, and the shims they put on PATH.
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
mod install;
