//! One end-to-end case's world (PKI, server, private cache), the one way to run a Python client
//! against it through trustrun or alone, and the assertions on what the client printed.

use std::ffi::{OsStr, OsString};
use std::path::PathBuf;
use std::process::{Command, Output};

use super::{Pki, Server, clean, client_script, output_text, trustrun_bin, venv_python};

/// Everything one end-to-end test needs: PKI, server, a private cache.
pub struct World {
    pub pki: Pki,
    pub server: Server,
    pub cache: tempfile::TempDir,
}

impl World {
    pub fn new() -> World {
        let pki = Pki::corporate();
        let server = Server::start(pki.server_config.clone());
        World {
            pki,
            server,
            cache: tempfile::tempdir().unwrap(),
        }
    }

    /// `python client.py CLIENT URL` straight from the venv, without trustrun: the control.
    pub fn control(&self, client: &str) -> Output {
        self.alone(client).output()
    }

    /// The same through `trustrun --ca root.pem`.
    pub fn with_trustrun(&self, client: &str) -> Output {
        self.client(client).with_root().output()
    }

    /// A Python client of the test venv against this world's server, through trustrun (no
    /// `--ca` until asked for).
    pub fn client(&self, client: &str) -> ClientRun<'_> {
        ClientRun::new(self, client, true)
    }

    /// A Python client of the test venv against this world's server, without trustrun.
    pub fn alone(&self, client: &str) -> ClientRun<'_> {
        ClientRun::new(self, client, false)
    }

    /// `trustrun --ca CA true`: what trustrun makes of a CA file, with no client to run.
    pub fn trustrun_ca(&self, ca: impl AsRef<OsStr>) -> Output {
        let mut cmd = self.trustrun();
        cmd.arg("--ca").arg(ca).arg("true").output().unwrap()
    }

    /// `NAME=VALUE trustrun true`: what trustrun makes of a variable, with no client to run.
    pub fn trustrun_var(&self, name: &str, value: impl AsRef<OsStr>) -> Output {
        let mut cmd = self.trustrun();
        cmd.env(name, value).arg("true").output().unwrap()
    }

    /// A cleaned `trustrun` command using this world's cache.
    pub fn trustrun(&self) -> Command {
        let mut cmd = Command::new(trustrun_bin());
        clean(&mut cmd, self.cache.path());
        cmd
    }
}

/// The one spelling of "run a Python client (tests/python/client.py) against the test server",
/// through trustrun or alone, with the CA files, variables, trustrun options and Python flags a
/// case needs: `world.client("requests").with_root().output()`.
pub struct ClientRun<'w> {
    world: &'w World,
    client: String,
    through_trustrun: bool,
    python: PathBuf,
    trustrun_args: Vec<OsString>,
    python_args: Vec<OsString>,
    envs: Vec<(OsString, OsString)>,
}

impl<'w> ClientRun<'w> {
    fn new(world: &'w World, client: &str, through_trustrun: bool) -> ClientRun<'w> {
        ClientRun {
            world,
            client: client.to_owned(),
            through_trustrun,
            python: venv_python(),
            trustrun_args: Vec::new(),
            python_args: Vec::new(),
            envs: Vec::new(),
        }
    }

    /// `--ca PATH` (through trustrun only).
    pub fn ca(self, path: impl AsRef<OsStr>) -> Self {
        self.trustrun_args(["--ca".as_ref(), path.as_ref()])
    }

    /// `--ca` the world's corporate root.
    pub fn with_root(self) -> Self {
        let root = self.world.pki.root_pem.clone();
        self.ca(root)
    }

    /// trustrun's own options, before the program.
    pub fn trustrun_args<I, A>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = A>,
        A: AsRef<OsStr>,
    {
        assert!(
            self.through_trustrun,
            "trustrun options for a run without trustrun"
        );
        let args = args.into_iter().map(|a| a.as_ref().to_owned());
        self.trustrun_args.extend(args);
        self
    }

    /// Python's own options, before the client script (`-I`).
    pub fn python_arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.python_args.push(arg.as_ref().to_owned());
        self
    }

    /// Another interpreter than the test venv's.
    pub fn python(mut self, python: impl Into<PathBuf>) -> Self {
        self.python = python.into();
        self
    }

    pub fn env(mut self, name: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        let pair = (name.as_ref().to_owned(), value.as_ref().to_owned());
        self.envs.push(pair);
        self
    }

    pub fn command(&self) -> Command {
        let mut cmd = if self.through_trustrun {
            let mut cmd = self.world.trustrun();
            cmd.args(&self.trustrun_args).arg(&self.python);
            cmd
        } else {
            let mut cmd = Command::new(&self.python);
            clean(&mut cmd, self.world.cache.path());
            cmd
        };
        cmd.envs(self.envs.iter().map(|(k, v)| (k, v)))
            .args(&self.python_args)
            .arg(client_script())
            .args([&self.client, &self.world.server.url]);
        cmd
    }

    pub fn output(&self) -> Output {
        self.command().output().unwrap()
    }
}

/// Asserts the control failed on certificate verification, not for some other reason.
pub fn assert_certificate_failure(out: &Output) {
    let text = output_text(out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "expected a certificate failure:\n{text}"
    );
    assert!(
        text.contains("CERTIFICATE_VERIFY_FAILED"),
        "expected CERTIFICATE_VERIFY_FAILED:\n{text}"
    );
}

pub fn assert_ok(out: &Output, expected: &str) {
    let text = output_text(out);
    assert_eq!(out.status.code(), Some(0), "expected success:\n{text}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(&format!("OK {expected}")),
        "expected OK {expected}:\n{text}"
    );
}
