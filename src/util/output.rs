//! trustrun's one voice (util): what it prints on stdout (`out!`, `outln!`) and what it says on
//! stderr (`warn!`, `note!`, `verbose!`, and `main`'s error line), in ripgrep's `messages.rs`
//! shape: one place knows the `trustrun: ` prefix and the streams.
//!
//! Writing to stdout never panics. `print!` panics when stdout fails (`> /dev/full`, a pipe the
//! reader closed), which prints a backtrace and exits 134. Here a write error is an ordinary
//! error, and a closed pipe is recognised so that `main` can exit 0 quietly, as ripgrep does: the
//! reader (`head`) wanted no more, which is not our failure. A line to stderr that cannot be
//! written is dropped: a message must not stop the work it tells about.

use std::fmt;
use std::io::{self, Write};

/// Standard output could not be written. `main` turns a closed pipe into a quiet exit 0 and any
/// other cause into a one-line error (exit 1).
#[derive(Debug)]
pub struct OutputError(pub io::Error);

impl fmt::Display for OutputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot write to standard output: {}", self.0)
    }
}

impl std::error::Error for OutputError {}

impl OutputError {
    pub fn is_closed_pipe(&self) -> bool {
        self.0.kind() == io::ErrorKind::BrokenPipe
    }
}

/// Writes `args` to stdout and flushes, so that an error shows here and not in a later `print!`.
pub fn write(args: fmt::Arguments<'_>) -> Result<(), OutputError> {
    let mut out = io::stdout().lock();
    out.write_fmt(args)
        .and_then(|()| out.flush())
        .map_err(OutputError)
}

/// Whether an error chain ends in a closed stdout pipe.
pub fn is_closed_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<OutputError>()
            .is_some_and(OutputError::is_closed_pipe)
    })
}

/// Output of a command that changes things (`setup`): a write error must not stop the change
/// half-way, so the first one is kept and later lines are dropped; `finish` hands it over once
/// the change is done, for `main` to end with (a closed pipe quietly).
#[derive(Debug, Default)]
pub struct Deferred {
    failed: Option<OutputError>,
}

impl Deferred {
    pub fn line(&mut self, args: fmt::Arguments<'_>) {
        if self.failed.is_none()
            && let Err(e) = write(format_args!("{args}\n"))
        {
            self.failed = Some(e);
        }
    }

    /// The first write error, if there was one.
    pub fn finish(self) -> Result<(), OutputError> {
        self.failed.map_or(Ok(()), Err)
    }
}

/// `println!` that returns an `OutputError` instead of panicking; `outln!(out => ...)` writes
/// through a `Deferred` instead, which keeps the error for later.
#[macro_export]
macro_rules! outln {
    () => { $crate::util::output::write(format_args!("\n")) };
    ($sink:ident => $($arg:tt)*) => { $sink.line(format_args!($($arg)*)) };
    ($($arg:tt)*) => { $crate::util::output::write(format_args!("{}\n", format_args!($($arg)*))) };
}

/// `print!` that returns an `OutputError` instead of panicking.
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => { $crate::util::output::write(format_args!($($arg)*)) };
}

/// One line on stderr: `trustrun: ` and `args`. What the macros below and `main` write through.
pub fn say(args: fmt::Arguments<'_>) {
    let _ = writeln!(io::stderr().lock(), "trustrun: {args}");
}

/// Text on stderr as it is, without the prefix (the short usage a bare `trustrun` shows).
pub fn say_plain(text: &str) {
    let _ = writeln!(io::stderr().lock(), "{text}");
}

/// A warning on stderr (`trustrun: warning: ...`): something is less than it should be, and the
/// work goes on.
#[macro_export]
macro_rules! warn {
    ($($arg:tt)*) => {
        $crate::util::output::say(format_args!("warning: {}", format_args!($($arg)*)))
    };
}

/// A line on stderr (`trustrun: ...`) that tells what trustrun does or leaves alone.
#[macro_export]
macro_rules! note {
    ($($arg:tt)*) => { $crate::util::output::say(format_args!($($arg)*)) };
}

/// `note!` only when `$on` (the options' `verbose`, `-v`).
#[macro_export]
macro_rules! verbose {
    ($on:expr, $($arg:tt)*) => {
        if $on {
            $crate::note!($($arg)*);
        }
    };
}
