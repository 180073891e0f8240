//! `trustrun setup`: fresh login shells (bash -l -i, fish) in a temporary HOME trust the test
//! corporate root after setup and not after `--undo`; blocks are added once; undo restores the
//! files byte for byte; a CA variable of the user's is kept; the stable bundle is replaced
//! atomically while readers read it, and a failed refresh keeps it.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::common::*;

// Setup against hostile neighbours, sudo, dotfiles repositories and closed pipes.
mod hardening;
// What stays right after setup ran: profile variables, --python, paths, the config (issue 17).
mod durable;
// What setup says and offers (issue 20, items 4 and 9).
mod guidance;
// `setup --java`: JVMs of new shells trust the stable bundle, opt-in (issue 22).
mod java;

const BEGIN: &str = "# >>> trustrun setup >>>";

struct Home {
    world: World,
    home: PathBuf,
    cache: PathBuf,
    // Under target/tmp, not /tmp: setup refuses a stable path below a directory other users can
    // write (a sticky /tmp included), and the default cache is in HOME.
    _base: tempfile::TempDir,
}

impl Home {
    fn new() -> Home {
        let base = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
        // As a home directory usually is: others may enter it (the tests as `nobody` do).
        fs::set_permissions(base.path(), fs::Permissions::from_mode(0o755)).unwrap();
        let home = base.path().join("home");
        fs::create_dir(&home).unwrap();
        fs::set_permissions(&home, fs::Permissions::from_mode(0o755)).unwrap();
        Home {
            world: World::new(),
            cache: base.path().join("cache"),
            home,
            _base: base,
        }
    }

    fn path(&self) -> &Path {
        &self.home
    }

    /// `trustrun setup ARGS` as this user, with none of the machine's CA presets.
    fn setup(&self, args: &[&str]) -> Output {
        self.setup_with(args, &[])
    }

    fn setup_with(&self, args: &[&str], env: &[(&str, &Path)]) -> Output {
        let mut cmd = self.world.trustrun();
        self.user(&mut cmd);
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.arg("setup").args(args).output().unwrap()
    }

    fn setup_ok(&self, args: &[&str]) -> String {
        let out = self.setup(args);
        assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn user<'a>(&self, cmd: &'a mut Command) -> &'a mut Command {
        cmd.env("HOME", self.path())
            .env("TRUSTRUN_CACHE_DIR", &self.cache)
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("XDG_DATA_HOME")
            .env_remove("ZDOTDIR")
    }

    /// A fresh login shell as a new terminal starts it: nothing inherited but HOME and PATH (no
    /// CA variable, no TRUSTRUN_CACHE_DIR), running the pinned client from the venv.
    fn login_shell(&self, shell: &str, client: &str) -> Output {
        let line = format!(
            "{} {} {client} {}",
            venv_python().display(),
            client_script().display(),
            self.world.server.url
        );
        self.login_shell_running(shell, &line)
    }

    /// A fresh login shell, as `login_shell` starts it, running the command line `line`.
    fn login_shell_running(&self, shell: &str, line: &str) -> Output {
        let mut cmd = Command::new(shell);
        cmd.env_clear()
            .env("HOME", self.path())
            .env("PATH", "/usr/local/bin:/usr/bin:/bin")
            .env("NO_PROXY", "127.0.0.1,localhost")
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .current_dir(self.path());
        match shell {
            "bash" => cmd.args(["-l", "-i", "-c", line]),
            "fish" => cmd.args(["-l", "-c", line]),
            other => panic!("no login recipe for {other}"),
        };
        cmd.stdin(std::process::Stdio::null()).output().unwrap()
    }

    fn stable(&self) -> PathBuf {
        self.cache.join("current.pem")
    }

    /// Every file under HOME with its bytes (directories are not compared).
    fn snapshot(&self) -> BTreeMap<PathBuf, Vec<u8>> {
        fn walk(dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
            for e in fs::read_dir(dir).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    walk(&p, out);
                } else {
                    out.insert(p.clone(), fs::read(&p).unwrap());
                }
            }
        }
        let mut out = BTreeMap::new();
        walk(self.path(), &mut out);
        out
    }
}

#[test]
fn bash_login_shell_trusts_after_setup_and_not_after_undo() {
    let h = Home::new();
    // Control: a fresh login shell of this user fails on the corporate root.
    assert_certificate_failure(&h.login_shell("bash", "requests"));

    let root = h.world.pki.root_pem.to_str().unwrap();
    h.setup_ok(&["--ca", root]);
    let profile = profile_naming_the_stable_file(&h);
    assert_ok(&h.login_shell("bash", "requests"), "200");
    // Static values: the shell never runs trustrun, so the server saw only the client's request.
    assert!(!profile.contains("trustrun env"), "{profile}");

    let undo = h.setup(&["--undo"]);
    assert_eq!(undo.status.code(), Some(0), "{}", output_text(&undo));
    assert_certificate_failure(&h.login_shell("bash", "requests"));
}

#[test]
fn fish_login_shell_trusts_after_setup_and_not_after_undo() {
    let h = Home::new();
    assert_certificate_failure(&h.login_shell("fish", "requests"));
    h.setup_ok(&["--ca", h.world.pki.root_pem.to_str().unwrap()]);
    assert!(h.path().join(".config/fish/conf.d/trustrun.fish").is_file());
    assert_ok(&h.login_shell("fish", "requests"), "200");
    h.setup_ok(&["--undo"]);
    // fish made ~/.config/fish itself in the control run; only our file goes.
    assert!(!h.path().join(".config/fish/conf.d/trustrun.fish").exists());
    assert_certificate_failure(&h.login_shell("fish", "requests"));
}

#[test]
fn python_flag_covers_code_that_pins_certifi() {
    let h = Home::new();
    let root = h.world.pki.root_pem.to_str().unwrap();
    h.setup_ok(&["--ca", root]);
    // Control: REQUESTS_CA_BUNDLE does not reach `verify=certifi.where()`.
    assert_certificate_failure(&h.login_shell("bash", "requests-certifi"));
    let out = h.setup_ok(&["--ca", root, "--python"]);
    assert!(out.contains("updated"), "{out}");
    assert_ok(&h.login_shell("bash", "requests-certifi"), "200");
    assert_ok(&h.login_shell("fish", "requests-certifi"), "200");
}

#[test]
fn the_block_is_added_once_however_often_setup_runs() {
    let h = Home::new();
    fs::write(h.path().join(".bashrc"), "alias ll='ls -l'\n").unwrap();
    let root = h.world.pki.root_pem.to_str().unwrap();
    let first = h.setup_ok(&["--ca", root]);
    assert!(first.contains("added"), "{first}");
    let after_first = h.snapshot();
    for _ in 0..3 {
        let again = h.setup_ok(&["--ca", root]);
        assert!(
            !again.contains("added") && !again.contains("updated"),
            "{again}"
        );
    }
    assert_eq!(h.snapshot(), after_first);
    for name in [".profile", ".bashrc", ".config/fish/conf.d/trustrun.fish"] {
        let text = fs::read_to_string(h.path().join(name)).unwrap();
        assert_eq!(text.matches(BEGIN).count(), 1, "{name}:\n{text}");
    }
}

#[test]
fn undo_restores_every_file_byte_for_byte_and_dry_run_changes_nothing() {
    let h = Home::new();
    // Files as users have them: no newline at the end, a login file of bash's own, a 0600 file.
    fs::write(h.path().join(".bashrc"), "export EDITOR=vim").unwrap();
    fs::write(h.path().join(".bash_profile"), ". ~/.bashrc\n\n").unwrap();
    fs::write(
        h.path().join(".profile"),
        "# mine\r\nPATH=$HOME/bin:$PATH\n",
    )
    .unwrap();
    fs::create_dir_all(h.path().join(".config/fish")).unwrap();
    fs::write(h.path().join(".config/fish/config.fish"), "set -g x 1\n").unwrap();
    fs::set_permissions(h.path().join(".bashrc"), fs::Permissions::from_mode(0o600)).unwrap();
    let before = h.snapshot();

    let dry = h.setup_ok(&["--dry-run", "--ca", h.world.pki.root_pem.to_str().unwrap()]);
    assert!(dry.contains("would add"), "{dry}");
    assert_eq!(h.snapshot(), before, "--dry-run changed a file");
    assert!(!h.stable().exists(), "--dry-run wrote the stable bundle");

    h.setup_ok(&["--ca", h.world.pki.root_pem.to_str().unwrap(), "--python"]);
    let during = h.snapshot();
    for name in [".bashrc", ".bash_profile", ".profile"] {
        let p = h.path().join(name);
        assert_ne!(during[&p], before[&p], "{name} was not changed");
    }
    let mode = fs::metadata(h.path().join(".bashrc"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "setup changed the file's mode");

    h.setup_ok(&["--undo"]);
    assert_eq!(h.snapshot(), before);
    // Undone twice is a no-op, not an error.
    let again = h.setup_ok(&["--undo"]);
    assert!(again.contains("not in place"), "{again}");
}

#[test]
fn a_ca_variable_the_user_set_is_kept_and_its_file_trusted_unless_force() {
    let h = Home::new();
    // The user's own bundle for requests holds the corporate root; setup is given no --ca.
    let mine = h.path().join("my-bundle.pem");
    fs::copy(&h.world.pki.root_pem, &mine).unwrap();
    let out = h.setup_with(&[], &[("REQUESTS_CA_BUNDLE", &mine)]);
    let text = output_text(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains(&format!(
            "kept         REQUESTS_CA_BUNDLE={}",
            mine.display()
        )),
        "{text}"
    );
    let profile = fs::read_to_string(h.path().join(".profile")).unwrap();
    assert!(!profile.contains("REQUESTS_CA_BUNDLE"), "{profile}");
    assert!(profile.contains("SSL_CERT_FILE"), "{profile}");
    // The other variables reach the user's root through the stable bundle: urllib reads
    // SSL_CERT_FILE. Control first: without setup's block it fails.
    let block = profile.clone();
    fs::remove_file(h.path().join(".profile")).unwrap();
    assert_certificate_failure(&h.login_shell("bash", "urllib"));
    fs::write(h.path().join(".profile"), block).unwrap();
    assert_ok(&h.login_shell("bash", "urllib"), "200");

    let forced = h.setup_with(&["--force"], &[("REQUESTS_CA_BUNDLE", &mine)]);
    assert_eq!(forced.status.code(), Some(0), "{}", output_text(&forced));
    profile_naming_the_stable_file(&h);
    // Replaced, but the file it named is still trusted: never narrower than before.
    assert_ok(&h.login_shell("bash", "requests"), "200");
}

#[test]
fn the_stable_bundle_is_replaced_atomically_while_readers_read_it() {
    let h = Home::new();
    let other = Pki::build("Trustrun Test Other Root", |_| {});
    let roots = [
        h.world.pki.root_pem.to_str().unwrap().to_owned(),
        other.root_pem.to_str().unwrap().to_owned(),
    ];
    h.setup_ok(&["--ca", &roots[0]]);
    let stable = h.stable();
    let done = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..3)
        .map(|_| {
            let (stable, done) = (stable.clone(), done.clone());
            std::thread::spawn(move || {
                let mut seen = std::collections::HashSet::new();
                let mut reads = 0;
                while !done.load(Ordering::SeqCst) {
                    let text = fs::read_to_string(&stable).expect("the stable bundle vanished");
                    assert!(
                        text.starts_with("# trustrun bundle")
                            && text.ends_with("-----END CERTIFICATE-----\n"),
                        "a reader saw a partial stable bundle ({} bytes)",
                        text.len()
                    );
                    let mut hasher = std::collections::hash_map::DefaultHasher::new();
                    std::hash::Hash::hash(&text, &mut hasher);
                    seen.insert(std::hash::Hasher::finish(&hasher));
                    reads += 1;
                }
                (reads, seen.len())
            })
        })
        .collect();
    for i in 1..=8 {
        let out = h.setup_ok(&["--ca", &roots[i % 2]]);
        assert!(
            out.contains("wrote"),
            "setup did not replace the file:\n{out}"
        );
    }
    done.store(true, Ordering::SeqCst);
    for r in readers {
        let (reads, versions) = r.join().unwrap();
        assert!(reads > 8, "readers barely ran: {reads}");
        assert_eq!(versions, 2, "readers should have seen both bundles");
    }
    let mode = fs::metadata(&stable).unwrap().permissions();
    assert_eq!(mode.mode() & 0o777, 0o644);
}

#[test]
fn a_failed_refresh_keeps_the_stable_bundle_and_says_why() {
    let h = Home::new();
    let root = h.path().join("corp.pem");
    fs::copy(&h.world.pki.root_pem, &root).unwrap();
    h.setup_ok(&["--ca", root.to_str().unwrap()]);
    let before = fs::read(h.stable()).unwrap();
    assert!(h.setup_ok(&["--refresh"]).contains("unchanged"));

    fs::remove_file(&root).unwrap();
    let out = h.setup(&["--refresh"]);
    let text = output_text(&out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains(root.to_str().unwrap()), "{text}");
    one_line_stderr(&out);
    assert_eq!(fs::read(h.stable()).unwrap(), before);

    // An ordinary run (a shim's python) keeps it too, and still runs its program.
    let mut cmd = h.world.trustrun();
    h.user(&mut cmd).args(["sh", "-c", "echo ran"]);
    let run = cmd.output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&run.stdout),
        "ran\n",
        "{}",
        output_text(&run)
    );
    assert_eq!(fs::read(h.stable()).unwrap(), before);
}

#[test]
fn every_run_refreshes_the_stable_bundle_from_setups_sources() {
    let h = Home::new();
    let other = Pki::build("Trustrun Test Retired Root", |_| {});
    let corp = h.path().join("corp.pem");
    fs::copy(&other.root_pem, &corp).unwrap();
    h.setup_ok(&["--ca", corp.to_str().unwrap()]);
    let stale = fs::read_to_string(h.stable()).unwrap();
    assert!(!holds(&stale, &h.world.pki.root_pem));
    assert_certificate_failure(&h.login_shell("bash", "requests"));
    // IT replaces the corporate root in the file setup was given; the next trustrun run (any
    // program) brings it into the stable file, and a new login shell trusts it.
    fs::copy(&h.world.pki.root_pem, &corp).unwrap();
    let mut cmd = h.world.trustrun();
    h.user(&mut cmd).arg("true");
    assert!(cmd.status().unwrap().success());
    let fresh = fs::read_to_string(h.stable()).unwrap();
    assert!(
        holds(&fresh, &h.world.pki.root_pem),
        "the stable bundle was not refreshed"
    );
    assert_ok(&h.login_shell("bash", "requests"), "200");
}

#[test]
fn doctor_says_whether_setup_is_in_place_fresh_and_shadowed() {
    let h = Home::new();
    let doctor = |env: &[(&str, &Path)]| {
        let mut cmd = h.world.trustrun();
        h.user(&mut cmd).arg("doctor");
        for (k, v) in env {
            cmd.env(k, v);
        }
        // doctor wraps its lines under 100 columns: compare words, not line breaks.
        let out = cmd.output().unwrap();
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert!(doctor(&[]).contains("setup: not in place"));
    h.setup_ok(&["--ca", h.world.pki.root_pem.to_str().unwrap()]);
    let stable = h.stable();
    let inside = doctor(&[("SSL_CERT_FILE", &stable)]);
    assert!(
        inside.contains("setup: in place") && inside.contains("fresh; in use here"),
        "{inside}"
    );
    let shadowed = doctor(&[("SSL_CERT_FILE", &h.world.pki.root_pem)]);
    assert!(
        shadowed.contains("shadowed here by SSL_CERT_FILE="),
        "{shadowed}"
    );
    let old_shell = doctor(&[]);
    assert!(old_shell.contains("started before setup"), "{old_shell}");
}

/// Whether a bundle's text holds the certificate of a PEM file (compared without line breaks).
fn holds(bundle: &str, pem: &Path) -> bool {
    let body = |text: &str| -> String {
        text.lines()
            .filter(|l| !l.starts_with("-----") && !l.starts_with('#'))
            .collect()
    };
    let cert = body(&fs::read_to_string(pem).unwrap());
    !cert.is_empty() && body(bundle).contains(&cert)
}

#[test]
fn trustrun_in_a_set_up_shell_trusts_what_the_shell_trusts() {
    let h = Home::new();
    h.setup_ok(&["--ca", h.world.pki.root_pem.to_str().unwrap()]);
    // The shell's variables name the stable file, which is never read back into a bundle; the
    // run must still carry setup's CA file (here a fresh cache: ~/.cache/trustrun of the HOME).
    let line = format!(
        "{} {} {} requests {}",
        trustrun_bin().display(),
        venv_python().display(),
        client_script().display(),
        h.world.server.url
    );
    let out = h.login_shell_running("bash", &line);
    assert_ok(&out, "200");
    // Control: the same run from a shell without setup's block fails.
    h.setup_ok(&["--undo"]);
    let control = h.login_shell_running("bash", &line);
    assert_certificate_failure(&control);
}

/// `~/.profile`, checked to point REQUESTS_CA_BUNDLE at the stable file.
fn profile_naming_the_stable_file(h: &Home) -> String {
    let profile = fs::read_to_string(h.path().join(".profile")).unwrap();
    assert!(
        profile.contains(&format!(
            "export REQUESTS_CA_BUNDLE='{}'",
            h.stable().display()
        )),
        "{profile}"
    );
    profile
}
