//! The merged CA bundle (bundle stage): found again by fingerprint on the warm path, built and
//! written atomically under a content-addressed name on the cold path.
//!
//! Cache layout (named and shaped by `layout`): `bundles/<first 32 hex digits of the SHA-256 of the
//! text>.pem`, and `index/<fingerprint of the inputs>` holding `<bundle file name> <stamp>`, the
//! stamp being what the bundle looked like when written (`util::file_id::Stamp`). The warm path
//! compares the stamp (one `stat`); a bundle whose stamp changed is hashed and checked against its
//! own name, and rebuilt when it does not match (truncated, emptied, edited). An index entry from
//! an older trustrun (a bare name) is checked the same way once and rewritten with a stamp.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result};

use super::PrepareError;
use crate::sources::{self, Gathered, Inputs};
use crate::store::cache_dir;
use crate::store::layout;
use crate::util::file_id::Stamp;

pub struct Bundle {
    pub path: PathBuf,
    /// Present when this run built the bundle (the cold path).
    pub built: Option<Gathered>,
}

/// An index entry used within this long is not touched again: cleanup only needs to know that
/// it is in use, and a write on every start would cost more than the rest of the warm path.
const TOUCH_AFTER: Duration = Duration::from_secs(24 * 3600);

/// The bundle for `inputs` in the cache at `root`, built when no bundle matches the fingerprint
/// or the one found is not what was written.
pub fn ensure(root: &Path, inputs: &Inputs) -> Result<Bundle, PrepareError> {
    let bundles = cache_dir::private_subdir(root, layout::BUNDLES)?;
    let index_dir = cache_dir::private_subdir(root, layout::INDEX)?;
    let index = index_dir.join(inputs.fingerprint());
    if let Some(path) = cached(&bundles, &index) {
        return Ok(Bundle { path, built: None });
    }
    let gathered = sources::gather(inputs)?;
    let path = write(&bundles, &gathered, &index)?;
    crate::store::cleanup::bounded(root, &path);
    Ok(Bundle {
        path,
        built: Some(gathered),
    })
}

/// The bundle the index entry names, if it is still what was written.
fn cached(bundles: &Path, index: &Path) -> Option<PathBuf> {
    let mut file = fs::File::open(index).ok()?;
    let mut text = String::new();
    std::io::Read::read_to_string(&mut file, &mut text).ok()?;
    let layout::IndexEntry {
        name,
        stamp: recorded,
    } = layout::IndexEntry::parse(&text);
    let stem = name.strip_suffix(".pem")?;
    if !layout::is_bundle_stem(stem) {
        return None;
    }
    let path = bundles.join(name);
    let meta = fs::metadata(&path).ok()?;
    if !meta.is_file() {
        return None;
    }
    let stamp = Stamp::of(&meta);
    if recorded == Some(stamp) {
        // In use: keep cleanup's hands off it.
        if file
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|t| t.elapsed().is_ok_and(|age| age > TOUCH_AFTER))
        {
            let _ = fs::File::options()
                .write(true)
                .open(index)
                .and_then(|f| f.set_modified(SystemTime::now()));
        }
        return Some(path);
    }
    // Changed since written, or an index from before stamps: the name is the content's hash.
    let bytes = fs::read(&path).ok()?;
    if bytes.is_empty() || layout::bundle_stem(&bytes) != stem {
        return None;
    }
    // Its Java store must be there too, or the cold path writes it.
    if !crate::store::java_store::path_for(&path).is_file() {
        return None;
    }
    let _ = crate::util::fs::write_atomic(index, entry(name, &path).as_bytes());
    Some(path)
}

/// An index entry: the bundle's file name and its stamp as it is now.
fn entry(name: &str, path: &Path) -> String {
    match fs::metadata(path) {
        Ok(meta) => layout::IndexEntry::text(name, &meta),
        Err(_) => format!("{name}\n"),
    }
}

fn write(bundles: &Path, gathered: &Gathered, index: &Path) -> Result<PathBuf> {
    let text = layout::render(&gathered.certs);
    let name = format!("{}.pem", layout::bundle_stem(text.as_bytes()));
    let path = bundles.join(&name);
    // Content-addressed: a file with this name holds exactly this text, unless it was damaged
    // (which is how a stale index entry can lead here): then it is written again.
    let intact = fs::read(&path).is_ok_and(|existing| existing == text.as_bytes());
    if !intact {
        crate::util::fs::write_atomic(&path, text.as_bytes())
            .context("cannot write the CA bundle")?;
    }
    // Before the index entry: whatever finds the bundle through it finds its Java store too.
    crate::store::java_store::write(gathered, &crate::store::java_store::path_for(&path))?;
    crate::util::fs::write_atomic(index, entry(&name, &path).as_bytes())
        .context("cannot write the bundle index")?;
    Ok(path)
}
