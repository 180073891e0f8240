//! `HOST:PORT` split one way (util): doctor's targets, proxy URLs and `NO_PROXY` entries, container
//! engine and proxy addresses all write a host as `name`, `name:port`, `[v6]` or `[v6]:port`.

/// Why a host and port could not be told apart.
#[derive(Debug, PartialEq, Eq)]
pub enum BadAuthority {
    /// `[` with no `]`.
    UnclosedBracket,
    /// Something other than `:PORT` after `]`.
    AfterBracket,
}

/// The host and the port text, if any: `[v6]:port` and `name:port` split at the colon; a bare
/// IPv6 address (two colons or more, no brackets) is all host. The port is not parsed: each
/// caller has its own range and default.
pub fn split_host_port(text: &str) -> Result<(&str, Option<&str>), BadAuthority> {
    if let Some(after) = text.strip_prefix('[') {
        let (host, tail) = after.split_once(']').ok_or(BadAuthority::UnclosedBracket)?;
        return match tail {
            "" => Ok((host, None)),
            t => t
                .strip_prefix(':')
                .map(|p| (host, Some(p)))
                .ok_or(BadAuthority::AfterBracket),
        };
    }
    if text.matches(':').count() > 1 {
        return Ok((text, None));
    }
    Ok(match text.split_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (text, None),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_spelling_of_a_host() {
        type Split<'a> = Result<(&'a str, Option<&'a str>), BadAuthority>;
        let cases: &[(&str, Split)] = &[
            ("example.com", Ok(("example.com", None))),
            ("example.com:8443", Ok(("example.com", Some("8443")))),
            ("example.com:", Ok(("example.com", Some("")))),
            ("[::1]", Ok(("::1", None))),
            ("[::1]:3128", Ok(("::1", Some("3128")))),
            ("::1", Ok(("::1", None))),
            ("[::1", Err(BadAuthority::UnclosedBracket)),
            ("[::1]x", Err(BadAuthority::AfterBracket)),
        ];
        for (text, want) in cases {
            assert_eq!(&split_host_port(text), want, "{text}");
        }
    }
}
