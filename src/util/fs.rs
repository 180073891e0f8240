//! Files and directories written with explicit permissions (util): whole-file replacement that
//! readers never see half-done, permission bits set outright whatever the umask, directories
//! made with a given mode. The cache, the user-environment record, the shim manifest, the config
//! template and the containers' files are all written through here.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result};

/// How the temporary file of a write in progress is named: cleanups that find one an
/// interrupted write left behind know it by this.
pub const TEMP_PREFIX: &str = ".tmp-";

/// Writes `contents` to `path` atomically (mode 0600): readers see the old file, no file, or the
/// whole new one. A concurrent writer of the same content-addressed path may win the race; that
/// is success too. Missing directories above it are made 0700.
pub fn write_atomic(path: &Path, contents: &[u8]) -> Result<()> {
    write_atomic_mode(path, contents, 0o600)
}

/// `write_atomic` with the file's mode given: set on the open file before it gets its name, so
/// the name never shows a file with the umask's mode.
pub fn write_atomic_mode(path: &Path, contents: &[u8], mode: u32) -> Result<()> {
    use std::io::Write;

    let dir = path
        .parent()
        .with_context(|| format!("{} has no parent directory", path.display()))?;
    create_dirs(dir, 0o700)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .tempfile_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(fs::Permissions::from_mode(mode))
            .with_context(|| format!("cannot write in {}", dir.display()))?;
    }
    #[cfg(windows)]
    let _ = mode;
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

/// A small file of ours read whole in four calls (open, fstat, one read, close) with its
/// metadata, for the warm path: `fs::read` adds a seek and a read to find the end. Our files are
/// replaced by rename, never written in place, so the size the open file shows is what one read
/// returns; anything past `limit` bytes is not a file of ours and is refused.
pub fn read_small(path: &Path, limit: u64) -> std::io::Result<(Vec<u8>, fs::Metadata)> {
    use std::io::Read;
    let mut file = fs::File::open(path)?;
    let meta = file.metadata()?;
    if meta.len() > limit {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("{} is larger than {limit} bytes", path.display()),
        ));
    }
    let mut bytes = vec![0; meta.len() as usize];
    file.read_exact(&mut bytes)?;
    Ok((bytes, meta))
}

/// Sets `path`'s permission bits outright, whatever the umask.
#[cfg(unix)]
pub fn set_mode(path: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .with_context(|| format!("cannot set the mode of {}", path.display()))
}

/// Windows files take their directory's ACL; there is no mode to set.
#[cfg(windows)]
pub fn set_mode(_path: &Path, _mode: u32) -> Result<()> {
    Ok(())
}

/// Whether a file's permission bits are exactly `mode`.
#[cfg(unix)]
pub fn has_mode(meta: &fs::Metadata, mode: u32) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o7777 == mode
}

/// Windows files take their directory's ACL; there is no mode to compare.
#[cfg(windows)]
pub fn has_mode(_meta: &fs::Metadata, _mode: u32) -> bool {
    true
}

/// A builder for directories of `mode` (the umask can only narrow it).
#[cfg(unix)]
pub fn dir_builder(mode: u32) -> fs::DirBuilder {
    use std::os::unix::fs::DirBuilderExt;
    let mut builder = fs::DirBuilder::new();
    builder.mode(mode);
    builder
}

/// Windows directories take their parent's ACL; there is no mode to give.
#[cfg(windows)]
pub fn dir_builder(_mode: u32) -> fs::DirBuilder {
    fs::DirBuilder::new()
}

/// Creates `dir` and any missing parents with `mode` (the umask can only narrow it): 0700 for
/// directories of ours, 0755 for directories on PATH or read by the user's shells, never one
/// another user can write.
pub fn create_dirs(dir: &Path, mode: u32) -> Result<()> {
    dir_builder(mode)
        .recursive(true)
        .create(dir)
        .with_context(|| format!("cannot create {}", dir.display()))
}
