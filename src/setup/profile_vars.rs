//! The CA variables the user sets in their own startup files (beside the pipeline, for setup):
//! `export REQUESTS_CA_BUNDLE=~/corp.pem` in `~/.profile`, `set -gx ...` in fish's config,
//! `$env:... = ...` in a PowerShell profile, `NAME=...` in `environment.d`. Setup runs from a shell
//! that may not have read them (they are in the profile, not in its environment); a block appended
//! after them would override them. Setup keeps such a variable as it keeps one set in its own
//! environment, and reads the file it names into the stable bundle.
//!
//! Read, never run: a value is taken as a path when it is a literal (`~`, `$HOME` and `${HOME}`
//! expanded, quotes as the shell reads them); anything else (`$OTHER`, a command substitution)
//! still makes the variable theirs, but names no file we can read.

use std::fs;
use std::path::{Path, PathBuf};

use super::profiles::Syntax;
use crate::user_env::block;

/// One assignment of a CA variable in a user's file.
#[derive(Debug, PartialEq, Eq)]
pub struct Assigned {
    pub name: String,
    pub file: PathBuf,
    /// Counted from 1.
    pub line: usize,
    /// The file it names, when its value is a literal path; `None` when it depends on
    /// something only the shell knows.
    pub path: Option<PathBuf>,
}

/// The CA variables of `names` the user assigns in their own startup files.
#[cfg(unix)]
pub fn of_user(home: &Path, names: &[String]) -> Vec<Assigned> {
    let config = dirs::config_dir().unwrap_or_else(|| home.join(".config"));
    let zdot =
        crate::settings::vars::non_empty("ZDOTDIR").map_or_else(|| home.to_owned(), PathBuf::from);
    find(&startup_files(home, &config, &zdot), names, home)
}

/// None on Windows: its user variables live in the registry, which setup reads as the
/// environment's (`users_own`).
#[cfg(not(unix))]
pub fn of_user(_home: &Path, _names: &[String]) -> Vec<Assigned> {
    Vec::new()
}

/// Files larger than this are not startup files; they are not read.
const LIMIT: u64 = 1 << 20;

/// The startup files of the shells and session whose values would lose to setup's block: the
/// profiles setup writes and the others these shells read.
pub fn startup_files(home: &Path, config: &Path, zdot: &Path) -> Vec<(PathBuf, Syntax)> {
    let mut out: Vec<(PathBuf, Syntax)> = [".profile", ".bash_profile", ".bash_login", ".bashrc"]
        .iter()
        .map(|n| (home.join(n), Syntax::Sh))
        .chain(
            [".zshenv", ".zprofile", ".zshrc", ".zlogin"]
                .iter()
                .map(|n| (zdot.join(n), Syntax::Sh)),
        )
        .collect();
    out.push((config.join("fish/config.fish"), Syntax::Fish));
    out.extend(
        in_dir(&config.join("fish/conf.d"), "fish", "trustrun.fish").map(|p| (p, Syntax::Fish)),
    );
    for name in ["profile.ps1", "Microsoft.PowerShell_profile.ps1"] {
        out.push((config.join("powershell").join(name), Syntax::PowerShell));
    }
    out.extend(
        in_dir(&config.join("environment.d"), "conf", "60-trustrun.conf")
            .map(|p| (p, Syntax::EnvironmentD)),
    );
    out
}

/// The files with extension `ext` in `dir` but `ours`, in name order (as fish and systemd read them).
fn in_dir(dir: &Path, ext: &str, ours: &str) -> impl Iterator<Item = PathBuf> {
    let mut found: Vec<PathBuf> = fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            p.extension().is_some_and(|e| e == ext) && p.file_name().is_some_and(|n| n != ours)
        })
        .collect();
    found.sort();
    found.into_iter()
}

/// Every assignment of one of `names` in `files`, outside our own blocks. A file that is not a
/// regular file (a FIFO would block), is too large or cannot be read is skipped: setup reports
/// such profiles itself when it writes them.
pub fn find(files: &[(PathBuf, Syntax)], names: &[String], home: &Path) -> Vec<Assigned> {
    let mut out = Vec::new();
    for (file, syntax) in files {
        if !fs::metadata(file).is_ok_and(|m| m.is_file() && m.len() <= LIMIT) {
            continue;
        }
        let Ok(bytes) = fs::read(file) else { continue };
        let text = String::from_utf8_lossy(&bytes);
        let mut in_block = false;
        for (i, line) in text.lines().enumerate() {
            let marker = line.trim_end();
            if marker == block::BEGIN || marker == block::END {
                in_block = marker == block::BEGIN;
                continue;
            }
            if in_block {
                continue;
            }
            if let Some((name, path)) = assignment(*syntax, line, names, home) {
                out.push(Assigned {
                    name,
                    file: file.clone(),
                    line: i + 1,
                    path,
                });
            }
        }
    }
    out
}

/// The variable of `names` that `line` sets, with the path it names when that is a literal.
fn assignment(
    syntax: Syntax,
    line: &str,
    names: &[String],
    home: &Path,
) -> Option<(String, Option<PathBuf>)> {
    let t = line.trim_start();
    if t.starts_with('#') {
        return None;
    }
    let (name, rest, quoting) = match syntax {
        Syntax::Sh => {
            let t = t.strip_prefix("export").map_or(t, |r| {
                if r.starts_with([' ', '\t']) {
                    r.trim_start()
                } else {
                    t
                }
            });
            let (name, rest) = t.split_once('=')?;
            (name, rest, Quoting::Sh)
        }
        Syntax::EnvironmentD => {
            let (name, rest) = t.split_once('=')?;
            (name.trim_end(), rest.trim_start(), Quoting::EnvironmentD)
        }
        Syntax::Fish => {
            let mut words = t.split_whitespace();
            if words.next()? != "set" {
                return None;
            }
            let mut exported = false;
            let mut name = None;
            for w in words.by_ref() {
                match w.strip_prefix("--") {
                    Some(long) => exported |= long == "export",
                    None => match w.strip_prefix('-') {
                        Some(short) => exported |= short.contains('x'),
                        None => {
                            name = Some(w);
                            break;
                        }
                    },
                }
            }
            let name = name?;
            if !exported {
                return None;
            }
            let rest = t[t.find(name)? + name.len()..].trim_start();
            (name, rest, Quoting::Fish)
        }
        Syntax::PowerShell => {
            let t = t.strip_prefix('$')?;
            let scope = t.get(..4)?;
            if !scope.eq_ignore_ascii_case("env:") {
                return None;
            }
            let (name, rest) = t[4..].split_once('=')?;
            (name.trim_end(), rest.trim_start(), Quoting::PowerShell)
        }
    };
    // PowerShell and Windows compare names without case; the shells of Unix with it.
    let known = names.iter().find(|n| {
        if syntax == Syntax::PowerShell {
            n.eq_ignore_ascii_case(name)
        } else {
            *n == name
        }
    })?;
    let value = word(rest, quoting, home);
    // Empty means unset, always: such a line is no value of theirs to keep.
    if value.as_deref().is_some_and(str::is_empty) || rest.trim().is_empty() {
        return None;
    }
    Some((known.clone(), value.map(PathBuf::from)))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Quoting {
    Sh,
    Fish,
    PowerShell,
    EnvironmentD,
}

/// The first word of `text` as its shell reads it, `~` and `$HOME` expanded; `None` when it
/// depends on anything else (another variable, a command).
fn word(text: &str, quoting: Quoting, home: &Path) -> Option<String> {
    let home = home.to_str()?;
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    let mut first = true;
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\r' | ';' | '&' | '|' if quoting != Quoting::EnvironmentD => {
                // The word must be the whole value: `$HOME + '\c.pem'` or a fish list is not a
                // path we can name.
                let rest: String = chars.collect();
                let rest = format!("{c}{rest}");
                let rest = rest.trim_start();
                let ends = rest.is_empty()
                    || rest.starts_with([';', '#'])
                    || rest.starts_with("&&")
                    || rest.starts_with("||");
                return ends.then_some(out);
            }
            '~' if first && quoting != Quoting::EnvironmentD => {
                if chars
                    .peek()
                    .is_none_or(|n| matches!(n, '/' | ' ' | '\t' | ';' | '\'' | '"'))
                {
                    out.push_str(home);
                } else {
                    return None; // ~user
                }
            }
            '\'' if quoting != Quoting::EnvironmentD => loop {
                match chars.next()? {
                    '\'' if quoting == Quoting::PowerShell && chars.peek() == Some(&'\'') => {
                        chars.next();
                        out.push('\'');
                    }
                    '\'' => break,
                    '\\' if quoting == Quoting::Fish
                        && matches!(chars.peek(), Some('\'' | '\\')) =>
                    {
                        out.push(chars.next()?);
                    }
                    c => out.push(c),
                }
            },
            '"' if quoting != Quoting::EnvironmentD => loop {
                match chars.next()? {
                    '"' => break,
                    '$' => out.push_str(variable(&mut chars, quoting, home)?),
                    '`' => return None,
                    '\\' if quoting != Quoting::PowerShell => out.push(chars.next()?),
                    c => out.push(c),
                }
            },
            '$' => out.push_str(variable(&mut chars, quoting, home)?),
            '`' | '(' => return None,
            '\\' if quoting != Quoting::PowerShell && quoting != Quoting::EnvironmentD => {
                out.push(chars.next()?)
            }
            c => out.push(c),
        }
        first = false;
    }
    if quoting == Quoting::EnvironmentD {
        return Some(out.trim_end().to_owned());
    }
    Some(out)
}

/// The value of the variable after a `$`: only the home directory is known here.
fn variable<'h>(
    chars: &mut std::iter::Peekable<std::str::Chars>,
    quoting: Quoting,
    home: &'h str,
) -> Option<&'h str> {
    let mut name = String::new();
    if chars.peek() == Some(&'{') {
        chars.next();
        loop {
            match chars.next()? {
                '}' => break,
                c => name.push(c),
            }
        }
    } else {
        while let Some(&c) = chars.peek() {
            if c.is_ascii_alphanumeric() || c == '_' || (c == ':' && quoting == Quoting::PowerShell)
            {
                name.push(c);
                chars.next();
            } else {
                break;
            }
        }
    }
    let known = match quoting {
        Quoting::PowerShell => {
            ["home", "env:home", "env:userprofile"].contains(&name.to_ascii_lowercase().as_str())
        }
        _ => name == "HOME",
    };
    known.then_some(home)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Vec<String> {
        ["REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"]
            .map(str::to_owned)
            .to_vec()
    }

    fn one(syntax: Syntax, line: &str) -> Option<(String, Option<PathBuf>)> {
        assignment(syntax, line, &names(), Path::new("/h"))
    }

    fn path(name: &str, p: &str) -> Option<(String, Option<PathBuf>)> {
        Some((name.to_owned(), Some(PathBuf::from(p))))
    }

    #[test]
    fn sh_spellings() {
        let r = "REQUESTS_CA_BUNDLE";
        assert_eq!(
            one(Syntax::Sh, "export REQUESTS_CA_BUNDLE=/etc/c.pem"),
            path(r, "/etc/c.pem")
        );
        assert_eq!(
            one(
                Syntax::Sh,
                "  REQUESTS_CA_BUNDLE=~/c.pem; export REQUESTS_CA_BUNDLE"
            ),
            path(r, "/h/c.pem")
        );
        assert_eq!(
            one(
                Syntax::Sh,
                "export REQUESTS_CA_BUNDLE=\"$HOME/my dir/c.pem\""
            ),
            path(r, "/h/my dir/c.pem")
        );
        assert_eq!(
            one(Syntax::Sh, "export REQUESTS_CA_BUNDLE='${HOME}/c.pem'"),
            path(r, "${HOME}/c.pem")
        );
        assert_eq!(
            one(
                Syntax::Sh,
                "export REQUESTS_CA_BUNDLE=${HOME}/'it'\\''s.pem'"
            ),
            path(r, "/h/it's.pem")
        );
        assert_eq!(
            one(Syntax::Sh, "export REQUESTS_CA_BUNDLE=$CORP/c.pem"),
            Some((r.to_owned(), None))
        );
        assert_eq!(
            one(Syntax::Sh, "export REQUESTS_CA_BUNDLE=$(corp-ca)"),
            Some((r.to_owned(), None))
        );
        for no in [
            "# export REQUESTS_CA_BUNDLE=/x",
            "export REQUESTS_CA_BUNDLE=",
            "export REQUESTS_CA_BUNDLE=''",
            "exportREQUESTS_CA_BUNDLE=/x",
            "export MY_REQUESTS_CA_BUNDLE=/x",
            "echo REQUESTS_CA_BUNDLE=/x",
        ] {
            assert_eq!(one(Syntax::Sh, no), None, "{no}");
        }
    }

    #[test]
    fn fish_powershell_and_environment_d_spellings() {
        let s = "SSL_CERT_FILE";
        assert_eq!(
            one(Syntax::Fish, "set -gx SSL_CERT_FILE ~/'a b.pem'"),
            path(s, "/h/a b.pem")
        );
        assert_eq!(
            one(Syntax::Fish, "set --export SSL_CERT_FILE '/it\\'s.pem'"),
            path(s, "/it's.pem")
        );
        assert_eq!(one(Syntax::Fish, "set -g SSL_CERT_FILE /x"), None);
        assert_eq!(
            one(Syntax::Fish, "set -gx SSL_CERT_FILE /x /y"),
            Some((s.to_owned(), None))
        );
        assert_eq!(
            one(Syntax::PowerShell, "$env:SSL_CERT_FILE = $HOME + '\\c.pem'"),
            Some((s.to_owned(), None))
        );
        assert_eq!(
            one(Syntax::PowerShell, "$env:ssl_cert_file = 'C:\\c''s.pem'"),
            path(s, "C:\\c's.pem")
        );
        assert_eq!(
            one(Syntax::PowerShell, "$Env:SSL_CERT_FILE=\"$HOME\\c.pem\""),
            path(s, "/h\\c.pem")
        );
        assert_eq!(
            one(Syntax::EnvironmentD, "SSL_CERT_FILE=${HOME}/c d.pem"),
            path(s, "/h/c d.pem")
        );
    }

    #[test]
    fn lines_inside_our_block_are_ours() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(".profile");
        fs::write(
            &file,
            format!(
                "{}\nexport SSL_CERT_FILE='/c/current.pem'\n{}\nexport SSL_CERT_FILE=/mine.pem\n",
                block::BEGIN,
                block::END
            ),
        )
        .unwrap();
        let found = find(&[(file.clone(), Syntax::Sh)], &names(), Path::new("/h"));
        assert_eq!(
            found,
            vec![Assigned {
                name: "SSL_CERT_FILE".to_owned(),
                file,
                line: 4,
                path: Some(PathBuf::from("/mine.pem")),
            }]
        );
    }
}
