//! The next step, as every message names it (util: doctor, `--help`, a bare `trustrun`, `shim
//! install` and `shim list` read it here), so that all of them name the same step for the same
//! situation: `trustrun setup` first when nothing is in place, one command and this shell only as
//! the alternatives, each command line in the syntax of the user's shell.

use super::shell::Shell;

/// What `trustrun setup` does, as the step to take when nothing is in place.
pub const SETUP: &str = "`trustrun setup`, then open a new terminal: every new shell and program \
of yours trusts the corporate root";

/// The one command that runs a program with trustrun's trust, as examples show it.
pub const ONE_COMMAND: &str = "trustrun python app.py";

/// The step when nothing is in place: setup, with the other ways as alternatives.
pub fn setup_first(shell: Shell) -> String {
    format!("{SETUP} (or: {})", alternatives(shell))
}

/// The ways that need no setup: one command, this shell only.
pub fn alternatives(shell: Shell) -> String {
    format!(
        "for one command `{ONE_COMMAND}`; for this shell only `{}`",
        shell.env_line()
    )
}

/// Setup is in place but this process does not have its variables.
pub const NOT_REACHING_HERE: &str = "setup is in place, but this shell (or your IDE) started \
before it ran: open a new terminal (restart the IDE)";

/// What covers an activated virtualenv, and what shims are for then.
pub const VENV_COVERED: &str = "`trustrun setup` covers virtualenvs; shims cover what setup \
cannot (programs started without your shell's variables)";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shell_gets_its_own_line() {
        assert!(setup_first(Shell::Sh).contains("eval \"$(trustrun env --format sh)\""));
        let ps = setup_first(Shell::PowerShell);
        assert!(ps.starts_with("`trustrun setup`"), "{ps}");
        assert!(
            ps.contains("Invoke-Expression") && !ps.contains("eval"),
            "{ps}"
        );
        assert!(setup_first(Shell::Cmd).contains("call "));
    }
}
