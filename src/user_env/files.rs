//! The record's file changes (what `trustrun setup` writes outside the registry): marked blocks
//! in shell profiles, whole files of ours, the directories made for them, and the stable bundle
//! setup keeps fresh; plus setting a single user variable (Windows). Each change is recorded
//! before it is made, under its owner, so `UserEnv::undo` takes back exactly that.
// The shell profiles and files setup writes are Unix and macOS targets; Windows setup writes
// the registry (user_env::Registry).
#![cfg_attr(windows, allow(dead_code))]

use std::fs;
use std::path::Path;

use anyhow::{Context, Result};

use super::{Change, Recorded, Scope, Store, UserEnv, Value, block};

/// What putting one thing in place did (or, under `--dry-run`, would do).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Edit {
    Added,
    Updated,
    Unchanged,
}

impl Edit {
    pub fn verb(self, dry_run: bool) -> &'static str {
        match (self, dry_run) {
            (Edit::Added, false) => "added",
            (Edit::Added, true) => "would add",
            (Edit::Updated, false) => "updated",
            (Edit::Updated, true) => "would update",
            (Edit::Unchanged, _) => "unchanged",
        }
    }
}

/// For platforms whose user variables live in files (Unix): a store that holds none, so undoing
/// file changes needs no registry.
pub struct NoVariables;

impl Store for NoVariables {
    fn get(&self, _name: &str) -> Result<Option<Value>> {
        Ok(None)
    }
    fn set(&mut self, name: &str, _value: &Value) -> Result<()> {
        anyhow::bail!("{name}: this platform keeps no user variables outside files")
    }
    fn remove(&mut self, _name: &str) -> Result<()> {
        Ok(())
    }
}

impl UserEnv {
    fn note(&mut self, owner: &str, scope: Scope, change: Change) -> Result<()> {
        if !self.changes.iter().any(|r| r.change == change) {
            self.changes.push(Recorded {
                owner: owner.to_owned(),
                scope,
                change,
            });
        }
        self.save()
    }

    /// Whether `owner` has any change recorded (setup is in place).
    pub fn has_owner(&self, owner: &str) -> bool {
        self.changes.iter().any(|r| r.owner == owner)
    }

    /// The cache whose stable bundle setup keeps fresh, when setup is in place.
    pub fn stable_bundle_cache(&self) -> Option<&Path> {
        self.changes.iter().find_map(|r| match &r.change {
            Change::StableBundle { cache } => Some(cache.as_path()),
            _ => None,
        })
    }

    pub fn note_stable_bundle(&mut self, owner: &str, cache: &Path) -> Result<()> {
        self.note(
            owner,
            Scope::Cache,
            Change::StableBundle {
                cache: cache.to_owned(),
            },
        )
    }

    /// Puts our block with `body` into `path`, creating the file (and its directory) when
    /// needed. Under `dry_run` only tells what it would do.
    pub fn put_block(
        &mut self,
        owner: &str,
        path: &Path,
        body: &str,
        dry_run: bool,
    ) -> Result<Edit> {
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
        let edit = match block::find(&text) {
            Some(r) if text[r.clone()] == wanted => Edit::Unchanged,
            Some(_) => Edit::Updated,
            None => Edit::Added,
        };
        if dry_run || edit == Edit::Unchanged {
            return Ok(edit);
        }
        if let Some(dir) = path.parent() {
            self.create_dirs(owner, dir)?;
        }
        // The first time wins: a block put back after the user removed it keeps the record of
        // how the file was before trustrun ever touched it.
        let recorded = self
            .changes
            .iter()
            .any(|r| matches!(&r.change, Change::BlockAdded { path: p, .. } if p == path));
        if !recorded {
            self.note(
                owner,
                Scope::Files,
                Change::BlockAdded {
                    path: path.to_owned(),
                    created: existing.is_none(),
                    separator: block::separator(&text).to_owned(),
                },
            )?;
        }
        write_keeping_mode(path, block::put(&text, &wanted).as_bytes())?;
        Ok(edit)
    }

    /// Writes a whole file of ours at `path` (refusing to replace a file that is not ours).
    pub fn put_file(
        &mut self,
        owner: &str,
        path: &Path,
        contents: &str,
        dry_run: bool,
    ) -> Result<Edit> {
        let recorded = self
            .changes
            .iter()
            .position(|r| matches!(&r.change, Change::FileWritten { path: p, .. } if p == path));
        let edit = match fs::read(path) {
            Ok(bytes) if bytes == contents.as_bytes() => Edit::Unchanged,
            Ok(bytes) => {
                let ours = recorded.is_some_and(|i| {
                    matches!(&self.changes[i].change, Change::FileWritten { sha256, .. } if *sha256 == digest(&bytes))
                });
                if !ours {
                    anyhow::bail!(
                        "{} exists and is not trustrun's; left alone",
                        path.display()
                    );
                }
                Edit::Updated
            }
            Err(_) => Edit::Added,
        };
        if dry_run || edit == Edit::Unchanged {
            return Ok(edit);
        }
        if let Some(dir) = path.parent() {
            self.create_dirs(owner, dir)?;
        }
        let change = Change::FileWritten {
            path: path.to_owned(),
            sha256: digest(contents.as_bytes()),
        };
        match recorded {
            Some(i) => self.changes[i].change = change,
            None => self.changes.push(Recorded {
                owner: owner.to_owned(),
                scope: Scope::Files,
                change,
            }),
        }
        self.save()?;
        write_keeping_mode(path, contents.as_bytes())?;
        Ok(edit)
    }

    /// Sets the user variable `name` to `value` in `store`, recording what it held before (the
    /// first time: a later setup keeps the value from before trustrun).
    #[cfg_attr(not(windows), allow(dead_code))]
    pub fn set_variable(
        &mut self,
        store: &mut dyn Store,
        owner: &str,
        scope: Scope,
        name: &str,
        value: &str,
        dry_run: bool,
    ) -> Result<Edit> {
        let previous = store.get(name)?;
        if previous.as_ref().is_some_and(|p| p.text == value) {
            return Ok(Edit::Unchanged);
        }
        let edit = if previous.is_some() {
            Edit::Updated
        } else {
            Edit::Added
        };
        if dry_run {
            return Ok(edit);
        }
        let earlier = self.changes.iter_mut().find_map(|r| match &mut r.change {
            Change::VariableSet {
                variable, value: v, ..
            } if r.owner == owner && variable.eq_ignore_ascii_case(name) => Some(v),
            _ => None,
        });
        match earlier {
            Some(v) => *v = value.to_owned(),
            None => self.changes.push(Recorded {
                owner: owner.to_owned(),
                scope,
                change: Change::VariableSet {
                    variable: name.to_owned(),
                    value: value.to_owned(),
                    previous: previous.map(|p| p.text),
                },
            }),
        }
        self.save()?;
        store.set(
            name,
            &Value {
                text: value.to_owned(),
                expand: false,
            },
        )?;
        Ok(edit)
    }

    /// Creates `dir` and the parents missing, recording each one made.
    fn create_dirs(&mut self, owner: &str, dir: &Path) -> Result<()> {
        let missing: Vec<&Path> = dir.ancestors().take_while(|d| !d.exists()).collect();
        for d in missing.into_iter().rev() {
            fs::create_dir(d).with_context(|| format!("cannot create {}", d.display()))?;
            self.note(
                owner,
                Scope::Files,
                Change::DirCreated { path: d.to_owned() },
            )?;
        }
        Ok(())
    }
}

/// Takes back one file change. A file the user changed since is left as it is.
pub(super) fn undo(change: &Change) -> Result<()> {
    match change {
        Change::DirCreated { path } => {
            // Not empty: something of the user's is in it now.
            let _ = fs::remove_dir(path);
        }
        Change::BlockAdded {
            path,
            created,
            separator,
        } => {
            let text = match fs::read_to_string(path) {
                Ok(t) => t,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
                Err(e) => {
                    return Err(e).with_context(|| format!("cannot read {}", path.display()));
                }
            };
            match block::remove(&text, separator) {
                None => {}
                Some(rest) if rest.is_empty() && *created => fs::remove_file(path)
                    .with_context(|| format!("cannot remove {}", path.display()))?,
                Some(rest) => write_keeping_mode(path, rest.as_bytes())?,
            }
        }
        Change::FileWritten { path, sha256 } => {
            if fs::read(path).is_ok_and(|bytes| digest(&bytes) == *sha256) {
                fs::remove_file(path)
                    .with_context(|| format!("cannot remove {}", path.display()))?;
            }
        }
        Change::StableBundle { cache } => crate::stable_bundle::retire(cache)?,
        Change::PathEntryAdded { .. } | Change::VariableSet { .. } => {}
    }
    Ok(())
}

fn digest(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    crate::digest::hex(&Sha256::digest(bytes))
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
