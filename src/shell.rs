//! Which shell the user runs, for the snippets trustrun prints (PATH lines, `trustrun env`).

use std::path::Path;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(clippy::enum_variant_names, reason = "PowerShell is the shell's name")]
pub enum Shell {
    Sh,
    Fish,
    PowerShell,
    Cmd,
}

impl Shell {
    /// The user's shell as far as the environment tells: `$SHELL` on Unix, PowerShell's module
    /// path or cmd's `PROMPT` on Windows; sh when nothing tells.
    pub fn detect() -> Shell {
        if let Some(shell) = std::env::var_os("SHELL") {
            let name = Path::new(&shell)
                .file_name()
                .map(|n| n.to_string_lossy().to_ascii_lowercase())
                .unwrap_or_default();
            return match name.as_str() {
                "fish" => Shell::Fish,
                "pwsh" | "powershell" | "pwsh.exe" | "powershell.exe" => Shell::PowerShell,
                _ => Shell::Sh,
            };
        }
        if cfg!(windows) {
            // PowerShell sets PSModulePath for its children; cmd does not, and has PROMPT.
            if std::env::var_os("PSModulePath").is_some() && std::env::var_os("PROMPT").is_none() {
                return Shell::PowerShell;
            }
            return Shell::Cmd;
        }
        Shell::Sh
    }

    /// A line that puts `dir` first on PATH, and where it goes to last.
    pub fn path_instructions(self, dir: &Path) -> (String, &'static str) {
        let d = dir.display().to_string();
        match self {
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
            Shell::Cmd => (
                format!("set \"PATH={d};%PATH%\""),
                "or put the directory first in the user PATH (System Properties > Environment Variables)",
            ),
        }
    }
}
