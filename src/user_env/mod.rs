//! The user's persistent environment (on Windows `HKCU\Environment`), written through one place
//! that keeps one record of every change trustrun made there, so that each change can be undone
//! exactly, and only that change.
//!
//! Off the hot path: used by `trustrun shim install|remove` (the shim directory on the user PATH)
//! and `trustrun setup` (CA variables in the registry on Windows; marked blocks in shell profiles,
//! files of ours and the stable bundle on every platform, see `files.rs`).
//! The record, `user-env.json` in trustrun's per-user data directory, lists each change with its
//! owner (the command that made it: `shim`, later `setup`), its scope and what was there before.
//! A change is only recorded when trustrun actually made it: an entry that was already on PATH is
//! the user's, and undoing never removes it.

pub mod block;
mod files;

#[cfg_attr(windows, allow(unused_imports))]
pub use files::NoVariables;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

/// Where a change was made.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// The user's environment in the registry (`HKCU\Environment`), read by every new process.
    UserRegistry,
    /// Files in the user's home: shell profiles, `environment.d`, a LaunchAgent.
    Files,
    /// trustrun's cache (the stable bundle setup keeps fresh).
    Cache,
}

/// One change trustrun made.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    /// `entry` was put first in the path list `variable`; `created` when the variable did not
    /// exist before (undoing then deletes it once nothing else is left in it).
    PathEntryAdded {
        variable: String,
        entry: String,
        created: bool,
    },
    /// `variable` was set to `value`; `previous` is what it held before (None: it was unset).
    VariableSet {
        variable: String,
        value: String,
        previous: Option<String>,
    },
    /// A directory that did not exist (`~/.config/fish/conf.d`); removed again when empty.
    DirCreated { path: PathBuf },
    /// Our marked block in a text file; `created` when the file did not exist, `separator` what
    /// was put between the file's text and the block.
    BlockAdded {
        path: PathBuf,
        created: bool,
        separator: String,
    },
    /// A whole file of ours (a macOS LaunchAgent) with the SHA-256 of what we wrote: removed on
    /// undo only while it still has that content.
    FileWritten { path: PathBuf, sha256: String },
    /// A stable bundle kept fresh in this cache directory (see `stable_bundle`).
    StableBundle { cache: PathBuf },
}

impl Change {
    /// Whether this change put `entry` on the path list `variable` (compared as the OS does).
    // Windows only: `shim remove` undoes the user PATH entry `shim install` added.
    #[cfg_attr(not(windows), allow(dead_code))]
    pub fn adds_path_entry(&self, variable: &str, entry: &str) -> bool {
        matches!(self, Change::PathEntryAdded { variable: v, entry: e, .. }
            if v.eq_ignore_ascii_case(variable) && same_entry(e, entry))
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recorded {
    /// The trustrun command that made the change (`shim`, `setup`): each undoes only its own.
    pub owner: String,
    pub scope: Scope,
    #[serde(flatten)]
    pub change: Change,
}

/// A variable's value as the store keeps it. On Windows `expand` is `REG_EXPAND_SZ` (its
/// `%VAR%` references are expanded when read); a rewrite keeps the kind it found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Value {
    pub text: String,
    pub expand: bool,
}

/// A place that holds persistent user variables: the registry on Windows, a map in tests.
pub trait Store {
    fn get(&self, name: &str) -> Result<Option<Value>>;
    fn set(&mut self, name: &str, value: &Value) -> Result<()>;
    fn remove(&mut self, name: &str) -> Result<()>;
    /// Tells running programs (Explorer, new terminals) that the environment changed.
    fn announce(&mut self) {}
}

/// What `prepend_path_entry` did.
#[derive(Debug, PartialEq, Eq)]
#[cfg_attr(not(windows), allow(dead_code))]
pub enum Outcome {
    Added,
    /// The entry was there already (the user's own, or ours from before): nothing changed.
    AlreadyThere,
}

/// The record of changes, and the file it lives in.
pub struct UserEnv {
    path: PathBuf,
    changes: Vec<Recorded>,
}

#[derive(Serialize, Deserialize)]
struct RecordFile {
    version: u32,
    changes: Vec<Recorded>,
}

const RECORD_VERSION: u32 = 1;
const RECORD_NAME: &str = "user-env.json";

/// The record file: trustrun's per-user data directory (next to the shims by default).
pub fn record_path() -> Result<PathBuf> {
    dirs::data_local_dir()
        .map(|d| d.join("trustrun").join(RECORD_NAME))
        .context("no per-user data directory is known here, so changes to the user environment cannot be recorded")
}

impl UserEnv {
    pub fn open() -> Result<UserEnv> {
        UserEnv::open_at(&record_path()?)
    }

    pub fn open_at(path: &Path) -> Result<UserEnv> {
        let changes = match std::fs::read_to_string(path) {
            Ok(text) => {
                let file: RecordFile = serde_json::from_str(&text).with_context(|| {
                    format!("{}: not a record of trustrun's changes", path.display())
                })?;
                file.changes
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        Ok(UserEnv {
            path: path.to_owned(),
            changes,
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
    /// them. Returns what was undone. A change the user has since undone by hand is forgotten
    /// without touching anything; a variable the user changed since is not put back.
    pub fn undo(
        &mut self,
        store: &mut dyn Store,
        owner: &str,
        which: impl Fn(&Change) -> bool,
    ) -> Result<Vec<Change>> {
        let mut undone = Vec::new();
        let mut kept = Vec::new();
        let mut touched = false;
        for recorded in std::mem::take(&mut self.changes).into_iter().rev() {
            if recorded.owner != owner || !which(&recorded.change) {
                kept.push(recorded);
                continue;
            }
            touched |= undo_one(store, &recorded.change)?;
            undone.push(recorded.change);
        }
        kept.reverse();
        self.changes = kept;
        self.save()?;
        if touched {
            store.announce();
        }
        Ok(undone)
    }

    fn save(&self) -> Result<()> {
        if self.changes.is_empty() {
            return match std::fs::remove_file(&self.path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    Err(e).with_context(|| format!("cannot remove {}", self.path.display()))
                }
                _ => Ok(()),
            };
        }
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let file = RecordFile {
            version: RECORD_VERSION,
            changes: self.changes.clone(),
        };
        let text = serde_json::to_string_pretty(&file)?;
        crate::cache::write_atomic(&self.path, text.as_bytes())
    }
}

/// Undoes one change; whether the store was written.
fn undo_one(store: &mut dyn Store, change: &Change) -> Result<bool> {
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
            files::undo(change)?;
            Ok(false)
        }
    }
}

/// The path-list separator of the user environment this platform keeps.
const SEPARATOR: char = if cfg!(windows) { ';' } else { ':' };

fn split_list(text: &str) -> Vec<String> {
    text.split(SEPARATOR).map(str::to_owned).collect()
}

/// Whether two path-list entries name the same directory as the OS compares them (Windows:
/// case-insensitive, a trailing backslash ignored).
fn same_entry(a: &str, b: &str) -> bool {
    if cfg!(windows) {
        let trim = |s: &str| s.trim_end_matches(['\\', '/']).to_lowercase();
        trim(a) == trim(b)
    } else {
        a.trim_end_matches('/') == b.trim_end_matches('/')
    }
}

/// The current user's environment in the registry, `HKCU\Environment`.
#[cfg(windows)]
pub struct Registry;

#[cfg(windows)]
impl Registry {
    const KEY: &str = "Environment";

    fn wide(s: &str) -> Vec<u16> {
        s.encode_utf16().chain(std::iter::once(0)).collect()
    }

    fn open(write: bool) -> Result<windows_sys::Win32::System::Registry::HKEY> {
        use windows_sys::Win32::System::Registry::{
            HKEY_CURRENT_USER, KEY_READ, KEY_WRITE, REG_OPTION_NON_VOLATILE, RegCreateKeyExW,
        };
        let mut key = std::ptr::null_mut();
        let access = if write {
            KEY_READ | KEY_WRITE
        } else {
            KEY_READ
        };
        let status = unsafe {
            RegCreateKeyExW(
                HKEY_CURRENT_USER,
                Self::wide(Self::KEY).as_ptr(),
                0,
                std::ptr::null(),
                REG_OPTION_NON_VOLATILE,
                access,
                std::ptr::null(),
                &mut key,
                std::ptr::null_mut(),
            )
        };
        if status != 0 {
            return Err(std::io::Error::from_raw_os_error(status as i32))
                .context("cannot open HKCU\\Environment");
        }
        Ok(key)
    }
}

#[cfg(windows)]
impl Store for Registry {
    fn get(&self, name: &str) -> Result<Option<Value>> {
        use windows_sys::Win32::Foundation::ERROR_FILE_NOT_FOUND;
        use windows_sys::Win32::System::Registry::{
            REG_EXPAND_SZ, REG_SZ, RegCloseKey, RegQueryValueExW,
        };
        let key = Self::open(false)?;
        let wname = Self::wide(name);
        let mut kind = 0u32;
        let mut size = 0u32;
        let mut status = unsafe {
            RegQueryValueExW(
                key,
                wname.as_ptr(),
                std::ptr::null(),
                &mut kind,
                std::ptr::null_mut(),
                &mut size,
            )
        };
        let mut buf = vec![0u16; (size as usize).div_ceil(2) + 1];
        if status == 0 {
            size = (buf.len() * 2) as u32;
            status = unsafe {
                RegQueryValueExW(
                    key,
                    wname.as_ptr(),
                    std::ptr::null(),
                    &mut kind,
                    buf.as_mut_ptr().cast(),
                    &mut size,
                )
            };
        }
        unsafe { RegCloseKey(key) };
        if status == ERROR_FILE_NOT_FOUND {
            return Ok(None);
        }
        if status != 0 {
            return Err(std::io::Error::from_raw_os_error(status as i32))
                .with_context(|| format!("cannot read HKCU\\Environment\\{name}"));
        }
        if kind != REG_SZ && kind != REG_EXPAND_SZ {
            anyhow::bail!("HKCU\\Environment\\{name} is not a string value; left alone");
        }
        buf.truncate(size as usize / 2);
        while buf.last() == Some(&0) {
            buf.pop();
        }
        Ok(Some(Value {
            text: String::from_utf16_lossy(&buf),
            expand: kind == REG_EXPAND_SZ,
        }))
    }

    fn set(&mut self, name: &str, value: &Value) -> Result<()> {
        use windows_sys::Win32::System::Registry::{
            REG_EXPAND_SZ, REG_SZ, RegCloseKey, RegSetValueExW,
        };
        let key = Self::open(true)?;
        let data = Self::wide(&value.text);
        let kind = if value.expand { REG_EXPAND_SZ } else { REG_SZ };
        let status = unsafe {
            RegSetValueExW(
                key,
                Self::wide(name).as_ptr(),
                0,
                kind,
                data.as_ptr().cast(),
                (data.len() * 2) as u32,
            )
        };
        unsafe { RegCloseKey(key) };
        if status != 0 {
            return Err(std::io::Error::from_raw_os_error(status as i32))
                .with_context(|| format!("cannot write HKCU\\Environment\\{name}"));
        }
        Ok(())
    }

    fn remove(&mut self, name: &str) -> Result<()> {
        use windows_sys::Win32::Foundation::ERROR_FILE_NOT_FOUND;
        use windows_sys::Win32::System::Registry::{RegCloseKey, RegDeleteValueW};
        let key = Self::open(true)?;
        let status = unsafe { RegDeleteValueW(key, Self::wide(name).as_ptr()) };
        unsafe { RegCloseKey(key) };
        if status != 0 && status != ERROR_FILE_NOT_FOUND {
            return Err(std::io::Error::from_raw_os_error(status as i32))
                .with_context(|| format!("cannot delete HKCU\\Environment\\{name}"));
        }
        Ok(())
    }

    fn announce(&mut self) {
        use windows_sys::Win32::UI::WindowsAndMessaging::{
            HWND_BROADCAST, SMTO_ABORTIFHUNG, SendMessageTimeoutW, WM_SETTINGCHANGE,
        };
        // What the System Properties dialog sends: Explorer rereads the environment, so programs
        // started from it afterwards see the change. A window that does not answer in a second
        // is skipped, not waited for.
        let what = Self::wide("Environment");
        unsafe {
            SendMessageTimeoutW(
                HWND_BROADCAST,
                WM_SETTINGCHANGE,
                0,
                what.as_ptr() as isize,
                SMTO_ABORTIFHUNG,
                1000,
                std::ptr::null_mut(),
            );
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
        let mut env = UserEnv::open_at(&record).unwrap();
        env.undo(&mut store, "shim", |_| true).unwrap();
        assert_eq!(text(&store, "Path"), None);

        // The user added an entry after ours: undoing keeps theirs.
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
    fn a_broken_record_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let record = dir.path().join("user-env.json");
        std::fs::write(&record, "not json").unwrap();
        let err = UserEnv::open_at(&record).err().unwrap();
        assert!(format!("{err:#}").contains("user-env.json"), "{err:#}");
    }
}
