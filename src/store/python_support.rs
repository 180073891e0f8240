//! The python support directory (bundle stage): the directory trustrun puts first on the child's
//! `PYTHONPATH`, holding our `sitecustomize.py`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};

use crate::store::cache_dir;
use crate::util::digest::hex;

/// The sources live in `shims/python/` so they can be read, linted and tested as Python.
pub const SITECUSTOMIZE: &str = include_str!("../../shims/python/sitecustomize.py");
/// What only some processes need (truststore, the strict-X.509 relaxation, bytecode caching),
/// kept out of the file every Python start-up reads.
pub const SUPPORT: &str = include_str!("../../shims/python/_trustrun_support.py");

/// A file in every python support directory; our sitecustomize skips directories holding it when
/// it looks for the next sitecustomize to chain to, and `trustrun` drops them from `PYTHONPATH`.
pub const MARKER: &str = ".trustrun-python";

/// The support directory's name: it carries a hash of the content, so a new trustrun never
/// changes a file an older one's children still read.
pub fn dir_name() -> String {
    let mut hasher = Sha256::new();
    hasher.update(SITECUSTOMIZE.as_bytes());
    hasher.update(SUPPORT.as_bytes());
    format!(
        "{}{}",
        super::layout::PYTHON_PREFIX,
        hex(&hasher.finalize()[..6])
    )
}

/// The support directory in the cache at `root`, written when missing and rewritten when a file
/// in it is not what we wrote (an edit, a truncation): it runs in every Python the user starts.
/// Comparing the two small files with the embedded text costs two reads on the warm path.
pub fn ensure(root: &Path) -> Result<PathBuf> {
    let dir = cache_dir::private_subdir(root, &dir_name())
        .context("cannot write the python support directory")?;
    // Python would create __pycache__ with the umask's mode; made by us it is private.
    cache_dir::private_subdir(&dir, "__pycache__")
        .context("cannot write the python support directory")?;
    for (name, text) in [
        (MARKER, "trustrun python support directory\n"),
        ("_trustrun_support.py", SUPPORT),
        // sitecustomize.py last: its presence means the directory is complete.
        ("sitecustomize.py", SITECUSTOMIZE),
    ] {
        let path = dir.join(name);
        if std::fs::read(&path).is_ok_and(|have| have == text.as_bytes()) {
            continue;
        }
        crate::util::fs::write_atomic(&path, text.as_bytes())
            .context("cannot write the python support directory")?;
    }
    Ok(dir)
}
