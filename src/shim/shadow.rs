//! Whether a shim is reached at all (beside the pipeline, asking the locate stage): a directory
//! ahead of the shim directory on PATH (an activated virtualenv's `bin`, say) that holds the same
//! name bypasses trustrun silently. Read by `shim list` and `doctor`.

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};

use super::locate::{self, PathVerdict};
use super::manifest::SHIM_MARKER;

/// What running NAME from a shell reaches.
#[derive(Debug, PartialEq, Eq)]
pub enum Reach {
    /// A trustrun shim comes first on PATH.
    Shim,
    /// This real program comes first: the shim never runs.
    ShadowedBy(PathBuf),
    /// No shim directory on PATH holds NAME.
    NotOnPath,
}

pub fn reach(name: &str) -> Reach {
    for (path, verdict) in locate::candidates(OsStr::new(name), true) {
        match verdict {
            PathVerdict::ShimDirectory => return Reach::Shim,
            PathVerdict::Chosen => return Reach::ShadowedBy(path),
            PathVerdict::IsTrustrun | PathVerdict::NotExecutable => continue,
        }
    }
    Reach::NotOnPath
}

/// The shims in `dir` that a program earlier on PATH shadows, with that program.
pub fn shadowed_in(dir: &Path) -> Vec<(String, PathBuf)> {
    if !dir.join(SHIM_MARKER).is_file() {
        return Vec::new();
    }
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .map(|n| shim_name(&n))
        .collect();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .filter_map(|name| match reach(&name) {
            Reach::ShadowedBy(path) => Some((name, path)),
            _ => None,
        })
        .collect()
}

/// A shim file's program name: on Windows without `.exe`/`.cmd`, in lower case.
#[cfg(windows)]
fn shim_name(file: &str) -> String {
    crate::util::program_name::of_file(file)
}

#[cfg(not(windows))]
fn shim_name(file: &str) -> String {
    file.to_owned()
}

/// The one-line explanation and fix, for doctor.
pub fn explain(name: &str, path: &Path) -> String {
    format!(
        "{name}: PATH finds {} before the shim directory (an activated virtualenv?), so the shim \
         is bypassed there; {}",
        path.display(),
        COVERED
    )
}

/// What covers a name a virtualenv shadows, said once by `shim list` below its list.
pub const COVERED: &str = "`trustrun setup` covers virtualenvs (or run `trustrun NAME ...` there)";
