//! The running trustrun binary, looked up once per process (util): where it is (`/proc/self/exe`
//! on Linux) and what it looks like (one `stat`). The locate stage skips it on PATH, the
//! fingerprint notices a rebuilt binary by it, and the engine shims link to it: asking the
//! kernel each time cost a `readlink` and a `stat` per asker on every start.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

struct Exe {
    path: PathBuf,
    meta: Option<fs::Metadata>,
}

fn exe() -> Option<&'static Exe> {
    static EXE: OnceLock<Option<Exe>> = OnceLock::new();
    EXE.get_or_init(|| {
        let path = std::env::current_exe().ok()?;
        let meta = fs::metadata(&path).ok();
        Some(Exe { path, meta })
    })
    .as_ref()
}

/// The running binary's path, as the platform reports it (on Linux already free of links).
pub fn path() -> Option<&'static Path> {
    exe().map(|e| e.path.as_path())
}

/// The running binary's metadata (links followed), read once.
pub fn metadata() -> Option<&'static fs::Metadata> {
    exe().and_then(|e| e.meta.as_ref())
}
