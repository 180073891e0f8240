//! Command line: argv[0] picks shim mode or trustrun's own interface.

use std::ffi::OsString;
use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, Parser, Subcommand};

use crate::failure::Failure;
use crate::program_name::is_trustrun_name;
use crate::run;
use crate::settings::options::{Flags, TrustOptions};
use crate::settings::truststore::Truststore;

#[derive(Parser, Debug)]
#[command(
    name = "trustrun",
    version,
    about = "Run a program so that Python, Node, curl, git... trust the CA roots your OS trusts",
    long_about = "Run a program so that Python, Node, curl, git and the rest trust exactly: the OS trust \
store + Mozilla's roots + the CA files you name. Verification is never turned off.\n\n\
Everything after PROGRAM goes to PROGRAM unchanged; `trustrun -- NAME` runs a program named \
like one of trustrun's commands.",
    after_help = EXAMPLES
)]
struct Cli {
    #[command(flatten)]
    trust: TrustArgs,

    #[command(subcommand)]
    command: Option<Command>,

    /// The program to run, then its arguments
    #[arg(value_name = "PROGRAM", trailing_var_arg = true)]
    program: Vec<OsString>,
}

/// Shown by `--help`, and in part by a bare `trustrun`.
const EXAMPLES: &str = "Examples:
  trustrun python app.py                  run app.py trusting the OS store + Mozilla + --ca files
  trustrun --ca ~/corp/root.pem pip install requests
  trustrun doctor api.openai.com          am I intercepted, by which root, and what fixes it
  trustrun shim install                   plain `python`, `pip`, `harbor` trusted (shims on PATH)
  eval \"$(trustrun env --format sh)\"      the whole shell: add to ~/.bashrc or ~/.zshrc
  trustrun -- doctor ...                  run a program named like a trustrun command

Exit codes: the program's own; 1 trustrun failed (or a shim/doctor refusal); 2 usage \
or CA file error; 125 internal failure under --strict only; 126 not executable or a shim loop; 127 not found.";

/// `trustrun env --help`: the profile line for each shell, each naming its format.
const ENV_EXAMPLES: &str = "Profile lines (each names its format):
  bash, zsh:   eval \"$(trustrun env --format sh)\"                 in ~/.bashrc or ~/.zshrc
  fish:        trustrun env --format fish | source                  in ~/.config/fish/config.fish
  PowerShell:  trustrun env --format powershell | Out-String | Invoke-Expression   in $PROFILE
  cmd:         trustrun env --format cmd > trust.cmd, then: call trust.cmd
  CI:          trustrun env --format github >> \"$GITHUB_ENV\"
  dotenv:      trustrun env --format dotenv > .env     (host paths: for tools run on this machine)";

/// What a bare `trustrun` prints: the usage line and three examples.
const SHORT_USAGE: &str = "usage: trustrun [OPTIONS] PROGRAM [ARGS...]   or   trustrun COMMAND
  trustrun python app.py                  run app.py trusting the OS store's corporate roots
  trustrun doctor api.openai.com          am I intercepted, and what fixes it
  eval \"$(trustrun env --format sh)\"      the same trust for the whole shell
more: trustrun --help";

#[derive(Args, Debug, Clone, Default)]
struct TrustArgs {
    /// Also trust the certificates in FILE or DIR (PEM or DER; repeatable)
    #[arg(long = "ca", value_name = "FILE|DIR")]
    ca: Vec<PathBuf>,

    /// Also verify through the OS in Python (truststore): auto = Windows and macOS
    #[arg(long, value_enum, value_name = "WHEN")]
    truststore: Option<Truststore>,

    /// Fail (exit 125) instead of running the program untouched when trustrun itself fails
    #[arg(long)]
    strict: bool,

    /// Let Python 3.13+ accept a corporate root that fails VERIFY_X509_STRICT (see `trustrun doctor`)
    #[arg(long)]
    relax_x509_strict: bool,

    /// Say what trustrun does on stderr
    #[arg(short, long)]
    verbose: bool,

    /// Leave docker, podman and compose commands alone (no bundle handed into containers)
    #[arg(long)]
    no_containers: bool,
}

/// The trust options of `bundle`, `env` and `doctor`: those of `TrustArgs` that change what they
/// do (`--strict` only decides whether a program runs without trustrun's bundle).
#[derive(Args, Debug, Clone, Default)]
struct ToolTrustArgs {
    /// Also trust the certificates in FILE or DIR (PEM or DER; repeatable)
    #[arg(long = "ca", value_name = "FILE|DIR")]
    ca: Vec<PathBuf>,

    /// Also verify through the OS in Python (truststore): auto = Windows and macOS
    #[arg(long, value_enum, value_name = "WHEN")]
    truststore: Option<Truststore>,

    /// Let Python 3.13+ accept a corporate root that fails VERIFY_X509_STRICT (see `trustrun doctor`)
    #[arg(long)]
    relax_x509_strict: bool,

    /// Say what trustrun does on stderr
    #[arg(short, long)]
    verbose: bool,
}

impl From<ToolTrustArgs> for TrustArgs {
    fn from(t: ToolTrustArgs) -> TrustArgs {
        TrustArgs {
            ca: t.ca,
            truststore: t.truststore,
            strict: false,
            relax_x509_strict: t.relax_x509_strict,
            verbose: t.verbose,
            // bundle, env and doctor create no containers.
            no_containers: false,
        }
    }
}

impl TrustArgs {
    fn flags(&self) -> Flags {
        Flags {
            ca: self.ca.clone(),
            truststore: self.truststore,
            strict: self.strict,
            relax_x509_strict: self.relax_x509_strict,
            verbose: self.verbose,
            no_containers: self.no_containers,
        }
    }

    fn options(&self) -> Result<TrustOptions, Failure> {
        Ok(crate::settings::load(self.flags())?.options)
    }
}

#[derive(Subcommand, Debug)]
enum Command {
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
        trust: ToolTrustArgs,
    },
    /// Print the environment `trustrun PROGRAM` sets, for a shell profile, CI or a .env file
    #[command(after_help = ENV_EXAMPLES)]
    Env {
        /// Output format [default: sh on Unix; PowerShell or cmd on Windows, as detected]
        #[arg(long, short, value_enum)]
        format: Option<crate::run::env_format::Format>,
        #[command(flatten)]
        trust: ToolTrustArgs,
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
        trust: ToolTrustArgs,
    },
    /// Make every new shell and program of yours trusted (profiles, user environment); --undo takes it back
    Setup {
        /// Print what would change, change nothing
        #[arg(long)]
        dry_run: bool,
        /// Remove exactly what setup added, as its record says
        #[arg(long, conflicts_with_all = ["refresh", "force", "python"])]
        undo: bool,
        /// Rebuild the stable bundle from setup's sources now (every trustrun run does it too)
        #[arg(long, conflicts_with_all = ["force", "python", "dry_run"])]
        refresh: bool,
        /// Also replace CA variables you set yourself (their files stay trusted)
        #[arg(long)]
        force: bool,
        /// Also put trustrun's sitecustomize on PYTHONPATH, for code that pins certifi
        #[arg(long)]
        python: bool,
        #[command(flatten)]
        trust: TrustArgs,
    },
    /// Manage shims: links named like programs (python, pip, harbor...) to put first on PATH
    Shim {
        #[command(subcommand)]
        action: ShimAction,
    },
    /// Print shell completions: `trustrun completions bash > ~/.local/share/bash-completion/completions/trustrun`
    Completions {
        /// bash, zsh, fish, powershell or elvish
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Subcommand, Debug)]
enum ConfigAction {
    /// Print the config file's path
    Path,
    /// Show the settings in effect and where each comes from
    Show,
    /// Write a commented config template at the config path (never over an existing file)
    Init,
}

#[derive(Subcommand, Debug)]
enum ShimAction {
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
    Some(crate::program_name::windows_program_name(
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
            if let Some(hint) = ca_option_hint(&e) {
                return Err(hint.into());
            }
            return Err(Failure::usage(usage_line(&e.render().to_string())).into());
        }
    };
    if cli.trust.strict
        && let Some(name) = match &cli.command {
            Some(Command::Bundle { .. }) => Some("bundle"),
            Some(Command::Env { .. }) => Some("env"),
            Some(Command::Doctor { .. }) => Some("doctor"),
            _ => None,
        }
    {
        return Err(Failure::usage(format!(
            "--strict decides whether a program runs without trustrun's bundle; \
             it means nothing for `trustrun {name}`"
        ))
        .into());
    }
    match cli.command {
        Some(Command::Bundle {
            output,
            corporate_only,
            trust,
        }) => {
            let opts = merge_args(&cli.trust, &trust.into())?;
            if corporate_only {
                crate::export::corporate_only(&opts, output.as_deref())
            } else {
                bundle_command(&opts, output)
            }
        }
        Some(Command::Env { format, trust }) => {
            env_command(&merge_args(&cli.trust, &trust.into())?, format)
        }
        Some(Command::Config { action }) => match action {
            ConfigAction::Path => config_path(),
            ConfigAction::Show => config_show(),
            ConfigAction::Init => crate::config_init::init(),
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
            trust,
        }) => crate::setup::run(
            &merge_args(&cli.trust, &trust)?,
            &crate::setup::Request {
                dry_run,
                undo,
                refresh,
                force,
                python,
            },
        ),
        Some(Command::Doctor {
            hosts,
            json,
            timeout,
            trust,
        }) => crate::doctor::run(
            &merge_args(&cli.trust, &trust.into())?,
            &crate::doctor::Args {
                hosts,
                json,
                timeout,
            },
        ),
        None => {
            let Some((program, args)) = cli.program.split_first() else {
                eprintln!("{SHORT_USAGE}");
                return Err(Failure::usage("no program given").into());
            };
            run::run_program(&cli.trust.options()?, program, args)
                .map_err(|e| suggest_subcommand(e, program))
        }
    }
}

/// clap's usage error on one line, like every other error of ours: the error itself, then what
/// clap suggests (a similar name, the possible values), without the usage block and help hint.
fn usage_line(rendered: &str) -> String {
    let mut lines = rendered.lines().map(str::trim).filter(|l| !l.is_empty());
    let first = lines.next().unwrap_or("bad usage");
    let mut parts = vec![first.strip_prefix("error: ").unwrap_or(first).to_owned()];
    parts.extend(
        lines
            .filter(|l| {
                l.starts_with("tip: a similar")
                    || l.starts_with("tip: some similar")
                    || l.starts_with("[possible values:")
            })
            .map(|l| l.trim_start_matches('[').trim_end_matches(']').to_owned()),
    );
    let mut line = parts.join("; ");
    if !line.contains("--help") {
        line.push_str(" (see `trustrun --help`)");
    }
    line
}

/// `--cert x.pem` and the other ways other tools name a CA file: say it is `--ca` here.
fn ca_option_hint(e: &clap::Error) -> Option<Failure> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if e.kind() != ErrorKind::UnknownArgument {
        return None;
    }
    let Some(ContextValue::String(arg)) = e.get(ContextKind::InvalidArg) else {
        return None;
    };
    crate::suggest::is_other_tools_ca_option(arg).then(|| {
        let option = arg.split('=').next().unwrap_or(arg);
        Failure::usage(format!(
            "unknown option {option}; trustrun's is --ca FILE|DIR (e.g. `trustrun --ca root.pem PROGRAM`)"
        ))
    })
}

/// A program not found whose name is a typo of a subcommand: say which one was likely meant.
fn suggest_subcommand(err: anyhow::Error, program: &OsString) -> anyhow::Error {
    use clap::CommandFactory;
    if crate::failure::exit_code_of(&err) != crate::failure::EXIT_NOT_FOUND {
        return err;
    }
    let cli = Cli::command();
    let names: Vec<&str> = cli.get_subcommands().map(|c| c.get_name()).collect();
    match crate::suggest::close_subcommand(&program.to_string_lossy(), &names) {
        Some(name) => Failure::new(
            crate::failure::EXIT_NOT_FOUND,
            format!(
                "{}; did you mean `trustrun {name}`?",
                crate::failure::one_line(&err)
            ),
        )
        .into(),
        None => err,
    }
}

/// Options given before the subcommand and after it count alike.
fn merge_args(before: &TrustArgs, after: &TrustArgs) -> Result<TrustOptions, Failure> {
    let mut ca = before.ca.clone();
    ca.extend(after.ca.iter().cloned());
    let flags = Flags {
        ca,
        truststore: after.truststore.or(before.truststore),
        strict: before.strict || after.strict,
        relax_x509_strict: before.relax_x509_strict || after.relax_x509_strict,
        verbose: before.verbose || after.verbose,
        no_containers: before.no_containers || after.no_containers,
    };
    Ok(crate::settings::load(flags)?.options)
}

/// The bundle and plan, for commands that have no program to run untouched when this fails.
fn prepare_or_fail(opts: &TrustOptions) -> Result<crate::store::Prepared> {
    crate::store::prepare(opts).map_err(crate::failure::PrepareError::into_error)
}

fn env_command(opts: &TrustOptions, format: Option<crate::run::env_format::Format>) -> Result<()> {
    let prepared = prepare_or_fail(opts)?;
    let format = format.unwrap_or_else(crate::run::env_format::Format::default_here);
    let text = crate::run::env_format::render(format, &prepared.plan, &prepared.python_dir)?;
    crate::out!("{text}")?;
    Ok(())
}

fn config_path() -> Result<()> {
    match crate::settings::config::path() {
        Some(p) => crate::outln!("{}", p.display())?,
        None => {
            return Err(
                Failure::usage("no config directory is known here (set TRUSTRUN_CONFIG)").into(),
            );
        }
    }
    Ok(())
}

fn config_show() -> Result<()> {
    let crate::settings::Resolved {
        options: opts,
        origins,
        config,
    } = crate::settings::load(Flags::default())?;
    let file = crate::settings::config::path();
    match (&file, &config.path) {
        (Some(p), Some(_)) => crate::outln!("config file      {} (read)", p.display())?,
        (Some(p), None) => crate::outln!("config file      {} (none there)", p.display())?,
        (None, _) => crate::outln!("config file      (no config directory known)")?,
    }
    if opts.ca.is_empty() {
        crate::outln!("ca               (none)")?;
    }
    for (i, (ca, from)) in opts.ca.iter().zip(&origins.ca).enumerate() {
        let label = if i == 0 { "ca" } else { "" };
        crate::outln!("{label:<16} {} ({from})", ca.display())?;
    }
    crate::outln!(
        "truststore       {} ({}; {} here)",
        format!("{:?}", opts.truststore).to_ascii_lowercase(),
        origins.truststore,
        if opts.truststore.enabled() {
            "on"
        } else {
            "off"
        }
    )?;
    crate::outln!("strict           {} ({})", opts.strict, origins.strict)?;
    crate::outln!(
        "relax_x509_strict {} ({})",
        opts.relax_x509_strict,
        origins.relax_x509_strict
    )?;
    let list = |v: &[String]| {
        if v.is_empty() {
            "(none)".to_owned()
        } else {
            v.join(" ")
        }
    };
    crate::outln!("leave_alone      {}", list(&opts.leave_alone))?;
    crate::outln!("extra_variables  {}", list(&opts.extra_variables))?;
    crate::outln!(
        "containers       {} ({})",
        opts.containers,
        origins.containers
    )?;
    if let Ok(cache) = crate::store::cache_dir::preferred_dir() {
        crate::outln!("cache            {}", cache.display())?;
    }
    if let Ok(shims) = crate::shim::default_dir() {
        crate::outln!("shim directory   {}", shims.display())?;
    }
    Ok(())
}

fn bundle_command(opts: &TrustOptions, output: Option<PathBuf>) -> Result<()> {
    let prepared = prepare_or_fail(opts)?;
    match output {
        Some(out) => {
            // In a shell set up by `trustrun env` or `trustrun setup`, `--output "$SSL_CERT_FILE"`
            // names the bundle itself (or its stable or public copy): writing a file onto itself
            // would empty it.
            let copies = [
                Some(crate::store::stable::path(&prepared.root)),
                crate::store::handoff::copy_path(&prepared.root, &prepared.bundle),
            ];
            if std::iter::once(prepared.bundle.clone())
                .chain(copies.into_iter().flatten())
                .any(|b| crate::util::file_id::same_file(&b, &out))
            {
                return Err(Failure::usage(format!(
                    "--output {}: that is trustrun's bundle itself; nothing to copy",
                    out.display()
                ))
                .into());
            }
            let pem = std::fs::read(&prepared.bundle).map_err(|e| {
                anyhow::Error::from(e).context(format!("cannot read {}", prepared.bundle.display()))
            })?;
            crate::export::write_shared(&out, &pem)?;
        }
        None => crate::outln!("{}", prepared.bundle.display())?,
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
