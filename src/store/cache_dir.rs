//! The per-user cache directory (bundle stage): which one (`TRUSTRUN_CACHE_DIR`, the platform's,
//! one of our own under `sudo -E`, a private temporary fallback), and its privacy checks.
//!
//! Everything in it ends up trusted or executed: a bundle another user can write decides what
//! TLS trusts, and a `sitecustomize.py` another user can write runs in every Python the victim
//! starts. So the directory is private (0700 on Unix), owned by us, and checked before each use.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::settings::vars;

/// Where the cache should be: `TRUSTRUN_CACHE_DIR`, else the platform's per-user cache directory.
///
/// Always absolute: the path is exported to the child, which may change directory. A directory
/// that does not exist yet is only created where we own the nearest existing ancestor (or root
/// does): run as root with another user's `HOME` (`sudo -E`), the default would otherwise make
/// that user's `~/.cache` root-owned, so root's own cache (from its passwd entry) is used instead.
pub fn preferred_dir() -> Result<PathBuf> {
    if let Some(dir) = vars::non_empty(vars::TRUSTRUN_CACHE_DIR) {
        let dir = std::path::absolute(PathBuf::from(&dir))
            .with_context(|| format!("TRUSTRUN_CACHE_DIR={}: not a usable path", dir.display()))?;
        may_create(&dir)?;
        return Ok(dir);
    }
    let default = crate::util::user_dirs::cache()
        .context("no per-user cache directory is known here (set TRUSTRUN_CACHE_DIR)")?;
    if in_a_home_of_ours(&default).is_ok() && may_create(&default).is_ok() {
        return Ok(default);
    }
    let own = own_cache_dir().with_context(|| {
        format!(
            "{} is in a home directory that is not ours, and no cache of our own is known",
            default.display()
        )
    })?;
    may_create(&own)?;
    Ok(own)
}

/// The cache under the home directory of our passwd entry, whatever `HOME` says.
#[cfg(unix)]
fn own_cache_dir() -> Option<PathBuf> {
    let home = crate::util::unix::passwd_home(crate::util::unix::euid())?;
    let base = if cfg!(target_os = "macos") {
        home.join("Library").join("Caches")
    } else {
        home.join(".cache")
    };
    Some(base.join("trustrun"))
}

#[cfg(windows)]
fn own_cache_dir() -> Option<PathBuf> {
    None
}

/// A default cache below `HOME` is only ours to use when `HOME` is ours.
#[cfg(unix)]
fn in_a_home_of_ours(dir: &Path) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let Some(home) = dirs::home_dir() else {
        return Ok(());
    };
    if !dir.starts_with(&home) {
        return Ok(());
    }
    let owner = fs::metadata(&home).map(|m| m.uid()).unwrap_or(u32::MAX);
    let me = crate::util::unix::euid();
    if owner != me {
        bail!(
            "home directory {} belongs to uid {owner}, not to us (uid {me})",
            home.display()
        );
    }
    Ok(())
}

#[cfg(windows)]
fn in_a_home_of_ours(_dir: &Path) -> Result<()> {
    Ok(())
}

/// Whether `dir` may be created (or used) by us: its nearest existing ancestor belongs to us or
/// to root. A directory we created inside another user's tree would be ours there, in their way.
#[cfg(unix)]
fn may_create(dir: &Path) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let me = crate::util::unix::euid();
    for ancestor in dir.ancestors() {
        let Ok(meta) = fs::symlink_metadata(ancestor) else {
            continue;
        };
        let owner = meta.uid();
        if owner == me || owner == 0 {
            return Ok(());
        }
        bail!(
            "cannot create cache directory {}: {} belongs to uid {owner}, not to us (uid {me})",
            dir.display(),
            ancestor.display()
        );
    }
    Ok(())
}

#[cfg(windows)]
fn may_create(_dir: &Path) -> Result<()> {
    Ok(())
}

/// A private per-user directory under the system's temporary directory, for when the cache
/// cannot be written (a read-only home, a full disk). Reused from run to run: a fresh directory
/// each time would leave a whole cache behind per run.
pub fn fallback_dir() -> Result<PathBuf> {
    let tmp = std::env::temp_dir();
    let stable = tmp.join(fallback_name());
    if ensure_private(&stable).is_ok() {
        return Ok(stable);
    }
    // Someone else holds the stable name: one of ours with a random suffix, made by an earlier
    // run, else a new one (a random name cannot be squatted in advance).
    // Not `<stable name>-...`: a different name, nothing that reads as inside the squatted one.
    let prefix = format!(
        "{}-",
        fallback_name().replacen("trustrun", "trustrun-private", 1)
    );
    if let Ok(entries) = fs::read_dir(&tmp) {
        let mut ours: Vec<PathBuf> = entries
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
            .map(|e| e.path())
            .collect();
        ours.sort();
        if let Some(dir) = ours.into_iter().find(|d| is_private(d)) {
            return Ok(dir);
        }
    }
    let fresh = tempfile::Builder::new()
        .prefix(&prefix)
        .tempdir()
        .context("cannot create a temporary directory")?
        .keep();
    crate::util::fs::set_mode(&fresh, 0o700)?;
    ensure_private(&fresh)?;
    Ok(fresh)
}

/// An existing directory that passes `ensure_private` without being created or repaired.
fn is_private(dir: &Path) -> bool {
    fs::symlink_metadata(dir).is_ok_and(|m| m.is_dir()) && ensure_private(dir).is_ok()
}

#[cfg(unix)]
fn fallback_name() -> String {
    format!("trustrun-{}", crate::util::unix::euid())
}

#[cfg(windows)]
fn fallback_name() -> String {
    // %TEMP% is already inside the user's profile.
    "trustrun".to_owned()
}

/// Creates `dir` (mode 0700) if needed and checks that only we can write it.
#[cfg(unix)]
pub fn ensure_private(dir: &Path) -> Result<()> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt};

    let meta = match fs::symlink_metadata(dir) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .with_context(|| format!("cannot create cache directory {}", dir.display()))?;
            // The mode given to mkdir is masked by the umask: set it outright.
            crate::util::fs::set_mode(dir, 0o700)?;
            fs::symlink_metadata(dir)
                .with_context(|| format!("cannot read cache directory {}", dir.display()))?
        }
        Err(e) => {
            return Err(e)
                .with_context(|| format!("cannot read cache directory {}", dir.display()));
        }
    };
    let me = crate::util::unix::euid();
    // A link planted by someone else (in /tmp, say) could be pointed elsewhere at any time; a
    // link of our own (a cache moved to another disk) is followed.
    let meta = if meta.file_type().is_symlink() {
        if meta.uid() != me {
            bail!(
                "cache directory {} is a symbolic link owned by uid {}, not by us; refusing to use it",
                dir.display(),
                meta.uid()
            );
        }
        fs::metadata(dir)
            .with_context(|| format!("cannot read cache directory {}", dir.display()))?
    } else {
        meta
    };
    if !meta.is_dir() {
        bail!("cache directory {} is not a directory", dir.display());
    }
    if meta.uid() != me {
        bail!(
            "cache directory {} belongs to uid {}, not to us (uid {me}); refusing to use it",
            dir.display(),
            meta.uid()
        );
    }
    // Not repaired: this may be a directory somebody else relies on (TRUSTRUN_CACHE_DIR=/tmp).
    if meta.mode() & 0o022 != 0 {
        bail!(
            "cache directory {} is writable by other users (mode {:o}); run: chmod 700 {}",
            dir.display(),
            meta.mode() & 0o777,
            dir.display()
        );
    }
    Ok(())
}

#[cfg(windows)]
pub fn ensure_private(dir: &Path) -> Result<()> {
    // Directories under the user's profile inherit an ACL that admits only the user, SYSTEM and
    // administrators.
    fs::create_dir_all(dir)
        .with_context(|| format!("cannot create cache directory {}", dir.display()))?;
    if !fs::metadata(dir)?.is_dir() {
        bail!("cache directory {} is not a directory", dir.display());
    }
    Ok(())
}

/// The subdirectory `name` of the cache at `root` (checked by `ensure_private`), created 0700 and
/// checked on every use: ours, a real directory, writable by nobody else. One an older trustrun
/// made under a permissive umask is repaired (its files are verified before use anyway).
#[cfg(unix)]
pub fn private_subdir(root: &Path, name: &str) -> Result<PathBuf> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt};

    let dir = root.join(name);
    let meta = match fs::symlink_metadata(&dir) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            match fs::DirBuilder::new().mode(0o700).create(&dir) {
                Ok(()) => {}
                // Another trustrun made it meanwhile: checked below like any existing one.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => {
                    return Err(e).with_context(|| format!("cannot create {}", dir.display()));
                }
            }
            crate::util::fs::set_mode(&dir, 0o700)?;
            fs::symlink_metadata(&dir).with_context(|| format!("cannot read {}", dir.display()))?
        }
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", dir.display())),
    };
    if !meta.is_dir() {
        bail!("{} is not a directory", dir.display());
    }
    let me = crate::util::unix::euid();
    if meta.uid() != me {
        bail!(
            "{} belongs to uid {}, not to us (uid {me}); refusing to use it",
            dir.display(),
            meta.uid()
        );
    }
    if meta.mode() & 0o077 != 0 {
        crate::util::fs::set_mode(&dir, 0o700)?;
    }
    Ok(dir)
}

#[cfg(windows)]
pub fn private_subdir(root: &Path, name: &str) -> Result<PathBuf> {
    let dir = root.join(name);
    fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    if !fs::symlink_metadata(&dir)?.is_dir() {
        bail!("{} is not a directory", dir.display());
    }
    Ok(dir)
}
