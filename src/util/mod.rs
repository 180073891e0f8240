//! Helpers that serve every stage and belong to none: writing to stdout, digests, file identity,
//! files written with explicit modes, `HOST:PORT`, the user's shell and its quoting, per-user
//! directories, wording of counts, and the libc calls (Unix) behind safe functions.

pub mod authority;
pub mod digest;
pub mod file_id;
pub mod fs;
pub mod input_file;
pub mod output;
pub mod path_list;
pub mod program_name;
pub mod shell;
pub mod text;
#[cfg(unix)]
pub mod unix;
pub mod user_dirs;
#[cfg(windows)]
pub mod windows;
