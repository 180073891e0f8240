//! Reading a file a user named (a CA file, the config) without trusting what it is (util, for the
//! settings and sources stages): a FIFO with no writer, `/dev/zero` or a runaway log file must not
//! hang trustrun or fill its memory in front of every program it starts. Only regular files are
//! read, never more than a limit.

use std::fmt;
use std::fs;
use std::io::{self, Read};
use std::path::Path;

/// Larger than any real CA bundle (Mozilla's is about 0.2 MB, big corporate ones a few MB).
pub const CA_FILE_LIMIT: u64 = 16 << 20;
/// A config file is a handful of lines.
pub const CONFIG_LIMIT: u64 = 1 << 20;

#[derive(Debug)]
pub enum ReadError {
    NotFound,
    /// A directory, FIFO, device or socket: what it is, in words.
    NotRegular(&'static str),
    TooLarge(u64),
    Io(io::Error),
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::NotFound => f.write_str("no such file or directory"),
            ReadError::NotRegular(what) => write!(f, "not a regular file ({what})"),
            ReadError::TooLarge(limit) => write!(f, "larger than {} MB", limit >> 20),
            ReadError::Io(e) => write!(f, "cannot read: {e}"),
        }
    }
}

/// The whole content of the regular file at `path`, if it is at most `limit` bytes.
pub fn read(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    // A stat first: opening a FIFO with no writer would block, and Windows cannot open directories.
    check(&fs::metadata(path).map_err(io_error)?, limit)?;
    let file = open(path).map_err(io_error)?;
    // Checked again on what was opened: the path may have been replaced in between.
    let meta = file.metadata().map_err(io_error)?;
    check(&meta, limit)?;
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(io_error)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge(limit));
    }
    Ok(bytes)
}

fn io_error(e: io::Error) -> ReadError {
    if e.kind() == io::ErrorKind::NotFound {
        ReadError::NotFound
    } else {
        ReadError::Io(e)
    }
}

fn check(meta: &fs::Metadata, limit: u64) -> Result<(), ReadError> {
    if !meta.is_file() {
        return Err(ReadError::NotRegular(kind(meta)));
    }
    if meta.len() > limit {
        return Err(ReadError::TooLarge(limit));
    }
    Ok(())
}

/// Non-blocking, so that a FIFO swapped in after the stat still cannot hang us.
#[cfg(unix)]
fn open(path: &Path) -> io::Result<fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
}

#[cfg(windows)]
fn open(path: &Path) -> io::Result<fs::File> {
    fs::File::open(path)
}

#[cfg(unix)]
fn kind(meta: &fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "a special file"
    }
}

#[cfg(windows)]
fn kind(meta: &fs::Metadata) -> &'static str {
    if meta.is_dir() {
        "a directory"
    } else {
        "a special file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regular_files_within_the_limit_only() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        fs::write(&file, b"12345").unwrap();
        assert_eq!(read(&file, 5).unwrap(), b"12345");
        assert!(matches!(read(&file, 4), Err(ReadError::TooLarge(4))));
        assert!(matches!(
            read(dir.path(), 5),
            Err(ReadError::NotRegular("a directory"))
        ));
        assert!(matches!(
            read(&dir.path().join("none"), 5),
            Err(ReadError::NotFound)
        ));
    }

    #[cfg(unix)]
    #[test]
    fn devices_are_refused_before_reading() {
        assert!(matches!(
            read(Path::new("/dev/zero"), 5),
            Err(ReadError::NotRegular("a character device"))
        ));
    }
}
