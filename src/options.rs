//! The options that decide what trust a program gets, merged from flags, environment and config.

use std::path::PathBuf;

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

#[derive(Clone, Debug)]
pub struct TrustOptions {
    /// Extra CA files or directories: flags first, then `TRUSTRUN_CA`; absolute paths.
    pub ca: Vec<PathBuf>,
    pub truststore: Truststore,
    pub strict: bool,
    pub relax_x509_strict: bool,
    pub verbose: bool,
}

impl TrustOptions {
    /// Options as a shim sees them: environment only, since a shim takes no flags.
    pub fn from_env() -> Result<TrustOptions, Failure> {
        TrustOptions::merge(Vec::new(), None, false, false, false)
    }

    /// Flags beat the environment; CA paths from both are trusted.
    pub fn merge(
        flag_ca: Vec<PathBuf>,
        flag_truststore: Option<Truststore>,
        flag_strict: bool,
        flag_relax: bool,
        flag_verbose: bool,
    ) -> Result<TrustOptions, Failure> {
        let mut ca: Vec<PathBuf> = flag_ca;
        if let Some(list) = vars::non_empty(vars::TRUSTRUN_CA) {
            ca.extend(crate::sources::split_path_list(&list));
        }
        let ca = ca
            .into_iter()
            .map(|p| std::path::absolute(&p).unwrap_or(p))
            .fold(Vec::new(), |mut acc: Vec<PathBuf>, p| {
                if !acc.contains(&p) {
                    acc.push(p);
                }
                acc
            });
        let truststore = match flag_truststore {
            Some(t) => t,
            None => match vars::non_empty(vars::TRUSTRUN_TRUSTSTORE) {
                Some(v) => Truststore::parse(&v.to_string_lossy()).ok_or_else(|| {
                    Failure::usage(format!(
                        "{}={:?}: expected auto, always or never",
                        vars::TRUSTRUN_TRUSTSTORE,
                        v
                    ))
                })?,
                None => Truststore::Auto,
            },
        };
        Ok(TrustOptions {
            ca,
            truststore,
            strict: flag_strict || vars::flag(vars::TRUSTRUN_STRICT),
            relax_x509_strict: flag_relax || vars::flag(vars::TRUSTRUN_RELAX_X509_STRICT),
            verbose: flag_verbose || vars::flag(vars::TRUSTRUN_VERBOSE),
        })
    }
}
