//! The per-user cache directory that holds bundles and the python support directory.
//!
//! Everything in it ends up trusted or executed: a bundle another user can write decides what
//! TLS trusts, and a `sitecustomize.py` another user can write runs in every Python the victim
//! starts. So the directory is private (0700 on Unix), owned by us, and checked before each use.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::vars;

/// Where the cache should be: `TRUSTRUN_CACHE_DIR`, else the platform's per-user cache directory.
pub fn preferred_dir() -> Result<PathBuf> {
    if let Some(dir) = vars::non_empty(vars::TRUSTRUN_CACHE_DIR) {
        return Ok(PathBuf::from(dir));
    }
    dirs::cache_dir()
        .map(|d| d.join("trustrun"))
        .context("no per-user cache directory is known here (set TRUSTRUN_CACHE_DIR)")
}

/// A private per-user directory under the system's temporary directory, for when the cache
/// cannot be written (a read-only home, a full disk).
pub fn fallback_dir() -> Result<PathBuf> {
    let stable = std::env::temp_dir().join(fallback_name());
    if ensure_private(&stable).is_ok() {
        return Ok(stable);
    }
    // Someone else holds the stable name: a fresh random directory cannot be squatted.
    let fresh = tempfile::Builder::new()
        .prefix("trustrun-")
        .tempdir()
        .context("cannot create a temporary directory")?
        .keep();
    ensure_private(&fresh)?;
    Ok(fresh)
}

#[cfg(unix)]
fn fallback_name() -> String {
    format!("trustrun-{}", unsafe { libc::geteuid() })
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
            fs::symlink_metadata(dir)
                .with_context(|| format!("cannot read cache directory {}", dir.display()))?
        }
        Err(e) => {
            return Err(e)
                .with_context(|| format!("cannot read cache directory {}", dir.display()));
        }
    };
    let me = unsafe { libc::geteuid() };
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

/// Writes `contents` to `path` atomically: readers see the old file, no file, or the whole new one.
/// A concurrent writer of the same content-addressed path may win the race; that is success too.
pub fn write_atomic(path: &Path, contents: &[u8]) -> Result<()> {
    use std::io::Write;

    let dir = path
        .parent()
        .context("a cache file has no parent directory")?;
    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".tmp-")
        .tempfile_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    tmp.write_all(contents)
        .and_then(|_| tmp.as_file().sync_all())
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    match tmp.persist(path) {
        Ok(_) => Ok(()),
        // Windows refuses to replace a file another process has open; ours is identical.
        Err(_) if fs::read(path).is_ok_and(|existing| existing == contents) => Ok(()),
        Err(e) => Err(e.error).with_context(|| format!("cannot write {}", path.display())),
    }
}
