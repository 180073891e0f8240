//! The Windows build, run for real under wine: `trustrun.exe` built for x86_64-pc-windows-gnu,
//! a Windows TLS client of our own (examples/tls_client.rs, which trusts only `SSL_CERT_FILE`,
//! as OpenSSL-based Python clients do) against the local test server, and wine's `cmd` and `reg`.
//! Each case has a control that fails the same way a user's would. Windows Python and PowerShell
//! are not available here (see README, "Windows").

use std::fs;
use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use crate::common::{World, one_line_stderr, output_text};
use crate::wine::{Wine, assert_client_ok, windows_path};

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Nothing a user reads may carry the verbatim `\\?\` prefix.
fn assert_no_verbatim_prefix(out: &Output) {
    let text = output_text(out);
    assert!(!text.contains(r"\\?\"), "a \\\\?\\ path in:\n{text}");
}

fn client_dir(w: &Wine) -> &Path {
    w.client.parent().unwrap()
}

#[test]
fn a_windows_client_trusts_the_corporate_root_through_trustrun_exe_by_path_and_by_name() {
    let w = Wine::lock();
    let world = World::new();
    let cache = world.cache.path();

    // Control: the client alone does not trust the test root.
    let control = w.client_alone(cache, &world.server.url);
    crate::common::assert_certificate_failure(&control);

    // By path.
    let by_path = w
        .trustrun(cache, &[])
        .arg("--ca")
        .arg(windows_path(&world.pki.root_pem))
        .arg(windows_path(&w.client))
        .arg(&world.server.url)
        .output()
        .unwrap();
    assert_client_ok(&by_path);

    // By name: PATH lookup with PATHEXT, `tls_client` finds `tls_client.exe`.
    let by_name = w
        .trustrun(cache, &[client_dir(&w)])
        .arg("--ca")
        .arg(windows_path(&world.pki.root_pem))
        .arg("tls_client")
        .arg(&world.server.url)
        .output()
        .unwrap();
    assert_client_ok(&by_name);
    assert_eq!(world.server.answered(), 2);
}

/// Removes the test roots from the Group Policy store again when the test ends, however it ends.
struct GroupPolicyRoots<'a>(&'a Wine);

impl Drop for GroupPolicyRoots<'_> {
    fn drop(&mut self) {
        self.0.clear_group_policy_roots();
    }
}

#[test]
fn the_corporate_root_from_the_group_policy_store_alone_and_doctor_names_it() {
    let w = Wine::lock();
    let world = World::new();
    let cache = world.cache.path();
    w.clear_group_policy_roots();
    let _cleanup = GroupPolicyRoots(&w);

    // Controls, before IT deployed the root: neither trustrun.exe nor doctor know it.
    let before = w
        .trustrun(cache, &[client_dir(&w)])
        .args(["tls_client", &world.server.url])
        .output()
        .unwrap();
    crate::common::assert_certificate_failure(&before);
    let doctor_before = w
        .trustrun(cache, &[])
        .args(["doctor", "--json"])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&doctor_before.stdout)
        .unwrap_or_else(|e| panic!("{e}:\n{}", output_text(&doctor_before)));
    assert_eq!(
        report["sources"]["corporate_roots"]
            .as_array()
            .unwrap()
            .len(),
        0,
        "wine's store holds the host's public roots, none corporate:\n{}",
        output_text(&doctor_before)
    );

    let der = world.pki.dir.path().join("corporate-root.der");
    fs::write(&der, world.pki.root_der.as_ref()).unwrap();
    w.add_group_policy_root(&der);

    // No --ca: the root comes from the Windows store.
    let after = w
        .trustrun(cache, &[client_dir(&w)])
        .args(["tls_client", &world.server.url])
        .output()
        .unwrap();
    assert_client_ok(&after);

    let doctor = w
        .trustrun(cache, &[])
        .args(["doctor", "--json"])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&doctor.stdout)
        .unwrap_or_else(|e| panic!("{e}:\n{}", output_text(&doctor)));
    let roots = report["sources"]["corporate_roots"].as_array().unwrap();
    assert_eq!(
        roots.len(),
        1,
        "exactly the deployed root:\n{}",
        output_text(&doctor)
    );
    assert!(
        roots[0]["subject"]
            .as_str()
            .unwrap()
            .contains(crate::common::ROOT_CN),
        "{roots:?}"
    );
    assert!(
        roots[0]["source"]
            .as_str()
            .unwrap()
            .contains("deployed by Group Policy"),
        "{roots:?}"
    );
    assert_eq!(report["summary"]["corporate_roots"], 1);

    let text = w.trustrun(cache, &[]).arg("doctor").output().unwrap();
    assert!(
        words(&text).contains("from OS trust store, deployed by Group Policy"),
        "{}",
        output_text(&text)
    );
    assert_no_verbatim_prefix(&text);
}

#[test]
fn exit_codes_pass_through_and_a_missing_program_is_127() {
    let w = Wine::lock();
    let cache = tempfile::tempdir().unwrap();
    for code in [0, 42] {
        let out = w
            .trustrun(cache.path(), &[])
            .args(["cmd", "/c", &format!("exit {code}")])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(code), "{}", output_text(&out));
    }
    let missing = w
        .trustrun(cache.path(), &[])
        .arg("no-such-program-here")
        .output()
        .unwrap();
    assert_eq!(
        missing.status.code(),
        Some(127),
        "{}",
        output_text(&missing)
    );
    let err = one_line_stderr(&missing);
    assert!(err.contains("no-such-program-here"), "{err}");
}

#[test]
fn shims_hardlink_or_copy_dispatch_on_their_name_and_sit_on_the_user_path_until_removed() {
    let w = Wine::lock();
    let world = World::new();
    let cache = world.cache.path();
    // A Path of the user's own, which must come back exactly.
    w.set_user_env("Path", Some(r"C:\users-own-tools"));

    // The same filesystem as trustrun.exe: a hardlink. /dev/shm is another one: a copy.
    let same_fs = tempfile::tempdir_in(crate::common::repo().join("target")).unwrap();
    let other_fs = tempfile::tempdir_in("/dev/shm").unwrap();
    for (base, kind) in [(&same_fs, "hardlink"), (&other_fs, "copy")] {
        let shims = base.path().join("shims");
        let dir = windows_path(&shims);
        let install = w
            .trustrun(cache, &[])
            .args(["shim", "install", "--dir", &dir, "tls_client"])
            .output()
            .unwrap();
        let text = output_text(&install);
        assert_eq!(install.status.code(), Some(0), "{text}");
        assert!(
            stdout(&install).contains(&format!(r"{dir}\tls_client.exe ({kind})")),
            "{text}"
        );
        assert_no_verbatim_prefix(&install);
        // PowerShell's line for this session, not a bash one.
        assert!(
            stdout(&install).contains(&format!("$env:Path = '{dir};' + $env:Path")),
            "{text}"
        );
        assert!(!stdout(&install).contains("export PATH"), "{text}");
        assert_eq!(
            w.user_env("Path").as_deref(),
            Some(format!(r"{dir};C:\users-own-tools").as_str()),
            "{text}"
        );

        // The shim runs the real tls_client further down PATH, trusting the CA it is told about.
        let shim = shims.join("tls_client.exe");
        let through_shim = w
            .command(&shim, cache, &[&shims, client_dir(&w)])
            .env("TRUSTRUN_CA", windows_path(&world.pki.root_pem))
            .arg(&world.server.url)
            .output()
            .unwrap();
        assert_client_ok(&through_shim);
        // Control: the same client without the shim.
        let control = w
            .command(&w.client, cache, &[])
            .env("TRUSTRUN_CA", windows_path(&world.pki.root_pem))
            .arg(&world.server.url)
            .output()
            .unwrap();
        crate::common::assert_certificate_failure(&control);

        let list = w
            .trustrun(cache, &[&shims, client_dir(&w)])
            .args(["shim", "list", "--dir", &dir])
            .output()
            .unwrap();
        let real = windows_path(&w.client);
        assert!(
            stdout(&list)
                .to_lowercase()
                .contains(&format!("-> {}", real.to_lowercase())),
            "{}",
            output_text(&list)
        );
        assert_no_verbatim_prefix(&list);

        let remove = w
            .trustrun(cache, &[])
            .args(["shim", "remove", "--dir", &dir])
            .output()
            .unwrap();
        assert_eq!(remove.status.code(), Some(0), "{}", output_text(&remove));
        assert!(!shim.exists(), "{}", output_text(&remove));
        assert_eq!(
            w.user_env("Path").as_deref(),
            Some(r"C:\users-own-tools"),
            "remove undoes exactly what install added:\n{}",
            output_text(&remove)
        );
    }

    // --no-modify-path leaves the registry alone.
    let shims = same_fs.path().join("kept-off-path");
    let dir = windows_path(&shims);
    let install = w
        .trustrun(cache, &[])
        .args([
            "shim",
            "install",
            "--no-modify-path",
            "--dir",
            &dir,
            "tls_client",
        ])
        .output()
        .unwrap();
    assert_eq!(install.status.code(), Some(0), "{}", output_text(&install));
    assert_eq!(w.user_env("Path").as_deref(), Some(r"C:\users-own-tools"));
    w.set_user_env("Path", None);
}

#[test]
fn default_env_format_is_powershell_and_sh_under_msys_uses_semicolons() {
    let w = Wine::lock();
    let cache = tempfile::tempdir().unwrap();
    // wine hands a Unix SHELL to Windows programs, as Git Bash does: it must not pick sh.
    let out = w
        .trustrun(cache.path(), &[])
        .env("SHELL", "/bin/bash")
        .arg("env")
        .output()
        .unwrap();
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
    let cache_dir = windows_path(cache.path());
    assert!(
        text.contains(&format!("$env:SSL_CERT_FILE = '{cache_dir}\\bundles\\")),
        "{}",
        output_text(&out)
    );
    assert!(!text.contains("export "), "{}", output_text(&out));

    // Under MSYS2/Git Bash: sh syntax, and PYTHONPATH extended with ';' (Windows Python's).
    let msys = w
        .trustrun(cache.path(), &[])
        .env("MSYSTEM", "MINGW64")
        .arg("env")
        .output()
        .unwrap();
    assert_eq!(msys.status.code(), Some(0), "{}", output_text(&msys));
    let script = stdout(&msys);
    assert!(
        script.contains(&format!("export SSL_CERT_FILE='{cache_dir}\\bundles\\")),
        "{script}"
    );
    // Run it in a real sh with a Windows-style PYTHONPATH already set, twice.
    let shell = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{script}\n{script}\nprintf '%s' \"$PYTHONPATH\""))
        .env("PYTHONPATH", r"C:\mine")
        .output()
        .unwrap();
    let python_path = stdout(&shell);
    let parts: Vec<&str> = python_path.split(';').collect();
    assert_eq!(parts.len(), 2, "{python_path:?}\n{}", output_text(&shell));
    assert!(
        parts[0].starts_with(&format!("{cache_dir}\\python-")),
        "{python_path:?}"
    );
    assert_eq!(parts[1], r"C:\mine");
}

#[test]
fn env_format_cmd_called_by_wine_cmd_then_a_client_verifies() {
    let w = Wine::lock();
    let world = World::new();
    let cache = world.cache.path();
    let script = world.cache.path().join("trust.cmd");
    let env = w
        .trustrun(cache, &[])
        .args(["env", "--format", "cmd", "--ca"])
        .arg(windows_path(&world.pki.root_pem))
        .output()
        .unwrap();
    assert_eq!(env.status.code(), Some(0), "{}", output_text(&env));
    fs::write(&script, stdout(&env).replace('\n', "\r\n")).unwrap();
    let client = windows_path(&w.client);
    let line = format!(
        "call {} && {client} {}",
        windows_path(&script),
        world.server.url
    );
    let out = w
        .command("cmd", cache, &[])
        .args(["/c", &line])
        .output()
        .unwrap();
    assert_client_ok(&out);
    // Control: the client without the script.
    let control = w
        .command("cmd", cache, &[])
        .args(["/c", &format!("{client} {}", world.server.url)])
        .output()
        .unwrap();
    crate::common::assert_certificate_failure(&control);
}

#[test]
fn config_path_and_cache_live_in_the_windows_profile() {
    let w = Wine::lock();
    let cache = tempfile::tempdir().unwrap();
    let config = w
        .trustrun(cache.path(), &[])
        .args(["config", "path"])
        .output()
        .unwrap();
    assert_eq!(config.status.code(), Some(0), "{}", output_text(&config));
    assert_eq!(
        stdout(&config).trim(),
        r"C:\users\root\AppData\Roaming\trustrun\config.toml",
        "{}",
        output_text(&config)
    );

    // Without TRUSTRUN_CACHE_DIR the bundle goes under %LOCALAPPDATA%.
    let bundle = w
        .trustrun(cache.path(), &[])
        .env_remove("TRUSTRUN_CACHE_DIR")
        .arg("bundle")
        .output()
        .unwrap();
    let path = stdout(&bundle).trim().to_owned();
    assert!(
        path.starts_with(r"C:\users\root\AppData\Local\trustrun\"),
        "{}",
        output_text(&bundle)
    );
    assert!(w.c_drive(&path).is_file(), "{path}");
    assert_no_verbatim_prefix(&bundle);
}

/// The host pids of running wine processes whose command line has `token`.
fn pids_with(token: &str) -> Vec<u32> {
    let mut out = Vec::new();
    for entry in fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        if let Ok(cmdline) = fs::read(entry.path().join("cmdline"))
            && String::from_utf8_lossy(&cmdline).contains(token)
        {
            out.push(pid);
        }
    }
    out
}

fn wait_for(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    eprintln!("gave up waiting for {what}");
    false
}

/// The command lines of the processes `pids_with(token)` finds, arguments joined by spaces.
fn describe(token: &str) -> Vec<String> {
    pids_with(token)
        .into_iter()
        .map(|p| {
            let raw = fs::read(format!("/proc/{p}/cmdline")).unwrap_or_default();
            String::from_utf8_lossy(&raw).replace('\0', " ")
        })
        .collect()
}

fn kill_all(pids: &[u32]) {
    for pid in pids {
        let _ = std::process::Command::new("kill")
            .arg("-9")
            .arg(pid.to_string())
            .status();
    }
}

/// Starts `parent` (whose command line has `token`, as its sleeper child's has), waits for the
/// child, kills the parent with SIGKILL (no chance to clean up) and tells whether the child
/// outlived it by `grace`. Kills any survivor afterwards.
fn child_outlives(mut parent: std::process::Command, token: &str, grace: Duration) -> bool {
    let mut parent = parent.spawn().unwrap();
    // The child proper: its own program started (not a parent's fork on its way there). A
    // moment more lets the parent finish what it does right after starting it (join a job).
    let is_child = |c: &String| {
        c.split(' ')
            .next()
            .is_some_and(|p| p.ends_with("sleeper.exe"))
            && !c.contains(" parent ")
    };
    assert!(
        wait_for("the child", Duration::from_secs(60), || {
            describe(token).iter().any(is_child)
        }),
        "the child never started: {:?}",
        describe(token)
    );
    std::thread::sleep(Duration::from_secs(1));
    parent.kill().unwrap();
    parent.wait().unwrap();
    let died = wait_for("the child to die", grace, || pids_with(token).is_empty());
    let left = pids_with(token);
    kill_all(&left);
    !died
}

#[test]
fn killing_trustrun_exe_kills_the_child() {
    let w = Wine::lock();
    let cache = tempfile::tempdir().unwrap();
    let sleeper = windows_path(&w.sleeper);

    // Control: a parent without a Job Object dies, its child lives on.
    let token = format!("trustrun-orphan-{}", std::process::id());
    let mut control = w.command(&w.sleeper, cache.path(), &[]);
    control.args(["parent", &token, "60"]);
    assert!(
        child_outlives(control, &token, Duration::from_secs(5)),
        "the control's child died with its parent: the check below would prove nothing"
    );

    // trustrun.exe killed: its job takes the child along.
    let token = format!("trustrun-tied-{}", std::process::id());
    let mut tied = w.trustrun(cache.path(), &[]);
    tied.args([&sleeper, &token, "60"]);
    assert!(
        !child_outlives(tied, &token, Duration::from_secs(15)),
        "the child outlived trustrun.exe"
    );
}

/// The text a wine command printed, as one line of words (doctor wraps under 100 columns).
fn words(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Every message that names a command names PowerShell's (cmd's when cmd.exe runs trustrun):
/// `--help`, doctor's steps and fixes, `shim install`, a `~` that was not expanded, the stale
/// bundle. No `eval`, no `~/.bashrc`, no `~` in an example, no update-ca-certificates.
#[test]
fn windows_messages_name_powershell_commands_and_cmds_under_cmd() {
    let w = Wine::lock();
    let world = World::new();
    let cache = world.cache.path();
    let unix_words = [
        "eval ",
        "~/",
        ".bashrc",
        "`unset ",
        "export PATH",
        "update-ca-certificates",
    ];
    let assert_windows = |what: &str, text: &str| {
        for unix in unix_words {
            assert!(!text.contains(unix), "{what} names {unix:?}:\n{text}");
        }
    };

    // --help: the examples in PowerShell's syntax; under cmd, cmd's.
    let help = w.trustrun(cache, &[]).arg("--help").output().unwrap();
    let text = stdout(&help);
    assert!(
        text.contains(r"trustrun --ca $HOME\corp\root.pem pip install requests")
            && text.contains("trustrun env --format powershell | Out-String | Invoke-Expression")
            && text.contains("trustrun setup"),
        "{text}"
    );
    assert_windows("--help", &text);
    let trustrun = windows_path(&w.trustrun);
    let help = w
        .command("cmd", cache, &[])
        .args(["/c", &format!("{trustrun} --help")])
        .output()
        .unwrap();
    let text = stdout(&help);
    assert!(
        text.contains(r"trustrun --ca %USERPROFILE%\corp\root.pem pip install requests")
            && text.contains(r#"trustrun env --format cmd > "%TEMP%\trust.cmd" && call"#),
        "{}",
        output_text(&help)
    );
    assert_windows("--help under cmd", &text);

    // doctor, an intercepted host and an empty SSL_CERT_FILE: the fix and the next step in
    // PowerShell's words.
    let root = windows_path(&world.pki.root_pem);
    let host = format!("127.0.0.1:{}", world.server.port);
    let doctor = w
        .trustrun(cache, &[])
        .env("SSL_CERT_FILE", "")
        .args(["doctor", "--ca", &root, &host])
        .output()
        .unwrap();
    assert_eq!(doctor.status.code(), Some(0), "{}", output_text(&doctor));
    let said = words(&doctor);
    assert!(
        said.contains("next: Unset SSL_CERT_FILE (`Remove-Item Env:SSL_CERT_FILE`")
            && said.contains(
                "`trustrun setup`, then open a new terminal: every new shell and program of yours \
                 trusts the corporate root (or: for one command `trustrun python app.py`; for this \
                 shell only `trustrun env --format powershell | Out-String | Invoke-Expression`)"
            ),
        "{}",
        output_text(&doctor)
    );
    assert_windows("doctor", &stdout(&doctor));
    let doctor = w
        .command("cmd", cache, &[])
        .env("SSL_CERT_FILE", "")
        .args(["/c", &format!("{trustrun} doctor --ca {root} {host}")])
        .output()
        .unwrap();
    let said = words(&doctor);
    assert!(
        said.contains("(`set SSL_CERT_FILE=`") && said.contains("&& call"),
        "{}",
        output_text(&doctor)
    );
    assert_windows("doctor under cmd", &stdout(&doctor));

    // A quoted `~`, which PowerShell leaves to the program: the reason, in its words.
    let tilde = w
        .trustrun(cache, &[])
        .args(["--ca", r"~\corp\root.pem", "cmd", "/c", "exit"])
        .output()
        .unwrap();
    assert_eq!(tilde.status.code(), Some(2), "{}", output_text(&tilde));
    let err = String::from_utf8_lossy(&tilde.stderr);
    assert!(
        err.contains("no such file or directory (`~` was not expanded: PowerShell expands it only for its own commands")
            && err.contains(r"write $HOME\..."),
        "{err}"
    );

    // shim install: the user PATH has the directory now; this terminal alone does not.
    let shims = tempfile::tempdir_in(crate::common::repo().join("target")).unwrap();
    let dir = windows_path(&shims.path().join("shims"));
    let install = w
        .trustrun(cache, &[])
        .args(["shim", "install", "--dir", &dir, "tls_client"])
        .output()
        .unwrap();
    assert_eq!(install.status.code(), Some(0), "{}", output_text(&install));
    let text = stdout(&install);
    assert!(
        text.contains(&format!(
            "new terminals find the shims; for this one:\n    $env:Path = '{dir};' + $env:Path"
        )),
        "{text}"
    );
    assert!(
        !text.contains("$PROFILE") && !text.contains("Put "),
        "{text}"
    );
    let remove = w
        .trustrun(cache, &[])
        .args(["shim", "remove", "--dir", &dir])
        .output()
        .unwrap();
    assert_eq!(remove.status.code(), Some(0), "{}", output_text(&remove));

    // A bundle gone stale behind the warm path's back (a certificate changed in place, its
    // size and time kept): the remedy that works here.
    let bundles: Vec<_> = fs::read_dir(cache.join("bundles"))
        .unwrap()
        .map(|e| e.unwrap().path())
        // Its Java trust store (docs/java.md) sits beside it.
        .filter(|p| p.extension().is_none_or(|e| e != "p12"))
        .collect();
    assert_eq!(bundles.len(), 1, "{bundles:?}");
    let bundle = &bundles[0];
    let modified = fs::metadata(bundle).unwrap().modified().unwrap();
    let text = fs::read_to_string(bundle).unwrap();
    let end = text.rfind("-----END CERTIFICATE-----").unwrap();
    // A base64 letter in the last certificate's signature, a few lines before its end.
    let at = text[..end].rfind('\n').unwrap() - 70;
    let mut bytes = text.into_bytes();
    bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
    fs::write(bundle, &bytes).unwrap();
    fs::File::options()
        .write(true)
        .open(bundle)
        .unwrap()
        .set_modified(modified)
        .unwrap();
    let doctor = w
        .trustrun(cache, &[])
        .args(["doctor", "--ca", &root])
        .output()
        .unwrap();
    let said = words(&doctor);
    assert!(
        said.contains("the cached bundle is stale")
            && said.contains("delete the index directory in trustrun's cache, or wait: the OS store is read again within the hour"),
        "{}",
        output_text(&doctor)
    );
    assert_windows("doctor, stale", &stdout(&doctor));
}
