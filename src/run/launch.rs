//! Running the real program (launch stage): exec on Unix (the child takes our pid, signals and exit
//! code), spawn-and-wait on Windows, which has no exec.

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
    use crate::util::windows::{Job, leave_ctrl_c_to_the_child};

    // Ctrl-C goes to every process on the console: the child decides what it means, we wait
    // for it and report its exit code.
    leave_ctrl_c_to_the_child();
    let mut child = match cmd.spawn() {
        Ok(child) => child,
        Err(err) => return exec_failure(&cmd, err),
    };
    // Held until we exit: when trustrun dies, however it dies, the handle closes and the job
    // kills the child and everything it started.
    let _job = Job::kill_on_close(&child);
    match child.wait() {
        // Windows exit codes are 32-bit (NTSTATUS values included): hand on all of it.
        Ok(status) => std::process::exit(status.code().unwrap_or(1)),
        Err(err) => exec_failure(&cmd, err),
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
