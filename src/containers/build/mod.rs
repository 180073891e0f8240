//! Image builds (launch stage): `docker build`, `docker buildx build`, `docker image build`,
//! `docker builder build` and compose's builds get a derived Dockerfile (`dockerfile`, pure) and a
//! named build context holding only this run's public bundle copy (`files`), so every `RUN` can
//! verify TLS against the bundle while the image comes out as it would without trustrun: same
//! filesystem, same config (the variables are build `ARG`s, the bundle a per-step bind mount).
//! What cannot be done honestly (`support`: the classic builder, an old BuildKit; a Dockerfile on
//! stdin; a remote context) runs as the user wrote it, with one line saying why.

pub mod command;
pub mod compose;
pub mod dockerfile;
pub mod files;
pub mod support;

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::engine::{self, Selection};
use super::image_env::{self, OwnVariables};
use super::{EngineCli, Invocation, mounts, user_files};

/// What a trusted build adds: the named context's directory and the derived Dockerfile.
#[derive(Debug)]
pub struct Prepared {
    pub context_dir: PathBuf,
    pub dockerfile: PathBuf,
    pub derived: dockerfile::Derived,
}

/// The one line said when a build runs as the user wrote it.
pub fn pass_through_note(why: &str) {
    crate::note!(
        "containers: this build runs as you wrote it, its RUN steps without trustrun's bundle: {why}"
    );
}

/// Why a Dockerfile's text cannot be derived, if it cannot: its `# syntax=` frontend is not known
/// to read named build contexts (an older or another frontend would fail where the plain build
/// works).
pub fn refusal(text: &str) -> Option<String> {
    let syntax = dockerfile::syntax(text)?;
    (!dockerfile::frontend_has_named_contexts(&syntax)).then(|| {
        format!(
            "its `# syntax={syntax}` frontend is not known to read named build contexts \
             (docker/dockerfile:1.4 and later do); drop the directive or name such a one to have \
             the build trusted"
        )
    })
}

/// Derives `user_file` (its text `text`) for this run: the public copy handed to the engine
/// `pin` names, the context holding it, the derived file. `inspect` answers which CA variables a
/// base image's config sets (`Unknown` for one not here yet).
pub fn prepare(
    inv: &Invocation,
    pin: Vec<String>,
    user_file: &Path,
    text: &str,
    inspect: &dyn Fn(&str) -> OwnVariables,
) -> Result<Prepared> {
    let handed = crate::store::handoff::Engine {
        cli: "docker".to_owned(),
        options: pin,
    };
    let copy = inv.prepared.public_copy(&handed, &mounts::of)?;
    let (context_dir, source) = files::context_dir(&inv.prepared.root, &copy)?;
    let variables = inv.opts.ca_variables();
    let read: RefCell<BTreeMap<String, BTreeSet<String>>> = RefCell::default();
    let keeps = |image: &str| -> BTreeSet<String> {
        if let Some(known) = read.borrow().get(image) {
            return known.clone();
        }
        let own = inspect(image);
        if own == OwnVariables::Unknown && !image.contains('$') {
            crate::note!(
                "containers: base image {image} is not here yet, so trustrun cannot read which CA \
                 variables it sets itself: its RUN steps get trustrun's (pull it first to keep the \
                 image's own)"
            );
        }
        let kept: BTreeSet<String> = variables.iter().filter(|v| own.keeps(v)).cloned().collect();
        read.borrow_mut().insert(image.to_owned(), kept.clone());
        kept
    };
    let addition = dockerfile::Addition {
        context: command::CONTEXT_NAME,
        source: &source,
        variables: &variables,
    };
    let derived = dockerfile::derive(text, &addition, &keeps);
    if derived.names.iter().any(|n| n == command::CONTEXT_NAME) {
        // `from=trustrun-ca` would name that stage, and the context would replace it.
        anyhow::bail!("a stage is named {}", command::CONTEXT_NAME);
    }
    let dockerfile = files::derived_dockerfile(&inv.prepared.root, user_file, &derived.text)?;
    Ok(Prepared {
        context_dir,
        dockerfile,
        derived,
    })
}

/// `docker build` and its spellings (`args[start..]` are the build's options and context), with
/// the named context and the derived Dockerfile, or `None` to run it as written.
#[allow(clippy::too_many_arguments)]
pub fn rewrite_docker(
    inv: &Invocation,
    cli: EngineCli,
    sel: &Selection,
    args: &[OsString],
    text: &[String],
    globals_end: usize,
    start: usize,
    request: support::Request,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<Vec<OsString>>> {
    let line = command::parse(text, start);
    if let Some(opt) = &line.unclear {
        crate::verbose!(
            inv.opts.verbose,
            "containers: {opt} is a build option trustrun does not know; the command runs unchanged"
        );
        return Ok(None);
    }
    if cli == EngineCli::Podman {
        pass_through_note("podman's builds are not derived by trustrun yet");
        return Ok(None);
    }
    let Some(context) = &line.context else {
        return Ok(None);
    };
    if let Some(why) = command::remote_context(context) {
        pass_through_note(&format!(
            "{why}, so trustrun cannot derive its Dockerfile; build from a local directory to have \
             it trusted"
        ));
        return Ok(None);
    }
    if line.file.as_deref() == Some("-") {
        pass_through_note(
            "its Dockerfile comes from stdin (-f -), which trustrun cannot read without taking it \
             from docker; pass it as a file to have the build trusted",
        );
        return Ok(None);
    }
    if line.build_contexts.contains(command::CONTEXT_NAME) {
        pass_through_note(&format!(
            "it names a build context {} itself",
            command::CONTEXT_NAME
        ));
        return Ok(None);
    }
    // A remote engine is left alone, as for containers: the bundle's copy would be recorded as
    // handed to it, and cleanup would ask it (over ssh, say) which containers mount it.
    if !super::local(cli, sel, env) {
        return Ok(None);
    }
    let globals = &args[..globals_end];
    if let Err(why) = support::check(inv.program, globals, line.builder.as_deref(), request, env) {
        pass_through_note(&why);
        return Ok(None);
    }
    let cwd = std::env::current_dir().context("no current directory")?;
    let user_file = match &line.file {
        Some(f) => cwd.join(f),
        None => {
            let dir = cwd.join(context);
            let upper = dir.join("Dockerfile");
            if upper.exists() {
                upper
            } else {
                dir.join("dockerfile")
            }
        }
    };
    user_files::readable_first(&user_file, "Dockerfile").map_err(anyhow::Error::msg)?;
    // A missing or unreadable Dockerfile is docker's to report.
    let Ok(user_text) = std::fs::read_to_string(&user_file) else {
        return Ok(None);
    };
    if let Some(why) = refusal(&user_text) {
        pass_through_note(&why);
        return Ok(None);
    }
    let inspect = |image: &str| image_env::own_variables(inv.program, globals, image);
    let prepared = prepare(
        inv,
        engine::docker_pin(sel, env),
        &user_file,
        &user_text,
        &inspect,
    )?;
    if prepared.derived.stages == 0 {
        // No FROM: not a Dockerfile trustrun can read; docker says what is wrong with it.
        return Ok(None);
    }
    let ours: Vec<OsString> = vec![
        "--build-context".into(),
        format!(
            "{}={}",
            command::CONTEXT_NAME,
            prepared.context_dir.display()
        )
        .into(),
        "-f".into(),
        prepared.dockerfile.clone().into_os_string(),
    ];
    crate::verbose!(
        inv.opts.verbose,
        "containers: the build gets {} ({} RUN steps in {} stages see the bundle) and the build context {}",
        prepared.dockerfile.display(),
        prepared.derived.runs,
        prepared.derived.stages,
        command::CONTEXT_NAME
    );
    let mut new = args[..start].to_vec();
    new.extend(ours);
    new.extend(
        args.iter()
            .enumerate()
            .skip(start)
            .filter(|(i, _)| !line.file_args.iter().any(|r| r.contains(i)))
            .map(|(_, a)| a.clone()),
    );
    Ok(Some(new))
}
