//! `setup --java` (beside the pipeline, for setup): `JAVA_TOOL_OPTIONS` naming the stable Java
//! trust store (`<cache>/current.p12`, written with the stable bundle by `store::stable`) for
//! every new shell. Opt-in, unlike `trustrun PROGRAM`: every JVM that sees the variable prints
//! "Picked up JAVA_TOOL_OPTIONS" on stderr, scripts parsing `java -version` included.
//!
//! A `JAVA_TOOL_OPTIONS` of the user's own (in this environment, on Windows the registry's, or
//! in their startup files) is kept, `--force` or not: it may hold any JVM option (`-Xmx`, a proxy),
//! and setup's static value could only replace it, not add to it. Setup then says what to add.

use std::path::{Path, PathBuf};

use crate::run::java::{self, JavaOptions};
use crate::settings::vars;

use super::profile_vars::{self, Assigned};

/// What `--java` does in this setup.
pub enum Java {
    /// Off (not asked, dropped, or `JAVA_TOOL_OPTIONS` in `leave_alone`).
    Off,
    /// The value to write.
    Set(String),
    /// The user's own value, kept: in this environment (`Some` value) or in their files.
    Theirs {
        here: Option<String>,
        in_files: Vec<Assigned>,
        /// What they can add to it themselves.
        ours: Option<String>,
    },
    /// The store's path cannot be written in the variable (both quote characters in it).
    Unwritable(PathBuf),
}

/// Whether `value` is one trustrun wrote (`setup --java`'s, or a run's when setup runs inside
/// `trustrun PROGRAM`): not the user's own.
pub fn is_setups(value: &str) -> bool {
    java::trustruns_store(std::ffi::OsStr::new(value)).is_some()
}

/// What `--java` writes, given whether it is on and the user's own value in this environment
/// (`here`, from `users_own`).
pub fn plan(on: bool, home: &Path, root: &Path, here: Option<String>) -> Java {
    if !on {
        return Java::Off;
    }
    let store = crate::store::stable::java_path(root);
    let ours = match java::tool_options(&store, None, None) {
        JavaOptions::Set(v) => v.to_string_lossy().into_owned(),
        _ => return Java::Unwritable(store),
    };
    let in_files = if here.is_some() {
        Vec::new()
    } else {
        profile_vars::of_user(home, &[vars::JAVA_TOOL_OPTIONS.to_owned()])
    };
    if here.is_none() && in_files.is_empty() {
        return Java::Set(ours);
    }
    Java::Theirs {
        here,
        in_files,
        ours: Some(ours),
    }
}

/// The lines setup prints about Java's value.
pub fn report(java: &Java) -> Vec<String> {
    let add = |ours: &Option<String>| match ours {
        Some(o) => format!("add `{o}` to it for Java to trust the stable bundle"),
        None => String::new(),
    };
    match java {
        Java::Off | Java::Set(_) => Vec::new(),
        Java::Theirs {
            here,
            in_files,
            ours,
        } => {
            let mut lines = Vec::new();
            if let Some(v) = here {
                lines.push(format!(
                    "kept         {}={v} (yours: setup does not replace JVM options; {})",
                    vars::JAVA_TOOL_OPTIONS,
                    add(ours)
                ));
            }
            for a in in_files {
                lines.push(format!(
                    "kept         {} (set in {}:{}: setup does not replace JVM options; {})",
                    a.name,
                    a.file.display(),
                    a.line,
                    add(ours)
                ));
            }
            lines
        }
        Java::Unwritable(store) => vec![format!(
            "note         --java: {} cannot be written in JAVA_TOOL_OPTIONS (it holds both quote characters); Java keeps its own trust",
            store.display()
        )],
    }
}
