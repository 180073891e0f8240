//! The host's Docker engine (the one `.ci/run` starts; tests/containers.rs and
//! tests/containers_java.rs use it): its CLI with the engine-selecting variables removed, and
//! small test images made from this machine's own files, since no registry is reachable.

use std::fs;
use std::process::Command;

use super::{output_text, run_ok_stdout};

/// The `docker` CLI talking to the host's default engine, whatever the environment selects.
pub fn docker() -> Command {
    let mut cmd = Command::new("docker");
    cmd.env_remove("DOCKER_HOST").env_remove("DOCKER_CONTEXT");
    cmd
}

/// An image holding `programs`, the libraries `ldd` says they load, and `files`, made with
/// `docker import` from this machine's own copies. The tag is `NAME:<digest>` of what went in
/// (paths, sizes, times), so reruns reuse it. Each of `variants` is a further image of the same
/// files, tagged `VARIANT_NAME:<digest>` and imported with its `docker import` options (an
/// `--change 'ENV ...'`). Returns the digest.
pub fn imported_image(
    name: &str,
    programs: &[&str],
    files: &[&str],
    variants: &[(&str, &str)],
) -> String {
    let info = docker().arg("info").output().expect("docker CLI");
    assert!(
        info.status.success(),
        "no Docker engine answers (start dockerd; .ci/run does):\n{}",
        output_text(&info)
    );
    let ldd = run_ok_stdout(Command::new("ldd").args(programs));
    let mut list: Vec<String> = programs.iter().map(|f| f.to_string()).collect();
    for word in ldd.split_whitespace() {
        if word.starts_with('/') && !word.ends_with(':') && !list.contains(&word.to_owned()) {
            list.push(word.to_owned());
        }
    }
    list.extend(files.iter().map(|f| f.to_string()));
    let mut stamp = String::new();
    for f in &list {
        let m = fs::metadata(f).unwrap();
        stamp.push_str(&format!("{f} {} {:?}\n", m.len(), m.modified().unwrap()));
    }
    let digest = trustrun::digest::sha256_hex(stamp.as_bytes())[..12].to_owned();
    let relative: Vec<&str> = list.iter().map(|f| f.trim_start_matches('/')).collect();
    for (tag_name, options) in [(name, "")].into_iter().chain(variants.iter().copied()) {
        let tag = format!("{tag_name}:{digest}");
        if docker()
            .args(["image", "inspect", &tag])
            .output()
            .unwrap()
            .status
            .success()
        {
            continue;
        }
        let script = format!(
            "tar -chf - -C / {} | docker import {options} - {tag}",
            relative.join(" ")
        );
        run_ok_stdout(Command::new("sh").args(["-c", &script]));
    }
    digest
}
