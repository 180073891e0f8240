//! The optional config file (dispatch stage, settings): `config.toml` in the platform's config
//! directory (or `TRUSTRUN_CONFIG`). Flags beat the environment, which beats the config; CA paths
//! from all three are trusted.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::failure::Failure;
use crate::settings::truststore::Truststore;
use crate::settings::vars;
use crate::util::input_file::{self, ReadError};

#[derive(Debug, Default, Clone)]
pub struct Config {
    /// The file read, if one exists.
    pub path: Option<PathBuf>,
    pub ca: Vec<PathBuf>,
    /// Where `ca` is, as errors about its files name it ("config FILE:LINE: key `ca`").
    pub ca_key: String,
    pub truststore: Option<Truststore>,
    pub strict: Option<bool>,
    pub relax_x509_strict: Option<bool>,
    pub leave_alone: Vec<String>,
    pub extra_variables: Vec<String>,
    pub containers: Option<bool>,
    pub containers_java: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
struct File {
    #[serde(default)]
    ca: OneOrMany,
    truststore: Option<String>,
    strict: Option<bool>,
    relax_x509_strict: Option<bool>,
    #[serde(default)]
    leave_alone: Vec<String>,
    #[serde(default)]
    extra_variables: Vec<String>,
    containers: Option<bool>,
    containers_java: Option<bool>,
}

/// `ca = "~/corp.pem"` reads as naturally as a list of one. Deserialized by hand: serde's
/// untagged enums only say "did not match any variant", where the user needs the type expected.
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl<'de> Deserialize<'de> for OneOrMany {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = OneOrMany;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a path or a list of paths")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<OneOrMany, E> {
                Ok(OneOrMany::One(v.to_owned()))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<OneOrMany, A::Error> {
                let mut out = Vec::new();
                while let Some(p) = seq.next_element::<String>()? {
                    out.push(p);
                }
                Ok(OneOrMany::Many(out))
            }
        }
        d.deserialize_any(Visitor)
    }
}

impl Default for OneOrMany {
    fn default() -> Self {
        OneOrMany::Many(Vec::new())
    }
}

impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(p) => vec![p],
            OneOrMany::Many(ps) => ps,
        }
    }
}

/// `TRUSTRUN_CONFIG`, else `trustrun/config.toml` in the platform's config directory.
pub fn path() -> Option<PathBuf> {
    path_from(vars::non_empty(vars::TRUSTRUN_CONFIG).as_deref())
}

/// `path` for a `TRUSTRUN_CONFIG` value already read (`settings::EnvironmentOptions`).
pub fn path_from(variable: Option<&OsStr>) -> Option<PathBuf> {
    crate::util::user_dirs::config_file(variable)
}

/// The config in effect, given the value of `TRUSTRUN_CONFIG`: empty when there is no file. A
/// file that does not parse, has an unknown key or a bad value is an error naming the file, the
/// line and the key.
pub fn load_from(variable: Option<&OsStr>) -> Result<Config, Failure> {
    let Some(path) = path_from(variable) else {
        return Ok(Config::default());
    };
    let bytes = match input_file::read(&path, input_file::CONFIG_LIMIT) {
        Ok(b) => b,
        Err(ReadError::NotFound) => {
            // A TRUSTRUN_CONFIG that names nothing is a mistake worth saying.
            if variable.is_some_and(|v| !v.is_empty()) {
                return Err(Failure::usage(format!(
                    "config {} (TRUSTRUN_CONFIG): no such file",
                    path.display()
                )));
            }
            return Ok(Config::default());
        }
        Err(e) => {
            return Err(Failure::usage(format!("config {}: {e}", path.display())));
        }
    };
    let text = String::from_utf8(bytes)
        .map_err(|_| Failure::usage(format!("config {}: not UTF-8 text", path.display())))?;
    parse(&path, &text)
}

pub fn parse(path: &Path, text: &str) -> Result<Config, Failure> {
    let file: File = toml::from_str(text).map_err(|e| {
        let start = e.span().map(|s| s.start.min(text.len()));
        let line = start.map(|s| text[..s].matches('\n').count() + 1);
        let message = reworded(e.message().trim());
        // A type error names the key it is about: serde's message alone does not.
        let key = start
            .and_then(|s| key_before(text, s))
            .filter(|_| message.starts_with("expected "));
        let key = key.map(|k| format!(" key `{k}`:")).unwrap_or_default();
        Failure::usage(match line {
            Some(l) => format!("config {}:{l}:{key} {message}", path.display()),
            None => format!("config {}:{key} {message}", path.display()),
        })
    })?;
    let at = |key: &str| {
        let line = text
            .lines()
            .position(|l| l.trim_start().starts_with(key))
            .map(|i| i + 1)
            .unwrap_or(1);
        format!("config {}:{line}: key `{key}`", path.display())
    };
    let truststore = match &file.truststore {
        Some(v) => Some(Truststore::parse(v).ok_or_else(|| {
            Failure::usage(format!(
                "{}: {v:?} is not auto, always or never",
                at("truststore")
            ))
        })?),
        None => None,
    };
    let mut known: Vec<&str> = vars::CA_VARIABLES.iter().map(|(n, _)| *n).collect();
    known.push(vars::JAVA_TOOL_OPTIONS);
    for name in &file.leave_alone {
        if !known.contains(&name.as_str()) {
            return Err(Failure::usage(format!(
                "{}: {name} is not a variable trustrun sets (see `trustrun env`)",
                at("leave_alone")
            )));
        }
    }
    for name in &file.extra_variables {
        let valid = !name.is_empty()
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !name.starts_with(|c: char| c.is_ascii_digit());
        if !valid {
            return Err(Failure::usage(format!(
                "{}: {name:?} is not an environment variable name",
                at("extra_variables")
            )));
        }
        if let Some(why) = already_meaningful(name) {
            return Err(Failure::usage(format!(
                "{}: {name} {why}; name only a variable your tool reads as a CA bundle path",
                at("extra_variables")
            )));
        }
    }
    let base = path.parent().unwrap_or(Path::new("."));
    Ok(Config {
        path: Some(path.to_owned()),
        ca: file
            .ca
            .into_vec()
            .iter()
            .map(|p| resolve(base, p))
            .collect(),
        ca_key: at("ca"),
        truststore,
        strict: file.strict,
        relax_x509_strict: file.relax_x509_strict,
        leave_alone: file.leave_alone,
        extra_variables: file.extra_variables,
        containers: file.containers,
        containers_java: file.containers_java,
    })
}

/// Why pointing `name` at the bundle would break something, if it would: search paths, the
/// loader's variables, the home and temporary directories, and the variables trustrun itself
/// reads or sets. Compared case-insensitively, as Windows compares them.
fn already_meaningful(name: &str) -> Option<&'static str> {
    let upper = name.to_ascii_uppercase();
    let ours: Vec<&str> = vars::CA_VARIABLES
        .iter()
        .map(|(n, _)| *n)
        .chain([
            vars::SSL_CERT_DIR,
            vars::PYTHONPATH,
            vars::JAVA_TOOL_OPTIONS,
        ])
        .collect();
    if upper.starts_with("TRUSTRUN_") || ours.contains(&upper.as_str()) {
        Some("is a variable trustrun sets or reads itself")
    } else if upper.ends_with("PATH") || upper == "PATHEXT" {
        Some("is a search path")
    } else if upper.starts_with("LD_") || upper.starts_with("DYLD_") {
        Some("is read by the dynamic loader")
    } else if upper.starts_with("PYTHON") || upper.starts_with("NODE_") {
        Some("changes how Python or Node start")
    } else if [
        "HOME",
        "USERPROFILE",
        "APPDATA",
        "LOCALAPPDATA",
        "TMPDIR",
        "TEMP",
        "TMP",
        "SHELL",
        "COMSPEC",
        "SYSTEMROOT",
        "PWD",
        "USER",
        "LOGNAME",
        "LANG",
        "TERM",
    ]
    .contains(&upper.as_str())
    {
        Some("already means something to every program")
    } else {
        None
    }
}

/// serde's "invalid type: string \"yes\", expected a boolean" as a person reads it: what was
/// expected first (in the config's words), then what was found.
fn reworded(message: &str) -> String {
    let message = message.replace('\n', " ");
    let Some((found, expected)) = message
        .strip_prefix("invalid type: ")
        .and_then(|m| m.split_once(", expected "))
    else {
        return message;
    };
    let expected = match expected {
        "a boolean" => "true or false",
        "a sequence" => "a list, as [\"...\"]",
        other => other,
    };
    format!("expected {expected}, found {found}")
}

/// The key whose value holds byte `at` of `text`: the last `key =` line at or before it (an
/// element of a list written over several lines belongs to the key that opened it).
fn key_before(text: &str, at: usize) -> Option<String> {
    text[..at].lines().rev().find_map(|line| {
        let (key, _) = line.split_once('=')?;
        let key = key.trim();
        let bare = !key.is_empty()
            && key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        bare.then(|| key.to_owned())
    })
}

/// `~` and `~/x` from the home directory, as a shell reads them; a relative path from the config
/// file's directory.
fn resolve(base: &Path, p: &str) -> PathBuf {
    if let Some(home) = dirs::home_dir() {
        if p == "~" {
            return home;
        }
        if let Some(rest) = p.strip_prefix("~/").or_else(|| p.strip_prefix("~\\")) {
            return home.join(rest);
        }
    }
    let path = PathBuf::from(p);
    if path.is_absolute() {
        path
    } else {
        base.join(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        parse(Path::new("/c/config.toml"), text)
            .unwrap_err()
            .message
    }

    #[test]
    fn a_full_config() {
        let c = parse(
            Path::new("/etc/tr/config.toml"),
            "ca = [\"corp.pem\", \"/abs/root.pem\"]\ntruststore = \"always\"\nstrict = true\n\
             leave_alone = [\"NODE_EXTRA_CA_CERTS\"]\nextra_variables = [\"MY_TOOL_CA\"]\n",
        )
        .unwrap();
        assert_eq!(
            c.ca,
            vec![
                PathBuf::from("/etc/tr/corp.pem"),
                PathBuf::from("/abs/root.pem")
            ]
        );
        assert_eq!(c.truststore, Some(Truststore::Always));
        assert_eq!(c.strict, Some(true));
        assert_eq!(c.leave_alone, vec!["NODE_EXTRA_CA_CERTS"]);
        assert_eq!(c.extra_variables, vec!["MY_TOOL_CA"]);
    }

    #[test]
    fn ca_may_be_one_string() {
        let c = parse(Path::new("/etc/tr/config.toml"), "ca = \"corp.pem\"\n").unwrap();
        assert_eq!(c.ca, vec![PathBuf::from("/etc/tr/corp.pem")]);
        assert_eq!(c.ca_key, "config /etc/tr/config.toml:1: key `ca`");
    }

    #[test]
    fn extra_variables_that_mean_something_already_are_refused() {
        for name in [
            "PATH",
            "Path",
            "LD_PRELOAD",
            "DYLD_LIBRARY_PATH",
            "HOME",
            "TRUSTRUN_DEPTH",
            "SSL_CERT_FILE",
            "SSL_CERT_DIR",
            "PYTHONSTARTUP",
            "NODE_OPTIONS",
            "CLASSPATH",
            "JAVA_TOOL_OPTIONS",
        ] {
            let e = err(&format!("extra_variables = [\"{name}\"]\n"));
            assert!(
                e.starts_with("config /c/config.toml:1: key `extra_variables`: "),
                "{e}"
            );
        }
        assert!(parse(Path::new("/c"), "extra_variables = [\"MY_TOOL_CA\"]\n").is_ok());
    }

    #[test]
    fn errors_name_the_file_the_line_and_the_key() {
        assert_eq!(
            err("truststore = \"auto\"\ncafile = \"x.pem\"\n"),
            "config /c/config.toml:2: unknown field `cafile`, expected one of `ca`, `truststore`, `strict`, `relax_x509_strict`, `leave_alone`, `extra_variables`, `containers`, `containers_java`"
        );
        assert!(
            err("ca = [\"a.pem\"\n").starts_with("config /c/config.toml:"),
            "{}",
            err("ca = [\"a.pem\"\n")
        );
        assert_eq!(
            err("\ntruststore = \"sometimes\"\n"),
            "config /c/config.toml:2: key `truststore`: \"sometimes\" is not auto, always or never"
        );
        assert_eq!(
            err("leave_alone = [\"PATH\"]\n"),
            "config /c/config.toml:1: key `leave_alone`: PATH is not a variable trustrun sets (see `trustrun env`)"
        );
        assert_eq!(
            err("strict = \"yes\"\n"),
            "config /c/config.toml:1: key `strict`: expected true or false, found string \"yes\""
        );
        assert_eq!(
            err("ca = 5\n"),
            "config /c/config.toml:1: key `ca`: expected a path or a list of paths, found integer `5`"
        );
        assert!(
            err("ca = [\n  \"a.pem\",\n  1,\n]\n").contains("key `ca`: expected a string"),
            "{}",
            err("ca = [\n  \"a.pem\",\n  1,\n]\n")
        );
    }

    #[test]
    fn tilde_alone_and_tilde_slash_are_the_home_directory() {
        let home = dirs::home_dir().unwrap();
        let c = parse(
            Path::new("/c/config.toml"),
            "ca = [\"~\", \"~/x.pem\", \"~x\"]\n",
        )
        .unwrap();
        assert_eq!(
            c.ca,
            vec![home.clone(), home.join("x.pem"), PathBuf::from("/c/~x")]
        );
    }
}
