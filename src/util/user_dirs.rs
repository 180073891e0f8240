//! Where trustrun keeps things for this user (util), in uv-dirs' shape: the override variable
//! first, else `trustrun` in the platform's directory of that kind (config, cache, data). The one
//! place that knows these directories; config, cache and shims ask it.

use std::ffi::OsStr;
use std::path::PathBuf;

/// `variable`'s value when set and not empty, else `trustrun/<rest>` in the platform's `base`.
fn override_or(variable: Option<&OsStr>, base: Option<PathBuf>, rest: &str) -> Option<PathBuf> {
    match variable.filter(|v| !v.is_empty()) {
        Some(v) => Some(PathBuf::from(v)),
        // Absolute, as `cache` is: a relative HOME must not make a relative shim directory on PATH.
        None => base.and_then(|d| std::path::absolute(d.join("trustrun").join(rest)).ok()),
    }
}

/// The config file: `TRUSTRUN_CONFIG` (its value as read once, see `settings`), else
/// `trustrun/config.toml` in the platform's config directory.
pub fn config_file(variable: Option<&OsStr>) -> Option<PathBuf> {
    override_or(variable, dirs::config_dir(), "config.toml")
}

/// The platform's cache directory for trustrun. `TRUSTRUN_CACHE_DIR` is `store::cache_dir`'s to weigh: it
/// is checked and made absolute there, where the cache's safety rules live.
pub fn cache() -> Option<PathBuf> {
    // A relative HOME would make every path trustrun hands out relative (a `docker run` mount
    // source, a variable read after a `cd`): taken from the directory trustrun started in.
    dirs::cache_dir().and_then(|d| std::path::absolute(d.join("trustrun")).ok())
}

/// The shim directory: `TRUSTRUN_SHIM_DIR` (its value, as the caller read it), else
/// `trustrun/shims` in the platform's per-user data directory.
pub fn shims(variable: Option<&OsStr>) -> Option<PathBuf> {
    override_or(variable, dirs::data_local_dir(), "shims")
}
