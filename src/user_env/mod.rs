//! The one writer of the user's environment: marked blocks in shell profiles and files of our
//! own (Unix), values in `HKCU\Environment` and entries on the user PATH (Windows), each change
//! written down in one record as it is made, so that `undo` takes back exactly what was added and
//! nothing else.
//!
//! Stage: off the hot path (`trustrun setup`). The record is `user-env.json` in trustrun's
//! per-user data directory; this module is its only reader and writer.

pub mod block;
#[cfg(windows)]
pub mod registry;

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

/// Every change trustrun made to the user's environment, in the order made.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Record {
    pub changes: Vec<Change>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    /// A directory that did not exist (`~/.config/fish/conf.d`); removed again when empty.
    Dir { path: PathBuf },
    /// Our marked block in a text file; `created` when the file did not exist, `separator` what
    /// was put between the file's text and the block.
    Block {
        path: PathBuf,
        created: bool,
        separator: String,
    },
    /// A whole file of ours (a macOS LaunchAgent), with the SHA-256 of what we wrote: removed on
    /// undo only while it still has that content.
    File { path: PathBuf, sha256: String },
    /// A stable bundle kept fresh in this cache directory (see `stable_bundle`).
    StableBundle { cache: PathBuf },
    /// A value in `HKCU\Environment`: what it was before (`None`: absent) and what we wrote.
    RegistryValue {
        name: String,
        previous: Option<RegistryData>,
        written: RegistryData,
    },
    /// A directory we put on the user PATH (`HKCU\Environment\Path`).
    PathEntry { entry: String },
}

/// A registry string and whether it was `REG_EXPAND_SZ` (`%VAR%` expanded when read).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistryData {
    pub value: String,
    pub expand: bool,
}

/// What applying one change did (or, under `--dry-run`, would do).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Added,
    Updated,
    Unchanged,
}

impl Outcome {
    pub fn verb(self, dry_run: bool) -> &'static str {
        match (self, dry_run) {
            (Outcome::Added, false) => "added",
            (Outcome::Added, true) => "would add",
            (Outcome::Updated, false) => "updated",
            (Outcome::Updated, true) => "would update",
            (Outcome::Unchanged, _) => "unchanged",
        }
    }
}

/// Where the record lives: beside the shims, in trustrun's per-user data directory.
pub fn record_path() -> Result<PathBuf> {
    dirs::data_local_dir()
        .map(|d| d.join("trustrun").join("user-env.json"))
        .context("no per-user data directory is known here")
}

impl Record {
    pub fn load() -> Result<Record> {
        let path = record_path()?;
        match fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).with_context(|| {
                format!(
                    "{}: not a record trustrun wrote; fix or remove it",
                    path.display()
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Record::default()),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }

    /// Written after each change, so a failure half-way still leaves a record of what was done.
    pub fn save(&self) -> Result<()> {
        let path = record_path()?;
        if self.changes.is_empty() {
            return match fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    Err(e).with_context(|| format!("cannot remove {}", path.display()))
                }
                _ => {
                    // Only when empty: the shims may live there too.
                    if let Some(dir) = path.parent() {
                        let _ = fs::remove_dir(dir);
                    }
                    Ok(())
                }
            };
        }
        let text = serde_json::to_vec_pretty(self).context("cannot write the record")?;
        crate::cache::write_atomic(&path, &text)
            .with_context(|| format!("cannot write {}", path.display()))
    }

    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    fn note(&mut self, change: Change) -> Result<()> {
        if !self.changes.contains(&change) {
            self.changes.push(change);
        }
        self.save()
    }

    fn block_in(&self, path: &Path) -> Option<&Change> {
        self.changes
            .iter()
            .find(|c| matches!(c, Change::Block { path: p, .. } if p == path))
    }

    pub fn blocks(&self) -> impl Iterator<Item = &Path> {
        self.changes.iter().filter_map(|c| match c {
            Change::Block { path, .. } => Some(path.as_path()),
            _ => None,
        })
    }

    pub fn stable_bundle_cache(&self) -> Option<&Path> {
        self.changes.iter().find_map(|c| match c {
            Change::StableBundle { cache } => Some(cache.as_path()),
            _ => None,
        })
    }

    /// Puts our block with `body` into `path`, creating the file (and its directory) when
    /// needed. Under `dry_run` only tells what it would do.
    pub fn put_block(&mut self, path: &Path, body: &str, dry_run: bool) -> Result<Outcome> {
        let wanted = block::render(body);
        let existing =
            match fs::read(path) {
                Ok(bytes) => Some(String::from_utf8(bytes).map_err(|_| {
                    anyhow::anyhow!("{}: not UTF-8 text; left alone", path.display())
                })?),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
            };
        let text = existing.clone().unwrap_or_default();
        let outcome = match block::find(&text) {
            Some(r) if text[r.clone()] == wanted => Outcome::Unchanged,
            Some(_) => Outcome::Updated,
            None => Outcome::Added,
        };
        if dry_run || outcome == Outcome::Unchanged {
            return Ok(outcome);
        }
        if let Some(dir) = path.parent() {
            self.create_dirs(dir)?;
        }
        // The first time wins: a block put back after the user removed it keeps the record of
        // how the file was before trustrun ever touched it.
        if self.block_in(path).is_none() {
            self.note(Change::Block {
                path: path.to_owned(),
                created: existing.is_none(),
                separator: block::separator(&text).to_owned(),
            })?;
        }
        write_keeping_mode(path, block::put(&text, &wanted).as_bytes())?;
        Ok(outcome)
    }

    /// Creates `dir` and the parents missing, recording each one made.
    fn create_dirs(&mut self, dir: &Path) -> Result<()> {
        let missing: Vec<&Path> = dir.ancestors().take_while(|d| !d.exists()).collect();
        for d in missing.into_iter().rev() {
            fs::create_dir(d).with_context(|| format!("cannot create {}", d.display()))?;
            self.note(Change::Dir { path: d.to_owned() })?;
        }
        Ok(())
    }

    /// Writes a whole file of ours at `path` (refusing to replace a file that is not ours).
    pub fn put_file(&mut self, path: &Path, contents: &str, dry_run: bool) -> Result<Outcome> {
        let recorded = self
            .changes
            .iter()
            .position(|c| matches!(c, Change::File { path: p, .. } if p == path));
        let outcome = match fs::read(path) {
            Ok(bytes) if bytes == contents.as_bytes() => Outcome::Unchanged,
            Ok(bytes) => {
                let ours = recorded.is_some_and(|i| {
                    matches!(&self.changes[i], Change::File { sha256, .. } if *sha256 == digest(&bytes))
                });
                if !ours {
                    anyhow::bail!(
                        "{} exists and is not trustrun's; left alone",
                        path.display()
                    );
                }
                Outcome::Updated
            }
            Err(_) => Outcome::Added,
        };
        if dry_run || outcome == Outcome::Unchanged {
            return Ok(outcome);
        }
        if let Some(dir) = path.parent() {
            self.create_dirs(dir)?;
        }
        let change = Change::File {
            path: path.to_owned(),
            sha256: digest(contents.as_bytes()),
        };
        match recorded {
            Some(i) => self.changes[i] = change,
            None => self.changes.push(change),
        }
        self.save()?;
        write_keeping_mode(path, contents.as_bytes())?;
        Ok(outcome)
    }

    pub fn note_stable_bundle(&mut self, cache: &Path) -> Result<()> {
        self.note(Change::StableBundle {
            cache: cache.to_owned(),
        })
    }

    /// Takes back every change, newest first, and says what it did, one line each. A change the
    /// user has since made their own (a registry value they rewrote) is left and reported.
    pub fn undo(&mut self) -> Result<Vec<String>> {
        let mut said = Vec::new();
        while let Some(change) = self.changes.last().cloned() {
            said.extend(undo_one(&change)?);
            self.changes.pop();
            self.save()?;
        }
        #[cfg(windows)]
        registry::broadcast();
        Ok(said)
    }
}

fn undo_one(change: &Change) -> Result<Option<String>> {
    Ok(match change {
        Change::Dir { path } => match fs::remove_dir(path) {
            Ok(()) => Some(format!("removed    {}", path.display())),
            // Not empty: something of the user's is in it now.
            Err(_) => None,
        },
        Change::Block {
            path,
            created,
            separator,
        } => {
            let text = match fs::read_to_string(path) {
                Ok(t) => t,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                Err(e) => {
                    return Err(e).with_context(|| format!("cannot read {}", path.display()));
                }
            };
            match block::remove(&text, separator) {
                None => Some(format!("no block   {} (removed already)", path.display())),
                Some(rest) if rest.is_empty() && *created => {
                    fs::remove_file(path)
                        .with_context(|| format!("cannot remove {}", path.display()))?;
                    Some(format!("removed    {}", path.display()))
                }
                Some(rest) => {
                    write_keeping_mode(path, rest.as_bytes())?;
                    Some(format!("restored   {}", path.display()))
                }
            }
        }
        Change::File { path, sha256 } => match fs::read(path) {
            Ok(bytes) if digest(&bytes) == *sha256 => {
                fs::remove_file(path)
                    .with_context(|| format!("cannot remove {}", path.display()))?;
                Some(format!("removed    {}", path.display()))
            }
            Ok(_) => Some(format!(
                "left       {} (changed since trustrun wrote it)",
                path.display()
            )),
            Err(_) => None,
        },
        Change::StableBundle { cache } => {
            crate::stable_bundle::retire(cache)?;
            Some(format!(
                "stopped refreshing {} (left in place for processes already started)",
                crate::stable_bundle::path(cache).display()
            ))
        }
        #[cfg(windows)]
        Change::RegistryValue {
            name,
            previous,
            written,
        } => registry::undo_value(name, previous.as_ref(), written)?,
        #[cfg(windows)]
        Change::PathEntry { entry } => registry::undo_path_entry(entry)?,
        #[cfg(not(windows))]
        Change::RegistryValue { .. } | Change::PathEntry { .. } => None,
    })
}

fn digest(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    crate::sources::hex(&Sha256::digest(bytes))
}

/// Replaces `path` atomically with `contents`, keeping the file's permissions (a profile may be
/// 0600 on purpose); a new file gets 0644, as shells create them.
fn write_keeping_mode(path: &Path, contents: &[u8]) -> Result<()> {
    use std::io::Write;
    // A symlinked profile (dotfiles managed in a repository) is written through, not replaced.
    let target = fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
    let dir = target.parent().context("a file without a directory")?;
    let mode = fs::metadata(&target).map(|m| m.permissions()).ok();
    let mut tmp = tempfile::Builder::new()
        .prefix(".trustrun-")
        .tempfile_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    tmp.write_all(contents)
        .and_then(|_| tmp.as_file().sync_all())
        .with_context(|| format!("cannot write {}", path.display()))?;
    let perms = match mode {
        Some(p) => p,
        #[cfg(unix)]
        None => std::os::unix::fs::PermissionsExt::from_mode(0o644),
        #[cfg(not(unix))]
        None => tmp.as_file().metadata()?.permissions(),
    };
    fs::set_permissions(tmp.path(), perms)
        .with_context(|| format!("cannot set permissions on {}", path.display()))?;
    tmp.persist(&target)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot write {}", target.display()))?;
    Ok(())
}
