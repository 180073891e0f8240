//! The hosts named on doctor's command line (beside the pipeline): `host`, `host:port`,
//! `[v6]:port`, or a URL.

use rustls::pki_types::ServerName;

use crate::failure::Failure;
use crate::util::authority::BadAuthority;

#[derive(Clone, Debug)]
pub struct Target {
    pub host: String,
    pub port: u16,
    name: ServerName<'static>,
}

impl Target {
    /// `host:port`, with brackets around an IPv6 address.
    pub fn display(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    pub fn server_name(&self) -> ServerName<'static> {
        self.name.clone()
    }
}

pub fn parse(text: &str) -> Result<Target, Failure> {
    let bad = |why: &str| Failure::usage(format!("doctor: {text:?}: {why}"));
    let mut rest = text.trim();
    if let Some((scheme, after)) = rest.split_once("://") {
        if !scheme.eq_ignore_ascii_case("https") {
            return Err(bad("only https:// URLs can be checked"));
        }
        rest = after;
    }
    let rest = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let rest = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    let (host, port) = crate::util::authority::split_host_port(rest).map_err(|e| match e {
        BadAuthority::UnclosedBracket => bad("unclosed '[' in an IPv6 address"),
        BadAuthority::AfterBracket => bad("expected :PORT after ']'"),
    })?;
    if host.is_empty() {
        return Err(bad("no host name"));
    }
    let port = match port {
        None => 443,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 => n,
            _ => return Err(bad("the port must be a number from 1 to 65535")),
        },
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let Ok(name) = ServerName::try_from(host.clone()) else {
        return Err(bad("not a valid host name or IP address"));
    };
    Ok(Target { host, port, name })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        let t = parse("api.openai.com").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("api.openai.com", 443));
        let t = parse("pypi.org:8443").unwrap();
        assert_eq!(t.port, 8443);
        let t = parse("https://github.com/rust-lang").unwrap();
        assert_eq!(t.host, "github.com");
        let t = parse("[::1]:4433").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("::1", 4433));
        assert_eq!(t.display(), "[::1]:4433");
        assert!(parse("::1").is_ok());
        assert!(parse("host:0").is_err());
        assert!(parse("host:99999").is_err());
        assert!(parse("ftp://x").is_err());
        assert!(parse("bad host").is_err());
        assert!(parse("").is_err());
    }
}
