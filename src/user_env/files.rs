//! The record's file changes (beside the pipeline; what `trustrun setup` writes outside the
//! registry): marked blocks
//! in shell profiles, whole files of ours, the directories made for them, and the stable bundle
//! setup keeps fresh; plus setting a single user variable (Windows). Each change is recorded
//! before it is made, under its owner, so `UserEnv::undo` takes back exactly that.
// The shell profiles and files setup writes are Unix and macOS targets; Windows setup writes
// the registry (user_env::Registry).
#![cfg_attr(windows, allow(dead_code))]

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

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

/// A file setup leaves alone, and why: a refusal for this one file (nothing in it was changed),
/// which the caller reports as one warning while it finishes the other files.
#[derive(Debug)]
pub struct LeftAlone {
    pub path: PathBuf,
    pub why: String,
}

impl fmt::Display for LeftAlone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}; left alone", self.path.display(), self.why)
    }
}

impl std::error::Error for LeftAlone {}

fn left_alone(path: &Path, why: impl Into<String>) -> anyhow::Error {
    LeftAlone {
        path: path.to_owned(),
        why: why.into(),
    }
    .into()
}

/// Which lines may stand between our markers in the file at a path: the lines setup writes
/// there (setup knows its formats; see `block::scan`).
pub type LineCheck<'a> = &'a dyn Fn(&Path, &str) -> bool;

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

    /// Whether a block in `path` is in the record.
    pub fn has_block(&self, path: &Path) -> bool {
        self.changes
            .iter()
            .any(|r| matches!(&r.change, Change::BlockAdded { path: p, .. } if p == path))
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

    /// Puts our block with `body` into `path`, creating the file (and its directories) when
    /// needed; `is_ours` tells the lines setup writes, so that markers around anything else are
    /// refused (`LeftAlone`) rather than taken for our block. Under `dry_run` only tells what it
    /// would do. A block that is there already but not recorded (the profile came from a
    /// dotfiles repository) is recorded, so that `--undo` takes it back.
    pub fn put_block(
        &mut self,
        owner: &str,
        path: &Path,
        body: &str,
        is_ours: &dyn Fn(&str) -> bool,
        dry_run: bool,
    ) -> Result<Edit> {
        let found = inspect(path)?;
        let text = found.text();
        let blocks = block::scan(text, is_ours).map_err(|p| at_line(path, p))?;
        let wanted = block::render(body);
        let edit = match blocks.as_slice() {
            [] => Edit::Added,
            [one] if text[one.clone()] == wanted => Edit::Unchanged,
            _ => Edit::Updated,
        };
        if found.existing.is_none() {
            place_is_ours(path)?;
        }
        if edit != Edit::Unchanged {
            found.writable(path)?;
        }
        if dry_run {
            return Ok(edit);
        }
        if found.existing.is_none()
            && let Some(dir) = path.parent()
        {
            // Before the block's record: undo goes newest first, the file before its directory.
            self.create_dirs(owner, dir)?;
        }
        // The first time wins: a block put back after the user removed it keeps the record of
        // how the file was before trustrun ever touched it.
        if !self.has_block(path) {
            let separator = if blocks.is_empty() {
                block::separator(text)
            } else {
                block::guessed_separator(text, &blocks)
            };
            self.note(
                owner,
                Scope::Files,
                Change::BlockAdded {
                    path: path.to_owned(),
                    created: found.existing.is_none(),
                    separator: separator.to_owned(),
                },
            )?;
        }
        if edit != Edit::Unchanged {
            found.write(block::put(text, &blocks, &wanted).as_bytes())?;
        }
        Ok(edit)
    }

    /// Records the block found in `path` when the record does not have it (a profile synced
    /// from a dotfiles repository), so that `undo` takes it back; whether there is one. Under
    /// `dry_run` only tells.
    pub fn adopt_block(
        &mut self,
        owner: &str,
        path: &Path,
        is_ours: &dyn Fn(&str) -> bool,
        dry_run: bool,
    ) -> Result<bool> {
        if self.has_block(path) {
            return Ok(true);
        }
        // What cannot be read as text (a dangling link, a FIFO) holds no block to take back.
        let found = match inspect(path) {
            Ok(found) => found,
            Err(e) if e.downcast_ref::<LeftAlone>().is_some() => return Ok(false),
            Err(e) => return Err(e),
        };
        let text = found.text();
        let blocks = block::scan(text, is_ours).map_err(|p| at_line(path, p))?;
        if blocks.is_empty() {
            return Ok(false);
        }
        // Found to be undone: it must be writable then.
        found.writable(path)?;
        if !dry_run {
            self.note(
                owner,
                Scope::Files,
                Change::BlockAdded {
                    path: path.to_owned(),
                    created: false,
                    separator: block::guessed_separator(text, &blocks).to_owned(),
                },
            )?;
        }
        Ok(true)
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
        let found = inspect(path)?;
        let edit = match &found.existing {
            Some(e) if e.text == contents => Edit::Unchanged,
            Some(e) => {
                let ours = recorded.is_some_and(|i| {
                    matches!(&self.changes[i].change, Change::FileWritten { sha256, .. } if *sha256 == digest(e.text.as_bytes()))
                });
                if !ours {
                    return Err(left_alone(path, "it exists and is not trustrun's"));
                }
                Edit::Updated
            }
            None => {
                place_is_ours(path)?;
                Edit::Added
            }
        };
        if edit != Edit::Unchanged {
            found.writable(path)?;
        }
        if dry_run || edit == Edit::Unchanged {
            return Ok(edit);
        }
        if found.existing.is_none()
            && let Some(dir) = path.parent()
        {
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
        found.write(contents.as_bytes())?;
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

    /// Creates `dir` and the parents missing, recording each one made. They are directories
    /// the user's shells read (`~/.config/fish/conf.d`): mode 0755 whatever the umask (a narrower
    /// umask narrows it), never writable by another user, who could drop a file there that
    /// every new shell runs.
    fn create_dirs(&mut self, owner: &str, dir: &Path) -> Result<()> {
        let missing: Vec<&Path> = dir
            .ancestors()
            .take_while(|d| fs::symlink_metadata(d).is_err())
            .collect();
        for d in missing.into_iter().rev() {
            match crate::util::fs::dir_builder(SHELL_DIR_MODE).create(d) {
                Ok(()) => {}
                // Made meanwhile (by the user's shell, say): theirs, not recorded.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e).with_context(|| format!("cannot create {}", d.display())),
            }
            self.note(
                owner,
                Scope::Files,
                Change::DirCreated { path: d.to_owned() },
            )?;
        }
        Ok(())
    }
}

fn at_line(path: &Path, problem: block::Problem) -> anyhow::Error {
    left_alone(
        path,
        format!(
            "line {}: {}; nothing in it was changed (fix or remove those lines, then run setup again)",
            problem.line, problem.what
        ),
    )
}

/// Directories the user's shells read: readable by all, writable by the user alone.
pub(super) const SHELL_DIR_MODE: u32 = 0o755;

/// Takes back one file change. A file the user changed since is left as it is; one whose block
/// cannot be told apart from the user's lines is refused (`LeftAlone`) and stays recorded.
pub(super) fn undo(change: &Change, lines: LineCheck) -> Result<()> {
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
            let found = inspect(path)?;
            if found.existing.is_none() {
                return Ok(());
            }
            let text = found.text();
            let blocks = block::scan(text, |l| lines(path, l)).map_err(|p| at_line(path, p))?;
            if blocks.is_empty() {
                return Ok(());
            }
            found.writable(path)?;
            let rest = block::remove(text, &blocks, separator);
            // A link stays a link (a dotfiles repository's file behind it is written through).
            if rest.is_empty() && *created && !found.through_link {
                fs::remove_file(path)
                    .with_context(|| format!("cannot remove {}", path.display()))?;
            } else {
                found.write(rest.as_bytes())?;
            }
        }
        Change::FileWritten { path, sha256 } => {
            let found = inspect(path)?;
            if !found.through_link
                && found
                    .existing
                    .as_ref()
                    .is_some_and(|e| digest(e.text.as_bytes()) == *sha256)
            {
                found.writable(path)?;
                fs::remove_file(path)
                    .with_context(|| format!("cannot remove {}", path.display()))?;
            }
        }
        Change::StableBundle { cache } => crate::store::stable::retire(cache)?,
        Change::PathEntryAdded { .. } | Change::VariableSet { .. } => {}
    }
    Ok(())
}

fn digest(bytes: &[u8]) -> String {
    crate::util::digest::sha256_hex(bytes)
}

/// A text file of the user's (a shell profile) as found before anything is written.
struct Found {
    /// Where its bytes are: the path itself, or what its symbolic link points at.
    real: PathBuf,
    /// The path is a symbolic link: written through, never replaced or removed.
    through_link: bool,
    existing: Option<Existing>,
    /// Why it may be read but not written: another user's file, or one made read-only.
    refusal: Option<String>,
}

struct Existing {
    text: String,
    meta: fs::Metadata,
}

impl Found {
    fn text(&self) -> &str {
        self.existing.as_ref().map_or("", |e| e.text.as_str())
    }

    /// Refuses (`LeftAlone`) when the file may not be written; called only when it would be.
    fn writable(&self, path: &Path) -> Result<()> {
        match &self.refusal {
            Some(why) => Err(left_alone(path, why.clone())),
            None => Ok(()),
        }
    }

    /// Puts `contents` in place of the file, keeping what makes it the user's: its owner, group
    /// and mode, its other hard links, a symbolic link in front of it.
    fn write(&self, contents: &[u8]) -> Result<()> {
        match &self.existing {
            None => create_new(&self.real, contents),
            // Another name shares this file (a dotfiles checkout): only writing in place keeps
            // both names on the same text.
            Some(e) if link_count(&e.meta) > 1 => write_in_place(&self.real, contents),
            Some(e) => replace(&self.real, &e.meta, contents),
        }
    }
}

/// Looks at `path` before setup reads or writes it. Refused (`LeftAlone`): a dangling symbolic
/// link (replacing it would lose the link), a directory, a FIFO or any other file that is not a
/// regular one (never opened: a FIFO would block), text that is not UTF-8. Read but not to be
/// written (`Found::writable`): a file of another user's (`sudo -E`), a read-only file (made so
/// on purpose).
fn inspect(path: &Path) -> Result<Found> {
    let link = match fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Found {
                real: path.to_owned(),
                through_link: false,
                existing: None,
                refusal: None,
            });
        }
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let through_link = link.file_type().is_symlink();
    let real = if through_link {
        match fs::canonicalize(path) {
            Ok(real) => real,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let target = fs::read_link(path).unwrap_or_default();
                return Err(left_alone(
                    path,
                    format!(
                        "a symbolic link to {}, which does not exist (setup writes through a link but never replaces one)",
                        target.display()
                    ),
                ));
            }
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    } else {
        path.to_owned()
    };
    let meta = fs::metadata(&real).with_context(|| format!("cannot read {}", real.display()))?;
    if meta.is_dir() {
        return Err(left_alone(path, "a directory, where a shell reads a file"));
    }
    if !meta.is_file() {
        return Err(left_alone(
            path,
            "not a regular file (a FIFO, socket or device); setup reads and writes regular files only",
        ));
    }
    let refusal = foreign_owner(&meta).or_else(|| read_only(&meta));
    let bytes = read_regular(&real, &meta)?;
    let text = String::from_utf8(bytes).map_err(|_| left_alone(path, "not UTF-8 text"))?;
    Ok(Found {
        real,
        through_link,
        existing: Some(Existing { text, meta }),
        refusal,
    })
}

/// A file that does not exist yet is only created where the nearest existing directory above
/// it is ours: under `sudo -E` it would be root's file in the user's home.
fn place_is_ours(path: &Path) -> Result<()> {
    for dir in path.ancestors().skip(1) {
        let Ok(meta) = fs::metadata(dir) else {
            continue;
        };
        if !meta.is_dir() {
            return Err(left_alone(
                path,
                format!("{} is not a directory", dir.display()),
            ));
        }
        return match foreign_owner(&meta) {
            Some(why) => Err(left_alone(path, format!("{}: {why}", dir.display()))),
            None => Ok(()),
        };
    }
    Ok(())
}

/// Why a file that belongs to another user is not ours to write, if it does.
#[cfg(unix)]
fn foreign_owner(meta: &fs::Metadata) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let me = crate::util::unix::euid();
    (meta.uid() != me).then(|| {
        format!(
            "belongs to uid {}, not to us (uid {me}): run `trustrun setup` as that user",
            meta.uid()
        )
    })
}

#[cfg(windows)]
fn foreign_owner(_meta: &fs::Metadata) -> Option<String> {
    None
}

/// Why a file its owner cannot write is left so, if it is: made read-only on purpose (root
/// could write it anyway).
#[cfg(unix)]
fn read_only(meta: &fs::Metadata) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let mode = meta.permissions().mode() & 0o7777;
    (mode & 0o200 == 0).then(|| {
        format!("read-only (mode {mode:o}); make it writable (chmod u+w) for setup to change it")
    })
}

#[cfg(windows)]
fn read_only(meta: &fs::Metadata) -> Option<String> {
    meta.permissions()
        .readonly()
        .then(|| "read-only; clear the attribute for setup to change it".to_owned())
}

#[cfg(unix)]
fn link_count(meta: &fs::Metadata) -> u64 {
    std::os::unix::fs::MetadataExt::nlink(meta)
}

#[cfg(windows)]
fn link_count(_meta: &fs::Metadata) -> u64 {
    1
}

/// Opens a file without following a link and without blocking (a FIFO put there since
/// `inspect` looked would otherwise hang), checking that it is the regular file `meta` saw.
fn open_regular(path: &Path, meta: &fs::Metadata, write: bool) -> Result<fs::File> {
    let mut options = fs::OpenOptions::new();
    options.read(!write).write(write);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW);
    }
    let file = options
        .open(path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    let now = file
        .metadata()
        .with_context(|| format!("cannot read {}", path.display()))?;
    if !now.is_file() || !same_file(&now, meta) {
        anyhow::bail!("{} changed while setup read it", path.display());
    }
    Ok(file)
}

#[cfg(unix)]
fn same_file(a: &fs::Metadata, b: &fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    a.dev() == b.dev() && a.ino() == b.ino()
}

#[cfg(windows)]
fn same_file(_a: &fs::Metadata, _b: &fs::Metadata) -> bool {
    true
}

fn read_regular(path: &Path, meta: &fs::Metadata) -> Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    open_regular(path, meta, false)?
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {}", path.display()))?;
    Ok(bytes)
}

/// A temporary file beside `path`, to be renamed over it.
fn temp_beside(path: &Path) -> Result<tempfile::NamedTempFile> {
    let dir = path.parent().context("a file without a directory")?;
    tempfile::Builder::new()
        .prefix(".trustrun-")
        .tempfile_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))
}

fn fill(tmp: &mut tempfile::NamedTempFile, path: &Path, contents: &[u8]) -> Result<()> {
    use std::io::Write;
    tmp.write_all(contents)
        .and_then(|_| tmp.as_file().sync_all())
        .with_context(|| format!("cannot write {}", path.display()))
}

/// A new file, 0644 as shells create them; refused when one appeared meanwhile.
fn create_new(path: &Path, contents: &[u8]) -> Result<()> {
    let mut tmp = temp_beside(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(fs::Permissions::from_mode(0o644))
            .with_context(|| format!("cannot set permissions on {}", path.display()))?;
    }
    fill(&mut tmp, path, contents)?;
    tmp.persist_noclobber(path)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot create {}", path.display()))?;
    Ok(())
}

/// Replaces `path` atomically (a new file renamed over it, so a crash leaves the old text or the
/// new), with the old file's mode, owner and group. Where the new file cannot get them (a group
/// we are not in), the file is written in place instead.
fn replace(path: &Path, meta: &fs::Metadata, contents: &[u8]) -> Result<()> {
    let mut tmp = temp_beside(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if std::os::unix::fs::fchown(tmp.as_file(), Some(meta.uid()), Some(meta.gid())).is_err() {
            drop(tmp);
            return write_in_place(path, contents);
        }
    }
    tmp.as_file()
        .set_permissions(meta.permissions())
        .with_context(|| format!("cannot set permissions on {}", path.display()))?;
    fill(&mut tmp, path, contents)?;
    tmp.persist(path)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// Overwrites the file's own bytes: its inode, links, owner and mode stay as they are.
fn write_in_place(path: &Path, contents: &[u8]) -> Result<()> {
    use std::io::Write;
    let meta = fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut file = open_regular(path, &meta, true)?;
    file.write_all(contents)
        .and_then(|()| file.set_len(contents.len() as u64))
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))
}
