//! The process environment that decides the options (settings stage), read at one place,
//! `EnvironmentOptions::from_process`, so that `resolve` is a pure function of what was read.

use std::ffi::{OsStr, OsString};

use super::vars;

/// The variables that decide the options, as the process had them (empty values kept: the
/// parsers read an empty value as unset, as every variable of ours is read).
#[derive(Clone, Debug, Default)]
pub struct EnvironmentOptions {
    pub ca: Option<OsString>,
    pub truststore: Option<OsString>,
    pub strict: Option<OsString>,
    pub verbose: Option<OsString>,
    pub relax_x509_strict: Option<OsString>,
    pub debug: Option<OsString>,
    pub containers: Option<OsString>,
    pub containers_java: Option<OsString>,
    pub config: Option<OsString>,
}

impl EnvironmentOptions {
    /// The one place the options' variables are read from the process.
    pub fn from_process() -> EnvironmentOptions {
        let var = |name: &str| std::env::var_os(name);
        EnvironmentOptions {
            ca: var(vars::TRUSTRUN_CA),
            truststore: var(vars::TRUSTRUN_TRUSTSTORE),
            strict: var(vars::TRUSTRUN_STRICT),
            verbose: var(vars::TRUSTRUN_VERBOSE),
            relax_x509_strict: var(vars::TRUSTRUN_RELAX_X509_STRICT),
            debug: var(vars::TRUSTRUN_DEBUG),
            containers: var(vars::TRUSTRUN_CONTAINERS),
            containers_java: var(vars::TRUSTRUN_CONTAINERS_JAVA),
            config: var(vars::TRUSTRUN_CONFIG),
        }
    }

    /// The boolean variables in `vars::BOOLEANS` order, so the first badly spelt is the error.
    pub(super) fn booleans(&self) -> [(&'static str, Option<&OsStr>); 4] {
        [
            (vars::TRUSTRUN_STRICT, self.strict.as_deref()),
            (vars::TRUSTRUN_VERBOSE, self.verbose.as_deref()),
            (
                vars::TRUSTRUN_RELAX_X509_STRICT,
                self.relax_x509_strict.as_deref(),
            ),
            (vars::TRUSTRUN_DEBUG, self.debug.as_deref()),
        ]
    }
}
