//! Which shell the user runs (util), for the snippets trustrun prints (PATH lines, `trustrun env`).

use std::path::Path;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(clippy::enum_variant_names, reason = "PowerShell is the shell's name")]
pub enum Shell {
    Sh,
    // Detected from `$SHELL`, which Windows does not read for this.
    #[cfg_attr(windows, allow(dead_code))]
    Fish,
    PowerShell,
    /// cmd.exe, told apart by being trustrun's parent process (Windows only).
    #[cfg_attr(not(windows), allow(dead_code))]
    Cmd,
}

impl Shell {
    /// The user's shell as far as the environment tells: `$SHELL`; sh when nothing tells.
    #[cfg(not(windows))]
    pub fn detect() -> Shell {
        let Some(shell) = std::env::var_os("SHELL") else {
            return Shell::Sh;
        };
        let name = Path::new(&shell)
            .file_name()
            .map(|n| n.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        match name.as_str() {
            "fish" => Shell::Fish,
            "pwsh" | "powershell" => Shell::PowerShell,
            _ => Shell::Sh,
        }
    }

    /// On Windows: sh under Git Bash and MSYS2 (they set `MSYSTEM`), cmd when cmd.exe started
    /// trustrun, else PowerShell, the shell Windows users have. `SHELL` says nothing here: wine
    /// and some tools pass a Unix one through to Windows programs. No variable tells cmd apart
    /// (PowerShell started from cmd inherits cmd's), so the parent process does.
    #[cfg(windows)]
    pub fn detect() -> Shell {
        if std::env::var_os("MSYSTEM").is_some_and(|v| !v.is_empty()) {
            return Shell::Sh;
        }
        match crate::util::windows::parent_process_name() {
            Some(name) if name.eq_ignore_ascii_case("cmd.exe") => Shell::Cmd,
            _ => Shell::PowerShell,
        }
    }

    /// A line that puts `dir` first on PATH in this shell.
    pub fn path_line(self, dir: &Path) -> String {
        let d = dir.display().to_string();
        match self {
            // Git Bash keeps PATH in its own /c/... form: cygpath turns the Windows path into it.
            Shell::Sh if cfg!(windows) => {
                format!("export PATH=\"$(cygpath -u {}):$PATH\"", sh_quote(&d))
            }
            Shell::Sh => format!("export PATH=\"{}:$PATH\"", d.replace('"', "\\\"")),
            Shell::Fish => format!("fish_add_path --move --path '{}'", d.replace('\'', "\\'")),
            Shell::PowerShell => format!("$env:Path = '{};' + $env:Path", d.replace('\'', "''")),
            Shell::Cmd => format!("set \"PATH={d};%PATH%\""),
        }
    }

    /// Where a line that every new shell should run goes; cmd has no such file.
    pub fn profile(self) -> Option<&'static str> {
        match self {
            Shell::Sh if cfg!(windows) => Some("~/.bashrc"),
            Shell::Sh => Some("~/.bashrc or ~/.zshrc (or ~/.profile)"),
            Shell::Fish => Some("~/.config/fish/config.fish"),
            Shell::PowerShell => Some("your $PROFILE"),
            Shell::Cmd => None,
        }
    }

    /// The command that removes the variable `name` from this shell.
    pub fn unset(self, name: &str) -> String {
        match self {
            Shell::Sh => format!("unset {name}"),
            Shell::Fish => format!("set -e {name}"),
            Shell::PowerShell => format!("Remove-Item Env:{name}"),
            Shell::Cmd => format!("set {name}="),
        }
    }

    /// The line that gives this shell the variables `trustrun PROGRAM` sets (`trustrun env`).
    pub fn env_line(self) -> &'static str {
        match self {
            Shell::Sh => "eval \"$(trustrun env --format sh)\"",
            Shell::Fish => "trustrun env --format fish | source",
            Shell::PowerShell => {
                "trustrun env --format powershell | Out-String | Invoke-Expression"
            }
            Shell::Cmd => {
                "trustrun env --format cmd > \"%TEMP%\\trust.cmd\" && call \"%TEMP%\\trust.cmd\""
            }
        }
    }

    /// `word` as this shell reads it back as one word: as it is when nothing in it is special.
    pub fn quote(self, word: &str) -> String {
        let plain = |c: char| c.is_ascii_alphanumeric() || "/._-+,:@%=".contains(c);
        if !word.is_empty() && word.chars().all(plain) {
            return word.to_owned();
        }
        match self {
            Shell::Sh => sh_quote(word),
            Shell::Fish => fish_quote(word),
            Shell::PowerShell => powershell_quote(word),
            Shell::Cmd => format!("\"{word}\""),
        }
    }

    /// `first`, then `second` if it succeeded; PowerShell 5 has no `&&`, so there simply after.
    pub fn then(self, first: &str, second: &str) -> String {
        match self {
            Shell::PowerShell => format!("{first}; {second}"),
            Shell::Sh | Shell::Fish | Shell::Cmd => format!("{first} && {second}"),
        }
    }

    /// A file in the user's home directory as this shell writes it in an example: PowerShell does
    /// not expand `~` for the programs it starts, cmd not at all.
    pub fn home_file(self, relative: &str) -> String {
        match self {
            Shell::Sh | Shell::Fish => format!("~/{relative}"),
            Shell::PowerShell => format!("$HOME\\{}", relative.replace('/', "\\")),
            Shell::Cmd => format!("%USERPROFILE%\\{}", relative.replace('/', "\\")),
        }
    }
}

/// POSIX sh: single quotes keep everything; a single quote itself is closed, escaped, reopened.
pub fn sh_quote(v: &str) -> String {
    format!("'{}'", v.replace('\'', "'\\''"))
}

/// fish: inside single quotes only `\` and `'` are special, both escaped with a backslash.
pub fn fish_quote(v: &str) -> String {
    format!("'{}'", v.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// PowerShell: single-quoted strings are verbatim; a quote is doubled. PowerShell also takes
/// the typographic single quotes as quotes, so those are doubled too.
pub fn powershell_quote(v: &str) -> String {
    let mut out = String::from("'");
    for c in v.chars() {
        if matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}') {
            out.push(c);
        }
        out.push(c);
    }
    out.push('\'');
    out
}
