//! The plan rendered (plan stage): the child environment of `trustrun PROGRAM` (one source of
//! truth, `plan`) as text for a shell, a CI system or a dotenv file, each value quoted by its
//! consumer's rules. `trustrun env` prints it; `setup` writes it into the profiles.

use std::ffi::OsString;
use std::path::Path;

use crate::failure::Failure;
use crate::run::plan::EnvPlan;
use crate::settings::vars;
use crate::util::shell::{Shell, fish_quote, powershell_quote, sh_quote};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// POSIX sh syntax, for sh, bash and zsh (also accepted as `bash` and `zsh`)
    #[value(alias = "bash", alias = "zsh")]
    Sh,
    Fish,
    Powershell,
    Cmd,
    Github,
    Dotenv,
    Json,
}

impl Format {
    /// Windows picks the format of the shell it detects; Unix defaults to sh.
    #[cfg_attr(not(windows), allow(dead_code))]
    pub fn for_shell(shell: Shell) -> Format {
        match shell {
            Shell::Sh => Format::Sh,
            Shell::Fish => Format::Fish,
            Shell::PowerShell => Format::Powershell,
            Shell::Cmd => Format::Cmd,
        }
    }

    /// The format when none is asked for. On Unix sh, whatever `$SHELL` says: the usual line is
    /// `eval "$(trustrun env)"` in a bash or zsh profile or script, and a login shell of fish
    /// must not turn that into fish syntax bash cannot read; fish users ask for `--format fish`.
    #[cfg(not(windows))]
    pub fn default_here() -> Format {
        Format::Sh
    }

    /// On Windows: PowerShell, cmd's when cmd.exe started trustrun, or sh syntax with `;` path
    /// lists under Git Bash/MSYS2 (`MSYSTEM`).
    #[cfg(windows)]
    pub fn default_here() -> Format {
        Format::for_shell(Shell::detect())
    }

    /// Shells can extend PYTHONPATH when the snippet runs; the others get it whole.
    /// (cmd is not one of them: its `set` cannot test for an entry, so it carries PYTHONPATH whole,
    /// as docs/env.md says.)
    fn extends_pythonpath(self) -> bool {
        matches!(self, Format::Sh | Format::Fish | Format::Powershell)
    }
}

fn text<'a>(name: &str, value: &'a OsString) -> Result<&'a str, Failure> {
    value.to_str().ok_or_else(|| {
        Failure::new(
            crate::failure::EXIT_FAILURE,
            format!("{name}: the path is not valid Unicode and cannot be printed for a shell"),
        )
    })
}

/// The snippet for `format`. `python_dir` is our support directory, which shells prepend to
/// PYTHONPATH themselves (once, however often the snippet runs).
pub fn render(format: Format, plan: &EnvPlan, python_dir: &Path) -> Result<String, Failure> {
    let mut out = String::new();
    if format == Format::Json {
        out.push('{');
        for (i, (name, value)) in plan.vars.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str("\n  ");
            out.push_str(&json_string(name));
            out.push_str(": ");
            match value {
                Some(v) => out.push_str(&json_string(text(name, v)?)),
                None => out.push_str("null"),
            }
        }
        out.push_str("\n}\n");
        return Ok(out);
    }
    let python_dir = python_dir.to_str().ok_or_else(|| {
        Failure::new(
            crate::failure::EXIT_FAILURE,
            "the python support directory is not valid Unicode",
        )
    })?;
    for (name, value) in &plan.vars {
        if name == vars::PYTHONPATH
            && let Some(snippet) = prepend_pythonpath(format, python_dir)
        {
            out.push_str(&snippet);
            continue;
        }
        let line = match value {
            None => match format {
                Format::Sh => format!("unset {name}"),
                Format::Fish => format!("set -e {name}"),
                Format::Powershell => {
                    format!("Remove-Item Env:{name} -ErrorAction SilentlyContinue")
                }
                Format::Cmd => format!("set \"{name}=\""),
                // Neither can unset: leave the variable to the job or file as it is.
                Format::Github | Format::Dotenv | Format::Json => continue,
            },
            Some(v) => {
                let v = text(name, v)?;
                match format {
                    Format::Sh => format!("export {name}={}", sh_quote(v)),
                    Format::Fish => format!("set -gx {name} {}", fish_quote(v)),
                    Format::Powershell => format!("$env:{name} = {}", powershell_quote(v)),
                    Format::Cmd => format!("set \"{name}={}\"", cmd_escape(name, v)?),
                    Format::Github => github_line(name, v),
                    Format::Dotenv => format!("{name}={}", dotenv_quote(name, v)?),
                    // Written whole above; kept here so the match stays total without a panic.
                    Format::Json => format!("{}: {}", json_string(name), json_string(v)),
                }
            }
        };
        out.push_str(&line);
        out.push('\n');
    }
    Ok(out)
}

/// The shell code that puts `dir` first on PYTHONPATH once, for the formats that can; `None` for
/// the others, which carry the planned PYTHONPATH whole.
fn prepend_pythonpath(format: Format, dir: &str) -> Option<String> {
    if !format.extends_pythonpath() {
        return None;
    }
    Some(match format {
        Format::Sh => {
            // The separator is the platform's: Git Bash on Windows runs Windows Python, which
            // splits PYTHONPATH on `;` (a `:` would cut `C:\...` in two).
            let q = sh_quote(dir);
            let s = crate::util::path_list::SEPARATOR;
            format!(
                "case \"{s}${{PYTHONPATH-}}{s}\" in *\"{s}\"{q}\"{s}\"*) ;; *) export PYTHONPATH={q}\"${{PYTHONPATH:+{s}$PYTHONPATH}}\" ;; esac\n"
            )
        }
        Format::Fish => {
            // fish keeps variables named *PATH as lists and joins them with ':' for children.
            let q = fish_quote(dir);
            // `if`, not `contains ...; or set ...`: fish's set passes the status of `contains` on,
            // and `source file; and ...` would read a successful snippet as a failure.
            format!("if not contains -- {q} $PYTHONPATH; set -gx PYTHONPATH {q} $PYTHONPATH; end\n")
        }
        Format::Powershell => {
            let q = powershell_quote(dir);
            format!(
                "if (-not (\"$env:PYTHONPATH\" -split [IO.Path]::PathSeparator -contains {q})) {{ $env:PYTHONPATH = (@({q}) + @(\"$env:PYTHONPATH\" -split [IO.Path]::PathSeparator | Where-Object {{ $_ }})) -join [IO.Path]::PathSeparator }}\n"
            )
        }
        Format::Cmd | Format::Github | Format::Dotenv | Format::Json => return None,
    })
}

/// cmd (in a .cmd/.bat file): inside `set "NAME=value"` only `%` needs escaping (`%%`); a `"` or
/// a line break cannot be written at all (and cannot occur in a Windows path).
pub fn cmd_escape(name: &str, v: &str) -> Result<String, Failure> {
    if v.contains(['"', '\n', '\r']) {
        return Err(Failure::usage(format!(
            "{name}: value cannot be written for cmd: {v:?}"
        )));
    }
    Ok(v.replace('%', "%%"))
}

/// GitHub's `$GITHUB_ENV`: `NAME=value` takes the rest of the line verbatim; a value with a line
/// break needs the heredoc form with a delimiter that does not occur in it.
pub fn github_line(name: &str, v: &str) -> String {
    if !v.contains(['\n', '\r']) {
        return format!("{name}={v}");
    }
    let mut delimiter = String::from("TRUSTRUN_EOF");
    while v.contains(&delimiter) {
        delimiter.push('_');
    }
    format!("{name}<<{delimiter}\n{v}\n{delimiter}")
}

/// dotenv, read by python-dotenv, docker compose and `set -a; . file`: single quotes are literal
/// in all three. A value with a single quote gets double quotes, which is only safe for all three
/// when it has no `$`, `\`, `"` or backtick.
pub fn dotenv_quote(name: &str, v: &str) -> Result<String, Failure> {
    if v.contains(['\n', '\r']) {
        return Err(Failure::usage(format!(
            "{name}: a line break cannot be written in dotenv format"
        )));
    }
    // python-dotenv reads \\ and \' inside single quotes as escapes; sh and compose do not.
    if v.contains("\\\\") || v.contains("\\'") {
        return Err(Failure::usage(format!(
            "{name}: {v:?} has a backslash sequence dotenv readers disagree on"
        )));
    }
    if !v.contains('\'') {
        return Ok(format!("'{v}'"));
    }
    if v.contains(['$', '\\', '"', '`']) {
        return Err(Failure::usage(format!(
            "{name}: {v:?} mixes quotes and $ or \\; no dotenv quoting reads it the same everywhere"
        )));
    }
    Ok(format!("\"{v}\""))
}

/// A JSON string literal, as serde_json writes it.
pub fn json_string(v: &str) -> String {
    serde_json::Value::from(v).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NASTY: &str = "C:\\Users\\Zoë O'Brien\\cache $HOME %PATH% ‘x’ & ^ | <a>";

    #[test]
    fn powershell_single_quotes_are_verbatim_with_quotes_doubled() {
        assert_eq!(powershell_quote("a'b"), "'a''b'");
        assert_eq!(powershell_quote("‘x’"), "'‘‘x’’'");
        // $ and backtick are literal in single quotes: nothing to do.
        assert_eq!(powershell_quote("$env:X `n"), "'$env:X `n'");
        let q = powershell_quote(NASTY);
        assert!(q.starts_with('\'') && q.ends_with('\''));
        // Undo PowerShell's rule: every doubled quote character is one.
        let inner = &q[1..q.len() - 1];
        let mut back = String::new();
        let mut chars = inner.chars().peekable();
        while let Some(c) = chars.next() {
            if matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}') {
                assert_eq!(chars.next(), Some(c), "a lone quote would end the string");
            }
            back.push(c);
        }
        assert_eq!(back, NASTY);
    }

    #[test]
    fn cmd_doubles_percent_and_refuses_quotes() {
        assert_eq!(
            cmd_escape("X", "C:\\a b\\100%\\x").unwrap(),
            "C:\\a b\\100%%\\x"
        );
        // & ^ | < > are safe inside set "NAME=value".
        assert_eq!(cmd_escape("X", "a & b ^ c | d").unwrap(), "a & b ^ c | d");
        assert!(cmd_escape("X", "a\"b").is_err());
        assert!(cmd_escape("X", "a\nb").is_err());
    }

    #[test]
    fn dotenv_refuses_what_its_readers_disagree_on() {
        assert_eq!(
            dotenv_quote("X", "C:\\Users\\a b\\x.pem").unwrap(),
            "'C:\\Users\\a b\\x.pem'"
        );
        assert!(dotenv_quote("X", "\\\\server\\share\\b.pem").is_err());
        assert_eq!(dotenv_quote("X", "it's").unwrap(), "\"it's\"");
        assert!(dotenv_quote("X", "it's $HOME").is_err());
    }

    #[test]
    fn github_uses_a_heredoc_for_line_breaks() {
        assert_eq!(github_line("A", "x=y z"), "A=x=y z");
        assert_eq!(
            github_line("A", "1\n2"),
            "A<<TRUSTRUN_EOF\n1\n2\nTRUSTRUN_EOF"
        );
        assert_eq!(
            github_line("A", "1\nTRUSTRUN_EOF"),
            "A<<TRUSTRUN_EOF_\n1\nTRUSTRUN_EOF\nTRUSTRUN_EOF_"
        );
    }

    #[test]
    fn sh_and_fish_quote() {
        assert_eq!(sh_quote("it's $x"), "'it'\\''s $x'");
        assert_eq!(fish_quote("it's \\ $x"), "'it\\'s \\\\ $x'");
    }

    #[test]
    fn json_escapes() {
        assert_eq!(json_string("a\"b\\c\u{1}é"), "\"a\\\"b\\\\c\\u0001é\"");
    }
}
