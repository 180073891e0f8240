//! The test virtualenv's installer (`common::venv_pip_install`, which `common::venv()` uses)
//! goes through trustrun: against an intercepted package index of our own (the test HTTPS server,
//! its chain ending in the test corporate root, serving a PEP 503 simple index with one wheel
//! built here), a fresh venv's plain pip fails on the certificate and the installer succeeds.

use std::process::Command;

use base64::Engine;
use sha2::{Digest, Sha256};

use crate::common::*;

pub(crate) const PROJECT: &str = "trustrun-probe";
pub(crate) const WHEEL: &str = "trustrun_probe-0.1-py3-none-any.whl";

/// pip with none of this machine's index settings: no /etc/pip.conf, no find-links, no index
/// but ours, no cache that could answer for the network, and no retries to wait through.
fn isolate_pip(cmd: &mut Command, index: &str) {
    for name in [
        "PIP_FIND_LINKS",
        "PIP_INDEX_URL",
        "PIP_EXTRA_INDEX_URL",
        "PIP_NO_INDEX",
        "PIP_TRUSTED_HOST",
    ] {
        cmd.env_remove(name);
    }
    cmd.env("PIP_CONFIG_FILE", "/dev/null")
        .env("PIP_INDEX_URL", index)
        .env("PIP_NO_CACHE_DIR", "1")
        .env("PIP_RETRIES", "0")
        .env("PIP_TIMEOUT", "20");
}

#[test]
fn test_venv_installer_goes_through_trustrun_to_an_intercepted_index() {
    let pki = Pki::corporate();
    let wheel = probe_wheel();
    let wheel_hash = hex(&Sha256::digest(&wheel));
    let mut routes = Routes::new();
    routes.insert(
        "/simple/".into(),
        (
            "text/html",
            format!("<!DOCTYPE html><html><body><a href=\"/simple/{PROJECT}/\">{PROJECT}</a></body></html>")
                .into_bytes(),
        ),
    );
    routes.insert(
        format!("/simple/{PROJECT}/"),
        (
            "text/html",
            format!(
                "<!DOCTYPE html><html><body><a href=\"/files/{WHEEL}#sha256={wheel_hash}\">{WHEEL}</a></body></html>"
            )
            .into_bytes(),
        ),
    );
    routes.insert(
        format!("/files/{WHEEL}"),
        ("application/octet-stream", wheel),
    );
    let server = Server::start_with_routes(pki.server_config.clone(), routes);
    let index = format!("{}/simple/", server.url);

    let home = tempfile::tempdir().unwrap();
    let venv_dir = home.path().join("fresh-venv");
    create_venv(&venv_dir);
    let cache = home.path().join("cache");

    // Control: the same pip alone fails on the certificate.
    let mut control = Command::new(venv_dir.join("bin/python"));
    control.args([
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        PROJECT,
    ]);
    clean(&mut control, &cache);
    isolate_pip(&mut control, &index);
    let out = control.output().unwrap();
    let text = output_text(&out);
    assert_ne!(out.status.code(), Some(0), "plain pip installed:\n{text}");
    assert!(
        text.contains("CERTIFICATE_VERIFY_FAILED"),
        "plain pip should fail on the certificate:\n{text}"
    );
    assert!(!imports_probe(&venv_dir), "the control installed the wheel");

    // The installer the test venv is built with, the corporate root given as a user would.
    let mut install = venv_pip_install(&venv_dir);
    clean(&mut install, &cache);
    isolate_pip(&mut install, &index);
    install.env("TRUSTRUN_CA", &pki.root_pem).arg(PROJECT);
    let out = install.output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "install through trustrun:\n{}",
        output_text(&out)
    );
    assert!(imports_probe(&venv_dir), "the wheel is not importable");
}

/// Whether the venv's Python imports the probe package and reads its marker.
fn imports_probe(venv: &std::path::Path) -> bool {
    let out = Command::new(venv.join("bin/python"))
        .args(["-c", "import trustrun_probe; print(trustrun_probe.MARK)"])
        .output()
        .unwrap();
    out.status.success()
        && String::from_utf8_lossy(&out.stdout).trim() == "installed-from-test-index"
}

/// A minimal pure-Python wheel: one module and its dist-info (METADATA, WHEEL, RECORD).
pub(crate) fn probe_wheel() -> Vec<u8> {
    let dist_info = "trustrun_probe-0.1.dist-info";
    let mut files: Vec<(String, Vec<u8>)> = vec![
        (
            "trustrun_probe.py".into(),
            b"MARK = \"installed-from-test-index\"\n".to_vec(),
        ),
        (
            format!("{dist_info}/METADATA"),
            format!("Metadata-Version: 2.1\nName: {PROJECT}\nVersion: 0.1\n").into_bytes(),
        ),
        (
            format!("{dist_info}/WHEEL"),
            b"Wheel-Version: 1.0\nGenerator: trustrun-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
                .to_vec(),
        ),
    ];
    let mut record = String::new();
    for (name, data) in &files {
        let digest = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(data));
        record.push_str(&format!("{name},sha256={digest},{}\n", data.len()));
    }
    record.push_str(&format!("{dist_info}/RECORD,,\n"));
    files.push((format!("{dist_info}/RECORD"), record.into_bytes()));
    stored_zip(&files)
}

/// A zip archive with its entries stored uncompressed: all a wheel needs.
fn stored_zip(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    // 1980-01-01 00:00, the earliest date a zip can hold.
    const DOS_DATE: u16 = (1 << 5) | 1;
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data) in files {
        let offset = out.len() as u32;
        let crc = crc32(data);
        let size = data.len() as u32;
        out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        for v in [20u16, 0, 0, 0, DOS_DATE] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        for v in [crc, size, size] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(&(name.len() as u16).to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(data);

        central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        for v in [(3u16 << 8) | 20, 20, 0, 0, 0, DOS_DATE] {
            central.extend_from_slice(&v.to_le_bytes());
        }
        for v in [crc, size, size] {
            central.extend_from_slice(&v.to_le_bytes());
        }
        for v in [name.len() as u16, 0, 0, 0, 0] {
            central.extend_from_slice(&v.to_le_bytes());
        }
        // External attributes: a regular file, rw-r--r--.
        central.extend_from_slice(&(0o100644u32 << 16).to_le_bytes());
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name.as_bytes());
    }
    let central_offset = out.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    let count = files.len() as u16;
    for v in [0u16, 0, count, count] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&central_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

/// CRC-32 (IEEE), bit by bit: a few hundred bytes, speed does not matter.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn crc32_matches_the_standard_check_value() {
    assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
}
