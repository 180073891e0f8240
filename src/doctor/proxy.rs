//! Which way a connection to a host goes (doctor, beside the pipeline): direct, or through the
//! HTTPS proxy the environment names, as curl and Python's urllib read `https_proxy` and
//! `no_proxy`.

use std::net::IpAddr;

use serde::Serialize;

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Route {
    Direct,
    /// An `http://` proxy we open a CONNECT tunnel through.
    Proxy {
        url: String,
        host: String,
        port: u16,
        #[serde(skip)]
        authorization: Option<String>,
    },
    /// A proxy doctor cannot speak to (`https://`, `socks5://`): said, not silently bypassed.
    Unsupported {
        url: String,
        why: String,
    },
}

fn env(names: &[&str]) -> Option<(String, String)> {
    names.iter().find_map(|n| {
        std::env::var(n)
            .ok()
            .filter(|v| !v.trim().is_empty())
            .map(|v| ((*n).to_owned(), v.trim().to_owned()))
    })
}

pub fn route_for(host: &str, port: u16) -> Route {
    let Some((_, url)) = env(&["https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"]) else {
        return Route::Direct;
    };
    if let Some((_, list)) = env(&["no_proxy", "NO_PROXY"])
        && bypassed(&list, host, port)
    {
        return Route::Direct;
    }
    parse_proxy(&url)
}

fn parse_proxy(url: &str) -> Route {
    let (scheme, rest) = match url.split_once("://") {
        Some((s, r)) => (s.to_ascii_lowercase(), r),
        None => ("http".to_owned(), url),
    };
    if scheme != "http" {
        return Route::Unsupported {
            url: url.to_owned(),
            why: format!(
                "a {scheme}:// proxy is not supported by doctor (only http:// proxies with CONNECT)"
            ),
        };
    }
    let authority = rest.split('/').next().unwrap_or_default();
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, authority),
    };
    // A URL that cannot be split is no proxy URL (the `_` arm below).
    let (host, port) = crate::util::authority::split_host_port(hostport).unwrap_or(("", None));
    let port = match port.map(str::parse::<u16>) {
        None => Some(80),
        Some(Ok(p)) if p > 0 => Some(p),
        _ => None,
    };
    let shown = redact(url, userinfo);
    match port {
        Some(port) if !host.is_empty() => Route::Proxy {
            url: shown,
            host: host.to_owned(),
            port,
            authorization: userinfo.map(|u| {
                use base64::Engine;
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(percent_decode(u))
                )
            }),
        },
        _ => Route::Unsupported {
            url: shown,
            why: "not a proxy URL (expected http://HOST:PORT)".to_owned(),
        },
    }
}

/// The proxy URL without its password, for reports.
fn redact(url: &str, userinfo: Option<&str>) -> String {
    match userinfo {
        Some(u) => url.replacen(&format!("{u}@"), "***@", 1),
        None => url.to_owned(),
    }
}

fn percent_decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(hex) = std::str::from_utf8(&bytes[i + 1..i + 3])
            && let Ok(b) = u8::from_str_radix(hex, 16)
        {
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}

/// `no_proxy` as curl reads it: `*`, host names matching themselves and their subdomains (with or
/// without a leading dot), optional `:port`, IP addresses and CIDR ranges.
pub fn bypassed(list: &str, host: &str, port: u16) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let ip: Option<IpAddr> = host.parse().ok();
    list.split([',', ' '])
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .any(|entry| {
            if entry == "*" {
                return true;
            }
            let entry = entry.to_ascii_lowercase();
            let (name, entry_port) = split_port(&entry);
            if entry_port.is_some_and(|p| p != port) {
                return false;
            }
            if let Some(ip) = ip {
                if let Some((net, bits)) = name.split_once('/') {
                    return in_cidr(ip, net, bits);
                }
                return name.parse::<IpAddr>().is_ok_and(|e| e == ip);
            }
            let name = name.trim_start_matches("*.").trim_start_matches('.');
            !name.is_empty() && (host == name || host.ends_with(&format!(".{name}")))
        })
}

fn split_port(entry: &str) -> (&str, Option<u16>) {
    match crate::util::authority::split_host_port(entry) {
        Ok((host, port)) => (host, port.and_then(|p| p.parse().ok())),
        Err(_) => (entry.trim_start_matches('['), None),
    }
}

fn in_cidr(ip: IpAddr, net: &str, bits: &str) -> bool {
    let (Ok(net), Ok(bits)) = (net.parse::<IpAddr>(), bits.parse::<u32>()) else {
        return false;
    };
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) if bits <= 32 => {
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - bits)
            };
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) if bits <= 128 => {
            let mask = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - bits)
            };
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_proxy() {
        assert!(bypassed("*", "x.com", 443));
        assert!(bypassed("example.com", "api.example.com", 443));
        assert!(bypassed(".example.com", "example.com", 443));
        assert!(!bypassed("example.com", "badexample.com", 443));
        assert!(bypassed("localhost,127.0.0.1", "127.0.0.1", 443));
        assert!(bypassed("10.0.0.0/8", "10.1.2.3", 443));
        assert!(!bypassed("10.0.0.0/8", "11.1.2.3", 443));
        assert!(bypassed("internal:8443", "internal", 8443));
        assert!(!bypassed("internal:8443", "internal", 443));
        assert!(bypassed("[::1]", "::1", 443));
        assert!(!bypassed("", "x.com", 443));
    }

    #[test]
    fn proxy_urls() {
        let route = parse_proxy("http://user:p%40ss@proxy.corp:3128/");
        let Route::Proxy {
            url,
            host,
            port,
            authorization,
        } = route
        else {
            panic!("{route:?}");
        };
        assert_eq!((host.as_str(), port), ("proxy.corp", 3128));
        assert_eq!(url, "http://***@proxy.corp:3128/");
        assert_eq!(authorization.as_deref(), Some("Basic dXNlcjpwQHNz"));
        assert!(matches!(
            parse_proxy("proxy:8080"),
            Route::Proxy { port: 8080, .. }
        ));
        assert!(matches!(
            parse_proxy("socks5://p:1080"),
            Route::Unsupported { .. }
        ));
        assert!(matches!(
            parse_proxy("http://p:notaport"),
            Route::Unsupported { .. }
        ));
    }
}
