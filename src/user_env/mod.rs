//! The user's persistent environment (beside the pipeline, for setup and shims; on Windows
//! `HKCU\Environment`), written through one place
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
mod record;
#[cfg(windows)]
mod windows;

#[cfg_attr(windows, allow(unused_imports))]
pub use files::{LeftAlone, LineCheck, NoVariables};
pub use record::UserEnv;
#[cfg(windows)]
pub use windows::Registry;

use std::path::PathBuf;

use anyhow::Result;
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
    /// A stable bundle kept fresh in this cache directory (see `store::stable`).
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

/// The path-list separator of the user environment this platform keeps.
use crate::util::path_list::SEPARATOR;

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
