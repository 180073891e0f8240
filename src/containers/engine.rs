//! Which engine a container command talks to, and whether it is on this machine (launch stage).
//! Only a local engine can bind a host file into a container; with a remote one (`ssh://`, `tcp://`
//! to another machine) trustrun leaves the command alone.

use std::path::{Path, PathBuf};

/// The engine endpoint a command will use, as far as trustrun can tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// The engine on this machine: the default socket, a `unix://`/`npipe://` one, or TCP to loopback.
    Local(String),
    /// Another machine, or an endpoint trustrun cannot read (a context whose metadata is missing).
    Remote(String),
}

impl Endpoint {
    pub fn is_local(&self) -> bool {
        matches!(self, Endpoint::Local(_))
    }

    pub fn describe(&self) -> &str {
        match self {
            Endpoint::Local(s) | Endpoint::Remote(s) => s,
        }
    }
}

/// What the command line said about the endpoint (`-H`, `--context`, `--config` for docker and
/// compose; `--url`, `--connection`, `--remote` for podman).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Selection {
    pub host: Option<String>,
    pub context: Option<String>,
    pub config_dir: Option<String>,
    /// podman: `--remote`, `--url`, `--connection`.
    pub podman_remote: Option<String>,
}

/// A host URL on this machine: a local socket or TCP to loopback.
pub fn is_local_host(host: &str) -> bool {
    let lower = host.trim().to_ascii_lowercase();
    if ["unix://", "npipe://", "fd://"]
        .iter()
        .any(|p| lower.starts_with(p))
    {
        return true;
    }
    let Some(rest) = lower.strip_prefix("tcp://") else {
        return false;
    };
    let authority = rest.split('/').next().unwrap_or("");
    let hostname = crate::util::authority::split_host_port(authority).map_or("", |(h, _)| h);
    is_loopback_name(hostname)
}

pub fn is_loopback_name(host: &str) -> bool {
    host == "localhost"
        || host == "::1"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// docker (and compose, which resolves the same way): `-H` beats `--context`, which beats
/// `DOCKER_HOST`, which beats `DOCKER_CONTEXT`, which beats the config's `currentContext`.
pub fn docker(sel: &Selection, env: &dyn Fn(&str) -> Option<String>) -> Endpoint {
    if let Some(host) = &sel.host {
        return from_host(host, "-H");
    }
    let context = match &sel.context {
        Some(c) => Some((c.clone(), "--context")),
        None => {
            if let Some(host) = env("DOCKER_HOST") {
                return from_host(&host, "DOCKER_HOST");
            }
            env("DOCKER_CONTEXT")
                .map(|c| (c, "DOCKER_CONTEXT"))
                .or_else(|| current_context(&config_dir(sel, env)?).map(|c| (c, "config")))
        }
    };
    match context {
        None => Endpoint::Local("the default local engine".to_owned()),
        Some((name, _)) if name == "default" => match env("DOCKER_HOST") {
            Some(host) => from_host(&host, "DOCKER_HOST"),
            None => Endpoint::Local("context default (the local engine)".to_owned()),
        },
        Some((name, from)) => match config_dir(sel, env).and_then(|d| context_host(&d, &name)) {
            Some(host) if is_local_host(&host) => {
                Endpoint::Local(format!("context {name} ({from}): {host}"))
            }
            Some(host) => Endpoint::Remote(format!("context {name} ({from}): {host}")),
            None => Endpoint::Remote(format!(
                "context {name} ({from}), whose endpoint trustrun cannot read"
            )),
        },
    }
}

/// podman: remote when told so (`--remote`, `--url`, `--connection`, `CONTAINER_HOST`,
/// `CONTAINER_CONNECTION`), else the local engine. Not tested here: no podman on this machine.
pub fn podman(sel: &Selection, env: &dyn Fn(&str) -> Option<String>) -> Endpoint {
    if let Some(how) = &sel.podman_remote {
        return Endpoint::Remote(format!("podman {how}"));
    }
    if let Some(host) = env("CONTAINER_HOST") {
        return from_host(&host, "CONTAINER_HOST");
    }
    if let Some(c) = env("CONTAINER_CONNECTION") {
        return Endpoint::Remote(format!("CONTAINER_CONNECTION={c}"));
    }
    Endpoint::Local("the local podman".to_owned())
}

/// docker's global options that reach the engine `docker` would reach now again later, whatever
/// the environment and the config's current context are then (cleanup asks that engine which
/// files its containers mount, see `handoff`). Same precedence as `docker` above; the default
/// engine is pinned as `--context default`, so a context chosen later does not stand in for it.
pub fn docker_pin(sel: &Selection, env: &dyn Fn(&str) -> Option<String>) -> Vec<String> {
    let host = |h: &str| vec!["-H".to_owned(), h.to_owned()];
    if let Some(h) = &sel.host {
        return host(h);
    }
    let context = match &sel.context {
        Some(c) => c.clone(),
        None => {
            if let Some(h) = env("DOCKER_HOST") {
                return host(&h);
            }
            env("DOCKER_CONTEXT")
                .or_else(|| current_context(&config_dir(sel, env)?))
                .unwrap_or_else(|| "default".to_owned())
        }
    };
    if context == "default" {
        if let Some(h) = env("DOCKER_HOST") {
            return host(&h);
        }
        return vec!["--context".to_owned(), context];
    }
    let mut pin = Vec::new();
    // A named context is looked up in the config directory this command used.
    if let Some(dir) = sel.config_dir.clone().or_else(|| env("DOCKER_CONFIG")) {
        pin.extend(["--config".to_owned(), dir]);
    }
    pin.extend(["--context".to_owned(), context]);
    pin
}

/// podman's counterpart of `docker_pin`: the local podman of this user, or the local socket
/// `CONTAINER_HOST` named. (podman's storage options, `--root` and the like, are not carried.)
pub fn podman_pin(env: &dyn Fn(&str) -> Option<String>) -> Vec<String> {
    match env("CONTAINER_HOST") {
        Some(h) => vec!["--url".to_owned(), h],
        None => Vec::new(),
    }
}

/// The variables that choose an endpoint behind the command line's back: removed from the
/// environment of a command that carries a pin, so the pin alone decides.
pub const SELECTING_VARIABLES: &[&str] = &[
    "DOCKER_HOST",
    "DOCKER_CONTEXT",
    "CONTAINER_HOST",
    "CONTAINER_CONNECTION",
];

fn from_host(host: &str, from: &str) -> Endpoint {
    let text = format!("{from}={host}");
    if is_local_host(host) {
        Endpoint::Local(text)
    } else {
        Endpoint::Remote(text)
    }
}

fn config_dir(sel: &Selection, env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    sel.config_dir
        .clone()
        .or_else(|| env("DOCKER_CONFIG"))
        .map(PathBuf::from)
        .or_else(|| dirs::home_dir().map(|h| h.join(".docker")))
}

fn current_context(config_dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(config_dir.join("config.json")).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    json.get("currentContext")?
        .as_str()
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// A named context's docker endpoint, from `contexts/meta/<sha256 of the name>/meta.json`.
fn context_host(config_dir: &Path, name: &str) -> Option<String> {
    let id = crate::util::digest::sha256_hex(name.as_bytes());
    let meta = config_dir
        .join("contexts")
        .join("meta")
        .join(id)
        .join("meta.json");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(meta).ok()?).ok()?;
    json.pointer("/Endpoints/docker/Host")?
        .as_str()
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        move |name| {
            pairs
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
        }
    }

    #[test]
    fn local_and_remote_hosts() {
        assert!(is_local_host("unix:///var/run/docker.sock"));
        assert!(is_local_host("npipe:////./pipe/docker_engine"));
        assert!(is_local_host("tcp://127.0.0.1:2375"));
        assert!(is_local_host("tcp://localhost:2375"));
        assert!(is_local_host("tcp://[::1]:2375"));
        assert!(!is_local_host("tcp://192.0.2.1:2375"));
        assert!(!is_local_host("ssh://me@build-box"));
        assert!(!is_local_host("tcp://localhost.example.com:2375"));
    }

    #[test]
    fn precedence_of_flags_environment_and_contexts() {
        let config = tempfile::tempdir().unwrap();
        let id = crate::util::digest::sha256_hex(b"far");
        let meta = config.path().join("contexts/meta").join(id);
        std::fs::create_dir_all(&meta).unwrap();
        std::fs::write(
            meta.join("meta.json"),
            r#"{"Name":"far","Endpoints":{"docker":{"Host":"ssh://me@far"}}}"#,
        )
        .unwrap();
        std::fs::write(
            config.path().join("config.json"),
            r#"{"currentContext":"far"}"#,
        )
        .unwrap();
        let dir = config.path().to_str().unwrap();
        let none = env_of(&[("DOCKER_CONFIG", dir)]);
        // The config's current context is remote.
        assert!(!docker(&Selection::default(), &none).is_local());
        // DOCKER_HOST beats the config's context; -H beats DOCKER_HOST.
        let env = env_of(&[("DOCKER_CONFIG", dir), ("DOCKER_HOST", "unix:///x.sock")]);
        assert!(docker(&Selection::default(), &env).is_local());
        let sel = Selection {
            host: Some("tcp://192.0.2.1:2375".into()),
            ..Default::default()
        };
        assert!(!docker(&sel, &env).is_local());
        // --context beats DOCKER_HOST.
        let sel = Selection {
            context: Some("far".into()),
            ..Default::default()
        };
        assert!(!docker(&sel, &env).is_local());
        // A context whose metadata is missing is not assumed local.
        let sel = Selection {
            context: Some("gone".into()),
            ..Default::default()
        };
        assert!(!docker(&sel, &none).is_local());
        let sel = Selection {
            context: Some("default".into()),
            ..Default::default()
        };
        assert!(docker(&sel, &none).is_local());
    }

    #[test]
    fn a_pin_names_the_endpoint_the_command_reached() {
        let config = tempfile::tempdir().unwrap();
        std::fs::write(
            config.path().join("config.json"),
            r#"{"currentContext":"rootless"}"#,
        )
        .unwrap();
        let dir = config.path().to_str().unwrap();
        let pin = |sel: &Selection, pairs: &[(&str, &str)]| docker_pin(sel, &env_of(pairs));
        let none = Selection::default();
        // Nothing chosen: the default engine, by name, not whatever is current later.
        let empty = tempfile::tempdir().unwrap();
        let home_config = [("DOCKER_CONFIG", empty.path().to_str().unwrap())];
        assert_eq!(pin(&none, &home_config), ["--context", "default"]);
        // The config's current context, with the config it came from.
        assert_eq!(
            pin(&none, &[("DOCKER_CONFIG", dir)]),
            ["--config", dir, "--context", "rootless"]
        );
        // DOCKER_HOST beats the config; -H beats everything.
        let sock = "unix:///run/user/1000/docker.sock";
        assert_eq!(
            pin(&none, &[("DOCKER_CONFIG", dir), ("DOCKER_HOST", sock)]),
            ["-H", sock]
        );
        let sel = Selection {
            host: Some("unix:///x.sock".into()),
            context: Some("far".into()),
            ..Default::default()
        };
        assert_eq!(
            pin(&sel, &[("DOCKER_HOST", sock)]),
            ["-H", "unix:///x.sock"]
        );
        // --context beats DOCKER_HOST, except the default context, which means DOCKER_HOST.
        let sel = Selection {
            context: Some("far".into()),
            ..Default::default()
        };
        assert_eq!(pin(&sel, &[("DOCKER_HOST", sock)]), ["--context", "far"]);
        let sel = Selection {
            context: Some("default".into()),
            ..Default::default()
        };
        assert_eq!(pin(&sel, &[("DOCKER_HOST", sock)]), ["-H", sock]);
        assert_eq!(podman_pin(&env_of(&[])), Vec::<String>::new());
    }
}
