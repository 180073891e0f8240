//! What a new container gets (launch stage), decided without touching anything: the bundle at a
//! path inside the container no mount of the user's covers, the CA variables pointing at it, and
//! the host's proxy variables (a proxy on host loopback rewritten to `host.docker.internal` on a
//! bridge network). A variable the user gave, or the image's own config sets, is left to them
//! (`variables::same_variable` says which names count as one; `image_env` owns the image's side).
//! With `containers_java` on, also the Java trust store beside the bundle and a
//! `JAVA_TOOL_OPTIONS` naming it, by the same rules (the user's or the image's own value is kept).

use std::collections::BTreeSet;

use super::bundle_path::{self, BundlePath};
use super::image_env::OwnVariables;
use super::variables::{PROXY_VARIABLES, same_variable};
use crate::settings::vars::JAVA_TOOL_OPTIONS;

/// The name Docker Desktop provides, and Linux engines map with `host-gateway`.
pub const GATEWAY_NAME: &str = "host.docker.internal";
pub const GATEWAY_ADD_HOST: &str = "host.docker.internal:host-gateway";

/// The network a container joins, as far as a proxy on host loopback is concerned.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub enum Network {
    /// The default bridge, a user-defined network: its own loopback, the host behind a gateway
    /// that `--add-host host.docker.internal:host-gateway` names.
    #[default]
    Bridge,
    /// The host's own network (`--network host`): host loopback is reachable as written.
    Host,
    /// No network at all (`--network none`).
    Isolated,
    /// Another container's network (`--network container:X`, compose `network_mode: service:S`
    /// or `container:X`): that container's loopback, and its `/etc/hosts` (the engine refuses
    /// `--add-host` here). What is known of the other one: `None` when nothing is.
    Shared(Option<Peer>),
}

/// The container whose network another one shares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peer {
    /// It is on the host's network.
    pub host: bool,
    /// It maps `host.docker.internal` (the user's mapping, or trustrun's).
    pub maps_gateway: bool,
}

impl Network {
    /// From a `--network` value or a compose `network_mode` (`container:`, `service:` and
    /// podman's `ns:` share another's network; the peer is filled in by the caller).
    pub fn of_mode(mode: &str) -> Network {
        match mode {
            "host" => Network::Host,
            "none" => Network::Isolated,
            m if ["container:", "service:", "ns:"]
                .iter()
                .any(|p| m.starts_with(p)) =>
            {
                Network::Shared(None)
            }
            _ => Network::Bridge,
        }
    }
}

/// What is known about the container to be created.
#[derive(Debug, Default)]
pub struct Facts {
    /// Variables the user set for it (`-e`, `--env-file`, compose `environment:`/`env_file:`).
    pub user_set: BTreeSet<String>,
    /// Variables the image's own config sets (`image_env`).
    pub image: OwnVariables,
    pub network: Network,
    /// The user already maps `host.docker.internal`.
    pub user_maps_gateway: bool,
    /// Where the user's own mounts (binds, volumes, tmpfs) land inside the container.
    pub mount_targets: Vec<String>,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Injection {
    /// Where the bundle goes inside the container, and whether trustrun mounts it there.
    pub bundle: BundlePath,
    /// Where trustrun mounts the Java trust store (`containers_java`), if it does.
    pub java_store: Option<&'static str>,
    /// Variables to set in the container, in a stable order.
    pub env: Vec<(String, String)>,
    /// `--add-host host.docker.internal:host-gateway` is needed for a rewritten proxy.
    pub add_gateway_host: bool,
    /// Said once on stderr.
    pub warnings: Vec<String>,
}

impl Injection {
    /// Takes the Java trust store back out (its copy could not be made): no mount, and no
    /// `JAVA_TOOL_OPTIONS` naming a file that is not there (a JVM would then trust nothing).
    pub fn without_java(&mut self) {
        if self.java_store.take().is_some() {
            self.env.retain(|(n, _)| n != JAVA_TOOL_OPTIONS);
        }
    }
}

/// Whether the host sets a proxy on its loopback (only then does a shared network's peer
/// matter, and is worth asking the engine about).
pub fn host_has_loopback_proxy(host_env: &dyn Fn(&str) -> Option<String>) -> bool {
    PROXY_VARIABLES
        .iter()
        .filter_map(|n| host_env(n))
        .any(|v| loopback_proxy_rewritten(&v).is_some())
}

/// What a container gets of Java's trust (`containers_java`): nothing, or the store and, unless
/// `JAVA_TOOL_OPTIONS` is the user's or the image's (or in `leave_alone`), the variable naming it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Java {
    Off,
    /// The store, and `JAVA_TOOL_OPTIONS` when `variable` (not in `leave_alone`).
    On {
        variable: bool,
    },
}

/// The injection for one container: `ca_names` point at the bundle, proxies are passed on, and
/// with `java` on the Java trust store is mounted beside the bundle.
pub fn plan(
    ca_names: &[String],
    java: Java,
    facts: &Facts,
    host_env: &dyn Fn(&str) -> Option<String>,
) -> Injection {
    let mut out = Injection {
        bundle: bundle_path::choose(&facts.mount_targets),
        ..Default::default()
    };
    let taken = |name: &str| {
        facts.user_set.iter().any(|u| same_variable(u, name)) || facts.image.keeps(name)
    };
    if let Java::On { variable } = java {
        // Mounted even when the variable is theirs: their own options can name it.
        out.java_store = bundle_path::java_store(&out.bundle, &facts.mount_targets);
        // The store's path in the container is one of ours: nothing to quote.
        match out.java_store {
            Some(store) if variable && !taken(JAVA_TOOL_OPTIONS) => out.env.push((
                JAVA_TOOL_OPTIONS.to_owned(),
                crate::store::java_store::jvm_options(store),
            )),
            Some(_) => {}
            None => match &out.bundle {
                BundlePath::Users(path) => out.warnings.push(format!(
                    "{path} is a mount of yours, so the container gets no Java trust store from \
                     trustrun (it holds trustrun's bundle, not yours) and no {JAVA_TOOL_OPTIONS}"
                )),
                BundlePath::Mount(path) => out.warnings.push(format!(
                    "a mount of yours is where trustrun would put the Java trust store (beside \
                     {path}): the container gets no trust store and no {JAVA_TOOL_OPTIONS}"
                )),
                // No bundle at all: said below.
                BundlePath::Out => {}
            },
        }
    }
    match out.bundle.path() {
        Some(path) => {
            for name in ca_names {
                if !taken(name) && !out.env.iter().any(|(n, _)| n == name) {
                    out.env.push((name.clone(), path.to_owned()));
                }
            }
        }
        None => out.warnings.push(format!(
            "every path trustrun would mount the bundle at ({}) is under a mount of yours: \
             the container gets no bundle and no CA variable",
            bundle_path::CANDIDATES.join(", ")
        )),
    }
    for name in PROXY_VARIABLES {
        let Some(value) = host_env(name).filter(|v| !v.is_empty()) else {
            continue;
        };
        if taken(name) {
            continue;
        }
        let value = match loopback_proxy_rewritten(&value) {
            None => value,
            Some(rewritten) => {
                let through_gateway = |out: &mut Injection| {
                    out.warnings.push(format!(
                        "{name}={value} is on this machine's loopback: the container gets {rewritten}; \
                         a proxy that listens on 127.0.0.1 only will not answer there (make it listen on \
                         the bridge, or run the container with --network host)"
                    ));
                    rewritten.clone()
                };
                match &facts.network {
                    Network::Host | Network::Isolated => value,
                    Network::Shared(Some(peer)) if peer.host => value,
                    Network::Bridge => {
                        out.add_gateway_host |= !facts.user_maps_gateway;
                        through_gateway(&mut out)
                    }
                    Network::Shared(Some(peer)) if peer.maps_gateway => through_gateway(&mut out),
                    Network::Shared(_) => {
                        out.warnings.push(format!(
                            "{name}={value} is on this machine's loopback, and the container shares \
                             another's network, which does not map {GATEWAY_NAME}: {name} is not passed \
                             (set it yourself, or map {GATEWAY_NAME} on that container)"
                        ));
                        continue;
                    }
                }
            }
        };
        out.env.push((name.to_string(), value));
    }
    out
}

/// `http://127.0.0.1:3128` -> `http://host.docker.internal:3128`; `None` when the proxy is not
/// on loopback (or is no URL at all, such as a `NO_PROXY` list).
pub fn loopback_proxy_rewritten(value: &str) -> Option<String> {
    let (scheme, rest) = match value.split_once("://") {
        Some((s, r)) => (Some(s), r),
        None => (None, value),
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, authority),
    };
    let (host, port) = crate::util::authority::split_host_port(hostport).ok()?;
    let port = port.map(|p| format!(":{p}")).unwrap_or_default();
    if host.contains(',') || !super::engine::is_loopback_name(&host.to_ascii_lowercase()) {
        return None;
    }
    let mut out = String::new();
    if let Some(s) = scheme {
        out.push_str(s);
        out.push_str("://");
    }
    if let Some(u) = userinfo {
        out.push_str(u);
        out.push('@');
    }
    out.push_str(GATEWAY_NAME);
    out.push_str(&port);
    out.push_str(path);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::containers::bundle_path::BUNDLE_TARGET;

    fn names() -> Vec<String> {
        ["SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    #[test]
    fn loopback_proxies_are_rewritten_and_others_are_not() {
        let r = loopback_proxy_rewritten;
        assert_eq!(
            r("http://127.0.0.1:3128").as_deref(),
            Some("http://host.docker.internal:3128")
        );
        assert_eq!(
            r("http://user:pw@localhost:3128/").as_deref(),
            Some("http://user:pw@host.docker.internal:3128/")
        );
        assert_eq!(
            r("http://[::1]:3128").as_deref(),
            Some("http://host.docker.internal:3128")
        );
        assert_eq!(
            r("127.0.0.1:3128").as_deref(),
            Some("host.docker.internal:3128")
        );
        assert_eq!(r("http://proxy.corp.example:8080"), None);
        assert_eq!(r("localhost,127.0.0.1,.corp"), None);
    }

    #[test]
    fn the_user_and_the_image_keep_their_variables() {
        let facts = Facts {
            user_set: ["SSL_CERT_FILE".to_owned()].into(),
            image: OwnVariables::Read(["REQUESTS_CA_BUNDLE".to_owned()].into()),
            ..Default::default()
        };
        let plan = plan(&names(), Java::Off, &facts, &|_| None);
        assert!(plan.env.is_empty(), "{plan:?}");
        let plan = super::plan(&names(), Java::Off, &Facts::default(), &|_| None);
        assert_eq!(
            plan.env,
            vec![
                ("SSL_CERT_FILE".to_owned(), BUNDLE_TARGET.to_owned()),
                ("REQUESTS_CA_BUNDLE".to_owned(), BUNDLE_TARGET.to_owned()),
            ]
        );
    }

    #[test]
    fn a_loopback_proxy_on_a_bridge_network_goes_through_the_gateway() {
        let env = |n: &str| match n {
            "HTTPS_PROXY" => Some("http://127.0.0.1:3128".to_owned()),
            "NO_PROXY" => Some("localhost,.corp".to_owned()),
            _ => None,
        };
        let bridge = plan(&[], Java::Off, &Facts::default(), &env);
        assert_eq!(
            bridge.env,
            vec![
                (
                    "HTTPS_PROXY".to_owned(),
                    "http://host.docker.internal:3128".to_owned()
                ),
                ("NO_PROXY".to_owned(), "localhost,.corp".to_owned()),
            ]
        );
        assert!(bridge.add_gateway_host);
        assert_eq!(bridge.warnings.len(), 1);
        let host = plan(
            &[],
            Java::Off,
            &Facts {
                network: Network::Host,
                ..Default::default()
            },
            &env,
        );
        assert_eq!(host.env[0].1, "http://127.0.0.1:3128");
        assert!(!host.add_gateway_host && host.warnings.is_empty());
        let mapped = plan(
            &[],
            Java::Off,
            &Facts {
                user_maps_gateway: true,
                ..Default::default()
            },
            &env,
        );
        assert!(!mapped.add_gateway_host);
    }

    #[test]
    fn only_a_bridge_network_gets_the_gateway_name() {
        let env = |n: &str| (n == "HTTPS_PROXY").then(|| "http://127.0.0.1:3128".to_owned());
        let on = |network: Network| {
            plan(
                &[],
                Java::Off,
                &Facts {
                    network,
                    ..Default::default()
                },
                &env,
            )
        };
        let value = |inj: &Injection| inj.env.first().map(|(_, v)| v.clone());
        for network in [Network::Host, Network::Isolated] {
            let inj = on(network.clone());
            assert_eq!(
                value(&inj).as_deref(),
                Some("http://127.0.0.1:3128"),
                "{network:?}"
            );
            assert!(
                !inj.add_gateway_host && inj.warnings.is_empty(),
                "{network:?}"
            );
        }
        // Another container's network: never --add-host (the engine refuses it there); the
        // proxy follows what that container can reach.
        let shared = |host, maps_gateway| Network::Shared(Some(Peer { host, maps_gateway }));
        let inj = on(shared(true, false));
        assert_eq!(value(&inj).as_deref(), Some("http://127.0.0.1:3128"));
        assert!(!inj.add_gateway_host);
        let inj = on(shared(false, true));
        assert_eq!(
            value(&inj).as_deref(),
            Some("http://host.docker.internal:3128")
        );
        assert!(!inj.add_gateway_host);
        for network in [shared(false, false), Network::Shared(None)] {
            let inj = on(network.clone());
            assert_eq!(value(&inj), None, "{network:?}");
            assert!(
                !inj.add_gateway_host && inj.warnings.len() == 1,
                "{network:?}"
            );
        }
        assert!(on(Network::Bridge).add_gateway_host);
        assert_eq!(Network::of_mode("container:vpn"), Network::Shared(None));
        assert_eq!(Network::of_mode("service:vpn"), Network::Shared(None));
        assert_eq!(Network::of_mode("none"), Network::Isolated);
        assert_eq!(Network::of_mode("my-bridge"), Network::Bridge);
    }

    #[test]
    fn the_users_proxy_spelling_either_case_wins() {
        let env = |n: &str| match n {
            "HTTPS_PROXY" | "https_proxy" => Some("http://proxy.corp:8080".to_owned()),
            "NO_PROXY" => Some(".corp".to_owned()),
            _ => None,
        };
        let facts = Facts {
            user_set: ["https_proxy".to_owned(), "no_proxy".to_owned()].into(),
            ..Default::default()
        };
        let inj = plan(&[], Java::Off, &facts, &env);
        assert!(inj.env.is_empty(), "{inj:?}");
        assert!(same_variable("no_proxy", "NO_PROXY"));
        assert!(!same_variable("ssl_cert_file", "SSL_CERT_FILE"));
    }

    #[test]
    fn the_variables_name_the_path_the_bundle_lands_at() {
        let facts = Facts {
            mount_targets: vec!["/etc".to_owned()],
            ..Default::default()
        };
        let inj = plan(&names(), Java::Off, &facts, &|_| None);
        assert_eq!(inj.bundle.mount(), Some("/run/trustrun/ca-bundle.pem"));
        assert!(
            inj.env
                .iter()
                .all(|(_, v)| v == "/run/trustrun/ca-bundle.pem")
        );
        let facts = Facts {
            mount_targets: vec![
                "/etc".to_owned(),
                "/run".to_owned(),
                "/.trustrun".to_owned(),
            ],
            ..Default::default()
        };
        let inj = plan(&names(), Java::Off, &facts, &|_| None);
        assert_eq!(inj.bundle, BundlePath::Out);
        assert!(inj.env.is_empty() && inj.warnings.len() == 1, "{inj:?}");
    }

    fn java_of(inj: &Injection) -> Option<&str> {
        inj.env
            .iter()
            .find(|(n, _)| n == JAVA_TOOL_OPTIONS)
            .map(|(_, v)| v.as_str())
    }

    const ON: Java = Java::On { variable: true };

    #[test]
    fn java_is_off_unless_asked_and_then_names_the_store_beside_the_bundle() {
        let off = plan(&names(), Java::Off, &Facts::default(), &|_| None);
        assert_eq!((off.java_store, java_of(&off)), (None, None));
        let on = plan(&names(), ON, &Facts::default(), &|_| None);
        assert_eq!(on.java_store, Some("/etc/trustrun/java-truststore.p12"));
        assert_eq!(
            java_of(&on),
            Some(
                "-Djavax.net.ssl.trustStore=/etc/trustrun/java-truststore.p12 \
                 -Djavax.net.ssl.trustStoreType=PKCS12"
            )
        );
        assert!(on.warnings.is_empty());
        // Under a mount of the user's /etc, both move together.
        let facts = Facts {
            mount_targets: vec!["/etc".to_owned()],
            ..Default::default()
        };
        let moved = plan(&names(), ON, &facts, &|_| None);
        assert_eq!(moved.bundle.mount(), Some("/run/trustrun/ca-bundle.pem"));
        assert_eq!(moved.java_store, Some("/run/trustrun/java-truststore.p12"));
        assert!(
            java_of(&moved)
                .unwrap()
                .contains("=/run/trustrun/java-truststore.p12 ")
        );
    }

    #[test]
    fn the_users_and_the_images_java_tool_options_are_kept_the_store_still_mounted() {
        let users = Facts {
            user_set: [JAVA_TOOL_OPTIONS.to_owned()].into(),
            ..Default::default()
        };
        let image = Facts {
            image: OwnVariables::Read([JAVA_TOOL_OPTIONS.to_owned(), "PATH".to_owned()].into()),
            ..Default::default()
        };
        for facts in [users, image] {
            let inj = plan(&names(), ON, &facts, &|_| None);
            assert_eq!(java_of(&inj), None, "{facts:?}");
            assert_eq!(inj.java_store, Some("/etc/trustrun/java-truststore.p12"));
            // The CA variables are unaffected.
            assert_eq!(inj.env.len(), names().len());
        }
        // `leave_alone = ["JAVA_TOOL_OPTIONS"]`: the store, no variable.
        let inj = plan(
            &names(),
            Java::On { variable: false },
            &Facts::default(),
            &|_| None,
        );
        assert_eq!(java_of(&inj), None);
        assert!(inj.java_store.is_some());
    }

    #[test]
    fn a_users_mount_at_the_stores_path_or_the_bundles_keeps_trustrun_out() {
        for (target, warned) in [
            ("/etc/trustrun/java-truststore.p12", 1),
            // The user's own bundle at the bundle's path: the store would not match it.
            ("/etc/trustrun/ca-bundle.pem", 1),
        ] {
            let facts = Facts {
                mount_targets: vec![target.to_owned()],
                ..Default::default()
            };
            let inj = plan(&names(), ON, &facts, &|_| None);
            assert_eq!((inj.java_store, java_of(&inj)), (None, None), "{target}");
            assert_eq!(inj.warnings.len(), warned, "{target}: {inj:?}");
        }
        // No path left for the bundle: one warning, which says the CA variables are gone too.
        let facts = Facts {
            mount_targets: vec!["/etc".into(), "/run".into(), "/.trustrun".into()],
            ..Default::default()
        };
        let inj = plan(&names(), ON, &facts, &|_| None);
        assert_eq!((inj.java_store, java_of(&inj)), (None, None));
        assert_eq!(inj.warnings.len(), 1, "{inj:?}");
    }

    #[test]
    fn a_store_taken_back_out_takes_its_variable_and_nothing_else() {
        let mut inj = plan(&names(), ON, &Facts::default(), &|_| None);
        inj.without_java();
        assert_eq!((inj.java_store, java_of(&inj)), (None, None));
        assert_eq!(inj.env.len(), names().len());
        // The user's own JAVA_TOOL_OPTIONS is not trustrun's to take out (it is never in `env`).
        let mut users = plan(&names(), Java::Off, &Facts::default(), &|_| None);
        users
            .env
            .push((JAVA_TOOL_OPTIONS.to_owned(), "-Xmx1g".to_owned()));
        users.without_java();
        assert_eq!(java_of(&users), Some("-Xmx1g"));
    }
}
