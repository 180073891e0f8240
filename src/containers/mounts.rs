//! What the containers of an engine mount (launch stage, for the bundle stage's cleanup), asked of
//! the engine itself (`ps -a -q`, then `inspect` of their mounts' sources): the public copies'
//! cleanup (`store::handoff`) removes no copy a container, running or stopped, still binds.

use std::collections::BTreeSet;
use std::ffi::{OsStr, OsString};
use std::path::Path;
use std::process::{Command, Stdio};

use crate::store::handoff::Engine;

/// Container ids per `inspect` call: a command line of a few kilobytes.
const INSPECT_BATCH: usize = 100;

/// The file names of the bind mounts of every container `engine` has; `None` when it cannot
/// tell (not installed, stopped, refused), so that nothing it may hold is removed.
pub fn of(engine: &Engine) -> Option<BTreeSet<OsString>> {
    // The real CLI, never our shim.
    let cli = crate::shim::locate::find(OsStr::new(&engine.cli)).ok()?;
    let ask = |args: &[&str], ids: &[&str]| -> Option<String> {
        let mut cmd = Command::new(&cli);
        for v in super::engine::SELECTING_VARIABLES {
            cmd.env_remove(v);
        }
        let out = cmd
            .args(&engine.options)
            .args(args)
            .args(ids)
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
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
