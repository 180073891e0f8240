//! The stable bundle file: `<cache>/current.pem`, a world-readable copy (mode 0644) of the
//! newest bundle trustrun built or found, at a path that never changes.
//!
//! The content-addressed bundles (`bundles/<hash>.pem`, 0600) change name when the trust
//! changes; what keeps a path for long (a container created today and started next week, a
//! profile written by setup) needs one that does not. This file is:
//! - replaced atomically (a temporary file renamed over it): a reader sees the old bundle or the
//!   new one, never an empty or partial file;
//! - never empty: it is only written from a verified, non-empty bundle;
//! - never removed by cleanup;
//! - refreshed whenever trustrun prepares a bundle, checked on the warm path with one small read
//!   and one `stat` (`current.source` records which bundle it copies and what it looked like).
//!
//! Why 0644 inside a 0700 cache: the cache root keeps other users from reaching anything in it
//! on this host. A container engine bind-mounts the file as root (docker) or as the user
//! (rootless engines), so the directories above it need no opening; inside the container only the
//! file's own mode counts, and the container's user is often another uid. The file holds public
//! certificates only, so being readable by all is no disclosure. (On Windows the profile's ACL
//! applies; modes do not exist there.)
//!
//! API for the commands that hand a bundle on: `prepare::stable_bundle(&TrustOptions)`, or
//! `Prepared::stable_bundle` after `prepare::prepare`; `refresh(root, bundle)` below is what both use.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::cache::{self, Stamp};

/// The stable file's name in the cache root.
pub const FILE_NAME: &str = crate::cache_layout::CURRENT;
/// Which bundle the stable file copies, and its stamp when written.
const SOURCE_NAME: &str = "current.source";
/// The stable file's mode: readable by every user and container.
pub const MODE: u32 = 0o644;

/// The stable file of the cache at `root` (which may not exist yet).
pub fn path(root: &Path) -> PathBuf {
    root.join(FILE_NAME)
}

/// Makes the stable file of the cache at `root` a copy of `bundle` (a bundle of that cache) and
/// returns its path. Cheap when it already is.
pub fn refresh(root: &Path, bundle: &Path) -> Result<PathBuf> {
    let stable = path(root);
    let source = root.join(SOURCE_NAME);
    let name = bundle
        .file_name()
        .context("the bundle has no file name")?
        .to_string_lossy()
        .into_owned();
    if up_to_date(&stable, &source, &name) {
        return Ok(stable);
    }
    let text = fs::read(bundle).with_context(|| format!("cannot read {}", bundle.display()))?;
    if text.is_empty() {
        bail!(
            "{} is empty; {} left as it is",
            bundle.display(),
            stable.display()
        );
    }
    cache::write_atomic_mode(&stable, &text, MODE)
        .with_context(|| format!("cannot write {}", stable.display()))?;
    let meta =
        fs::metadata(&stable).with_context(|| format!("cannot read {}", stable.display()))?;
    cache::write_atomic(
        &source,
        format!("{name} {}\n", Stamp::of(&meta).to_text()).as_bytes(),
    )
    .with_context(|| format!("cannot write {}", source.display()))?;
    Ok(stable)
}

/// Whether the stable file copies the bundle `name` and is as it was written (mode included).
fn up_to_date(stable: &Path, source: &Path, name: &str) -> bool {
    let Ok(text) = fs::read_to_string(source) else {
        return false;
    };
    let Some((recorded_name, stamp)) = text.trim().split_once(' ') else {
        return false;
    };
    let Ok(meta) = fs::metadata(stable) else {
        return false;
    };
    recorded_name == name
        && Stamp::parse(stamp) == Some(Stamp::of(&meta))
        && meta.len() > 0
        && has_mode(&meta)
}

#[cfg(unix)]
fn has_mode(meta: &fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o7777 == MODE
}

#[cfg(windows)]
fn has_mode(_meta: &fs::Metadata) -> bool {
    true
}
