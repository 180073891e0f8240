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
#[cfg(unix)]
use crate::util::digest::{FNV_START, fnv1a64};
#[cfg(unix)]
use crate::util::file_id::Stamp;

/// The directory of shims for the engine CLIs on PATH (`None` when there is none), made or
/// repaired as needed.
///
/// Which CLIs PATH holds is looked up once and recorded (`layout::engines_found_record`, one
/// record a PATH and binary) with what decided it: the PATH, the running binary the links lead
/// to, each PATH directory's stamp (an engine installed or removed adds or removes a directory
/// entry, which changes the directory's mtime and ctime) and the shim directory's own stamp (a
/// link removed or replaced changes it). While all of them hold, a run costs one `stat` a PATH
/// directory, one of the shim directory and the record's read, where the search cost two
/// `stat`s a directory for each CLI. What the record does not see: an engine behind a link whose
/// target vanishes, or one made non-executable in place; the shim then leads to trustrun's own
/// "not found".
#[cfg(unix)]
pub fn ensure(root: &Path) -> Result<Option<PathBuf>> {
    let exe = crate::util::exe::path().context("cannot tell where the trustrun binary is")?;
    let dirs = locate::search_path();
    let path = std::env::var_os(crate::settings::vars::PATH).unwrap_or_default();
    // One shim directory per binary and one record per PATH and binary: two trustruns (an
    // upgrade beside the old one, a static build) sharing a cache would otherwise relink each
    // other's shims, and rewrite each other's record, on every run.
    let exe_hash = fnv1a64(FNV_START, exe.as_os_str().as_encoded_bytes());
    let path_hash = fnv1a64(exe_hash, path.as_encoded_bytes());
    let key = key(path_hash, &dirs);
    let record = crate::store::layout::engines_found_record(root, path_hash);
    let shims_dir = |clis: &str| crate::store::layout::engine_shims_dir(root, clis, exe_hash);
    if let Some(found) = recorded(&record, key, &shims_dir) {
        return Ok(found);
    }
    let found: Vec<&str> = super::NAMES
        .iter()
        .copied()
        .filter(|n| locate::find(std::ffi::OsStr::new(n)).is_ok())
        .collect();
    let dir = if found.is_empty() {
        None
    } else {
        Some(lay_out(&shims_dir(&found.join("+")), &found, exe)?)
    };
    let stamp = dir
        .as_ref()
        .and_then(|d| fs::metadata(d).ok())
        .map_or_else(|| "-".to_owned(), |m| Stamp::of(&m).to_text());
    let names = if found.is_empty() {
        "-".to_owned()
    } else {
        found.join("+")
    };
    // A record that cannot be written only costs the next run the search again.
    let _ =
        crate::util::fs::write_atomic(&record, format!("{key:016x} {names} {stamp}\n").as_bytes());
    Ok(dir)
}

/// What decides the found set: the PATH and the binary the links lead to (`path_hash`), each
/// directory's stamp.
#[cfg(unix)]
fn key(path_hash: u64, dirs: &[PathBuf]) -> u64 {
    let mut h = path_hash;
    for (i, dir) in dirs.iter().enumerate() {
        // Once a directory (compared as bytes: `Path`'s own equality parses components).
        if dirs[..i].iter().any(|d| d.as_os_str() == dir.as_os_str()) {
            continue;
        }
        h = fnv1a64(h, b"\0");
        h = fnv1a64(h, dir.as_os_str().as_encoded_bytes());
        h = match fs::metadata(dir) {
            Ok(meta) => Stamp::of(&meta).mix_into(h),
            Err(_) => fnv1a64(h, b"\0missing"),
        };
    }
    h
}

/// The recorded answer, if the record was made under `key` and its shim directory is as it was
/// left: `Some(None)` for a PATH without engines.
#[cfg(unix)]
fn recorded(
    record: &Path,
    key: u64,
    shims_dir: &dyn Fn(&str) -> PathBuf,
) -> Option<Option<PathBuf>> {
    let (text, _) = crate::util::fs::read_small(record, 4096).ok()?;
    let text = std::str::from_utf8(&text).ok()?;
    let (recorded_key, rest) = text.trim_end().split_once(' ')?;
    let (names, stamp) = rest.split_once(' ')?;
    if u64::from_str_radix(recorded_key, 16).ok()? != key {
        return None;
    }
    if names == "-" {
        return Some(None);
    }
    if names.split('+').any(|n| !super::NAMES.contains(&n)) {
        return None;
    }
    let dir = shims_dir(names);
    let now = fs::metadata(&dir).ok()?;
    (Some(Stamp::of(&now)) == Stamp::parse(stamp)).then_some(Some(dir))
}

/// Makes (or repairs) the shim directory `dir` for `found`, each link leading to `exe`.
#[cfg(unix)]
fn lay_out(dir: &Path, found: &[&str], exe: &Path) -> Result<PathBuf> {
    let dir = dir.to_owned();
    let exe = fs::canonicalize(exe).unwrap_or_else(|_| exe.to_owned());
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
    Ok(dir)
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
