//! Command line: argv[0] picks shim mode or trustrun's own interface.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};

use crate::failure::Failure;
use crate::options::{TrustOptions, Truststore};
use crate::run;

#[derive(Parser, Debug)]
#[command(
    name = "trustrun",
    version,
    about = "Run a program so that Python, Node, curl, git... trust the CA roots your OS trusts",
    long_about = "Run a program so that Python, Node, curl, git and the rest trust exactly: the OS trust \
store + Mozilla's roots + the CA files you name. Verification is never turned off.\n\n\
Everything after PROGRAM goes to PROGRAM unchanged; `trustrun -- NAME` runs a program named \
like one of trustrun's commands.",
    args_conflicts_with_subcommands = true,
    after_help = "Exit codes: the program's own; 2 usage or CA file error; 125 internal failure \
under --strict; 126 not executable or a shim loop; 127 not found."
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
}

impl TrustArgs {
    fn options(&self) -> Result<TrustOptions, Failure> {
        TrustOptions::merge(
            self.ca.clone(),
            self.truststore,
            self.strict,
            self.relax_x509_strict,
            self.verbose,
        )
    }
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Print the path of the merged CA bundle (building it if needed)
    Bundle {
        /// Copy the bundle to FILE instead
        #[arg(long, short, value_name = "FILE")]
        output: Option<PathBuf>,
        #[command(flatten)]
        trust: TrustArgs,
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
        trust: TrustArgs,
    },
}

/// The name trustrun was started under: its file name (on Windows without `.exe`).
fn invoked_name(argv0: &OsString) -> Option<String> {
    let name = Path::new(argv0).file_name()?.to_string_lossy().into_owned();
    Some(strip_exe(name))
}

#[cfg(windows)]
fn strip_exe(name: String) -> String {
    let lower = name.to_ascii_lowercase();
    match lower.strip_suffix(".exe") {
        Some(stem) => stem.to_owned(),
        None => lower,
    }
}

#[cfg(not(windows))]
fn strip_exe(name: String) -> String {
    name
}

/// Started as `trustrun` (or a renamed copy such as `trustrun-0.2`), not through a shim.
fn is_trustrun_name(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name == "trustrun"
        || ["trustrun-", "trustrun_", "trustrun."]
            .iter()
            .any(|p| name.starts_with(p))
}

pub fn dispatch(argv: Vec<OsString>) -> Result<()> {
    let name = argv.first().and_then(invoked_name);
    if let Some(name) = name.filter(|n| !is_trustrun_name(n)) {
        // Shim mode: no option parsing at all, the arguments belong to the program.
        let opts = TrustOptions::from_env()?;
        return run::run_program(&opts, &OsString::from(name), &argv[1..]);
    }
    let cli = match Cli::try_parse_from(&argv) {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version are not errors; clap prints them with their own exit code.
            e.exit();
        }
    };
    match cli.command {
        Some(Command::Bundle { output, trust }) => {
            bundle_command(&merge_args(&cli.trust, &trust)?, output)
        }
        Some(Command::Doctor {
            hosts,
            json,
            timeout,
            trust,
        }) => crate::doctor::run(
            &merge_args(&cli.trust, &trust)?,
            &crate::doctor::Args {
                hosts,
                json,
                timeout,
            },
        ),
        None => {
            let Some((program, args)) = cli.program.split_first() else {
                return Err(Failure::usage(
                    "no program given; try `trustrun PROGRAM ARGS...` or `trustrun --help`",
                )
                .into());
            };
            run::run_program(&cli.trust.options()?, program, args)
        }
    }
}

/// Options given before the subcommand and after it count alike.
fn merge_args(before: &TrustArgs, after: &TrustArgs) -> Result<TrustOptions, Failure> {
    let mut ca = before.ca.clone();
    ca.extend(after.ca.iter().cloned());
    TrustOptions::merge(
        ca,
        after.truststore.or(before.truststore),
        before.strict || after.strict,
        before.relax_x509_strict || after.relax_x509_strict,
        before.verbose || after.verbose,
    )
}

fn bundle_command(opts: &TrustOptions, output: Option<PathBuf>) -> Result<()> {
    let prepared = match run::prepare(opts) {
        Ok(p) => p,
        Err(run::PrepareError::UserCa(f)) => return Err(f.into()),
        Err(run::PrepareError::Internal(e)) => return Err(e.context("cannot build the CA bundle")),
    };
    match output {
        Some(out) => {
            std::fs::copy(&prepared.bundle, &out)
                .with_context(|| format!("cannot write {}", out.display()))?;
        }
        None => println!("{}", prepared.bundle.display()),
    }
    Ok(())
}
