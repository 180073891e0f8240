//! Child processes: where the repository and the built binary are, a child environment cleaned of
//! this machine's CA presets, running a command that must succeed and reading what it printed.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn trustrun_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_trustrun"))
}

/// Runs `cmd`, asserting it succeeded (its output in the message if not); returns the output.
pub fn run_ok(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}",
        output_text(&out)
    );
    out
}

/// The same, returning what it printed on stdout.
pub fn run_ok_stdout(cmd: &mut Command) -> String {
    String::from_utf8_lossy(&run_ok(cmd).stdout).into_owned()
}

/// Whether an environment variable name is one of the CA settings this machine and CI pre-set
/// (SSL_CERT_FILE, REQUESTS_CA_BUNDLE, PIP_CERT, NODE_EXTRA_CA_CERTS, ...) or one of ours. Matched
/// broadly on purpose: a control that passes because of a leftover preset proves nothing.
pub fn is_trust_variable(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    upper.starts_with("TRUSTRUN_")
        || upper == "PYTHONPATH"
        || upper.contains("CERT")
        || upper.contains("CA_BUNDLE")
        || upper.contains("CAFILE")
        || upper.contains("CAINFO")
        || upper.contains("CA_CERTS")
        || upper.contains("CAPATH")
        || upper.ends_with("_PROXY")
        || trustrun::vars::CA_VARIABLES
            .iter()
            .any(|(n, _)| *n == upper)
}

/// A child environment as a user behind a proxy has it: none of the CA presets, a private cache.
pub fn clean<'a>(cmd: &'a mut Command, cache: &Path) -> &'a mut Command {
    for (name, _) in std::env::vars_os() {
        if is_trust_variable(&name.to_string_lossy()) {
            cmd.env_remove(&name);
        }
    }
    cmd.env("TRUSTRUN_CACHE_DIR", cache)
        .env("NO_PROXY", "127.0.0.1,localhost,::1")
        .env("no_proxy", "127.0.0.1,localhost,::1")
        // litellm fetches a price list from the internet at import unless told not to.
        .env("LITELLM_LOCAL_MODEL_COST_MAP", "True")
        .env("LITELLM_TELEMETRY", "False")
        .env("PYTHONDONTWRITEBYTECODE", "1")
}

pub fn output_text(out: &Output) -> String {
    format!(
        "status: {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// What trustrun printed on stderr, asserting it is exactly one line: how every refusal and
/// warning is checked to be the one clear line the contract promises.
pub fn one_line_stderr(out: &Output) -> String {
    let text = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        text.lines().count() == 1 && !text.trim().is_empty(),
        "one line expected on stderr:\n{}",
        output_text(out)
    );
    text
}
