//! What trustrun does to a Python's start-up: the certifi redirect (also after a `.pth` imported
//! certifi), chaining to an existing sitecustomize, the user's PYTHONPATH, nesting, and many cold
//! starts at once.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::*;

/// A second, package-less virtualenv whose site-packages reaches the pinned clients through a
/// `.pth` that also imports certifi (as some tools' `.pth` files do), and has its own
/// sitecustomize that leaves a mark.
struct SecondVenv {
    _dir: tempfile::TempDir,
    python: PathBuf,
    site: PathBuf,
}

fn second_venv(import_certifi_in_pth: bool, sitecustomize: Option<&str>) -> SecondVenv {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("venv");
    let status = Command::new(venv_python())
        .args(["-m", "venv", "--without-pip"])
        .arg(&root)
        .status()
        .unwrap();
    assert!(status.success());
    let python = root.join("bin/python");
    let site = purelib(&python);
    let main_site = purelib(&venv_python());
    let mut pth = format!("{}\n", main_site.display());
    if import_certifi_in_pth {
        pth.push_str("import certifi\n");
    }
    fs::write(site.join("clients.pth"), pth).unwrap();
    if let Some(code) = sitecustomize {
        fs::write(site.join("sitecustomize.py"), code).unwrap();
    }
    SecondVenv {
        _dir: dir,
        python,
        site,
    }
}

/// `requests-certifi` in `python`: fails on the certificate alone (the control, asserted), and
/// is returned as run through `trustrun --ca root`.
fn control_then_trustrun(world: &World, python: &Path) -> std::process::Output {
    let client = |c: ClientRun<'_>| c.python(python).output();
    assert_certificate_failure(&client(world.alone("requests-certifi")));
    client(world.client("requests-certifi").with_root())
}

/// The site-packages directory of `python`.
fn purelib(python: &Path) -> PathBuf {
    let out = Command::new(python)
        .args([
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['purelib'])",
        ])
        .output()
        .unwrap();
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

#[test]
fn certifi_imported_by_a_pth_is_patched_in_place() {
    let world = World::new();
    let venv = second_venv(true, None);
    let out = control_then_trustrun(&world, &venv.python);
    assert_ok(&out, "200");
}

#[test]
fn an_existing_sitecustomize_still_runs() {
    let world = World::new();
    let venv = second_venv(
        false,
        Some(
            "import os, sys\nsys.stderr.write('venv sitecustomize ran\\n')\nos.environ['VENV_SITECUSTOMIZE'] = 'yes'\n",
        ),
    );
    let out = world
        .trustrun()
        .arg("--ca")
        .arg(&world.pki.root_pem)
        .arg(&venv.python)
        .args([
            "-c",
            "import os, sys, certifi, sitecustomize; \
             print(os.environ.get('VENV_SITECUSTOMIZE'), certifi.where() == os.environ['TRUSTRUN_BUNDLE'], sitecustomize.__file__)",
        ])
        .output()
        .unwrap();
    let text = output_text(&out);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("venv sitecustomize ran"), "{text}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let expected = format!("yes True {}", venv.site.join("sitecustomize.py").display());
    assert_eq!(stdout.trim(), expected, "{text}");
}

#[test]
fn a_failing_sitecustomize_is_reported_as_python_would_and_trust_still_holds() {
    let world = World::new();
    let venv = second_venv(false, Some("raise RuntimeError('broken on purpose')\n"));
    // Control: the same venv and client without trustrun fail on the certificate.
    let out = control_then_trustrun(&world, &venv.python);
    let text = output_text(&out);
    assert_ok(&out, "200");
    assert!(
        text.contains("Error in sitecustomize; set PYTHONVERBOSE for traceback:\nRuntimeError: broken on purpose"),
        "{text}"
    );
    assert!(!text.contains("Traceback"), "{text}");
}

#[test]
fn the_users_pythonpath_entries_survive_after_ours() {
    let world = World::new();
    let user_dir = tempfile::tempdir().unwrap();
    fs::write(
        user_dir.path().join("usermod.py"),
        "VALUE = 'from user path'\n",
    )
    .unwrap();
    let out = world
        .trustrun()
        .arg(venv_python())
        .args([
            "-c",
            "import os, sys, usermod; print(usermod.VALUE); print(os.environ['PYTHONPATH'])",
        ])
        .env("PYTHONPATH", user_dir.path())
        .output()
        .unwrap();
    let text = output_text(&out);
    assert!(out.status.success(), "{text}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], "from user path", "{text}");
    let entries: Vec<&str> = lines[1].split(':').collect();
    assert_eq!(entries.len(), 2, "{text}");
    assert!(entries[0].contains("python-"), "ours first: {text}");
    assert_eq!(entries[1], user_dir.path().to_str().unwrap(), "{text}");
}

#[test]
fn nested_trustrun_keeps_one_entry_of_ours_and_the_outer_ca() {
    let world = World::new();
    // The same three trustruns with and without the outer --ca: only the outer one names the root.
    let nested = |outer_ca: bool| {
        let mut cmd = world.trustrun();
        if outer_ca {
            cmd.arg("--ca").arg(&world.pki.root_pem);
        }
        cmd.arg(trustrun_bin())
        .arg(trustrun_bin())
        .arg(venv_python())
        .args([
            "-c",
            &format!(
                "import os, runpy, sys; print(os.environ['PYTHONPATH']); print(os.environ['TRUSTRUN_DEPTH']); \
                 sys.argv = ['client.py', 'requests-certifi', '{}']; runpy.run_path({:?}, run_name='__main__')",
                world.server.url,
                client_script().to_string_lossy()
            ),
        ])
        .output()
        .unwrap()
    };
    assert_certificate_failure(&nested(false));
    let out = nested(true);
    let text = output_text(&out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines.len() >= 3, "{text}");
    assert_eq!(lines[0].split(':').count(), 1, "one entry of ours: {text}");
    assert_eq!(lines[1], "3", "three trustruns deep: {text}");
    assert_eq!(
        lines[2], "OK 200",
        "the inner runs kept the outer --ca: {text}"
    );
}

#[test]
fn twenty_cold_starts_at_once_leave_one_intact_bundle() {
    let world = World::new();
    let children: Vec<_> = (0..20)
        .map(|_| {
            world
                .trustrun()
                .arg("--ca")
                .arg(&world.pki.root_pem)
                .arg(venv_python())
                .args([
                    "-c",
                    "import certifi, os; assert certifi.where() == os.environ['SSL_CERT_FILE']",
                ])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", output_text(&out));
    }
    let bundles: Vec<PathBuf> = fs::read_dir(world.cache.path().join("bundles"))
        .unwrap()
        .map(|e| e.unwrap().path())
        // Its Java trust store (docs/java.md) sits beside it.
        .filter(|p| p.extension().is_none_or(|e| e != "p12"))
        .collect();
    assert_eq!(
        bundles.len(),
        1,
        "one bundle and no temporary leftovers: {bundles:?}"
    );
    let text = fs::read_to_string(&bundles[0]).unwrap();
    let root = fs::read_to_string(&world.pki.root_pem).unwrap();
    let root_body: String = root.lines().filter(|l| !l.starts_with("-----")).collect();
    let bundle_body: String = text.lines().collect();
    assert!(
        bundle_body.contains(&root_body),
        "the corporate root is in the bundle"
    );
    assert!(
        text.matches("BEGIN CERTIFICATE").count() > 100,
        "Mozilla's roots are there too"
    );
    assert_eq!(
        text.matches("BEGIN CERTIFICATE").count(),
        text.matches("END CERTIFICATE").count(),
        "no torn certificate"
    );
}

#[test]
fn the_warm_path_reuses_the_bundle_and_a_changed_ca_file_makes_a_new_one() {
    let world = World::new();
    let bundle = |world: &World| {
        let out = world
            .trustrun()
            .arg("--ca")
            .arg(&world.pki.root_pem)
            .arg("bundle")
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", output_text(&out));
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    let first = bundle(&world);
    assert_eq!(bundle(&world), first);
    // Another root in the same file: a new bundle, found without being told.
    let other = Pki::build("Another Test Root", |_| {});
    let mut pem = fs::read_to_string(&world.pki.root_pem).unwrap();
    pem.push_str(&fs::read_to_string(&other.root_pem).unwrap());
    fs::write(&world.pki.root_pem, pem).unwrap();
    let second = bundle(&world);
    assert_ne!(second, first);
    assert!(
        Path::new(&first).is_file(),
        "old bundles stay for processes that still use them"
    );
}

/// A CA file under a non-ASCII path: the bundle names its sources in comments, and certifi's
/// `contents()` (which our sitecustomize serves from the bundle) decodes it as ASCII.
#[test]
fn certifi_contents_decodes_with_a_non_ascii_ca_path() {
    let world = World::new();
    let dir = world.cache.path().join("Zoë's CAs");
    fs::create_dir_all(&dir).unwrap();
    let root = dir.join("root.pem");
    fs::copy(&world.pki.root_pem, &root).unwrap();
    let code = format!(
        "import ssl, certifi, urllib.request; \
         ctx = ssl.create_default_context(cadata=certifi.contents()); \
         print('OK', urllib.request.urlopen({:?}, context=ctx, timeout=20).status)",
        world.server.url
    );
    let mut control = Command::new(venv_python());
    clean(&mut control, world.cache.path()).args(["-c", &code]);
    let control = control.output().unwrap();
    assert!(
        output_text(&control).contains("CERTIFICATE_VERIFY_FAILED"),
        "{}",
        output_text(&control)
    );
    let out = world
        .trustrun()
        .arg("--ca")
        .arg(&root)
        .arg(venv_python())
        .args(["-c", &code])
        .output()
        .unwrap();
    assert_ok(&out, "200");
}

/// Our sitecustomize never breaks start-up: a bundle that vanished leaves certifi alone (fail
/// safe, not open), and a damaged support directory costs only the feature it held.
#[test]
fn our_sitecustomize_never_raises() {
    let world = World::new();
    let out = world
        .trustrun()
        .args(["--truststore", "always"])
        .arg(venv_python())
        .args(["-c", "import os; print(os.environ['TRUSTRUN_PYTHON_DIR'])"])
        .output()
        .unwrap();
    let python_dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    assert!(
        python_dir.join("sitecustomize.py").is_file(),
        "{}",
        output_text(&out)
    );

    let certifi_own = String::from_utf8(
        Command::new(venv_python())
            .args(["-c", "import certifi; print(certifi.where())"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let mut cmd = Command::new(venv_python());
    clean(&mut cmd, world.cache.path())
        .env("PYTHONPATH", &python_dir)
        .env("TRUSTRUN_BUNDLE", world.cache.path().join("gone.pem"))
        .env("TRUSTRUN_DEBUG", "1")
        .args(["-c", "import certifi; print(certifi.where())"]);
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", output_text(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        certifi_own,
        "certifi keeps its own roots"
    );
    assert!(
        output_text(&out).contains("does not exist; certifi left alone"),
        "{}",
        output_text(&out)
    );

    fs::remove_file(python_dir.join("_trustrun_support.py")).unwrap();
    let _ = fs::remove_dir_all(python_dir.join("__pycache__"));
    let mut cmd = Command::new(venv_python());
    clean(&mut cmd, world.cache.path())
        .env("PYTHONPATH", &python_dir)
        .env("TRUSTRUN_TRUSTSTORE", "always")
        .env("TRUSTRUN_DEBUG", "1")
        .args(["-c", "import ssl; print('started')"]);
    let out = cmd.output().unwrap();
    let text = output_text(&out);
    assert!(out.status.success(), "{text}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "started\n");
    assert!(
        text.contains("truststore failed") || text.contains("patching ssl failed"),
        "{text}"
    );
    assert!(!text.contains("Traceback"), "{text}");
}

/// The caller's own CA variables survive nesting: the outer run points them at its bundle, and
/// the inner one (a shim, a nested trustrun, a shell that ran `trustrun env`) still gets the files
/// they named through TRUSTRUN_INHERITED_CA.
#[test]
fn the_callers_own_ca_variable_survives_nesting_and_trustrun_env() {
    let world = World::new();
    let client = |cmd: &mut Command| {
        cmd.arg(client_script())
            .args(["requests", &world.server.url])
            .output()
            .unwrap()
    };
    // requests reads REQUESTS_CA_BUNDLE, not SSL_CERT_FILE: alone, this variable does not help it.
    let mut control = Command::new(venv_python());
    clean(&mut control, world.cache.path()).env("SSL_CERT_FILE", &world.pki.root_pem);
    assert_certificate_failure(&client(&mut control));

    let mut once = world.trustrun();
    once.env("SSL_CERT_FILE", &world.pki.root_pem)
        .arg(venv_python());
    assert_ok(&client(&mut once), "200");

    let mut nested = world.trustrun();
    nested
        .env("SSL_CERT_FILE", &world.pki.root_pem)
        .arg(trustrun_bin())
        .arg(trustrun_bin())
        .arg(venv_python());
    assert_ok(&client(&mut nested), "200");

    let script = format!(
        "eval \"$('{}' env --format sh)\" && exec '{}' '{}' '{}' requests '{}'",
        trustrun_bin().display(),
        trustrun_bin().display(),
        venv_python().display(),
        client_script().display(),
        world.server.url
    );
    let mut shell = Command::new("bash");
    clean(&mut shell, world.cache.path())
        .env("SSL_CERT_FILE", &world.pki.root_pem)
        .args(["-c", &script]);
    assert_ok(&shell.output().unwrap(), "200");
}

/// A copy of a bundle (`trustrun bundle --output`, baked into an image) is the user's own file:
/// the roots in it are trusted, not skipped as a stale bundle of ours.
#[test]
fn a_copied_bundle_in_the_callers_variables_is_trusted() {
    let world = World::new();
    let copy = world.cache.path().join("exported.pem");
    let out = world
        .trustrun()
        .args(["bundle", "--ca"])
        .arg(&world.pki.root_pem)
        .arg("--output")
        .arg(&copy)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", output_text(&out));
    // Control: a copy made without the root, used the same way, does not trust the server.
    let copy_without = world.cache.path().join("exported-without.pem");
    let out = world
        .trustrun()
        .args(["bundle", "--output"])
        .arg(&copy_without)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", output_text(&out));
    let other_cache = tempfile::tempdir().unwrap();
    let run_with = |file: &Path| {
        world
            .trustrun()
            .env("TRUSTRUN_CACHE_DIR", other_cache.path())
            .env("SSL_CERT_FILE", file)
            .arg(venv_python())
            .arg(client_script())
            .args(["requests", &world.server.url])
            .output()
            .unwrap()
    };
    assert_certificate_failure(&run_with(&copy_without));
    assert_ok(&run_with(&copy), "200");
}

/// Code that asks importlib whether certifi exists before importing it still gets the bundle.
#[test]
fn certifi_probed_before_import_is_still_redirected() {
    let world = World::new();
    let out = world
        .trustrun()
        .arg(venv_python())
        .args([
            "-c",
            "import importlib.util, os; assert importlib.util.find_spec('certifi'); \
             import certifi; print(certifi.where() == os.environ['TRUSTRUN_BUNDLE'])",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", output_text(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "True\n",
        "{}",
        output_text(&out)
    );
}
