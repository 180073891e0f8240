//! Same-file identity, written once (util): whether two paths (links followed) are one file. The
//! locate stage asks it to skip trustrun itself on PATH, shims to recognise their own links,
//! `bundle --output` to refuse copying the bundle onto itself. And a file's `Stamp`: whether it is
//! still as written, from one `stat` (the cache's index entries record one).

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
    #[cfg(unix)]
    pub fn current_exe() -> Option<FileId> {
        Some(FileId::of_metadata(crate::util::exe::metadata()?))
    }

    #[cfg(windows)]
    pub fn current_exe() -> Option<FileId> {
        FileId::of(crate::util::exe::path()?)
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

/// What a file looked like when we wrote or last verified it: size, modification time, and on
/// Unix the change time and inode, which no edit, truncation or replacement leaves as they were
/// (setting ctime back takes root or the clock). Comparing it costs one `stat`, where hashing a
/// 300 KB bundle on every start would cost a read and a SHA-256.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamp {
    len: u64,
    mtime_ns: u128,
    ctime_ns: i128,
    ino: u64,
}

impl Stamp {
    pub fn of(meta: &fs::Metadata) -> Stamp {
        let mtime_ns = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        #[cfg(unix)]
        let (ctime_ns, ino) = {
            use std::os::unix::fs::MetadataExt;
            (
                i128::from(meta.ctime()) * 1_000_000_000 + i128::from(meta.ctime_nsec()),
                meta.ino(),
            )
        };
        #[cfg(windows)]
        let (ctime_ns, ino) = (0, 0);
        Stamp {
            len: meta.len(),
            mtime_ns,
            ctime_ns,
            ino,
        }
    }

    /// `state` (FNV-1a, `util::digest`) continued with the stamp's numbers, for a key that
    /// must change when the file does.
    #[cfg(unix)]
    pub fn mix_into(self, state: u64) -> u64 {
        let mut h = crate::util::digest::fnv1a64(state, &self.len.to_le_bytes());
        h = crate::util::digest::fnv1a64(h, &self.mtime_ns.to_le_bytes());
        h = crate::util::digest::fnv1a64(h, &self.ctime_ns.to_le_bytes());
        crate::util::digest::fnv1a64(h, &self.ino.to_le_bytes())
    }

    /// Four numbers separated by spaces, for an index entry.
    pub fn to_text(self) -> String {
        format!(
            "{} {} {} {}",
            self.len, self.mtime_ns, self.ctime_ns, self.ino
        )
    }

    pub fn parse(text: &str) -> Option<Stamp> {
        let mut parts = text.split_ascii_whitespace();
        let stamp = Stamp {
            len: parts.next()?.parse().ok()?,
            mtime_ns: parts.next()?.parse().ok()?,
            ctime_ns: parts.next()?.parse().ok()?,
            ino: parts.next()?.parse().ok()?,
        };
        parts.next().is_none().then_some(stamp)
    }
}
