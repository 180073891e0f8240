//! The options that decide what trust a program gets (dispatch stage): what the command line
//! said (`Flags`, `RunFlags`: clap's own definitions, flattened wherever the flags are taken) and
//! what was resolved from flags, environment and config (`TrustOptions`, made by
//! `settings::resolve`), with the one list of CA variables a run sets (`ca_variables`).

use std::path::PathBuf;

use super::truststore::Truststore;

/// What the command line said about trust, taken before the subcommand and after every command
/// that prepares it (`bundle`, `env`, `doctor`, `setup`); a shim takes none. Each help text is
/// the field's doc comment. (`display_order`, here and in `RunFlags`, keeps the six in the order
/// `--help` has always listed them, after a command's own options.)
#[derive(Clone, Debug, Default, clap::Args)]
pub struct Flags {
    /// Also trust the certificates in FILE or DIR (PEM or DER; repeatable)
    #[arg(long = "ca", value_name = "FILE|DIR", display_order = 100)]
    pub ca: Vec<PathBuf>,

    /// Also verify through the OS in Python (truststore): auto = Windows and macOS
    #[arg(long, value_enum, value_name = "WHEN", display_order = 101)]
    pub truststore: Option<Truststore>,

    /// Let Python 3.13+ accept a corporate root that fails VERIFY_X509_STRICT (see `trustrun doctor`)
    #[arg(long, display_order = 103)]
    pub relax_x509_strict: bool,

    /// Say what trustrun does on stderr
    #[arg(short, long, display_order = 104)]
    pub verbose: bool,
}

/// What the command line said about running a program, taken before the subcommand: `bundle`,
/// `env`, `doctor` and `setup` run nothing, so they do not offer these.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct RunFlags {
    /// Fail (exit 125) instead of running the program untouched when trustrun itself fails
    #[arg(long, display_order = 102)]
    pub strict: bool,

    /// Leave docker, podman and compose commands alone (no bundle handed into containers)
    #[arg(long, display_order = 105)]
    pub no_containers: bool,
}

impl Flags {
    /// Flags given before the subcommand and after it count alike: the CA paths of both, in that
    /// order; the `--truststore` given last; a switch given in either place.
    pub fn merge(self, after: Flags) -> Flags {
        let mut ca = self.ca;
        ca.extend(after.ca);
        Flags {
            ca,
            truststore: after.truststore.or(self.truststore),
            relax_x509_strict: self.relax_x509_strict || after.relax_x509_strict,
            verbose: self.verbose || after.verbose,
        }
    }
}

#[derive(Clone, Debug)]
pub struct TrustOptions {
    /// Extra CA files or directories: flags first, then `TRUSTRUN_CA`; absolute paths.
    pub ca: Vec<PathBuf>,
    pub truststore: Truststore,
    pub strict: bool,
    pub relax_x509_strict: bool,
    pub verbose: bool,
    /// CA variables (and `JAVA_TOOL_OPTIONS`) not to set (config `leave_alone`).
    pub leave_alone: Vec<String>,
    /// More variables to point at the bundle (config `extra_variables`).
    pub extra_variables: Vec<String>,
    /// CA paths the config named, with where ("config FILE:LINE: key `ca`"), so that an error
    /// about one of them says where it came from.
    pub ca_origins: Vec<(PathBuf, String)>,
    /// Hand the bundle into containers created through docker, podman and compose (off with
    /// `--no-containers`, `TRUSTRUN_CONTAINERS=0` or config `containers = false`).
    pub containers: bool,
    /// Containers also get the Java trust store and `JAVA_TOOL_OPTIONS` naming it (on with
    /// `TRUSTRUN_CONTAINERS_JAVA=1` or config `containers_java = true`; off by default).
    pub containers_java: bool,
}

impl TrustOptions {
    /// Whether the child's `JAVA_TOOL_OPTIONS` names the Java trust store (not in `leave_alone`).
    pub fn java_tool_options(&self) -> bool {
        !self
            .leave_alone
            .iter()
            .any(|l| l == super::vars::JAVA_TOOL_OPTIONS)
    }

    /// The CA variables a run points at the bundle: the table (`vars::CA_VARIABLES`) less
    /// `leave_alone`, then `extra_variables`, each once. The one list `trustrun PROGRAM`'s child,
    /// a container and `trustrun setup`'s profiles get.
    pub fn ca_variables(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        let table = super::vars::CA_VARIABLES.iter().map(|(name, _)| *name);
        for name in table
            .filter(|name| !self.leave_alone.iter().any(|l| l == name))
            .chain(self.extra_variables.iter().map(String::as_str))
        {
            if !names.iter().any(|n| n == name) {
                names.push(name.to_owned());
            }
        }
        names
    }
}
