//! The stable bundle: `<cache>/current.pem`, a copy of the newest bundle built from the inputs
//! `trustrun setup` recorded, at a path that never changes. Shell profiles and the user
//! environment point at it with static values, so they work even while trustrun is missing.
//!
//! Stage: after `bundle` (it copies what `bundle::ensure` made). This module is the only one that
//! knows the names `current.pem` and `current.inputs`. The content-addressed bundles are left as
//! they are. Rules: the file is replaced atomically (a reader sees the old or the new file, never
//! an empty or half-written one), only with a bundle that was built successfully (a failed refresh
//! keeps the old file), and it is never removed: a process started while setup was in place may
//! still read it after `--undo`.
//!
//! (The cache branch is building the same stable file; when it lands, `refresh` becomes a call
//! into it. Until then this is the one writer.)

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use crate::bundle::{self, BundleError};
use crate::sources::Inputs;

const STABLE_NAME: &str = "current.pem";
const INPUTS_NAME: &str = "current.inputs";
/// The first line of the stable file names the bundle it copies: a refresh reads one line to
/// know whether anything changed, instead of comparing whole files on every run.
const FIRST_LINE_PREFIX: &str = "# trustrun stable bundle, a copy of bundles/";

/// The stable file in the cache at `root`.
pub fn path(root: &Path) -> PathBuf {
    root.join(STABLE_NAME)
}

/// Whether `path` is a stable bundle in a trustrun cache (beside its `bundles` and `index`
/// directories). Like the content-addressed bundles it only repeats its sources, so it is never
/// read back into a bundle: a root the OS store drops must leave the stable file too.
pub fn is_stable_file(path: &Path) -> bool {
    path.file_name().is_some_and(|n| n == STABLE_NAME)
        && path
            .parent()
            .is_some_and(|root| root.join("index").is_dir() && root.join("bundles").is_dir())
}

/// What setup asked the stable bundle to hold, kept in the cache so every run can refresh it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetupInputs {
    /// CA files and directories named to setup (`--ca`, `TRUSTRUN_CA`, config), absolute.
    pub ca: Vec<PathBuf>,
    /// The user's own CA variables at setup time (name, file): their files stay trusted.
    pub variables: Vec<(String, PathBuf)>,
}

impl SetupInputs {
    fn inputs(&self) -> Inputs {
        Inputs {
            extra: self.ca.clone(),
            variables: self.variables.clone(),
        }
    }
}

/// What a refresh did.
#[derive(Debug, PartialEq, Eq)]
pub enum Refreshed {
    /// The stable file already copied the newest bundle.
    Unchanged,
    /// It was written (first time, or the sources changed).
    Written,
}

/// Records `inputs` as setup's and brings the stable file up to date. Errors leave any
/// existing stable file as it was.
pub fn install(root: &Path, inputs: &SetupInputs) -> Result<Refreshed> {
    let refreshed = refresh_with(root, inputs)?;
    let text = serde_json::to_vec_pretty(inputs).context("cannot record setup's inputs")?;
    crate::cache::write_atomic(&root.join(INPUTS_NAME), &text)
        .context("cannot record setup's inputs")?;
    Ok(refreshed)
}

/// Stops the refreshes (setup was undone). The stable file itself stays, see the module's notes.
pub fn retire(root: &Path) -> Result<()> {
    match fs::remove_file(root.join(INPUTS_NAME)) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("cannot remove {}", root.join(INPUTS_NAME).display()))
        }
        _ => Ok(()),
    }
}

/// Setup's recorded inputs in the cache at `root`; `None` when setup is not in place.
pub fn recorded(root: &Path) -> Result<Option<SetupInputs>> {
    let file = root.join(INPUTS_NAME);
    match fs::read(&file) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .with_context(|| format!("{}: not a file trustrun setup wrote", file.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", file.display())),
    }
}

/// Called on every run: when setup is in place, makes the stable file copy the newest bundle of
/// setup's inputs. When it is not, this costs one failed `open`.
pub fn refresh_if_set_up(root: &Path) -> Result<Option<Refreshed>> {
    match recorded(root)? {
        Some(inputs) => refresh_with(root, &inputs).map(Some),
        None => Ok(None),
    }
}

/// Builds (or finds) the bundle of `inputs` and copies it to the stable path when it differs.
pub fn refresh_with(root: &Path, inputs: &SetupInputs) -> Result<Refreshed> {
    let bundle = newest_bundle(root, inputs)?;
    let name = bundle
        .file_name()
        .and_then(|n| n.to_str())
        .context("a bundle without a file name")?
        .to_owned();
    let target = path(root);
    if copied_bundle(&target).as_deref() == Some(name.as_str()) {
        return Ok(Refreshed::Unchanged);
    }
    let body = fs::read(&bundle).with_context(|| format!("cannot read {}", bundle.display()))?;
    // Never empty: a bundle without a certificate would make every client fail.
    if !body
        .windows(b"-----BEGIN CERTIFICATE-----".len())
        .any(|w| w == b"-----BEGIN CERTIFICATE-----")
    {
        bail!(
            "{} holds no certificate; the stable bundle was left as it was",
            bundle.display()
        );
    }
    let mut text = format!("{FIRST_LINE_PREFIX}{name}\n").into_bytes();
    text.extend_from_slice(&body);
    write_readable(&target, &text)?;
    Ok(Refreshed::Written)
}

/// Whether the stable file copies the newest bundle of setup's inputs (false when setup is not
/// in place or the file is missing).
pub fn is_fresh(root: &Path) -> Result<bool> {
    let Some(inputs) = recorded(root)? else {
        return Ok(false);
    };
    let bundle = newest_bundle(root, &inputs)?;
    Ok(copied_bundle(&path(root)).as_deref() == bundle.file_name().and_then(|n| n.to_str()))
}

fn newest_bundle(root: &Path, inputs: &SetupInputs) -> Result<PathBuf> {
    match bundle::ensure(root, &inputs.inputs()) {
        Ok(b) => Ok(b.path),
        Err(BundleError::UserCa(e)) => Err(crate::failure::Failure::usage(format!(
            "a CA file setup recorded is not usable: {e}"
        ))
        .into()),
        Err(BundleError::Internal(e)) => Err(e),
    }
}

/// The bundle name the stable file's first line records, read without reading the whole file.
pub fn copied_bundle(stable: &Path) -> Option<String> {
    let mut head = [0u8; 160];
    let mut file = fs::File::open(stable).ok()?;
    let n = file.read(&mut head).ok()?;
    let line = std::str::from_utf8(&head[..n]).ok()?.lines().next()?;
    line.strip_prefix(FIRST_LINE_PREFIX).map(str::to_owned)
}

/// Atomic replace, readable by everyone (0644): the file holds only public certificates, and a
/// container that mounts it may run as another user.
fn write_readable(target: &Path, contents: &[u8]) -> Result<()> {
    let dir = target
        .parent()
        .context("the stable bundle has no directory")?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".tmp-current-")
        .tempfile_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    tmp.write_all(contents)
        .and_then(|_| tmp.as_file().sync_all())
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(tmp.path(), fs::Permissions::from_mode(0o644))
            .with_context(|| format!("cannot set permissions in {}", dir.display()))?;
    }
    tmp.persist(target)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot replace {}", target.display()))?;
    Ok(())
}
