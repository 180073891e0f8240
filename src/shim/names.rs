//! Which names `trustrun shim install` makes (beside the pipeline), and a warning for a name with
//! nothing behind it: a shim for a program that is not installed is usually a typo, and it would
//! exit 127.

use std::ffi::OsStr;

use super::locate;
use crate::failure::EXIT_NOT_FOUND;

/// Default names that are only worth a shim when the program is installed.
const ONLY_WHEN_PRESENT: &[(&str, &str)] = &[(
    "harbor",
    "the agent benchmark harness (`uv tool install harbor`); `trustrun shim install harbor` \
     once it is installed",
)];

/// The default set (python python3 pip pip3 harbor), less the optional ones not on PATH, each
/// skipped one said on stdout with what it is.
pub fn defaults(all: &[&str]) -> Result<Vec<String>, crate::util::output::OutputError> {
    let mut names = Vec::new();
    for name in all {
        match ONLY_WHEN_PRESENT.iter().find(|(n, _)| n == name) {
            Some((_, what)) if !on_path(name) => {
                crate::outln!("skipped    {name}: not on PATH; {what}")?;
            }
            _ => names.push(name.to_string()),
        }
    }
    Ok(names)
}

/// Warns (stderr) for each name PATH holds nothing real for, past the shim directories.
pub fn warn_missing(names: &[String]) {
    for name in names.iter().filter(|n| !on_path(n)) {
        crate::warn!(
            "nothing named {name} on PATH behind the shim (a typo?); the shim \
             exits 127 until {name} is installed"
        );
    }
}

fn on_path(name: &str) -> bool {
    !matches!(locate::find(OsStr::new(name)), Err(f) if f.code == EXIT_NOT_FOUND)
}
