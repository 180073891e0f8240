//! Shims (the way in that needs no `trustrun` typed, and the locate stage that finds the program
//! past them). `trustrun shim install|list|remove`: a directory of links to trustrun, named like
//! the programs they stand in for, to put first on PATH. Started under such a name, trustrun runs
//! the real program of that name (see `cli::dispatch` and `locate`).
//!
//! The directory holds a manifest, `.trustrun-shims`: `locate` skips the names it lists there (and
//! only those: the directory may be the user's `~/.local/bin`). A file is ours when it links to
//! trustrun, or is the file the manifest says we wrote; anything else is the user's, and is
//! neither replaced (without `--force`) nor removed.

mod install;
pub mod locate;
pub mod manifest;
pub mod names;
mod remove;
pub mod shadow;

pub use install::{InstallRequest, install};
pub use remove::remove;

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::failure::Failure;
use manifest::{Kind, Manifest, SHIM_MARKER};

pub const DEFAULT_NAMES: &[&str] = &["python", "python3", "pip", "pip3", "harbor"];

/// `TRUSTRUN_SHIM_DIR`, else `shims` in the platform's per-user data directory.
pub fn default_dir() -> Result<PathBuf> {
    crate::util::user_dirs::shims(
        crate::settings::vars::non_empty(crate::settings::vars::TRUSTRUN_SHIM_DIR).as_deref(),
    )
    .context("no per-user data directory is known here (use --dir or TRUSTRUN_SHIM_DIR)")
}

fn file_digest(path: &Path) -> Option<String> {
    let bytes = fs::read(path).ok()?;
    Some(crate::util::digest::sha256_hex(&bytes))
}

fn validate(name: &str) -> Result<(), Failure> {
    let bad = name.is_empty()
        || name.starts_with('.')
        || name.contains(['/', '\\', ':'])
        || name.chars().any(char::is_whitespace);
    if bad {
        return Err(Failure::usage(format!("{name:?} is not a program name")));
    }
    if name.eq_ignore_ascii_case("trustrun") {
        return Err(Failure::usage(
            "a shim named trustrun would shadow trustrun itself",
        ));
    }
    Ok(())
}

/// Where the shim for `name` lives in `dir` (on Windows, with its extension).
#[cfg(unix)]
fn shim_paths(dir: &Path, name: &str) -> Vec<PathBuf> {
    vec![dir.join(name)]
}

#[cfg(windows)]
fn shim_paths(dir: &Path, name: &str) -> Vec<PathBuf> {
    vec![
        dir.join(format!("{name}.exe")),
        dir.join(format!("{name}.cmd")),
    ]
}

fn current_exe() -> Result<PathBuf> {
    let exe = std::env::current_exe().context("cannot tell where the trustrun binary is")?;
    // dunce: no verbatim `\\?\` prefix on Windows, in anything printed or compared.
    Ok(dunce::canonicalize(&exe).unwrap_or(exe))
}

use crate::util::file_id::same_file;

/// Whether the file at `path` is one of our shims: a link to this trustrun, a symlink the
/// manifest lists, or a file whose content is what the manifest says we wrote.
fn is_ours(path: &Path, name: &str, manifest: &Manifest, exe: &Path) -> bool {
    let Ok(meta) = fs::symlink_metadata(path) else {
        return false;
    };
    if same_file(path, exe) {
        return true;
    }
    let Some(entry) = manifest.shims.get(name) else {
        return false;
    };
    if meta.file_type().is_symlink() {
        // A link is ours only if it leads to a trustrun (this one, or one since moved or
        // upgraded): the user's own `python3 -> /usr/bin/python3.12` at a listed name is theirs.
        return entry.kind == Kind::Symlink && links_to_a_trustrun(path);
    }
    entry.digest != "-" && file_digest(path).is_some_and(|d| d == entry.digest)
}

/// Whether the symlink at `path` names a binary called trustrun (resolving it if it resolves):
/// our links point at trustrun's own file, never at the program they stand in for.
fn links_to_a_trustrun(path: &Path) -> bool {
    let target = fs::canonicalize(path).or_else(|_| fs::read_link(path));
    target.is_ok_and(|t| {
        t.file_name()
            .is_some_and(|n| crate::util::program_name::is_trustrun_name(&n.to_string_lossy()))
    })
}

/// Whether our shim at `path` already does what a fresh install would.
fn is_current(path: &Path, kind: Kind, exe: &Path) -> bool {
    match kind {
        Kind::Symlink | Kind::Hardlink => same_file(path, exe),
        Kind::Copy => match (fs::read(path), fs::read(exe)) {
            (Ok(a), Ok(b)) => a == b,
            _ => false,
        },
        Kind::Cmd => false,
    }
}

/// The owner of the shim directory's PATH entry in the user-environment record.
#[cfg(windows)]
const USER_ENV_OWNER: &str = "shim";

/// The user's PATH variable in `HKCU\Environment`.
#[cfg(windows)]
const USER_PATH: &str = "Path";

/// Suffix of a shim moved aside because Windows would not delete it yet.
#[cfg(windows)]
const REMOVED_SUFFIX: &str = ".trustrun-removed";

/// Deletes the shims an earlier `remove` had to move aside, where they are no longer running.
#[cfg(windows)]
fn sweep_removed(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if entry
            .file_name()
            .to_string_lossy()
            .ends_with(REMOVED_SUFFIX)
        {
            let _ = fs::remove_file(entry.path());
        }
    }
}

#[cfg(not(windows))]
fn sweep_removed(_dir: &Path) {}

pub fn list(dir: Option<PathBuf>) -> Result<()> {
    let dir = match dir {
        Some(d) => d,
        None => default_dir()?,
    };
    if !dir.join(SHIM_MARKER).is_file() {
        crate::outln!("no trustrun shims in {}", dir.display())?;
        return Ok(());
    }
    let manifest = Manifest::read(&dir);
    let exe = current_exe()?;
    crate::outln!("shims in {}:", dir.display())?;
    let mut any_shadowed = false;
    for (name, entry) in &manifest.shims {
        let (kind, version) = (&entry.kind, &entry.version);
        let path = shim_paths(&dir, name)
            .into_iter()
            .find(|p| fs::symlink_metadata(p).is_ok());
        let mut state = match &path {
            None => "missing: run `trustrun shim install` again".to_owned(),
            Some(p) if *kind == Kind::Copy && !is_current(p, *kind, &exe) => {
                format!("copy of trustrun {version}, stale: run `trustrun shim install`")
            }
            Some(_) => kind.as_str().to_owned(),
        };
        let target = match locate::find(std::ffi::OsStr::new(name)) {
            Ok(real) => real.display().to_string(),
            Err(_) => "nothing real behind it on PATH".to_owned(),
        };
        // The program the shim runs is the one PATH finds first, in place of the shim.
        if let shadow::Reach::ShadowedBy(_) = shadow::reach(name) {
            state.push_str("; SHADOWED: PATH finds it first");
            any_shadowed = true;
        }
        crate::outln!("  {name:<12} -> {target}   [{state}]")?;
    }
    if any_shadowed {
        let line = format!(
            "SHADOWED: PATH finds that program before the shim directory (an activated \
             virtualenv?), so the shim never runs; {}",
            shadow::COVERED
        );
        crate::out!(
            "{}",
            crate::util::text::wrap(&line, crate::util::text::WIDTH)
        )?;
    }
    Ok(())
}
