//! Compose's builds (launch stage): for each service with `build:`, the extra compose file gets
//! the derived Dockerfile (`build.dockerfile`, an absolute path compose hands to BuildKit as it
//! is; `build.dockerfile_inline` when the user's is inline) and the named context
//! (`build.additional_contexts`). Compose merges these over the user's `build:`, keeping its
//! context, args, target and the rest. Compose v1 has neither key: its builds run unchanged.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::Result;
use serde_json::{Map, Value, json};

use super::super::compose::{BuildSpec, Config};
use super::super::compose_file::escaped;
use super::super::image_env;
use super::super::{Invocation, user_files};
use super::{command, pass_through_note, support};

/// One service's `build:` part of the extra file, by service name.
pub type Entries = Vec<(String, Map<String, Value>)>;

/// What the extra file adds to each built service, or nothing when the builds cannot be trusted
/// (said when `surely_builds`: `build`, `--build`; else only with `-v`, since `up` builds only
/// an image that is missing). `docker` is the docker CLI of the same engine (`docker_globals`
/// select it).
pub fn entries(
    inv: &Invocation,
    config: &Config,
    docker: Option<&Path>,
    docker_globals: &[OsString],
    pin: Vec<String>,
    surely_builds: bool,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Entries> {
    let pass_through_note = |why: &str| {
        if surely_builds {
            pass_through_note(why);
        } else {
            crate::verbose!(
                inv.opts.verbose,
                "containers: builds are not trusted: {why}"
            );
        }
    };
    let built: Vec<(&String, &BuildSpec)> = config
        .services
        .iter()
        .filter_map(|s| s.build_spec.as_ref().map(|b| (&s.name, b)))
        .collect();
    if built.is_empty() {
        return Ok(Vec::new());
    }
    if !config.is_v2() {
        pass_through_note(
            "compose v1 builds with the classic builder (or with `docker build` when \
             COMPOSE_DOCKER_CLI_BUILD=1, which trustrun covers); use `docker compose` (v2) to \
             have its builds trusted",
        );
        return Ok(Vec::new());
    }
    let Some(docker) = docker else {
        pass_through_note("no docker CLI to ask whether the builder has named build contexts");
        return Ok(Vec::new());
    };
    if let Err(why) = support::check(docker, docker_globals, None, support::Request::Compose, env) {
        pass_through_note(&why);
        return Ok(Vec::new());
    }
    let inspect = |image: &str| image_env::own_variables(docker, docker_globals, image);
    let mut out = Vec::new();
    for (name, spec) in built {
        if let Some(why) = command::remote_context(&spec.context) {
            pass_through_note(&format!("service {name}: {why}"));
            continue;
        }
        if spec.additional_contexts.contains(command::CONTEXT_NAME) {
            pass_through_note(&format!(
                "service {name} names a build context {} itself",
                command::CONTEXT_NAME
            ));
            continue;
        }
        let context = PathBuf::from(&spec.context);
        let (user_file, text) = match &spec.dockerfile_inline {
            Some(inline) => (context.join("Dockerfile"), inline.clone()),
            None => {
                let file = context.join(spec.dockerfile.as_deref().unwrap_or("Dockerfile"));
                if let Err(why) = user_files::readable_first(&file, "Dockerfile") {
                    pass_through_note(&format!("service {name}: {why}"));
                    continue;
                }
                // A missing Dockerfile is compose's to report.
                let Ok(text) = std::fs::read_to_string(&file) else {
                    continue;
                };
                (file, text)
            }
        };
        if let Some(why) = super::refusal(&text) {
            pass_through_note(&format!("service {name}: {why}"));
            continue;
        }
        // One service's trouble leaves that build as written, and the rest (the containers' own
        // bundle and variables included) as trustrun makes them.
        let prepared = match super::prepare(inv, pin.clone(), &user_file, &text, &inspect) {
            Ok(p) => p,
            Err(e) => {
                pass_through_note(&format!("service {name}: {}", crate::failure::one_line(&e)));
                continue;
            }
        };
        if prepared.derived.stages == 0 {
            continue;
        }
        let mut build = Map::new();
        if spec.dockerfile_inline.is_some() {
            build.insert(
                "dockerfile_inline".into(),
                Value::String(escaped(&prepared.derived.text)),
            );
        } else {
            build.insert(
                "dockerfile".into(),
                Value::String(escaped(&prepared.dockerfile.to_string_lossy())),
            );
        }
        build.insert(
            "additional_contexts".into(),
            json!({ command::CONTEXT_NAME: escaped(&prepared.context_dir.to_string_lossy()) }),
        );
        crate::verbose!(
            inv.opts.verbose,
            "containers: service {name} builds from {} ({} RUN steps in {} stages see the bundle)",
            prepared.dockerfile.display(),
            prepared.derived.runs,
            prepared.derived.stages
        );
        let mut entry = Map::new();
        entry.insert("build".into(), Value::Object(build));
        out.push((name.clone(), entry));
    }
    Ok(out)
}
