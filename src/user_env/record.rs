//! The record (beside the pipeline) of every change trustrun made to the user's environment
//! (`user-env.json` in trustrun's per-user data directory), locked while it is changed, and undoing
//! each change exactly: path-list entries and variables here, file changes in `files.rs`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use super::{
    Change, LineCheck, Outcome, Recorded, SEPARATOR, Scope, Store, Value, files, same_entry,
    split_list,
};

/// The record of changes, and the file it lives in. Opened for changing (`open`), it holds the
/// record's lock until dropped: runs of setup at the same time would otherwise each read the
/// record, add their change and write it back, and all but the last change would be lost.
pub struct UserEnv {
    path: PathBuf,
    pub(super) changes: Vec<Recorded>,
    lock: Option<RecordLock>,
}

#[derive(Serialize, Deserialize)]
struct RecordFile {
    version: u32,
    changes: Vec<Recorded>,
}

const RECORD_VERSION: u32 = 1;
const RECORD_NAME: &str = "user-env.json";
/// Beside the record: held (`File::lock`) by every run that changes it, from read to last write.
const LOCK_NAME: &str = "user-env.lock";

/// The record file: trustrun's per-user data directory (next to the shims by default).
fn record_path() -> Result<PathBuf> {
    dirs::data_local_dir()
        .map(|d| d.join("trustrun").join(RECORD_NAME))
        .context("no per-user data directory is known here, so changes to the user environment cannot be recorded")
}

/// What `UserEnv::undo_each` did: the changes taken back, and those left in the record with why.
pub struct Undone {
    pub done: Vec<Change>,
    pub left: Vec<(Change, anyhow::Error)>,
}

impl UserEnv {
    /// The record, locked for changing until the value is dropped.
    pub fn open() -> Result<UserEnv> {
        UserEnv::open_at(&record_path()?)
    }

    /// The record, only to read: nothing is locked or created (`doctor`, `--dry-run`).
    pub fn read() -> Result<UserEnv> {
        UserEnv::read_at(&record_path()?)
    }

    pub fn open_at(path: &Path) -> Result<UserEnv> {
        let dir = path.parent().context("the record has no directory")?;
        private_dir(dir)?;
        let lock = RecordLock::take(&dir.join(LOCK_NAME))?;
        Ok(UserEnv {
            path: path.to_owned(),
            changes: read_changes(path)?,
            lock: Some(lock),
        })
    }

    pub fn read_at(path: &Path) -> Result<UserEnv> {
        Ok(UserEnv {
            path: path.to_owned(),
            changes: read_changes(path)?,
            lock: None,
        })
    }

    pub fn changes(&self) -> &[Recorded] {
        &self.changes
    }

    /// Puts `entry` first in the path list `variable` unless it is already in it, and records
    /// the change under `owner`.
    #[cfg_attr(not(windows), allow(dead_code))]
    pub fn prepend_path_entry(
        &mut self,
        store: &mut dyn Store,
        owner: &str,
        scope: Scope,
        variable: &str,
        entry: &str,
    ) -> Result<Outcome> {
        let current = store.get(variable)?;
        let entries = current
            .as_ref()
            .map(|v| split_list(&v.text))
            .unwrap_or_default();
        if entries.iter().any(|e| same_entry(e, entry)) {
            return Ok(Outcome::AlreadyThere);
        }
        let mut text = entry.to_owned();
        if let Some(v) = current.as_ref().filter(|v| !v.text.is_empty()) {
            text.push(SEPARATOR);
            text.push_str(&v.text);
        }
        let value = Value {
            text,
            expand: current.as_ref().is_none_or(|v| v.expand),
        };
        // Recorded first: a crash between the two leaves a record of a change not made, which
        // undoing skips; the other order would leave a change nobody can undo.
        self.changes.push(Recorded {
            owner: owner.to_owned(),
            scope,
            change: Change::PathEntryAdded {
                variable: variable.to_owned(),
                entry: entry.to_owned(),
                created: current.is_none(),
            },
        });
        self.save()?;
        store.set(variable, &value)?;
        store.announce();
        Ok(Outcome::Added)
    }

    /// Undoes the recorded changes of `owner` that `which` selects, newest first, and forgets
    /// them. Returns what was undone; the first change that could not be undone is the error
    /// (the others are undone all the same, and it stays in the record).
    #[cfg_attr(not(windows), allow(dead_code))]
    pub fn undo(
        &mut self,
        store: &mut dyn Store,
        owner: &str,
        which: impl Fn(&Change) -> bool,
    ) -> Result<Vec<Change>> {
        let undone = self.undo_each(store, owner, which, &|_, _| false)?;
        match undone.left.into_iter().next() {
            Some((_, e)) => Err(e),
            None => Ok(undone.done),
        }
    }

    /// `undo`, going on past a change that cannot be undone (a profile whose block `lines` does
    /// not recognise, a file turned read-only): that one stays in the record, to be undone once
    /// its problem is fixed. A change the user has since undone by hand is forgotten without
    /// touching anything; a variable the user changed since is not put back.
    pub fn undo_each(
        &mut self,
        store: &mut dyn Store,
        owner: &str,
        which: impl Fn(&Change) -> bool,
        lines: LineCheck,
    ) -> Result<Undone> {
        let mut undone = Undone {
            done: Vec::new(),
            left: Vec::new(),
        };
        let mut kept = Vec::new();
        let mut touched = false;
        for recorded in std::mem::take(&mut self.changes).into_iter().rev() {
            if recorded.owner != owner || !which(&recorded.change) {
                kept.push(recorded);
                continue;
            }
            match undo_one(store, &recorded.change, lines) {
                Ok(wrote) => {
                    touched |= wrote;
                    undone.done.push(recorded.change);
                }
                Err(e) => {
                    undone.left.push((recorded.change.clone(), e));
                    kept.push(recorded);
                }
            }
        }
        kept.reverse();
        self.changes = kept;
        self.save()?;
        if touched {
            store.announce();
        }
        Ok(undone)
    }

    pub(super) fn save(&self) -> Result<()> {
        if self.lock.is_none() {
            anyhow::bail!("{}: opened only to read, not written", self.path.display());
        }
        if self.changes.is_empty() {
            return match std::fs::remove_file(&self.path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    Err(e).with_context(|| format!("cannot remove {}", self.path.display()))
                }
                _ => Ok(()),
            };
        }
        let file = RecordFile {
            version: RECORD_VERSION,
            changes: self.changes.clone(),
        };
        let text = serde_json::to_string_pretty(&file)?;
        crate::util::fs::write_atomic(&self.path, text.as_bytes())
    }
}

impl Drop for UserEnv {
    /// A record left empty takes its lock file and directory with it (`--undo` leaves nothing
    /// behind), unless something else lives there (the shims).
    fn drop(&mut self) {
        let Some(lock) = self.lock.take() else {
            return;
        };
        if self.changes.is_empty() && cfg!(unix) {
            // Removed while still held: a run waiting for it finds the name gone when it gets
            // the lock, and takes a new one (`RecordLock::take`).
            let _ = std::fs::remove_file(&lock.path);
            if let Some(dir) = self.path.parent() {
                let _ = std::fs::remove_dir(dir);
            }
        }
        drop(lock);
    }
}

/// The record's changes, or none when there is no record. A record that is not a regular file
/// of ours is refused: undo follows it to rewrite and delete files.
fn read_changes(path: &Path) -> Result<Vec<Recorded>> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) => {
            if !meta.is_file() {
                anyhow::bail!(
                    "{}: not a regular file; refusing to follow it",
                    path.display()
                );
            }
            if let Some(owner) = foreign_uid(&meta) {
                anyhow::bail!(
                    "{} belongs to uid {owner}, not to us; refusing to follow it",
                    path.display()
                );
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let file: RecordFile = serde_json::from_str(&text)
        .with_context(|| format!("{}: not a record of trustrun's changes", path.display()))?;
    Ok(file.changes)
}

#[cfg(unix)]
fn foreign_uid(meta: &std::fs::Metadata) -> Option<u32> {
    use std::os::unix::fs::MetadataExt;
    let me = crate::util::unix::euid();
    (meta.uid() != me).then_some(meta.uid())
}

#[cfg(windows)]
fn foreign_uid(_meta: &std::fs::Metadata) -> Option<u32> {
    None
}

/// The record's directory, trustrun's own: 0700, ours, writable by nobody else (another user
/// who could write there could forge the record that `--undo` follows). Missing parents
/// (`~/.local`, `~/.local/share`) are shared with other programs: 0755. A directory of ours
/// that an older trustrun made under a permissive umask is made private again.
#[cfg(unix)]
fn private_dir(dir: &Path) -> Result<()> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt};
    if let Some(parent) = dir.parent()
        && !parent.exists()
    {
        crate::util::fs::create_dirs(parent, files::SHELL_DIR_MODE)?;
    }
    match std::fs::DirBuilder::new().mode(0o700).create(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => {
            return Err(e).with_context(|| format!("cannot create {}", dir.display()));
        }
        _ => {}
    }
    let meta = std::fs::metadata(dir).with_context(|| format!("cannot read {}", dir.display()))?;
    if !meta.is_dir() {
        anyhow::bail!("{} is not a directory", dir.display());
    }
    if let Some(owner) = foreign_uid(&meta) {
        anyhow::bail!(
            "{} belongs to uid {owner}, not to us; refusing to keep trustrun's record there",
            dir.display()
        );
    }
    if meta.mode() & 0o077 != 0 {
        crate::util::fs::set_mode(dir, 0o700)?;
    }
    Ok(())
}

#[cfg(windows)]
fn private_dir(dir: &Path) -> Result<()> {
    // Directories under the user's profile inherit an ACL that admits only the user, SYSTEM and
    // administrators.
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))
}

/// The record's lock: an exclusive `File::lock` on the lock file, released when dropped.
struct RecordLock {
    file: std::fs::File,
    path: PathBuf,
}

impl RecordLock {
    fn take(path: &Path) -> Result<RecordLock> {
        let context = || format!("cannot lock {}", path.display());
        loop {
            let mut options = std::fs::OpenOptions::new();
            options.read(true).write(true).create(true).truncate(false);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let file = options.open(path).with_context(context)?;
            file.lock().with_context(context)?;
            // The run before may have removed the file as it ended (`Drop for UserEnv`): a lock
            // on a file no longer at the path shuts nobody else out.
            if still_at(&file, path) {
                return Ok(RecordLock {
                    file,
                    path: path.to_owned(),
                });
            }
        }
    }
}

impl Drop for RecordLock {
    fn drop(&mut self) {
        let _ = self.file.unlock();
    }
}

#[cfg(unix)]
fn still_at(file: &std::fs::File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(windows)]
fn still_at(_file: &std::fs::File, _path: &Path) -> bool {
    // The lock file is never removed on Windows.
    true
}

/// Undoes one change; whether the store was written.
fn undo_one(store: &mut dyn Store, change: &Change, lines: LineCheck) -> Result<bool> {
    match change {
        Change::PathEntryAdded {
            variable,
            entry,
            created,
        } => {
            let Some(current) = store.get(variable)? else {
                return Ok(false);
            };
            let entries = split_list(&current.text);
            let Some(at) = entries.iter().position(|e| same_entry(e, entry)) else {
                return Ok(false);
            };
            let rest: Vec<&str> = entries
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != at)
                .map(|(_, e)| e.as_str())
                .collect();
            if rest.is_empty() && *created {
                store.remove(variable)?;
            } else {
                let text = rest.join(&SEPARATOR.to_string());
                store.set(
                    variable,
                    &Value {
                        text,
                        expand: current.expand,
                    },
                )?;
            }
            Ok(true)
        }
        Change::VariableSet {
            variable,
            value,
            previous,
        } => {
            // Only our own value is put back: a value the user set since is theirs.
            if store.get(variable)?.is_none_or(|v| v.text != *value) {
                return Ok(false);
            }
            match previous {
                Some(p) => store.set(
                    variable,
                    &Value {
                        text: p.clone(),
                        expand: false,
                    },
                )?,
                None => store.remove(variable)?,
            }
            Ok(true)
        }
        Change::DirCreated { .. }
        | Change::BlockAdded { .. }
        | Change::FileWritten { .. }
        | Change::StableBundle { .. } => {
            files::undo(change, lines)?;
            Ok(false)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[derive(Default)]
    struct Map(HashMap<String, Value>, usize);

    impl Store for Map {
        fn get(&self, name: &str) -> Result<Option<Value>> {
            Ok(self.0.get(name).cloned())
        }
        fn set(&mut self, name: &str, value: &Value) -> Result<()> {
            self.0.insert(name.to_owned(), value.clone());
            Ok(())
        }
        fn remove(&mut self, name: &str) -> Result<()> {
            self.0.remove(name);
            Ok(())
        }
        fn announce(&mut self) {
            self.1 += 1;
        }
    }

    fn sep(parts: &[&str]) -> String {
        parts.join(&SEPARATOR.to_string())
    }

    fn text(store: &Map, name: &str) -> Option<String> {
        store.0.get(name).map(|v| v.text.clone())
    }

    #[test]
    fn prepend_then_undo_restores_exactly_the_old_value() {
        let dir = tempfile::tempdir().unwrap();
        let record = dir.path().join("user-env.json");
        let mut store = Map::default();
        let old = sep(&["/a", "/b"]);
        store
            .set(
                "Path",
                &Value {
                    text: old.clone(),
                    expand: true,
                },
            )
            .unwrap();

        let mut env = UserEnv::open_at(&record).unwrap();
        let out = env.prepend_path_entry(&mut store, "shim", Scope::UserRegistry, "Path", "/shims");
        assert_eq!(out.unwrap(), Outcome::Added);
        assert_eq!(text(&store, "Path").unwrap(), sep(&["/shims", "/a", "/b"]));
        assert!(store.0["Path"].expand, "the value keeps its kind");
        assert_eq!(store.1, 1, "the change is announced");

        // A second run finds it and records nothing more.
        drop(env);
        let mut env = UserEnv::open_at(&record).unwrap();
        let again =
            env.prepend_path_entry(&mut store, "shim", Scope::UserRegistry, "Path", "/shims");
        assert_eq!(again.unwrap(), Outcome::AlreadyThere);
        assert_eq!(env.changes().len(), 1);

        // Another owner's undo does not touch it.
        let none = env.undo(&mut store, "setup", |_| true).unwrap();
        assert!(none.is_empty());
        assert_eq!(text(&store, "Path").unwrap(), sep(&["/shims", "/a", "/b"]));

        let undone = env.undo(&mut store, "shim", |_| true).unwrap();
        assert_eq!(undone.len(), 1);
        assert_eq!(text(&store, "Path").unwrap(), old);
        assert!(!record.exists(), "an empty record leaves no file");
    }

    #[test]
    fn an_entry_the_user_had_is_never_removed() {
        let dir = tempfile::tempdir().unwrap();
        let record = dir.path().join("user-env.json");
        let mut store = Map::default();
        let old = sep(&["/a", "/shims/"]);
        store
            .set(
                "Path",
                &Value {
                    text: old.clone(),
                    expand: false,
                },
            )
            .unwrap();
        let mut env = UserEnv::open_at(&record).unwrap();
        let out = env.prepend_path_entry(&mut store, "shim", Scope::UserRegistry, "Path", "/shims");
        assert_eq!(out.unwrap(), Outcome::AlreadyThere);
        assert!(env.undo(&mut store, "shim", |_| true).unwrap().is_empty());
        assert_eq!(text(&store, "Path").unwrap(), old);
        assert_eq!(store.1, 0, "nothing changed, nothing announced");
    }

    #[test]
    fn a_variable_we_created_is_deleted_again_and_user_edits_survive() {
        let dir = tempfile::tempdir().unwrap();
        let record = dir.path().join("user-env.json");
        let mut store = Map::default();
        let mut env = UserEnv::open_at(&record).unwrap();
        env.prepend_path_entry(&mut store, "shim", Scope::UserRegistry, "Path", "/shims")
            .unwrap();
        assert_eq!(text(&store, "Path").unwrap(), "/shims");
        drop(env);
        let mut env = UserEnv::open_at(&record).unwrap();
        env.undo(&mut store, "shim", |_| true).unwrap();
        assert_eq!(text(&store, "Path"), None);

        // The user added an entry after ours: undoing keeps theirs.
        drop(env);
        let mut env = UserEnv::open_at(&record).unwrap();
        env.prepend_path_entry(&mut store, "shim", Scope::UserRegistry, "Path", "/shims")
            .unwrap();
        let mine = sep(&["/shims", "/mine"]);
        store
            .set(
                "Path",
                &Value {
                    text: mine,
                    expand: true,
                },
            )
            .unwrap();
        env.undo(&mut store, "shim", |_| true).unwrap();
        assert_eq!(text(&store, "Path").unwrap(), "/mine");
    }

    #[test]
    fn a_set_variable_is_put_back_only_while_it_holds_our_value() {
        let dir = tempfile::tempdir().unwrap();
        let mut env = UserEnv::open_at(&dir.path().join("r.json")).unwrap();
        let mut store = Map::default();
        env.changes.push(Recorded {
            owner: "setup".into(),
            scope: Scope::UserRegistry,
            change: Change::VariableSet {
                variable: "SSL_CERT_FILE".into(),
                value: "ours.pem".into(),
                previous: Some("theirs.pem".into()),
            },
        });
        store
            .set(
                "SSL_CERT_FILE",
                &Value {
                    text: "ours.pem".into(),
                    expand: false,
                },
            )
            .unwrap();
        env.undo(&mut store, "setup", |_| true).unwrap();
        assert_eq!(text(&store, "SSL_CERT_FILE").unwrap(), "theirs.pem");
    }

    #[test]
    fn changes_made_at_the_same_time_are_all_recorded() {
        let dir = tempfile::tempdir().unwrap();
        let record = dir.path().join("trustrun").join("user-env.json");
        let threads: Vec<_> = (0..8)
            .map(|i| {
                let record = record.clone();
                std::thread::spawn(move || {
                    let mut env = UserEnv::open_at(&record).unwrap();
                    env.note_stable_bundle("setup", Path::new(&format!("/cache/{i}")))
                        .unwrap();
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let env = UserEnv::read_at(&record).unwrap();
        assert_eq!(env.changes().len(), 8, "{:?}", env.changes());
    }

    #[test]
    fn a_record_emptied_takes_its_lock_and_directory_with_it() {
        let dir = tempfile::tempdir().unwrap();
        let own = dir.path().join("trustrun");
        let mut env = UserEnv::open_at(&own.join("user-env.json")).unwrap();
        env.note_stable_bundle("setup", Path::new("/cache"))
            .unwrap();
        assert!(own.join(LOCK_NAME).exists());
        let undone = env
            .undo(&mut Map::default(), "setup", |c| {
                !matches!(c, Change::StableBundle { .. })
            })
            .unwrap();
        assert!(undone.is_empty());
        drop(env);
        assert!(own.join("user-env.json").exists(), "a change is left");
        let mut env = UserEnv::open_at(&own.join("user-env.json")).unwrap();
        env.changes.clear();
        env.save().unwrap();
        drop(env);
        assert!(!own.exists(), "an empty record left its directory behind");
    }

    #[test]
    fn a_record_opened_to_read_is_never_written() {
        let dir = tempfile::tempdir().unwrap();
        let record = dir.path().join("trustrun").join("user-env.json");
        let mut env = UserEnv::read_at(&record).unwrap();
        assert!(env.note_stable_bundle("setup", Path::new("/c")).is_err());
        assert!(!dir.path().join("trustrun").exists());
    }

    #[test]
    fn a_broken_record_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let record = dir.path().join("user-env.json");
        std::fs::write(&record, "not json").unwrap();
        let err = UserEnv::open_at(&record).err().unwrap();
        assert!(format!("{err:#}").contains("user-env.json"), "{err:#}");
    }
}
