//! doctor's "Runtimes that ignore the OS store" (issue 22): java, node, bun and deno found on PATH,
//! and for each whether trustrun covers it. doctor only looks them up on PATH (it never starts
//! them), so stand-in files named like them are what it sees.

use std::fs;
use std::path::Path;
use std::process::Output;

use crate::common::*;

fn doctor(world: &World, path: &Path, extra: &[(&str, &str)], args: &[&str]) -> Output {
    let mut cmd = world.trustrun();
    cmd.env("PATH", path).env_remove("JAVA_TOOL_OPTIONS");
    for (k, v) in extra {
        cmd.env(k, v);
    }
    let out = cmd.arg("doctor").args(args).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
    out
}

/// The part's words (lines are wrapped), up to the next blank line.
fn part(out: &Output) -> String {
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let rest = text
        .split("\nRuntimes that ignore the OS store\n")
        .nth(1)
        .unwrap_or_else(|| panic!("no Runtimes part:\n{text}"));
    let part = rest.split("\n\n").next().unwrap();
    part.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(unix)]
fn stand_ins(dir: &Path, names: &[&str]) {
    use std::os::unix::fs::PermissionsExt;
    for name in names {
        let file = dir.join(name);
        fs::write(&file, "#!/bin/sh\nexit 1\n").unwrap();
        fs::set_permissions(&file, fs::Permissions::from_mode(0o755)).unwrap();
    }
}

#[cfg(unix)]
#[test]
fn doctor_names_the_runtimes_that_ignore_the_os_store_and_says_how_each_is_covered() {
    let world = World::new();
    let bin = tempfile::tempdir().unwrap();
    // Nothing on PATH: the part says so, on one line.
    let none = part(&doctor(&world, bin.path(), &[], &[]));
    assert_eq!(none.trim(), "none on PATH (java, node, bun, deno)");
    stand_ins(bin.path(), &["java", "node", "deno", "bun", "go"]);
    let out = doctor(&world, bin.path(), &[], &[]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let lines: Vec<&str> = text.lines().collect();
    let at = lines
        .iter()
        .position(|l| *l == "Runtimes that ignore the OS store")
        .unwrap();
    assert!(lines[at + 2].is_empty(), "one line by default:\n{text}");
    let covered = part(&out);
    assert!(
        covered.contains("java, node, bun, deno: covered by trustrun"),
        "{covered}"
    );
    assert!(!covered.contains(" go"), "Go reads the OS store: {covered}");
    // -v: each with its path and the variable.
    let verbose = part(&doctor(&world, bin.path(), &[], &["-v"]));
    let java = bin.path().join("java");
    assert!(
        verbose.contains(&format!("java ({})", java.display()))
            && verbose.contains("JAVA_TOOL_OPTIONS names a PKCS#12 copy of the bundle")
            && verbose.contains("DENO_CERT")
            && verbose.contains("NODE_EXTRA_CA_CERTS"),
        "{verbose}"
    );
    // What the run would not do is said: leave_alone, and a trust store of the user's own.
    let config = world.cache.path().join("config.toml");
    fs::write(
        &config,
        "leave_alone = [\"JAVA_TOOL_OPTIONS\", \"DENO_CERT\"]\n",
    )
    .unwrap();
    let config = config.to_str().unwrap();
    let left = part(&doctor(
        &world,
        bin.path(),
        &[("TRUSTRUN_CONFIG", config)],
        &[],
    ));
    assert!(
        left.contains("node, bun: covered by trustrun")
            && left.contains("java: NOT covered (JAVA_TOOL_OPTIONS is in leave_alone)")
            && left.contains("deno: NOT covered (DENO_CERT is in leave_alone)"),
        "{left}"
    );
    let theirs = part(&doctor(
        &world,
        bin.path(),
        &[(
            "JAVA_TOOL_OPTIONS",
            "-Djavax.net.ssl.trustStore=/etc/corp.jks",
        )],
        &[],
    ));
    assert!(
        theirs.contains(
            "java: NOT covered (your JAVA_TOOL_OPTIONS chooses a javax.net.ssl.trustStore"
        ),
        "{theirs}"
    );
    // --json carries the same.
    let json = doctor(&world, bin.path(), &[], &["--json"]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let names: Vec<&str> = v["runtimes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["java", "node", "bun", "deno"]);
    assert_eq!(v["runtimes"][0]["covered"], true);
}
