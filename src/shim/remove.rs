//! `trustrun shim remove` (beside the pipeline): takes away our shims (all, or the names given) and
//! nothing else, and the user PATH entry `install` added once no shim is left.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Result;

use super::manifest::{Manifest, SHIM_MARKER};
#[cfg(windows)]
use super::{REMOVED_SUFFIX, USER_ENV_OWNER, USER_PATH};
use super::{current_exe, default_dir, is_ours, shim_paths, sweep_removed, validate};
use crate::failure::{EXIT_FAILURE, Failure};

pub fn remove(dir: Option<PathBuf>, names: Vec<String>) -> Result<()> {
    let dir = match dir {
        Some(d) => d,
        None => default_dir()?,
    };
    let mut manifest = Manifest::read(&dir);
    let exe = current_exe()?;
    // The name the user PATH entry was recorded under, taken while the directory still exists.
    let canonical = dunce::canonicalize(&dir).unwrap_or_else(|_| dir.clone());
    sweep_removed(&dir);
    let names: Vec<String> = if names.is_empty() {
        manifest.shims.keys().cloned().collect()
    } else {
        names
    };
    // Every name is checked before anything is touched: a bad name changes nothing.
    for name in &names {
        validate(name)?;
    }
    let mut refused = Vec::new();
    let mut report = Vec::new();
    // A removal that fails stops the loop, but the manifest still records what was removed.
    let mut failed = None;
    for name in &names {
        let present: Vec<PathBuf> = shim_paths(&dir, name)
            .into_iter()
            .filter(|p| fs::symlink_metadata(p).is_ok())
            .collect();
        if present.is_empty() {
            report.push(format!("no shim {name} in {}", dir.display()));
            manifest.shims.remove(name);
            continue;
        }
        let mut kept = false;
        for p in present {
            if !is_ours(&p, name, &manifest, &exe) {
                refused.push(p.display().to_string());
                kept = true;
                continue;
            }
            if let Err(e) = remove_shim_file(&p) {
                failed =
                    Some(anyhow::Error::from(e).context(format!("cannot remove {}", p.display())));
                kept = true;
                break;
            }
            report.push(format!("removed  {}", p.display()));
        }
        if !kept {
            manifest.shims.remove(name);
        }
        if failed.is_some() {
            break;
        }
    }
    if manifest.shims.is_empty() {
        let _ = fs::remove_file(dir.join(SHIM_MARKER));
        let _ = fs::remove_dir(&dir);
        // No shim left: the directory's PATH entry, if install added it, goes too.
        remove_from_user_path(&canonical)?;
    } else if dir.is_dir() {
        manifest.write(&dir)?;
    }
    for line in report {
        crate::outln!("{line}")?;
    }
    if let Some(e) = failed {
        return Err(e);
    }
    if !refused.is_empty() {
        return Err(Failure::new(
            EXIT_FAILURE,
            format!("left alone {}: not a trustrun shim", refused.join(", ")),
        )
        .into());
    }
    Ok(())
}
/// Undoes what `add_to_user_path` recorded for `dir`, and nothing else.
#[cfg(windows)]
fn remove_from_user_path(dir: &Path) -> Result<()> {
    use crate::user_env::{Registry, UserEnv};
    let mut env = UserEnv::open()?;
    let entry = dir.display().to_string();
    let undone = env.undo(&mut Registry, USER_ENV_OWNER, |c| {
        c.adds_path_entry(USER_PATH, &entry)
    })?;
    if !undone.is_empty() {
        crate::outln!("removed {entry} from your user PATH (HKCU\\Environment)")?;
    }
    Ok(())
}

#[cfg(not(windows))]
fn remove_from_user_path(_dir: &Path) -> Result<()> {
    Ok(())
}

#[cfg(not(windows))]
fn remove_shim_file(path: &Path) -> std::io::Result<()> {
    fs::remove_file(path)
}

/// Windows does not delete a file while a program runs from it, and a hardlink shim is the very
/// trustrun.exe running `shim remove`. Renaming it is allowed: the name goes at once (PATH no
/// longer finds it) and the file is deleted by the next `shim install|remove` in this directory.
#[cfg(windows)]
fn remove_shim_file(path: &Path) -> std::io::Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(0);
            let aside = path.with_file_name(format!(".{name}.{nanos}{REMOVED_SUFFIX}"));
            fs::rename(path, &aside)?;
            let _ = fs::remove_file(&aside);
            Ok(())
        }
        other => other,
    }
}
