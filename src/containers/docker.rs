//! Reading a `docker` (or `podman`) command line (launch stage): its global options (which engine),
//! its subcommand, and for `run`/`create` what the user already set up for the container. Nothing
//! here changes anything; `mod.rs` builds the new command line from what is found.

use std::collections::BTreeSet;

use super::EngineCli;
use super::bundle_path;
use super::engine::Selection;
use super::inject::GATEWAY_NAME;
use super::options::{self, Short};

/// docker's global options that take a value.
const DOCKER_GLOBAL_VALUE: &[&str] = &[
    "--config",
    "-c",
    "--context",
    "-H",
    "--host",
    "-l",
    "--log-level",
    "--tlscacert",
    "--tlscert",
    "--tlskey",
];
const DOCKER_GLOBAL_BOOL: &[&str] = &[
    "-D",
    "--debug",
    "--tls",
    "--tlsverify",
    "-v",
    "--version",
    "-h",
    "--help",
];
/// podman's (not tested here: no podman on this machine).
const PODMAN_GLOBAL_VALUE: &[&str] = &[
    "--connection",
    "-c",
    "--url",
    "--identity",
    "--root",
    "--runroot",
    "--storage-driver",
    "--storage-opt",
    "--log-level",
    "--cgroup-manager",
    "--events-backend",
    "--network-cmd-path",
    "--network-config-dir",
    "--runtime",
    "--runtime-flag",
    "--tmpdir",
    "--module",
    "--config",
    "--conmon",
    "--hooks-dir",
    "--imagestore",
    "--volumepath",
    "--ssh",
    "--db-backend",
    "--out",
];
const PODMAN_GLOBAL_BOOL: &[&str] = &[
    "-r",
    "--remote",
    "--syslog",
    "-v",
    "--version",
    "-h",
    "--help",
];

/// `run`/`create` options that take no value; every other option takes one.
const RUN_BOOL: &[&str] = &[
    "--detach",
    "--interactive",
    "--tty",
    "--rm",
    "--privileged",
    "--init",
    "--publish-all",
    "--read-only",
    "--sig-proxy",
    "--no-healthcheck",
    "--oom-kill-disable",
    "--quiet",
    "--help",
    "--disable-content-trust",
    "--use-api-socket",
    // podman
    "--replace",
    "--rmi",
    "--tls-verify",
    "--http-proxy",
    "--no-hosts",
    "--env-host",
    "--read-only-tmpfs",
    "--rootfs",
];
const RUN_BOOL_SHORT: &[char] = &['d', 'i', 't', 'P', 'q'];

/// What a docker or podman command line does, as far as trustrun cares.
#[derive(Debug, PartialEq, Eq)]
pub enum Action {
    /// `run`, `create`, `container run`, `container create`.
    Create(Create),
    /// `docker compose ...`: the compose arguments start at this index.
    Compose { at: usize },
    /// `build`, `image build`, `builder build`, `buildx build` (`buildx b`): the subcommand
    /// starts at `globals_end`, the build's options at `at`.
    Build {
        globals_end: usize,
        at: usize,
        request: super::build::support::Request,
    },
    /// Anything else: passed on untouched.
    Other,
    /// An option trustrun does not know before the subcommand: passed on untouched.
    Unclear(String),
}

/// What the user's `run`/`create` options already say about the container.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Create {
    /// Where the global options end (the subcommand word).
    pub globals_end: usize,
    /// Where trustrun's own options go: right after the subcommand.
    pub insert_at: usize,
    pub image: Option<String>,
    /// Variables set with `-e`/`--env` (env files' names are read later, see `env_files`).
    pub user_set: BTreeSet<String>,
    /// `--env-file` paths, as given: read only when they are regular files (`user_files`).
    pub env_files: Vec<String>,
    /// The last `--network`/`--net` value (`host`, `none`, `container:X`, a network's name).
    pub network: Option<String>,
    /// Where the user's `-v`, `--mount` and `--tmpfs` land inside the container.
    pub mount_targets: Vec<String>,
    pub maps_gateway: bool,
    pub windows_platform: bool,
}

pub fn parse(cli: EngineCli, args: &[String]) -> (Selection, Action) {
    let (value_opts, bool_opts) = match cli {
        EngineCli::Podman => (PODMAN_GLOBAL_VALUE, PODMAN_GLOBAL_BOOL),
        _ => (DOCKER_GLOBAL_VALUE, DOCKER_GLOBAL_BOOL),
    };
    let mut sel = Selection::default();
    let mut i = 0;
    while i < args.len() {
        let arg = args[i].as_str();
        if !arg.starts_with('-') || arg == "-" {
            break;
        }
        if arg == "--" {
            i += 1;
            break;
        }
        let (name, inline) = options::split(arg);
        if bool_opts.contains(&arg) || (inline.is_some() && bool_opts.contains(&name)) {
            if matches!(arg, "-r" | "--remote") || name == "--remote" {
                sel.podman_remote = Some("--remote".to_owned());
            }
            i += 1;
            continue;
        }
        if !value_opts.contains(&name) {
            return (sel, Action::Unclear(arg.to_owned()));
        }
        let value = match inline {
            Some(v) => v.to_owned(),
            None => {
                i += 1;
                match args.get(i) {
                    Some(v) => v.clone(),
                    None => return (sel, Action::Other),
                }
            }
        };
        match (cli, name) {
            (EngineCli::Podman, "--url" | "--connection" | "-c") => {
                sel.podman_remote = Some(format!("{name} {value}"))
            }
            (EngineCli::Podman, _) => {}
            (_, "-H" | "--host") => sel.host = Some(value),
            (_, "-c" | "--context") => sel.context = Some(value),
            (_, "--config") => sel.config_dir = Some(value),
            _ => {}
        }
        i += 1;
    }
    use super::build::support::Request;
    let build = |at: usize, words: usize, request| Action::Build {
        globals_end: at,
        at: at + words,
        request,
    };
    let command = match args.get(i).map(String::as_str) {
        Some("run" | "create") => Action::Create(parse_create(args, i, i + 1)),
        Some("container") => match args.get(i + 1).map(String::as_str) {
            Some("run" | "create") => Action::Create(parse_create(args, i, i + 2)),
            _ => Action::Other,
        },
        Some("compose") if cli == EngineCli::Docker => Action::Compose { at: i + 1 },
        Some("build") => build(i, 1, Request::Build),
        Some("image" | "builder") if args.get(i + 1).is_some_and(|a| a == "build") => {
            build(i, 2, Request::Build)
        }
        Some("buildx") if args.get(i + 1).is_some_and(|a| a == "build" || a == "b") => {
            build(i, 2, Request::Buildx)
        }
        _ => Action::Other,
    };
    (sel, command)
}

fn parse_create(args: &[String], globals_end: usize, start: usize) -> Create {
    let mut c = Create {
        globals_end,
        insert_at: start,
        ..Default::default()
    };
    let mut i = start;
    while i < args.len() {
        let arg = args[i].as_str();
        if arg == "--" {
            c.image = args.get(i + 1).cloned();
            break;
        }
        if !arg.starts_with('-') || arg == "-" {
            c.image = Some(arg.to_owned());
            break;
        }
        let (name, inline) = if arg.starts_with("--") {
            let (name, inline) = options::split(arg);
            if RUN_BOOL.contains(&name) {
                i += 1;
                continue;
            }
            (name.to_owned(), inline)
        } else {
            // Every letter that is not a flag takes a value: an unknown one too.
            match options::short_cluster(arg, RUN_BOOL_SHORT, None) {
                Short::Value(name, inline) => (name, inline),
                Short::Flags | Short::Unknown => {
                    i += 1;
                    continue;
                }
            }
        };
        let value = match inline {
            Some(v) => v.to_owned(),
            None => {
                i += 1;
                args.get(i).cloned().unwrap_or_default()
            }
        };
        note_option(&mut c, &name, &value);
        i += 1;
    }
    c
}

fn note_option(c: &mut Create, name: &str, value: &str) {
    match name {
        "-e" | "--env" => {
            let key = value.split('=').next().unwrap_or(value);
            c.user_set.insert(key.to_owned());
        }
        "--env-file" => c.env_files.push(value.to_owned()),
        "--network" | "--net" => c.network = Some(value.to_owned()),
        "-v" | "--volume" => c.mount_targets.extend(bundle_path::volume_target(value)),
        "--mount" => c.mount_targets.extend(bundle_path::mount_target(value)),
        "--tmpfs" => c.mount_targets.push(bundle_path::tmpfs_target(value)),
        "--add-host" => {
            c.maps_gateway |= value
                .strip_prefix(GATEWAY_NAME)
                .is_some_and(|r| r.starts_with([':', '=']))
        }
        "--platform" => c.windows_platform = value.to_ascii_lowercase().starts_with("windows"),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_owned).collect()
    }

    fn create(line: &str) -> Create {
        match parse(EngineCli::Docker, &args(line)).1 {
            Action::Create(c) => c,
            other => panic!("{line}: {other:?}"),
        }
    }

    #[test]
    fn finds_the_image_past_every_kind_of_option() {
        let c =
            create("run --rm -it -e A=1 --env=B -eC=3 --network host -v /x:/y:ro img sh -c 'x'");
        assert_eq!(c.insert_at, 1);
        assert_eq!(c.image.as_deref(), Some("img"));
        assert_eq!(
            c.user_set,
            ["A", "B", "C"].iter().map(|s| s.to_string()).collect()
        );
        assert_eq!(c.network.as_deref(), Some("host"));
        assert_eq!(c.mount_targets, ["/y"]);
        let c = create("-H unix:///x.sock container create --name n -dp 80:80 alpine");
        assert_eq!(c.insert_at, 4);
        assert_eq!(c.image.as_deref(), Some("alpine"));
        assert_eq!(c.network, None);
        let c = create(
            "run --mount type=bind,src=/a,dst=/etc/trustrun/ca-bundle.pem --tmpfs /run:size=1m --net=container:vpn --add-host host.docker.internal:host-gateway --platform windows/amd64 img",
        );
        assert_eq!(c.mount_targets, ["/etc/trustrun/ca-bundle.pem", "/run"]);
        assert_eq!(c.network.as_deref(), Some("container:vpn"));
        assert!(c.maps_gateway && c.windows_platform);
    }

    #[test]
    fn global_options_choose_the_engine_and_the_subcommand() {
        let (sel, cmd) = parse(EngineCli::Docker, &args("--context far ps -a"));
        assert_eq!(sel.context.as_deref(), Some("far"));
        assert_eq!(cmd, Action::Other);
        let (sel, cmd) = parse(
            EngineCli::Docker,
            &args("-Htcp://192.0.2.1:2375 compose up"),
        );
        assert_eq!(sel.host.as_deref(), Some("tcp://192.0.2.1:2375"));
        assert_eq!(cmd, Action::Compose { at: 2 });
        let (_, cmd) = parse(EngineCli::Docker, &args("--made-up-flag run img"));
        assert_eq!(cmd, Action::Unclear("--made-up-flag".to_owned()));
        let (sel, cmd) = parse(EngineCli::Podman, &args("--remote run img"));
        assert!(sel.podman_remote.is_some());
        assert!(matches!(cmd, Action::Create(_)));
        assert_eq!(
            parse(EngineCli::Docker, &args("exec -it c sh")).1,
            Action::Other
        );
        assert_eq!(parse(EngineCli::Docker, &args("image ls")).1, Action::Other);
        use crate::containers::build::support::Request;
        for (line, at, request) in [
            ("build .", 1, Request::Build),
            ("-H unix:///x image build -t a .", 4, Request::Build),
            ("buildx build .", 2, Request::Buildx),
            ("buildx b .", 2, Request::Buildx),
        ] {
            let (_, cmd) = parse(EngineCli::Docker, &args(line));
            assert!(
                matches!(cmd, Action::Build { at: a, request: r, .. } if a == at && r == request),
                "{line}: {cmd:?}"
            );
        }
        assert_eq!(
            parse(EngineCli::Docker, &args("buildx ls")).1,
            Action::Other
        );
    }
}
