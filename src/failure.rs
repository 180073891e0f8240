//! Errors that end trustrun with a documented exit code (every stage ends with these; `main`
//! prints them once).
//!
//! Exit codes follow shell conventions (see docs/reference.md, "Exit codes"): the child's own code when it ran,
//! 1 when a command (shim, doctor) could not do what was asked or trustrun itself failed, 2 for
//! usage, CA-file and config errors, 125 for an internal failure under `--strict` only, 126 for a
//! program that cannot be run (or a shim loop), 127 for a program not found. `EXIT_CODES` is the
//! table in docs/reference.md.

use std::fmt;

/// A command that did not do what was asked (a shim install refused to replace a foreign file,
/// a host `doctor` looked at does not verify), or trustrun itself failed outside `--strict`.
pub const EXIT_FAILURE: u8 = 1;
/// Usage errors, a CA file the user named that is unusable, a broken config file.
pub const EXIT_USAGE: u8 = 2;
/// trustrun itself failed and `--strict` forbade running the program untouched.
pub const EXIT_INTERNAL: u8 = 125;
/// The program exists but cannot be executed, or shims loop into each other.
pub const EXIT_CANNOT_EXECUTE: u8 = 126;
/// The program was not found.
pub const EXIT_NOT_FOUND: u8 = 127;

/// Every exit code trustrun itself chooses, with the reference page's words for it (tests/readme.rs checks
/// that docs/reference.md's "Exit codes" table is exactly this, so code and documentation cannot drift).
pub const EXIT_CODES: &[(u8, &str)] = &[
    (
        EXIT_FAILURE,
        "trustrun itself failed (outside `--strict`), or could not write its output; `shim install`/`remove` \
         refused to touch a file that is not a trustrun shim; `doctor`: a host does not verify",
    ),
    (
        EXIT_USAGE,
        "usage error (one line, with clap's suggestion when it has one; a boolean variable spelt otherwise \
         than above included), a broken config file, or a CA file \
         you named is missing, unreadable, damaged, not certificates, not a regular file, or too large \
         (the program is not run)",
    ),
    (
        EXIT_INTERNAL,
        "trustrun itself failed and `--strict` was given (never without it)",
    ),
    (
        EXIT_CANNOT_EXECUTE,
        "the program is not executable, or shims loop into each other",
    ),
    (EXIT_NOT_FOUND, "the program was not found"),
];

/// An error that ends trustrun with a chosen exit code and a one-line message.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub message: String,
}

impl Failure {
    pub fn new(code: u8, message: impl Into<String>) -> Self {
        Failure {
            code,
            message: message.into(),
        }
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Failure::new(EXIT_USAGE, message)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}

/// The exit code for an error chain: a `Failure` anywhere in it decides; anything else is trustrun
/// failing, which is 1 (125 is kept for `--strict`, which `run` raises as a `Failure` itself).
pub fn exit_code_of(err: &anyhow::Error) -> u8 {
    err.chain()
        .find_map(|e| e.downcast_ref::<Failure>().map(|f| f.code))
        .unwrap_or(EXIT_FAILURE)
}

/// One line: the error and its causes joined with ": ", as ripgrep and cargo print them.
pub fn one_line(err: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in err.chain() {
        let text = cause.to_string();
        // anyhow repeats a wrapped error's text when context was added with the same words.
        if parts.last().is_none_or(|last| !last.ends_with(&text)) {
            parts.push(text);
        }
    }
    parts.join(": ").replace('\n', " ")
}
