//! Bounded cleanup of the cache (bundle stage): bundles, index entries and python support
//! directories nobody uses any more, run only on the cold path (after a new bundle was written),
//! never on the warm path.
//!
//! What stays:
//! - every index entry used within `GRACE` (the warm path touches an entry at most once a day);
//! - every bundle an index entry names (and its Java store, `java_store`), every bundle written within `GRACE` (an environment that
//!   `trustrun env` exported, a `.env` file, a running program may still name it), and the
//!   `KEEP_NEWEST` newest bundles whatever their age;
//! - this trustrun's python support directory, and any other one written within `GRACE` (a
//!   trustrun of that version that still runs writes its directory again when it is gone);
//! - a bundle's companions while their bundle stays, each PATH's record of the engine CLIs on
//!   it while it was written within `GRACE`, and the engine shims of every binary still there;
//! - the stable bundle file (`current.pem`), the public copies handed to container engines
//!   (`public/`: `handoff` cleans those, asking the engines what their containers
//!   mount), and anything this module does not know.
//!
//! At most `MAX_REMOVALS` entries go per run, so a cache that grew for years costs one slow run
//! spread over several, never one long stall. Errors are ignored: cleanup is housekeeping.

use std::fs;
use std::path::Path;
use std::time::{Duration, SystemTime};

use super::layout;
use crate::util::fs::TEMP_PREFIX;

/// How long something unused is kept.
pub const GRACE: Duration = Duration::from_secs(30 * 24 * 3600);
/// Bundles kept whatever their age, newest first.
pub const KEEP_NEWEST: usize = 4;
/// Entries removed per run at most.
pub const MAX_REMOVALS: usize = 64;
/// A temporary file of an interrupted write is surely abandoned after this long.
const TMP_GRACE: Duration = Duration::from_secs(3600);

/// Cleans the cache at `root`; `keep` is the bundle this run uses.
pub fn bounded(root: &Path, keep: &Path) {
    let now = SystemTime::now();
    let mut budget = MAX_REMOVALS;
    let older_than = |meta: &fs::Metadata, age: Duration| {
        meta.modified()
            .ok()
            .and_then(|t| now.duration_since(t).ok())
            .is_some_and(|d| d > age)
    };

    // Index entries first: what they still name decides which bundles stay.
    let mut named: Vec<String> = Vec::new();
    for (path, meta) in entries(&root.join(layout::INDEX)) {
        let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        if file_name
            .as_deref()
            .is_some_and(|n| n.starts_with(TEMP_PREFIX))
        {
            if older_than(&meta, TMP_GRACE) {
                remove(&path, &mut budget);
            }
            continue;
        }
        if older_than(&meta, GRACE) && remove(&path, &mut budget) {
            continue;
        }
        if let Ok(text) = fs::read_to_string(&path) {
            named.push(layout::IndexEntry::parse(&text).name.to_owned());
        }
    }

    let mut bundles: Vec<(std::path::PathBuf, fs::Metadata)> = entries(&root.join(layout::BUNDLES));
    // Newest first; ties (same second) broken by name, so every run decides alike.
    bundles.sort_by(|(pa, a), (pb, b)| {
        b.modified()
            .ok()
            .cmp(&a.modified().ok())
            .then_with(|| pa.cmp(pb))
    });
    // The bundles' rank, newest first (Java stores and other files take none).
    let mut i = 0;
    for (path, meta) in &bundles {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        let Some(name) = name else { continue };
        if name.starts_with(TEMP_PREFIX) {
            if older_than(meta, TMP_GRACE) {
                remove(path, &mut budget);
            }
            continue;
        }
        // A Java store goes with its bundle, or alone once its bundle has gone.
        let store_of = name
            .strip_suffix(".p12")
            .filter(|s| layout::is_bundle_stem(s));
        if store_of.is_some_and(|stem| !path.with_file_name(format!("{stem}.pem")).exists()) {
            if older_than(meta, GRACE) {
                remove(path, &mut budget);
            }
            continue;
        }
        let ours = name
            .strip_suffix(".pem")
            .is_some_and(layout::is_bundle_stem);
        if !ours {
            continue;
        }
        i += 1;
        if i <= KEEP_NEWEST || path == keep || named.contains(&name) {
            continue;
        }
        if older_than(meta, GRACE) && remove(path, &mut budget) {
            remove(&super::java_store::path_for(path), &mut budget);
        }
    }

    // A bundle's companions (`<stem>.<extension>`, see `bundle::Companion`) go with it: they
    // are written after it, so one without its bundle is left from a removal.
    for (path, _) in entries(&root.join(layout::BUNDLES)) {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        let Some((stem, extension)) = name.as_deref().and_then(|n| n.split_once('.')) else {
            continue;
        };
        if extension != "pem"
            && layout::is_bundle_stem(stem)
            && !path.with_file_name(format!("{stem}.pem")).exists()
        {
            remove(&path, &mut budget);
        }
    }

    // The engine CLIs found on a PATH: a record not rewritten within GRACE goes (a PATH still in
    // use costs its next run one search).
    for (path, meta) in entries(&layout::engines_found_dir(root)) {
        let is_record = path.file_name().is_some_and(|n| {
            n.to_string_lossy()
                .starts_with(layout::ENGINES_FOUND_PREFIX)
        });
        if is_record && older_than(&meta, GRACE) {
            remove(&path, &mut budget);
        }
    }

    // Engine shim directories of trustrun binaries that are gone (one directory per binary):
    // their links lead nowhere.
    for (path, meta) in entries(&layout::engines_found_dir(root)) {
        let is_shims = meta.is_dir()
            && path
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(layout::ENGINE_SHIMS_PREFIX));
        let dangling = || {
            entries(&path)
                .iter()
                .find(|(_, m)| m.file_type().is_symlink())
                .is_some_and(|(link, _)| fs::metadata(link).is_err())
        };
        if is_shims && budget > 0 && dangling() && fs::remove_dir_all(&path).is_ok() {
            budget -= 1;
        }
    }

    // Python support directories of other trustrun versions, dated by their sitecustomize.py.
    let current = crate::store::python_support::dir_name();
    for (path, meta) in entries(root) {
        let Some(name) = path.file_name().map(|n| n.to_string_lossy().into_owned()) else {
            continue;
        };
        if !meta.is_dir() || !name.starts_with(layout::PYTHON_PREFIX) || name == current {
            continue;
        }
        let used = fs::metadata(path.join("sitecustomize.py")).unwrap_or(meta);
        if older_than(&used, GRACE) && budget > 0 && fs::remove_dir_all(&path).is_ok() {
            budget -= 1;
        }
    }
}

fn entries(dir: &Path) -> Vec<(std::path::PathBuf, fs::Metadata)> {
    let Ok(read) = fs::read_dir(dir) else {
        return Vec::new();
    };
    read.filter_map(|e| e.ok())
        .filter_map(|e| {
            let meta = e.path().symlink_metadata().ok()?;
            Some((e.path(), meta))
        })
        .collect()
}

/// Removes one regular file within the budget; whether it was removed.
fn remove(path: &Path, budget: &mut usize) -> bool {
    if *budget == 0 {
        return false;
    }
    let removed =
        path.symlink_metadata().is_ok_and(|m| !m.is_dir()) && fs::remove_file(path).is_ok();
    if removed {
        *budget -= 1;
    }
    removed
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn the_shims_of_a_binary_that_is_gone_go_and_a_companion_goes_with_its_bundle() {
        let root = tempfile::tempdir().unwrap();
        let root = root.path();
        let gone = layout::engine_shims_dir(root, "docker", 1);
        let here = layout::engine_shims_dir(root, "docker", 2);
        let exe = root.join("trustrun");
        fs::write(&exe, "").unwrap();
        for (dir, target) in [(&gone, root.join("uninstalled")), (&here, exe)] {
            fs::create_dir_all(dir).unwrap();
            std::os::unix::fs::symlink(target, dir.join("docker")).unwrap();
        }
        let bundles = root.join(layout::BUNDLES);
        fs::create_dir_all(&bundles).unwrap();
        let stem = "0123456789abcdef0123456789abcdef";
        let orphan = bundles.join(format!("{stem}.p12"));
        fs::write(&orphan, "").unwrap();
        bounded(root, &bundles.join("none.pem"));
        assert!(!gone.exists() && here.exists());
        assert!(!orphan.exists());
    }
}
