//! Containers (launch stage): a container sees only what its engine hands it, not the host's
//! environment. When trustrun runs a container engine's CLI (`docker`, `podman`,
//! `docker-compose`), the commands that create containers (`run`, `create`, compose `up`, `run`,
//! `create`) get the bundle as a read-only bind mount at `/etc/trustrun/ca-bundle.pem` (a public,
//! content-named copy of exactly this run's bundle, see `handoff`) and the CA variables pointing
//! at it, so every later `docker exec` inherits them. Everything else passes
//! through byte for byte, and so does every command trustrun cannot make better without making
//! something worse: a remote engine, a Windows container, an option it does not know.

pub mod compose;
pub mod docker;
pub mod engine;
pub mod inject;
pub mod mounts;
pub mod shimdir;

use std::collections::BTreeSet;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

use crate::settings::options::TrustOptions;
use crate::settings::vars;
use crate::store::Prepared;

use engine::Endpoint;
use inject::Facts;

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
                    let globals = &args[..create.globals_end];
                    let image_set = match &create.image {
                        Some(image) => image_env_names(inv.program, globals, image),
                        None => BTreeSet::new(),
                    };
                    let facts = Facts {
                        user_set: create.user_set.clone(),
                        image_set,
                        host_network: create.host_network,
                        user_maps_gateway: create.maps_gateway,
                    };
                    let injection = inject::plan(&inv.opts.ca_variables(), &facts, env);
                    for w in &injection.warnings {
                        crate::note!("containers: {w}");
                    }
                    let mut ours: Vec<OsString> = Vec::new();
                    if !create.mounts_target {
                        let engine = match cli {
                            EngineCli::Podman => crate::store::handoff::Engine {
                                cli: "podman".to_owned(),
                                options: engine::podman_pin(env),
                            },
                            _ => crate::store::handoff::Engine {
                                cli: "docker".to_owned(),
                                options: engine::docker_pin(&sel, env),
                            },
                        };
                        let copy = inv.prepared.public_copy(&engine, &mounts::of)?;
                        ours.extend(mount_option(&copy)?);
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
                        verbose,
                        "containers: adding {}",
                        ours.iter()
                            .map(|o| o.to_string_lossy())
                            .collect::<Vec<_>>()
                            .join(" ")
                    );
                    let mut new = args[..create.insert_at].to_vec();
                    new.extend(ours);
                    new.extend_from_slice(&args[create.insert_at..]);
                    Ok(Some(new))
                }
            }
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

/// `--mount` for the public copy (`-v` when the path holds a comma, which `--mount` cannot carry).
fn mount_option(copy: &Path) -> Result<Vec<OsString>> {
    let path = copy.to_string_lossy();
    if !path.contains(',') {
        return Ok(vec![
            "--mount".into(),
            format!(
                "type=bind,source={path},target={},readonly",
                inject::BUNDLE_TARGET
            )
            .into(),
        ]);
    }
    if path.contains(':') && !cfg!(windows) {
        bail!("the bundle's path {path} holds both ',' and ':', which docker cannot mount");
    }
    Ok(vec![
        "-v".into(),
        format!("{path}:{}:ro", inject::BUNDLE_TARGET).into(),
    ])
}

/// The variable names an image's own config sets, from `docker image inspect`. An image that
/// is not here yet (it will be pulled) names none: trustrun cannot read it before the pull.
fn image_env_names(cli: &Path, globals: &[OsString], image: &str) -> BTreeSet<String> {
    let out = Command::new(cli)
        .args(globals)
        .args([
            "image",
            "inspect",
            "--format",
            "{{json .Config.Env}}",
            image,
        ])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output();
    let Some(out) = out.ok().filter(|o| o.status.success()) else {
        return BTreeSet::new();
    };
    let list: Vec<String> = serde_json::from_slice(&out.stdout).unwrap_or_default();
    list.iter()
        .map(|e| e.split('=').next().unwrap_or(e).to_owned())
        .collect()
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
    if !compose::CREATING.contains(&text[sub_at].as_str()) || line.files.iter().any(|f| f == "-") {
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
    let implicit: Vec<PathBuf> = if line.files.is_empty() {
        match compose::implicit_files(cli, &line, env) {
            Ok(files) => files,
            // Compose will say it better.
            Err(_) => return Ok(None),
        }
    } else {
        Vec::new()
    };
    let file_options: Vec<OsString> = implicit
        .iter()
        .flat_map(|f| [OsString::from("-f"), f.clone().into_os_string()])
        .collect();

    // The resolved config: the services, their images and what each already sets.
    let config = Command::new(inv.program)
        .args(&args[..sub_at])
        .args(&file_options)
        .arg("config")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .with_context(|| format!("cannot run {} config", inv.program.display()))?;
    if !config.status.success() {
        bail!(
            "`{} config` failed, so trustrun cannot tell the services",
            inv.program.display()
        );
    }
    let (version, services) = compose::services(&String::from_utf8_lossy(&config.stdout))
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
    let names = inv.opts.ca_variables();
    let mut per_service = Vec::new();
    let mut warned = BTreeSet::new();
    for svc in &services {
        if svc.windows_platform {
            crate::note!(
                "containers: service {} is a Windows container; left alone",
                svc.name
            );
            continue;
        }
        let mut facts = Facts {
            user_set: svc.facts.user_set.clone(),
            host_network: svc.facts.host_network,
            user_maps_gateway: svc.facts.user_maps_gateway,
            ..Default::default()
        };
        if let (Some(docker), Some(image)) = (&docker, &svc.image) {
            facts.image_set = image_env_names(docker, &docker_globals, image);
        }
        let injection = inject::plan(&names, &facts, env);
        for w in &injection.warnings {
            if warned.insert(w.clone()) {
                crate::note!("containers: {w}");
            }
        }
        per_service.push((svc, injection));
    }
    if per_service.is_empty() {
        return Ok(None);
    }
    // Compose has the docker engine create the containers.
    let engine = crate::store::handoff::Engine {
        cli: "docker".to_owned(),
        options: engine::docker_pin(&sel, env),
    };
    let copy = inv.prepared.public_copy(&engine, &mounts::of)?;
    let doc = compose::override_file(version.as_deref(), &per_service, &copy);
    let content = serde_json::to_vec_pretty(&doc)?;
    let digest = crate::util::digest::sha256_hex(&content);
    let file = crate::store::layout::compose_file(&inv.prepared.root, &digest[..16]);
    if std::fs::read(&file).ok().as_deref() != Some(content.as_slice()) {
        crate::util::fs::write_atomic(&file, &content)?;
    }
    let mut new = args[..sub_at].to_vec();
    new.extend(file_options);
    new.extend(["-f".into(), file.clone().into_os_string()]);
    new.extend_from_slice(&args[sub_at..]);
    crate::verbose!(
        inv.opts.verbose,
        "containers: compose gets {} as its last file",
        file.display()
    );
    Ok(Some(new))
}
