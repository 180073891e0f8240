//! Finding the real program on PATH, past our own shims and ourselves (the locate stage: `run`
//! asks it for every program, the engine CLIs and `doctor` ask it too, `shim list` and the shadow
//! check report what it finds). It lives with the shims because skipping them is its whole
//! difficulty: the manifest they are listed in is `shim::manifest`.
//!
//! PATH is searched in order, as the shell does: an empty entry is the current directory, a
//! relative one is taken from the current directory. Skipped: in a directory holding the shim
//! marker, the names its manifest lists (so a symlinked alias of the shim directory or a duplicate
//! entry cannot lead back to us, while the user's other programs in a shared `~/.local/bin` stay
//! reachable), and any file that is the running binary (a symlink or hardlink to it, wherever it
//! sits).
//! Another tool's shim further down (pyenv, a `#!/usr/bin/env python3` script) is a real target.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use super::manifest::SHIM_MARKER;
use crate::failure::{EXIT_CANNOT_EXECUTE, EXIT_NOT_FOUND, Failure};
use crate::settings::vars;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathVerdict {
    Chosen,
    ShimDirectory,
    IsTrustrun,
    NotExecutable,
}

impl fmt::Display for PathVerdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PathVerdict::Chosen => "the real program",
            PathVerdict::ShimDirectory => "skipped: a trustrun shim directory",
            PathVerdict::IsTrustrun => "skipped: trustrun itself",
            PathVerdict::NotExecutable => "skipped: not executable",
        })
    }
}

/// Every file named `program` on PATH with what the search makes of it, up to the chosen one
/// (or all, with `all`).
pub fn candidates(program: &OsStr, all: bool) -> Vec<(PathBuf, PathVerdict)> {
    // Hardlinks share an identity; copies are caught by the shim directory marker.
    let me = crate::util::file_id::FileId::current_exe();
    let mut out = Vec::new();
    let dirs = search_path();
    for (i, dir) in dirs.iter().enumerate() {
        // A directory on PATH twice gives the same answer twice: look once (compared as bytes:
        // `Path`'s own equality parses components).
        if dirs[..i].iter().any(|d| d.as_os_str() == dir.as_os_str()) {
            continue;
        }
        let dir = dir.as_path();
        // Read only where the marker is: most PATH directories cost one failed stat here.
        let shims = dir
            .join(SHIM_MARKER)
            .exists()
            .then(|| crate::shim::manifest::listed_names(dir));
        for file in names_in(dir, program) {
            let Ok(meta) = fs::metadata(&file) else {
                continue;
            };
            if !meta.is_file() {
                continue;
            }
            let ours = match &shims {
                None => false,
                // A manifest we cannot read: the whole directory may be ours.
                Some(None) => true,
                Some(Some(names)) => names.iter().any(|n| is_shim_file(&file, n)),
            };
            let verdict = if ours {
                PathVerdict::ShimDirectory
            } else if me.as_ref().is_some_and(|me| me.is(&file, &meta)) {
                PathVerdict::IsTrustrun
            } else if !is_executable(&file, &meta) {
                PathVerdict::NotExecutable
            } else {
                PathVerdict::Chosen
            };
            let chosen = verdict == PathVerdict::Chosen;
            out.push((file, verdict));
            if chosen && !all {
                return out;
            }
        }
    }
    out
}

/// Whether `file` is the shim the manifest lists as `name`: the same name on Unix; on Windows the
/// same program name (`python.exe`, `python.cmd`, in any case).
#[cfg(unix)]
fn is_shim_file(file: &Path, name: &str) -> bool {
    file.file_name().is_some_and(|f| f == name)
}

#[cfg(windows)]
fn is_shim_file(file: &Path, name: &str) -> bool {
    file.file_name().is_some_and(|f| {
        crate::util::program_name::of_file(&f.to_string_lossy()) == name.to_ascii_lowercase()
    })
}

/// The program to run: a path is taken as it is; a bare name is looked up on PATH.
pub fn find(program: &OsStr) -> Result<PathBuf, Failure> {
    let shown = Path::new(program).display().to_string();
    if program.is_empty() {
        return Err(Failure::usage("the program name is empty"));
    }
    if has_separator(program) {
        let path = PathBuf::from(program);
        return match fs::metadata(&path) {
            Err(_) => Err(Failure::new(
                EXIT_NOT_FOUND,
                format!("{shown}: no such file"),
            )),
            Ok(m) if m.is_dir() => Err(Failure::new(
                EXIT_CANNOT_EXECUTE,
                format!("{shown}: is a directory"),
            )),
            Ok(m) if !is_executable(&path, &m) => Err(Failure::new(
                EXIT_CANNOT_EXECUTE,
                format!("{shown}: permission denied (not executable)"),
            )),
            Ok(_) => Ok(path),
        };
    }
    let found = candidates(program, false);
    if let Some((path, _)) = found.iter().find(|(_, v)| *v == PathVerdict::Chosen) {
        return Ok(path.clone());
    }
    if let Some((path, _)) = found.iter().find(|(_, v)| *v == PathVerdict::NotExecutable) {
        return Err(Failure::new(
            EXIT_CANNOT_EXECUTE,
            format!("{shown}: {} is not executable", path.display()),
        ));
    }
    let skipped: Vec<String> = found
        .iter()
        .map(|(p, v)| format!("{} ({v})", p.display()))
        .collect();
    Err(Failure::new(
        EXIT_NOT_FOUND,
        if skipped.is_empty() {
            format!("{shown}: command not found on PATH")
        } else {
            format!(
                "{shown}: nothing real behind the shims on PATH; found only {}",
                skipped.join(", ")
            )
        },
    ))
}

fn has_separator(program: &OsStr) -> bool {
    let bytes = program.as_encoded_bytes();
    bytes.contains(&b'/') || (cfg!(windows) && bytes.contains(&b'\\'))
}

/// PATH's directories, with the shell's reading of empty and relative entries.
/// The directories a bare name is looked for in, in order (PATH, or execvp's default).
pub fn search_path() -> Vec<PathBuf> {
    let path = std::env::var_os(vars::PATH).unwrap_or_else(default_path);
    std::env::split_paths(&path)
        .map(|p| {
            if p.as_os_str().is_empty() {
                PathBuf::from(".")
            } else {
                p
            }
        })
        .collect()
}

#[cfg(unix)]
fn default_path() -> OsString {
    // What execvp uses when PATH is unset.
    OsString::from("/usr/local/bin:/usr/bin:/bin")
}

#[cfg(windows)]
fn default_path() -> OsString {
    OsString::new()
}

#[cfg(unix)]
fn names_in(dir: &Path, program: &OsStr) -> Vec<PathBuf> {
    vec![dir.join(program)]
}

#[cfg(windows)]
fn names_in(dir: &Path, program: &OsStr) -> Vec<PathBuf> {
    let pathext = std::env::var("PATHEXT").unwrap_or_else(|_| ".COM;.EXE;.BAT;.CMD".to_owned());
    windows_names(program, &pathext)
        .into_iter()
        .map(|name| dir.join(name))
        .collect()
}

/// The file names cmd tries for `program` in each PATH directory: a name ending in one of
/// PATHEXT's extensions is taken as it is; any other (python, python3.12) gets each of PATHEXT's
/// in turn. Plain logic, so it is tested on every platform.
#[cfg_attr(not(windows), allow(dead_code))]
fn windows_names(program: &OsStr, pathext: &str) -> Vec<OsString> {
    let exts: Vec<String> = pathext
        .split(';')
        .filter(|e| !e.is_empty())
        .map(|e| e.to_ascii_lowercase())
        .collect();
    let lower = program.to_string_lossy().to_ascii_lowercase();
    if exts.iter().any(|e| lower.ends_with(e.as_str())) {
        return vec![program.to_owned()];
    }
    exts.iter()
        .map(|ext| {
            let mut name = program.to_owned();
            name.push(ext);
            name
        })
        .collect()
}

#[cfg(unix)]
fn is_executable(_path: &Path, meta: &fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.is_file() && meta.permissions().mode() & 0o111 != 0
}

#[cfg(windows)]
fn is_executable(path: &Path, meta: &fs::Metadata) -> bool {
    meta.is_file() && path.extension().is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_names_follow_pathext() {
        let pathext = ".COM;.EXE;.BAT;.CMD";
        let names = |p: &str| windows_names(OsStr::new(p), pathext);
        assert_eq!(
            names("python"),
            ["python.com", "python.exe", "python.bat", "python.cmd"]
        );
        assert_eq!(names("python3.12")[1], "python3.12.exe");
        assert_eq!(names("pip.EXE"), ["pip.EXE"]);
        assert_eq!(names("tool.cmd"), ["tool.cmd"]);
    }
}
