//! Helpers that serve every stage and belong to none: writing to stdout, digests, file identity,
//! `HOST:PORT`, the user's shell and its quoting, per-user directories, wording of counts.

pub mod authority;
pub mod digest;
pub mod file_id;
pub mod output;
pub mod shell;
pub mod text;
pub mod user_dirs;
