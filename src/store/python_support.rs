//! The python support directory (bundle stage): the directory trustrun puts first on the child's
//! `PYTHONPATH`, holding our `sitecustomize.py`.
//!
//! Its files run in every Python the user starts, so each run checks they are what we wrote, the
//! way the bundle is checked: the marker file records each file's stamp (`util::file_id::Stamp`)
//! when it was written or last verified, and the warm path compares them (one `stat` a file)
//! instead of reading the files. A file whose stamp changed is read and compared with the
//! embedded text, rewritten if it differs, and stamped again.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::store::cache_dir;
use crate::util::digest::{FNV_START, fnv1a64, hex_name};
use crate::util::file_id::Stamp;

/// The sources live in `shims/python/` so they can be read, linted and tested as Python.
pub const SITECUSTOMIZE: &str = include_str!("../../shims/python/sitecustomize.py");
/// What only some processes need (truststore, the strict-X.509 relaxation, bytecode caching),
/// kept out of the file every Python start-up reads.
pub const SUPPORT: &str = include_str!("../../shims/python/_trustrun_support.py");

/// A file in every python support directory; our sitecustomize skips directories holding it when
/// it looks for the next sitecustomize to chain to, and `trustrun` drops them from `PYTHONPATH`.
/// Its first line says what the directory is; the next ones are the stamps of `FILES`.
pub const MARKER: &str = ".trustrun-python";
const MARKER_LINE: &str = "trustrun python support directory\n";

/// The files we write, each checked against its stamp on every run. sitecustomize.py is
/// written after the module it imports.
const FILES: [(&str, &str); 2] = [
    ("_trustrun_support.py", SUPPORT),
    ("sitecustomize.py", SITECUSTOMIZE),
];

const NAME_BYTES: [u8; super::layout::PYTHON_PREFIX.len() + 12] = hex_name(
    super::layout::PYTHON_PREFIX,
    fnv1a64(
        fnv1a64(FNV_START, SITECUSTOMIZE.as_bytes()),
        SUPPORT.as_bytes(),
    ),
);

/// The support directory's name: `python-` and 12 hex digits of a hash of the files, computed
/// by the compiler, so a new trustrun never changes a file an older one's children still read.
pub const DIR_NAME: &str = match std::str::from_utf8(&NAME_BYTES) {
    Ok(name) => name,
    Err(_) => panic!("hex_name writes ASCII"),
};

/// The support directory's name (see `DIR_NAME`).
pub fn dir_name() -> String {
    DIR_NAME.to_owned()
}

/// The support directory in the cache at `root`, written when missing and rewritten when a file
/// in it is not what we wrote (an edit, a truncation, a replacement): it runs in every Python the
/// user starts. On the warm path: the marker read, one `stat` a file.
pub fn ensure(root: &Path) -> Result<PathBuf> {
    let dir = cache_dir::private_subdir(root, DIR_NAME)
        .context("cannot write the python support directory")?;
    // Python would create __pycache__ with the umask's mode; made by us it is private.
    cache_dir::private_subdir(&dir, "__pycache__")
        .context("cannot write the python support directory")?;
    let marker = dir.join(MARKER);
    if crate::util::fs::read_small(&marker, 4096)
        .is_ok_and(|(text, _)| stamps_hold(&dir, &String::from_utf8_lossy(&text)))
    {
        return Ok(dir);
    }
    let mut record = String::from(MARKER_LINE);
    for (name, text) in FILES {
        let path = dir.join(name);
        if !std::fs::read(&path).is_ok_and(|have| have == text.as_bytes()) {
            crate::util::fs::write_atomic(&path, text.as_bytes())
                .context("cannot write the python support directory")?;
        }
        let meta = std::fs::metadata(&path).context("cannot write the python support directory")?;
        record.push_str(&format!("{name} {}\n", Stamp::of(&meta).to_text()));
    }
    // Last: a marker with stamps vouches for files that are complete.
    crate::util::fs::write_atomic(&marker, record.as_bytes())
        .context("cannot write the python support directory")?;
    Ok(dir)
}

/// Whether the marker's text records a stamp for every file and each file still has it.
fn stamps_hold(dir: &Path, marker: &str) -> bool {
    let mut lines = marker.lines();
    if lines.next() != Some(MARKER_LINE.trim_end()) {
        return false;
    }
    let recorded: Vec<(&str, Option<Stamp>)> = lines
        .filter_map(|l| l.split_once(' '))
        .map(|(name, stamp)| (name, Stamp::parse(stamp)))
        .collect();
    FILES.iter().all(|(name, _)| {
        recorded.iter().any(|(n, stamp)| {
            n == name
                && stamp.is_some()
                && std::fs::metadata(dir.join(name)).is_ok_and(|m| Some(Stamp::of(&m)) == *stamp)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_name_follows_the_files() {
        assert!(DIR_NAME.starts_with(super::super::layout::PYTHON_PREFIX));
        assert_eq!(
            DIR_NAME.len(),
            super::super::layout::PYTHON_PREFIX.len() + 12
        );
        let other = fnv1a64(fnv1a64(FNV_START, b"x"), SUPPORT.as_bytes());
        assert_ne!(&hex_name::<19>("python-", other), &NAME_BYTES);
    }

    #[test]
    fn an_edit_that_keeps_the_size_is_caught_and_undone() {
        let root = tempfile::tempdir().unwrap();
        #[cfg(unix)]
        crate::util::fs::set_mode(root.path(), 0o700).unwrap();
        let dir = ensure(root.path()).unwrap();
        let site = dir.join("sitecustomize.py");
        let same_size = "#".repeat(SITECUSTOMIZE.len());
        std::fs::write(&site, &same_size).unwrap();
        ensure(root.path()).unwrap();
        assert_eq!(std::fs::read_to_string(&site).unwrap(), SITECUSTOMIZE);
        // The marker was restamped: the next run finds it in place without a read.
        let marker = std::fs::read_to_string(dir.join(MARKER)).unwrap();
        assert!(stamps_hold(&dir, &marker));
    }
}
