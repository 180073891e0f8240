//! Reading a build command line (launch stage): the options of `docker build`, `docker buildx
//! build`, `docker image build` and `docker builder build` after the subcommand, as far as a
//! trusted build needs them: the Dockerfile (`-f`), the context, the user's `--build-arg` names,
//! and anything that makes the build one trustrun cannot derive honestly. Nothing here runs.

use std::collections::BTreeSet;
use std::ops::Range;

use crate::containers::options::{self, Short};

/// Options that take a value (docker 26 and buildx 0.13); every other known one takes none.
const VALUE: &[&str] = &[
    "--add-host",
    "--allow",
    "--annotation",
    "--attest",
    "--build-arg",
    "--build-context",
    "--builder",
    "--cache-from",
    "--cache-to",
    "--call",
    "--cgroup-parent",
    "--cpu-period",
    "--cpu-quota",
    "--cpu-shares",
    "--cpuset-cpus",
    "--cpuset-mems",
    "--file",
    "--iidfile",
    "--isolation",
    "--label",
    "--memory",
    "--memory-swap",
    "--metadata-file",
    "--network",
    "--no-cache-filter",
    "--output",
    "--platform",
    "--progress",
    "--provenance",
    "--sbom",
    "--secret",
    "--security-opt",
    "--shm-size",
    "--ssh",
    "--tag",
    "--target",
    "--ulimit",
];
const BOOL: &[&str] = &[
    "--check",
    "--compress",
    "--debug",
    "--disable-content-trust",
    "--force-rm",
    "--help",
    "--load",
    "--no-cache",
    "--pull",
    "--push",
    "--quiet",
    "--rm",
    "--squash",
];
const SHORT_VALUE: &[char] = &['f', 't', 'o', 'm', 'c'];
const SHORT_BOOL: &[char] = &['q', 'D', 'h'];

/// The named build context trustrun adds; a build that already names one so is left alone.
pub const CONTEXT_NAME: &str = "trustrun-ca";

/// What a build command line says.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Line {
    /// The user's `-f`/`--file` arguments (indices into the whole command line), removed when
    /// trustrun passes its own, and the last one's value.
    pub file_args: Vec<Range<usize>>,
    pub file: Option<String>,
    /// The context (`.`, a directory, `-`, a URL).
    pub context: Option<String>,
    /// Names given with `--build-arg NAME[=VALUE]`: they win over trustrun's defaults anyway.
    pub build_args: BTreeSet<String>,
    /// `--builder NAME`.
    pub builder: Option<String>,
    /// Names given with `--build-context NAME=...`.
    pub build_contexts: BTreeSet<String>,
    /// An option trustrun does not know: the command runs unchanged.
    pub unclear: Option<String>,
}

/// Reads `args[start..]`, the options and context after the build subcommand.
pub fn parse(args: &[String], start: usize) -> Line {
    let mut line = Line::default();
    let mut i = start;
    while i < args.len() {
        let arg = args[i].as_str();
        if arg == "--" {
            if line.context.is_none() {
                line.context = args.get(i + 1).cloned();
            }
            break;
        }
        if !arg.starts_with('-') || arg == "-" {
            // The one positional argument; a second is docker's error to report.
            if line.context.is_none() {
                line.context = Some(arg.to_owned());
            }
            i += 1;
            continue;
        }
        let at = i;
        let (name, inline) = if arg.starts_with("--") {
            let (name, inline) = options::split(arg);
            if BOOL.contains(&name) {
                i += 1;
                continue;
            }
            if !VALUE.contains(&name) {
                line.unclear = Some(arg.to_owned());
                return line;
            }
            (name.to_owned(), inline)
        } else {
            match options::short_cluster(arg, SHORT_BOOL, Some(SHORT_VALUE)) {
                Short::Value(name, inline) => (name, inline),
                Short::Flags => {
                    i += 1;
                    continue;
                }
                Short::Unknown => {
                    line.unclear = Some(arg.to_owned());
                    return line;
                }
            }
        };
        // A value missing at the end of the line is docker's error to report.
        let value = match inline {
            Some(v) => v.to_owned(),
            None => {
                i += 1;
                match args.get(i) {
                    Some(v) => v.clone(),
                    None => return line,
                }
            }
        };
        match name.as_str() {
            "-f" | "--file" => {
                line.file_args.push(at..i + 1);
                line.file = Some(value);
            }
            "--build-arg" => {
                line.build_args
                    .insert(value.split('=').next().unwrap_or_default().to_owned());
            }
            "--build-context" => {
                line.build_contexts
                    .insert(value.split('=').next().unwrap_or_default().to_owned());
            }
            "--builder" => line.builder = Some(value),
            _ => {}
        }
        i += 1;
    }
    line
}

/// Why a build context cannot be derived: it is not a directory of this machine.
pub fn remote_context(context: &str) -> Option<&'static str> {
    if context == "-" {
        return Some("its context comes from stdin");
    }
    let lower = context.to_ascii_lowercase();
    let remote = [
        "http://",
        "https://",
        "git://",
        "git@",
        "ssh://",
        "github.com/",
    ]
    .iter()
    .any(|p| lower.starts_with(p));
    remote.then_some("its context is a URL (a Git repository or a tarball)")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn finds_the_file_the_context_and_the_build_args() {
        let a = args(
            "build -t app:1 --build-arg SSL_CERT_FILE=/x --build-arg=PIP_CERT -f sub/Dockerfile.dev --no-cache --pull=false ctx --network host",
        );
        let l = parse(&a, 1);
        assert_eq!(l.context.as_deref(), Some("ctx"));
        assert_eq!(l.file.as_deref(), Some("sub/Dockerfile.dev"));
        assert_eq!(l.file_args, vec![6..8]);
        assert_eq!(
            l.build_args,
            ["SSL_CERT_FILE", "PIP_CERT"].map(String::from).into()
        );
        assert_eq!(l.unclear, None);
        let a = args("buildx build -qtapp -fDockerfile --file=Other --builder b .");
        let l = parse(&a, 2);
        assert_eq!(l.file.as_deref(), Some("Other"));
        assert_eq!(l.file_args, vec![3..4, 4..5]);
        assert_eq!(l.builder.as_deref(), Some("b"));
        assert_eq!(l.context.as_deref(), Some("."));
        assert_eq!(
            parse(&args("build --frobnicate ."), 1).unclear.as_deref(),
            Some("--frobnicate")
        );
    }

    #[test]
    fn stdin_and_urls_are_remote_contexts() {
        assert!(remote_context("-").is_some());
        assert!(remote_context("https://github.com/me/app.git#main").is_some());
        assert!(remote_context("git@github.com:me/app.git").is_some());
        assert!(remote_context("./app").is_none());
        assert_eq!(parse(&args("build -f - ."), 1).file.as_deref(), Some("-"));
    }
}
