//! The private Docker engine for the tests that build images: Debian 13's dockerd 26.1 (a BuildKit
//! with named build contexts) in a network namespace of its own, with a Debian 13 base image.
//! `.ci/engine` owns how it is made, started and laid out; this module starts it (or reuses the
//! one running for this checkout) once per test process and reads what `.ci/engine env` prints.
//!
//! Builds and containers on host networking run in that namespace: a test server they reach on
//! 127.0.0.1 must listen there (`Engine::start_server`), and a program of the test that talks to
//! it must start there (`Engine::enter`). Name the binaries: `Engine::docker` is the 26.1 CLI,
//! not /usr/local/bin/docker (a 28 client) nor the host's 20.10 engine that tests/containers.rs
//! uses.

use std::collections::HashMap;
use std::fs::File;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, OnceLock};

use super::{Routes, Server, is_trust_variable, output_text, repo};

/// The running private engine: where its socket, client, plugins, namespace and base image are.
pub struct Engine {
    host: String,
    config: PathBuf,
    docker: PathBuf,
    compose: PathBuf,
    buildx: PathBuf,
    bin_dir: PathBuf,
    netns: PathBuf,
    base_image: String,
}

/// The engine, started by the first test of this process that asks (`.ci/engine start`: the
/// first time on a machine it downloads the engine and makes the base image, a minute or two)
/// and shared by every test after it. A daemon already running for this checkout (started by
/// .ci/run or another test process) is reused. A machine where it cannot start fails the test.
pub fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let script = repo().join(".ci/engine");
        // Straight to the terminal, past the test harness's capture: a cold start takes minutes.
        let _ = writeln!(
            std::io::stderr(),
            "starting the private engine ({script:?} start)"
        );
        let start = Command::new(&script)
            .arg("start")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .output()
            .unwrap_or_else(|e| panic!("{script:?} start: {e}"));
        assert!(
            start.status.success(),
            "{script:?} start failed (its message is above):\n{}",
            output_text(&start)
        );
        let env = Command::new(&script).arg("env").output().unwrap();
        assert!(
            env.status.success(),
            "{script:?} env:\n{}",
            output_text(&env)
        );
        Engine::from_env_lines(&String::from_utf8_lossy(&env.stdout))
    })
}

impl Engine {
    /// What `.ci/engine env` printed: `export NAME='VALUE'` lines.
    fn from_env_lines(text: &str) -> Engine {
        let vars = parse_exports(text);
        let get = |name: &str| -> String {
            vars.get(name)
                .unwrap_or_else(|| panic!(".ci/engine env printed no {name}:\n{text}"))
                .clone()
        };
        Engine {
            host: get("DOCKER_HOST"),
            config: get("DOCKER_CONFIG").into(),
            docker: get("TRUSTRUN_ENGINE_DOCKER").into(),
            compose: get("TRUSTRUN_ENGINE_COMPOSE").into(),
            buildx: get("TRUSTRUN_ENGINE_BUILDX").into(),
            bin_dir: get("TRUSTRUN_ENGINE_BIN_DIR").into(),
            netns: get("TRUSTRUN_ENGINE_NETNS").into(),
            base_image: get("TRUSTRUN_ENGINE_BASE_IMAGE"),
        }
    }

    /// The 26.1 `docker` CLI against the private daemon, with its own client configuration (the
    /// compose v2 and buildx plugins), none of the caller's DOCKER_*, BUILDX_* or COMPOSE_*
    /// settings and none of the machine's CA presets.
    pub fn docker(&self) -> Command {
        let mut cmd = Command::new(&self.docker);
        self.client_env(&mut cmd);
        cmd
    }

    /// Points `cmd` (trustrun, harbor, a shell...) at the private daemon: DOCKER_HOST and
    /// DOCKER_CONFIG set, the other engine settings and the CA presets removed. `docker` found by
    /// name is still the first on PATH: prepend `bin_dir()` for the 26.1 CLI.
    pub fn client_env<'c>(&self, cmd: &'c mut Command) -> &'c mut Command {
        for (name, _) in std::env::vars_os() {
            let name_text = name.to_string_lossy();
            let engine_setting = ["DOCKER_", "BUILDX_", "COMPOSE_", "BUILDKIT_"]
                .iter()
                .any(|prefix| name_text.starts_with(prefix));
            if engine_setting || is_trust_variable(&name_text) {
                cmd.env_remove(&name);
            }
        }
        cmd.env("DOCKER_HOST", &self.host)
            .env("DOCKER_CONFIG", &self.config)
    }

    /// Starts `cmd` inside the engine's network namespace (its child joins it before exec): how a
    /// test runs a client of a server from `start_server`, or harbor, whose LLM calls leave from
    /// its own process.
    pub fn enter<'c>(&self, cmd: &'c mut Command) -> &'c mut Command {
        let netns = self.open_netns();
        let path = self.netns.clone();
        // SAFETY: between fork and exec the closure makes one system call on a descriptor it
        // owns and allocates nothing.
        unsafe {
            cmd.pre_exec(move || {
                if libc::setns(netns.as_raw_fd(), libc::CLONE_NEWNET) != 0 {
                    return Err(std::io::Error::other(format!(
                        "setns {}: {}",
                        path.display(),
                        std::io::Error::last_os_error()
                    )));
                }
                Ok(())
            });
        }
        cmd
    }

    /// Runs `f` on a thread inside the engine's network namespace and returns its result.
    /// Sockets keep the namespace they were made in, and threads `f` spawns inherit it: a
    /// listener bound here answers builds and host-network containers, and nothing outside.
    pub fn in_namespace<T: Send>(&self, f: impl FnOnce() -> T + Send) -> T {
        let netns = self.open_netns();
        std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    // SAFETY: setns on a descriptor we own; it moves only this thread.
                    let rc = unsafe { libc::setns(netns.as_raw_fd(), libc::CLONE_NEWNET) };
                    assert_eq!(
                        rc,
                        0,
                        "setns {}: {}",
                        self.netns.display(),
                        std::io::Error::last_os_error()
                    );
                    f()
                })
                .join()
                .unwrap()
        })
    }

    /// The test HTTPS server (tests/common) listening on the namespace's 127.0.0.1.
    pub fn start_server(&self, config: Arc<rustls::ServerConfig>) -> Server {
        self.start_server_with_routes(config, Routes::new())
    }

    /// The same, answering `routes` with their own bodies (a package index, say).
    pub fn start_server_with_routes(
        &self,
        config: Arc<rustls::ServerConfig>,
        routes: Routes,
    ) -> Server {
        self.in_namespace(move || Server::start_with_routes(config, routes))
    }

    fn open_netns(&self) -> File {
        File::open(&self.netns).unwrap_or_else(|e| {
            panic!(
                "the engine's namespace {}: {e} (was it stopped? .ci/engine start)",
                self.netns.display()
            )
        })
    }

    /// The 26.1 `docker` CLI.
    pub fn docker_bin(&self) -> &Path {
        &self.docker
    }

    /// The compose v2 plugin (2.26): `docker compose` through `docker()`, or run directly.
    pub fn compose_plugin(&self) -> &Path {
        &self.compose
    }

    /// The buildx plugin (0.13): `docker buildx` and `docker build` through `docker()`.
    pub fn buildx_plugin(&self) -> &Path {
        &self.buildx
    }

    /// A directory holding only `docker` (the 26.1 CLI), to put first on PATH.
    pub fn bin_dir(&self) -> &Path {
        &self.bin_dir
    }

    /// The Debian 13 base image (ca-certificates, curl, python3 with pip and venv, tmux),
    /// imported into the private daemon: FROM it, since no registry is reachable.
    pub fn base_image(&self) -> &str {
        &self.base_image
    }
}

/// `export NAME='VALUE'` lines (single quotes escaped as '\''), as `.ci/engine env` prints them.
fn parse_exports(text: &str) -> HashMap<String, String> {
    text.lines()
        .filter_map(|line| line.strip_prefix("export "))
        .filter_map(|assignment| assignment.split_once('='))
        .map(|(name, quoted)| {
            let inner = quoted
                .strip_prefix('\'')
                .and_then(|q| q.strip_suffix('\''))
                .unwrap_or_else(|| panic!("unquoted value in `{name}={quoted}`"));
            (name.to_owned(), inner.replace(r"'\''", "'"))
        })
        .collect()
}
