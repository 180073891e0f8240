//! Same-file identity, written once: whether two paths (links followed) are one file. The locate
//! stage asks it to skip trustrun itself on PATH, shims to recognise their own links, `bundle
//! --output` to refuse copying the bundle onto itself.

use std::fs;
use std::path::Path;

/// A file's identity: device and inode on Unix, the volume serial and file index behind an open
/// handle on Windows (which is how Windows tells hardlinks apart from copies).
#[derive(Debug, PartialEq, Eq)]
pub struct FileId {
    #[cfg(unix)]
    id: (u64, u64),
    #[cfg(windows)]
    handle: same_file::Handle,
}

impl FileId {
    /// The identity of the file at `path`, links followed.
    #[cfg(unix)]
    pub fn of(path: &Path) -> Option<FileId> {
        Some(FileId::of_metadata(&fs::metadata(path).ok()?))
    }

    #[cfg(windows)]
    pub fn of(path: &Path) -> Option<FileId> {
        Some(FileId {
            handle: same_file::Handle::from_path(path).ok()?,
        })
    }

    /// The identity from metadata already read (links followed), which costs no more calls.
    #[cfg(unix)]
    pub fn of_metadata(meta: &fs::Metadata) -> FileId {
        use std::os::unix::fs::MetadataExt;
        FileId {
            id: (meta.dev(), meta.ino()),
        }
    }

    /// The running trustrun binary.
    pub fn current_exe() -> Option<FileId> {
        FileId::of(&std::env::current_exe().ok()?)
    }

    /// Whether `path`, whose metadata (links followed) is `meta`, is this file.
    #[cfg(unix)]
    pub fn is(&self, _path: &Path, meta: &fs::Metadata) -> bool {
        *self == FileId::of_metadata(meta)
    }

    #[cfg(windows)]
    pub fn is(&self, path: &Path, _meta: &fs::Metadata) -> bool {
        FileId::of(path).is_some_and(|other| other == *self)
    }
}

/// Whether two paths name the same file (links followed); a path that cannot be looked at is
/// no file at all.
pub fn same_file(a: &Path, b: &Path) -> bool {
    match (FileId::of(a), FileId::of(b)) {
        (Some(x), Some(y)) => x == y,
        _ => false,
    }
}
