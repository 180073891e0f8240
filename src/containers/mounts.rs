//! What the containers of an engine mount (launch stage, for the bundle stage's cleanup), asked of
//! the engine itself (`ps -a -q`, then `inspect` of their mounts' sources): the public copies'
//! cleanup (`store::handoff`) removes no copy a container, running or stopped, still binds.

use std::collections::BTreeSet;
use std::ffi::{OsStr, OsString};
use std::path::Path;

use crate::store::handoff::Engine;

/// Container ids per `inspect` call: a command line of a few kilobytes.
const INSPECT_BATCH: usize = 100;

/// The file names of the bind mounts of every container `engine` has; `None` when it cannot
/// tell (not installed, stopped, refused), so that nothing it may hold is removed.
pub fn of(engine: &Engine) -> Option<BTreeSet<OsString>> {
    // The real CLI, never our shim.
    let cli = crate::shim::locate::find(OsStr::new(&engine.cli)).ok()?;
    // The engine the record names, whatever this process's variables select.
    let ask = |args: &[&str], ids: &[&str]| -> Option<String> {
        let mut cmd = super::ask::question(&cli, &engine.options, args);
        for v in super::engine::SELECTING_VARIABLES {
            cmd.env_remove(v);
        }
        let out = super::ask::answer(cmd.args(ids).spawn())?;
        Some(String::from_utf8_lossy(&out).into_owned())
    };
    let ids = ask(&["ps", "-a", "-q", "--no-trunc"], &[])?;
    let ids: Vec<&str> = ids.split_whitespace().collect();
    let mut names = BTreeSet::new();
    for batch in ids.chunks(INSPECT_BATCH) {
        let sources = ask(
            &[
                "inspect",
                "--type",
                "container",
                "--format",
                "{{range .Mounts}}{{.Source}}\n{{end}}",
            ],
            batch,
        )?;
        names.extend(
            sources
                .lines()
                .filter_map(|l| Path::new(l).file_name().map(|n| n.to_owned())),
        );
    }
    Some(names)
}
