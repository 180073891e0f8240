//! `trustrun setup`: every process the user starts from now on trusts what `trustrun PROGRAM`
//! trusts, through static values pointing at the stable bundle: marked blocks in the shell
//! profiles and `environment.d` (Unix), `HKCU\Environment` (Windows). `--undo` takes back exactly
//! what the record says was added; `--refresh` rebuilds the stable bundle.
//!
//! Never worse than before: a CA variable the user set already is kept (and its file read into
//! the stable bundle) unless `--force`; the stable file exists before anything points at it.

pub mod status;
mod targets;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::failure::{EXIT_FAILURE, Failure};
use crate::options::TrustOptions;
use crate::stable_bundle::{self, Refreshed, SetupInputs};
use crate::user_env::UserEnv;
#[cfg(windows)]
use crate::user_env::{Scope, Store};

/// The owner of setup's changes in the user-environment record (`shim` owns its own).
const OWNER: &str = "setup";
use crate::vars;

pub struct Request {
    pub dry_run: bool,
    pub undo: bool,
    pub refresh: bool,
    pub force: bool,
    pub python: bool,
}

pub fn run(opts: &TrustOptions, req: &Request) -> Result<()> {
    let result = if req.undo {
        undo(req.dry_run)
    } else if req.refresh {
        refresh()
    } else {
        apply(opts, req)
    };
    // Anything not already a usage or CA-file error means setup could not do what was asked.
    result.map_err(|e| match e.downcast_ref::<Failure>() {
        Some(_) => e,
        None => Failure::new(EXIT_FAILURE, crate::failure::one_line(&e)).into(),
    })
}

/// The CA variables setup sets: the table less `leave_alone`, plus `extra_variables`.
fn variable_names(opts: &TrustOptions) -> Vec<String> {
    let mut names: Vec<String> = vars::CA_VARIABLES
        .iter()
        .map(|(n, _)| n.to_string())
        .filter(|n| !opts.leave_alone.contains(n))
        .collect();
    for extra in &opts.extra_variables {
        if !names.contains(extra) {
            names.push(extra.clone());
        }
    }
    names
}

/// A variable the user set to something of their own (not a trustrun bundle), which setup
/// keeps: the value in this process, or on Windows also the user environment's.
fn users_own(name: &str) -> Option<String> {
    let here = vars::non_empty(name).map(|v| v.to_string_lossy().into_owned());
    #[cfg(windows)]
    let here = here.or_else(|| {
        crate::user_env::Registry
            .get(name)
            .ok()
            .flatten()
            .map(|v| v.text)
            .filter(|v| !v.is_empty())
    });
    here.filter(|v| !crate::cache_layout::is_cache_bundle(Path::new(v)))
}

fn cache_root() -> Result<PathBuf> {
    let root = crate::cache::preferred_dir()?;
    // No temporary fallback here: the profiles would point into a directory that goes away.
    crate::cache::ensure_private(&root)?;
    Ok(root)
}

fn apply(opts: &TrustOptions, req: &Request) -> Result<()> {
    let root = cache_root()?;
    let stable = stable_bundle::path(&root);
    let names = variable_names(opts);
    let kept: Vec<(String, String)> = if req.force {
        Vec::new()
    } else {
        names
            .iter()
            .filter_map(|n| users_own(n).map(|v| (n.clone(), v)))
            .collect()
    };
    // The user's own CA files stay trusted, whether their variables are kept or replaced.
    let inputs = SetupInputs {
        ca: opts.ca.clone(),
        variables: crate::sources::Inputs::caller_variables()
            .into_iter()
            .filter(|(_, p)| !crate::cache_layout::is_cache_bundle(p))
            .collect(),
    };
    let mut values = targets::Values {
        vars: names
            .iter()
            .filter(|n| !kept.iter().any(|(k, _)| k == *n))
            .map(|n| (n.clone(), stable.clone()))
            .collect(),
        python_dir: None,
    };
    if req.python {
        let dir = crate::python_support::ensure(&root)?;
        values
            .vars
            .push((vars::TRUSTRUN_BUNDLE.to_owned(), stable.clone()));
        values
            .vars
            .push((vars::TRUSTRUN_PYTHON_DIR.to_owned(), dir.clone()));
        if opts.truststore.enabled() {
            values.vars.push((
                vars::TRUSTRUN_TRUSTSTORE.to_owned(),
                PathBuf::from("always"),
            ));
        }
        values.python_dir = Some(dir);
    }

    let mut record = UserEnv::open()?;
    if req.dry_run {
        for ca in &opts.ca {
            crate::certs::read_ca_path(ca).map_err(|e| Failure::usage(e.to_string()))?;
        }
        println!("would write  {} (the stable bundle)", stable.display());
    } else {
        // First the file, then what points at it.
        let done = stable_bundle::install(&root, &inputs)?;
        record.note_stable_bundle(OWNER, &root)?;
        let verb = match done {
            Refreshed::Written => "wrote     ",
            Refreshed::Unchanged => "unchanged ",
        };
        println!("{verb}  {} (the stable bundle)", stable.display());
    }
    for (names, value) in by_value(&kept) {
        println!(
            "kept         {names}={value} (yours: its certificates go into the stable bundle; --force points it there instead)"
        );
    }
    write_values(&mut record, &values, req.dry_run)?;
    if req.dry_run {
        println!("(dry run: nothing was changed)");
    } else {
        println!(
            "New shells and the programs started from them now trust the stable bundle; open a new terminal (or log in again for the desktop). `trustrun setup --undo` takes this back."
        );
    }
    Ok(())
}

#[cfg(unix)]
fn write_values(record: &mut UserEnv, values: &targets::Values, dry_run: bool) -> Result<()> {
    let home = dirs::home_dir().context("no home directory is known here")?;
    let config = dirs::config_dir().unwrap_or_else(|| home.join(".config"));
    for target in targets::unix_targets(&home, &config) {
        let body = targets::body(target.syntax, values)?;
        let outcome = record.put_block(OWNER, &target.path, &body, dry_run)?;
        println!("{:<12} {}", outcome.verb(dry_run), target.path.display());
    }
    // cfg!, not #[cfg]: the macOS branch is compiled (and type-checked) everywhere.
    if cfg!(target_os = "macos") {
        let agent = targets::launch_agent_path(&home);
        let outcome = record.put_file(OWNER, &agent, &targets::launch_agent(values)?, dry_run)?;
        println!(
            "{:<12} {} (apps started from the Dock get the values from your next login)",
            outcome.verb(dry_run),
            agent.display()
        );
    }
    Ok(())
}

#[cfg(windows)]
fn write_values(record: &mut UserEnv, values: &targets::Values, dry_run: bool) -> Result<()> {
    let store = &mut crate::user_env::Registry;
    let scope = Scope::UserRegistry;
    for (name, value) in &values.vars {
        let text = value.to_str().context("a path that is not valid Unicode")?;
        let edit = record.set_variable(store, OWNER, scope, name, text, dry_run)?;
        println!("{:<12} HKCU\\Environment\\{name}", edit.verb(dry_run));
    }
    if let Some(dir) = &values.python_dir {
        // PYTHONPATH as a whole: our directory first, the user's value after it.
        let mine = dir.to_str().context("a path that is not valid Unicode")?;
        let theirs = store
            .get(vars::PYTHONPATH)?
            .map(|v| v.text)
            .filter(|v| !v.is_empty() && !v.split(';').any(|e| e == mine));
        let value = match theirs {
            Some(t) => format!("{mine};{t}"),
            None => mine.to_owned(),
        };
        let edit = record.set_variable(store, OWNER, scope, vars::PYTHONPATH, &value, dry_run)?;
        println!("{:<12} HKCU\\Environment\\PYTHONPATH", edit.verb(dry_run));
    }
    let shims = crate::shim::default_dir()?;
    let shims = shims.to_str().context("a path that is not valid Unicode")?;
    if dry_run {
        println!("would put    {shims} on the user PATH (unless it is there)");
    } else {
        let outcome = record.prepend_path_entry(store, OWNER, scope, "Path", shims)?;
        let verb = match outcome {
            crate::user_env::Outcome::Added => "added",
            crate::user_env::Outcome::AlreadyThere => "unchanged",
        };
        println!("{verb:<12} {shims} on the user PATH");
        store.announce();
    }
    Ok(())
}

fn undo(dry_run: bool) -> Result<()> {
    let mut record = UserEnv::open()?;
    if !record.has_owner(OWNER) {
        println!("trustrun setup is not in place; nothing to undo");
        return Ok(());
    }
    if dry_run {
        for r in record.changes().iter().rev().filter(|r| r.owner == OWNER) {
            println!("would undo   {}", describe(&r.change));
        }
        println!("(dry run: nothing was changed)");
        return Ok(());
    }
    #[cfg(windows)]
    let store = &mut crate::user_env::Registry;
    #[cfg(not(windows))]
    let store = &mut crate::user_env::NoVariables;
    for change in record.undo(store, OWNER, |_| true)? {
        println!("undone       {}", describe(&change));
    }
    println!(
        "trustrun setup is undone: new shells start without it (shells open now keep their values)."
    );
    Ok(())
}

/// One change as a person reads it.
fn describe(change: &crate::user_env::Change) -> String {
    use crate::user_env::Change;
    match change {
        Change::PathEntryAdded {
            variable, entry, ..
        } => format!("{entry} on {variable}"),
        Change::VariableSet { variable, .. } => format!("the variable {variable}"),
        Change::DirCreated { path } => format!("directory {}", path.display()),
        Change::BlockAdded { path, .. } => format!("block in {}", path.display()),
        Change::FileWritten { path, .. } => format!("file {}", path.display()),
        Change::StableBundle { cache } => format!(
            "refreshing {} (the file stays for processes already started)",
            crate::stable_bundle::path(cache).display()
        ),
    }
}

fn refresh() -> Result<()> {
    let record = UserEnv::open()?;
    let Some(root) = record.stable_bundle_cache() else {
        return Err(Failure::new(
            EXIT_FAILURE,
            "trustrun setup is not in place; run `trustrun setup` first",
        )
        .into());
    };
    let stable = stable_bundle::path(root);
    match stable_bundle::refresh_if_set_up(root)? {
        Some(Refreshed::Written) => println!("refreshed  {}", stable.display()),
        Some(Refreshed::Unchanged) => println!("unchanged  {} (up to date)", stable.display()),
        None => {
            return Err(Failure::new(
                EXIT_FAILURE,
                format!(
                    "{}: setup's inputs are missing; run `trustrun setup` again",
                    root.display()
                ),
            )
            .into());
        }
    }
    Ok(())
}

/// Machines often set a dozen variables to one file: one line per value, its names joined.
pub(crate) fn by_value(pairs: &[(String, String)]) -> Vec<(String, String)> {
    let mut groups: Vec<(Vec<&str>, &str)> = Vec::new();
    for (name, value) in pairs {
        match groups.iter_mut().find(|(_, v)| v == value) {
            Some((names, _)) => names.push(name),
            None => groups.push((vec![name], value)),
        }
    }
    groups
        .into_iter()
        .map(|(names, v)| (names.join(", "), v.to_owned()))
        .collect()
}
