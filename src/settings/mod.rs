//! Settings resolved once (dispatch stage), in uv's shape: the process environment is read into
//! `EnvironmentOptions` at one place, the config file is read once, and `resolve` is a pure
//! function of flags, environment and file that returns the options and where each came from.
//! Flags beat the environment, which beats the config; CA paths from all three are trusted.

pub mod boolish;
pub mod config;
mod environment;
pub mod options;
pub mod truststore;
pub mod vars;

use std::fmt;
use std::path::PathBuf;

use crate::failure::Failure;
use config::Config;
pub use environment::EnvironmentOptions;
use options::{Flags, RunFlags, TrustOptions};
use truststore::Truststore;

/// Where a setting's value came from, as `config show` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetBy {
    /// A command-line flag, by its name (`--strict`).
    Flag(&'static str),
    /// An environment variable, by its name.
    Env(&'static str),
    Config,
    Default,
}

impl fmt::Display for SetBy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SetBy::Flag(name) | SetBy::Env(name) => f.write_str(name),
            SetBy::Config => f.write_str("config"),
            SetBy::Default => f.write_str("default"),
        }
    }
}

/// The origin of each resolved option (`ca` in the order of `TrustOptions::ca`).
#[derive(Clone, Debug)]
pub struct Origins {
    pub ca: Vec<SetBy>,
    pub truststore: SetBy,
    pub strict: SetBy,
    pub relax_x509_strict: SetBy,
    pub containers: SetBy,
    pub containers_java: SetBy,
}

/// The options in effect and where each came from.
#[derive(Clone, Debug)]
pub struct Resolved {
    pub options: TrustOptions,
    pub origins: Origins,
    /// The config as read (its path, when a file was there).
    pub config: Config,
}

/// Reads the environment and the config once, and resolves the flags against them.
pub fn load(flags: Flags, run: RunFlags) -> Result<Resolved, Failure> {
    let env = EnvironmentOptions::from_process();
    let config = config::load_from(env.config.as_deref())?;
    resolve(flags, run, &env, config)
}

impl TrustOptions {
    /// Options as a shim sees them: environment and config only, since a shim takes no flags.
    pub fn from_env() -> Result<TrustOptions, Failure> {
        load(Flags::default(), RunFlags::default()).map(|r| r.options)
    }
}

/// Flags beat the environment, which beats the config; CA paths from all three are trusted, in
/// that order, each once.
pub fn resolve(
    flags: Flags,
    run: RunFlags,
    env: &EnvironmentOptions,
    config: Config,
) -> Result<Resolved, Failure> {
    let mut booleans = [None; 4];
    for (slot, (name, value)) in booleans.iter_mut().zip(env.booleans()) {
        *slot = boolish::parse(name, value)?;
    }
    // TRUSTRUN_DEBUG is for our sitecustomize only; checked here so a bad spelling is an error.
    let [env_strict, env_verbose, env_relax, _debug] = booleans;

    let absolute = |p: PathBuf| std::path::absolute(&p).unwrap_or(p);
    let env_ca = env
        .ca
        .as_ref()
        .filter(|v| !v.is_empty())
        .map(|v| crate::util::path_list::split(v))
        .unwrap_or_default();
    let mut ca: Vec<PathBuf> = Vec::new();
    let mut ca_from: Vec<SetBy> = Vec::new();
    let named = (flags.ca.into_iter().map(|p| (p, SetBy::Flag("--ca"))))
        .chain(
            env_ca
                .into_iter()
                .map(|p| (p, SetBy::Env(vars::TRUSTRUN_CA))),
        )
        .chain(config.ca.iter().map(|p| (p.clone(), SetBy::Config)));
    for (p, origin) in named {
        let p = absolute(p);
        if !ca.contains(&p) {
            ca.push(p);
            ca_from.push(origin);
        }
    }
    let ca_origins: Vec<(PathBuf, String)> = config
        .ca
        .iter()
        .map(|p| (absolute(p.clone()), config.ca_key.clone()))
        .collect();
    // Nested runs and shims get these in TRUSTRUN_CA, a path list: a name holding the list's
    // separator cannot be carried, and would silently lose trust one level down. A name that
    // does not exist is not carried at all: the bundle stage says it is missing, the real reason
    // (`C:\Users\...` typed on Linux holds ':' and names nothing).
    for p in &ca {
        if std::env::join_paths([p]).is_err() && p.exists() {
            let origin = ca_origins
                .iter()
                .find(|(q, _)| q == p)
                .map(|(_, key)| format!("{key}: "))
                .unwrap_or_default();
            let sep = crate::util::path_list::SEPARATOR;
            return Err(Failure::usage(format!(
                "{origin}CA file {}: its name contains '{sep}', which separates paths in {}; rename it or link to it from a name without '{sep}'",
                p.display(),
                vars::TRUSTRUN_CA
            )));
        }
    }

    let (truststore, truststore_from) = match flags.truststore {
        Some(t) => (t, SetBy::Flag("--truststore")),
        None => match env.truststore.as_ref().filter(|v| !v.is_empty()) {
            Some(v) => (
                Truststore::parse(&v.to_string_lossy()).ok_or_else(|| {
                    Failure::usage(format!(
                        "{}={:?}: expected auto, always or never",
                        vars::TRUSTRUN_TRUSTSTORE,
                        v
                    ))
                })?,
                SetBy::Env(vars::TRUSTRUN_TRUSTSTORE),
            ),
            None => match config.truststore {
                Some(t) => (t, SetBy::Config),
                None => (Truststore::Auto, SetBy::Default),
            },
        },
    };
    let (strict, strict_from) = switch(
        (run.strict, "--strict"),
        (env_strict, vars::TRUSTRUN_STRICT),
        config.strict,
    );
    let (relax_x509_strict, relax_from) = switch(
        (flags.relax_x509_strict, "--relax-x509-strict"),
        (env_relax, vars::TRUSTRUN_RELAX_X509_STRICT),
        config.relax_x509_strict,
    );
    // The config has no `verbose`: it is a question of one run.
    let (verbose, _) = switch(
        (flags.verbose, "--verbose"),
        (env_verbose, vars::TRUSTRUN_VERBOSE),
        None,
    );
    let env_containers = boolish::parse(vars::TRUSTRUN_CONTAINERS, env.containers.as_deref())?;
    // Containers are handled unless something says otherwise.
    let (containers, containers_from) = if run.no_containers {
        (false, SetBy::Flag("--no-containers"))
    } else if let Some(on) = env_containers {
        (on, SetBy::Env(vars::TRUSTRUN_CONTAINERS))
    } else if let Some(on) = config.containers {
        (on, SetBy::Config)
    } else {
        (true, SetBy::Default)
    };
    // Java in containers is opt-in (docs/java.md says why); there is no flag: it is a habit of a
    // machine or a project, not of one run.
    let env_containers_java = boolish::parse(
        vars::TRUSTRUN_CONTAINERS_JAVA,
        env.containers_java.as_deref(),
    )?;
    let (containers_java, containers_java_from) = switch(
        (false, ""),
        (env_containers_java, vars::TRUSTRUN_CONTAINERS_JAVA),
        config.containers_java,
    );

    Ok(Resolved {
        options: TrustOptions {
            ca,
            truststore,
            strict,
            relax_x509_strict,
            verbose,
            leave_alone: config.leave_alone.clone(),
            extra_variables: config.extra_variables.clone(),
            ca_origins,
            containers,
            containers_java,
        },
        origins: Origins {
            ca: ca_from,
            truststore: truststore_from,
            strict: strict_from,
            relax_x509_strict: relax_from,
            containers: containers_from,
            containers_java: containers_java_from,
        },
        config,
    })
}

/// A switch: a flag turns it on; else the variable decides, either way; else the config; else off.
fn switch(
    (flag, flag_name): (bool, &'static str),
    (variable, variable_name): (Option<bool>, &'static str),
    configured: Option<bool>,
) -> (bool, SetBy) {
    if flag {
        (true, SetBy::Flag(flag_name))
    } else if let Some(on) = variable {
        (on, SetBy::Env(variable_name))
    } else if let Some(on) = configured {
        (on, SetBy::Config)
    } else {
        (false, SetBy::Default)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::ffi::OsString;

    fn os(v: &str) -> Option<OsString> {
        Some(OsString::from(v))
    }

    /// What the environment and the file make of no flags at all.
    fn unflagged(env: &EnvironmentOptions, file: Config) -> Result<Resolved, Failure> {
        resolve(Flags::default(), RunFlags::default(), env, file)
    }

    fn config(text: &str) -> Config {
        crate::settings::config::parse(std::path::Path::new("/etc/tr/config.toml"), text).unwrap()
    }

    #[test]
    fn flags_beat_the_environment_which_beats_the_config() {
        let env = EnvironmentOptions {
            truststore: os("never"),
            strict: os("0"),
            ..Default::default()
        };
        let file = config("truststore = \"always\"\nstrict = true\nrelax_x509_strict = true\n");
        let flags = Flags {
            truststore: Some(Truststore::Always),
            ..Default::default()
        };
        let r = resolve(flags, RunFlags::default(), &env, file.clone()).unwrap();
        assert_eq!(r.options.truststore, Truststore::Always);
        assert_eq!(r.origins.truststore, SetBy::Flag("--truststore"));
        // The variable says off, and that beats the config's on.
        assert!(!r.options.strict);
        assert_eq!(r.origins.strict, SetBy::Env(vars::TRUSTRUN_STRICT));
        assert!(r.options.relax_x509_strict);
        assert_eq!(r.origins.relax_x509_strict, SetBy::Config);

        let r = unflagged(&env, file).unwrap();
        assert_eq!(r.options.truststore, Truststore::Never);
        assert_eq!(r.origins.truststore.to_string(), "TRUSTRUN_TRUSTSTORE");
    }

    #[test]
    fn nothing_set_is_the_default() {
        let r = unflagged(&EnvironmentOptions::default(), Config::default()).unwrap();
        assert_eq!(r.options.truststore, Truststore::Auto);
        assert!(!r.options.strict && !r.options.verbose && r.options.containers);
        assert_eq!(r.origins.containers, SetBy::Default);
        assert_eq!(r.origins.strict.to_string(), "default");
        assert!(r.options.ca.is_empty());
    }

    #[test]
    fn ca_paths_from_all_three_in_order_each_once() {
        let sep = if cfg!(windows) { ";" } else { ":" };
        let root = std::path::absolute("/x").unwrap();
        let p = |n: &str| root.join(n);
        let env = EnvironmentOptions {
            ca: Some(std::env::join_paths([p("env.pem"), p("flag.pem")]).unwrap()),
            ..Default::default()
        };
        assert!(env.ca.as_ref().unwrap().to_string_lossy().contains(sep));
        let file = config(&format!(
            "ca = [{:?}, {:?}]\n",
            p("config.pem").display().to_string(),
            p("env.pem").display().to_string()
        ));
        let flags = Flags {
            ca: vec![p("flag.pem")],
            ..Default::default()
        };
        let r = resolve(flags, RunFlags::default(), &env, file).unwrap();
        assert_eq!(
            r.options.ca,
            vec![p("flag.pem"), p("env.pem"), p("config.pem")]
        );
        assert_eq!(
            r.origins.ca,
            vec![
                SetBy::Flag("--ca"),
                SetBy::Env(vars::TRUSTRUN_CA),
                SetBy::Config
            ]
        );
        assert_eq!(r.options.ca_origins.len(), 2);
    }

    #[test]
    fn a_badly_spelt_boolean_is_an_error_naming_it_even_when_a_flag_decides() {
        let env = EnvironmentOptions {
            relax_x509_strict: os("maybe"),
            ..Default::default()
        };
        let flags = Flags {
            relax_x509_strict: true,
            ..Default::default()
        };
        let e = resolve(flags, RunFlags::default(), &env, Config::default()).unwrap_err();
        assert_eq!(e.code, crate::failure::EXIT_USAGE);
        assert!(
            e.message.starts_with("TRUSTRUN_RELAX_X509_STRICT="),
            "{}",
            e.message
        );
        // Every boolean is checked, TRUSTRUN_DEBUG too, though the options do not hold it.
        let env = EnvironmentOptions {
            debug: os("sometimes"),
            ..Default::default()
        };
        let e = unflagged(&env, Config::default()).unwrap_err();
        assert!(e.message.starts_with("TRUSTRUN_DEBUG="), "{}", e.message);
        // Empty is unset.
        let env = EnvironmentOptions {
            strict: os(""),
            ..Default::default()
        };
        let r = unflagged(&env, config("strict = true\n")).unwrap();
        assert!(r.options.strict);
        assert_eq!(r.origins.strict, SetBy::Config);
    }

    #[test]
    fn java_in_containers_is_opt_in_by_variable_or_config() {
        let r = unflagged(&EnvironmentOptions::default(), Config::default()).unwrap();
        assert!(!r.options.containers_java);
        assert_eq!(r.origins.containers_java, SetBy::Default);
        let r = unflagged(
            &EnvironmentOptions::default(),
            config("containers_java = true\n"),
        )
        .unwrap();
        assert!(r.options.containers_java);
        assert_eq!(r.origins.containers_java, SetBy::Config);
        let off = EnvironmentOptions {
            containers_java: os("no"),
            ..Default::default()
        };
        let r = unflagged(&off, config("containers_java = true\n")).unwrap();
        assert!(!r.options.containers_java);
        assert_eq!(
            r.origins.containers_java,
            SetBy::Env(vars::TRUSTRUN_CONTAINERS_JAVA)
        );
        let bad = EnvironmentOptions {
            containers_java: os("java"),
            ..Default::default()
        };
        let e = unflagged(&bad, Config::default()).unwrap_err();
        assert!(
            e.message.starts_with("TRUSTRUN_CONTAINERS_JAVA="),
            "{}",
            e.message
        );
    }

    #[test]
    fn containers_off_by_flag_variable_or_config() {
        let off = EnvironmentOptions {
            containers: os("off"),
            ..Default::default()
        };
        let r = unflagged(&off, config("containers = true\n")).unwrap();
        assert!(!r.options.containers);
        assert_eq!(r.origins.containers, SetBy::Env(vars::TRUSTRUN_CONTAINERS));
        let r = unflagged(
            &EnvironmentOptions::default(),
            config("containers = false\n"),
        )
        .unwrap();
        assert!(!r.options.containers);
        assert_eq!(r.origins.containers, SetBy::Config);
        let run = RunFlags {
            no_containers: true,
            ..Default::default()
        };
        let on = EnvironmentOptions {
            containers: os("1"),
            ..Default::default()
        };
        assert!(
            !resolve(Flags::default(), run, &on, Config::default())
                .unwrap()
                .options
                .containers
        );
        // The one boolean rule: the short spellings too (once refused for this variable).
        for (spelling, on) in [("y", true), ("t", true), ("n", false), ("F", false)] {
            let env = EnvironmentOptions {
                containers: os(spelling),
                ..Default::default()
            };
            let r = unflagged(&env, Config::default()).unwrap();
            assert_eq!(r.options.containers, on, "TRUSTRUN_CONTAINERS={spelling}");
        }
        let bad = EnvironmentOptions {
            containers: os("perhaps"),
            ..Default::default()
        };
        let e = unflagged(&bad, Config::default()).unwrap_err();
        assert!(
            e.message.starts_with("TRUSTRUN_CONTAINERS="),
            "{}",
            e.message
        );
    }

    #[test]
    fn the_ca_variables_are_the_table_less_leave_alone_plus_extra_variables_each_once() {
        let file = config(
            "leave_alone = [\"NODE_EXTRA_CA_CERTS\"]\nextra_variables = [\"MY_CA\", \"MY_CA\"]\n",
        );
        let r = unflagged(&EnvironmentOptions::default(), file).unwrap();
        let names = r.options.ca_variables();
        assert_eq!(names.first().map(String::as_str), Some("SSL_CERT_FILE"));
        assert!(!names.iter().any(|n| n == "NODE_EXTRA_CA_CERTS"));
        assert_eq!(names.last().map(String::as_str), Some("MY_CA"));
        assert_eq!(names.len(), vars::CA_VARIABLES.len());
    }

    #[test]
    fn a_bad_truststore_variable_is_an_error_naming_it() {
        let env = EnvironmentOptions {
            truststore: os("sometimes"),
            ..Default::default()
        };
        let e = unflagged(&env, Config::default()).unwrap_err();
        assert_eq!(
            e.message,
            "TRUSTRUN_TRUSTSTORE=\"sometimes\": expected auto, always or never"
        );
    }
}
