//! The merged CA bundle: found again by fingerprint on the warm path, built and written
//! atomically under a content-addressed name on the cold path.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};

use crate::cache;
use crate::sources::{self, Gathered, Inputs};

pub struct Bundle {
    pub path: PathBuf,
    /// Present when this run built the bundle (the cold path).
    pub built: Option<Gathered>,
}

/// Why a bundle could not be had. A CA file the user named is their error (exit 2); anything else
/// is ours, and the caller decides between running the program untouched and `--strict`.
#[derive(Debug)]
pub enum BundleError {
    UserCa(crate::certs::CaPathError),
    Internal(anyhow::Error),
}

/// The bundle for `inputs` in the cache at `root`, built when no bundle matches the fingerprint.
pub fn ensure(root: &Path, inputs: &Inputs) -> Result<Bundle, BundleError> {
    let fingerprint = inputs.fingerprint();
    let index = root.join("index").join(&fingerprint);
    if let Ok(name) = fs::read_to_string(&index) {
        let path = root.join("bundles").join(name.trim());
        if path.is_file() {
            return Ok(Bundle { path, built: None });
        }
    }
    let gathered = sources::gather(inputs).map_err(BundleError::UserCa)?;
    let path = write(root, &gathered, &index).map_err(BundleError::Internal)?;
    Ok(Bundle {
        path,
        built: Some(gathered),
    })
}

fn write(root: &Path, gathered: &Gathered, index: &Path) -> Result<PathBuf> {
    let text = sources::render(gathered);
    let name = format!(
        "{}.pem",
        sources::hex(&Sha256::digest(text.as_bytes())[..16])
    );
    let path = root.join("bundles").join(&name);
    // Content-addressed: an existing file with this name already holds exactly this text.
    if !path.is_file() {
        cache::write_atomic(&path, text.as_bytes()).context("cannot write the CA bundle")?;
    }
    cache::write_atomic(index, name.as_bytes()).context("cannot write the bundle index")?;
    Ok(path)
}
