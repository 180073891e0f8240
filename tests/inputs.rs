//! Trust inputs as users have them, and as an attacker or an unlucky user gives them: a named CA
//! file is used whole or refused with its name; an inherited one that is broken is skipped with a
//! warning; certificate directories are read the way OpenSSL reads them; nothing blocks or reads
//! without bound; a CA path with the path-list separator in it; what the config may name.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;

/// Asserts trustrun refused with exit 2 and one line containing every `needle`, without running
/// the program (`true` would exit 0).
fn assert_refused(out: &Output, needles: &[&str]) -> String {
    assert_eq!(out.status.code(), Some(2), "{}", output_text(out));
    let line = one_line_stderr(out);
    for n in needles {
        assert!(line.contains(n), "expected {n:?} in: {line}");
    }
    line
}

/// `trustrun ARGS` run with a deadline: a trustrun that blocks is killed and the test fails.
fn run_with_deadline(mut cmd: Command, seconds: u64) -> Output {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if start.elapsed() > Duration::from_secs(seconds) {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!("trustrun blocked for {seconds} s:\n{}", output_text(&out));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn pem_text(world: &World) -> String {
    fs::read_to_string(&world.pki.root_pem).unwrap()
}

fn openssl(args: &[&str]) -> Output {
    let out = Command::new("openssl")
        .args(args)
        .output()
        .expect("the openssl command line tool (CI installs it)");
    assert!(
        out.status.success(),
        "openssl {args:?}:\n{}",
        output_text(&out)
    );
    out
}

/// OpenSSL's subject hash of a certificate, the name `c_rehash` gives it (`<hash>.0`).
fn subject_hash(pem: &Path) -> String {
    let out = openssl(&[
        "x509",
        "-noout",
        "-subject_hash",
        "-in",
        pem.to_str().unwrap(),
    ]);
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

// ---- a named CA file is used whole or refused; BOM; inherited broken files ----------------------

#[test]
fn a_pem_with_a_utf8_bom_is_trusted() {
    let world = World::new();
    let bom = world.cache.path().join("notepad.pem");
    fs::write(&bom, format!("\u{feff}{}", pem_text(&world))).unwrap();
    // Python itself loads it (the BOM is not what makes the control fail).
    assert_ok(
        &world.alone("urllib").env("SSL_CERT_FILE", &bom).output(),
        "200",
    );
    assert_certificate_failure(&world.control("requests"));
    assert_ok(&world.client("requests").ca(&bom).output(), "200");
}

#[test]
fn a_truncated_last_block_refuses_the_named_file_whole() {
    let world = World::new();
    let root = pem_text(&world);
    let other = Pki::corporate();
    let other_text = fs::read_to_string(&other.root_pem).unwrap();
    let cut = world.cache.path().join("cut.pem");
    // Our root whole, then another certificate cut off in the middle, as a failed copy leaves it.
    fs::write(
        &cut,
        format!("{root}{}", &other_text[..other_text.len() / 2]),
    )
    .unwrap();
    // Python refuses the whole file too.
    let python = world.alone("urllib").env("SSL_CERT_FILE", &cut).output();
    assert_ne!(python.status.code(), Some(0), "{}", output_text(&python));

    let shown = cut.display().to_string();
    let out = world.trustrun_ca(&cut);
    assert_refused(&out, &[&shown, "cut off"]);
    let out = world.trustrun_var("TRUSTRUN_CA", &cut);
    assert_refused(&out, &[&shown]);
}

#[test]
fn a_broken_inherited_file_is_skipped_with_a_warning_naming_it() {
    let world = World::new();
    let root = pem_text(&world);
    let cut = world.cache.path().join("inherited-cut.pem");
    fs::write(&cut, format!("{root}{}", &root[..root.len() / 2])).unwrap();
    let out = world
        .client("requests")
        .env("REQUESTS_CA_BUNDLE", &cut)
        .output();
    // Skipped whole: the root in its first half is not trusted, and the program still ran.
    assert_certificate_failure(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let warning: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("trustrun: warning:"))
        .collect();
    assert_eq!(warning.len(), 1, "{}", output_text(&out));
    assert!(
        warning[0].contains("REQUESTS_CA_BUNDLE") && warning[0].contains(&*cut.to_string_lossy()),
        "{}",
        warning[0]
    );
}

// ---- PKCS#7, PKCS#12 and private keys get the command that converts them ------------------------

/// The command between backticks in trustrun's error line.
fn suggested_command(line: &str) -> String {
    let start = line.find('`').expect("a command in backticks") + 1;
    let end = start + line[start..].find('`').unwrap();
    line[start..end].to_owned()
}

/// trustrun refused `file` with a line naming it and `words`; the command in that line (with
/// `extra` appended), run as given, writes `<file>.pem`, which is returned.
fn refused_then_converted(out: &Output, file: &Path, words: &[&str], extra: &str) -> PathBuf {
    let shown = file.display().to_string();
    let mut needles = vec![shown.as_str()];
    needles.extend(words);
    let command = suggested_command(&assert_refused(out, &needles)) + extra;
    let ran = Command::new("sh").arg("-c").arg(&command).output().unwrap();
    assert!(ran.status.success(), "{command}:\n{}", output_text(&ran));
    let converted = file.with_extension("pem");
    let wrote = converted.is_file();
    assert!(wrote, "{command} wrote no {}", converted.display());
    converted
}

#[test]
fn pkcs7_files_get_the_command_that_converts_them_and_it_works() {
    let world = World::new();
    let root = world.pki.root_pem.to_str().unwrap().to_owned();
    for (name, form) in [("chain.p7b", "PEM"), ("chain-der.p7c", "DER")] {
        let p7 = world.cache.path().join(name);
        openssl(&[
            "crl2pkcs7",
            "-nocrl",
            "-certfile",
            &root,
            "-outform",
            form,
            "-out",
            p7.to_str().unwrap(),
        ]);
        let out = world.trustrun_ca(&p7);
        // The command it names, run as given, makes a file trustrun takes and the client trusts.
        let converted = refused_then_converted(&out, &p7, &["PKCS#7", "openssl pkcs7"], "");
        assert_certificate_failure(&world.control("requests"));
        assert_ok(&world.client("requests").ca(&converted).output(), "200");
    }
}

#[test]
fn pkcs12_and_private_keys_are_named_for_what_they_are() {
    let world = World::new();
    let dir = world.cache.path();
    let key = dir.join("corp.key");
    let cert = dir.join("corp-cert.pem");
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=Trustrun Test PKCS12",
        "-days",
        "2",
        "-keyout",
        key.to_str().unwrap(),
        "-out",
        cert.to_str().unwrap(),
    ]);
    let p12 = dir.join("corp.pfx");
    openssl(&[
        "pkcs12",
        "-export",
        "-in",
        cert.to_str().unwrap(),
        "-inkey",
        key.to_str().unwrap(),
        "-passout",
        "pass:",
        "-out",
        p12.to_str().unwrap(),
    ]);
    let out = world.trustrun_ca(&p12);
    let converted =
        refused_then_converted(&out, &p12, &["PKCS#12", "openssl pkcs12"], " -passin pass:");
    let ok = world.trustrun_ca(&converted);
    assert_eq!(ok.status.code(), Some(0), "{}", output_text(&ok));

    let out = world.trustrun_ca(&key);
    assert_refused(&out, &[&key.display().to_string(), "private key"]);
}

// ---- bounded reads, nothing that blocks ---------------------------------------------------------

fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(status.success());
}

#[test]
fn devices_fifos_and_huge_files_are_refused_without_blocking() {
    let world = World::new();
    let fifo = world.cache.path().join("fifo.pem");
    mkfifo(&fifo);
    let huge = world.cache.path().join("huge.pem");
    let mut big = pem_text(&world);
    while big.len() < 40 << 20 {
        big.push_str(&big.clone());
    }
    fs::write(&huge, big).unwrap();
    for (path, needle) in [
        (Path::new("/dev/zero"), "not a regular file"),
        (fifo.as_path(), "not a regular file"),
        (huge.as_path(), "larger than"),
    ] {
        let mut cmd = world.trustrun();
        cmd.arg("--ca").arg(path).arg("true");
        let out = run_with_deadline(cmd, 20);
        assert_refused(&out, &[&path.display().to_string(), needle]);

        let mut cmd = world.trustrun();
        cmd.env("TRUSTRUN_CONFIG", path).arg("true");
        let out = run_with_deadline(cmd, 20);
        let needle = if path == huge { "larger than" } else { needle };
        assert_refused(&out, &[&path.display().to_string(), "config", needle]);
    }
}

// ---- the path-list separator in a CA path -------------------------------------------------------

#[test]
fn a_named_ca_path_with_a_colon_is_a_usage_error_naming_it() {
    let world = World::new();
    let odd = world.cache.path().join("corp:root.pem");
    fs::copy(&world.pki.root_pem, &odd).unwrap();
    let out = world.trustrun_ca(&odd);
    assert_refused(&out, &[&odd.display().to_string(), "':'"]);
}

#[test]
fn an_inherited_ca_path_with_a_colon_is_trusted_and_reaches_nested_runs() {
    let world = World::new();
    let dir = world.cache.path().join("a:b");
    fs::create_dir(&dir).unwrap();
    let odd = dir.join("corp.pem");
    fs::copy(&world.pki.root_pem, &odd).unwrap();
    // requests ignores SSL_CERT_FILE: alone it fails, with trustrun it trusts what the file holds.
    assert_certificate_failure(&world.alone("requests").env("SSL_CERT_FILE", &odd).output());
    let out = world.client("requests").env("SSL_CERT_FILE", &odd).output();
    assert_ok(&out, "200");
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("warning"),
        "{}",
        output_text(&out)
    );
    // A trustrun inside it (a shim, say) has only TRUSTRUN_INHERITED_CA to find the file by.
    let nested_cache = world.cache.path().join("nested");
    let mut cmd = world.trustrun();
    cmd.env("SSL_CERT_FILE", &odd)
        .arg(trustrun_bin())
        .arg("-v")
        .arg(venv_python())
        .arg(client_script())
        .args(["requests", &world.server.url]);
    let out = cmd
        .env("TRUSTRUN_CACHE_DIR", &nested_cache)
        .output()
        .unwrap();
    assert_ok(&out, "200");
}

// ---- extra variables that already mean something; the config's CA paths -------------------------

fn config_file(world: &World, text: &str) -> PathBuf {
    let path = world.cache.path().join("config.toml");
    fs::write(&path, text).unwrap();
    path
}

#[test]
fn extra_variables_that_already_mean_something_are_refused() {
    let world = World::new();
    for name in [
        "PATH",
        "HOME",
        "LD_PRELOAD",
        "DYLD_INSERT_LIBRARIES",
        "PYTHONPATH",
        "TRUSTRUN_DEPTH",
        "SSL_CERT_FILE",
        "LD_LIBRARY_PATH",
    ] {
        let config = config_file(&world, &format!("\nextra_variables = [\"{name}\"]\n"));
        let out = world.trustrun_var("TRUSTRUN_CONFIG", &config);
        assert_refused(
            &out,
            &[
                &format!("config {}:2", config.display()),
                "extra_variables",
                name,
            ],
        );
    }
    // A name of a tool's own still works.
    let config = config_file(&world, "extra_variables = [\"MY_TOOL_CA_BUNDLE\"]\n");
    let out = world
        .trustrun()
        .env("TRUSTRUN_CONFIG", &config)
        .args(["sh", "-c", "test -s \"$MY_TOOL_CA_BUNDLE\""])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
}

#[test]
fn a_single_ca_string_with_a_tilde_is_read_from_home() {
    let world = World::new();
    let home = world.cache.path().join("home");
    fs::create_dir(&home).unwrap();
    fs::copy(&world.pki.root_pem, home.join("corp.pem")).unwrap();
    let config = config_file(&world, "ca = \"~/corp.pem\"\n");
    assert_certificate_failure(&world.control("requests"));
    let out = world
        .client("requests")
        .env("HOME", &home)
        .env("TRUSTRUN_CONFIG", &config)
        .output();
    assert_ok(&out, "200");
}

#[test]
fn a_missing_ca_file_named_in_the_config_names_the_config_and_key() {
    let world = World::new();
    let config = config_file(&world, "strict = false\nca = [\"gone.pem\"]\n");
    let out = world.trustrun_var("TRUSTRUN_CONFIG", &config);
    let gone = world.cache.path().join("gone.pem");
    assert_refused(
        &out,
        &[
            &format!("config {}:2", config.display()),
            "key `ca`",
            &gone.display().to_string(),
            "no such file",
        ],
    );
}

// ---- certificate directories as OpenSSL reads them ----------------------------------------------

#[test]
fn ssl_cert_dir_counts_only_hash_named_files_as_openssl_does() {
    let world = World::new();
    let plain = world.cache.path().join("plain-dir");
    fs::create_dir(&plain).unwrap();
    fs::copy(&world.pki.root_pem, plain.join("corp.pem")).unwrap();
    // OpenSSL itself (urllib) does not find a certificate that was not rehashed...
    assert_certificate_failure(&world.alone("urllib").env("SSL_CERT_DIR", &plain).output());
    // ...so trustrun does not trust it either.
    let mut cmd = world.trustrun();
    cmd.env("SSL_CERT_DIR", &plain)
        .arg(venv_python())
        .arg(client_script())
        .args(["requests", &world.server.url]);
    assert_certificate_failure(&cmd.output().unwrap());

    // Named `<hash>.0`, OpenSSL finds it, and so does trustrun for every client.
    let hashed = world.cache.path().join("hashed-dir");
    fs::create_dir(&hashed).unwrap();
    let name = format!("{}.0", subject_hash(&world.pki.root_pem));
    fs::copy(&world.pki.root_pem, hashed.join(&name)).unwrap();
    assert_ok(
        &world.alone("urllib").env("SSL_CERT_DIR", &hashed).output(),
        "200",
    );
    assert_certificate_failure(
        &world
            .alone("requests")
            .env("SSL_CERT_DIR", &hashed)
            .output(),
    );
    let mut cmd = world.trustrun();
    cmd.env("SSL_CERT_DIR", &hashed)
        .arg(venv_python())
        .arg(client_script())
        .args(["requests", &world.server.url]);
    assert_ok(&cmd.output().unwrap(), "200");

    // A directory named with --ca is read whole, as documented.
    assert_ok(&world.client("requests").ca(&plain).output(), "200");
}

// ---- the warm path sees a file edited in place in a directory the user named --------------------

#[test]
fn a_certificate_edited_in_place_in_ssl_cert_dir_is_noticed() {
    let world = World::new();
    let dir = world.cache.path().join("certdir");
    fs::create_dir(&dir).unwrap();
    let entry = dir.join(format!("{}.0", subject_hash(&world.pki.root_pem)));
    fs::copy(&world.pki.root_pem, &entry).unwrap();
    let run = || {
        let mut cmd = world.trustrun();
        cmd.env("SSL_CERT_DIR", &dir)
            .arg(venv_python())
            .arg(client_script())
            .args(["requests", &world.server.url]);
        cmd.output().unwrap()
    };
    assert_ok(&run(), "200");
    // Rewritten in place (same inode, the directory's mtime unchanged) with another root.
    let dir_mtime = fs::metadata(&dir).unwrap().modified().unwrap();
    let other = Pki::corporate();
    fs::write(&entry, fs::read(&other.root_pem).unwrap()).unwrap();
    assert_eq!(fs::metadata(&dir).unwrap().modified().unwrap(), dir_mtime);
    assert_certificate_failure(&run());
}
