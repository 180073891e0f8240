//! `trustrun shim install` (beside the pipeline): makes the links (or, on Windows, hardlinks,
//! copies or `.cmd` files), records them in the manifest, puts the directory on the user PATH
//! (Windows) and says where it goes on PATH otherwise.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::manifest::{Entry, Kind, Manifest};
use super::{
    DEFAULT_NAMES, current_exe, default_dir, file_digest, is_current, is_ours, shim_paths,
    sweep_removed, validate,
};
#[cfg(windows)]
use super::{USER_ENV_OWNER, USER_PATH};
use crate::failure::{EXIT_FAILURE, Failure};
use crate::util::shell::Shell;

/// The `.cmd` template for Windows machines where neither a hardlink nor a copy can be made.
#[cfg(windows)]
const CMD_TEMPLATE: &str = include_str!("../../shims/windows/shim.cmd");

pub struct InstallRequest {
    pub dir: Option<PathBuf>,
    pub names: Vec<String>,
    pub hardlink: bool,
    pub force: bool,
    /// Windows: put the directory on the user PATH in the registry (`--no-modify-path` says no).
    pub modify_path: bool,
}

pub fn install(req: InstallRequest) -> Result<()> {
    let dir = match req.dir {
        Some(d) => d,
        None => default_dir()?,
    };
    let asked = !req.names.is_empty();
    let names: Vec<String> = if asked {
        req.names
    } else {
        crate::shim::names::defaults(DEFAULT_NAMES)?
    };
    for n in &names {
        validate(n)?;
    }
    let exe = current_exe()?;
    // 0755: a directory on PATH that others could write to would let them plant a `python`
    // of their own.
    crate::util::fs::create_dirs(&dir, 0o755)?;
    let dir = dunce::canonicalize(&dir).unwrap_or(dir);
    sweep_removed(&dir);
    let mut manifest = Manifest::read(&dir);

    // All or nothing: a refusal changes nothing.
    let foreign: Vec<String> = names
        .iter()
        .flat_map(|n| shim_paths(&dir, n).into_iter().map(move |p| (n, p)))
        .filter(|(n, p)| fs::symlink_metadata(p).is_ok() && !is_ours(p, n, &manifest, &exe))
        .map(|(_, p)| p.display().to_string())
        .collect();
    if !foreign.is_empty() && !req.force {
        return Err(Failure::new(
            EXIT_FAILURE,
            format!(
                "refusing to replace {}: not a trustrun shim (--force replaces it)",
                foreign.join(", ")
            ),
        )
        .into());
    }

    let wanted = if req.hardlink {
        Kind::Hardlink
    } else {
        default_kind()
    };
    // Said after the manifest is written: an output error must not leave shims it does not list.
    let mut report = Vec::new();
    for name in &names {
        let path = &shim_paths(&dir, name)[0];
        let recorded = manifest.shims.get(name).map(|e| e.kind);
        let exists = fs::symlink_metadata(path).is_ok();
        if exists && recorded == Some(wanted) && is_current(path, wanted, &exe) {
            report.push(format!("unchanged  {}", path.display()));
            continue;
        }
        for stale in shim_paths(&dir, name) {
            if fs::symlink_metadata(&stale).is_ok() && &stale != path {
                fs::remove_file(&stale)
                    .with_context(|| format!("cannot replace {}", stale.display()))?;
            }
        }
        let (made, made_path) = make_shim(&dir, name, wanted, &exe)?;
        let digest = match made {
            Kind::Symlink => "-".to_owned(),
            _ => file_digest(&made_path).unwrap_or_else(|| "-".to_owned()),
        };
        manifest.shims.insert(
            name.clone(),
            Entry {
                kind: made,
                version: env!("CARGO_PKG_VERSION").to_owned(),
                digest,
            },
        );
        report.push(format!(
            "{}  {} ({})",
            if exists { "updated  " } else { "installed" },
            path.display(),
            made.as_str()
        ));
    }
    manifest.write(&dir)?;
    for line in report {
        crate::outln!("{line}")?;
    }
    if asked {
        crate::shim::names::warn_missing(&names);
    }
    let on_user_path = req.modify_path && add_to_user_path(&dir)?;
    print_path_advice(&dir, &names, on_user_path)
}

/// Puts the shim directory first on the user PATH in the registry, as rustup and uv do for their
/// bin directories: every program started afterwards finds the shims. Recorded, so `shim remove`
/// undoes exactly this. True: the directory is on the user PATH now.
#[cfg(windows)]
fn add_to_user_path(dir: &Path) -> Result<bool> {
    use crate::user_env::{Outcome, Registry, Scope, UserEnv};
    let mut env = UserEnv::open()?;
    let entry = dir.display().to_string();
    match env.prepend_path_entry(
        &mut Registry,
        USER_ENV_OWNER,
        Scope::UserRegistry,
        USER_PATH,
        &entry,
    )? {
        Outcome::Added => crate::outln!(
            "added {entry} to your user PATH (HKCU\\Environment): programs started from now on find the shims"
        )?,
        Outcome::AlreadyThere => crate::outln!("{entry} is on your user PATH (HKCU\\Environment)")?,
    }
    Ok(true)
}

/// Unix has no user environment trustrun writes: the shell profile is the user's.
#[cfg(not(windows))]
fn add_to_user_path(_dir: &Path) -> Result<bool> {
    Ok(false)
}

#[cfg(unix)]
fn default_kind() -> Kind {
    Kind::Symlink
}

#[cfg(windows)]
fn default_kind() -> Kind {
    Kind::Hardlink
}

/// Makes the shim under a temporary name and renames it into place, so the name never points at
/// nothing while programs may be starting through it.
fn make_shim(dir: &Path, name: &str, kind: Kind, exe: &Path) -> Result<(Kind, PathBuf)> {
    let path = shim_paths(dir, name)[0].clone();
    let tmp = dir.join(format!(".{name}.trustrun-tmp"));
    let _ = fs::remove_file(&tmp);
    let made = create(&tmp, kind, exe, name)
        .with_context(|| format!("cannot make the shim {}", path.display()))?;
    let final_path = if made == Kind::Cmd {
        path.with_extension("cmd")
    } else {
        path
    };
    fs::rename(&tmp, &final_path)
        .with_context(|| format!("cannot put {} in place", final_path.display()))?;
    Ok((made, final_path))
}

#[cfg(unix)]
fn create(tmp: &Path, kind: Kind, exe: &Path, _name: &str) -> Result<Kind> {
    match kind {
        Kind::Hardlink => fs::hard_link(exe, tmp)
            .with_context(|| format!("cannot hardlink {} (another filesystem?)", exe.display()))?,
        _ => std::os::unix::fs::symlink(exe, tmp)?,
    }
    Ok(kind)
}

#[cfg(windows)]
fn create(tmp: &Path, _kind: Kind, exe: &Path, name: &str) -> Result<Kind> {
    // Symlinks need a privilege most users lack; a hardlink is free on the same volume, a copy
    // works across volumes, and a .cmd works where policy forbids both.
    if fs::hard_link(exe, tmp).is_ok() {
        return Ok(Kind::Hardlink);
    }
    if fs::copy(exe, tmp).is_ok() {
        return Ok(Kind::Copy);
    }
    let text = CMD_TEMPLATE
        .replace("{trustrun}", &exe.display().to_string())
        .replace("{name}", name)
        .replace('\n', "\r\n");
    fs::write(tmp, text)?;
    Ok(Kind::Cmd)
}

/// What PATH needs for the shims to run, in the syntax of the user's shell: nothing, the line
/// that puts the directory first (for the profile, or on Windows for this terminal alone, the
/// user PATH having it already), or a move to the front. An activated virtualenv ahead of it is
/// said once, with what covers it: moving the shims ahead of a venv lasts until the next
/// `activate`.
fn print_path_advice(dir: &Path, names: &[String], on_user_path: bool) -> Result<()> {
    let path = std::env::var_os(crate::settings::vars::PATH).unwrap_or_default();
    let entries: Vec<PathBuf> = std::env::split_paths(&path).collect();
    let is_dir = |e: &PathBuf| dunce::canonicalize(e).is_ok_and(|c| c == dir);
    let position = entries.iter().position(is_dir);
    let venv = active_venv_bin(&entries);
    let holds = |e: &Path, n: &str| shim_paths(e, n).iter().any(|p| p.is_file());
    // Names that PATH finds somewhere before the shim directory bypass the shims.
    let before = &entries[..position.unwrap_or(entries.len())];
    let in_venv: Vec<&str> = match &venv {
        Some(bin) if before.contains(bin) => names
            .iter()
            .filter(|n| holds(bin, n))
            .map(String::as_str)
            .collect(),
        _ => Vec::new(),
    };
    let shadowed: Vec<&str> = match position {
        Some(_) => names
            .iter()
            .map(String::as_str)
            .filter(|n| !in_venv.contains(n))
            .filter(|n| {
                before
                    .iter()
                    .filter(|e| Some(*e) != venv.as_ref())
                    .any(|e| holds(e, n))
            })
            .collect(),
        None => Vec::new(),
    };
    if !in_venv.is_empty() {
        crate::note!(
            "the active virtualenv's {} {} first on PATH, so the shims do not run there; {}",
            in_venv.join(", "),
            if in_venv.len() == 1 { "comes" } else { "come" },
            crate::util::next_step::VENV_COVERED
        );
    }
    let shell = Shell::detect();
    let line = shell.path_line(dir);
    match position {
        // A venv ahead of it was said above: nothing on PATH to change for that.
        Some(_) if shadowed.is_empty() && !in_venv.is_empty() => Ok(()),
        Some(_) if shadowed.is_empty() => crate::outln!(
            "{} is on PATH ahead of the programs it stands in for.",
            dir.display()
        ),
        Some(_) => {
            crate::outln!(
                "{} is on PATH, but after another directory with {}: move it to the front:",
                dir.display(),
                shadowed.join(", ")
            )?;
            crate::outln!("    {line}")
        }
        // The user PATH has it; only this terminal, started before, does not.
        None if on_user_path => {
            crate::outln!("new terminals find the shims; for this one:\n    {line}")
        }
        None => {
            match shell.profile() {
                Some(profile) => {
                    crate::outln!("Put {} first on PATH (add it to {profile}):", dir.display())?
                }
                None => crate::outln!("Put {} first on PATH:", dir.display())?,
            }
            crate::outln!("    {line}")
        }
    }?;
    Ok(())
}

/// The `bin` (`Scripts` on Windows) of the virtualenv `activate` made current, when it is on PATH.
fn active_venv_bin(entries: &[PathBuf]) -> Option<PathBuf> {
    let venv = crate::settings::vars::non_empty("VIRTUAL_ENV")?;
    let bin = PathBuf::from(venv).join(if cfg!(windows) { "Scripts" } else { "bin" });
    let bin = dunce::canonicalize(&bin).ok()?;
    entries
        .iter()
        .find(|e| dunce::canonicalize(e).is_ok_and(|c| c == bin))
        .cloned()
}
