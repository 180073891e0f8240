//! The file a container engine is handed (bundle stage, for the launch stage's containers): a
//! world-readable, content-named copy of exactly the bundle of the run that hands it,
//! `<cache>/public/<bundle name>` (mode 0644), and how those copies stay bounded without pulling
//! one from under a container that mounts it.
//!
//! Why a copy of its own per bundle: a container created today may be started next week, and
//! the engine binds the path again at every start. A path shared by several bundles (the
//! cache's `current.pem`, which follows `trustrun setup`) would give that container whatever the
//! path holds then: less trust than it was created with, or more. A content-named copy only ever
//! holds one text, so what a container was given stays what it gets. Why 0644 inside a 0700
//! cache: the engine binds the file as root (docker) or as the user (rootless engines), so the
//! directories above it need no opening; inside the container only the file's own mode counts,
//! and the container's user is often another uid. The file holds public certificates only.
//!
//! Lazy: only a command that hands a file to an engine reads, checks or writes a copy (a python
//! run never does). `handoff_copy` is the one entry (`Prepared::public_copy` for a run's bundle):
//! the containers' bundle mount uses it, and so will image builds and a Java trust store (any
//! content-named file of the cache).
//!
//! Bounded, the policy:
//! - A copy's modification time says when it was last handed out: written then, or touched when
//!   handed out again (at most once a day).
//! - Cleanup runs only when a hand-off writes a new copy (the trust changed since the last one):
//!   never on the warm path, never in a run that hands nothing to an engine.
//! - It removes a copy only when it was last handed out more than `cleanup::GRACE` (30 days) ago,
//!   AND no container (running or stopped) of any engine a copy was ever handed to mounts it.
//!   Each hand-off records its engine (the CLI and the options that pin its endpoint, see
//!   `containers::engine::docker_pin`) under `<cache>/containers/engines/`; cleanup asks each
//!   recorded engine once (`containers::mounts`: `ps -a -q` and `inspect` of their mounts), and
//!   only when some copy is old enough. An
//!   engine that does not answer (stopped, uninstalled, refused) means no copy is removed: a
//!   container it may hold must not lose its file.
//! - At most `MAX_REMOVALS` copies go per cleanup, and each is checked for age again right
//!   before it goes, so a hand-off that picked it meanwhile keeps it.
//!
//! So the copies number at most those handed out in the last 30 days, plus those existing
//! containers mount, plus (while an engine cannot answer) the older ones. A mount is matched by
//! the copy's file name, which is its content: a path the engine spells otherwise (a symbolic
//! link in the cache's path, Docker Desktop's host prefix) still counts.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use crate::store::cache_dir;
use crate::store::layout;

/// A copy's mode: readable by every user and container.
pub const MODE: u32 = 0o644;
/// Copies removed per cleanup at most.
pub const MAX_REMOVALS: usize = 16;
/// A copy handed out within this long is not touched again (one write a day at most).
const TOUCH_AFTER: Duration = Duration::from_secs(24 * 3600);
/// A temporary file of an interrupted write is surely abandoned after this long.
const TMP_GRACE: Duration = Duration::from_secs(3600);

/// An engine a copy is handed to, as cleanup will ask it again: the CLI's name (found on PATH
/// then) and the global options that pin its endpoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Engine {
    pub cli: String,
    pub options: Vec<String>,
}

/// Where the public copy of `file` (a content-named file of the cache at `root`) is, written or
/// not.
pub fn copy_path(root: &Path, file: &Path) -> Option<PathBuf> {
    Some(root.join(layout::PUBLIC).join(file.file_name()?))
}

/// A world-readable copy of `file` (a content-named file of the cache at `root`: a bundle, a
/// trust store), for `engine` to bind into containers: `<root>/public/<file name>`, 0644, holding
/// exactly `file`'s bytes. Written atomically when missing or not what it should be, touched when
/// handed out again; a new copy starts the bounded cleanup above, which asks `mounts_of` about
/// each engine ever handed a copy.
pub fn handoff_copy(
    root: &Path,
    file: &Path,
    engine: &Engine,
    mounts_of: MountsOf,
) -> Result<PathBuf> {
    let dir = cache_dir::private_subdir(root, layout::PUBLIC)?;
    let copy =
        copy_path(root, file).with_context(|| format!("{} has no file name", file.display()))?;
    // First: whoever cleans later must know to ask this engine.
    record(root, engine)?;
    let text = fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    if text.is_empty() {
        bail!("{} is empty", file.display());
    }
    match fs::symlink_metadata(&copy) {
        Ok(meta) if meta.is_file() && intact(&copy, &meta, &text) => {
            if meta
                .modified()
                .is_ok_and(|t| t.elapsed().is_ok_and(|age| age > TOUCH_AFTER))
            {
                let _ = fs::File::options()
                    .write(true)
                    .open(&copy)
                    .and_then(|f| f.set_modified(SystemTime::now()));
            }
            return Ok(copy);
        }
        // An engine asked to bind a path that had gone makes an empty directory there (docker's
        // `-v`); nothing can be mounted from an empty directory, so it may go.
        Ok(meta) if meta.is_dir() => {
            let _ = fs::remove_dir(&copy);
        }
        _ => {}
    }
    crate::util::fs::write_atomic_mode(&copy, &text, MODE)
        .with_context(|| format!("cannot write {}", copy.display()))?;
    clean(&dir, &copy, &|| mounted_names(root, mounts_of));
    Ok(copy)
}

/// Whether the copy is exactly `text` with its mode.
fn intact(copy: &Path, meta: &fs::Metadata, text: &[u8]) -> bool {
    crate::util::fs::has_mode(meta, MODE)
        && meta.len() == text.len() as u64
        && fs::read(copy).is_ok_and(|c| c == text)
}

/// Records `engine` (one small file per engine, named by its content: a `stat` when known).
fn record(root: &Path, engine: &Engine) -> Result<()> {
    let text = serde_json::to_vec(engine).context("cannot record the engine")?;
    let digest = crate::util::digest::sha256_hex(&text);
    let file = layout::engines_dir(root).join(format!("{}.json", &digest[..16]));
    if fs::metadata(&file).is_ok_and(|m| m.is_file()) {
        return Ok(());
    }
    crate::util::fs::write_atomic(&file, &text)
        .with_context(|| format!("cannot write {}", file.display()))
}

/// The engines copies were handed to.
fn recorded(root: &Path) -> Result<Vec<Engine>> {
    let dir = layout::engines_dir(root);
    let read = match fs::read_dir(&dir) {
        Ok(read) => read,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", dir.display())),
    };
    let mut engines = Vec::new();
    for entry in read {
        let path = entry?.path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let bytes = fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        engines.push(
            serde_json::from_slice(&bytes)
                .with_context(|| format!("{}: not an engine record", path.display()))?,
        );
    }
    Ok(engines)
}

/// What one engine's containers (running or stopped) mount: the file names of their bind
/// mounts' sources, or `None` when the engine cannot tell. Asking an engine is the containers'
/// business (`containers::mounts`); the store only decides what may go.
pub type MountsOf<'a> = &'a dyn Fn(&Engine) -> Option<BTreeSet<OsString>>;

/// The file names of every bind mount of every container of every recorded engine; `None` when
/// any of them cannot be told (then nothing may be removed).
fn mounted_names(root: &Path, mounts_of: MountsOf) -> Option<BTreeSet<OsString>> {
    let mut names = BTreeSet::new();
    for engine in recorded(root).ok()? {
        names.extend(mounts_of(&engine)?);
    }
    Some(names)
}

/// Removes old copies in `dir` that nothing mounts (the policy above); `keep` is the copy this
/// hand-off uses, `mounted` asks the engines and is called only when some copy is old enough.
/// Errors are ignored: cleanup is housekeeping. Returns how many copies went.
fn clean(dir: &Path, keep: &Path, mounted: &dyn Fn() -> Option<BTreeSet<OsString>>) -> usize {
    let old = |path: &Path, age: Duration| {
        fs::symlink_metadata(path)
            .ok()
            .filter(|m| m.is_file())
            .and_then(|m| m.modified().ok())
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|a| a > age)
    };
    let Ok(read) = fs::read_dir(dir) else {
        return 0;
    };
    let mut candidates: Vec<(SystemTime, PathBuf)> = Vec::new();
    for entry in read.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(crate::util::fs::TEMP_PREFIX) {
            // An interrupted write: never handed out, so never mounted.
            if old(&path, TMP_GRACE) {
                let _ = fs::remove_file(&path);
            }
            continue;
        }
        let content_named = Path::new(&name)
            .file_stem()
            .and_then(|s| s.to_str())
            .is_some_and(layout::is_bundle_stem);
        if !content_named || path == keep || !old(&path, crate::store::cleanup::GRACE) {
            continue;
        }
        if let Some(t) = entry.metadata().ok().and_then(|m| m.modified().ok()) {
            candidates.push((t, path));
        }
    }
    if candidates.is_empty() {
        return 0;
    }
    let Some(mounted) = mounted() else {
        return 0;
    };
    // Oldest first.
    candidates.sort();
    let mut removed = 0;
    for (_, path) in candidates {
        if removed == MAX_REMOVALS {
            break;
        }
        let in_use = path.file_name().is_some_and(|n| mounted.contains(n));
        // Old still: a hand-off may have touched it while the engines were asked.
        if !in_use && old(&path, crate::store::cleanup::GRACE) && fs::remove_file(&path).is_ok() {
            removed += 1;
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aged(path: &Path, days: u64) {
        fs::write(path, "# trustrun bundle\n").unwrap();
        fs::File::options()
            .write(true)
            .open(path)
            .unwrap()
            .set_modified(SystemTime::now() - Duration::from_secs(days * 86400))
            .unwrap();
    }

    fn copy(dir: &Path, i: usize) -> PathBuf {
        dir.join(format!("{i:032x}.pem"))
    }

    #[test]
    fn only_old_unmounted_copies_go_and_at_most_the_budget() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let keep = copy(d, 0);
        aged(&keep, 90);
        let recent = copy(d, 1);
        aged(&recent, 29);
        let mounted = copy(d, 2);
        aged(&mounted, 90);
        let other = d.join("notes.txt");
        aged(&other, 90);
        let old: Vec<PathBuf> = (10..10 + MAX_REMOVALS + 3).map(|i| copy(d, i)).collect();
        for (i, p) in old.iter().enumerate() {
            aged(p, 31 + i as u64);
        }
        let mounted_name = mounted.file_name().unwrap().to_owned();
        let asked = std::cell::Cell::new(0);
        let answer = || {
            asked.set(asked.get() + 1);
            Some(BTreeSet::from([mounted_name.clone()]))
        };
        assert_eq!(clean(d, &keep, &answer), MAX_REMOVALS);
        assert_eq!(asked.get(), 1, "the engines are asked once");
        assert!(keep.is_file() && recent.is_file() && mounted.is_file() && other.is_file());
        // The oldest went first; the three youngest of the old ones wait for the next cleanup.
        let left: Vec<&PathBuf> = old.iter().filter(|p| p.exists()).collect();
        assert_eq!(left, old.iter().take(3).collect::<Vec<_>>());
        assert_eq!(clean(d, &keep, &answer), 3);
    }

    #[test]
    fn nothing_goes_when_an_engine_cannot_tell_and_no_engine_is_asked_for_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let keep = copy(d, 0);
        aged(&keep, 1);
        let asked = std::cell::Cell::new(false);
        let unknown = || {
            asked.set(true);
            None
        };
        // Nothing old enough: the engines are not asked.
        assert_eq!(clean(d, &keep, &unknown), 0);
        assert!(!asked.get());
        let old = copy(d, 1);
        aged(&old, 60);
        assert_eq!(clean(d, &keep, &unknown), 0);
        assert!(asked.get());
        assert!(old.is_file());
        // An interrupted write's leftover goes without asking anyone.
        let tmp = d.join(".tmp-abc");
        aged(&tmp, 1);
        clean(d, &keep, &|| None);
        assert!(!tmp.exists());
    }

    #[test]
    fn a_copy_holds_exactly_its_file_readable_by_all_and_is_repaired() {
        let cache = tempfile::tempdir().unwrap();
        let root = cache.path();
        let bundle = root.join(format!("{:032x}.pem", 5));
        fs::write(&bundle, "# trustrun bundle\nA\n").unwrap();
        let engine = Engine {
            cli: "no-such-engine-cli".to_owned(),
            options: vec!["--context".to_owned(), "default".to_owned()],
        };
        let copy = handoff_copy(root, &bundle, &engine, &|_| None).unwrap();
        assert_eq!(Some(copy.clone()), copy_path(root, &bundle));
        assert_eq!(fs::read(&copy).unwrap(), fs::read(&bundle).unwrap());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o7777;
            assert_eq!(mode(&copy), MODE);
            assert_eq!(mode(copy.parent().unwrap()), 0o700);
            // Damaged (edited, mode changed): written again.
            fs::write(&copy, "# trustrun bundle\nB\n").unwrap();
            fs::set_permissions(&copy, fs::Permissions::from_mode(0o600)).unwrap();
            handoff_copy(root, &bundle, &engine, &|_| None).unwrap();
            assert_eq!(fs::read(&copy).unwrap(), fs::read(&bundle).unwrap());
            assert_eq!(mode(&copy), MODE);
        }
        // An empty directory an engine left where the copy was: replaced by the copy.
        fs::remove_file(&copy).unwrap();
        fs::create_dir(&copy).unwrap();
        handoff_copy(root, &bundle, &engine, &|_| None).unwrap();
        assert!(copy.is_file());
        // The engine is recorded once.
        handoff_copy(root, &bundle, &engine, &|_| None).unwrap();
        assert_eq!(recorded(root).unwrap(), vec![engine]);
    }
}
