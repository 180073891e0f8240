//! `trustrun shim install|list|remove`: a directory of links to trustrun, named like the programs
//! they stand in for, to put first on PATH. Started under such a name, trustrun runs the real
//! program of that name (see `cli::dispatch` and `locate`).
//!
//! The directory holds a manifest, `.trustrun-shims`: `locate` skips the names it lists there (and
//! only those: the directory may be the user's `~/.local/bin`). A file is ours when it links to
//! trustrun, or is the file the manifest says we wrote; anything else is the user's, and is
//! neither replaced (without `--force`) nor removed.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::failure::{EXIT_FAILURE, Failure};
use crate::run::locate;
use crate::shim_manifest::{Entry, Kind, Manifest, SHIM_MARKER};
use crate::util::shell::Shell;

pub const DEFAULT_NAMES: &[&str] = &["python", "python3", "pip", "pip3", "harbor"];

/// The `.cmd` template for Windows machines where neither a hardlink nor a copy can be made.
#[cfg(windows)]
const CMD_TEMPLATE: &str = include_str!("../shims/windows/shim.cmd");

/// `TRUSTRUN_SHIM_DIR`, else `shims` in the platform's per-user data directory.
pub fn default_dir() -> Result<PathBuf> {
    crate::util::user_dirs::shims()
        .context("no per-user data directory is known here (use --dir or TRUSTRUN_SHIM_DIR)")
}

fn file_digest(path: &Path) -> Option<String> {
    let bytes = fs::read(path).ok()?;
    Some(crate::util::digest::sha256_hex(&bytes))
}

fn validate(name: &str) -> Result<(), Failure> {
    let bad = name.is_empty()
        || name.starts_with('.')
        || name.contains(['/', '\\', ':'])
        || name.chars().any(char::is_whitespace);
    if bad {
        return Err(Failure::usage(format!("{name:?} is not a program name")));
    }
    if name.eq_ignore_ascii_case("trustrun") {
        return Err(Failure::usage(
            "a shim named trustrun would shadow trustrun itself",
        ));
    }
    Ok(())
}

/// Where the shim for `name` lives in `dir` (on Windows, with its extension).
#[cfg(unix)]
fn shim_paths(dir: &Path, name: &str) -> Vec<PathBuf> {
    vec![dir.join(name)]
}

#[cfg(windows)]
fn shim_paths(dir: &Path, name: &str) -> Vec<PathBuf> {
    vec![
        dir.join(format!("{name}.exe")),
        dir.join(format!("{name}.cmd")),
    ]
}

fn current_exe() -> Result<PathBuf> {
    let exe = std::env::current_exe().context("cannot tell where the trustrun binary is")?;
    // dunce: no verbatim `\\?\` prefix on Windows, in anything printed or compared.
    Ok(dunce::canonicalize(&exe).unwrap_or(exe))
}

// Re-exported for callers that name it here.
pub(crate) use crate::util::file_id::same_file;

/// Whether the file at `path` is one of our shims: a link to this trustrun, a symlink the
/// manifest lists, or a file whose content is what the manifest says we wrote.
fn is_ours(path: &Path, name: &str, manifest: &Manifest, exe: &Path) -> bool {
    let Ok(meta) = fs::symlink_metadata(path) else {
        return false;
    };
    if same_file(path, exe) {
        return true;
    }
    let Some(entry) = manifest.shims.get(name) else {
        return false;
    };
    if meta.file_type().is_symlink() {
        // A link is ours only if it leads to a trustrun (this one, or one since moved or
        // upgraded): the user's own `python3 -> /usr/bin/python3.12` at a listed name is theirs.
        return entry.kind == Kind::Symlink && links_to_a_trustrun(path);
    }
    entry.digest != "-" && file_digest(path).is_some_and(|d| d == entry.digest)
}

/// Whether the symlink at `path` names a binary called trustrun (resolving it if it resolves):
/// our links point at trustrun's own file, never at the program they stand in for.
fn links_to_a_trustrun(path: &Path) -> bool {
    let target = fs::canonicalize(path).or_else(|_| fs::read_link(path));
    target.is_ok_and(|t| {
        t.file_name()
            .is_some_and(|n| crate::program_name::is_trustrun_name(&n.to_string_lossy()))
    })
}

/// Whether our shim at `path` already does what a fresh install would.
fn is_current(path: &Path, kind: Kind, exe: &Path) -> bool {
    match kind {
        Kind::Symlink | Kind::Hardlink => same_file(path, exe),
        Kind::Copy => match (fs::read(path), fs::read(exe)) {
            (Ok(a), Ok(b)) => a == b,
            _ => false,
        },
        Kind::Cmd => false,
    }
}

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
        crate::shim_names::defaults(DEFAULT_NAMES)?
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
        crate::shim_names::warn_missing(&names);
    }
    if req.modify_path {
        add_to_user_path(&dir)?;
    }
    print_path_advice(&dir, &names)
}

/// The owner of the shim directory's PATH entry in the user-environment record.
const USER_ENV_OWNER: &str = "shim";

/// The user's PATH variable in `HKCU\Environment`.
#[cfg(windows)]
const USER_PATH: &str = "Path";

/// Puts the shim directory first on the user PATH in the registry, as rustup and uv do for their
/// bin directories: every program started afterwards finds the shims. Recorded, so `shim remove`
/// undoes exactly this.
#[cfg(windows)]
fn add_to_user_path(dir: &Path) -> Result<()> {
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
    Ok(())
}

/// Unix has no user environment trustrun writes: the shell profile is the user's.
#[cfg(not(windows))]
fn add_to_user_path(_dir: &Path) -> Result<()> {
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
    let _ = USER_ENV_OWNER;
    Ok(())
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

#[cfg(not(windows))]
fn remove_shim_file(path: &Path) -> std::io::Result<()> {
    fs::remove_file(path)
}

/// Suffix of a shim moved aside because Windows would not delete it yet.
#[cfg(windows)]
const REMOVED_SUFFIX: &str = ".trustrun-removed";

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

/// Deletes the shims an earlier `remove` had to move aside, where they are no longer running.
#[cfg(windows)]
fn sweep_removed(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if entry
            .file_name()
            .to_string_lossy()
            .ends_with(REMOVED_SUFFIX)
        {
            let _ = fs::remove_file(entry.path());
        }
    }
}

#[cfg(not(windows))]
fn sweep_removed(_dir: &Path) {}

fn print_path_advice(dir: &Path, names: &[String]) -> Result<()> {
    let path = std::env::var_os(crate::settings::vars::PATH).unwrap_or_default();
    let entries: Vec<PathBuf> = std::env::split_paths(&path).collect();
    let position = entries
        .iter()
        .position(|e| dunce::canonicalize(e).is_ok_and(|c| c == dir));
    // Names that PATH finds somewhere before the shim directory bypass the shims.
    let shadowed: Vec<String> = match position {
        Some(pos) => names
            .iter()
            .filter(|n| {
                entries[..pos]
                    .iter()
                    .any(|e| shim_paths(e, n).iter().any(|p| p.is_file()))
            })
            .cloned()
            .collect(),
        None => Vec::new(),
    };
    if position.is_some() && shadowed.is_empty() {
        crate::outln!(
            "{} is on PATH ahead of the programs it stands in for.",
            dir.display()
        )?;
        return Ok(());
    }
    let (line, where_) = Shell::detect().path_instructions(dir);
    if position.is_some() {
        crate::outln!(
            "{} is on PATH, but after another directory with {}: move it to the front:",
            dir.display(),
            shadowed.join(", ")
        )?;
    } else {
        crate::outln!("Put {} first on PATH ({where_}):", dir.display())?;
    }
    crate::outln!("    {line}")?;
    Ok(())
}

pub fn list(dir: Option<PathBuf>) -> Result<()> {
    let dir = match dir {
        Some(d) => d,
        None => default_dir()?,
    };
    if !dir.join(SHIM_MARKER).is_file() {
        crate::outln!("no trustrun shims in {}", dir.display())?;
        return Ok(());
    }
    let manifest = Manifest::read(&dir);
    let exe = current_exe()?;
    crate::outln!("shims in {}:", dir.display())?;
    for (name, entry) in &manifest.shims {
        let (kind, version) = (&entry.kind, &entry.version);
        let path = shim_paths(&dir, name)
            .into_iter()
            .find(|p| fs::symlink_metadata(p).is_ok());
        let state = match &path {
            None => "missing (run `trustrun shim install` again)".to_owned(),
            Some(p) if *kind == Kind::Copy && !is_current(p, *kind, &exe) => {
                format!("copy of trustrun {version}, stale: run `trustrun shim install` to refresh")
            }
            Some(_) => kind.as_str().to_owned(),
        };
        let target = match locate::find(std::ffi::OsStr::new(name)) {
            Ok(real) => format!("-> {}", real.display()),
            Err(_) => "-> nothing real behind it on PATH".to_owned(),
        };
        crate::outln!("  {name:<12} {target}   [{state}]")?;
        if let crate::shim_shadow::Reach::ShadowedBy(first) = crate::shim_shadow::reach(name) {
            crate::outln!("    SHADOWED {}", crate::shim_shadow::explain(name, &first))?;
        }
    }
    Ok(())
}

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
