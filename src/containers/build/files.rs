//! A trusted build's files (launch stage): the named build context and the derived Dockerfile,
//! both in the cache, both named by their content, so a second build of the same Dockerfile with
//! the same bundle finds them as they are (and BuildKit's cache of the upload with them).
//!
//! - The context is a directory holding ONLY the run's public bundle copy (`store::handoff`; never
//!   `current.pem`, whose content follows `trustrun setup`): BuildKit uploads the whole directory.
//!   The file is a hard link to the copy (a copy where links fail), mode 0644 like it.
//! - The derived Dockerfile keeps the user's file name, and `<name>.dockerignore` beside the
//!   user's file is copied beside it: BuildKit reads the ignore file next to the Dockerfile it is
//!   given before the context's `.dockerignore`, so the user's rules stay in force.
//!
//! Bounded: a build needs its files only while BuildKit reads them at its start. A directory's
//! modification time says when a build last used it (touched on reuse, at most once a day); when
//! a build makes a new one, directories unused for `KEEP` (30 days) go, at most `MAX_REMOVALS`.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result};

use crate::store::{handoff, layout};

/// A build directory unused this long goes when a build makes a new one.
const KEEP: Duration = Duration::from_secs(30 * 24 * 3600);
/// Directories removed per sweep at most.
const MAX_REMOVALS: usize = 16;
/// A directory used within this long is not touched again.
const TOUCH_AFTER: Duration = Duration::from_secs(24 * 3600);

fn age(meta: &fs::Metadata) -> Option<Duration> {
    meta.modified().ok()?.elapsed().ok()
}

/// Makes `dir` (a build directory) if missing, sweeping the old ones then; marks it used.
fn use_dir(dir: &Path) -> Result<()> {
    match fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => {
            if age(&meta).is_some_and(|a| a > TOUCH_AFTER) {
                let _ = fs::File::open(dir).and_then(|f| f.set_modified(SystemTime::now()));
            }
            Ok(())
        }
        _ => {
            crate::util::fs::create_dirs(dir, 0o700)?;
            if let Some(parent) = dir.parent() {
                sweep(parent, dir);
            }
            Ok(())
        }
    }
}

/// Removes build directories under `parent` unused for `KEEP`, except `keep`.
fn sweep(parent: &Path, keep: &Path) {
    let Ok(entries) = fs::read_dir(parent) else {
        return;
    };
    let old = entries
        .flatten()
        .filter(|e| e.path() != keep)
        .filter(|e| {
            e.metadata()
                .is_ok_and(|m| m.is_dir() && age(&m).is_some_and(|a| a > KEEP))
        })
        .take(MAX_REMOVALS);
    for entry in old {
        let _ = fs::remove_dir_all(entry.path());
    }
}

/// The named context for `copy` (a public copy under the cache at `root`): its directory and the
/// file's name in it.
pub fn context_dir(root: &Path, copy: &Path) -> Result<(PathBuf, String)> {
    let name = copy
        .file_name()
        .and_then(|n| n.to_str())
        .with_context(|| format!("{} has no file name", copy.display()))?
        .to_owned();
    let stem = name.trim_end_matches(".pem");
    let dir = layout::build_dir(root, &format!("ca-{stem}"));
    let file = dir.join(&name);
    let want = fs::read(copy).with_context(|| format!("cannot read {}", copy.display()))?;
    use_dir(&dir)?;
    if fs::read(&file).ok().as_deref() == Some(want.as_slice()) {
        return Ok((dir, name));
    }
    let _ = fs::remove_file(&file);
    if fs::hard_link(copy, &file).is_err() {
        crate::util::fs::write_atomic_mode(&file, &want, handoff::MODE)?;
    }
    Ok((dir, name))
}

/// Writes `text` (derived from the user's Dockerfile at `user_file`) under the cache at `root`,
/// with the user's `<name>.dockerignore` beside it when there is one, and returns its path.
pub fn derived_dockerfile(root: &Path, user_file: &Path, text: &str) -> Result<PathBuf> {
    let name = user_file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "Dockerfile".to_owned());
    let ignore_name = format!("{name}.dockerignore");
    let ignore = user_file
        .parent()
        .map(|d| d.join(&ignore_name))
        .filter(|p| fs::metadata(p).is_ok_and(|m| m.is_file()))
        .map(fs::read)
        .transpose()
        .with_context(|| format!("cannot read {ignore_name} beside {}", user_file.display()))?;
    let mut key = Vec::new();
    for part in [
        name.as_bytes(),
        text.as_bytes(),
        ignore.as_deref().unwrap_or_default(),
    ] {
        key.extend_from_slice(&(part.len() as u64).to_le_bytes());
        key.extend_from_slice(part);
    }
    key.push(u8::from(ignore.is_some()));
    let digest = crate::util::digest::sha256_hex(&key);
    let dir = layout::build_dir(root, &format!("df-{}", &digest[..16]));
    let file = dir.join(&name);
    use_dir(&dir)?;
    if fs::read(&file).ok().as_deref() != Some(text.as_bytes()) {
        crate::util::fs::write_atomic(&file, text.as_bytes())?;
    }
    if let Some(ignore) = ignore {
        let path = dir.join(&ignore_name);
        if fs::read(&path).ok().as_deref() != Some(ignore.as_slice()) {
            crate::util::fs::write_atomic(&path, &ignore)?;
        }
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_context_holds_only_the_copy_and_the_ignore_file_follows_the_dockerfile() {
        let root = tempfile::tempdir().unwrap();
        let public = root.path().join("public");
        fs::create_dir_all(&public).unwrap();
        let copy = public.join("0123.pem");
        fs::write(&copy, "PEM").unwrap();
        fs::write(public.join("other.pem"), "OTHER").unwrap();
        let (dir, name) = context_dir(root.path(), &copy).unwrap();
        assert_eq!(name, "0123.pem");
        let entries: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(entries, ["0123.pem"]);
        assert_eq!(fs::read(dir.join(&name)).unwrap(), b"PEM");
        assert_eq!(
            context_dir(root.path(), &copy).unwrap().0,
            dir,
            "found again"
        );

        let user = tempfile::tempdir().unwrap();
        let df = user.path().join("app.Dockerfile");
        fs::write(user.path().join("app.Dockerfile.dockerignore"), "secret\n").unwrap();
        let derived = derived_dockerfile(root.path(), &df, "FROM x\n").unwrap();
        assert_eq!(derived.file_name().unwrap(), "app.Dockerfile");
        assert_eq!(fs::read_to_string(&derived).unwrap(), "FROM x\n");
        let beside = derived.with_file_name("app.Dockerfile.dockerignore");
        assert_eq!(fs::read_to_string(beside).unwrap(), "secret\n");
        // Without an ignore file of its own, none beside the derived one (the context's counts).
        let plain =
            derived_dockerfile(root.path(), &user.path().join("Dockerfile"), "FROM x\n").unwrap();
        assert!(!plain.with_file_name("Dockerfile.dockerignore").exists());
        assert_ne!(plain.parent(), derived.parent());

        // A directory unused for 30 days goes when a build makes a new one; one in use stays.
        if !cfg!(unix) {
            return;
        }
        let old = SystemTime::now() - KEEP - Duration::from_secs(60);
        let set_old = |dir: &Path| {
            fs::File::open(dir).unwrap().set_modified(old).unwrap();
        };
        set_old(plain.parent().unwrap());
        set_old(derived.parent().unwrap());
        derived_dockerfile(root.path(), &df, "FROM x\n").unwrap();
        let newer = derived_dockerfile(root.path(), &df, "FROM y\n").unwrap();
        assert!(newer.exists() && derived.exists(), "reused, so kept");
        assert!(!plain.exists(), "unused for 30 days: swept");
    }
}
