//! Questions trustrun asks an engine's CLI (launch stage): an image's config, a container's
//! network, the mounts of every container, the builder's version. One shape for all: the real
//! CLI with the options that select the engine, its stdin closed and its stderr dropped (a CLI
//! that cannot answer means "unknown" to the caller, never a message for the user), and its
//! standard output when it answered with success.

use std::ffi::OsStr;
use std::io;
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// `cli GLOBALS ARGS`, ready to start (callers may add arguments or remove variables first, or
/// start several before waiting for any).
pub fn question<G: AsRef<OsStr>, S: AsRef<OsStr>>(
    cli: &Path,
    globals: &[G],
    args: &[S],
) -> Command {
    let mut cmd = Command::new(cli);
    cmd.args(globals)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    cmd
}

/// What a started question printed, when it ran and exited with success.
pub fn answer(started: io::Result<Child>) -> Option<Vec<u8>> {
    let out = started.ok()?.wait_with_output().ok()?;
    out.status.success().then_some(out.stdout)
}

/// Asks and waits: `answer(question(...).spawn())`.
pub fn ask<G: AsRef<OsStr>, S: AsRef<OsStr>>(
    cli: &Path,
    globals: &[G],
    args: &[S],
) -> Option<Vec<u8>> {
    answer(question(cli, globals, args).spawn())
}
