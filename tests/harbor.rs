//! The original report's scenario (issue 21), with the real `harbor run` from PyPI and its docker
//! environment, on the private engine (.ci/engine): harbor, the test server and the task
//! containers share the engine's network namespace, so every request stays on its loopback.
//!
//! - terminus-2, whose model calls leave from harbor's own Python process (litellm over aiohttp),
//!   against an `openai/...` model the test server serves over TLS: plainly the trial errors
//!   exactly as reported (litellm's InternalServerError, a certificate failure underneath);
//!   through `trustrun harbor run`, and through a `harbor` shim first on PATH, reward 1.
//! - A task whose agent and verifier make HTTPS calls inside the container: reward 0 plainly,
//!   reward 1 through trustrun, with the oracle agent both ways (a plain terminus-2 run would
//!   fail on its model first, and prove nothing about the container).
//! - A task whose image fetches while it builds: a build error plainly, reward 1 through
//!   trustrun, which hands every RUN the bundle (tests/builds.rs has the details).
//!
//! The fixtures are in tests/harbor/: the tasks (tasks/), harbor's extra compose file (host
//! networking), terminus-2's one reply, and harbor's pins (.ci/harbor-venv installs them).
//! Runs of one test go in parallel threads: most of a harbor run is waiting (the litellm import,
//! the container's start and stop, the control's retries).

use std::fs;
use std::sync::OnceLock;

use crate::common::engine::engine;
use crate::common::*;

// One `harbor run` of a task fixture, and the verdict of its trial.
mod trial;

use trial::{HarborRun, Trial, Via, task};

/// terminus-2's model: litellm sends `gpt-test` to `{--base-url}/chat/completions`.
const MODEL: &str = "openai/gpt-test";

/// The original report, word for word: litellm's error when the model's TLS is not trusted.
const REPORTED: &str =
    "litellm.InternalServerError: InternalServerError: OpenAIException - Connection error.";

/// What a run left, and what the test server it talked to saw.
struct Outcome {
    trial: Trial,
    /// Requests the server answered (the model's, or the in-container fetches).
    answered: usize,
    /// A client refused the server's chain with TLS's "unknown CA" alert.
    unknown_ca: bool,
    /// The server's `127.0.0.1:PORT`, as a client's error names it.
    address: String,
}

impl Outcome {
    fn describe(&self) -> String {
        format!(
            "{}\nthe test server answered {} requests; unknown-CA alert: {}",
            self.trial.describe(),
            self.answered,
            self.unknown_ca
        )
    }
}

/// One `harbor run` (`via`) of the task fixture `task_name` against a test server of its own,
/// answering `routes`, whose chain ends at a fresh test root (given to trustrun when `via` goes
/// through it). `agent_args` makes the agent's arguments from the server's URL.
fn run_task(
    task_name: &str,
    routes: Routes,
    via: Via,
    label: &str,
    agent_args: impl FnOnce(&str) -> Vec<String>,
) -> Outcome {
    let engine = engine();
    let pki = Pki::corporate();
    let server = engine.start_server_with_routes(pki.server_config.clone(), routes);
    let tmp = tempfile::tempdir().unwrap();
    let task = task(task_name, tmp.path(), engine.base_image(), &server.url);
    let trial = HarborRun {
        engine,
        via,
        root: &pki.root_pem,
        task: &task,
        agent_args: agent_args(&server.url),
    }
    .run(label);
    Outcome {
        trial,
        answered: server.answered(),
        unknown_ca: server.saw_unknown_ca_alert(),
        address: format!("127.0.0.1:{}", server.port),
    }
}

/// Runs `plain` and `trusted` side by side.
fn side_by_side<P: Send>(
    plain: impl FnOnce() -> P + Send,
    trusted: impl FnOnce() -> Outcome,
) -> (P, Outcome) {
    std::thread::scope(|scope| {
        let plain = scope.spawn(plain);
        let trusted = trusted();
        (plain.join().unwrap(), trusted)
    })
}

/// terminus-2 on the write-hi task, its model served under `/LABEL/v1`. Its one reply
/// (tests/harbor/terminus-2-reply.json) writes the file and says the task is complete; asked to
/// confirm, the same reply confirms.
fn write_hi_with_terminus_2(via: Via, label: &str) -> Outcome {
    let prefix = format!("/{label}/v1");
    let reply = fs::read(repo().join("tests/harbor/terminus-2-reply.json")).unwrap();
    let mut routes = Routes::new();
    routes.insert(
        format!("{prefix}/chat/completions"),
        ("application/json", reply),
    );
    run_task("write-hi", routes, via, label, |url| {
        let base_url = format!("{url}{prefix}");
        [
            "-a",
            "terminus-2",
            "-m",
            MODEL,
            "--base-url",
            &base_url,
            // Else terminus-2 wants asciinema in the image, and installs it when missing.
            "--ak",
            "record_terminal_session=false",
            // The same both ways; it spares the control the OpenAI SDK's own two retries.
            "--ak",
            r#"llm_kwargs={"max_retries":0}"#,
        ]
        .map(String::from)
        .to_vec()
    })
}

/// The plain terminus-2 run, the control of every terminus-2 test: made once, by the first test
/// that asks, while that test runs its own trusted one beside it.
fn terminus_2_control() -> &'static Outcome {
    static CONTROL: OnceLock<Outcome> = OnceLock::new();
    CONTROL.get_or_init(|| write_hi_with_terminus_2(Via::Plain, "terminus-2-plain"))
}

/// Runs the control and `trusted` side by side.
fn with_terminus_2_control(
    trusted: impl FnOnce() -> Outcome + Send,
) -> (&'static Outcome, Outcome) {
    side_by_side(terminus_2_control, trusted)
}

/// The control reproduces the report: the trial errors with litellm's InternalServerError, and
/// its traceback says this server's certificate was not verified (aiohttp's "Cannot connect to
/// host 127.0.0.1:PORT ssl:True [SSLCertVerificationError: ... CERTIFICATE_VERIFY_FAILED ...]").
/// asyncio drops the connection without sending OpenSSL's alert, so on the server's side the
/// refusal shows only as no request answered. harbor itself exited 0 (`HarborRun::run` checks).
fn assert_the_original_report(control: &Outcome) {
    let trial = &control.trial;
    let traceback = trial.exception_traceback();
    assert!(
        trial.exception_type() == "InternalServerError"
            && trial.exception_message() == REPORTED
            && traceback.contains("CERTIFICATE_VERIFY_FAILED")
            && traceback.contains(&format!("Cannot connect to host {}", control.address)),
        "expected the reported InternalServerError, this server's certificate refused underneath:\n{}",
        control.describe()
    );
    assert!(
        trial.reward() == Some(0.0) && control.answered == 0,
        "expected reward 0 (the verifier still runs) and no model call answered:\n{}",
        control.describe()
    );
}

/// A trusted terminus-2 run: reward 1, the model asked through the test server.
fn assert_the_model_answered(trusted: &Outcome) {
    trusted.trial.assert_reward_1();
    assert!(
        trusted.answered >= 1 && !trusted.unknown_ca,
        "expected terminus-2's model calls to reach the server:\n{}",
        trusted.describe()
    );
}

#[test]
fn terminus_2s_model_calls_fail_as_reported_plainly_and_pass_through_trustrun_harbor_run() {
    let (control, trusted) =
        with_terminus_2_control(|| write_hi_with_terminus_2(Via::Trustrun, "terminus-2-trustrun"));
    assert_the_original_report(control);
    assert_the_model_answered(&trusted);
}

#[test]
fn terminus_2s_model_calls_pass_through_a_harbor_shim_first_on_path() {
    let (control, shim) =
        with_terminus_2_control(|| write_hi_with_terminus_2(Via::Shim, "terminus-2-shim"));
    assert_the_original_report(control);
    assert_the_model_answered(&shim);
}

/// The oracle agent on the fetch-in-container task: its solution downloads `/agent-fetch` with
/// curl inside the container, and the verifier fetches `/verifier-fetch` with Python's urllib
/// there too. Both get the server's URL from harbor (`--ae`, `--ve`).
fn fetch_in_container_with_oracle(via: Via, label: &str) -> Outcome {
    run_task("fetch-in-container", Routes::new(), via, label, |url| {
        let url = format!("SERVER_URL={url}");
        ["-a", "oracle", "--ae", &url, "--ve", &url]
            .map(String::from)
            .to_vec()
    })
}

#[test]
fn an_agent_and_verifier_fetching_inside_the_container_fail_plainly_and_pass_through_trustrun() {
    let (plain, trusted) = side_by_side(
        || fetch_in_container_with_oracle(Via::Plain, "in-container-plain"),
        || fetch_in_container_with_oracle(Via::Trustrun, "in-container-trustrun"),
    );

    // Control: the trial itself runs, and its verifier scores 0 on a certificate failure.
    let verifier = plain.trial.verifier_output.as_deref().unwrap_or_default();
    assert!(
        plain.trial.exception().is_none()
            && plain.trial.reward() == Some(0.0)
            && verifier.contains("the agent's download /app/out.json is missing or wrong")
            && verifier.contains("CERTIFICATE_VERIFY_FAILED"),
        "expected reward 0, the verifier failing on the certificate:\n{}",
        plain.describe()
    );
    assert!(
        plain.answered == 0 && plain.unknown_ca,
        "expected the container's clients to refuse the chain:\n{}",
        plain.describe()
    );

    trusted.trial.assert_reward_1();
    assert_eq!(
        trusted.answered,
        2,
        "expected the agent's and the verifier's requests:\n{}",
        trusted.describe()
    );
}

/// The oracle agent on the fetch-at-build task: the image's RUN downloads `/build-fetch` while it
/// builds; the verifier checks the download is in the image.
fn fetch_at_build_with_oracle(via: Via, label: &str) -> Outcome {
    run_task("fetch-at-build", Routes::new(), via, label, |_| {
        ["-a", "oracle"].map(String::from).to_vec()
    })
}

#[test]
fn a_task_image_fetching_at_build_fails_to_build_plainly_and_builds_through_trustrun() {
    let (plain, trusted) = side_by_side(
        || fetch_at_build_with_oracle(Via::Plain, "at-build-plain"),
        || fetch_at_build_with_oracle(Via::Trustrun, "at-build-trustrun"),
    );

    // Control: harbor's `docker compose ... build` fails on the RUN's certificate failure, and
    // no agent or verifier runs.
    assert!(
        plain.trial.exception_type() == "RuntimeError"
            && plain.trial.exception_message().contains("build")
            && plain
                .trial
                .exception_message()
                .contains("CERTIFICATE_VERIFY_FAILED")
            && plain.trial.reward().is_none(),
        "expected the image build to fail on the certificate:\n{}",
        plain.describe()
    );
    assert!(
        plain.answered == 0 && plain.unknown_ca,
        "{}",
        plain.describe()
    );

    trusted.trial.assert_reward_1();
    assert!(trusted.answered >= 1, "{}", trusted.describe());
}
