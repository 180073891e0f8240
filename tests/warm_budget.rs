//! The warm path's budget (issue 19): a warm `trustrun true` makes no more system calls of each
//! kind than BENCHMARKS.md ("The warm path's budget") lists, each there for a reason that can
//! change the child's answer. Counted with strace from the end of Rust's own start-up (its
//! SIGBUS handler: what every Rust program does first, the floor) to the `execve` of the
//! program, with a fixed PATH and environment (the CA presets removed, a private cache), so
//! that a new stat, read or search on every start shows up here instead of in a benchmark.
//! And the engine shims keep their contract with the found set recorded: a shim for an
//! engine that exists, none for one that does not, noticed when either changes.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::Command;

use crate::common::{clean, output_text, trustrun_bin};

/// System calls by kind, from Rust's start-up to the `execve`, with the PATH and environment of
/// `warm_counts`: the budget, as BENCHMARKS.md lists it with the reason for each call.
const BUDGET: &[(&str, usize)] = &[
    // config file 1; std's statx probe 1; the running binary 1; `true` on PATH 4 (shim marker
    // and name in each directory up to /usr/bin); cache root 2 (may we create it, is it
    // private); bundles/ and index/ 2; OS store file and directories 4; index entry 1 (fstat:
    // size and age); bundle and its Java store 2 (their stamps); python dir and __pycache__ 2;
    // python marker 1
    // (fstat); python files 2 (their stamps); PATH directories 3, found-set record 1 (fstat),
    // engine shim directory 1.
    ("statx", 28),
    // The running binary (/proc/self/exe), once.
    ("readlink", 1),
    // Index entry; python marker; found-set record; current.inputs (is setup in place?).
    ("openat", 4),
    // One read each for the three files found.
    ("read", 3),
    ("close", 3),
    // Who owns the cache, asked once.
    ("geteuid", 1),
    // std's exec restores SIGPIPE.
    ("rt_sigaction", 1),
];

#[test]
fn a_warm_run_stays_within_its_system_call_budget() {
    let counts = warm_counts();
    let mut over = Vec::new();
    for (kind, n) in &counts {
        let allowed = BUDGET
            .iter()
            .find(|(k, _)| k == kind)
            .map_or(0, |(_, n)| *n);
        if *n > allowed {
            over.push(format!("{kind}: {n} (budget {allowed})"));
        }
    }
    assert!(
        over.is_empty(),
        "a warm `trustrun true` makes more system calls than its budget: {}; all: {counts:?}",
        over.join(", ")
    );
}

/// The system calls of a warm `trustrun true` after Rust's start-up, by kind.
fn warm_counts() -> BTreeMap<String, usize> {
    let strace = Command::new("strace").arg("-V").output();
    assert!(
        strace.is_ok_and(|o| o.status.success()),
        "strace is needed (apt-get install strace; .ci/run installs it)"
    );
    let tmp = tempfile::tempdir().unwrap();
    let (home, cache, engines) = (
        tmp.path().join("home"),
        tmp.path().join("cache"),
        tmp.path().join("engines"),
    );
    fs::create_dir_all(&home).unwrap();
    fake_engine(&engines, "docker");
    let path = format!("{}:/usr/bin:/bin", engines.display());
    let run = |trace: Option<&Path>| {
        let mut cmd = match trace {
            Some(out) => {
                let mut c = Command::new("strace");
                c.args(["-f", "-qq", "-o"]).arg(out).arg(trustrun_bin());
                c
            }
            None => Command::new(trustrun_bin()),
        };
        cmd.env_clear();
        clean(&mut cmd, &cache)
            .env("PATH", &path)
            .env("HOME", &home)
            .arg("true");
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{}", output_text(&out));
    };
    // Cold, then warm once more: the budget is for a cache in use.
    run(None);
    run(None);
    let trace = tmp.path().join("trace");
    run(Some(&trace));
    count(&fs::read_to_string(&trace).unwrap())
}

/// Calls between Rust's start-up (std's SIGBUS handler, the last thing it installs) and the
/// `execve` of the program, by kind.
fn count(trace: &str) -> BTreeMap<String, usize> {
    let calls: Vec<&str> = trace
        .lines()
        .filter_map(|l| l.split_once(' ').map(|(_, call)| call.trim_start()))
        .collect();
    let start = calls
        .iter()
        .position(|c| c.starts_with("rt_sigaction(SIGBUS, {"))
        .expect("std's start-up in the trace");
    let end = calls
        .iter()
        .skip(1)
        .position(|c| c.starts_with("execve("))
        .map(|i| i + 1)
        .expect("the execve of the program");
    let mut counts = BTreeMap::new();
    // A debug build's std checks each descriptor it closes (`fcntl(fd, F_GETFD)`): not ours.
    let ours = calls[start + 1..end]
        .iter()
        .filter(|c| !(c.starts_with("fcntl(") && c.contains("F_GETFD")));
    for call in ours {
        let kind = call.split('(').next().unwrap_or(call).to_owned();
        *counts.entry(kind).or_insert(0) += 1;
    }
    counts
}

/// An executable named `name` in `dir` (made if needed), standing for an installed engine CLI.
fn fake_engine(dir: &Path, name: &str) {
    use std::os::unix::fs::PermissionsExt;
    fs::create_dir_all(dir).unwrap();
    let file = dir.join(name);
    fs::write(&file, "#!/bin/sh\nexit 0\n").unwrap();
    fs::set_permissions(&file, fs::Permissions::from_mode(0o755)).unwrap();
}

/// The found set is recorded, and follows PATH: an engine installed or removed after the first
/// run gets or loses its shim on the next, and an engine that is not there never has one.
#[test]
fn engine_shims_follow_what_path_holds() {
    let tmp = tempfile::tempdir().unwrap();
    let (cache, engines) = (tmp.path().join("cache"), tmp.path().join("engines"));
    fake_engine(&engines, "docker");
    // Only our directory and the shell's: no real engine CLI of this machine gets in.
    let sh_dir = tmp.path().join("sh");
    fs::create_dir_all(&sh_dir).unwrap();
    std::os::unix::fs::symlink("/bin/sh", sh_dir.join("sh")).unwrap();
    let path = format!("{}:{}", engines.display(), sh_dir.display());
    let found = |name: &str| -> Option<String> {
        let mut cmd = Command::new(trustrun_bin());
        clean(&mut cmd, &cache).env("PATH", &path).args([
            "sh",
            "-c",
            &format!("command -v {name}"),
        ]);
        let out = cmd.output().unwrap();
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
    };
    let in_shims = |p: &Option<String>| {
        p.as_deref()
            .is_some_and(|p| p.starts_with(cache.join("containers").to_str().unwrap()))
    };
    // Twice each: the second answer comes from the record.
    for _ in 0..2 {
        assert!(in_shims(&found("docker")), "docker is shimmed");
        assert_eq!(found("podman"), None, "no shim for an absent podman");
    }
    fake_engine(&engines, "podman");
    for _ in 0..2 {
        assert!(in_shims(&found("podman")), "podman installed: shimmed");
        assert!(in_shims(&found("docker")));
    }
    fs::remove_file(engines.join("docker")).unwrap();
    for _ in 0..2 {
        assert_eq!(found("docker"), None, "docker removed: no shim left");
        assert!(in_shims(&found("podman")));
    }
}

/// The bundle's companions are covered by its index entry's stamps: a Java store deleted or
/// edited by hand is noticed on the next warm run and written again (a JVM must never be handed
/// a missing or damaged store).
#[test]
fn a_java_store_deleted_or_edited_by_hand_is_written_again() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let run = || {
        let mut cmd = Command::new(trustrun_bin());
        clean(&mut cmd, &cache).arg("true");
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{}", output_text(&out));
    };
    run();
    let store = fs::read_dir(cache.join("bundles"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "p12"))
        .expect("a Java store beside the bundle");
    let written = fs::read(&store).unwrap();
    fs::remove_file(&store).unwrap();
    run();
    assert_eq!(
        fs::read(&store).ok(),
        Some(written.clone()),
        "deleted: written again"
    );
    fs::write(&store, vec![0u8; written.len()]).unwrap();
    run();
    assert_eq!(fs::read(&store).unwrap(), written, "edited: written again");
}
