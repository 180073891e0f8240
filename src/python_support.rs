//! The directory trustrun puts first on the child's `PYTHONPATH`: our `sitecustomize.py`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};

use crate::cache;
use crate::sources::hex;

/// The source lives in `shims/` so it can be read, linted and tested as Python.
pub const SITECUSTOMIZE: &str = include_str!("../shims/sitecustomize.py");

/// A file in every python support directory; our sitecustomize skips directories holding it when
/// it looks for the next sitecustomize to chain to, and `trustrun` drops them from `PYTHONPATH`.
pub const MARKER: &str = ".trustrun-python";

/// The support directory in the cache at `root`, written when missing. Its name carries a hash of
/// the content, so a new trustrun never changes a file an older one's children still read.
pub fn ensure(root: &Path) -> Result<PathBuf> {
    let digest = Sha256::digest(SITECUSTOMIZE.as_bytes());
    let dir = root.join(format!("python-{}", hex(&digest[..6])));
    let file = dir.join("sitecustomize.py");
    if file.is_file() {
        return Ok(dir);
    }
    cache::write_atomic(&dir.join(MARKER), b"trustrun python support directory\n")
        .context("cannot write the python support directory")?;
    cache::write_atomic(&file, SITECUSTOMIZE.as_bytes())
        .context("cannot write the python support directory")?;
    Ok(dir)
}
