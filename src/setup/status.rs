//! `trustrun doctor`'s one line about `trustrun setup` (beside the pipeline): in place or not, its
//! stable bundle fresh or stale, and whether this environment actually uses it (a variable of the
//! user's shadows it, or the shell started before setup ran).

use std::path::Path;

use crate::settings::vars;
use crate::store::stable;
use crate::user_env::UserEnv;

pub fn doctor_line() -> String {
    let record = match UserEnv::read() {
        Ok(r) => r,
        Err(e) => return format!("setup: {}", crate::failure::one_line(&e)),
    };
    let Some(root) = record.stable_bundle_cache() else {
        return "setup: not in place (`trustrun setup` makes every new shell and program trusted)"
            .to_owned();
    };
    let stable = stable::path(root);
    let fresh = match stable::is_fresh(root) {
        Ok(true) => "fresh".to_owned(),
        Ok(false) => "STALE: run `trustrun setup --refresh`".to_owned(),
        Err(e) => format!("cannot refresh: {}", crate::failure::one_line(&e)),
    };
    format!(
        "setup: in place, {} {fresh}; {}",
        stable.display(),
        in_use(&stable)
    )
}

/// How this process's CA variables relate to the stable bundle.
fn in_use(stable: &Path) -> String {
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
        format!(
            "shadowed here by {} (kept as yours, or set after the setup block)",
            super::by_value(&shadowed)
                .into_iter()
                .map(|(names, value)| format!("{names}={value}"))
                .collect::<Vec<_>>()
                .join("; ")
        )
    } else if unset == vars::CA_VARIABLES.len() {
        "not in this environment: it started before setup (open a new terminal)".to_owned()
    } else {
        "in use here".to_owned()
    }
}
