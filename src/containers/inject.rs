//! What a new container gets (launch stage), decided without touching anything: the CA variables
//! pointing at the bundle's fixed path inside the container, and the host's proxy variables (a
//! proxy on host loopback rewritten to `host.docker.internal` unless the container shares the
//! host's network). A variable the user gave, or the image's own config sets, is left to them.

use std::collections::BTreeSet;

/// Where the bundle appears inside every container.
pub const BUNDLE_TARGET: &str = "/etc/trustrun/ca-bundle.pem";

/// The host's proxy settings, passed in as they are (both spellings: curl reads only lower-case
/// `http_proxy`, Go only upper-case on some versions).
pub const PROXY_VARIABLES: &[&str] = &[
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "NO_PROXY",
    "no_proxy",
    "ALL_PROXY",
    "all_proxy",
];

/// The name Docker Desktop provides, and Linux engines map with `host-gateway`.
pub const GATEWAY_NAME: &str = "host.docker.internal";
pub const GATEWAY_ADD_HOST: &str = "host.docker.internal:host-gateway";

/// What is known about the container to be created.
#[derive(Debug, Default)]
pub struct Facts {
    /// Variables the user set for it (`-e`, `--env-file`, compose `environment:`/`env_file:`).
    pub user_set: BTreeSet<String>,
    /// Variables the image's own config sets (`docker image inspect`).
    pub image_set: BTreeSet<String>,
    /// It shares the host's network (`--network host`, `network_mode: host`).
    pub host_network: bool,
    /// The user already maps `host.docker.internal`.
    pub user_maps_gateway: bool,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Injection {
    /// Variables to set in the container, in a stable order.
    pub env: Vec<(String, String)>,
    /// `--add-host host.docker.internal:host-gateway` is needed for a rewritten proxy.
    pub add_gateway_host: bool,
    /// Said once on stderr.
    pub warnings: Vec<String>,
}

/// The injection for one container: `ca_names` point at the bundle, proxies are passed on.
pub fn plan(
    ca_names: &[String],
    facts: &Facts,
    host_env: &dyn Fn(&str) -> Option<String>,
) -> Injection {
    let mut out = Injection::default();
    let taken = |name: &str| facts.user_set.contains(name) || facts.image_set.contains(name);
    for name in ca_names {
        if !taken(name) && !out.env.iter().any(|(n, _)| n == name) {
            out.env.push((name.clone(), BUNDLE_TARGET.to_owned()));
        }
    }
    for name in PROXY_VARIABLES {
        let Some(value) = host_env(name).filter(|v| !v.is_empty()) else {
            continue;
        };
        if taken(name) {
            continue;
        }
        let value = match loopback_proxy_rewritten(&value) {
            Some(rewritten) if !facts.host_network => {
                out.add_gateway_host = !facts.user_maps_gateway;
                out.warnings.push(format!(
                    "{name}={value} is on this machine's loopback: the container gets {rewritten}; \
                     a proxy that listens on 127.0.0.1 only will not answer there (make it listen on \
                     the bridge, or run the container with --network host)"
                ));
                rewritten
            }
            _ => value,
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
            image_set: ["REQUESTS_CA_BUNDLE".to_owned()].into(),
            ..Default::default()
        };
        let plan = plan(&names(), &facts, &|_| None);
        assert!(plan.env.is_empty(), "{plan:?}");
        let plan = super::plan(&names(), &Facts::default(), &|_| None);
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
        let bridge = plan(&[], &Facts::default(), &env);
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
            &Facts {
                host_network: true,
                ..Default::default()
            },
            &env,
        );
        assert_eq!(host.env[0].1, "http://127.0.0.1:3128");
        assert!(!host.add_gateway_host && host.warnings.is_empty());
        let mapped = plan(
            &[],
            &Facts {
                user_maps_gateway: true,
                ..Default::default()
            },
            &env,
        );
        assert!(!mapped.add_gateway_host);
    }
}
