//! The bundle stage: the per-user cache and what lives in it. `prepare` is its one pass for a
//! run (and `env`, `bundle`, doctor): the inputs (`inputs`), the bundle found or built in the
//! cache or the fallback (`bundle`, `cache_dir`, `layout`), the python support directory
//! (`python_support`), and with `trustrun setup` in place its stable file refreshed (`stable`).
//! What later stages need flows from here one way, in `Prepared`: the run stage builds the
//! child's environment from it, containers hand an engine a public copy of its bundle (made
//! lazily, `handoff`), and nothing calls back in. `cleanup` keeps the cache bounded.

pub mod bundle;
pub mod cache_dir;
pub mod cleanup;
pub mod handoff;
pub mod java_store;
pub mod layout;
pub mod python_support;
pub mod stable;

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::failure::Failure;
use crate::settings::options::TrustOptions;
use crate::sources::certs::CaPathError;
use crate::sources::{Gathered, Inputs};

/// What a run needs from the store, made once by `prepare`: the run stage builds the child's
/// environment from it, containers hand its bundle on (`Prepared::public_copy`).
pub struct Prepared {
    /// The cache directory in use (the preferred one or the fallback).
    pub root: PathBuf,
    pub bundle: PathBuf,
    pub python_dir: PathBuf,
    /// What the bundle was made from (a nested trustrun must see the same files).
    pub inputs: Inputs,
}

impl Prepared {
    /// A world-readable copy of this run's bundle, named by its content, for `engine` to bind
    /// into containers (see `handoff`): made when a command first hands it on, never before.
    pub fn public_copy(
        &self,
        engine: &handoff::Engine,
        mounts_of: handoff::MountsOf,
    ) -> Result<PathBuf> {
        handoff::handoff_copy(&self.root, &self.bundle, engine, mounts_of)
    }

    /// A world-readable copy of this run's Java trust store (`java_store`, the bundle's companion)
    /// for `engine`, by the same rule as the bundle's (`handoff`): for containers with
    /// `containers_java` on.
    pub fn public_java_store(
        &self,
        engine: &handoff::Engine,
        mounts_of: handoff::MountsOf,
    ) -> Result<PathBuf> {
        let store = java_store::path_for(&self.bundle);
        handoff::handoff_copy(&self.root, &store, engine, mounts_of)
    }

    /// Whether `path` is this run's bundle, or its stable or public copy (links followed): a
    /// file that copying the bundle onto would empty.
    pub fn is_the_bundle(&self, path: &Path) -> bool {
        let copies = [
            Some(self.bundle.clone()),
            Some(stable::path(&self.root)),
            handoff::copy_path(&self.root, &self.bundle),
        ];
        copies
            .into_iter()
            .flatten()
            .any(|b| crate::util::file_id::same_file(&b, path))
    }
}

/// Why the trust (bundle, python support) could not be prepared: the one split every caller
/// branches on. A CA file the user named is always an error (exit 2, the program is not run: never
/// silently less trust); trouble of our own lets a program run untouched outside `--strict`.
#[derive(Debug)]
pub enum PrepareError {
    /// A CA file the user named cannot be used; `named_in` is where the config named it, if it did
    /// (the user may not remember writing it there).
    UserCa {
        error: CaPathError,
        named_in: Option<String>,
    },
    /// trustrun itself failed.
    Internal(anyhow::Error),
}

impl PrepareError {
    /// For commands that have no program to run untouched: either case ends them.
    pub fn into_error(self) -> anyhow::Error {
        match self {
            PrepareError::UserCa { error, named_in } => {
                let at = named_in.map(|key| format!("{key}: ")).unwrap_or_default();
                Failure::usage(format!("{at}{error}")).into()
            }
            PrepareError::Internal(e) => e.context("cannot build the CA bundle"),
        }
    }
}

impl From<CaPathError> for PrepareError {
    fn from(error: CaPathError) -> Self {
        PrepareError::UserCa {
            error,
            named_in: None,
        }
    }
}

impl From<anyhow::Error> for PrepareError {
    fn from(e: anyhow::Error) -> Self {
        PrepareError::Internal(e)
    }
}

/// What the bundle for `opts` is made from: the CA files named, and the caller's CA variables
/// less the bundles of any trustrun cache (they only repeat their sources, and reading one back
/// would keep roots the OS store has since dropped), a variable naming setup's stable file
/// standing for the sources setup recorded. The one constructor of `Inputs`: a run, `env`,
/// `bundle`, doctor and setup all trust what this says.
pub fn inputs(opts: &TrustOptions) -> Inputs {
    let mut variables = Inputs::caller_variables();
    stable::add_setup_sources(&mut variables);
    variables.retain(|(_, path)| !layout::is_cache_bundle(path));
    Inputs {
        ca: opts.ca.clone(),
        variables,
    }
}

/// Builds or finds the bundle and the python support directory.
pub fn prepare(opts: &TrustOptions) -> Result<Prepared, PrepareError> {
    let inputs = inputs(opts);
    // No known cache directory is handled like an unusable one: the fallback still serves.
    let attempt = cache_dir::preferred_dir()
        .map_err(PrepareError::Internal)
        .and_then(|dir| Ok((prepare_in(&dir, &inputs, opts)?, dir)));
    let ((bundle, python_dir), root) = match attempt {
        Ok(done) => done,
        Err(PrepareError::Internal(e)) => {
            let fallback = cache_dir::fallback_dir().map_err(PrepareError::Internal)?;
            crate::warn!(
                "{}; using {} instead",
                crate::failure::one_line(&e),
                fallback.display()
            );
            (prepare_in(&fallback, &inputs, opts)?, fallback)
        }
        Err(user) => return Err(user),
    };
    Ok(Prepared {
        root,
        bundle,
        python_dir,
        inputs,
    })
}

fn prepare_in(
    root: &Path,
    inputs: &Inputs,
    opts: &TrustOptions,
) -> Result<(PathBuf, PathBuf), PrepareError> {
    cache_dir::ensure_private(root)?;
    let bundle = bundle::ensure(root, inputs).map_err(|e| match e {
        // A file the config named says so: the user may not remember writing it there.
        PrepareError::UserCa { error, .. } => PrepareError::UserCa {
            named_in: opts
                .ca_origins
                .iter()
                .find(|(p, _)| p == error.path())
                .map(|(_, key)| key.clone()),
            error,
        },
        internal => internal,
    })?;
    if let Some(built) = &bundle.built {
        report(built, opts.verbose);
        if opts.verbose {
            crate::note!(
                "wrote {} ({})",
                bundle.path.display(),
                crate::util::text::count(built.certs.len(), "distinct certificate")
            );
        }
    } else {
        crate::verbose!(
            opts.verbose,
            "using cached bundle {}",
            bundle.path.display()
        );
    }
    let python_dir = python_support::ensure(root)?;
    // Secondary: a program still runs with the bundle when setup's stable file cannot be
    // refreshed. Without setup in place this is one failed `open`, and nothing is written.
    if let Err(why) = stable::refresh_if_set_up(root, Some(&python_dir)) {
        crate::verbose!(
            opts.verbose,
            "the stable bundle file was not refreshed: {}",
            crate::failure::one_line(&why)
        );
    }
    Ok((bundle.path, python_dir))
}

/// Says what reading the sources found, in trustrun's one voice, for a run that built its bundle
/// and for setup: warnings always (a kept variable's file gone, say), the notes and each source's
/// count under `-v`.
pub fn report(built: &Gathered, verbose: bool) {
    for w in &built.warnings {
        crate::warn!("{w}");
    }
    if verbose {
        for note in &built.verbose_notes {
            crate::note!("{note}");
        }
        for (origin, n) in &built.counts {
            crate::note!(
                "{} from {origin}",
                crate::util::text::count(*n, "certificate")
            );
        }
    }
}
