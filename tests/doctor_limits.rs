//! doctor's own limits: it obeys --timeout overall, even with a Python on PATH that hangs and
//! leaves children holding its output; and a chain longer than its verifier follows is reported
//! as one doctor cannot judge, not as untrusted, while Python verifies it.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common::*;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};

#[test]
fn doctor_obeys_its_timeout_with_a_hanging_python_on_path() {
    let tmp = tempfile::tempdir().unwrap();
    let bin = tmp.path().join("bin");
    fs::create_dir(&bin).unwrap();
    // Hangs, and leaves a child holding stdout open after it is killed.
    for name in ["python", "python3"] {
        let fake = bin.join(name);
        fs::write(&fake, "#!/bin/sh\nsleep 300 &\nsleep 300\n").unwrap();
        fs::set_permissions(&fake, fs::Permissions::from_mode(0o755)).unwrap();
    }
    let path =
        std::env::join_paths([bin, PathBuf::from("/usr/bin"), PathBuf::from("/bin")]).unwrap();
    let mut cmd = Command::new(trustrun_bin());
    clean(&mut cmd, &tmp.path().join("cache"))
        .env("PATH", path)
        .args(["doctor", "--json", "--timeout", "2"]);
    let start = Instant::now();
    let out = cmd.output().unwrap();
    let took = start.elapsed();
    // 2 s for the Pythons, the rest for the local analysis of a debug build on a busy machine.
    assert!(
        took < Duration::from_secs(8),
        "took {took:?}: {}",
        output_text(&out)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", output_text(&out)));
    let pythons = doc["pythons"].as_array().unwrap();
    assert_eq!(pythons.len(), 2, "{pythons:?}");
    for p in pythons {
        let error = p["error"].as_str().unwrap_or_default();
        assert!(error.contains("--timeout"), "{p}");
    }
}

/// A root, `depth` intermediates in a row, and a leaf for 127.0.0.1, served whole.
fn long_chain(depth: usize) -> (tempfile::TempDir, PathBuf, Arc<rustls::ServerConfig>) {
    let ca = |cn: String| {
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.distinguished_name.push(DnType::CommonName, cn);
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        p.use_authority_key_identifier_extension = true;
        p
    };
    let root = CertifiedIssuer::self_signed(
        ca("Trustrun Test Deep Root".into()),
        KeyPair::generate().unwrap(),
    )
    .unwrap();
    let mut issuers = vec![root];
    for i in 1..=depth {
        let next = CertifiedIssuer::signed_by(
            ca(format!("Trustrun Test Intermediate {i}")),
            KeyPair::generate().unwrap(),
            issuers.last().unwrap(),
        )
        .unwrap();
        issuers.push(next);
    }
    let leaf_key = KeyPair::generate().unwrap();
    let mut leaf =
        CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).unwrap();
    leaf.use_authority_key_identifier_extension = true;
    leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    leaf.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    let leaf = leaf.signed_by(&leaf_key, issuers.last().unwrap()).unwrap();
    let mut chain = vec![leaf.der().clone()];
    chain.extend(issuers[1..].iter().rev().map(|i| i.der().clone()));
    let dir = tempfile::tempdir().unwrap();
    let root_pem = dir.path().join("deep-root.pem");
    fs::write(&root_pem, issuers[0].pem()).unwrap();
    (dir, root_pem, server_config(chain, &leaf_key))
}

#[test]
fn a_chain_deeper_than_doctors_verifier_is_not_called_untrusted() {
    let (_dir, root_pem, config) = long_chain(7);
    let server = Server::start(config);
    let cache = tempfile::tempdir().unwrap();
    // Python does verify it through trustrun, and fails without: the chain is fine.
    let client = |with_trustrun: bool| {
        let mut cmd = Command::new(if with_trustrun {
            trustrun_bin()
        } else {
            venv_python()
        });
        clean(&mut cmd, cache.path());
        if with_trustrun {
            cmd.arg("--ca").arg(&root_pem).arg(venv_python());
        }
        cmd.arg(client_script()).args(["requests", &server.url]);
        cmd.output().unwrap()
    };
    assert_certificate_failure(&client(false));
    assert_ok(&client(true), "200");

    let mut cmd = Command::new(trustrun_bin());
    clean(&mut cmd, cache.path())
        .args(["doctor", "-v", "--timeout", "5", "--ca"])
        .arg(&root_pem)
        .arg(format!("127.0.0.1:{}", server.port));
    let out = cmd.output().unwrap();
    let text = output_text(&out);
    assert!(!text.contains("MaximumPathDepthExceeded"), "{text}");
    assert!(text.contains("doctor cannot judge this chain"), "{text}");
    assert!(
        text.contains("trustrun's bundle:           cannot judge"),
        "{text}"
    );
}
