//! The cache and the boolean switches, hardened, and the stable bundle
//! file: what a cache nobody else can write, verified before use, cleaned within bounds, and
//! one reading of every boolean give, proven with real clients where trust is at stake.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, SystemTime};

use crate::common::*;

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn mode(path: &Path) -> u32 {
    fs::symlink_metadata(path).unwrap().mode() & 0o7777
}

/// `sh -c 'umask U; exec trustrun ARGS'`: trustrun started under the given umask.
fn under_umask(world: &World, umask: &str) -> Command {
    let mut cmd = Command::new("/bin/sh");
    clean(&mut cmd, world.cache.path());
    cmd.arg("-c")
        .arg(format!("umask {umask}; exec \"$0\" \"$@\""))
        .arg(trustrun_bin());
    cmd
}

/// The one file of a kind in the cache: `bundles/*.pem`, `python-*/sitecustomize.py`.
fn only(dir: &Path, matches: impl Fn(&str) -> bool) -> PathBuf {
    let found: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| matches(&p.file_name().unwrap().to_string_lossy()))
        .collect();
    assert_eq!(found.len(), 1, "{found:?} in {}", dir.display());
    found[0].clone()
}

fn set_age(path: &Path, age: Duration) {
    fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(SystemTime::now() - age)
        .unwrap();
}

const DAY: Duration = Duration::from_secs(24 * 3600);

// ---- every boolean switch read one way ----------------------------------------------------------

#[test]
fn a_boolean_with_an_unknown_spelling_is_a_usage_error_naming_it() {
    let world = World::new();
    for name in [
        "TRUSTRUN_STRICT",
        "TRUSTRUN_VERBOSE",
        "TRUSTRUN_RELAX_X509_STRICT",
        "TRUSTRUN_DEBUG",
    ] {
        let out = world
            .trustrun()
            .env(name, "maybe")
            .args(["/bin/sh", "-c", "echo ran"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{name}: {}", output_text(&out));
        let line = one_line_stderr(&out);
        assert!(line.contains(name) && line.contains("maybe"), "{line}");
        assert!(!stdout(&out).contains("ran"), "{}", output_text(&out));
    }
}

#[test]
fn the_child_gets_the_normalized_value_never_the_callers_spelling() {
    let world = World::new();
    let child_sees = |name: &str, value: &str| {
        let out = world
            .trustrun()
            .env(name, value)
            .args(["/bin/sh", "-c", &format!("echo \"[${name}]\"")])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
        stdout(&out)
    };
    assert_eq!(child_sees("TRUSTRUN_RELAX_X509_STRICT", "false"), "[0]");
    assert_eq!(child_sees("TRUSTRUN_RELAX_X509_STRICT", "Off"), "[0]");
    assert_eq!(child_sees("TRUSTRUN_RELAX_X509_STRICT", "YES"), "[1]");
    assert_eq!(child_sees("TRUSTRUN_DEBUG", "on"), "[1]");
    assert_eq!(child_sees("TRUSTRUN_STRICT", "no"), "[0]");
}

const URLLIB: &str = "import sys, urllib.request\n\
try:\n    print('OK', urllib.request.urlopen(sys.argv[1], timeout=10).status)\n\
except Exception as e:\n    print('FAILED', e); sys.exit(1)\n";

#[test]
fn relax_x509_strict_false_keeps_python_313_strict() {
    let python = python313();
    let pki = lax_root_pki();
    let server = Server::start(pki.server_config.clone());
    let cache = tempfile::tempdir().unwrap();
    let run = |value: Option<&str>| {
        let mut cmd = Command::new(trustrun_bin());
        clean(&mut cmd, cache.path());
        if let Some(v) = value {
            cmd.env("TRUSTRUN_RELAX_X509_STRICT", v);
        }
        cmd.arg("--ca")
            .arg(&pki.root_pem)
            .arg(&python)
            .args(["-c", URLLIB, &server.url]);
        cmd.output().unwrap()
    };
    // Control: without trustrun Python does not know the root at all.
    let mut control = Command::new(&python);
    clean(&mut control, cache.path()).args(["-c", URLLIB, &server.url]);
    let control = control.output().unwrap();
    assert_eq!(control.status.code(), Some(1), "{}", output_text(&control));
    assert!(
        stdout(&control).contains("CERTIFICATE_VERIFY_FAILED"),
        "{}",
        output_text(&control)
    );
    // "false", "off", "no": the relaxation is off, and Python 3.13 rejects the lax root.
    for off in ["false", "off", "no", "0"] {
        let out = run(Some(off));
        assert_eq!(out.status.code(), Some(1), "{off}: {}", output_text(&out));
        assert!(
            stdout(&out).contains("Basic Constraints of CA cert not marked critical"),
            "{off}: {}",
            output_text(&out)
        );
    }
    let relaxed = run(Some("yes"));
    assert_ok(&relaxed, "200");
}

/// The sitecustomize alone (no trustrun in front to normalize): any value but `1` is off, and
/// TRUSTRUN_DEBUG=1 says so.
#[test]
fn the_sitecustomize_takes_only_1_as_on_and_says_so() {
    let python = python313();
    let pki = lax_root_pki();
    let server = Server::start(pki.server_config.clone());
    let world = World::new();
    let env = world
        .trustrun()
        .args(["env", "--format", "json", "--ca"])
        .arg(&pki.root_pem)
        .output()
        .unwrap();
    assert_eq!(env.status.code(), Some(0), "{}", output_text(&env));
    let vars: serde_json::Value = serde_json::from_slice(&env.stdout).unwrap();
    let run = |value: &str| {
        let mut cmd = Command::new(&python);
        clean(&mut cmd, world.cache.path())
            .env("PYTHONPATH", vars["TRUSTRUN_PYTHON_DIR"].as_str().unwrap())
            .env("SSL_CERT_FILE", vars["SSL_CERT_FILE"].as_str().unwrap())
            .env("TRUSTRUN_RELAX_X509_STRICT", value)
            .env("TRUSTRUN_DEBUG", "1")
            .args(["-c", URLLIB, &server.url]);
        cmd.output().unwrap()
    };
    let spelt = run("true");
    assert_eq!(spelt.status.code(), Some(1), "{}", output_text(&spelt));
    assert!(
        stdout(&spelt).contains("Basic Constraints of CA cert not marked critical"),
        "{}",
        output_text(&spelt)
    );
    assert!(
        String::from_utf8_lossy(&spelt.stderr)
            .contains("TRUSTRUN_RELAX_X509_STRICT='true' is not 1"),
        "{}",
        output_text(&spelt)
    );
    let on = run("1");
    assert!(stdout(&on).contains("OK 200"), "{}", output_text(&on));
}

// ---- cache modes, whatever the umask ------------------------------------------------------------

/// Every directory of the cache 0700, every file 0600, the stable bundle 0644.
fn assert_cache_modes(root: &Path) {
    assert_eq!(mode(root), 0o700, "{}", root.display());
    let mut seen = 0;
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            let meta = fs::symlink_metadata(&path).unwrap();
            seen += 1;
            // A symbolic link's own mode is always 0777 on Linux and is never consulted (the
            // container engine shims are links to trustrun): what guards it is its directory.
            if meta.file_type().is_symlink() {
                continue;
            }
            let expected = if meta.is_dir() {
                stack.push(path.clone());
                0o700
            } else if path == root.join("current.pem")
                || path.parent() == Some(&root.join("public"))
            {
                0o644
            } else {
                0o600
            };
            assert_eq!(
                meta.mode() & 0o7777,
                expected,
                "{} has mode {:o}",
                path.display(),
                meta.mode() & 0o7777
            );
        }
    }
    assert!(seen > 6, "the cache holds only {seen} entries");
}

#[test]
fn the_cache_is_private_under_umask_000_and_002() {
    for umask in ["000", "002"] {
        let world = World::new();
        let root = world.cache.path().join("cache");
        let mut cmd = under_umask(&world, umask);
        cmd.env("TRUSTRUN_CACHE_DIR", &root)
            .arg("--ca")
            .arg(&world.pki.root_pem)
            .arg(venv_python())
            .arg(client_script())
            .args(["requests", &world.server.url]);
        let out = cmd.output().unwrap();
        assert_ok(&out, "200");
        assert!(
            only(&root, |n| n.starts_with("python-"))
                .join("__pycache__")
                .is_dir()
        );
        assert_cache_modes(&root);
    }
    assert_certificate_failure(&World::new().control("requests"));
}

#[test]
fn a_subdirectory_left_writable_by_others_is_made_private_again() {
    let world = World::new();
    let root = world.cache.path().join("cache");
    let bundle = || {
        let out = world
            .trustrun()
            .env("TRUSTRUN_CACHE_DIR", &root)
            .arg("bundle")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
    };
    bundle();
    let python_dir = only(&root, |n| n.starts_with("python-"));
    for dir in [root.join("bundles"), root.join("index"), python_dir] {
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o777)).unwrap();
    }
    bundle();
    assert_cache_modes(&root);
}

// ---- what the warm path loads is verified -------------------------------------------------------

#[test]
fn a_damaged_bundle_is_rebuilt_before_use() {
    let world = World::new();
    let bundle = || {
        let out = world
            .trustrun()
            .arg("bundle")
            .arg("--ca")
            .arg(&world.pki.root_pem)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
        PathBuf::from(stdout(&out))
    };
    let path = bundle();
    let whole = fs::read(&path).unwrap();
    for damage in [
        whole[..whole.len() / 2].to_vec(),
        Vec::new(),
        b"garbage\n".repeat(100),
    ] {
        fs::write(&path, &damage).unwrap();
        let out = world.with_trustrun("requests");
        assert_ok(&out, "200");
        assert_eq!(
            fs::read(&path).unwrap(),
            whole,
            "the bundle was not rewritten"
        );
    }
    assert_certificate_failure(&world.control("requests"));
}

#[test]
fn an_edited_sitecustomize_is_rewritten() {
    let world = World::new();
    let first = world.with_trustrun("requests-certifi");
    assert_ok(&first, "200");
    let site = only(world.cache.path(), |n| n.starts_with("python-")).join("sitecustomize.py");
    let ours = fs::read(&site).unwrap();
    fs::write(&site, "import sys\nsys.stderr.write('EDITED\\n')\n").unwrap();
    let out = world.with_trustrun("requests-certifi");
    assert_ok(&out, "200");
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("EDITED"),
        "{}",
        output_text(&out)
    );
    assert_eq!(fs::read(&site).unwrap(), ours);
    assert_certificate_failure(&world.control("requests-certifi"));
}

#[test]
fn bundle_output_onto_the_bundle_itself_is_refused() {
    let world = World::new();
    let out = world.trustrun().arg("bundle").output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
    let bundle = PathBuf::from(stdout(&out));
    let whole = fs::read(&bundle).unwrap();
    let link = world.cache.path().join("link.pem");
    std::os::unix::fs::symlink(&bundle, &link).unwrap();
    // Its stable copy (as setup writes it) and its public copy (as a container hand-off does).
    let stable = world.cache.path().join("current.pem");
    fs::copy(&bundle, &stable).unwrap();
    let public = world
        .cache
        .path()
        .join("public")
        .join(bundle.file_name().unwrap());
    fs::create_dir(public.parent().unwrap()).unwrap();
    fs::copy(&bundle, &public).unwrap();
    for target in [&bundle, &link, &stable, &public] {
        let out = world
            .trustrun()
            .args(["bundle", "--output"])
            .arg(target)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{}", output_text(&out));
        let line = one_line_stderr(&out);
        assert!(line.contains("bundle itself"), "{line}");
        assert_eq!(fs::read(&bundle).unwrap(), whole);
        assert_eq!(fs::read(&stable).unwrap(), whole);
        assert_eq!(fs::read(&public).unwrap(), whole);
    }
}

// ---- trustrun as root with another user's HOME --------------------------------------------------

/// The home directory of uid 0 in the passwd database.
fn root_home() -> PathBuf {
    let passwd = fs::read_to_string("/etc/passwd").unwrap();
    let line = passwd
        .lines()
        .find(|l| l.split(':').nth(2) == Some("0"))
        .unwrap();
    PathBuf::from(line.split(':').nth(5).unwrap())
}

#[test]
fn root_with_another_users_home_creates_nothing_there() {
    // SAFETY: geteuid has no preconditions.
    assert_eq!(
        unsafe { libc_geteuid() },
        0,
        "this test needs root (CI runs as root): it plays root under `sudo -E`"
    );
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("alice");
    fs::create_dir(&home).unwrap();
    fs::set_permissions(&home, fs::Permissions::from_mode(0o755)).unwrap();
    std::os::unix::fs::chown(&home, Some(4242), Some(4242)).unwrap();
    let run = |cache_dir: Option<&Path>| {
        let mut cmd = Command::new(trustrun_bin());
        clean(&mut cmd, tmp.path());
        cmd.env_remove("TRUSTRUN_CACHE_DIR")
            .env_remove("XDG_CACHE_HOME")
            .env("HOME", &home)
            .arg("bundle");
        if let Some(dir) = cache_dir {
            cmd.env("TRUSTRUN_CACHE_DIR", dir);
        }
        cmd.output().unwrap()
    };
    let out = run(None);
    assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
    assert!(
        Path::new(&stdout(&out)).starts_with(root_home().join(".cache/trustrun")),
        "root's own cache expected: {}",
        output_text(&out)
    );
    assert!(!home.join(".cache").exists(), "created in alice's home");
    // A cache directory named inside her home is not created either: a private temporary one is.
    let named = home.join(".cache/trustrun");
    let out = run(Some(&named));
    assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("belongs to uid 4242"),
        "{}",
        output_text(&out)
    );
    assert!(!home.join(".cache").exists(), "created in alice's home");
}

unsafe extern "C" {
    #[link_name = "geteuid"]
    fn libc_geteuid() -> u32;
}

// ---- a relative TRUSTRUN_CACHE_DIR --------------------------------------------------------------

#[test]
fn a_relative_cache_dir_is_exported_as_absolute_paths() {
    let world = World::new();
    let work = tempfile::tempdir().unwrap();
    // The child changes directory before it makes its request.
    let mut cmd = world.trustrun();
    cmd.current_dir(work.path())
        .env("TRUSTRUN_CACHE_DIR", "relative-cache")
        .arg("--ca")
        .arg(&world.pki.root_pem)
        .args(["/bin/sh", "-c", "cd / && exec \"$0\" \"$@\""])
        .arg(venv_python())
        .arg(client_script())
        .args(["requests", &world.server.url]);
    let out = cmd.output().unwrap();
    assert_ok(&out, "200");
    let env = world
        .trustrun()
        .current_dir(work.path())
        .env("TRUSTRUN_CACHE_DIR", "relative-cache")
        .args(["env", "--format", "json"])
        .output()
        .unwrap();
    let vars: serde_json::Value = serde_json::from_slice(&env.stdout).unwrap();
    for name in ["SSL_CERT_FILE", "TRUSTRUN_BUNDLE", "TRUSTRUN_PYTHON_DIR"] {
        let value = vars[name].as_str().unwrap();
        assert!(
            value.starts_with(work.path().to_str().unwrap()),
            "{name}={value}"
        );
    }
    assert_certificate_failure(&world.control("requests"));
}

// ---- bounded cleanup, reused fallback, stable order ---------------------------------------------

#[test]
fn unused_bundles_and_index_entries_are_cleaned_within_bounds() {
    let world = World::new();
    let root = world.cache.path();
    let first = world.trustrun().arg("bundle").output().unwrap();
    assert_eq!(first.status.code(), Some(0), "{}", output_text(&first));
    let first_bundle = PathBuf::from(stdout(&first));
    // Ten bundles nobody has named for 60 days, one written yesterday, old index entries.
    let old: Vec<PathBuf> = (0..10)
        .map(|i| root.join(format!("bundles/{i:032x}.pem")))
        .collect();
    for (i, path) in old.iter().enumerate() {
        fs::write(path, "# old\n").unwrap();
        set_age(path, DAY * (60 + i as u32));
    }
    let recent = root.join(format!("bundles/{:032x}.pem", 99));
    fs::write(&recent, "# recent\n").unwrap();
    set_age(&recent, DAY);
    let stale_index = root.join("index/0123456789abcdef0123456789abcdef");
    fs::write(&stale_index, format!("{:032x}.pem\n", 0)).unwrap();
    set_age(&stale_index, DAY * 90);
    for entry in fs::read_dir(root.join("index")).unwrap().flatten() {
        set_age(&entry.path(), DAY * 90);
    }
    set_age(&first_bundle, DAY * 90);
    // The stable file as setup (or an older trustrun) left it, unused for 90 days.
    let stable = root.join("current.pem");
    fs::copy(&first_bundle, &stable).unwrap();
    set_age(&stable, DAY * 90);
    let stable_before = fs::read(&stable).unwrap();
    let old_python = root.join("python-000000000000");
    fs::create_dir(&old_python).unwrap();
    fs::write(old_python.join("sitecustomize.py"), "").unwrap();
    set_age(&old_python.join("sitecustomize.py"), DAY * 90);

    // New inputs: a cold run writes a new bundle, and cleans.
    let out = world
        .trustrun()
        .arg("bundle")
        .arg("--ca")
        .arg(&world.pki.root_pem)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
    let new_bundle = PathBuf::from(stdout(&out));
    assert!(new_bundle.is_file());
    assert!(recent.is_file(), "a bundle within the grace period went");
    assert!(
        !stale_index.exists(),
        "an index entry unused for 90 days stayed"
    );
    assert!(
        !old_python.exists(),
        "an old python support directory stayed"
    );
    let left: Vec<PathBuf> = fs::read_dir(root.join("bundles"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "pem"))
        .collect();
    // A bundle's Java store goes with it.
    assert!(!first_bundle.with_extension("p12").exists());
    assert!(new_bundle.with_extension("p12").is_file());
    // The new bundle, the recent one, and the newest old ones up to four bundles in all.
    assert_eq!(left.len(), 4, "{left:?}");
    assert!(old[0].is_file() && old[1].is_file(), "{left:?}");
    assert!(!old[9].exists() && !first_bundle.exists(), "{left:?}");
    // The stable file is never cleaned (and, setup not being in place, not rewritten).
    assert_eq!(fs::read(&stable).unwrap(), stable_before);
}

#[test]
fn a_squatted_fallback_name_leads_to_one_reused_private_directory() {
    let world = World::new();
    let tmp = tempfile::tempdir().unwrap();
    // Another user holds the stable fallback name (here: a file, as good as a foreign directory).
    let uid = unsafe { libc_geteuid() };
    fs::write(tmp.path().join(format!("trustrun-{uid}")), "squatted").unwrap();
    let blocker = world.cache.path().join("file");
    fs::write(&blocker, "").unwrap();
    let run = || {
        let out = world
            .trustrun()
            .env("TMPDIR", tmp.path())
            .env("TRUSTRUN_CACHE_DIR", blocker.join("cache"))
            .arg("bundle")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
        PathBuf::from(stdout(&out))
    };
    let first = run();
    let second = run();
    assert_eq!(first, second);
    let dirs: Vec<PathBuf> = fs::read_dir(tmp.path())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    assert_eq!(mode(&dirs[0]), 0o700);
    assert!(first.starts_with(&dirs[0]));
}

#[test]
fn the_same_inputs_give_the_same_bundle_bytes() {
    let world = World::new();
    let other = tempfile::tempdir().unwrap();
    let bundle = |cache: &Path| {
        let out = world
            .trustrun()
            .env("TRUSTRUN_CACHE_DIR", cache)
            .arg("bundle")
            .output()
            .unwrap();
        fs::read(stdout(&out)).unwrap()
    };
    assert_eq!(bundle(world.cache.path()), bundle(other.path()));
}

// ---- the stable bundle file -------------------------------------------------------------------

/// The stable file is setup's (its atomic replacement and mode are tested in `setup`): a run
/// without setup in place neither creates nor changes it, whatever its CA files.
#[test]
fn without_setup_no_run_writes_or_changes_the_stable_file() {
    let world = World::new();
    let stable = world.cache.path().join("current.pem");
    let bundle = |ca: bool| {
        let mut cmd = world.trustrun();
        cmd.arg("bundle");
        if ca {
            cmd.arg("--ca").arg(&world.pki.root_pem);
        }
        let out = cmd.output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
        PathBuf::from(stdout(&out))
    };
    let plain = bundle(false);
    assert!(
        !stable.exists(),
        "a run without setup wrote {}",
        stable.display()
    );
    // One an older trustrun left (a container it created may mount it) stays as it is.
    fs::copy(&plain, &stable).unwrap();
    let before = fs::metadata(&stable).unwrap();
    let with_ca = bundle(true);
    assert_ne!(fs::read(&with_ca).unwrap(), fs::read(&plain).unwrap());
    let run = world.trustrun().arg("true").output().unwrap();
    assert_eq!(run.status.code(), Some(0), "{}", output_text(&run));
    let after = fs::metadata(&stable).unwrap();
    assert_eq!(fs::read(&stable).unwrap(), fs::read(&plain).unwrap());
    assert_eq!(
        (after.ino(), after.mtime(), after.mtime_nsec()),
        (before.ino(), before.mtime(), before.mtime_nsec())
    );
}

/// setup points the CA variables at the stable file: trustrun treats it as its own bundle, like
/// the content-addressed ones: not handed down as the caller's own CA file.
#[test]
fn the_stable_bundle_in_the_callers_variables_is_not_read_back() {
    let world = World::new();
    let out = world
        .trustrun()
        .args(["bundle", "--ca"])
        .arg(&world.pki.root_pem)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
    // The stable file as setup writes it: a copy of a bundle of this cache.
    let stable = world.cache.path().join("current.pem");
    fs::copy(stdout(&out), &stable).unwrap();
    let out = world
        .trustrun()
        .env("SSL_CERT_FILE", &stable)
        .args(["/bin/sh", "-c", "echo \"[$TRUSTRUN_INHERITED_CA]\""])
        .output()
        .unwrap();
    assert_eq!(stdout(&out), "[]", "{}", output_text(&out));
    // And its changing (here: now the plain bundle) does not make the next run cold.
    fs::copy(
        stdout(&world.trustrun().arg("bundle").output().unwrap()),
        &stable,
    )
    .unwrap();
    let again = world
        .trustrun()
        .env("SSL_CERT_FILE", &stable)
        .args(["-v", "/bin/true"])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("using cached bundle"),
        "{}",
        output_text(&again)
    );
}
