//! One real `harbor run` (harbor from PyPI, pinned in tests/harbor/requirements.txt) of one task
//! fixture, inside the private engine's namespace, and the verdict of its one trial: harbor exits
//! 0 even when the trial errors, so the trial's result.json is what a test judges.
//!
//! Every run has its own HOME, jobs directory, trustrun cache and templated copy of the task; its
//! environment has none of the machine's CA presets (`clean`), none of the caller's engine
//! settings (`client_env`), the keep-offline switches of harbor and litellm, and a PATH with the
//! harbor venv and the 26.1 `docker` first.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::engine::Engine;
use crate::common::*;

/// A bound on one `harbor run`: the tasks' own timeouts (agent 60 s, verifier 60 s, build 120 s)
/// end a trial long before; this only keeps a hung run from hanging the suite.
const RUN_LIMIT: Duration = Duration::from_secs(420);

/// The harbor virtualenv: `TRUSTRUN_TEST_HARBOR_VENV`, else `target/harbor-venv`, made or
/// checked once per test process by `.ci/harbor-venv` (which owns how: Python 3.12, the pins,
/// a lock against concurrent makers). .ci/run makes it in the background before the tests.
pub fn harbor_venv() -> &'static Path {
    static VENV: OnceLock<PathBuf> = OnceLock::new();
    VENV.get_or_init(|| {
        let dir = std::env::var_os("TRUSTRUN_TEST_HARBOR_VENV")
            .map(PathBuf::from)
            .unwrap_or_else(|| repo().join("target/harbor-venv"));
        let script = repo().join(".ci/harbor-venv");
        // Its messages go straight to the terminal, past the test harness's capture: making the
        // venv takes minutes, and says so.
        let out = Command::new(&script)
            .arg(&dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .output()
            .unwrap_or_else(|e| panic!("{script:?}: {e}"));
        assert!(
            out.status.success(),
            "{script:?} {dir:?} failed (its message is above)"
        );
        dir
    })
}

/// A task fixture (tests/harbor/tasks/NAME) copied into `into` with `@BASE_IMAGE@` (the engine's
/// base image, whose tag .ci/engine computes) and `@SERVER_URL@` filled in.
pub fn task(name: &str, into: &Path, base_image: &str, server_url: &str) -> PathBuf {
    fn copy(from: &Path, to: &Path, fill: &dyn Fn(String) -> String) {
        fs::create_dir_all(to).unwrap();
        for entry in fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            let target = to.join(entry.file_name());
            if entry.file_type().unwrap().is_dir() {
                copy(&entry.path(), &target, fill);
            } else {
                // fs::copy keeps the mode: tests/test.sh and solution/solve.sh stay executable.
                fs::copy(entry.path(), &target).unwrap();
                let text = fs::read_to_string(&target).unwrap();
                fs::write(&target, fill(text)).unwrap();
            }
        }
    }
    let from = repo().join("tests/harbor/tasks").join(name);
    assert!(from.is_dir(), "no task fixture {from:?}");
    let to = into.join(name);
    copy(&from, &to, &|text| {
        text.replace("@BASE_IMAGE@", base_image)
            .replace("@SERVER_URL@", server_url)
    });
    to
}

/// How harbor is started.
#[derive(Clone, Copy, Debug)]
pub enum Via {
    /// `harbor run ...`, nothing else: the control.
    Plain,
    /// `trustrun --ca ROOT harbor run ...`.
    Trustrun,
    /// `harbor run ...` found through `trustrun shim install harbor` in a directory first on
    /// PATH, the root given by TRUSTRUN_CA (a shim takes no options).
    Shim,
}

/// One `harbor run -e docker` of one task, against the private engine.
pub struct HarborRun<'a> {
    pub engine: &'a Engine,
    pub via: Via,
    /// The test root trustrun is given (unused by `Via::Plain`).
    pub root: &'a Path,
    /// The templated task directory (`task`).
    pub task: &'a Path,
    /// `-a AGENT -m MODEL --ak ...`: everything about the agent.
    pub agent_args: Vec<String>,
}

/// What one `harbor run` left: its exit status and output, and its one trial's result.json and
/// verifier output.
pub struct Trial {
    pub label: String,
    pub status: ExitStatus,
    pub elapsed: Duration,
    pub harbor_output: String,
    pub result: Value,
    pub verifier_output: Option<String>,
}

impl HarborRun<'_> {
    pub fn run(&self, label: &str) -> Trial {
        let tmp = tempfile::tempdir().unwrap();
        let home = tmp.path().join("home");
        let jobs = tmp.path().join("jobs");
        fs::create_dir_all(&home).unwrap();
        let venv_bin = harbor_venv().join("bin");
        let mut path = vec![venv_bin, self.engine.bin_dir().to_path_buf()];
        if let Via::Shim = self.via {
            let shims = tmp.path().join("shims");
            let mut install = Command::new(trustrun_bin());
            clean(&mut install, &tmp.path().join("cache"));
            let out = install
                .env("HOME", &home)
                .args(["shim", "install", "--dir"])
                .arg(&shims)
                .arg("harbor")
                .output()
                .unwrap();
            assert!(out.status.success(), "shim install:\n{}", output_text(&out));
            path.insert(0, shims);
        }
        let path = std::env::join_paths(
            path.into_iter()
                .chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
        )
        .unwrap();

        let mut cmd = match self.via {
            Via::Plain | Via::Shim => Command::new("harbor"),
            Via::Trustrun => {
                let mut cmd = Command::new(trustrun_bin());
                cmd.arg("--ca").arg(self.root).arg("harbor");
                cmd
            }
        };
        clean(&mut cmd, &tmp.path().join("cache"));
        self.engine.client_env(&mut cmd);
        if let Via::Shim = self.via {
            cmd.env("TRUSTRUN_CA", self.root);
        }
        for xdg in [
            "XDG_CACHE_HOME",
            "XDG_CONFIG_HOME",
            "XDG_DATA_HOME",
            "XDG_STATE_HOME",
        ] {
            cmd.env_remove(xdg);
        }
        cmd.env("PATH", path)
            .env("HOME", &home)
            .env("HARBOR_TELEMETRY", "0")
            // litellm wants a key even for a base URL of our own.
            .env("OPENAI_API_KEY", "sk-test")
            .arg("run")
            .arg("-p")
            .arg(self.task)
            .args(&self.agent_args)
            .args(["-e", "docker", "--extra-docker-compose"])
            .arg(repo().join("tests/harbor/host-network.yaml"))
            .arg("-o")
            .arg(&jobs)
            .args(["--job-name", label, "-y"]);
        self.engine.enter(&mut cmd);

        let log_path = tmp.path().join("harbor.log");
        let log = fs::File::create(&log_path).unwrap();
        let started = Instant::now();
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if started.elapsed() > RUN_LIMIT {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "{label}: harbor still running after {RUN_LIMIT:?}, killed; its output:\n{}",
                    fs::read_to_string(&log_path).unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(200));
        };
        let elapsed = started.elapsed();
        let harbor_output = fs::read_to_string(&log_path).unwrap_or_default();
        let _ = writeln!(
            std::io::stderr(),
            "harbor {label}: {:.1} s",
            elapsed.as_secs_f64()
        );
        assert!(
            status.success(),
            "{label}: harbor itself failed (bad arguments, a missing engine?):\n{harbor_output}"
        );

        // One task, one attempt: one trial directory (`<task>__<id>`) in the job's directory.
        let job = jobs.join(label);
        let trials: Vec<PathBuf> = fs::read_dir(&job)
            .unwrap_or_else(|e| panic!("{label}: {job:?}: {e}\n{harbor_output}"))
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_dir() && p.file_name().unwrap().to_string_lossy().contains("__"))
            .collect();
        assert_eq!(
            trials.len(),
            1,
            "{label}: trial directories {trials:?}\n{harbor_output}"
        );
        let trial = &trials[0];
        let result = fs::read_to_string(trial.join("result.json"))
            .unwrap_or_else(|e| panic!("{label}: {trial:?}/result.json: {e}\n{harbor_output}"));
        Trial {
            label: label.to_owned(),
            status,
            elapsed,
            harbor_output,
            result: serde_json::from_str(&result).unwrap(),
            verifier_output: fs::read_to_string(trial.join("verifier/test-stdout.txt")).ok(),
        }
    }
}

impl Trial {
    /// The verifier's reward; None when the verifier did not run (the image did not build).
    pub fn reward(&self) -> Option<f64> {
        self.result
            .pointer("/verifier_result/rewards/reward")
            .and_then(Value::as_f64)
    }

    /// The trial's error: harbor's `exception_info`, when there was one.
    pub fn exception(&self) -> Option<&Value> {
        self.result
            .get("exception_info")
            .filter(|info| !info.is_null())
    }

    fn exception_field(&self, field: &str) -> &str {
        self.exception()
            .and_then(|info| info.get(field))
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    pub fn exception_type(&self) -> &str {
        self.exception_field("exception_type")
    }

    pub fn exception_message(&self) -> &str {
        self.exception_field("exception_message")
    }

    pub fn exception_traceback(&self) -> &str {
        self.exception_field("exception_traceback")
    }

    /// Everything a failed assertion should show.
    pub fn describe(&self) -> String {
        format!(
            "{}: harbor exited {:?} after {:.1} s\ntrial result.json:\n{}\nverifier output:\n{}\nharbor output (tail):\n{}",
            self.label,
            self.status.code(),
            self.elapsed.as_secs_f64(),
            serde_json::to_string_pretty(&self.result).unwrap(),
            self.verifier_output.as_deref().unwrap_or("(none)"),
            tail(&self.harbor_output, 3000)
        )
    }

    /// Asserts a clean trial with reward 1: no error, and the verifier passed.
    #[track_caller]
    pub fn assert_reward_1(&self) {
        assert!(
            self.exception().is_none() && self.reward() == Some(1.0),
            "expected reward 1 and no error:\n{}",
            self.describe()
        );
    }
}

fn tail(text: &str, max: usize) -> &str {
    let start = text.len().saturating_sub(max);
    let start = (start..text.len())
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(text.len());
    &text[start..]
}
