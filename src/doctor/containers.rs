//! doctor's "Containers" part (beside the pipeline): which engine CLIs are on PATH, whether the
//! engine they talk to is this machine's, and what trustrun would do for the containers they
//! create.

use std::fmt::Write;
use std::path::PathBuf;

use serde::Serialize;

use crate::containers::{self, engine};
use crate::settings::options::TrustOptions;

#[derive(Serialize)]
pub struct ContainersReport {
    /// Off with `--no-containers`, `TRUSTRUN_CONTAINERS=0` or config `containers = false`.
    pub enabled: bool,
    pub clis: Vec<CliFound>,
    /// The docker endpoint the environment selects (`DOCKER_HOST`, `DOCKER_CONTEXT`, the config).
    pub endpoint: String,
    pub local: bool,
    /// For a local socket: whether it exists (the engine is probably running).
    pub socket_present: Option<bool>,
    pub would: String,
    /// Whether image builds would be trusted, and by which builder, or why not (asked only of a
    /// local docker whose socket is there).
    pub builds: Option<String>,
}

#[derive(Serialize)]
pub struct CliFound {
    pub name: &'static str,
    pub path: Option<PathBuf>,
}

pub fn report(opts: &TrustOptions) -> ContainersReport {
    let clis: Vec<CliFound> = containers::NAMES
        .iter()
        .map(|name| CliFound {
            name,
            path: crate::shim::locate::find(std::ffi::OsStr::new(name)).ok(),
        })
        .collect();
    let env = |name: &str| {
        crate::settings::vars::non_empty(name).map(|v| v.to_string_lossy().into_owned())
    };
    let endpoint = engine::docker(&engine::Selection::default(), &env);
    let socket_present = local_socket(&endpoint).map(|p| p.exists());
    let any = clis.iter().any(|c| c.path.is_some());
    let would = if !opts.containers {
        "off: docker, podman and compose commands pass through untouched".to_owned()
    } else if !any {
        "nothing: no docker, docker-compose or podman on PATH".to_owned()
    } else if !endpoint.is_local() {
        "nothing for docker: the engine is remote and cannot see this machine's files; its commands pass through untouched".to_owned()
    } else {
        format!(
            "docker run/create and compose up/run/create through trustrun (or its docker shim) give each new container \
             the bundle at {} (read-only) and the CA variables; other commands pass through untouched",
            containers::bundle_path::BUNDLE_TARGET
        )
    };
    let docker = clis
        .iter()
        .find(|c| c.name == "docker")
        .and_then(|c| c.path.clone());
    let builds = docker
        .filter(|_| opts.containers && endpoint.is_local() && socket_present != Some(false))
        .map(|cli| {
            use containers::build::support;
            match support::check(&cli, &[], None, support::Request::Build, &env) {
                Ok(builder) => format!("trusted: every RUN gets the bundle ({builder})"),
                Err(why) => format!("run as written: {why}"),
            }
        });
    ContainersReport {
        builds,
        enabled: opts.containers,
        clis,
        endpoint: endpoint.describe().to_owned(),
        local: endpoint.is_local(),
        socket_present,
        would,
    }
}

/// The socket file behind a local endpoint, where there is one to look at.
fn local_socket(endpoint: &engine::Endpoint) -> Option<PathBuf> {
    let engine::Endpoint::Local(text) = endpoint else {
        return None;
    };
    if let Some((_, path)) = text.split_once("unix://") {
        return Some(PathBuf::from(path.trim_end_matches(')')));
    }
    if cfg!(unix) && text.starts_with("the default") {
        return Some(PathBuf::from("/var/run/docker.sock"));
    }
    None
}

pub fn render(r: &ContainersReport, o: &mut String) {
    let _ = writeln!(o, "\nContainers");
    let clis: Vec<String> = r
        .clis
        .iter()
        .map(|c| match &c.path {
            Some(p) => format!("{} {}", c.name, p.display()),
            None => format!("{} not found", c.name),
        })
        .collect();
    let _ = writeln!(o, "  {}", clis.join("; "));
    let socket = match r.socket_present {
        Some(true) => ", socket present",
        Some(false) => ", socket missing: is the engine running?",
        None => "",
    };
    let place = if r.local { "local" } else { "REMOTE" };
    let _ = writeln!(o, "  engine: {} ({place}{socket})", r.endpoint);
    // Not "=>": that marks a host's verdict.
    let _ = writeln!(o, "  trustrun does: {}", r.would);
    if let Some(builds) = &r.builds {
        let _ = writeln!(o, "  image builds: {builds}");
    }
}
