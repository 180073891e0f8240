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

/// A file made from the bundle and written beside it in `bundles/` on the cold path (a Java
/// trust store, say): named from the bundle's stem, written before the index entry, whose stamps
/// then cover it as they cover the bundle. The warm path stats each (one `stat`); one that
/// changed or went missing makes the run rebuild, which writes it again.
pub struct Companion {
    /// Its file name for the bundle `<stem>.pem`: `<stem>.<extension>`.
    pub extension: &'static str,
    /// Writes it (atomically, mode 0600 or as its consumer needs) at the path given.
    pub write: fn(&Gathered, &Path) -> Result<()>,
}

impl Companion {
    /// Its file name beside the bundle whose file name has the stem `stem`.
    fn name(&self, stem: &str) -> String {
        format!("{stem}.{}", self.extension)
    }
}

/// The companions every bundle gets: its Java trust store (`java_store`).
const COMPANIONS: &[Companion] = &[Companion {
    extension: crate::store::java_store::EXTENSION,
    write: crate::store::java_store::write,
}];

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
    let (text, index_meta) = crate::util::fs::read_small(index, 64 * 1024).ok()?;
    let text = String::from_utf8(text).ok()?;
    let layout::IndexEntry {
        name,
        stamp: recorded,
        companions,
    } = layout::IndexEntry::parse(&text);
    let stem = name.strip_suffix(".pem")?;
    if !layout::is_bundle_stem(stem) {
        return None;
    }
    // Every companion there and as written; else the cold path writes them again.
    let companions_hold = COMPANIONS.iter().all(|c| {
        let file = c.name(stem);
        companions.iter().any(|(n, stamp)| {
            *n == file
                && stamp.is_some()
                && fs::metadata(bundles.join(n)).is_ok_and(|m| Some(Stamp::of(&m)) == *stamp)
        })
    });
    if !companions_hold {
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
        if index_meta
            .modified()
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
    let _ = crate::util::fs::write_atomic(index, entry(name, &path).as_bytes());
    Some(path)
}

/// An index entry: the bundle's file name and its companions', with their stamps as they are
/// now.
fn entry(name: &str, path: &Path) -> String {
    let Ok(meta) = fs::metadata(path) else {
        return format!("{name}\n");
    };
    let stem = name.strip_suffix(".pem").unwrap_or(name);
    let companions: Vec<(String, fs::Metadata)> = COMPANIONS
        .iter()
        .filter_map(|c| {
            let file = c.name(stem);
            let meta = fs::metadata(path.with_file_name(&file)).ok()?;
            Some((file, meta))
        })
        .collect();
    layout::IndexEntry::text_with(name, &meta, &companions)
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
    // Companions (the Java store) before the entry: its stamps then cover them, and whatever
    // finds the bundle through it finds them too.
    for c in COMPANIONS {
        let file = path.with_file_name(c.name(name.trim_end_matches(".pem")));
        (c.write)(gathered, &file)?;
    }
    crate::util::fs::write_atomic(index, entry(&name, &path).as_bytes())
        .context("cannot write the bundle index")?;
    Ok(path)
}
