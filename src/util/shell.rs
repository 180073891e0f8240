//! Which shell the user runs (util), for the snippets trustrun prints (PATH lines, `trustrun env`).

use std::path::Path;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(clippy::enum_variant_names, reason = "PowerShell is the shell's name")]
pub enum Shell {
    Sh,
    // Detected from `$SHELL`, which Windows does not read for this.
    #[cfg_attr(windows, allow(dead_code))]
    Fish,
    // cmd.exe is not here: no environment tells it apart reliably, so nothing would ever
    // detect it (`trustrun env --format cmd` asks for its syntax by name).
    PowerShell,
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

    /// On Windows: sh under Git Bash and MSYS2 (they set `MSYSTEM`), else PowerShell, the shell
    /// Windows users have. `SHELL` says nothing here: wine and some tools pass a Unix one
    /// through to Windows programs. cmd is never guessed: `--format cmd` asks for it.
    #[cfg(windows)]
    pub fn detect() -> Shell {
        if std::env::var_os("MSYSTEM").is_some_and(|v| !v.is_empty()) {
            Shell::Sh
        } else {
            Shell::PowerShell
        }
    }

    /// A line that puts `dir` first on PATH, and where it goes to last.
    pub fn path_instructions(self, dir: &Path) -> (String, &'static str) {
        let d = dir.display().to_string();
        match self {
            // Git Bash keeps PATH in its own /c/... form: cygpath turns the Windows path into it.
            Shell::Sh if cfg!(windows) => (
                format!("export PATH=\"$(cygpath -u {}):$PATH\"", sh_quote(&d)),
                "add it to ~/.bashrc",
            ),
            Shell::Sh => (
                format!("export PATH=\"{}:$PATH\"", d.replace('"', "\\\"")),
                "add it to ~/.bashrc or ~/.zshrc (or ~/.profile)",
            ),
            Shell::Fish => (
                format!("fish_add_path --move --path '{}'", d.replace('\'', "\\'")),
                "run it once, or add it to ~/.config/fish/config.fish",
            ),
            Shell::PowerShell => (
                format!("$env:Path = '{};' + $env:Path", d.replace('\'', "''")),
                "add it to your $PROFILE",
            ),
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
