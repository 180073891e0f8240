//! The rule "an image's own variables are kept" (launch stage), for every way a container gets
//! its image: `docker run|create` of an image, a compose service's `image:`, a compose service
//! that compose builds (`build:`, under the name compose gives it), and a service of any profile.
//! Image builds (a stage `FROM` an image) and the Java trust store follow the same rule: read an
//! image with `own_variables`, then set a variable only where `OwnVariables::keeps` says no.
//!
//! Why: an image that sets `SSL_CERT_FILE` (or a proxy) in its config chose a file or a route
//! on purpose (a private CA of its own, a proxy of its network); pointing it at the host's
//! bundle would change what already worked. The image's config is read from the engine
//! (`docker image inspect`), which knows only images that are here: one still to be pulled or
//! built cannot be read first, so it gets trustrun's variables, and trustrun says so.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::Path;

use super::variables::same_variable;

/// The variables an image's own config sets, as far as trustrun can know them.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub enum OwnVariables {
    /// Read from the image's config: these names (possibly none).
    Read(BTreeSet<String>),
    /// The image is not here (to be pulled or built) or the engine did not answer.
    #[default]
    Unknown,
}

impl OwnVariables {
    /// The rule: whether the image keeps `name` to itself, so trustrun must not set it. A proxy
    /// variable counts in either spelling (`variables::same_variable`).
    pub fn keeps(&self, name: &str) -> bool {
        match self {
            OwnVariables::Read(names) => names.iter().any(|own| same_variable(own, name)),
            OwnVariables::Unknown => false,
        }
    }
}

/// What `image`'s config sets, asked of the engine the command uses: `cli` is the real docker
/// (or podman) CLI, `globals` the options that select the engine (`-H`, `--context`...).
pub fn own_variables(cli: &Path, globals: &[OsString], image: &str) -> OwnVariables {
    let question = [
        "image",
        "inspect",
        "--format",
        "{{json .Config.Env}}",
        "--",
        image,
    ];
    let Some(out) = super::ask::ask(cli, globals, &question) else {
        return OwnVariables::Unknown;
    };
    // `null` when the config sets nothing at all.
    let list: Option<Vec<String>> = match serde_json::from_slice(&out) {
        Ok(list) => list,
        Err(_) => return OwnVariables::Unknown,
    };
    OwnVariables::Read(
        list.unwrap_or_default()
            .iter()
            .map(|e| e.split('=').next().unwrap_or(e).to_owned())
            .collect(),
    )
}

/// How an image that is not here yet will arrive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrival {
    Pulled,
    Built,
}

/// The one line said when an image cannot be read first.
pub fn unknown_note(image: &str, arrival: Arrival) -> String {
    let (state, first) = match arrival {
        Arrival::Pulled => ("is not here yet (it will be pulled)", "pull it first"),
        Arrival::Built => ("is not built yet", "build it first (`compose build`)"),
    };
    format!(
        "image {image} {state}, so trustrun cannot read which CA variables it sets itself: the \
         container gets trustrun's ({first} to keep the image's own)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_image_keeps_what_its_config_sets_and_a_proxy_in_either_spelling() {
        let own = OwnVariables::Read(
            ["NODE_EXTRA_CA_CERTS", "http_proxy"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
        );
        assert!(own.keeps("NODE_EXTRA_CA_CERTS"));
        assert!(own.keeps("HTTP_PROXY") && own.keeps("http_proxy"));
        assert!(!own.keeps("SSL_CERT_FILE"));
        // CA variables are exact: a lower-case one is another variable.
        assert!(!OwnVariables::Read(["ssl_cert_file".to_owned()].into()).keeps("SSL_CERT_FILE"));
        assert!(!OwnVariables::Unknown.keeps("SSL_CERT_FILE"));
    }
}
