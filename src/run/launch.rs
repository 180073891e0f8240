//! Running the real program: exec on Unix (the child takes our pid, signals and exit code),
//! spawn-and-wait on Windows, which has no exec.

use std::process::Command;

use crate::failure::{EXIT_CANNOT_EXECUTE, EXIT_NOT_FOUND, Failure};

#[cfg(unix)]
pub fn launch(mut cmd: Command) -> Failure {
    use std::os::unix::process::CommandExt;
    let err = cmd.exec();
    exec_failure(&cmd, err)
}

#[cfg(windows)]
pub fn launch(mut cmd: Command) -> Failure {
    use windows_sys::Win32::System::Console::SetConsoleCtrlHandler;

    /// Handles (ignores) Ctrl-C and Ctrl-Break for trustrun alone. Passing no handler instead
    /// would set the console's "ignore Ctrl-C" flag, which the child inherits.
    unsafe extern "system" fn wait_for_child(_ctrl_type: u32) -> i32 {
        1
    }

    // Ctrl-C goes to every process on the console: the child decides what it means, we wait
    // for it and report its exit code.
    unsafe {
        SetConsoleCtrlHandler(Some(wait_for_child), 1);
    }
    let mut child = match cmd.spawn() {
        Ok(child) => child,
        Err(err) => return exec_failure(&cmd, err),
    };
    // Held until we exit: when trustrun dies, however it dies, the handle closes and the job
    // kills the child and everything it started.
    let _job = job::kill_on_close(&child);
    match child.wait() {
        // Windows exit codes are 32-bit (NTSTATUS values included): hand on all of it.
        Ok(status) => std::process::exit(status.code().unwrap_or(1)),
        Err(err) => exec_failure(&cmd, err),
    }
}

/// A Job Object that ties the child's life to ours (as uv's launchers do): an IDE or CI runner
/// that kills trustrun.exe kills the Python under it too, instead of leaving it running.
#[cfg(windows)]
mod job {
    use std::os::windows::io::AsRawHandle;
    use std::process::Child;

    use windows_sys::Win32::Foundation::{CloseHandle, HANDLE};
    use windows_sys::Win32::System::JobObjects::{
        AssignProcessToJobObject, CreateJobObjectW, JOB_OBJECT_LIMIT_BREAKAWAY_OK,
        JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE, JOBOBJECT_EXTENDED_LIMIT_INFORMATION,
        JobObjectExtendedLimitInformation, SetInformationJobObject,
    };

    pub struct Job(HANDLE);

    impl Drop for Job {
        fn drop(&mut self) {
            unsafe { CloseHandle(self.0) };
        }
    }

    /// Puts `child` in a new kill-on-close job. None when Windows refuses (the child then
    /// runs as before, untied): the program still runs, which matters more.
    pub fn kill_on_close(child: &Child) -> Option<Job> {
        unsafe {
            let handle = CreateJobObjectW(std::ptr::null(), std::ptr::null());
            if handle.is_null() {
                return None;
            }
            let job = Job(handle);
            let mut info: JOBOBJECT_EXTENDED_LIMIT_INFORMATION = std::mem::zeroed();
            // BREAKAWAY_OK: a program that starts a process meant to outlive it (a daemon) may
            // still ask for that explicitly.
            info.BasicLimitInformation.LimitFlags =
                JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE | JOB_OBJECT_LIMIT_BREAKAWAY_OK;
            let set = SetInformationJobObject(
                job.0,
                JobObjectExtendedLimitInformation,
                (&raw const info).cast(),
                std::mem::size_of_val(&info) as u32,
            );
            if set == 0 || AssignProcessToJobObject(job.0, child.as_raw_handle() as HANDLE) == 0 {
                return None;
            }
            Some(job)
        }
    }
}

fn exec_failure(cmd: &Command, err: std::io::Error) -> Failure {
    let program = std::path::Path::new(cmd.get_program()).display();
    let code = match err.kind() {
        std::io::ErrorKind::NotFound => EXIT_NOT_FOUND,
        _ => EXIT_CANNOT_EXECUTE,
    };
    Failure::new(code, format!("{program}: cannot run: {err}"))
}
