//! `trustrun setup` tried the way a hostile neighbour, a careless sudo, a dotfiles repository and
//! a busy terminal would try it: it never opens a door to another user,
//! never writes another user's file, never loses a line of the user's, never replaces a link,
//! never stops a change half-way because stdout went away, and leaves alone (with one warning and
//! exit code 1) a file it cannot safely change, finishing the others.

use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::os::unix::process::CommandExt;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use super::*;

const END: &str = "# <<< trustrun setup <<<";
const NOBODY: u32 = 65534;

fn mode(path: &Path) -> u32 {
    fs::symlink_metadata(path).unwrap().mode() & 0o7777
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn warnings(out: &Output) -> Vec<String> {
    stderr(out)
        .lines()
        .filter(|l| l.starts_with("trustrun: warning: "))
        .map(str::to_owned)
        .collect()
}

/// Exit code 1, exactly one warning naming `path` with `words`, and the closing error line.
fn assert_left_alone(out: &Output, path: &Path, words: &str) {
    let text = output_text(out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    let warnings = warnings(out);
    assert_eq!(warnings.len(), 1, "{text}");
    assert!(
        warnings[0].contains(&format!("{}: ", path.display())) && warnings[0].contains(words),
        "{words:?} about {} expected:\n{text}",
        path.display()
    );
    assert!(
        stderr(out).contains("1 file left alone (see the warnings above)"),
        "{text}"
    );
}

fn euid() -> u32 {
    fs::metadata("/proc/self").unwrap().uid()
}

fn assert_root(why: &str) {
    assert_eq!(euid(), 0, "this test needs root (CI runs as root): {why}");
}

/// Whether the unprivileged user `nobody` can create the file `path` (as a shell redirection).
fn nobody_can_create(path: &Path) -> bool {
    assert_root("it writes as `nobody`, another user");
    Command::new("/bin/sh")
        .arg("-c")
        .arg(": > \"$0\"")
        .arg(path)
        .uid(NOBODY)
        .gid(NOBODY)
        .stderr(Stdio::null())
        .status()
        .unwrap()
        .success()
}

impl Home {
    fn base(&self) -> &Path {
        self.home.parent().unwrap()
    }

    /// `trustrun ARGS` as this user.
    fn trustrun(&self) -> Command {
        let mut cmd = self.world.trustrun();
        self.user(&mut cmd);
        cmd
    }

    fn root_ca(&self) -> String {
        self.world.pki.root_pem.to_str().unwrap().to_owned()
    }

    fn read(&self, name: &str) -> String {
        fs::read_to_string(self.path().join(name)).unwrap()
    }

    fn record(&self) -> PathBuf {
        self.path().join(".local/share/trustrun/user-env.json")
    }

    /// The files under HOME that hold a begin marker.
    fn with_blocks(&self) -> Vec<PathBuf> {
        self.snapshot()
            .into_iter()
            .filter(|(_, bytes)| String::from_utf8_lossy(bytes).contains(BEGIN))
            .map(|(p, _)| p)
            .collect()
    }
}

// ---- directory modes ----------------------------------------------------------------------------

#[test]
fn directories_setup_makes_are_never_writable_by_others_whatever_the_umask() {
    let h = Home::new();
    let mut cmd = Command::new("/bin/sh");
    clean(&mut cmd, &h.cache);
    h.user(&mut cmd)
        .arg("-c")
        .arg("umask 000; exec \"$0\" \"$@\"")
        .arg(trustrun_bin())
        .args(["setup", "--ca", &h.root_ca()]);
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
    let home = h.path();
    // Shells read these (0755, as they make them); trustrun's own is private.
    for (dir, want) in [
        (".config", 0o755),
        (".config/fish", 0o755),
        (".config/fish/conf.d", 0o755),
        (".local", 0o755),
        (".local/share", 0o755),
        (".local/share/trustrun", 0o700),
    ] {
        assert_eq!(
            mode(&home.join(dir)),
            want,
            "{dir}: {:o}",
            mode(&home.join(dir))
        );
    }
    assert_eq!(mode(&home.join(".config/fish/conf.d/trustrun.fish")), 0o644);
    assert_eq!(mode(&home.join(".profile")), 0o644);
    assert_eq!(mode(&h.record()), 0o600);

    // Control: `nobody` does create a file in a directory of this home that others may write,
    // so the refusals below come from the modes, not from how the test writes.
    let open = home.join("open");
    fs::create_dir(&open).unwrap();
    fs::set_permissions(&open, fs::Permissions::from_mode(0o777)).unwrap();
    assert!(nobody_can_create(&open.join("x")));
    assert!(!nobody_can_create(
        &home.join(".config/fish/conf.d/evil.fish")
    ));
    assert!(!nobody_can_create(&home.join(".local/share/evil")));
    assert!(!nobody_can_create(
        &home.join(".local/share/trustrun/user-env.json")
    ));
}

// ---- a stable path others could take over -------------------------------------------------------

#[test]
fn a_stable_path_below_a_directory_others_can_write_is_refused() {
    let h = Home::new();
    // Control: another user really can create a directory in /tmp (sticky or not), which is all
    // it takes once the cache there is gone after a reboot.
    assert_root("it creates a directory as `nobody`, another user");
    let squat = Path::new("/tmp").join(format!("trustrun-test-squat-{}", std::process::id()));
    let made = Command::new("mkdir")
        .arg(&squat)
        .uid(NOBODY)
        .gid(NOBODY)
        .status()
        .unwrap();
    assert!(made.success() && fs::metadata(&squat).unwrap().uid() == NOBODY);
    fs::remove_dir(&squat).unwrap();

    let tmp = tempfile::tempdir_in("/tmp").unwrap();
    let in_tmp = tmp.path().join("cache");
    let out = h.setup_with(&["--ca", &h.root_ca()], &[("TRUSTRUN_CACHE_DIR", &in_tmp)]);
    let text = output_text(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    let err = one_line_stderr(&out);
    assert!(
        err.contains("/tmp can be written by other users (mode 1777)")
            && err.contains(&in_tmp.join("current.pem").display().to_string())
            && err.contains("TRUSTRUN_CACHE_DIR"),
        "{text}"
    );
    assert_eq!(
        fs::read_dir(h.path()).unwrap().count(),
        0,
        "setup wrote in HOME"
    );
    assert!(!in_tmp.exists(), "setup made the cache it refused");

    // Group-writable is others too.
    let shared = h.base().join("shared");
    fs::create_dir(&shared).unwrap();
    fs::set_permissions(&shared, fs::Permissions::from_mode(0o775)).unwrap();
    let out = h.setup_with(&[], &[("TRUSTRUN_CACHE_DIR", &shared.join("cache"))]);
    assert_eq!(out.status.code(), Some(1), "{}", output_text(&out));
    assert!(
        stderr(&out).contains(&format!(
            "{} can be written by other users (mode 775)",
            shared.display()
        )),
        "{}",
        output_text(&out)
    );
    assert_eq!(fs::read_dir(h.path()).unwrap().count(), 0);
}

// ---- sudo -E, owners ----------------------------------------------------------------------------

#[test]
fn under_sudo_e_another_users_home_is_refused_and_nothing_written() {
    assert_root("it plays root under `sudo -E`");
    let h = Home::new();
    let alice = h.base().join("alice");
    fs::create_dir(&alice).unwrap();
    fs::set_permissions(&alice, fs::Permissions::from_mode(0o755)).unwrap();
    for (name, text) in [(".profile", "# alice\n"), (".bashrc", "alias a=b\n")] {
        fs::write(alice.join(name), text).unwrap();
        std::os::unix::fs::chown(alice.join(name), Some(4242), Some(4242)).unwrap();
    }
    std::os::unix::fs::chown(&alice, Some(4242), Some(4242)).unwrap();
    let ca = h.root_ca();
    for args in [&["setup", "--ca", &ca][..], &["setup", "--undo"]] {
        let mut cmd = h.world.trustrun();
        let out = cmd
            .env("HOME", &alice)
            .env("TRUSTRUN_CACHE_DIR", &h.cache)
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("XDG_DATA_HOME")
            .args(args)
            .output()
            .unwrap();
        let text = output_text(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {text}");
        let err = one_line_stderr(&out);
        assert!(
            err.contains(&alice.display().to_string())
                && err.contains("belongs to uid 4242")
                && err.contains("not with -E"),
            "{args:?}: {text}"
        );
        let mut names: Vec<String> = fs::read_dir(&alice)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, [".bashrc", ".profile"], "{args:?}");
        assert_eq!(
            fs::read_to_string(alice.join(".profile")).unwrap(),
            "# alice\n"
        );
        assert_eq!(
            fs::read_to_string(alice.join(".bashrc")).unwrap(),
            "alias a=b\n"
        );
        assert_eq!(fs::metadata(alice.join(".profile")).unwrap().uid(), 4242);
        assert!(
            !h.stable().exists(),
            "{args:?}: a stable bundle for alice's profiles"
        );
    }
}

#[test]
fn a_profile_keeps_its_group_and_mode_and_another_users_profile_is_left_alone() {
    assert_root("it gives files other owners and groups");
    let h = Home::new();
    let bashrc = h.path().join(".bashrc");
    fs::write(&bashrc, "alias a=b\n").unwrap();
    std::os::unix::fs::chown(&bashrc, None, Some(4243)).unwrap();
    fs::set_permissions(&bashrc, fs::Permissions::from_mode(0o640)).unwrap();
    // Left by an earlier mistake: a file of another user's in our home.
    let profile = h.path().join(".profile");
    fs::write(&profile, "# theirs\n").unwrap();
    std::os::unix::fs::chown(&profile, Some(4242), Some(4242)).unwrap();

    let out = h.setup(&["--ca", &h.root_ca()]);
    assert_left_alone(&out, &profile, "belongs to uid 4242, not to us (uid 0)");
    assert_eq!(h.read(".profile"), "# theirs\n");
    assert_eq!(fs::metadata(&profile).unwrap().uid(), 4242);
    let meta = fs::metadata(&bashrc).unwrap();
    assert!(h.read(".bashrc").contains(BEGIN));
    assert_eq!(
        (meta.uid(), meta.gid(), meta.mode() & 0o7777),
        (0, 4243, 0o640),
        "owner, group and mode of the rewritten profile"
    );

    // Nothing of ours in their file: undo has nothing to refuse there.
    let out = h.setup(&["--undo"]);
    assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
    assert_eq!(h.read(".bashrc"), "alias a=b\n");
    let meta = fs::metadata(&bashrc).unwrap();
    assert_eq!(
        (meta.uid(), meta.gid(), meta.mode() & 0o7777),
        (0, 4243, 0o640)
    );
}

// ---- markers that do not pair, lines that are not ours ------------------------------------------

#[test]
fn an_unpaired_marker_is_refused_with_its_line_and_no_user_line_is_lost() {
    let h = Home::new();
    let bashrc = h.path().join(".bashrc");
    let original = format!("alias a=b\n{BEGIN}\nexport EDITOR=vim\nalias ll='ls -l'\n");
    fs::write(&bashrc, &original).unwrap();

    let out = h.setup(&["--ca", &h.root_ca()]);
    assert_left_alone(
        &out,
        &bashrc,
        &format!("line 2: `{BEGIN}` without `{END}` after it"),
    );
    assert_eq!(h.read(".bashrc"), original);
    // The other files were set up.
    assert!(h.read(".profile").contains(BEGIN));
    assert!(h.read(".config/fish/conf.d/trustrun.fish").contains(BEGIN));

    let out = h.setup(&["--undo"]);
    assert_left_alone(&out, &bashrc, "line 2:");
    assert_eq!(h.read(".bashrc"), original);
    assert_eq!(
        h.with_blocks(),
        vec![bashrc.clone()],
        "the others are undone"
    );

    // An end marker alone.
    let lone_end = format!("alias a=b\n{END}\nalias c=d\n");
    fs::write(&bashrc, &lone_end).unwrap();
    let out = h.setup(&["--ca", &h.root_ca()]);
    assert_left_alone(
        &out,
        &bashrc,
        &format!("line 2: `{END}` without `{BEGIN}` before it"),
    );
    assert_eq!(h.read(".bashrc"), lone_end);
}

#[test]
fn a_users_edit_inside_the_block_is_reported_never_overwritten() {
    let h = Home::new();
    fs::write(h.path().join(".bashrc"), "alias a=b\n").unwrap();
    h.setup_ok(&["--ca", &h.root_ca()]);
    let bashrc = h.path().join(".bashrc");
    // A line of their own between our markers.
    let edited = h.read(".bashrc").replacen(
        "export SSL_CERT_FILE=",
        "export EDITOR=vim\nexport SSL_CERT_FILE=",
        1,
    );
    fs::write(&bashrc, &edited).unwrap();
    let line = edited
        .lines()
        .position(|l| l == "export EDITOR=vim")
        .unwrap()
        + 1;
    let out = h.setup(&["--ca", &h.root_ca()]);
    assert_left_alone(
        &out,
        &bashrc,
        &format!("line {line}: `export EDITOR=vim` is inside"),
    );
    assert_eq!(h.read(".bashrc"), edited);
    let out = h.setup(&["--undo"]);
    assert_left_alone(&out, &bashrc, &format!("line {line}:"));
    assert_eq!(h.read(".bashrc"), edited);

    // One of our variables pointed at a file of their own.
    let h = Home::new();
    h.setup_ok(&["--ca", &h.root_ca()]);
    let profile = h.path().join(".profile");
    let stable = format!("'{}'", h.stable().display());
    let edited = h.read(".profile").replacen(
        &format!("export SSL_CERT_FILE={stable}"),
        "export SSL_CERT_FILE='/etc/ssl/mine.pem'",
        1,
    );
    assert_ne!(edited, h.read(".profile"));
    fs::write(&profile, &edited).unwrap();
    let out = h.setup(&["--ca", &h.root_ca()]);
    assert_left_alone(
        &out,
        &profile,
        "`export SSL_CERT_FILE='/etc/ssl/mine.pem'` is inside",
    );
    assert_eq!(h.read(".profile"), edited);
}

// ---- setups at the same time, blocks without a record -------------------------------------------

#[test]
fn setups_at_the_same_time_keep_every_change_for_undo() {
    let h = Home::new();
    fs::write(h.path().join(".bashrc"), "alias a=b\n").unwrap();
    // As a fish user has it: the runs race on the record, not on making directories.
    fs::create_dir_all(h.path().join(".config/fish/conf.d")).unwrap();
    let ca = h.root_ca();
    for round in 0..8 {
        let children: Vec<Child> = (0..3)
            .map(|_| {
                h.trustrun()
                    .args(["setup", "--ca", &ca])
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for child in children {
            let out = child.wait_with_output().unwrap();
            assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
        }
        // Every block in place is in the record.
        let record = fs::read_to_string(h.record()).unwrap();
        let mut recorded: Vec<PathBuf> = serde_json::from_str::<serde_json::Value>(&record)
            .unwrap()["changes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["kind"] == "block_added")
            .map(|c| PathBuf::from(c["path"].as_str().unwrap()))
            .collect();
        recorded.sort();
        assert_eq!(recorded, h.with_blocks(), "round {round}: {record}");

        let undo = h.setup(&["--undo"]);
        assert_eq!(undo.status.code(), Some(0), "{}", output_text(&undo));
        assert_eq!(h.with_blocks(), Vec::<PathBuf>::new(), "round {round}");
        assert_eq!(h.read(".bashrc"), "alias a=b\n");
    }

    // In a fresh home the runs also race to make the same directories.
    let fresh = Home::new();
    let children: Vec<Child> = (0..3)
        .map(|_| {
            fresh
                .trustrun()
                .args(["setup", "--ca", &ca])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
    }
    fresh.setup_ok(&["--undo"]);
    assert_eq!(fresh.with_blocks(), Vec::<PathBuf>::new());
}

#[test]
fn undo_takes_back_a_block_the_record_never_saw() {
    let mine = "alias ll='ls -l'\n";
    let laptop = Home::new();
    fs::write(laptop.path().join(".bashrc"), mine).unwrap();
    laptop.setup_ok(&["--ca", &laptop.root_ca()]);
    let synced = laptop.read(".bashrc");

    // The dotfiles repository brings the profile, block and all, to a home setup never ran in.
    let desktop = Home::new();
    fs::write(desktop.path().join(".bashrc"), &synced).unwrap();
    let out = desktop.setup_ok(&["--undo", "--dry-run"]);
    assert!(
        out.contains("not in the record: found by its markers"),
        "{out}"
    );
    assert_eq!(desktop.read(".bashrc"), synced);
    let out = desktop.setup_ok(&["--undo"]);
    assert!(out.contains("undone"), "{out}");
    assert_eq!(desktop.read(".bashrc"), mine);

    // Setup over such a profile records the block it found, so undo restores the file.
    fs::write(desktop.path().join(".bashrc"), &synced).unwrap();
    desktop.setup_ok(&["--ca", &desktop.root_ca()]);
    desktop.setup_ok(&["--undo"]);
    assert_eq!(desktop.read(".bashrc"), mine);
}

// ---- symbolic links -----------------------------------------------------------------------------

#[test]
fn a_symlinked_profile_is_written_through_and_a_dangling_one_left_alone() {
    let h = Home::new();
    let dotfiles = h.path().join("dotfiles");
    fs::create_dir(&dotfiles).unwrap();
    fs::write(dotfiles.join("bashrc"), "alias a=b\n").unwrap();
    std::os::unix::fs::symlink("dotfiles/bashrc", h.path().join(".bashrc")).unwrap();
    // The repository is not checked out here (yet): the link dangles.
    let profile = h.path().join(".profile");
    std::os::unix::fs::symlink("dotfiles/profile", &profile).unwrap();

    let out = h.setup(&["--ca", &h.root_ca()]);
    assert_left_alone(
        &out,
        &profile,
        "a symbolic link to dotfiles/profile, which does not exist",
    );
    assert!(
        fs::symlink_metadata(&profile)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(!dotfiles.join("profile").exists());
    let link = fs::symlink_metadata(h.path().join(".bashrc")).unwrap();
    assert!(link.file_type().is_symlink(), "the link was replaced");
    assert!(
        fs::read_to_string(dotfiles.join("bashrc"))
            .unwrap()
            .contains(BEGIN)
    );

    let out = h.setup(&["--undo"]);
    assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
    assert_eq!(
        fs::read_link(h.path().join(".bashrc")).unwrap(),
        Path::new("dotfiles/bashrc")
    );
    assert_eq!(
        fs::read_to_string(dotfiles.join("bashrc")).unwrap(),
        "alias a=b\n"
    );
    assert_eq!(
        fs::read_link(&profile).unwrap(),
        Path::new("dotfiles/profile")
    );
}

// ---- a stdout gone or full ---------------------------------------------------------------------

#[test]
fn a_closed_stdout_neither_panics_nor_stops_a_change_half_way() {
    let h = Home::new();
    fs::write(h.path().join(".bashrc"), "alias a=b\n").unwrap();
    let closed = |args: &[&str]| {
        // The reader is gone before trustrun writes, as with `| head -0`.
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = h.trustrun().args(args).stdout(writer).output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            output_text(&out)
        );
        assert!(out.stderr.is_empty(), "{args:?}: {}", output_text(&out));
    };
    let targets = [
        ".profile",
        ".bashrc",
        ".zshenv",
        ".config/fish/conf.d/trustrun.fish",
    ];
    fs::write(h.path().join(".zshrc"), "").unwrap();
    closed(&["setup", "--ca", &h.root_ca()]);
    for name in targets {
        assert!(
            h.read(name).contains(BEGIN),
            "{name}: setup stopped half-way"
        );
    }
    assert!(h.record().is_file());
    closed(&["setup", "--dry-run", "--ca", &h.root_ca()]);
    closed(&["setup", "--refresh"]);
    closed(&["setup", "--undo", "--dry-run"]);
    closed(&["setup", "--undo"]);
    assert_eq!(
        h.with_blocks(),
        Vec::<PathBuf>::new(),
        "undo stopped half-way"
    );
    assert_eq!(h.read(".bashrc"), "alias a=b\n");
    assert!(!h.record().exists());
    closed(&["completions", "bash"]);

    // A full disk on stdout: the change is made, then one line says the output was lost.
    let full = fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let out = h
        .trustrun()
        .args(["setup", "--ca", &h.root_ca()])
        .stdout(full)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", output_text(&out));
    assert!(
        one_line_stderr(&out)
            .starts_with("trustrun: cannot write to standard output: No space left on device"),
        "{}",
        output_text(&out)
    );
    for name in targets {
        assert!(h.read(name).contains(BEGIN), "{name}");
    }
}

// ---- files setup must not write as it found them ------------------------------------------------

#[test]
fn a_read_only_profile_is_left_alone_and_said_so() {
    let h = Home::new();
    let bashrc = h.path().join(".bashrc");
    fs::write(&bashrc, "alias a=b\n").unwrap();
    fs::set_permissions(&bashrc, fs::Permissions::from_mode(0o444)).unwrap();
    let out = h.setup(&["--ca", &h.root_ca()]);
    assert_left_alone(&out, &bashrc, "read-only (mode 444)");
    assert_eq!(h.read(".bashrc"), "alias a=b\n");
    assert_eq!(mode(&bashrc), 0o444);
    assert!(h.read(".profile").contains(BEGIN));
}

#[test]
fn a_hard_linked_profile_is_written_in_place() {
    let h = Home::new();
    let dotfiles = h.path().join("dotfiles");
    fs::create_dir(&dotfiles).unwrap();
    fs::write(dotfiles.join("bashrc"), "alias a=b\n").unwrap();
    fs::hard_link(dotfiles.join("bashrc"), h.path().join(".bashrc")).unwrap();
    let inode = fs::metadata(dotfiles.join("bashrc")).unwrap().ino();

    h.setup_ok(&["--ca", &h.root_ca()]);
    assert_eq!(fs::metadata(h.path().join(".bashrc")).unwrap().ino(), inode);
    assert!(
        fs::read_to_string(dotfiles.join("bashrc"))
            .unwrap()
            .contains(BEGIN)
    );
    h.setup_ok(&["--undo"]);
    assert_eq!(fs::metadata(h.path().join(".bashrc")).unwrap().ino(), inode);
    assert_eq!(
        fs::read_to_string(dotfiles.join("bashrc")).unwrap(),
        "alias a=b\n"
    );
}

#[test]
fn a_fifo_where_a_profile_should_be_is_never_opened() {
    let h = Home::new();
    let bashrc = h.path().join(".bashrc");
    let made = Command::new("mkfifo").arg(&bashrc).status().unwrap();
    assert!(made.success());
    let mut child = h
        .trustrun()
        .args(["setup", "--ca", &h.root_ca()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(30) {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("setup hung on the FIFO");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    assert_left_alone(&out, &bashrc, "not a regular file");
    assert!(fs::symlink_metadata(&bashrc).unwrap().file_type().is_fifo());
    assert!(h.read(".profile").contains(BEGIN));
}

#[test]
fn text_that_is_not_utf8_or_a_directory_is_skipped_and_the_rest_done() {
    let h = Home::new();
    let bashrc = h.path().join(".bashrc");
    fs::write(&bashrc, b"alias a='\xff\xfe'\n").unwrap();
    let fish = h.path().join(".config/fish/conf.d/trustrun.fish");
    fs::create_dir_all(&fish).unwrap();
    // zsh's file comes after both in setup's order.
    fs::write(h.path().join(".zshrc"), "").unwrap();

    let out = h.setup(&["--ca", &h.root_ca()]);
    let text = output_text(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    let warnings = warnings(&out);
    assert_eq!(warnings.len(), 2, "{text}");
    assert!(
        warnings[0].contains(&format!("{}: not UTF-8 text", bashrc.display())),
        "{text}"
    );
    assert!(
        warnings[1].contains(&format!("{}: a directory", fish.display())),
        "{text}"
    );
    assert!(stderr(&out).contains("2 files left alone"), "{text}");
    assert_eq!(fs::read(&bashrc).unwrap(), b"alias a='\xff\xfe'\n");
    assert_eq!(fs::read_dir(&fish).unwrap().count(), 0);
    assert!(h.read(".profile").contains(BEGIN));
    assert!(
        h.read(".zshenv").contains(BEGIN),
        "setup stopped at the first bad file"
    );
}

#[test]
fn dry_run_creates_nothing_not_even_the_cache() {
    let h = Home::new();
    let out = h.setup_ok(&["--dry-run", "--python", "--ca", &h.root_ca()]);
    assert!(out.contains("would add"), "{out}");
    assert!(!h.cache.exists(), "--dry-run created the cache");
    assert_eq!(
        fs::read_dir(h.path()).unwrap().count(),
        0,
        "--dry-run wrote in HOME"
    );
    let out = h.setup_ok(&["--undo", "--dry-run"]);
    assert!(out.contains("not in place"), "{out}");
    assert_eq!(fs::read_dir(h.path()).unwrap().count(), 0);
}

#[test]
fn undo_leaves_no_empty_trustrun_directory_behind() {
    let h = Home::new();
    h.setup_ok(&["--ca", &h.root_ca()]);
    let own = h.path().join(".local/share/trustrun");
    assert!(own.is_dir());
    h.setup_ok(&["--undo"]);
    assert!(!own.exists(), "{} is left", own.display());
    // With the shims in it, it stays.
    fs::create_dir_all(own.join("shims")).unwrap();
    h.setup_ok(&["--ca", &h.root_ca()]);
    h.setup_ok(&["--undo"]);
    assert!(own.join("shims").is_dir());
    assert!(!h.record().exists());
}
