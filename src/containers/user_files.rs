//! The user's files an engine command reads itself (launch stage): env files (`--env-file`,
//! compose's `.env`) and compose files (`-f`), which trustrun reads too to learn what the user
//! set. Only a regular file may be read first: a pipe (`--env-file <(...)`, `-f <(...)`),
//! `/dev/stdin` or a FIFO gives its content once, and whoever reads first takes it from the
//! command. Such a file is left to the command, and the command runs unchanged: trustrun cannot
//! tell what it sets without taking it. Said once (the caller adds "the command runs
//! unchanged").

use std::path::Path;

/// `Err` with the one line to say when `path` exists and is not a regular file. A missing file
/// is the command's to report.
pub fn readable_first(path: &Path, what: &str) -> Result<(), String> {
    match std::fs::metadata(path) {
        Ok(meta) if !meta.is_file() => Err(format!(
            "{what} {} is not a regular file (a pipe, /dev/stdin?): the command reads it itself, \
             and trustrun cannot learn what it sets without taking that from it",
            path.display()
        )),
        _ => Ok(()),
    }
}

/// The variable names an env file sets (docker's format: `NAME=value` or `NAME`, `#` comments).
/// An unreadable file names nothing: the engine itself reports it. Call `readable_first` first.
pub fn env_file_names(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .map(|text| {
            text.lines()
                .map(str::trim_start)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(|l| l.split('=').next().unwrap_or(l).trim().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn only_a_regular_file_is_read_first() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("e.env");
        std::fs::write(&file, "# comment\nSSL_CERT_FILE=/x\n\nHTTPS_PROXY\n").unwrap();
        assert_eq!(readable_first(&file, "--env-file"), Ok(()));
        assert_eq!(env_file_names(&file), ["SSL_CERT_FILE", "HTTPS_PROXY"]);
        assert_eq!(readable_first(&dir.path().join("missing"), "-f"), Ok(()));
        let fifo = dir.path().join("fifo");
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(status.success());
        let refused = readable_first(&fifo, "--env-file").unwrap_err();
        assert!(refused.starts_with("--env-file "), "{refused}");
        assert!(readable_first(Path::new("/dev/null"), "-f").is_err());
    }
}
