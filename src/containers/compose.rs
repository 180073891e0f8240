//! Compose (launch stage; `docker compose` and standalone `docker-compose`): which compose files a
//! command uses, and what its resolved config says about each service (its image, what it already
//! sets, its network, its mounts). The extra compose file built from that is `compose_file`'s. It
//! is appended as the last `-f`, so compose merges it over the user's; since `-f` makes compose
//! ignore `COMPOSE_FILE` and the default names, those are passed as `-f` too, ahead of it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::EngineCli;
use super::bundle_path;
use super::engine::Selection;
use super::inject::{Facts, GATEWAY_NAME, Network};
use super::user_files;

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
    pub project_name: Option<String>,
    pub env_files: Vec<String>,
    /// `--profile` values.
    pub profiles: Vec<String>,
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
        let (name, inline) = super::options::split(arg);
        if GLOBAL_BOOL.contains(&arg) {
            i += 1;
            continue;
        }
        if !GLOBAL_VALUE.contains(&name) {
            line.unclear = Some(arg.to_owned());
            return line;
        }
        let value = match inline {
            Some(v) => v.to_owned(),
            None => {
                i += 1;
                args.get(i).cloned().unwrap_or_default()
            }
        };
        match name {
            "-f" | "--file" => line.files.push(value),
            "--project-directory" => line.project_directory = Some(value),
            "-p" | "--project-name" => line.project_name = Some(value),
            "--env-file" => line.env_files.push(value),
            "--profile" => line.profiles.push(value),
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

/// The files compose reads itself that trustrun reads too (or has `compose config` read): the
/// `-f` files, the `--env-file` files, else the `.env` of the current and the project directory.
/// Each must be a regular file (`user_files::readable_first`), or the command runs unchanged.
pub fn files_read_first(line: &Line, cwd: &Path) -> Result<(), String> {
    for f in &line.files {
        user_files::readable_first(&cwd.join(f), "compose file")?;
    }
    for f in &line.env_files {
        user_files::readable_first(&cwd.join(f), "--env-file")?;
    }
    if line.env_files.is_empty() {
        let mut dirs = vec![cwd.to_path_buf()];
        dirs.extend(line.project_directory.as_ref().map(|p| cwd.join(p)));
        dirs.extend(
            line.files
                .first()
                .and_then(|f| cwd.join(f).parent().map(Path::to_path_buf)),
        );
        for dir in dirs {
            user_files::readable_first(&dir.join(".env"), "env file")?;
        }
    }
    Ok(())
}

fn dotenv_value(path: &Path, name: &str) -> Option<String> {
    // Only a regular file: `files_read_first` refused the others already, and a FIFO would hang.
    if !std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
        return None;
    }
    let text = std::fs::read_to_string(path).ok()?;
    text.lines().find_map(|l| {
        let (k, v) = l.trim().split_once('=')?;
        (k.trim() == name).then(|| v.trim().trim_matches(['"', '\'']).to_owned())
    })
}

/// The project name compose v1 gives a project (v2 prints its own in `config`): `-p`, else
/// `COMPOSE_PROJECT_NAME` (environment, then the project's `.env`), else the project
/// directory's name (`--project-directory`, else the first compose file's directory), lowered
/// and stripped to `[-_a-z0-9]` as v1 does.
pub fn v1_project_name(
    line: &Line,
    files: &[PathBuf],
    cwd: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> String {
    let dir = match (&line.project_directory, files.first()) {
        (Some(d), _) => cwd.join(d),
        (None, Some(f)) => cwd
            .join(f)
            .parent()
            .map_or_else(|| cwd.to_path_buf(), Path::to_path_buf),
        (None, None) => cwd.to_path_buf(),
    };
    let dotenv = match line.env_files.last() {
        Some(f) => cwd.join(f),
        None => dir.join(".env"),
    };
    let name = line
        .project_name
        .clone()
        .or_else(|| env("COMPOSE_PROJECT_NAME"))
        .or_else(|| dotenv_value(&dotenv, "COMPOSE_PROJECT_NAME"))
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| {
            dir.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        });
    name.to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_'))
        .collect::<String>()
        .trim_start_matches(['_', '-'])
        .to_owned()
}

/// One service of the resolved config (`compose config`), as trustrun sees it.
#[derive(Debug, Default)]
pub struct Service {
    pub name: String,
    /// Its `image:`, or for a service compose builds the name compose gives the image.
    pub image: Option<String>,
    /// Compose builds its image (`build:`).
    pub build: bool,
    /// What its `build:` says, as the resolved config spells it.
    pub build_spec: Option<BuildSpec>,
    /// Its `profiles:` (empty: always active).
    pub profiles: Vec<String>,
    /// Its `network_mode:` as written (`service:vpn`, `host`...).
    pub network_mode: Option<String>,
    pub facts: Facts,
    pub windows_platform: bool,
}

/// A service's `build:` in the resolved config (compose v2 makes `context` absolute and fills in
/// `dockerfile`).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct BuildSpec {
    pub context: String,
    pub dockerfile: Option<String>,
    pub dockerfile_inline: Option<String>,
    /// The names of its `additional_contexts`.
    pub additional_contexts: BTreeSet<String>,
}

fn build_spec(build: &Value) -> BuildSpec {
    let text = |key: &str| build.get(key).and_then(Value::as_str).map(str::to_owned);
    match build {
        Value::String(context) => BuildSpec {
            context: context.clone(),
            ..Default::default()
        },
        _ => BuildSpec {
            context: text("context").unwrap_or_else(|| ".".to_owned()),
            dockerfile: text("dockerfile"),
            dockerfile_inline: text("dockerfile_inline"),
            additional_contexts: match build.get("additional_contexts") {
                Some(Value::Object(m)) => m.keys().cloned().collect(),
                Some(Value::Array(a)) => a
                    .iter()
                    .filter_map(Value::as_str)
                    .map(|e| e.split('=').next().unwrap_or(e).to_owned())
                    .collect(),
                _ => BTreeSet::new(),
            },
        },
    }
}

/// The resolved config as far as trustrun cares.
#[derive(Debug, Default)]
pub struct Config {
    /// The file format version (v1 wants the extra file to match).
    pub version: Option<String>,
    /// Printed by compose v2 only (`name:`): tells v2 from v1.
    pub project: Option<String>,
    pub services: Vec<Service>,
}

impl Config {
    /// Whether compose v2 printed it (its schema knows `bind.create_host_path`, v1's does not).
    pub fn is_v2(&self) -> bool {
        self.project.is_some()
    }
}

/// Reads `compose config`'s output. A service compose builds gets the name compose v2 gives its
/// image (`<project>-<service>`), or v1's (`<v1_project>_<service>`).
pub fn config(config_yaml: &str, v1_project: &dyn Fn() -> String) -> Result<Config, String> {
    let doc: Value = serde_norway::from_str(config_yaml).map_err(|e| e.to_string())?;
    let version = doc.get("version").and_then(|v| match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    });
    let project = doc.get("name").and_then(Value::as_str).map(str::to_owned);
    let mut config = Config {
        version,
        project,
        services: Vec::new(),
    };
    let Some(map) = doc.get("services").and_then(Value::as_object) else {
        return Ok(config);
    };
    let built_name = |service: &str| match &config.project {
        Some(p) => format!("{p}-{service}"),
        None => format!("{}_{service}", v1_project()),
    };
    let list = map
        .iter()
        .map(|(name, svc)| {
            let build = svc.get("build").is_some();
            let image = svc.get("image").and_then(Value::as_str).map(str::to_owned);
            let mut s = Service {
                name: name.clone(),
                image: image.or_else(|| build.then(|| built_name(name))),
                build,
                build_spec: svc.get("build").map(build_spec),
                profiles: strings(svc.get("profiles")),
                network_mode: svc
                    .get("network_mode")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                ..Default::default()
            };
            s.facts.user_set = environment_names(svc.get("environment"));
            s.facts.network = s
                .network_mode
                .as_deref()
                .map_or(Network::Bridge, Network::of_mode);
            s.facts.user_maps_gateway = match svc.get("extra_hosts") {
                Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).any(|h| {
                    h.strip_prefix(GATEWAY_NAME)
                        .is_some_and(|r| r.starts_with([':', '=']))
                }),
                Some(Value::Object(m)) => m.contains_key(GATEWAY_NAME),
                _ => false,
            };
            s.facts.mount_targets = mount_targets(svc);
            s.windows_platform = svc
                .get("platform")
                .and_then(Value::as_str)
                .is_some_and(|p| p.to_ascii_lowercase().starts_with("windows"));
            s
        })
        .collect();
    config.services = list;
    Ok(config)
}

/// A string or a list of strings.
fn strings(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

/// Where a service's `volumes:` (short `SRC:DST[:MODE]` strings or long `target:` maps) and
/// `tmpfs:` land inside its containers.
fn mount_targets(svc: &Value) -> Vec<String> {
    let mut targets: Vec<String> = match svc.get("volumes") {
        Some(Value::Array(vols)) => vols
            .iter()
            .filter_map(|v| match v {
                Value::String(s) => bundle_path::volume_target(s),
                Value::Object(m) => m.get("target").and_then(Value::as_str).map(str::to_owned),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    targets.extend(
        strings(svc.get("tmpfs"))
            .iter()
            .map(|t| bundle_path::tmpfs_target(t)),
    );
    targets
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

/// Whether a command's services include `svc`, as far as saying something about it goes: it
/// has no profile, or one the command enables (`--profile`, `COMPOSE_PROFILES`, `*`), or the
/// command names it. (Every service of every profile gets its entry in the extra file anyway:
/// `compose run` and `up SERVICE` start a service of a profile nobody enabled.)
pub fn is_active(svc: &Service, enabled: &[String], words_after_subcommand: &[String]) -> bool {
    svc.profiles.is_empty()
        || enabled.iter().any(|p| p == "*" || svc.profiles.contains(p))
        || words_after_subcommand.contains(&svc.name)
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
                    job:\n    build:\n      context: .\n    environment:\n    - https_proxy=http://p:1\n    extra_hosts:\n    - host.docker.internal:host-gateway\n    \
                    volumes:\n    - /a:/etc:ro\n    tmpfs: /run\n    profiles: [tools]\n  \
                    side:\n    image: img:1\n    network_mode: service:web\n    volumes:\n    - type: bind\n      source: /b\n      target: /etc/trustrun\n\
                    version: '3.9'\n";
        let config = super::config(yaml, &|| "proj".to_owned()).unwrap();
        assert_eq!(config.version.as_deref(), Some("3.9"));
        assert!(!config.is_v2());
        let svc = |name: &str| config.services.iter().find(|s| s.name == name).unwrap();
        let web = svc("web");
        assert_eq!(web.image.as_deref(), Some("img:1"));
        assert!(web.facts.user_set.contains("SSL_CERT_FILE"));
        assert_eq!(web.facts.network, Network::Host);
        assert!(web.facts.mount_targets.is_empty() && !web.build);
        let job = svc("job");
        assert!(job.facts.user_set.contains("https_proxy"));
        assert!(job.facts.user_maps_gateway && job.build);
        assert_eq!(job.facts.mount_targets, ["/etc", "/run"]);
        assert_eq!(
            job.image.as_deref(),
            Some("proj_job"),
            "v1's name for a built image"
        );
        assert_eq!(job.profiles, ["tools"]);
        assert!(!is_active(job, &[], &[]));
        assert!(is_active(job, &["*".to_owned()], &[]));
        assert!(is_active(job, &[], &["job".to_owned()]));
        let side = svc("side");
        assert_eq!(side.facts.network, Network::Shared(None));
        assert_eq!(side.network_mode.as_deref(), Some("service:web"));
        assert_eq!(side.facts.mount_targets, ["/etc/trustrun"]);
        // v2 prints the project's name, and names a built image after it.
        let v2 = super::config(
            "name: p1\nservices:\n  app:\n    build:\n      context: /x\n",
            &|| unreachable!("v1's name is not needed"),
        )
        .unwrap();
        assert!(v2.is_v2());
        assert_eq!(v2.services[0].image.as_deref(), Some("p1-app"));
        assert_eq!(
            v2.services[0].build_spec,
            Some(BuildSpec {
                context: "/x".to_owned(),
                ..Default::default()
            })
        );
        assert_eq!(
            job.build_spec.as_ref().map(|b| b.context.as_str()),
            Some(".")
        );
    }

    #[test]
    fn v1_names_a_project_after_its_flag_its_variable_or_its_directory() {
        let dir = tempfile::tempdir().unwrap();
        let cwd = dir.path().join("My Project.v2");
        std::fs::create_dir_all(&cwd).unwrap();
        let none = |_: &str| None;
        let line = Line::default();
        assert_eq!(v1_project_name(&line, &[], &cwd, &none), "myprojectv2");
        let files = [dir.path().join("_Other/docker-compose.yml")];
        assert_eq!(v1_project_name(&line, &files, &cwd, &none), "other");
        std::fs::write(cwd.join(".env"), "COMPOSE_PROJECT_NAME=FromDotenv\n").unwrap();
        assert_eq!(v1_project_name(&line, &[], &cwd, &none), "fromdotenv");
        let env = |n: &str| (n == "COMPOSE_PROJECT_NAME").then(|| "env".to_owned());
        assert_eq!(v1_project_name(&line, &[], &cwd, &env), "env");
        let line = parse(&args("-p Flag up"), 0);
        assert_eq!(v1_project_name(&line, &[], &cwd, &env), "flag");
    }

    #[cfg(unix)]
    #[test]
    fn a_compose_file_or_env_file_that_is_a_pipe_is_left_to_compose() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("compose.yaml"), "services: {}\n").unwrap();
        let line = parse(&args("-f compose.yaml up"), 0);
        assert_eq!(files_read_first(&line, dir.path()), Ok(()));
        let line = parse(&args("-f /dev/null up"), 0);
        assert!(files_read_first(&line, dir.path()).is_err());
        let line = parse(&args("--env-file /dev/null up"), 0);
        assert!(files_read_first(&line, dir.path()).is_err());
    }
}
