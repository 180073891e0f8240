//! The engine shims `trustrun PROGRAM` puts first on the child's PATH, so that a program it runs
//! (harbor, a Makefile, a test suite) reaches `docker` through trustrun. One directory per set of
//! engine CLIs found on PATH, so `command -v podman` in the child still fails where podman is
//! not installed, and concurrent runs with different PATHs never change each other's directory.
//! Launch stage. Its links lead to the running trustrun, so `locate` skips them as trustrun
//! itself (by file identity) when it looks for the real CLI; the marker file in it lists no
//! names and only tells a person who finds the directory what it is.

use std::ffi::OsString;
#[cfg(unix)]
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

#[cfg(unix)]
use crate::shim::locate;
#[cfg(unix)]
use crate::shim::manifest::SHIM_MARKER;

/// The directory of shims for the engine CLIs on PATH (`None` when there is none), made or
/// repaired as needed: a few `readlink` calls when it is in place.
#[cfg(unix)]
pub fn ensure(root: &Path) -> Result<Option<PathBuf>> {
    let found: Vec<&str> = super::NAMES
        .iter()
        .copied()
        .filter(|n| locate::find(std::ffi::OsStr::new(n)).is_ok())
        .collect();
    if found.is_empty() {
        return Ok(None);
    }
    let dir = crate::store::layout::engine_shims_dir(root, &found.join("+"));
    let exe = std::env::current_exe().context("cannot tell where the trustrun binary is")?;
    let exe = fs::canonicalize(&exe).unwrap_or(exe);
    let marker = dir.join(SHIM_MARKER);
    if !marker.is_file() {
        crate::util::fs::create_dirs(&dir, 0o700)?;
        crate::util::fs::write_atomic(
            &marker,
            b"# trustrun: the container engine shims it puts first on the PATH of the programs it runs.\n",
        )?;
    }
    for name in found {
        let link = dir.join(name);
        if fs::read_link(&link).is_ok_and(|t| t == exe) {
            continue;
        }
        let tmp = dir.join(format!(".{name}.trustrun-tmp-{}", std::process::id()));
        let _ = fs::remove_file(&tmp);
        std::os::unix::fs::symlink(&exe, &tmp)
            .and_then(|_| fs::rename(&tmp, &link))
            .with_context(|| format!("cannot make the shim {}", link.display()))?;
    }
    Ok(Some(dir))
}

/// Windows: `trustrun shim install docker` does the job; the launch stage adds nothing.
#[cfg(windows)]
pub fn ensure(_root: &Path) -> Result<Option<PathBuf>> {
    Ok(None)
}

/// `PATH` with `dir` first, once.
pub fn path_with(dir: &Path) -> Result<OsString> {
    let current = std::env::var_os(crate::settings::vars::PATH).unwrap_or_default();
    let rest = std::env::split_paths(&current).filter(|p| p != dir);
    std::env::join_paths(std::iter::once(dir.to_owned()).chain(rest))
        .context("the shim directory contains the path-list separator")
}
