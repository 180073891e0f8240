//! `trustrun setup` (beside the pipeline, using the bundle stage's stable file): every process the
//! user starts from now on trusts what `trustrun PROGRAM` trusts, through static values pointing at
//! the stable bundle: marked blocks in the shell profiles and `environment.d` (Unix),
//! `HKCU\Environment` (Windows). `--undo` takes back exactly what the record says was added;
//! `--refresh` rebuilds the stable bundle. `--java` (opt-in, `java`) also names the stable Java
//! trust store in `JAVA_TOOL_OPTIONS`.
//!
//! Never worse than before: a CA variable the user set already, in this environment or in their
//! own startup files (`profile_vars`), is kept (and its file read into the stable bundle) unless
//! `--force`; what the setup in place has is kept unless told otherwise (`in_place`); the stable
//! file exists before anything points at it, and every path written is absolute.

mod guard;
mod in_place;
mod java;
#[cfg_attr(windows, allow(dead_code))]
mod profile_vars;
mod profiles;
pub mod status;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::failure::{EXIT_FAILURE, Failure};
use crate::outln;
use crate::settings::options::TrustOptions;
use crate::store::stable::{self, Refreshed};
use crate::user_env::{LeftAlone, UserEnv};
#[cfg(windows)]
use crate::user_env::{Scope, Store};
use crate::util::output::{Deferred, OutputError};

/// The owner of setup's changes in the user-environment record (`shim` owns its own).
const OWNER: &str = "setup";
use crate::settings::vars;

pub struct Request {
    pub dry_run: bool,
    pub undo: bool,
    pub refresh: bool,
    pub force: bool,
    /// `--python` (`Some(true)`), `--no-python` (`Some(false)`), or neither: then what the
    /// setup in place has.
    pub python: Option<bool>,
    /// `--java`, `--no-java`, or neither: as `python`.
    pub java: Option<bool>,
}

pub fn run(opts: &TrustOptions, req: &Request) -> Result<()> {
    // Every line goes through one `Deferred`: stdout going away (`| head -0`) must not stop a
    // change half-way; its error comes after the work is done.
    let mut out = Deferred::default();
    let result = if req.undo {
        undo(opts, req.dry_run, &mut out)
    } else if req.refresh {
        refresh(&mut out)
    } else {
        apply(opts, req, &mut out)
    };
    // Anything not already a usage or CA-file error means setup could not do what was asked.
    result.map_err(|e| {
        if e.downcast_ref::<Failure>().is_some() || e.downcast_ref::<OutputError>().is_some() {
            e
        } else {
            Failure::new(EXIT_FAILURE, crate::failure::one_line(&e)).into()
        }
    })?;
    out.finish()?;
    Ok(())
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
    here.filter(|v| !crate::store::layout::is_cache_bundle(Path::new(v)) && !java::is_setups(v))
}

fn home() -> Result<PathBuf> {
    let home = dirs::home_dir().context("no home directory is known here")?;
    // The profiles keep what setup writes for good; a path relative to wherever setup ran
    // means another file in every other directory.
    for (name, value) in [
        ("HOME", Some(home.clone())),
        ("ZDOTDIR", vars::non_empty("ZDOTDIR").map(PathBuf::from)),
    ] {
        if let Some(value) = value.filter(|v| !v.is_absolute()) {
            return Err(Failure::new(
                EXIT_FAILURE,
                format!(
                    "{name}={} is a relative path; setup writes lasting paths into your profiles: set {name} to an absolute path",
                    value.display()
                ),
            )
            .into());
        }
    }
    guard::home_is_ours(&home)?;
    Ok(home)
}

/// The cache whose stable file the profiles will name, checked; created unless `dry_run`.
fn cache_root(dry_run: bool) -> Result<PathBuf> {
    let root = crate::store::cache_dir::preferred_dir()?;
    // Before anything is created there.
    guard::stable_path_is_safe(&root)?;
    // No temporary fallback here: the profiles would point into a directory that goes away.
    if !dry_run || root.exists() {
        crate::store::cache_dir::ensure_private(&root)?;
    }
    Ok(root)
}

/// Files left alone (each with its warning printed) end setup with exit code 1 once the rest is
/// done.
fn left_alone_failure(count: usize, what: &str) -> anyhow::Error {
    let files = if count == 1 { "file" } else { "files" };
    Failure::new(
        EXIT_FAILURE,
        format!("{count} {files} left alone (see the warnings above); {what}"),
    )
    .into()
}

/// One warning for a file setup leaves alone; other errors are returned.
fn warn_or_fail(e: anyhow::Error) -> Result<()> {
    match e.downcast_ref::<LeftAlone>() {
        Some(left) => {
            crate::warn!("{left}");
            Ok(())
        }
        None => Err(e),
    }
}

fn apply(opts: &TrustOptions, req: &Request, out: &mut Deferred) -> Result<()> {
    let home = home()?;
    let root = cache_root(req.dry_run)?;
    let stable = stable::path(&root);
    let names: Vec<String> = opts
        .ca_variables()
        .into_iter()
        .filter(|n| read_here(n))
        .collect();
    // Locked from here to the end: a setup running at the same time waits for this one.
    let mut record = if req.dry_run {
        UserEnv::read()?
    } else {
        UserEnv::open()?
    };
    let before = in_place::read(&home, &record, opts);
    let python = in_place::python_options(req.python, opts, &before);
    let java_asked = req.java.unwrap_or(before.java);
    let java = java::plan(
        java_asked && opts.java_tool_options(),
        &home,
        &root,
        users_own(vars::JAVA_TOOL_OPTIONS),
    );
    let kept: Vec<(String, String)> = if req.force {
        Vec::new()
    } else {
        names
            .iter()
            .filter_map(|n| users_own(n).map(|v| (n.clone(), v)))
            .collect()
    };
    // Set in the user's own startup files: theirs too, though this shell has not read them.
    let in_files: Vec<profile_vars::Assigned> = profile_vars::of_user(&home, &names)
        .into_iter()
        .filter(|a| !kept.iter().any(|(k, _)| *k == a.name))
        .filter(|a| {
            !a.path
                .as_deref()
                .is_some_and(crate::store::layout::is_cache_bundle)
        })
        .collect();
    // The user's own CA files stay trusted, whether their variables are kept or replaced.
    let mut inputs = crate::store::inputs(opts);
    for a in &in_files {
        // A missing one is said once, in its `kept` line, not warned about on every build.
        if let Some(path) = a.path.as_ref().filter(|p| p.exists())
            && !inputs.variables.iter().any(|(_, p)| p == path)
        {
            inputs.variables.push((a.name.clone(), path.clone()));
        }
    }
    let (ca_kept, ca_gone) = in_place::carry_ca(&root, opts, &mut inputs);
    let theirs = |n: &String| {
        kept.iter().any(|(k, _)| k == n) || (!req.force && in_files.iter().any(|a| a.name == *n))
    };
    let mut values = profiles::Values {
        vars: names
            .iter()
            .filter(|n| !theirs(n))
            .map(|n| (n.clone(), stable.clone()))
            .collect(),
        python_dir: None,
    };
    if python.on {
        // The stable name, not the content-named support directory: the profiles outlive an
        // upgrade and the cleanup of old support directories.
        let dir = if req.dry_run {
            stable::python_dir(&root)
        } else {
            stable::install_python(&root)?
        };
        values
            .vars
            .push((vars::TRUSTRUN_BUNDLE.to_owned(), stable.clone()));
        values
            .vars
            .push((vars::TRUSTRUN_PYTHON_DIR.to_owned(), dir.clone()));
        if python.truststore {
            values.vars.push((
                vars::TRUSTRUN_TRUSTSTORE.to_owned(),
                PathBuf::from("always"),
            ));
        }
        if python.relax {
            values.vars.push((
                vars::TRUSTRUN_RELAX_X509_STRICT.to_owned(),
                PathBuf::from("1"),
            ));
        }
        values.python_dir = Some(dir);
    }
    if let java::Java::Set(value) = &java {
        values
            .vars
            .push((vars::JAVA_TOOL_OPTIONS.to_owned(), PathBuf::from(value)));
    }

    if let Some(dir) = &values.python_dir {
        let verb = if req.dry_run { "would write" } else { "wrote" };
        outln!(out => "{verb:<12} {} (the python directory --python names)", dir.display());
    }
    if req.dry_run {
        for ca in &opts.ca {
            crate::sources::certs::read_ca_path(ca).map_err(|e| Failure::usage(e.to_string()))?;
        }
        outln!(out => "would write  {} (the stable bundle)", stable.display());
        if matches!(java, java::Java::Set(_)) {
            outln!(out => "would write  {} (the Java trust store --java names)", stable::java_path(&root).display());
        }
    } else {
        // First the file, then what points at it.
        let (done, built) = stable::install(&root, &inputs)?;
        // What reading the sources found: a kept variable's file gone, say; with -v, counts.
        if let Some(built) = built {
            crate::store::report(&built, opts.verbose);
        }
        record.note_stable_bundle(OWNER, &root)?;
        let verb = match done {
            Refreshed::Written => "wrote",
            Refreshed::Unchanged => "unchanged",
        };
        outln!(out => "{verb:<12} {} (the stable bundle)", stable.display());
        if matches!(java, java::Java::Set(_)) {
            let store = stable::java_path(&root);
            // Never named unless it is there (`install` wrote it, complete, before its record).
            if !store.is_file() {
                anyhow::bail!("{} was not written", store.display());
            }
            outln!(out => "{verb:<12} {} (the Java trust store --java names)", store.display());
        }
    }
    for (names, value) in by_value(&kept) {
        outln!(out =>
            "kept         {names}={value} (yours: its certificates go into the stable bundle; --force points it there instead)"
        );
    }
    let verb = if req.force { "replaced " } else { "kept     " };
    for a in &in_files {
        let what = match &a.path {
            Some(p) if p.exists() => "its file goes into the stable bundle".to_owned(),
            Some(p) => format!(
                "it names {}, which does not exist: run setup again once it does",
                p.display()
            ),
            None => "its value is not a plain path, so no file of it goes into the stable bundle"
                .to_owned(),
        };
        let force = if req.force {
            ""
        } else {
            "; --force replaces it"
        };
        outln!(out =>
            "{verb}    {} (set in {}:{}: {what}{force})",
            a.name,
            a.file.display(),
            a.line
        );
    }
    for ca in &ca_kept {
        outln!(out =>
            "kept         --ca {} (from the setup in place: a --ca now replaces it)",
            ca.display()
        );
    }
    for ca in &ca_gone {
        outln!(out => "dropped      --ca {} (from the setup in place: it no longer exists)", ca.display());
    }
    match (req.python, before.python) {
        (None, true) => outln!(out =>
            "kept         --python from the setup in place (`trustrun setup --no-python` drops it)"
        ),
        (Some(false), true) => outln!(out => "dropped      --python, as asked"),
        _ => {}
    }
    for line in java::report(&java) {
        outln!(out => "{line}");
    }
    match (req.java, before.java) {
        (None, true) => outln!(out =>
            "kept         --java from the setup in place (`trustrun setup --no-java` drops it)"
        ),
        (Some(false), true) => outln!(out => "dropped      --java, as asked"),
        _ => {}
    }
    if java_asked && !opts.java_tool_options() {
        outln!(out =>
            "note         --java: JAVA_TOOL_OPTIONS is in leave_alone (the config), so it is not set"
        );
    }
    if opts.relax_x509_strict && !python.on {
        outln!(out =>
            "note         --relax-x509-strict reaches new shells only with --python (our sitecustomize does it)"
        );
    }
    let left = write_values(&home, &mut record, opts, &values, req.dry_run, out)?;
    if left > 0 {
        return Err(left_alone_failure(left, "setup is in place in the others"));
    }
    if req.dry_run {
        outln!(out => "(dry run: nothing was changed)");
        return Ok(());
    }
    outln!(out =>
        "New shells and the programs started from them now trust the stable bundle through the CA variables (SSL_CERT_FILE, REQUESTS_CA_BUNDLE, ...); open a new terminal (or log in again for the desktop)."
    );
    if python.on {
        outln!(out =>
            "With --python, Python code that pins certifi (verify=certifi.where()) trusts it too."
        );
    } else {
        outln!(out =>
            "Python code that pins certifi (verify=certifi.where()) is not covered: `trustrun setup --python` adds that."
        );
    }
    if matches!(java, java::Java::Set(_)) {
        outln!(out =>
            "With --java, every JVM started from them trusts it too, through JAVA_TOOL_OPTIONS (each prints \"Picked up JAVA_TOOL_OPTIONS\" on stderr)."
        );
    }
    outln!(out => "`trustrun setup --undo` takes this back.");
    Ok(())
}

/// Whether a program on this platform reads `name`: Nix exists only on Unix and macOS, and no
/// Windows program reads its variable.
#[cfg(not(windows))]
fn read_here(_name: &str) -> bool {
    true
}

#[cfg(windows)]
fn read_here(name: &str) -> bool {
    name != "NIX_SSL_CERT_FILE"
}

/// Which lines may stand between our markers in a file (see `profiles::is_setup_line`).
fn setup_lines(opts: &TrustOptions) -> impl Fn(&Path, &str) -> bool {
    let names = profiles::block_names(&opts.extra_variables);
    move |path, line| profiles::is_setup_line(profiles::syntax_of(path), &names, line)
}

/// Writes the values where this platform keeps them; the number of files left alone.
#[cfg(unix)]
fn write_values(
    home: &Path,
    record: &mut UserEnv,
    opts: &TrustOptions,
    values: &profiles::Values,
    dry_run: bool,
    out: &mut Deferred,
) -> Result<usize> {
    let config = dirs::config_dir().unwrap_or_else(|| home.join(".config"));
    let lines = setup_lines(opts);
    let mut left = 0;
    // Under --dry-run, each block once, after the files that would get it.
    let mut shown: Vec<(String, Vec<PathBuf>)> = Vec::new();
    for profile in profiles::unix_profiles(home, &config) {
        let body = profiles::body(profile.syntax, values)?;
        let is_ours = |line: &str| lines(&profile.path, line);
        match record.put_block(OWNER, &profile.path, &body, &is_ours, dry_run) {
            Ok(edit) => {
                outln!(out => "{:<12} {}", edit.verb(dry_run), profile.path.display());
                let block = crate::user_env::block::render(&body);
                match shown.iter_mut().find(|(b, _)| *b == block) {
                    Some((_, files)) => files.push(profile.path),
                    None => shown.push((block, vec![profile.path])),
                }
            }
            Err(e) => {
                warn_or_fail(e)?;
                left += 1;
            }
        }
    }
    if dry_run {
        for (block, files) in &shown {
            let files: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
            outln!(out => "\nthe block for {}:\n{}", files.join(", "), block.trim_end());
        }
        if !shown.is_empty() {
            outln!(out => "");
        }
    }
    // cfg!, not #[cfg]: the macOS branch is compiled (and type-checked) everywhere.
    if cfg!(target_os = "macos") {
        let agent = profiles::launch_agent_path(home);
        match record.put_file(OWNER, &agent, &profiles::launch_agent(values)?, dry_run) {
            Ok(edit) => outln!(out =>
                "{:<12} {} (apps started from the Dock get the values from your next login)",
                edit.verb(dry_run),
                agent.display()
            ),
            Err(e) => {
                warn_or_fail(e)?;
                left += 1;
            }
        }
    }
    Ok(left)
}

#[cfg(windows)]
fn write_values(
    _home: &Path,
    record: &mut UserEnv,
    _opts: &TrustOptions,
    values: &profiles::Values,
    dry_run: bool,
    out: &mut Deferred,
) -> Result<usize> {
    let store = &mut crate::user_env::Registry;
    let scope = Scope::UserRegistry;
    for (name, value) in &values.vars {
        let text = value.to_str().context("a path that is not valid Unicode")?;
        let edit = record.set_variable(store, OWNER, scope, name, text, dry_run)?;
        if dry_run {
            outln!(out => "{:<12} HKCU\\Environment\\{name} = {text}", edit.verb(dry_run));
        } else {
            outln!(out => "{:<12} HKCU\\Environment\\{name}", edit.verb(dry_run));
        }
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
        outln!(out => "{:<12} HKCU\\Environment\\PYTHONPATH", edit.verb(dry_run));
    }
    // What an earlier setup set and this one does not (`--no-python`, a variable no Windows
    // program reads): back to what it was before setup.
    let mut wanted: Vec<&str> = values.vars.iter().map(|(n, _)| n.as_str()).collect();
    if values.python_dir.is_some() {
        wanted.push(vars::PYTHONPATH);
    }
    let stale = |c: &crate::user_env::Change| {
        matches!(c, crate::user_env::Change::VariableSet { variable, .. }
            if !wanted.iter().any(|w| w.eq_ignore_ascii_case(variable)))
    };
    if dry_run {
        for r in record
            .changes()
            .iter()
            .filter(|r| r.owner == OWNER && stale(&r.change))
        {
            outln!(out => "would undo   {}", describe(&r.change));
        }
    } else {
        for change in record.undo(store, OWNER, stale)? {
            outln!(out => "undone       {}", describe(&change));
        }
    }
    let shims = crate::shim::default_dir()?;
    let shims = shims.to_str().context("a path that is not valid Unicode")?;
    if dry_run {
        outln!(out => "would put    {shims} on the user PATH (unless it is there)");
    } else {
        let outcome = record.prepend_path_entry(store, OWNER, scope, "Path", shims)?;
        let verb = match outcome {
            crate::user_env::Outcome::Added => "added",
            crate::user_env::Outcome::AlreadyThere => "unchanged",
        };
        outln!(out => "{verb:<12} {shims} on the user PATH");
        store.announce();
    }
    Ok(0)
}

/// The profiles that hold a block of ours the record does not know (a profile synced from a
/// dotfiles repository, a record lost to an older trustrun's race), adopted into `record` so
/// that undo takes them back (unless `dry_run`); and the files whose markers are not ours.
#[cfg(unix)]
fn adopt_unrecorded(
    home: &Path,
    record: &mut UserEnv,
    lines: &dyn Fn(&Path, &str) -> bool,
    dry_run: bool,
) -> Result<(Vec<PathBuf>, Vec<anyhow::Error>)> {
    let config = dirs::config_dir().unwrap_or_else(|| home.join(".config"));
    let mut found = Vec::new();
    let mut left = Vec::new();
    for profile in profiles::unix_profiles(home, &config) {
        if record.has_block(&profile.path) {
            continue;
        }
        let is_ours = |line: &str| lines(&profile.path, line);
        match record.adopt_block(OWNER, &profile.path, &is_ours, dry_run) {
            Ok(true) => found.push(profile.path),
            Ok(false) => {}
            Err(e) if e.downcast_ref::<LeftAlone>().is_some() => left.push(e),
            Err(e) => return Err(e),
        }
    }
    Ok((found, left))
}

#[cfg(windows)]
fn adopt_unrecorded(
    _home: &Path,
    _record: &mut UserEnv,
    _lines: &dyn Fn(&Path, &str) -> bool,
    _dry_run: bool,
) -> Result<(Vec<PathBuf>, Vec<anyhow::Error>)> {
    Ok((Vec::new(), Vec::new()))
}

fn undo(opts: &TrustOptions, dry_run: bool, out: &mut Deferred) -> Result<()> {
    let home = home()?;
    let lines = setup_lines(opts);
    // A look first, without the lock: an undo with nothing to do creates nothing.
    let mut record = UserEnv::read()?;
    let (unrecorded, problems) = adopt_unrecorded(&home, &mut record, &lines, true)?;
    if dry_run || (!record.has_owner(OWNER) && unrecorded.is_empty()) {
        if !record.has_owner(OWNER) && unrecorded.is_empty() {
            outln!(out => "trustrun setup is not in place; nothing to undo");
        } else {
            for r in record.changes().iter().rev().filter(|r| r.owner == OWNER) {
                outln!(out => "would undo   {}", describe(&r.change));
            }
            for path in &unrecorded {
                outln!(out => "would undo   block in {} (not in the record: found by its markers)", path.display());
            }
            outln!(out => "(dry run: nothing was changed)");
        }
        let left = problems.len();
        for e in problems {
            warn_or_fail(e)?;
        }
        return match left {
            0 => Ok(()),
            n => Err(left_alone_failure(n, "nothing was changed in them")),
        };
    }
    // Locked from here, and read again: a setup that ran meanwhile is in it.
    let mut record = UserEnv::open()?;
    let (_, problems) = adopt_unrecorded(&home, &mut record, &lines, false)?;
    #[cfg(windows)]
    let store = &mut crate::user_env::Registry;
    #[cfg(not(windows))]
    let store = &mut crate::user_env::NoVariables;
    let undone = record.undo_each(store, OWNER, |_| true, &lines)?;
    for change in &undone.done {
        outln!(out => "undone       {}", describe(change));
    }
    let left = problems.len() + undone.left.len();
    for e in problems
        .into_iter()
        .chain(undone.left.into_iter().map(|(_, e)| e))
    {
        warn_or_fail(e)?;
    }
    if left > 0 {
        return Err(left_alone_failure(
            left,
            "the rest is undone; run `trustrun setup --undo` again once they are fixed",
        ));
    }
    outln!(out =>
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
            crate::store::stable::path(cache).display()
        ),
    }
}

fn refresh(out: &mut Deferred) -> Result<()> {
    let record = UserEnv::read()?;
    let Some(root) = record.stable_bundle_cache() else {
        return Err(Failure::new(
            EXIT_FAILURE,
            "trustrun setup is not in place; run `trustrun setup` first",
        )
        .into());
    };
    let stable = stable::path(root);
    match stable::refresh_if_set_up(root, None)? {
        Some(Refreshed::Written) => outln!(out => "refreshed  {}", stable.display()),
        Some(Refreshed::Unchanged) => outln!(out => "unchanged  {} (up to date)", stable.display()),
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
