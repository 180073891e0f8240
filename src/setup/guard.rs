//! What `trustrun setup` (beside the pipeline) checks before it writes anything: that the home is
//! the user's own (not another user's kept by `sudo -E`), and that the stable path the profiles
//! will name for good cannot be taken over by another user later.

use std::path::Path;

use anyhow::Result;

/// The home setup writes into belongs to us: under `sudo -E` (HOME kept) every profile would
/// become root's and point at root's cache, which the user cannot read.
#[cfg(unix)]
pub fn home_is_ours(home: &Path) -> Result<()> {
    use anyhow::Context;
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(home)
        .with_context(|| format!("cannot read the home directory {}", home.display()))?;
    let me = crate::util::unix::euid();
    if meta.uid() != me {
        anyhow::bail!(
            "the home directory {} belongs to uid {}, not to us (uid {me}): run `trustrun setup` as that user (under sudo, not with -E)",
            home.display(),
            meta.uid()
        );
    }
    Ok(())
}

#[cfg(windows)]
pub fn home_is_ours(_home: &Path) -> Result<()> {
    Ok(())
}

/// Refuses a cache `root` whose stable file the profiles cannot name for good: a directory above
/// it that another user can write (a sticky `/tmp` included) or that belongs to another user.
/// Once `root` is gone (a reboot, a cleanup of `/tmp`) that user could make it again with
/// roots of their own, and every new shell would trust them. (`root` itself is checked by
/// `cache_dir::ensure_private`.)
#[cfg(unix)]
pub fn stable_path_is_safe(root: &Path) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let me = crate::util::unix::euid();
    let mut above: Vec<&Path> = root.ancestors().skip(1).collect();
    // The directories the path leads through when it holds a symbolic link, too.
    let real = std::fs::canonicalize(root).ok();
    if let Some(real) = &real {
        above.extend(real.ancestors().skip(1));
    }
    for dir in above {
        // Not there yet: setup makes it, private.
        let Ok(meta) = std::fs::metadata(dir) else {
            continue;
        };
        let mode = meta.mode() & 0o7777;
        let who = if meta.uid() != me && meta.uid() != 0 {
            format!("belongs to uid {}", meta.uid())
        } else if mode & 0o022 != 0 {
            format!("can be written by other users (mode {mode:o})")
        } else {
            continue;
        };
        anyhow::bail!(
            "{} cannot be named in your shell profiles: {} {who}, so once {} is gone another user could create it with their own roots; use a cache only you can write (unset TRUSTRUN_CACHE_DIR for ~/.cache/trustrun, or set it to a directory in your home)",
            crate::store::stable::path(root).display(),
            dir.display(),
            root.display()
        );
    }
    Ok(())
}

#[cfg(windows)]
pub fn stable_path_is_safe(_root: &Path) -> Result<()> {
    // The cache is under the user's profile, whose ACL admits only the user and administrators.
    Ok(())
}
