//! Compose (launch stage; `docker compose` and standalone `docker-compose`): which compose files a
//! command uses, what its resolved config says about each service, and the extra compose file that
//! gives every service the bundle and the variables. The extra file is appended as the last `-f`,
//! so compose merges it over the user's; since `-f` makes compose ignore `COMPOSE_FILE` and the
//! default names, those are passed as `-f` too, ahead of it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::EngineCli;
use super::engine::Selection;
use super::inject::{BUNDLE_TARGET, Facts, GATEWAY_ADD_HOST, GATEWAY_NAME, Injection};

const GLOBAL_VALUE: &[&str] = &[
    "-f",
    "--file",
    "-p",
    "--project-name",
    "--profile",
    "-c",
    "--context",
    "--log-level",
    "--ansi",
    "-H",
    "--host",
    "--tlscacert",
    "--tlscert",
    "--tlskey",
    "--project-directory",
    "--env-file",
    "--parallel",
    "--progress",
];
const GLOBAL_BOOL: &[&str] = &[
    "--verbose",
    "--no-ansi",
    "-v",
    "--version",
    "--tls",
    "--tlsverify",
    "--skip-hostname-check",
    "--compatibility",
    "--dry-run",
    "--all-resources",
    "-h",
    "--help",
];

/// The subcommands that create containers.
pub const CREATING: &[&str] = &["up", "run", "create"];

/// A compose command line, from its first compose argument on.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Line {
    /// Index of the subcommand (`up`, `ps`...), where the extra `-f` options go in front of.
    pub sub_at: Option<usize>,
    pub files: Vec<String>,
    pub project_directory: Option<String>,
    pub env_files: Vec<String>,
    pub sel: Selection,
    /// An option trustrun does not know: the command is passed on untouched.
    pub unclear: Option<String>,
}

pub fn parse(args: &[String], start: usize) -> Line {
    let mut line = Line::default();
    let mut i = start;
    while i < args.len() {
        let arg = args[i].as_str();
        if !arg.starts_with('-') {
            line.sub_at = Some(i);
            break;
        }
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if arg.starts_with("--") => (n, Some(v.to_owned())),
            _ if !arg.starts_with("--") && arg.len() > 2 && arg.is_char_boundary(2) => {
                (&arg[..2], Some(arg[2..].to_owned()))
            }
            _ => (arg, None),
        };
        if GLOBAL_BOOL.contains(&arg) {
            i += 1;
            continue;
        }
        if !GLOBAL_VALUE.contains(&name) {
            line.unclear = Some(arg.to_owned());
            return line;
        }
        let value = match inline {
            Some(v) => v,
            None => {
                i += 1;
                args.get(i).cloned().unwrap_or_default()
            }
        };
        match name {
            "-f" | "--file" => line.files.push(value),
            "--project-directory" => line.project_directory = Some(value),
            "--env-file" => line.env_files.push(value),
            "-H" | "--host" => line.sel.host = Some(value),
            "-c" | "--context" => line.sel.context = Some(value),
            _ => {}
        }
        i += 1;
    }
    line
}

/// The files compose would read when no `-f` is given: `COMPOSE_FILE` (from the environment or
/// the project's `.env`), else the first default name found in the project directory or above
/// it, with its override file.
pub fn implicit_files(
    cli: EngineCli,
    line: &Line,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<PathBuf>, String> {
    let cwd = std::env::current_dir().map_err(|e| format!("no current directory: {e}"))?;
    let project = line
        .project_directory
        .as_ref()
        .map(|p| cwd.join(p))
        .unwrap_or_else(|| cwd.clone());
    let dotenv = match line.env_files.last() {
        Some(f) => cwd.join(f),
        None => project.join(".env"),
    };
    let from_dotenv = |name: &str| dotenv_value(&dotenv, name);
    let list = env("COMPOSE_FILE").or_else(|| from_dotenv("COMPOSE_FILE"));
    if let Some(list) = list.filter(|l| !l.is_empty()) {
        let sep = env("COMPOSE_PATH_SEPARATOR")
            .or_else(|| from_dotenv("COMPOSE_PATH_SEPARATOR"))
            .unwrap_or_else(|| if cfg!(windows) { ";" } else { ":" }.to_owned());
        return Ok(list
            .split(sep.as_str())
            .filter(|p| !p.is_empty())
            .map(|p| project.join(p))
            .collect());
    }
    let names: &[&str] = match cli {
        EngineCli::Compose => &[
            "docker-compose.yml",
            "docker-compose.yaml",
            "compose.yml",
            "compose.yaml",
        ],
        _ => &[
            "compose.yaml",
            "compose.yml",
            "docker-compose.yaml",
            "docker-compose.yml",
        ],
    };
    for dir in project.ancestors() {
        let Some(main) = names.iter().map(|n| dir.join(n)).find(|p| p.is_file()) else {
            continue;
        };
        let mut files = vec![main];
        files.extend(
            [
                "compose.override.yaml",
                "compose.override.yml",
                "docker-compose.override.yaml",
                "docker-compose.override.yml",
            ]
            .iter()
            .map(|n| dir.join(n))
            .find(|p| p.is_file()),
        );
        return Ok(files);
    }
    Err(format!(
        "no compose file in {} or above it",
        project.display()
    ))
}

fn dotenv_value(path: &Path, name: &str) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    text.lines().find_map(|l| {
        let (k, v) = l.trim().split_once('=')?;
        (k.trim() == name).then(|| v.trim().trim_matches(['"', '\'']).to_owned())
    })
}

/// One service of the resolved config (`compose config`), as trustrun sees it.
#[derive(Debug, Default)]
pub struct Service {
    pub name: String,
    pub image: Option<String>,
    pub facts: Facts,
    pub mounts_target: bool,
    pub windows_platform: bool,
}

/// The compose file format version of the resolved config (v1 wants the extra file to match),
/// and its services.
pub fn services(config_yaml: &str) -> Result<(Option<String>, Vec<Service>), String> {
    let doc: Value = serde_norway::from_str(config_yaml).map_err(|e| e.to_string())?;
    let version = doc.get("version").and_then(|v| match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    });
    let Some(map) = doc.get("services").and_then(Value::as_object) else {
        return Ok((version, Vec::new()));
    };
    let list = map
        .iter()
        .map(|(name, svc)| {
            let mut s = Service {
                name: name.clone(),
                image: svc.get("image").and_then(Value::as_str).map(str::to_owned),
                ..Default::default()
            };
            s.facts.user_set = environment_names(svc.get("environment"));
            s.facts.host_network = svc.get("network_mode").and_then(Value::as_str) == Some("host");
            s.facts.user_maps_gateway = match svc.get("extra_hosts") {
                Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).any(|h| {
                    h.strip_prefix(GATEWAY_NAME)
                        .is_some_and(|r| r.starts_with([':', '=']))
                }),
                Some(Value::Object(m)) => m.contains_key(GATEWAY_NAME),
                _ => false,
            };
            s.mounts_target = svc
                .get("volumes")
                .and_then(Value::as_array)
                .is_some_and(|vols| {
                    vols.iter().any(|v| match v {
                        Value::String(s) => s.split(':').any(|p| p == BUNDLE_TARGET),
                        Value::Object(m) => {
                            m.get("target").and_then(Value::as_str) == Some(BUNDLE_TARGET)
                        }
                        _ => false,
                    })
                });
            s.windows_platform = svc
                .get("platform")
                .and_then(Value::as_str)
                .is_some_and(|p| p.to_ascii_lowercase().starts_with("windows"));
            s
        })
        .collect();
    Ok((version, list))
}

fn environment_names(env: Option<&Value>) -> BTreeSet<String> {
    match env {
        Some(Value::Object(m)) => m.keys().cloned().collect(),
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(|e| e.split('=').next().unwrap_or(e).to_owned())
            .collect(),
        _ => BTreeSet::new(),
    }
}

/// The extra compose file: for each service, the bundle mounted read-only and its variables.
/// JSON is YAML, so compose reads it as it is.
pub fn override_file(
    version: Option<&str>,
    per_service: &[(&Service, Injection)],
    bundle: &Path,
) -> Value {
    let mut services = BTreeMap::new();
    for (svc, inj) in per_service {
        let mut entry = serde_json::Map::new();
        if !svc.mounts_target {
            entry.insert(
                "volumes".into(),
                json!([format!("{}:{BUNDLE_TARGET}:ro", bundle.display())]),
            );
        }
        if !inj.env.is_empty() {
            let env: serde_json::Map<String, Value> = inj
                .env
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect();
            entry.insert("environment".into(), Value::Object(env));
        }
        if inj.add_gateway_host {
            entry.insert("extra_hosts".into(), json!([GATEWAY_ADD_HOST]));
        }
        if !entry.is_empty() {
            services.insert(svc.name.clone(), Value::Object(entry));
        }
    }
    let mut doc = serde_json::Map::new();
    if let Some(v) = version {
        doc.insert("version".into(), Value::String(v.to_owned()));
    }
    doc.insert("services".into(), json!(services));
    Value::Object(doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn global_options_files_and_the_subcommand() {
        let a = args("-p proj -f a.yml --file=b.yml --env-file x.env up -d");
        let l = parse(&a, 0);
        assert_eq!(l.files, vec!["a.yml", "b.yml"]);
        assert_eq!(l.sub_at, Some(7));
        assert_eq!(a[7], "up");
        assert_eq!(l.env_files, vec!["x.env"]);
        let a = args("--context far compose --project-directory d run svc");
        let l = parse(&a, 3);
        assert_eq!(l.project_directory.as_deref(), Some("d"));
        assert_eq!(l.sub_at, Some(5));
        assert_eq!(
            parse(&args("--weird up"), 0).unclear.as_deref(),
            Some("--weird")
        );
    }

    #[test]
    fn the_resolved_config_tells_what_each_service_already_has() {
        let yaml = "services:\n  web:\n    image: img:1\n    environment:\n      SSL_CERT_FILE: /mine.pem\n    network_mode: host\n  \
                    job:\n    build:\n      context: .\n    environment:\n    - HTTPS_PROXY=http://p:1\n    extra_hosts:\n    - host.docker.internal:host-gateway\n    \
                    volumes:\n    - /a:/etc/trustrun/ca-bundle.pem:ro\nversion: '3.9'\n";
        let (version, svcs) = services(yaml).unwrap();
        assert_eq!(version.as_deref(), Some("3.9"));
        let web = svcs.iter().find(|s| s.name == "web").unwrap();
        assert_eq!(web.image.as_deref(), Some("img:1"));
        assert!(web.facts.user_set.contains("SSL_CERT_FILE"));
        assert!(web.facts.host_network && !web.mounts_target);
        let job = svcs.iter().find(|s| s.name == "job").unwrap();
        assert!(job.facts.user_set.contains("HTTPS_PROXY"));
        assert!(job.facts.user_maps_gateway && job.mounts_target && job.image.is_none());
    }

    #[test]
    fn the_extra_file_mounts_and_sets_per_service() {
        let svc = Service {
            name: "web".into(),
            ..Default::default()
        };
        let inj = Injection {
            env: vec![("SSL_CERT_FILE".into(), BUNDLE_TARGET.into())],
            add_gateway_host: true,
            warnings: vec![],
        };
        let doc = override_file(Some("3.9"), &[(&svc, inj)], Path::new("/c/ca.pem"));
        assert_eq!(
            doc,
            json!({"version": "3.9", "services": {"web": {
                "volumes": ["/c/ca.pem:/etc/trustrun/ca-bundle.pem:ro"],
                "environment": {"SSL_CERT_FILE": "/etc/trustrun/ca-bundle.pem"},
                "extra_hosts": ["host.docker.internal:host-gateway"]}}})
        );
    }
}
