//! The options that decide what trust a program gets, merged from flags, environment and config.

use std::path::PathBuf;

use crate::config::Config;
use crate::failure::Failure;
use crate::vars;

/// When the child Python verifies through the OS (truststore) as well as through the bundle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Truststore {
    /// Windows and macOS, where the OS verifier knows roots a bundle cannot hold (fetched on
    /// demand, enterprise policy); on Linux the bundle already is what truststore would read.
    Auto,
    Always,
    Never,
}

impl Truststore {
    pub fn parse(text: &str) -> Option<Truststore> {
        match text.trim().to_ascii_lowercase().as_str() {
            "auto" => Some(Truststore::Auto),
            "always" => Some(Truststore::Always),
            "never" => Some(Truststore::Never),
            _ => None,
        }
    }

    /// `auto` decided for this platform.
    pub fn enabled(self) -> bool {
        match self {
            Truststore::Always => true,
            Truststore::Never => false,
            Truststore::Auto => cfg!(any(windows, target_os = "macos")),
        }
    }
}

/// What the command line said; a shim has none.
#[derive(Clone, Debug, Default)]
pub struct Flags {
    pub ca: Vec<PathBuf>,
    pub truststore: Option<Truststore>,
    pub strict: bool,
    pub relax_x509_strict: bool,
    pub verbose: bool,
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
}

impl TrustOptions {
    /// Options as a shim sees them: environment and config only, since a shim takes no flags.
    pub fn from_env() -> Result<TrustOptions, Failure> {
        TrustOptions::merge(Flags::default(), &crate::config::load()?)
    }

    /// Flags beat the environment, which beats the config; CA paths from all three are trusted.
    pub fn merge(flags: Flags, config: &Config) -> Result<TrustOptions, Failure> {
        vars::check_booleans()?;
        let mut ca: Vec<PathBuf> = flags.ca;
        if let Some(list) = vars::non_empty(vars::TRUSTRUN_CA) {
            ca.extend(crate::sources::split_path_list(&list));
        }
        ca.extend(config.ca.iter().cloned());
        let ca = ca
            .into_iter()
            .map(|p| std::path::absolute(&p).unwrap_or(p))
            .fold(Vec::new(), |mut acc: Vec<PathBuf>, p| {
                if !acc.contains(&p) {
                    acc.push(p);
                }
                acc
            });
        let truststore = match flags.truststore {
            Some(t) => t,
            None => match vars::non_empty(vars::TRUSTRUN_TRUSTSTORE) {
                Some(v) => Truststore::parse(&v.to_string_lossy()).ok_or_else(|| {
                    Failure::usage(format!(
                        "{}={:?}: expected auto, always or never",
                        vars::TRUSTRUN_TRUSTSTORE,
                        v
                    ))
                })?,
                None => config.truststore.unwrap_or(Truststore::Auto),
            },
        };
        let switch = |flag: bool, name: &str, configured: Option<bool>| {
            flag || match vars::boolean(name) {
                Ok(Some(on)) => on,
                _ => configured.unwrap_or(false),
            }
        };
        Ok(TrustOptions {
            ca,
            truststore,
            strict: switch(flags.strict, vars::TRUSTRUN_STRICT, config.strict),
            relax_x509_strict: switch(
                flags.relax_x509_strict,
                vars::TRUSTRUN_RELAX_X509_STRICT,
                config.relax_x509_strict,
            ),
            verbose: flags.verbose || vars::flag(vars::TRUSTRUN_VERBOSE),
            leave_alone: config.leave_alone.clone(),
            extra_variables: config.extra_variables.clone(),
        })
    }
}
