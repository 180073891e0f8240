//! The dispatch stage: argv[0] picks shim mode or trustrun's own interface; clap reads the
//! latter (`args`), and each command goes to its body: `run`, `doctor`, `setup` and `shim` to
//! their folders, the small ones (`bundle`, `env`, `config`) to a file here. `hints` turns
//! clap's errors and a subcommand's typo into one line that says what was meant.

mod args;
mod bundle;
mod config;
mod env;
mod hints;

use std::ffi::OsString;
#[cfg(windows)]
use std::path::PathBuf;

use anyhow::Result;
use clap::Parser;

use crate::failure::Failure;
use crate::run;
use crate::settings::options::{Flags, RunFlags, TrustOptions};
use crate::util::program_name::is_trustrun_name;
use args::{Cli, Command, ConfigAction, ShimAction};
use hints::{ca_option_hint, program_meant, suggest_subcommand, usage_line};

/// The name trustrun was started under: argv[0]'s file name on Unix (a symlink's own name).
#[cfg(not(windows))]
fn invoked_name(argv0: Option<&OsString>) -> Option<String> {
    let name = std::path::Path::new(argv0?).file_name()?;
    Some(name.to_string_lossy().into_owned())
}

/// On Windows the running exe's own file name: argv[0] is whatever the parent wrote on the
/// command line, and a hardlink or copy knows its own name.
#[cfg(windows)]
fn invoked_name(argv0: Option<&OsString>) -> Option<String> {
    let exe = std::env::current_exe()
        .ok()
        .or_else(|| argv0.map(PathBuf::from))?;
    Some(crate::util::program_name::of_file(
        &exe.file_name()?.to_string_lossy(),
    ))
}

pub fn dispatch(argv: Vec<OsString>) -> Result<()> {
    let name = invoked_name(argv.first());
    if let Some(name) = name.filter(|n| !is_trustrun_name(n)) {
        // Shim mode: no option parsing at all, the arguments belong to the program.
        let opts = TrustOptions::from_env()?;
        return run::run_program(&opts, &OsString::from(name), &argv[1..]);
    }
    // `trustrun PROGRAM ARGS...` with nothing before PROGRAM: clap would make exactly this of it,
    // and building its parser was a fifth of a warm run's instructions.
    if let Some(program) = argv.get(1).filter(|p| is_bare_program(p)) {
        let opts = TrustOptions::from_env()?;
        return run::run_program(&opts, program, &argv[2..])
            .map_err(|e| suggest_subcommand(e, program));
    }
    let cli = match Cli::try_parse_from(&argv) {
        Ok(cli) => cli,
        Err(e)
            if !e.use_stderr()
                || e.kind() == clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand =>
        {
            // --help and --version are not errors, and `trustrun shim` alone asks for the list of
            // its subcommands; clap prints them with their own exit code.
            e.exit();
        }
        Err(e) => {
            if let Some(hint) = ca_option_hint(&e, &argv).or_else(|| program_meant(&e, &argv)) {
                return Err(hint.into());
            }
            return Err(Failure::usage(usage_line(&e.render().to_string())).into());
        }
    };
    // The flags given before the subcommand; those after it are merged into them.
    let (before, run_before) = (cli.flags, cli.run);
    match cli.command {
        Some(Command::Bundle {
            output,
            corporate_only,
            flags,
        }) => {
            let opts = tool_options("bundle", before, flags, run_before)?;
            if corporate_only {
                bundle::corporate_only(&opts, output.as_deref())
            } else {
                bundle::path_or_copy(&opts, output)
            }
        }
        Some(Command::Env { format, flags }) => {
            env::print(&tool_options("env", before, flags, run_before)?, format)
        }
        Some(Command::Config { action }) => match action {
            ConfigAction::Path => config::path(),
            ConfigAction::Show => config::show(),
            ConfigAction::Init => config::init(),
        },
        Some(Command::Completions { shell }) => {
            use clap::CommandFactory;
            // Into memory first: clap_complete panics when its writer fails (`| head -0`); the
            // one output path turns that into an error `main` knows.
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "trustrun", &mut script);
            crate::out!("{}", String::from_utf8_lossy(&script))?;
            Ok(())
        }
        Some(Command::Shim { action }) => match action {
            ShimAction::Install {
                names,
                dir,
                hardlink,
                force,
                no_modify_path,
            } => crate::shim::install(crate::shim::InstallRequest {
                dir,
                names,
                hardlink,
                force,
                modify_path: !no_modify_path,
            }),
            ShimAction::List { dir } => crate::shim::list(dir),
            ShimAction::Remove { names, dir } => crate::shim::remove(dir, names),
        },
        Some(Command::Setup {
            dry_run,
            undo,
            refresh,
            force,
            python,
            no_python,
            java,
            no_java,
            flags,
        }) => crate::setup::run(
            &tool_options("setup", before, flags, run_before)?,
            &crate::setup::Request {
                dry_run,
                undo,
                refresh,
                force,
                python: match (python, no_python) {
                    (true, _) => Some(true),
                    (_, true) => Some(false),
                    _ => None,
                },
                java: match (java, no_java) {
                    (true, _) => Some(true),
                    (_, true) => Some(false),
                    _ => None,
                },
            },
        ),
        Some(Command::Doctor {
            hosts,
            json,
            timeout,
            flags,
        }) => crate::doctor::run(
            &tool_options("doctor", before, flags, run_before)?,
            &crate::doctor::Args {
                hosts,
                json,
                timeout,
            },
        ),
        None => {
            let Some((program, args)) = cli.program.split_first() else {
                crate::util::output::say_plain(&args::short_usage());
                return Err(Failure::usage("no program given").into());
            };
            run::run_program(&options(before, run_before)?, program, args)
                .map_err(|e| suggest_subcommand(e, program))
        }
    }
}

/// trustrun's own subcommands (and clap's `help`): a first argument named like one goes to clap.
/// A unit test keeps the list equal to clap's.
const SUBCOMMANDS: &[&str] = &[
    "bundle",
    "env",
    "config",
    "doctor",
    "setup",
    "shim",
    "completions",
    "help",
];

/// Whether `arg`, the first argument, is a program to run with nothing for clap to parse: not an
/// option, not a subcommand.
fn is_bare_program(arg: &OsString) -> bool {
    !arg.is_empty()
        && !arg.as_encoded_bytes().starts_with(b"-")
        && !SUBCOMMANDS.iter().any(|s| arg == *s)
}

/// The options in effect: the flags resolved against the environment and the config.
fn options(flags: Flags, run_flags: RunFlags) -> Result<TrustOptions, Failure> {
    Ok(crate::settings::load(flags, run_flags)?.options)
}

/// The options of `bundle`, `env`, `doctor` and `setup`, which run nothing: `--strict` before them is
/// refused with why (it decides whether a program runs without trustrun's bundle); after them
/// clap does not offer it. `--no-containers` before them changes nothing, as it never did.
fn tool_options(
    name: &str,
    before: Flags,
    after: Flags,
    run_flags: RunFlags,
) -> Result<TrustOptions, Failure> {
    if run_flags.strict {
        return Err(Failure::usage(format!(
            "--strict decides whether a program runs without trustrun's bundle; \
             it means nothing for `trustrun {name}`"
        )));
    }
    options(before.merge(after), run_flags)
}

/// What `prepare` makes, for commands that have no program to run untouched when it fails.
pub(crate) fn prepare_or_fail(opts: &TrustOptions) -> Result<crate::store::Prepared> {
    crate::store::prepare(opts).map_err(crate::store::PrepareError::into_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fast_path_knows_every_subcommand_clap_knows() {
        use clap::CommandFactory;
        let cli = Cli::command();
        let mut clap_names: Vec<&str> = cli
            .get_subcommands()
            .flat_map(|c| std::iter::once(c.get_name()).chain(c.get_all_aliases()))
            .collect();
        clap_names.push("help");
        clap_names.sort_unstable();
        let mut ours = SUBCOMMANDS.to_vec();
        ours.sort_unstable();
        assert_eq!(ours, clap_names);
        assert!(is_bare_program(&OsString::from("python")));
        assert!(!is_bare_program(&OsString::from("--ca")));
        assert!(!is_bare_program(&OsString::from("doctor")));
        assert!(!is_bare_program(&OsString::from("")));
    }
}
