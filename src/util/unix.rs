//! The libc calls trustrun makes (Unix), each behind a safe function of its own: every `unsafe`
//! block of the Unix build is here, with the reason it is sound.

use std::path::PathBuf;

/// The effective user id: who owns what we create, and whom we compare owners with.
/// Asked once: trustrun never changes its ids, and the warm path asked about seven times.
pub fn euid() -> u32 {
    static EUID: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    // SAFETY: geteuid has no preconditions and cannot fail.
    *EUID.get_or_init(|| unsafe { libc::geteuid() })
}

/// The home directory of `uid` in the passwd database (getpwuid_r: not the environment).
pub fn passwd_home(uid: u32) -> Option<PathBuf> {
    use std::ffi::CStr;
    use std::os::unix::ffi::OsStrExt;

    let mut buf = vec![0 as libc::c_char; 16 * 1024];
    // SAFETY: an all-zero passwd (null pointers, zero ids) is a valid value of the plain C struct;
    // getpwuid_r fills it in.
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut found: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: every pointer is to a live local of the right type, and `buf.len()` is the size of
    // the buffer the strings may be written into.
    let rc = unsafe { libc::getpwuid_r(uid, &mut pwd, buf.as_mut_ptr(), buf.len(), &mut found) };
    if rc != 0 || found.is_null() || pwd.pw_dir.is_null() {
        return None;
    }
    // SAFETY: on success pw_dir points at a NUL-terminated string inside `buf`, alive until the
    // end of this function.
    let dir = unsafe { CStr::from_ptr(pwd.pw_dir) };
    Some(PathBuf::from(std::ffi::OsStr::from_bytes(dir.to_bytes())))
}

/// The device a descriptor is (`st_rdev`, which tells terminals apart), if it can be read.
pub fn device_of(fd: libc::c_int) -> Option<libc::dev_t> {
    let mut st = std::mem::MaybeUninit::<libc::stat>::zeroed();
    // SAFETY: fstat writes into the buffer it is given; a failure leaves it unread.
    if unsafe { libc::fstat(fd, st.as_mut_ptr()) } != 0 {
        return None;
    }
    // SAFETY: fstat returned 0, so it filled the whole struct.
    let st = unsafe { st.assume_init() };
    Some(st.st_rdev)
}

/// Sends SIGKILL to the process group `pid` leads (a child started as a group leader).
pub fn kill_group(pid: u32) {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return;
    };
    // SAFETY: kill(2) with a negative pid signals that process group only; the caller passes a
    // child it started as the leader of its own group, so nothing else is touched.
    unsafe {
        libc::kill(-pid, libc::SIGKILL);
    }
}
