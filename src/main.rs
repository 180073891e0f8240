//! The `trustrun` binary: everything lives in the library; this only hands over argv.
use std::process::ExitCode;

fn main() -> ExitCode {
    trustrun::main()
}
