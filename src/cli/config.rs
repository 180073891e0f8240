//! `trustrun config path|show|init` (dispatch stage): where the config file is, the settings in
//! effect with where each came from, and a commented template at the config path (`init`), so a
//! user edits a file that already names every setting instead of writing TOML from the README.

use std::io::Write;

use anyhow::{Context, Result};

use crate::failure::{EXIT_FAILURE, Failure};

/// Every line commented out: the template changes nothing until the user says so.
const TEMPLATE: &str = r#"# trustrun config (see `trustrun config show` for what is in effect, and where from).
# Flags beat the environment, which beats this file; CA files from all three are trusted.

# Extra CA files or directories (PEM, or one DER certificate per file); ~ is your home,
# relative paths are from this file's directory.
# ca = ["~/corp/zscaler-root.pem"]

# Python also verifies through the OS (truststore): auto (Windows and macOS) | always | never
# truststore = "auto"

# Fail (exit 125) instead of running the program untouched when trustrun itself fails.
# strict = false

# Python 3.13+: accept a corporate root that fails VERIFY_X509_STRICT (`trustrun doctor` says
# when you need it).
# relax_x509_strict = false

# CA variables trustrun must not set; JAVA_TOOL_OPTIONS too (Java's trust store).
# leave_alone = ["NODE_EXTRA_CA_CERTS"]

# More variables to point at the bundle, for tools trustrun does not know.
# extra_variables = ["MY_TOOL_CA_BUNDLE"]

# Hand the bundle into containers created through docker, podman and compose.
# containers = true

# Containers also get Java's trust store and a JAVA_TOOL_OPTIONS naming it (off: every JVM
# then prints "Picked up JAVA_TOOL_OPTIONS", which an image's scripts may not expect).
# containers_java = false
"#;

pub fn init() -> Result<()> {
    let path = crate::settings::config::path()
        .ok_or_else(|| Failure::usage("no config directory is known here (set TRUSTRUN_CONFIG)"))?;
    if let Some(dir) = path.parent() {
        // 0700 whatever the umask: the config names what is trusted.
        crate::util::fs::create_dirs(dir, 0o700)?;
    }
    // create_new: an existing config is the user's, never overwritten.
    let mut file = match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(Failure::new(
                EXIT_FAILURE,
                format!(
                    "{} exists already; edit it, or move it away first",
                    path.display()
                ),
            )
            .into());
        }
        Err(e) => return Err(e).with_context(|| format!("cannot write {}", path.display())),
    };
    file.write_all(TEMPLATE.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;
    crate::outln!("wrote {} (every setting commented out)", path.display())?;
    Ok(())
}

pub fn path() -> Result<()> {
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

pub fn show() -> Result<()> {
    let crate::settings::Resolved {
        options: opts,
        origins,
        config,
    } = crate::settings::load(Default::default(), Default::default())?;
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
    crate::outln!(
        "containers_java  {} ({})",
        opts.containers_java,
        origins.containers_java
    )?;
    if let Ok(cache) = crate::store::cache_dir::preferred_dir() {
        crate::outln!("cache            {}", cache.display())?;
    }
    if let Ok(shims) = crate::shim::default_dir() {
        crate::outln!("shim directory   {}", shims.display())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_template_uncommented_is_valid_toml_naming_every_setting() {
        let uncommented: String = super::TEMPLATE
            .lines()
            .filter_map(|l| l.strip_prefix("# "))
            .filter(|l| l.contains(" = "))
            .map(|l| format!("{l}\n"))
            .collect();
        let table: toml::Table = uncommented.parse().unwrap();
        for key in [
            "ca",
            "truststore",
            "strict",
            "relax_x509_strict",
            "leave_alone",
            "extra_variables",
            "containers",
            "containers_java",
        ] {
            assert!(table.contains_key(key), "{key} in the template");
        }
    }
}
