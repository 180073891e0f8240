//! The command line's shape (dispatch stage): clap's definitions of trustrun's options and
//! subcommands, and the texts `--help` and a bare `trustrun` print.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::settings::options::{Flags, RunFlags};
use crate::util::next_step::ONE_COMMAND;
use crate::util::shell::Shell;

#[derive(Parser, Debug)]
#[command(
    name = "trustrun",
    version,
    about = "Run a program so that Python, Node, curl, git... trust the CA roots your OS trusts",
    long_about = "Run a program so that Python, Node, curl, git and the rest trust exactly: the OS trust \
store + Mozilla's roots + the CA files you name. Verification is never turned off.\n\n\
Everything after PROGRAM goes to PROGRAM unchanged; `trustrun -- NAME` runs a program named \
like one of trustrun's commands.",
    after_help = examples()
)]
pub struct Cli {
    #[command(flatten)]
    pub flags: Flags,
    #[command(flatten)]
    pub run: RunFlags,

    #[command(subcommand)]
    pub command: Option<Command>,

    /// The program to run, then its arguments
    #[arg(value_name = "PROGRAM", trailing_var_arg = true)]
    pub program: Vec<OsString>,
}

/// Shown by `--help`: setup first (the next step when nothing is in place), then the one-command
/// and this-shell ways, each command line in the syntax of the shell that asks.
pub fn examples() -> String {
    examples_for(Shell::detect())
}

fn examples_for(shell: Shell) -> String {
    let ca = format!(
        "trustrun --ca {} pip install requests",
        shell.home_file("corp/root.pem")
    );
    let rows = [
        (
            "trustrun setup",
            "start here: every new shell and program trusted for good",
        ),
        (
            ONE_COMMAND,
            "one command trusts the OS store + Mozilla + --ca files",
        ),
        (&ca, ""),
        (
            "trustrun doctor api.openai.com",
            "am I intercepted, by which root, and what fixes it",
        ),
        (
            shell.env_line(),
            "this shell only (other shells: `trustrun env --help`)",
        ),
        (
            "trustrun shim install",
            "shims on PATH, for what setup cannot reach",
        ),
        (
            "trustrun -- doctor ...",
            "run a program named like a trustrun command",
        ),
    ];
    let mut text = String::from("Examples:\n");
    for (command, what) in rows {
        text.push_str(&example_line(command, what));
    }
    text.push_str(
        "\nExit codes: the program's own; 1 trustrun failed (or a shim/doctor refusal); 2 usage \
         or CA file error; 125 internal failure under --strict only; 126 not executable or a shim \
         loop; 127 not found.",
    );
    text
}

/// `  COMMAND   what it does`, the description in a column when the command leaves room.
fn example_line(command: &str, what: &str) -> String {
    if what.is_empty() {
        format!("  {command}\n")
    } else if command.len() < 38 {
        format!("  {command:<38}  {what}\n")
    } else {
        format!("  {command}\n  {:<38}  {what}\n", "")
    }
}

/// `completions`' one line, with the example for the shell that asks.
fn completions_about() -> String {
    let example = match Shell::detect() {
        Shell::Sh => {
            "trustrun completions bash > ~/.local/share/bash-completion/completions/trustrun"
        }
        Shell::Fish => "trustrun completions fish > ~/.config/fish/completions/trustrun.fish",
        Shell::PowerShell | Shell::Cmd => "trustrun completions powershell >> $PROFILE",
    };
    format!("Print shell completions: `{example}`")
}

/// What a bare `trustrun` prints: the usage line and the ways in, setup first.
pub fn short_usage() -> String {
    let shell = Shell::detect();
    let mut text =
        String::from("usage: trustrun [OPTIONS] PROGRAM [ARGS...]   or   trustrun COMMAND\n");
    for (command, what) in [
        (
            "trustrun setup",
            "start here: every new shell and program trusted for good",
        ),
        (
            ONE_COMMAND,
            "one command trusts the OS store's corporate roots",
        ),
        (
            "trustrun doctor api.openai.com",
            "am I intercepted, and what fixes it",
        ),
        (shell.env_line(), "this shell only"),
    ] {
        text.push_str(&example_line(command, what));
    }
    text.push_str("more: trustrun --help");
    text
}

/// `trustrun env --help`: the profile line for each shell, each naming its format.
pub const ENV_EXAMPLES: &str = "Profile lines (each names its format):
  bash, zsh:   eval \"$(trustrun env --format sh)\"                 in ~/.bashrc or ~/.zshrc
  fish:        trustrun env --format fish | source                  in ~/.config/fish/config.fish
  PowerShell:  trustrun env --format powershell | Out-String | Invoke-Expression   in $PROFILE
  cmd:         trustrun env --format cmd > trust.cmd, then: call trust.cmd
  CI:          trustrun env --format github >> \"$GITHUB_ENV\"
  dotenv:      trustrun env --format dotenv > .env     (host paths: for tools run on this machine)";

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Print the path of the merged CA bundle (building it if needed)
    Bundle {
        /// Copy the bundle to FILE instead (mode 0644: a file to hand to a container or CI)
        #[arg(long, short, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Only the corporate roots (those doctor lists outside Mozilla's set), as PEM: for a
        /// Dockerfile's update-ca-certificates or a Java keystore
        #[arg(long)]
        corporate_only: bool,
        #[command(flatten)]
        flags: Flags,
    },
    /// Print the environment `trustrun PROGRAM` sets, for a shell profile, CI or a .env file
    #[command(after_help = ENV_EXAMPLES)]
    Env {
        /// Output format [default: sh on Unix; PowerShell or cmd on Windows, as detected]
        #[arg(long, short, value_enum)]
        format: Option<crate::run::env_format::Format>,
        #[command(flatten)]
        flags: Flags,
    },
    /// Where the config file is, and the settings in effect
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
    /// Tell whether TLS here is intercepted, by whom, and what fixes it
    Doctor {
        /// Also look at these hosts live: HOST, HOST:PORT or an https:// URL
        #[arg(value_name = "HOST")]
        hosts: Vec<String>,
        /// Print one JSON document instead of text
        #[arg(long)]
        json: bool,
        /// Give up on a host after this many seconds
        #[arg(long, value_name = "SECONDS", default_value = "5", value_parser = crate::doctor::parse_timeout)]
        timeout: std::time::Duration,
        #[command(flatten)]
        flags: Flags,
    },
    /// Make every new shell and program of yours trusted (profiles, user environment); --undo takes it back
    Setup {
        /// Print what would change, change nothing
        #[arg(long)]
        dry_run: bool,
        /// Remove exactly what setup added, as its record says
        #[arg(long, conflicts_with_all = ["refresh", "force", "python", "no_python", "java", "no_java"])]
        undo: bool,
        /// Rebuild the stable bundle from setup's sources now (every trustrun run does it too)
        #[arg(long, conflicts_with_all = ["force", "python", "no_python", "java", "no_java", "dry_run"])]
        refresh: bool,
        /// Also replace CA variables you set yourself (their files stay trusted)
        #[arg(long)]
        force: bool,
        /// Also put trustrun's sitecustomize on PYTHONPATH, for code that pins certifi (kept by
        /// later setups)
        #[arg(long, conflicts_with = "no_python")]
        python: bool,
        /// Drop --python given to an earlier setup
        #[arg(long)]
        no_python: bool,
        /// Also set JAVA_TOOL_OPTIONS to a Java trust store of the stable bundle, for every JVM
        /// (each prints "Picked up JAVA_TOOL_OPTIONS" on stderr; kept by later setups)
        #[arg(long, conflicts_with = "no_java")]
        java: bool,
        /// Drop --java given to an earlier setup
        #[arg(long)]
        no_java: bool,
        // No RunFlags: setup runs no program, so --strict and --no-containers mean nothing here.
        #[command(flatten)]
        flags: Flags,
    },
    /// Manage shims: links named like programs (python, pip, harbor...) to put first on PATH
    Shim {
        #[command(subcommand)]
        action: ShimAction,
    },
    #[command(about = completions_about())]
    Completions {
        /// bash, zsh, fish, powershell or elvish
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Subcommand, Debug)]
pub enum ConfigAction {
    /// Print the config file's path
    Path,
    /// Show the settings in effect and where each comes from
    Show,
    /// Write a commented config template at the config path (never over an existing file)
    Init,
}

#[derive(Subcommand, Debug)]
pub enum ShimAction {
    /// Make shims (default names: python python3 pip pip3 harbor); safe to run again
    Install {
        /// Program names to shim [default: python python3 pip pip3 harbor]
        #[arg(value_name = "NAME")]
        names: Vec<String>,
        /// The shim directory [default: TRUSTRUN_SHIM_DIR, else <data dir>/trustrun/shims]
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
        /// Make hardlinks instead of symlinks (Unix)
        #[arg(long)]
        hardlink: bool,
        /// Replace files of those names that are not trustrun shims
        #[arg(long)]
        force: bool,
        /// Windows: do not put the shim directory on the user PATH (HKCU\Environment)
        #[arg(long)]
        no_modify_path: bool,
    },
    /// Show each shim and the real program it runs now
    List {
        /// The shim directory [default: TRUSTRUN_SHIM_DIR, else <data dir>/trustrun/shims]
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// Remove shims (all of them when no name is given); never touches other files
    Remove {
        /// Shim names to remove [default: every shim in the directory]
        #[arg(value_name = "NAME")]
        names: Vec<String>,
        /// The shim directory [default: TRUSTRUN_SHIM_DIR, else <data dir>/trustrun/shims]
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::hints::usage_line;

    #[test]
    fn clap_usage_errors_become_one_line_with_the_suggestion() {
        let err = Cli::try_parse_from(["trustrun", "--stict", "python"]).unwrap_err();
        let line = usage_line(&err.render().to_string());
        assert_eq!(
            line,
            "unexpected argument '--stict' found; tip: a similar argument exists: '--strict' (see `trustrun --help`)"
        );
        let err = Cli::try_parse_from(["trustrun", "--truststore", "sometimes", "x"]).unwrap_err();
        let line = usage_line(&err.render().to_string());
        assert!(
            line.contains("possible values: auto, always, never"),
            "{line}"
        );
        assert!(!line.contains('\n'));
    }
}
