//! The directory trustrun puts first on the child's `PYTHONPATH`: our `sitecustomize.py`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};

use crate::cache;
use crate::sources::hex;

/// The sources live in `shims/` so they can be read, linted and tested as Python.
pub const SITECUSTOMIZE: &str = include_str!("../shims/sitecustomize.py");
/// What only some processes need (truststore, the strict-X.509 relaxation, bytecode caching),
/// kept out of the file every Python start-up reads.
pub const SUPPORT: &str = include_str!("../shims/_trustrun_support.py");

/// A file in every python support directory; our sitecustomize skips directories holding it when
/// it looks for the next sitecustomize to chain to, and `trustrun` drops them from `PYTHONPATH`.
pub const MARKER: &str = ".trustrun-python";

/// The support directory in the cache at `root`, written when missing. Its name carries a hash of
/// the content, so a new trustrun never changes a file an older one's children still read.
pub fn ensure(root: &Path) -> Result<PathBuf> {
    let mut hasher = Sha256::new();
    hasher.update(SITECUSTOMIZE.as_bytes());
    hasher.update(SUPPORT.as_bytes());
    let dir = root.join(format!("python-{}", hex(&hasher.finalize()[..6])));
    // sitecustomize.py is written last: its presence means the directory is complete.
    let file = dir.join("sitecustomize.py");
    if file.is_file() {
        return Ok(dir);
    }
    for (name, text) in [
        (MARKER, "trustrun python support directory\n"),
        ("_trustrun_support.py", SUPPORT),
        ("sitecustomize.py", SITECUSTOMIZE),
    ] {
        cache::write_atomic(&dir.join(name), text.as_bytes())
            .context("cannot write the python support directory")?;
    }
    Ok(dir)
}
