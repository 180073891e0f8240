//! Containers (launch stage): a container sees only what its engine hands it, not the host's
//! environment. When trustrun runs a container engine's CLI (`docker`, `podman`,
//! `docker-compose`), the commands that create containers (`run`, `create`, compose `up`, `run`,
//! `create`) get the bundle as a read-only bind mount at `/etc/trustrun/ca-bundle.pem` (a public,
//! content-named copy of exactly this run's bundle, see `handoff`; another path when a mount of
//! the user's covers that one, see `bundle_path`) and the CA variables pointing at it, so every
//! later `docker exec` inherits them. With `containers_java` (opt-in) the run's Java trust store
//! goes beside the bundle the same way, named by `JAVA_TOOL_OPTIONS`. What the user or the image
//! sets stays theirs (`inject`, `image_env`). Image builds (`docker build` and its spellings, compose's builds) get a derived
//! Dockerfile whose every `RUN` sees the bundle, with nothing of it in the image (`build`).
//! Everything else passes
//! through byte for byte, and so does every command trustrun cannot make better without making
//! something worse: a remote engine, a Windows container, an option it does not know.

pub mod ask;
pub mod build;
pub mod bundle_path;
pub mod compose;
pub mod compose_file;
pub mod docker;
pub mod engine;
pub mod image_env;
pub mod inject;
pub mod mounts;
pub mod options;
pub mod shimdir;
pub mod user_files;
pub mod variables;

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

use crate::settings::options::TrustOptions;
use crate::settings::vars;
use crate::store::Prepared;

use engine::Endpoint;
use image_env::{Arrival, OwnVariables};
use inject::{Facts, Injection, Network, Peer};

/// The engine CLIs trustrun intercepts (and shims on the child's PATH).
pub const NAMES: &[&str] = &["docker", "docker-compose", "podman"];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EngineCli {
    Docker,
    Podman,
    /// Standalone `docker-compose` (v1, or v2 installed as a standalone binary).
    Compose,
}

impl EngineCli {
    /// The CLI a program (a name or a path) stands for, by its file name.
    pub fn of(program: &OsStr) -> Option<EngineCli> {
        let name = crate::util::program_name::of_file(Path::new(program).file_name()?.to_str()?);
        match name.as_str() {
            "docker" => Some(EngineCli::Docker),
            "podman" => Some(EngineCli::Podman),
            "docker-compose" => Some(EngineCli::Compose),
            _ => None,
        }
    }
}

/// The launch stage's hook, for every program trustrun runs: the engine shims go first on the
/// child's PATH, and an engine CLI's own arguments are rewritten. With containers off, the child
/// is told so, so that shims and nested trustruns leave containers alone too.
pub fn launch_hook(
    opts: &TrustOptions,
    prepared: &Prepared,
    program: &OsStr,
    target: &Path,
    args: &[OsString],
    cmd: &mut Command,
) -> Vec<OsString> {
    if !opts.containers {
        cmd.env(vars::TRUSTRUN_CONTAINERS, "0");
        return args.to_vec();
    }
    match shimdir::ensure(&prepared.root)
        .and_then(|d| d.map(|d| shimdir::path_with(&d)).transpose())
    {
        Ok(Some(path)) => {
            cmd.env(vars::PATH, path);
        }
        Ok(None) => {}
        Err(e) => crate::warn!(
            "containers: {}; docker run by {} is not seen by trustrun",
            crate::failure::one_line(&e),
            Path::new(program).display()
        ),
    }
    let Some(cli) = EngineCli::of(program) else {
        return args.to_vec();
    };
    let inv = Invocation {
        opts,
        prepared,
        program: target,
    };
    arguments(&inv, cli, args)
}

/// One engine command trustrun is about to run: the options, what `prepare` made for this run
/// (whose bundle a container gets a public copy of), and the real engine CLI.
pub struct Invocation<'a> {
    pub opts: &'a TrustOptions,
    pub prepared: &'a Prepared,
    /// The real engine CLI that will run.
    pub program: &'a Path,
}

/// The arguments the real engine CLI gets: the user's, with trustrun's options added when the
/// command creates containers on a local engine. Any trouble is said once and the command runs
/// as the user wrote it.
pub fn arguments(inv: &Invocation, cli: EngineCli, args: &[OsString]) -> Vec<OsString> {
    if !inv.opts.containers {
        return args.to_vec();
    }
    let env = |name: &str| vars::non_empty(name).map(|v| v.to_string_lossy().into_owned());
    match rewrite(inv, cli, args, &env) {
        Ok(Some(new)) => new,
        Ok(None) => args.to_vec(),
        Err(e) => {
            crate::note!(
                "containers: {}; the command runs unchanged",
                crate::failure::one_line(&e)
            );
            args.to_vec()
        }
    }
}

fn rewrite(
    inv: &Invocation,
    cli: EngineCli,
    args: &[OsString],
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<Vec<OsString>>> {
    // Action as text; the user's own bytes are what is passed on.
    let text: Vec<String> = args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let verbose = inv.opts.verbose;
    match cli {
        EngineCli::Compose => {
            rewrite_compose(inv, cli, args, &text, 0, &engine::Selection::default(), env)
        }
        EngineCli::Docker | EngineCli::Podman => {
            let (sel, command) = docker::parse(cli, &text);
            match command {
                docker::Action::Other => Ok(None),
                docker::Action::Unclear(opt) => {
                    crate::verbose!(
                        verbose,
                        "containers: {opt} is an option trustrun does not know; the command runs unchanged"
                    );
                    Ok(None)
                }
                docker::Action::Compose { at } => {
                    rewrite_compose(inv, cli, args, &text, at, &sel, env)
                }
                docker::Action::Build {
                    globals_end,
                    at,
                    request,
                } => build::rewrite_docker(
                    inv,
                    cli,
                    &sel,
                    args,
                    &text,
                    globals_end,
                    at,
                    request,
                    env,
                ),
                docker::Action::Create(create) => {
                    if !local(cli, &sel, env) {
                        return Ok(None);
                    }
                    if create.windows_platform {
                        crate::note!(
                            "containers: a Windows container is left alone; the command runs unchanged"
                        );
                        return Ok(None);
                    }
                    rewrite_create(inv, cli, &sel, args, &create, env).map(Some)
                }
            }
        }
    }
}

/// `docker run|create` (or podman's) with trustrun's options after the subcommand.
fn rewrite_create(
    inv: &Invocation,
    cli: EngineCli,
    sel: &engine::Selection,
    args: &[OsString],
    create: &docker::Create,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<OsString>> {
    let mut user_set = create.user_set.clone();
    for file in &create.env_files {
        let file = Path::new(file);
        user_files::readable_first(file, "--env-file").map_err(anyhow::Error::msg)?;
        user_set.extend(user_files::env_file_names(file));
    }
    let globals = &args[..create.globals_end];
    let image = match &create.image {
        Some(image) => {
            let own = image_env::own_variables(inv.program, globals, image);
            if own == OwnVariables::Unknown {
                crate::note!(
                    "containers: {}",
                    image_env::unknown_note(image, Arrival::Pulled)
                );
            }
            own
        }
        None => OwnVariables::Unknown,
    };
    let mut network = create
        .network
        .as_deref()
        .map_or(Network::Bridge, Network::of_mode);
    // Only a proxy on host loopback needs to know the other container: ask only then.
    let other = create
        .network
        .as_deref()
        .and_then(|m| m.strip_prefix("container:"));
    if let Some(other) = other.filter(|_| inject::host_has_loopback_proxy(env)) {
        network = Network::Shared(container_peer(inv.program, globals, other));
    }
    let facts = Facts {
        user_set,
        image,
        network,
        user_maps_gateway: create.maps_gateway,
        mount_targets: create.mount_targets.clone(),
    };
    let mut injection = inject::plan(&inv.opts.ca_variables(), java(inv.opts), &facts, env);
    for w in &injection.warnings {
        crate::note!("containers: {w}");
    }
    let engine = match cli {
        EngineCli::Podman => crate::store::handoff::Engine {
            cli: "podman".to_owned(),
            options: engine::podman_pin(env),
        },
        _ => crate::store::handoff::Engine {
            cli: "docker".to_owned(),
            options: engine::docker_pin(sel, env),
        },
    };
    let mut ours: Vec<OsString> = Vec::new();
    if let Some(target) = injection.bundle.mount() {
        let copy = inv.prepared.public_copy(&engine, &mounts::of)?;
        ours.extend(mount_option(cli, &copy, target)?);
    }
    if let Some(target) = injection.java_store {
        match java_store_copy(inv, &engine) {
            Some(copy) => ours.extend(mount_option(cli, &copy, target)?),
            None => injection.without_java(),
        }
    }
    for (k, v) in &injection.env {
        ours.push("-e".into());
        ours.push(format!("{k}={v}").into());
    }
    if injection.add_gateway_host {
        ours.push("--add-host".into());
        ours.push(inject::GATEWAY_ADD_HOST.into());
    }
    crate::verbose!(
        inv.opts.verbose,
        "containers: adding {}",
        ours.iter()
            .map(|o| o.to_string_lossy())
            .collect::<Vec<_>>()
            .join(" ")
    );
    let mut new = args[..create.insert_at].to_vec();
    new.extend(ours);
    new.extend_from_slice(&args[create.insert_at..]);
    Ok(new)
}

/// What a proxy on host loopback needs to know of the container whose network another one
/// joins (`--network container:NAME`): whether it is on the host's network, and whether it
/// maps `host.docker.internal`. `None` when the engine cannot say (no such container yet).
fn container_peer(cli: &Path, globals: &[OsString], name: &str) -> Option<Peer> {
    let out = ask::ask(
        cli,
        globals,
        &[
            "inspect",
            "--type",
            "container",
            "--format",
            "{{.HostConfig.NetworkMode}}\t{{json .HostConfig.ExtraHosts}}",
            "--",
            name,
        ],
    )?;
    let text = String::from_utf8_lossy(&out);
    let (mode, hosts) = text.trim().split_once('\t')?;
    let hosts: Option<Vec<String>> = serde_json::from_str(hosts).ok()?;
    Some(Peer {
        host: mode == "host",
        maps_gateway: hosts.unwrap_or_default().iter().any(|h| {
            h.strip_prefix(inject::GATEWAY_NAME)
                .is_some_and(|r| r.starts_with([':', '=']))
        }),
    })
}

/// What containers get of Java's trust (docs/java.md: opt-in, `containers_java`).
fn java(opts: &TrustOptions) -> inject::Java {
    if opts.containers_java {
        inject::Java::On {
            variable: opts.java_tool_options(),
        }
    } else {
        inject::Java::Off
    }
}

/// The public copy of this run's Java trust store, or `None` (said once) when it cannot be made:
/// then the container gets the bundle without Java, never a `JAVA_TOOL_OPTIONS` naming a missing
/// store.
fn java_store_copy(inv: &Invocation, engine: &crate::store::handoff::Engine) -> Option<PathBuf> {
    match inv.prepared.public_java_store(engine, &mounts::of) {
        Ok(copy) => Some(copy),
        Err(e) => {
            crate::note!(
                "containers: {}; the container gets no Java trust store",
                crate::failure::one_line(&e)
            );
            None
        }
    }
}

/// Whether the engine is this machine's; says once why not.
fn local(cli: EngineCli, sel: &engine::Selection, env: &dyn Fn(&str) -> Option<String>) -> bool {
    let endpoint = match cli {
        EngineCli::Podman => engine::podman(sel, env),
        _ => engine::docker(sel, env),
    };
    if let Endpoint::Remote(how) = &endpoint {
        crate::note!(
            "containers: {how} is not this machine's engine, which alone can see trustrun's bundle; the command runs unchanged"
        );
        return false;
    }
    true
}

/// `--mount` for the public copy at `target`. The engine reads the value as one CSV record, so
/// a path holding `,` or `"` is quoted as CSV quotes it (never `-v`, which makes the engine create
/// a root-owned directory where a missing source was). podman's reader is not known to be CSV:
/// such a path is refused there, and the command runs unchanged.
fn mount_option(cli: EngineCli, copy: &Path, target: &str) -> Result<Vec<OsString>> {
    let path = copy.to_string_lossy();
    if cli == EngineCli::Podman && path.contains([',', '"']) {
        bail!("the bundle's path {path} holds ',' or '\"', which podman's --mount cannot carry");
    }
    let source = bundle_path::csv_field(&format!("source={path}"));
    Ok(vec![
        "--mount".into(),
        format!("type=bind,{source},target={target},readonly").into(),
    ])
}

#[allow(clippy::too_many_arguments)]
fn rewrite_compose(
    inv: &Invocation,
    cli: EngineCli,
    args: &[OsString],
    text: &[String],
    start: usize,
    docker_sel: &engine::Selection,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<Vec<OsString>>> {
    let line = compose::parse(text, start);
    if line.unclear.is_some() {
        return Ok(None);
    }
    let Some(sub_at) = line.sub_at else {
        return Ok(None);
    };
    let sub = text[sub_at].as_str();
    let building = sub == "build";
    if !(building || compose::CREATING.contains(&sub)) || line.files.iter().any(|f| f == "-") {
        return Ok(None);
    }
    let sel = engine::Selection {
        host: line.sel.host.clone().or(docker_sel.host.clone()),
        context: line.sel.context.clone().or(docker_sel.context.clone()),
        ..docker_sel.clone()
    };
    if !local(EngineCli::Docker, &sel, env) {
        return Ok(None);
    }
    let cwd = std::env::current_dir().context("no current directory")?;
    compose::files_read_first(&line, &cwd).map_err(anyhow::Error::msg)?;
    let implicit: Vec<PathBuf> = if line.files.is_empty() {
        match compose::implicit_files(cli, &line, env) {
            Ok(files) => files,
            // Compose will say it better.
            Err(_) => return Ok(None),
        }
    } else {
        Vec::new()
    };
    for file in &implicit {
        user_files::readable_first(file, "compose file").map_err(anyhow::Error::msg)?;
    }
    let file_options: Vec<OsString> = implicit
        .iter()
        .flat_map(|f| [OsString::from("-f"), f.clone().into_os_string()])
        .collect();

    // The resolved config: the services, their images and what each already sets. Every
    // profile's services are asked for (`--profile '*'`, compose v2), since `compose run SERVICE`
    // and `up SERVICE` start a service whose profile nobody enabled; a compose that does not know
    // the option (v1 before 1.28) is asked again without it (v1 lists every profile's anyway).
    let resolved = |profiles: &[&str]| {
        Command::new(inv.program)
            .args(&args[..sub_at])
            .args(&file_options)
            .args(profiles)
            .arg("config")
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .with_context(|| format!("cannot run {} config", inv.program.display()))
    };
    let mut output = resolved(&["--profile", "*"])?;
    if !output.status.success() {
        output = resolved(&[])?;
    }
    if !output.status.success() {
        bail!(
            "`{} config` failed, so trustrun cannot tell the services",
            inv.program.display()
        );
    }
    let files: Vec<PathBuf> = if implicit.is_empty() {
        line.files.iter().map(PathBuf::from).collect()
    } else {
        implicit.clone()
    };
    let mut config = compose::config(&String::from_utf8_lossy(&output.stdout), &|| {
        compose::v1_project_name(&line, &files, &cwd, env)
    })
    .map_err(|e| anyhow::anyhow!("cannot read the resolved compose config: {e}"))?;

    // Images are inspected through docker with the same engine selection.
    let docker = match cli {
        EngineCli::Docker => Some(inv.program.to_owned()),
        _ => crate::shim::locate::find(OsStr::new("docker")).ok(),
    };
    let mut docker_globals: Vec<OsString> = Vec::new();
    if let Some(h) = &sel.host {
        docker_globals.extend(["-H".into(), h.into()]);
    }
    if let Some(c) = &sel.context {
        docker_globals.extend(["--context".into(), c.into()]);
    }

    // `build`, and `up|run|create`, which build a missing image (or every one with `--build`).
    let builds = build::compose::entries(
        inv,
        &config,
        docker.as_deref(),
        &docker_globals,
        engine::docker_pin(&sel, env),
        building || text[sub_at + 1..].iter().any(|w| w == "--build"),
        env,
    )?;
    if building {
        if builds.is_empty() {
            return Ok(None);
        }
        let doc = compose_file::document(
            config.version.as_deref(),
            &[],
            &builds,
            None,
            compose_file::Dialect::V2,
        );
        return Ok(Some(with_file(inv, args, sub_at, file_options, &doc)?));
    }

    // What is said about a service only matters when the command starts it.
    let mut enabled = line.profiles.clone();
    if let Some(list) = env("COMPOSE_PROFILES") {
        enabled.extend(list.split(',').map(|p| p.trim().to_owned()));
    }
    let words = &text[sub_at + 1..];
    let mut said = BTreeSet::new();
    let mut say = |text: String| {
        if said.insert(text.clone()) {
            crate::note!("containers: {text}");
        }
    };

    // Each image's own variables, read once per image.
    let mut read: BTreeMap<String, OwnVariables> = BTreeMap::new();
    for svc in &mut config.services {
        let (Some(docker), Some(image)) = (&docker, &svc.image) else {
            continue;
        };
        let own = read
            .entry(image.clone())
            .or_insert_with(|| image_env::own_variables(docker, &docker_globals, image))
            .clone();
        if own == OwnVariables::Unknown && compose::is_active(svc, &enabled, words) {
            let arrival = if svc.build {
                Arrival::Built
            } else {
                Arrival::Pulled
            };
            say(format!(
                "service {}: {}",
                svc.name,
                image_env::unknown_note(image, arrival)
            ));
        }
        svc.facts.image = own;
    }

    let names = inv.opts.ca_variables();
    let java = java(inv.opts);
    let services = &mut config.services;
    let mut plans: Vec<Option<Injection>> = services.iter().map(|_| None).collect();
    // A service on another's network (`network_mode: service:S`) follows S: planned after it.
    let mut peers: BTreeMap<String, Peer> = BTreeMap::new();
    let loopback_proxy = inject::host_has_loopback_proxy(env);
    loop {
        let mut progress = false;
        let mut waiting = false;
        for i in 0..services.len() {
            if plans[i].is_some() || services[i].windows_platform {
                continue;
            }
            if let Network::Shared(_) = services[i].facts.network {
                let mode = services[i].network_mode.clone().unwrap_or_default();
                let peer = if let Some(other) = mode.strip_prefix("service:") {
                    match peers.get(other) {
                        Some(p) => Some(*p),
                        None if services.iter().zip(&plans).any(|(s, p)| {
                            s.name == other && p.is_none() && !s.windows_platform
                        }) =>
                        {
                            waiting = true;
                            continue;
                        }
                        None => None,
                    }
                } else if let (Some(other), Some(docker), true) =
                    (mode.strip_prefix("container:"), &docker, loopback_proxy)
                {
                    container_peer(docker, &docker_globals, other)
                } else {
                    None
                };
                services[i].facts.network = Network::Shared(peer);
            }
            let svc = &services[i];
            let injection = inject::plan(&names, java, &svc.facts, env);
            let peer = match &svc.facts.network {
                Network::Shared(p) => p.unwrap_or(Peer {
                    host: false,
                    maps_gateway: false,
                }),
                n => Peer {
                    host: *n == Network::Host,
                    maps_gateway: svc.facts.user_maps_gateway || injection.add_gateway_host,
                },
            };
            peers.insert(svc.name.clone(), peer);
            plans[i] = Some(injection);
            progress = true;
        }
        if !waiting {
            break;
        }
        if !progress {
            // A cycle of services on each other's networks: compose refuses it; say nothing.
            for (i, svc) in services.iter().enumerate() {
                if plans[i].is_none() && !svc.windows_platform {
                    plans[i] = Some(inject::plan(&names, java, &svc.facts, env));
                }
            }
            break;
        }
    }

    let mut per_service = Vec::new();
    for (svc, injection) in config.services.iter().zip(plans) {
        if svc.windows_platform {
            say(format!(
                "service {} is a Windows container; left alone",
                svc.name
            ));
            continue;
        }
        let Some(injection) = injection else { continue };
        if compose::is_active(svc, &enabled, words) {
            for w in &injection.warnings {
                say(w.clone());
            }
        }
        per_service.push((svc, injection));
    }
    if per_service.is_empty() && builds.is_empty() {
        return Ok(None);
    }
    // Compose has the docker engine create the containers.
    let engine = crate::store::handoff::Engine {
        cli: "docker".to_owned(),
        options: engine::docker_pin(&sel, env),
    };
    let copy = inv.prepared.public_copy(&engine, &mounts::of)?;
    let mut store = None;
    if per_service.iter().any(|(_, inj)| inj.java_store.is_some()) {
        store = java_store_copy(inv, &engine);
        if store.is_none() {
            for (_, inj) in &mut per_service {
                inj.without_java();
            }
        }
    }
    let dialect = if config.is_v2() {
        compose_file::Dialect::V2
    } else {
        compose_file::Dialect::V1
    };
    let doc = compose_file::document(
        config.version.as_deref(),
        &per_service,
        &builds,
        Some(compose_file::Handed {
            bundle: &copy,
            java_store: store.as_deref(),
        }),
        dialect,
    );
    Ok(Some(with_file(inv, args, sub_at, file_options, &doc)?))
}

/// The compose command line with the extra file `doc` (written to the cache) as its last `-f`,
/// after the files compose would have read by itself (`implicit`, given as `-f` too).
fn with_file(
    inv: &Invocation,
    args: &[OsString],
    sub_at: usize,
    implicit: Vec<OsString>,
    doc: &serde_json::Value,
) -> Result<Vec<OsString>> {
    let file = compose_file::write(&inv.prepared.root, doc)?;
    let mut new = args[..sub_at].to_vec();
    new.extend(implicit);
    new.extend(["-f".into(), file.clone().into_os_string()]);
    new.extend_from_slice(&args[sub_at..]);
    crate::verbose!(
        inv.opts.verbose,
        "containers: compose gets {} as its last file",
        file.display()
    );
    Ok(new)
}
