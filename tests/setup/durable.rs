//! What setup writes stays right after the moment it ran (issue 17, items 9, 12, 13, 21): a CA
//! variable the user exports in a profile keeps counting, `--python` survives an upgrade and the
//! cache's cleanup, no relative path is ever written for good, and the config's mistakes name
//! their key while its `~` means the home directory.

use super::*;

impl Home {
    fn text(&self, name: &str) -> String {
        fs::read_to_string(self.path().join(name)).unwrap()
    }
}

/// The lines of our block in `text` (markers included).
fn block_of(text: &str) -> String {
    let start = text.find(BEGIN).expect("no block");
    let end = text
        .find("# <<< trustrun setup <<<")
        .expect("no end marker");
    text[start..end].to_owned()
}

// ---- item 9: a CA variable exported in the profile itself ------------------------------------

#[test]
fn a_ca_variable_exported_in_a_profile_is_kept_and_its_file_trusted() {
    let h = Home::new();
    let mine = h.path().join("my-bundle.pem");
    fs::copy(&h.world.pki.root_pem, &mine).unwrap();
    // The user's own line, in the file setup appends its block to; setup runs from a shell that
    // has not read it (a new login does).
    fs::write(
        h.path().join(".profile"),
        "export REQUESTS_CA_BUNDLE=\"$HOME/my-bundle.pem\"\n",
    )
    .unwrap();
    // Control: their line makes requests trust the corporate root, and nothing makes urllib.
    assert_ok(&h.login_shell("bash", "requests"), "200");
    assert_certificate_failure(&h.login_shell("bash", "urllib"));

    let out = h.setup_ok(&[]);
    assert!(
        out.contains("kept         REQUESTS_CA_BUNDLE")
            && out.contains(&format!("{}:1", h.path().join(".profile").display())),
        "{out}"
    );
    let profile = h.text(".profile");
    let block = block_of(&profile);
    assert!(!block.contains("REQUESTS_CA_BUNDLE"), "{profile}");
    assert!(block.contains("SSL_CERT_FILE"), "{profile}");
    // Theirs still counts, and the stable bundle holds their file for the other clients.
    assert_ok(&h.login_shell("bash", "requests"), "200");
    assert_ok(&h.login_shell("bash", "urllib"), "200");
    // The stable bundle keeps following their file on later runs, as setup recorded it.
    assert!(h.setup_ok(&["--refresh"]).contains("unchanged"));
}

#[test]
fn a_users_fish_and_sh_spellings_are_all_read() {
    let h = Home::new();
    let mine = h.path().join("corp dir/node.pem");
    fs::create_dir_all(mine.parent().unwrap()).unwrap();
    fs::copy(&h.world.pki.root_pem, &mine).unwrap();
    fs::write(
        h.path().join(".bashrc"),
        "# export GIT_SSL_CAINFO=/nowhere\nAWS_CA_BUNDLE=~/'corp dir/node.pem'; export AWS_CA_BUNDLE\n",
    )
    .unwrap();
    fs::create_dir_all(h.path().join(".config/fish")).unwrap();
    fs::write(
        h.path().join(".config/fish/config.fish"),
        "set -gx NODE_EXTRA_CA_CERTS ~/'corp dir/node.pem'\n",
    )
    .unwrap();
    let out = h.setup_ok(&[]);
    for name in ["AWS_CA_BUNDLE", "NODE_EXTRA_CA_CERTS"] {
        assert!(out.contains(&format!("kept         {name}")), "{out}");
    }
    // A comment is not an assignment.
    assert!(!out.contains("GIT_SSL_CAINFO"), "{out}");
    for name in [".profile", ".bashrc", ".config/fish/conf.d/trustrun.fish"] {
        let block = block_of(&h.text(name));
        assert!(
            !block.contains("AWS_CA_BUNDLE") && !block.contains("NODE_EXTRA_CA_CERTS"),
            "{name}: {block}"
        );
    }
    // Their file is in the stable bundle: a login shell's urllib (SSL_CERT_FILE) trusts it.
    assert_ok(&h.login_shell("bash", "urllib"), "200");
}

// ---- item 12: --python survives an upgrade and the cache's cleanup ----------------------------

#[test]
fn python_setup_survives_an_upgrade_and_the_cleanup_of_old_support_directories() {
    let h = Home::new();
    h.setup_ok(&["--ca", h.world.pki.root_pem.to_str().unwrap(), "--python"]);
    // An upgrade brings a support directory of another name; cleanup removes the old one after
    // 30 days. Here: every content-named one is gone.
    for e in fs::read_dir(&h.cache).unwrap() {
        let p = e.unwrap().path();
        if p.file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("python-")
        {
            fs::remove_dir_all(&p).unwrap();
        }
    }
    let profile = h.text(".profile");
    assert!(!profile.contains("/python-"), "{profile}");
    assert_ok(&h.login_shell("bash", "requests-certifi"), "200");

    // What an upgrade changes reaches the stable directory at the next run of any trustrun.
    let stable_dir = h.cache.join("setup-python");
    let site = stable_dir.join("sitecustomize.py");
    let current = fs::read(&site).unwrap();
    fs::write(&site, "# sitecustomize of an older trustrun\n").unwrap();
    let mut cmd = h.world.trustrun();
    h.user(&mut cmd).arg("true");
    assert!(cmd.status().unwrap().success());
    assert_eq!(fs::read(&site).unwrap(), current);
    assert_ok(&h.login_shell("bash", "requests-certifi"), "200");
}

// ---- item 13: no relative path is written for good -------------------------------------------

#[test]
fn a_relative_home_is_refused_naming_the_variable_and_paths_are_absolute() {
    let h = Home::new();
    let base = h.path().parent().unwrap();
    let mut cmd = h.world.trustrun();
    h.user(&mut cmd)
        .env("HOME", "home")
        .env_remove("TRUSTRUN_CACHE_DIR")
        .current_dir(base)
        .args(["setup", "--ca", h.world.pki.root_pem.to_str().unwrap()]);
    let out = cmd.output().unwrap();
    let text = output_text(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{text}");
    assert!(
        stderr.contains("HOME=home") && stderr.contains("relative"),
        "{text}"
    );
    assert!(!h.path().join(".profile").exists(), "{text}");

    // A relative XDG_CACHE_HOME (and a relative TRUSTRUN_CACHE_DIR) never reach a profile.
    for (name, value) in [
        ("XDG_CACHE_HOME", "cache"),
        ("TRUSTRUN_CACHE_DIR", "cache2"),
    ] {
        let mut cmd = h.world.trustrun();
        h.user(&mut cmd)
            .env_remove("TRUSTRUN_CACHE_DIR")
            .env(name, value)
            .current_dir(base)
            .args(["setup", "--ca", h.world.pki.root_pem.to_str().unwrap()]);
        let out = cmd.output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
        for line in h
            .text(".profile")
            .lines()
            .filter(|l| l.starts_with("export "))
        {
            let value = line.split_once("='").unwrap().1;
            assert!(
                value.starts_with('/') || !value.contains('/'),
                "{name}: {line}"
            );
        }
    }

    // `trustrun env` with a relative HOME prints absolute paths (what docker needs for a mount).
    let mut cmd = h.world.trustrun();
    h.user(&mut cmd)
        .env("HOME", "home")
        .env_remove("TRUSTRUN_CACHE_DIR")
        .current_dir(base)
        .args(["env", "--format", "sh"]);
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
    for line in stdout.lines().filter(|l| l.starts_with("export ")) {
        let value = line.split_once("='").unwrap().1;
        assert!(value.starts_with('/') || !value.contains('/'), "{line}");
    }
}

// ---- item 21: the config names its key, and `~` is home -------------------------------------

#[test]
fn config_type_errors_name_the_key_and_the_type_and_tilde_is_home() {
    let h = Home::new();
    let config = h.path().join(".config/trustrun/config.toml");
    fs::create_dir_all(config.parent().unwrap()).unwrap();
    let show = |text: &str| {
        fs::write(&config, text).unwrap();
        let mut cmd = h.world.trustrun();
        h.user(&mut cmd).args(["config", "show"]);
        cmd.output().unwrap()
    };
    for (text, key, expected) in [
        ("ca = 5\n", "ca", "a path or a list of paths"),
        (
            "truststore = \"auto\"\nca = [\"a.pem\", 1]\n",
            "ca",
            "a string",
        ),
        ("strict = \"yes\"\n", "strict", "true or false"),
        ("leave_alone = \"PIP_CERT\"\n", "leave_alone", "a list"),
    ] {
        let out = show(text);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{text}: {}", output_text(&out));
        assert_eq!(stderr.lines().count(), 1, "{}", output_text(&out));
        assert!(
            stderr.contains(&format!("key `{key}`")) && stderr.contains(expected),
            "{text}: {stderr}"
        );
        assert!(!stderr.contains("untagged enum"), "{stderr}");
    }
    // `~` alone and `~/x` are the home directory, as in a shell.
    fs::copy(&h.world.pki.root_pem, h.path().join("corp.pem")).unwrap();
    let out = show("ca = [\"~/corp.pem\", \"~\"]\n");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!("{}/corp.pem", h.path().display())),
        "{}",
        output_text(&out)
    );
    assert!(!stdout.contains("/~"), "{}", output_text(&out));
    let home = h.path().display().to_string();
    assert!(
        stdout
            .match_indices(&home)
            .any(|(i, _)| !stdout[i + home.len()..].starts_with('/')),
        "{}",
        output_text(&out)
    );
}
