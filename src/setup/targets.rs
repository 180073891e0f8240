//! Where `trustrun setup` writes on Unix: one file per way a user's processes start, for the
//! shells this user has, and what goes in each. The text of the values comes from `env_format`,
//! the same code `trustrun env` prints with.
// Windows writes the registry instead: only `Values` is used there.
#![cfg_attr(windows, allow(dead_code))]

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::{Result, bail};

use crate::env_format::{self, Format};
use crate::plan::EnvPlan;
use crate::vars;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Syntax {
    Sh,
    Fish,
    PowerShell,
    /// systemd's `environment.d`: `KEY=VALUE` with `${VAR:+...}` expansion, no shell quoting.
    EnvironmentD,
}

#[derive(Debug)]
pub struct Target {
    pub path: PathBuf,
    pub syntax: Syntax,
}

/// The static values setup writes: variables pointing at the stable bundle, and with
/// `--python` our sitecustomize's directory to put first on `PYTHONPATH`.
#[derive(Debug)]
pub struct Values {
    pub vars: Vec<(String, PathBuf)>,
    pub python_dir: Option<PathBuf>,
}

/// The files for the shells this user has, under `home`. A shell counts when it is on PATH or
/// its own configuration is there already.
pub fn unix_targets(home: &Path, config: &Path) -> Vec<Target> {
    let mut out = Vec::new();
    let mut add = |path: PathBuf, syntax| out.push(Target { path, syntax });
    // Login shells of sh, dash and bash (when bash has no login file of its own) read ~/.profile,
    // and so do many display managers for the graphical session.
    add(home.join(".profile"), Syntax::Sh);
    if has("bash", &home.join(".bashrc")) {
        // bash reads only the first of these at login, and ~/.profile only when neither exists.
        for own in [".bash_profile", ".bash_login"] {
            if home.join(own).is_file() {
                add(home.join(own), Syntax::Sh);
                break;
            }
        }
        // Interactive shells that are not login shells (a new terminal tab on most desktops).
        add(home.join(".bashrc"), Syntax::Sh);
    }
    let zdot = vars::non_empty("ZDOTDIR").map_or_else(|| home.to_owned(), PathBuf::from);
    if has("zsh", &zdot.join(".zshrc")) {
        // Every zsh reads .zshenv, scripts included.
        add(zdot.join(".zshenv"), Syntax::Sh);
    }
    if has("fish", &config.join("fish")) {
        add(config.join("fish/conf.d/trustrun.fish"), Syntax::Fish);
    }
    if has("pwsh", &config.join("powershell")) {
        // CurrentUserAllHosts: every PowerShell host of this user.
        add(config.join("powershell/profile.ps1"), Syntax::PowerShell);
    }
    if cfg!(target_os = "linux")
        && (Path::new("/run/systemd/system").is_dir() || config.join("environment.d").is_dir())
    {
        // The systemd user manager hands these to the graphical session: the IDE started from
        // the desktop, not from a shell.
        add(
            config.join("environment.d/60-trustrun.conf"),
            Syntax::EnvironmentD,
        );
    }
    out
}

fn has(program: &str, own_config: &Path) -> bool {
    own_config.exists() || on_path(program)
}

fn on_path(program: &str) -> bool {
    std::env::var_os(vars::PATH).is_some_and(|path| {
        std::env::split_paths(&path).any(|d| !d.as_os_str().is_empty() && d.join(program).is_file())
    })
}

/// The body of the block for `syntax`.
pub fn body(syntax: Syntax, values: &Values) -> Result<String> {
    let format = match syntax {
        Syntax::Sh => Format::Sh,
        Syntax::Fish => Format::Fish,
        Syntax::PowerShell => Format::Powershell,
        Syntax::EnvironmentD => return environment_d(values),
    };
    let mut plan = EnvPlan::default();
    for (name, value) in &values.vars {
        plan.vars.push((name.clone(), Some(OsString::from(value))));
    }
    let python_dir = match &values.python_dir {
        Some(dir) => {
            // The shells prepend the directory themselves, once.
            plan.vars
                .push((vars::PYTHONPATH.to_owned(), Some(dir.into())));
            dir.clone()
        }
        None => PathBuf::new(),
    };
    Ok(env_format::render(format, &plan, &python_dir)?)
}

/// `environment.d` lines. Its parser expands `$` and reads quotes and backslashes its own way,
/// so a value holding any of them is refused, naming the variable.
fn environment_d(values: &Values) -> Result<String> {
    let checked = |name: &str, value: &Path| -> Result<String> {
        let Some(text) = value.to_str() else {
            bail!("{name}: {} is not valid Unicode", value.display());
        };
        if text.contains(['$', '\\', '"', '\'', '\n', '\r', '`']) || text.trim() != text {
            bail!("{name}: {text:?} cannot be written to environment.d safely");
        }
        Ok(text.to_owned())
    };
    let mut out = String::new();
    for (name, value) in &values.vars {
        out.push_str(&format!("{name}={}\n", checked(name, value)?));
    }
    if let Some(dir) = &values.python_dir {
        let dir = checked(vars::PYTHONPATH, dir)?;
        out.push_str(&format!("PYTHONPATH={dir}${{PYTHONPATH:+:$PYTHONPATH}}\n"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(python: bool) -> Values {
        Values {
            vars: vec![(
                "SSL_CERT_FILE".to_owned(),
                PathBuf::from("/home/zoë o'brien/.cache/trustrun/current.pem"),
            )],
            python_dir: python.then(|| PathBuf::from("/c/python-1")),
        }
    }

    #[test]
    fn shells_get_quoted_static_values() {
        let sh = body(Syntax::Sh, &values(false)).unwrap();
        assert_eq!(
            sh,
            "export SSL_CERT_FILE='/home/zoë o'\\''brien/.cache/trustrun/current.pem'\n"
        );
        let fish = body(Syntax::Fish, &values(true)).unwrap();
        assert!(
            fish.contains("set -gx SSL_CERT_FILE '/home/zoë o\\'brien/"),
            "{fish}"
        );
        assert!(
            fish.contains("contains -- '/c/python-1' $PYTHONPATH"),
            "{fish}"
        );
    }

    #[test]
    fn environment_d_refuses_what_it_would_expand() {
        assert!(body(Syntax::EnvironmentD, &values(false)).is_err());
        let plain = Values {
            vars: vec![("SSL_CERT_FILE".to_owned(), PathBuf::from("/h/current.pem"))],
            python_dir: Some(PathBuf::from("/c/python-1")),
        };
        assert_eq!(
            body(Syntax::EnvironmentD, &plain).unwrap(),
            "SSL_CERT_FILE=/h/current.pem\nPYTHONPATH=/c/python-1${PYTHONPATH:+:$PYTHONPATH}\n"
        );
    }
}
