//! The options that decide what trust a program gets (dispatch stage): what the command line
//! said (`Flags`) and what was resolved from flags, environment and config (`TrustOptions`, made
//! by `settings::resolve`).

use std::path::PathBuf;

// Re-exported: callers name it from here as well as from its leaf module.
pub use crate::settings::truststore::Truststore;

/// What the command line said; a shim has none.
#[derive(Clone, Debug, Default)]
pub struct Flags {
    pub ca: Vec<PathBuf>,
    pub truststore: Option<Truststore>,
    pub strict: bool,
    pub relax_x509_strict: bool,
    pub verbose: bool,
    /// `--no-containers`.
    pub no_containers: bool,
}

#[derive(Clone, Debug)]
pub struct TrustOptions {
    /// Extra CA files or directories: flags first, then `TRUSTRUN_CA`; absolute paths.
    pub ca: Vec<PathBuf>,
    pub truststore: Truststore,
    pub strict: bool,
    pub relax_x509_strict: bool,
    pub verbose: bool,
    /// CA variables not to set (config `leave_alone`).
    pub leave_alone: Vec<String>,
    /// More variables to point at the bundle (config `extra_variables`).
    pub extra_variables: Vec<String>,
    /// CA paths the config named, with where ("config FILE:LINE: key `ca`"), so that an error
    /// about one of them says where it came from.
    pub ca_origins: Vec<(PathBuf, String)>,
    /// Hand the bundle into containers created through docker, podman and compose (off with
    /// `--no-containers`, `TRUSTRUN_CONTAINERS=0` or config `containers = false`).
    pub containers: bool,
}

impl TrustOptions {
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
