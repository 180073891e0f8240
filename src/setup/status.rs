//! Whether `trustrun setup` is in place and reaches this process (beside the pipeline): in place
//! or not, its stable bundle fresh or stale, and whether this environment actually uses it (a
//! variable of the user's shadows it, or the shell started before setup ran). doctor reads it to
//! choose the next step; `line` is its one line about setup.

use std::path::{Path, PathBuf};

use crate::settings::vars;
use crate::store::stable;
use crate::user_env::UserEnv;

/// What setup has done, as far as this process can tell.
#[derive(Debug)]
pub enum Status {
    /// Setup's record says nothing is in place.
    NotInPlace,
    /// The record cannot be read.
    Unknown(String),
    InPlace {
        stable: PathBuf,
        freshness: Freshness,
        here: Here,
    },
}

#[derive(Debug)]
pub enum Freshness {
    Fresh,
    Stale,
    Unknown(String),
}

/// How this process's CA variables relate to setup's stable bundle.
#[derive(Debug)]
pub enum Here {
    /// The variables point at the stable bundle (or a trustrun bundle of the same sources).
    InUse,
    /// No CA variable is set: this process started before setup ran (a shell, an IDE).
    NotYet,
    /// Variables of the user's, kept by setup or set after its block, as (names, value).
    Shadowed(Vec<(String, String)>),
}

pub fn status() -> Status {
    let record = match UserEnv::read() {
        Ok(r) => r,
        Err(e) => return Status::Unknown(crate::failure::one_line(&e)),
    };
    let Some(root) = record.stable_bundle_cache() else {
        return Status::NotInPlace;
    };
    let freshness = match stable::is_fresh(root) {
        Ok(true) => Freshness::Fresh,
        Ok(false) => Freshness::Stale,
        Err(e) => Freshness::Unknown(crate::failure::one_line(&e)),
    };
    let stable = stable::path(root);
    let here = here(&stable);
    Status::InPlace {
        stable,
        freshness,
        here,
    }
}

impl Status {
    /// Whether setup is in place and this process gets its variables: nothing to prescribe.
    pub fn working_here(&self) -> bool {
        matches!(
            self,
            Status::InPlace {
                here: Here::InUse,
                freshness: Freshness::Fresh,
                ..
            }
        )
    }

    /// The one line doctor shows under Environment.
    pub fn line(&self) -> String {
        match self {
            Status::NotInPlace => {
                "setup: not in place (`trustrun setup` makes every new shell and program trusted)"
                    .to_owned()
            }
            Status::Unknown(e) => format!("setup: {e}"),
            Status::InPlace {
                stable,
                freshness,
                here,
            } => {
                let fresh = match freshness {
                    Freshness::Fresh => "fresh".to_owned(),
                    Freshness::Stale => "STALE: run `trustrun setup --refresh`".to_owned(),
                    Freshness::Unknown(e) => format!("cannot refresh: {e}"),
                };
                let here = match here {
                    Here::InUse => "in use here".to_owned(),
                    Here::NotYet => {
                        "not in this environment: it started before setup (open a new terminal)"
                            .to_owned()
                    }
                    Here::Shadowed(by) => format!(
                        "shadowed here by {} (kept as yours, or set after the setup block)",
                        by.iter()
                            .map(|(names, value)| format!("{names}={value}"))
                            .collect::<Vec<_>>()
                            .join("; ")
                    ),
                };
                format!("setup: in place, {} {fresh}; {here}", stable.display())
            }
        }
    }
}

fn here(stable: &Path) -> Here {
    let mut unset = 0;
    let mut shadowed = Vec::new();
    for (name, _) in vars::CA_VARIABLES {
        match vars::non_empty(name) {
            None => unset += 1,
            Some(v) if Path::new(&v) == stable => {}
            // `trustrun PROGRAM` or `trustrun env` pointed it at a bundle of the same sources.
            Some(v) if crate::store::layout::is_cache_bundle(Path::new(&v)) => {}
            Some(v) => shadowed.push((name.to_string(), v.to_string_lossy().into_owned())),
        }
    }
    if !shadowed.is_empty() {
        Here::Shadowed(super::by_value(&shadowed))
    } else if unset == vars::CA_VARIABLES.len() {
        Here::NotYet
    } else {
        Here::InUse
    }
}
