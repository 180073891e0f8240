//! The bundle as containers get it: `<cache>/containers/ca-bundle.pem`, world-readable (0644),
//! replaced atomically and never removed, so a container created today and started next week
//! still finds it, whatever user it runs as.
//!
//! INTERIM: the cache is to own one stable, world-readable bundle file; until then this module
//! writes its own. At merge, `stable_bundle_copy` should return the cache's file instead.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// Copies `bundle` (0600 in the private cache) to the stable file under `root` when its content
/// differs, and returns the stable file's path. The cache directory itself is never loosened: the
/// engine's daemon reads the file as root (or as the user, rootless) when it binds it.
pub fn stable_bundle_copy(root: &Path, bundle: &Path) -> Result<PathBuf> {
    let dir = root.join("containers");
    let stable = dir.join("ca-bundle.pem");
    let content = fs::read(bundle).with_context(|| format!("cannot read {}", bundle.display()))?;
    if fs::read(&stable).is_ok_and(|old| old == content) && is_world_readable(&stable) {
        return Ok(stable);
    }
    fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let tmp = tempfile::Builder::new()
        .prefix(".tmp-")
        .tempfile_in(&dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    fs::write(tmp.path(), &content)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    make_world_readable(tmp.path())?;
    tmp.persist(&stable)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot write {}", stable.display()))?;
    Ok(stable)
}

#[cfg(unix)]
fn is_world_readable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o777 == 0o644)
}

#[cfg(windows)]
fn is_world_readable(_path: &Path) -> bool {
    // The engine (Docker Desktop) reads host files as the user; there is no mode to check.
    true
}

#[cfg(unix)]
fn make_world_readable(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(0o644))
        .with_context(|| format!("cannot make {} readable", path.display()))
}

#[cfg(windows)]
fn make_world_readable(_path: &Path) -> Result<()> {
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn the_copy_is_0644_and_follows_the_bundle() {
        let root = tempfile::tempdir().unwrap();
        let bundle = root.path().join("b.pem");
        fs::write(&bundle, "one").unwrap();
        fs::set_permissions(&bundle, fs::Permissions::from_mode(0o600)).unwrap();
        let stable = stable_bundle_copy(root.path(), &bundle).unwrap();
        assert_eq!(stable, root.path().join("containers/ca-bundle.pem"));
        assert_eq!(fs::read_to_string(&stable).unwrap(), "one");
        let mode = fs::metadata(&stable).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o644);
        assert_eq!(
            fs::metadata(&bundle).unwrap().permissions().mode() & 0o777,
            0o600,
            "the cache's own bundle is never loosened"
        );
        fs::write(&bundle, "two").unwrap();
        stable_bundle_copy(root.path(), &bundle).unwrap();
        assert_eq!(fs::read_to_string(&stable).unwrap(), "two");
    }
}
