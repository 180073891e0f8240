//! The stable bundle file (bundle stage, for `setup`): `<cache>/current.pem`, a world-readable copy
//! (mode 0644) of the bundle of the sources `trustrun setup` recorded, at a path that never
//! changes: the shell profiles setup writes point the CA variables at it.
//!
//! It exists for setup alone. A run without setup in place neither reads nor writes it (one
//! failed `open` of `current.inputs`); containers are handed a content-named copy of their own
//! run's bundle instead (`store::handoff`), since a path shared by several bundles would give
//! a stopped container whatever it holds when the container is started again. This file is:
//! - replaced atomically (a temporary file renamed over it): a reader sees the old bundle or the
//!   new one, never an empty or partial file;
//! - never empty: it is only written from a verified, non-empty bundle;
//! - never removed by cleanup (nor by `setup --undo`: processes started before may still read it;
//!   nor when setup is not in place: containers created by older trustruns may mount it);
//! - with setup in place, refreshed from setup's sources by every run (`refresh_if_set_up`, from
//!   `prepare`), whatever options that run had: one `trustrun --ca x` must not widen every shell
//!   nor a run elsewhere narrow them. Checked on the warm path with one small read and one `stat`
//!   (`current.source` records which bundle it copies and what it looked like).
//!
//! Beside it, `<cache>/current.p12`: the same certificates as a Java trust store
//! (`store::java_store`'s format), which `setup --java` names in `JAVA_TOOL_OPTIONS`. Written with
//! every copy, by the same rules (atomic, 0644, never removed), after `current.pem` and before
//! `current.source`: the stable file counts as up to date only while its store is there and no
//! older than it, so a store deleted by hand, or left behind by a trustrun from before stores (which
//! rewrites `current.pem` alone), is written again by the next run, and a JVM is never named a
//! missing one.
//!
//! With `setup --python` the profiles also name `setup-python/` (see `python_dir`), kept here for
//! the same reason: a name that outlives upgrades and the cleanup.
//!
//! Why 0644 inside a 0700 cache: no other user of this host reaches it (the cache root is 0700);
//! the mode serves a file bound into a container, where only the file's own mode counts, and
//! containers created by trustruns from before the content-named copies mount this file. It holds
//! public certificates only. (On Windows the profile's ACL applies; modes do not exist there.)

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::{PrepareError, layout};
use crate::sources::{Gathered, Inputs};
use crate::store::{bundle, python_support};
use crate::util::file_id::Stamp;

/// The stable file's mode: readable by every user and container.
pub const MODE: u32 = 0o644;

/// The stable file of the cache at `root` (which may not exist yet).
pub fn path(root: &Path) -> PathBuf {
    root.join(layout::CURRENT)
}

/// The stable Java trust store of the cache at `root` (which may not exist yet).
pub fn java_path(root: &Path) -> PathBuf {
    root.join(layout::CURRENT_JAVA)
}

/// Makes the stable file of the cache at `root` a copy of `bundle` (a bundle of that cache) and
/// returns its path. Cheap when it already is.
fn refresh(root: &Path, bundle: &Path) -> Result<PathBuf> {
    let stable = path(root);
    let source = root.join(layout::CURRENT_SOURCE);
    let name = bundle
        .file_name()
        .context("the bundle has no file name")?
        .to_string_lossy()
        .into_owned();
    if up_to_date(&stable, &source, &name) {
        return Ok(stable);
    }
    let text = fs::read(bundle).with_context(|| format!("cannot read {}", bundle.display()))?;
    if text.is_empty() {
        bail!(
            "{} is empty; {} left as it is",
            bundle.display(),
            stable.display()
        );
    }
    crate::util::fs::write_atomic_mode(&stable, &text, MODE)
        .with_context(|| format!("cannot write {}", stable.display()))?;
    // After the bundle (a store no older than it belongs to it), before the record.
    let java = java_path(root);
    let certs = crate::sources::certs::parse(&text);
    let store = crate::store::java_store::pkcs12_trust_store(certs.iter().map(|c| c.as_ref()));
    crate::util::fs::write_atomic_mode(&java, &store, MODE)
        .with_context(|| format!("cannot write {}", java.display()))?;
    let meta =
        fs::metadata(&stable).with_context(|| format!("cannot read {}", stable.display()))?;
    crate::util::fs::write_atomic(&source, layout::IndexEntry::text(&name, &meta).as_bytes())
        .with_context(|| format!("cannot write {}", source.display()))?;
    Ok(stable)
}

/// Whether the stable file copies the bundle `name` and is as it was written (mode included),
/// with its Java store beside it, written after it.
fn up_to_date(stable: &Path, source: &Path, name: &str) -> bool {
    let Ok(text) = fs::read_to_string(source) else {
        return false;
    };
    let recorded = layout::IndexEntry::parse(&text);
    let Ok(meta) = fs::metadata(stable) else {
        return false;
    };
    let Ok(java) = fs::metadata(stable.with_file_name(layout::CURRENT_JAVA)) else {
        return false;
    };
    let written_after = match (java.modified(), meta.modified()) {
        (Ok(j), Ok(m)) => j >= m,
        _ => false,
    };
    recorded.name == name
        && recorded.stamp == Some(Stamp::of(&meta))
        && meta.len() > 0
        && crate::util::fs::has_mode(&meta, MODE)
        && java.is_file()
        && java.len() > 0
        && crate::util::fs::has_mode(&java, MODE)
        && written_after
}

/// What a refresh for setup did.
#[derive(Debug, PartialEq, Eq)]
pub enum Refreshed {
    /// The stable file already copied the newest bundle.
    Unchanged,
    /// It was written (first time, or the sources changed).
    Written,
}

/// Records `inputs` (`store::inputs` of setup's options) as setup's and brings the stable file
/// up to date. Errors leave any
/// existing stable file as it was.
/// With the bundle's sources as read, when it had to be built (setup says what they gave).
pub fn install(root: &Path, inputs: &Inputs) -> Result<(Refreshed, Option<Gathered>)> {
    let (bundle, built) = newest_bundle(root, inputs)?;
    let refreshed = copy_if_changed(root, &bundle)?;
    let text = serde_json::to_vec_pretty(inputs).context("cannot record setup's inputs")?;
    crate::util::fs::write_atomic(&root.join(layout::CURRENT_INPUTS), &text)
        .context("cannot record setup's inputs")?;
    Ok((refreshed, built))
}

/// Stops following setup's sources (setup was undone). The stable file itself stays: processes
/// started while setup was in place may still read it.
pub fn retire(root: &Path) -> Result<()> {
    match fs::remove_file(root.join(layout::CURRENT_INPUTS)) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e).with_context(|| {
            format!(
                "cannot remove {}",
                root.join(layout::CURRENT_INPUTS).display()
            )
        }),
        _ => Ok(()),
    }
}

/// Setup's recorded inputs in the cache at `root`; `None` when setup is not in place (one failed
/// `open` on every run).
pub fn recorded(root: &Path) -> Result<Option<Inputs>> {
    let file = root.join(layout::CURRENT_INPUTS);
    match fs::read(&file) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .with_context(|| format!("{}: not a file trustrun setup wrote", file.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", file.display())),
    }
}

/// `trustrun setup --refresh`, and every run (`prepare`, which passes the python support
/// directory it has just ensured): the stable file from setup's sources, now, and the stable
/// python directory when `setup --python` made one; `None` when setup is not in place (then
/// nothing is touched).
pub fn refresh_if_set_up(root: &Path, python_support: Option<&Path>) -> Result<Option<Refreshed>> {
    let Some(inputs) = recorded(root)? else {
        return Ok(None);
    };
    let refreshed = refresh_with(root, &inputs)?;
    // One `stat` unless `--python` is in place.
    if python_dir(root).join(python_support::MARKER).is_file() {
        match python_support {
            Some(support) => copy_python_support(root, support)?,
            None => {
                install_python(root)?;
            }
        }
    }
    Ok(Some(refreshed))
}

/// The stable python directory `setup --python` names in the profiles: `<cache>/setup-python`, a
/// copy of this trustrun's python support directory under a name that never changes. The
/// support directory itself is named by its content (a new trustrun writes another, and cleanup
/// removes the old one after a while); the profiles must survive both, so they name this one,
/// which cleanup never touches (its name is not `python-...`) and every run keeps a copy of the
/// current support directory (see `refresh_if_set_up`).
pub fn python_dir(root: &Path) -> PathBuf {
    root.join(PYTHON_DIR)
}

/// The stable python directory's name in the cache.
pub const PYTHON_DIR: &str = "setup-python";

/// Makes the stable python directory of the cache at `root` a copy of this trustrun's python
/// support directory, and returns its path.
pub fn install_python(root: &Path) -> Result<PathBuf> {
    let support = python_support::ensure(root)?;
    copy_python_support(root, &support)?;
    Ok(python_dir(root))
}

/// Copies each file of `support` (the support directory, whatever files it holds) into the
/// stable python directory where it differs: a few small reads when nothing changed. The marker
/// first (the directory is ours: runs drop it from `PYTHONPATH`), `sitecustomize.py` last (its
/// presence means the rest is there), each replaced atomically.
fn copy_python_support(root: &Path, support: &Path) -> Result<()> {
    let dir = crate::store::cache_dir::private_subdir(root, PYTHON_DIR)
        .context("cannot write the stable python directory")?;
    // Python would create __pycache__ with the umask's mode; made by us it is private.
    crate::store::cache_dir::private_subdir(&dir, "__pycache__")
        .context("cannot write the stable python directory")?;
    let mut files: Vec<_> = fs::read_dir(support)
        .with_context(|| format!("cannot read {}", support.display()))?
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| e.file_name())
        .collect();
    let rank = |n: &std::ffi::OsStr| match n.to_str() {
        Some(python_support::MARKER) => 0,
        Some("sitecustomize.py") => 2,
        _ => 1,
    };
    files.sort_by_key(|n| rank(n));
    for name in files {
        let text = fs::read(support.join(&name))
            .with_context(|| format!("cannot read {}", support.join(&name).display()))?;
        let target = dir.join(&name);
        if fs::read(&target).is_ok_and(|have| have == text) {
            continue;
        }
        crate::util::fs::write_atomic(&target, &text)
            .with_context(|| format!("cannot write {}", target.display()))?;
    }
    Ok(())
}

/// Builds (or finds) the bundle of `inputs` and copies it to the stable path when it differs.
pub fn refresh_with(root: &Path, inputs: &Inputs) -> Result<Refreshed> {
    copy_if_changed(root, &newest_bundle(root, inputs)?.0)
}

fn copy_if_changed(root: &Path, bundle: &Path) -> Result<Refreshed> {
    let name = bundle.file_name().unwrap_or_default().to_string_lossy();
    if up_to_date(&path(root), &root.join(layout::CURRENT_SOURCE), &name) {
        return Ok(Refreshed::Unchanged);
    }
    refresh(root, bundle)?;
    Ok(Refreshed::Written)
}

/// Whether the stable file copies the newest bundle of setup's sources (false when setup is not
/// in place or the file is missing).
pub fn is_fresh(root: &Path) -> Result<bool> {
    let Some(inputs) = recorded(root)? else {
        return Ok(false);
    };
    let (bundle, _) = newest_bundle(root, &inputs)?;
    let name = bundle.file_name().unwrap_or_default().to_string_lossy();
    Ok(up_to_date(
        &path(root),
        &root.join(layout::CURRENT_SOURCE),
        &name,
    ))
}

fn newest_bundle(root: &Path, inputs: &Inputs) -> Result<(PathBuf, Option<Gathered>)> {
    match bundle::ensure(root, inputs) {
        Ok(b) => Ok((b.path, b.built)),
        Err(PrepareError::UserCa { error, .. }) => Err(crate::failure::Failure::usage(format!(
            "a CA file setup recorded is not usable: {error}"
        ))
        .into()),
        Err(PrepareError::Internal(e)) => Err(e),
    }
}

/// A caller's variable naming the stable file stands for setup's sources: the bundle of a run
/// started from a set-up shell must hold them too (the file itself is never read back, see
/// `layout::is_cache_bundle`), or `trustrun PROGRAM` there would trust less than the shell did. Setup's CA
/// files come in as that variable's files: one gone missing is a warning, as for any variable.
pub(super) fn add_setup_sources(variables: &mut Vec<(String, PathBuf)>) {
    let Some((name, root)) = variables
        .iter()
        .find(|(_, p)| layout::is_stable_file(p))
        .and_then(|(n, p)| Some((n.clone(), p.parent()?.to_owned())))
    else {
        return;
    };
    let Ok(Some(setup)) = recorded(&root) else {
        return;
    };
    let extra = setup.ca.into_iter().map(|p| (name.clone(), p));
    for entry in extra.chain(setup.variables) {
        if !variables.iter().any(|(_, p)| *p == entry.1) {
            variables.push(entry);
        }
    }
}
