//! Path lists (util; `PATH`, `PYTHONPATH`, `TRUSTRUN_CA`, `SSL_CERT_DIR`): the platform's separator
//! and splitting one the way trustrun reads them.

use std::ffi::OsStr;
use std::path::PathBuf;

/// The separator of the platform's path lists: `:` on Unix, `;` on Windows.
pub const SEPARATOR: char = if cfg!(windows) { ';' } else { ':' };

/// The paths of a list such as `TRUSTRUN_CA`, empty entries dropped.
pub fn split(value: &OsStr) -> Vec<PathBuf> {
    std::env::split_paths(value)
        .filter(|p| !p.as_os_str().is_empty())
        .collect()
}
