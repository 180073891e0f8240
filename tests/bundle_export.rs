//! `trustrun bundle --output FILE` writes a file to hand out (0644) while the cache stays
//! private, and `--corporate-only` exports just the corporate roots, enough for a client to
//! reach the intercepted test server and nothing of Mozilla's set.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::common::*;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn pem_count(path: &Path) -> usize {
    std::fs::read_to_string(path)
        .unwrap()
        .matches("-----BEGIN CERTIFICATE-----")
        .count()
}

#[test]
fn output_is_world_readable_and_the_cache_stays_private() {
    let world = World::new();
    let out_file = world.cache.path().join("handed-out.pem");
    let out = world
        .trustrun()
        .args(["bundle", "--output"])
        .arg(&out_file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
    assert_eq!(mode(&out_file), 0o644);
    let cached = world.trustrun().arg("bundle").output().unwrap();
    let cached = String::from_utf8(cached.stdout).unwrap();
    assert_eq!(
        mode(Path::new(cached.trim())),
        0o600,
        "the cache copy stays private"
    );
    assert_eq!(
        std::fs::read(&out_file).unwrap(),
        std::fs::read(cached.trim()).unwrap()
    );
}

#[test]
fn corporate_only_exports_the_corporate_roots_and_nothing_public() {
    let world = World::new();
    let out_file = world.cache.path().join("corporate.pem");
    let out = world
        .trustrun()
        .args(["bundle", "--corporate-only", "--ca"])
        .arg(&world.pki.root_pem)
        .arg("--output")
        .arg(&out_file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
    assert_eq!(mode(&out_file), 0o644);
    let exported = std::fs::read_to_string(&out_file).unwrap();
    let root = std::fs::read_to_string(&world.pki.root_pem).unwrap();
    assert!(exported.contains(root.trim()), "the test root is exported");

    // As many as doctor counts as corporate: none of Mozilla's roots.
    let doctor = world
        .trustrun()
        .env("PATH", world.cache.path().join("no-such-dir"))
        .args(["doctor", "--json", "--ca"])
        .arg(&world.pki.root_pem)
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&doctor.stdout).unwrap();
    let corporate = doc["sources"]["corporate_roots"].as_array().unwrap().len();
    assert_eq!(pem_count(&out_file), corporate);
    let whole = world.trustrun().arg("bundle").output().unwrap();
    let whole = Path::new(std::str::from_utf8(&whole.stdout).unwrap().trim()).to_owned();
    assert!(
        pem_count(&out_file) < pem_count(&whole) / 4,
        "far fewer than the bundle"
    );

    // The exported file is what a client needs for the intercepted server; control first.
    assert_certificate_failure(&world.control("urllib"));
    let with_file = world.alone("urllib").env("SSL_CERT_FILE", &out_file);
    assert_ok(&with_file.output(), "200");
}

#[test]
fn corporate_only_to_stdout_is_pem() {
    let world = World::new();
    let out = world
        .trustrun()
        .args(["bundle", "--corporate-only", "--ca"])
        .arg(&world.pki.root_pem)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    let root = std::fs::read_to_string(&world.pki.root_pem).unwrap();
    assert!(text.contains(root.trim()), "{text}");
    assert!(text.starts_with("-----BEGIN CERTIFICATE-----"), "{text}");
}
