//! Helpers that serve every stage and belong to none: trustrun's voice on stdout and stderr
//! (`output`), the running binary looked up once (`exe`), files written with explicit modes
//! (`fs`) and user-named files read safely (`input_file`), file identity and stamps, digests,
//! path lists, program names, `HOST:PORT`, the user's shell and its quoting, the next step every
//! message names, per-user directories, wording of counts, and the libc and Win32 calls behind
//! safe functions (`unix`, `windows`). None of them names a stage.

pub mod authority;
pub mod digest;
pub mod exe;
pub mod file_id;
pub mod fs;
pub mod input_file;
pub mod next_step;
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
