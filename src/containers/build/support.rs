//! Whether an image build can be trusted (launch stage, and doctor's question): only BuildKit with
//! named build contexts can hand a `RUN` the bundle without a layer keeping it. The classic
//! builder, a buildx without `--build-context`, and an engine whose built-in BuildKit predates
//! named contexts build as the user wrote it, with one line saying why and what to do.
//!
//! The engine is asked three questions per build, at once (`docker buildx version`, `docker buildx
//! inspect`, `docker version`): about as long as the slowest, a fifth of a second here.

use std::ffi::OsString;
use std::path::Path;

/// buildx learnt `--build-context` in 0.8.
const BUILDX_MIN: (u32, u32) = (0, 8);
/// The Dockerfile frontend built into BuildKit 0.10 reads named contexts; Docker Engine 23.0 is
/// the first release with such a BuildKit built in.
const BUILDKIT_MIN: (u32, u32) = (0, 10);
const ENGINE_MIN: (u32, u32) = (23, 0);

/// Which builder a command asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    /// `docker build`, `docker image build`, `docker builder build`: BuildKit through buildx,
    /// unless `DOCKER_BUILDKIT` says no.
    Build,
    /// `docker buildx build`: always buildx.
    Buildx,
    /// compose v2's own builder (it honours `DOCKER_BUILDKIT` too).
    Compose,
}

/// `major.minor` of the first version-looking word in `text` (`v0.13.1+ds1`, `26.1.5+dfsg1`).
pub fn version(text: &str) -> Option<(u32, u32)> {
    text.split_whitespace().find_map(|word| {
        let w = word.trim_start_matches('v');
        let mut parts = w.split(['.', '+', '-', '~']);
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next()?.parse().ok()?;
        Some((major, minor))
    })
}

/// A false spelling of `DOCKER_BUILDKIT` (docker's own reading: `strconv.ParseBool`).
pub fn classic_requested(value: Option<&str>) -> bool {
    matches!(value, Some("0" | "f" | "F" | "false" | "FALSE" | "False"))
}

/// The driver and BuildKit version of a builder, from `docker buildx inspect`.
pub fn inspect_fields(text: &str) -> (Option<String>, Option<(u32, u32)>) {
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(name).map(|v| v.trim().to_owned()))
    };
    let driver = field("Driver:");
    let buildkit = field("BuildKit version:")
        .and_then(|v| version(&v))
        .filter(|v| *v != (0, 0));
    (driver, buildkit)
}

/// The builder, in words (`Ok`), when the build can be trusted, else the one line saying why not
/// and what to do.
pub fn check(
    cli: &Path,
    globals: &[OsString],
    builder: Option<&str>,
    request: Request,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<String, String> {
    if request != Request::Buildx && classic_requested(env("DOCKER_BUILDKIT").as_deref()) {
        return Err(
            "DOCKER_BUILDKIT=0 chooses the classic builder, which cannot lend a RUN step a file \
             without a layer keeping it; unset DOCKER_BUILDKIT to have the build trusted"
                .to_owned(),
        );
    }
    // The three questions at once: each is a Go program's start-up (buildx's ~0.2 s here).
    let ask = |args: &[&str]| crate::containers::ask::question(cli, globals, args).spawn();
    let answer = |started| {
        crate::containers::ask::answer(started)
            .map(|out| String::from_utf8_lossy(&out).into_owned())
    };
    let mut inspect = vec!["buildx", "inspect"];
    if let Some(b) = builder {
        inspect.push(b);
    }
    let asked_buildx = ask(&["buildx", "version"]);
    let asked_inspect = ask(&inspect);
    let asked_server = ask(&["version", "--format", "{{.Server.Version}} {{.Server.Os}}"]);
    let (buildx, text, server) = (
        answer(asked_buildx),
        answer(asked_inspect),
        answer(asked_server),
    );
    let Some(buildx) = buildx else {
        return Err(
            "docker has no buildx plugin, so it builds with the classic builder, which cannot \
             lend a RUN step a file without a layer keeping it; install docker-buildx to have \
             builds trusted"
                .to_owned(),
        );
    };
    // buildx's own version is the word after its module path.
    let buildx_version = buildx.split_whitespace().nth(1).and_then(version);
    if buildx_version.is_none_or(|v| v < BUILDX_MIN) {
        return Err(format!(
            "buildx {} has no --build-context (0.8 and later have); update docker-buildx to \
             have builds trusted",
            buildx.split_whitespace().nth(1).unwrap_or("?")
        ));
    }
    let Some(text) = text else {
        return Err(format!(
            "`docker {}` did not answer, so trustrun cannot tell whether the builder has named \
             build contexts",
            inspect.join(" ")
        ));
    };
    let (driver, buildkit) = inspect_fields(&text);
    // Windows containers build with the classic builder whatever the client asks.
    if driver.as_deref() == Some("docker")
        && server
            .as_deref()
            .is_some_and(|s| s.split_whitespace().nth(1) == Some("windows"))
    {
        return Err(
            "the engine builds Windows containers, whose builder cannot lend a RUN \
                    step a file without a layer keeping it"
                .to_owned(),
        );
    }
    match (driver.as_deref(), buildkit) {
        (d, Some(v)) if v >= BUILDKIT_MIN => Ok(format!(
            "BuildKit {}.{}, {} driver",
            v.0,
            v.1,
            d.unwrap_or("unknown")
        )),
        (_, Some((a, b))) => Err(format!(
            "the builder's BuildKit {a}.{b} has no named build contexts (0.10 and later have); \
             update it to have builds trusted"
        )),
        // The engine's own BuildKit (distributions often print no version for it): the engine's.
        (Some("docker"), None) => match server.as_deref().and_then(version) {
            Some(v) if v >= ENGINE_MIN => {
                Ok(format!("Docker Engine {}.{}'s own BuildKit", v.0, v.1))
            }
            Some((a, b)) => Err(format!(
                "Docker Engine {a}.{b}'s built-in BuildKit has no named build contexts \
                     (Engine 23.0 and later have); update the engine, or build with a \
                     docker-container builder (`docker buildx create --use`), to have builds trusted"
            )),
            None => Err(
                "the engine did not say its version, so trustrun cannot tell \
                             whether its BuildKit has named build contexts"
                    .to_owned(),
            ),
        },
        // A docker-container builder not started yet starts from a current BuildKit image.
        (Some("docker-container"), None) => {
            Ok("a docker-container builder, not started yet".to_owned())
        }
        (d, None) => Err(format!(
            "the builder ({} driver) does not say its BuildKit version, so trustrun cannot \
             tell whether it has named build contexts",
            d.unwrap_or("unknown")
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_and_spellings_as_the_tools_print_them() {
        assert_eq!(version("26.1.5+dfsg1"), Some((26, 1)));
        assert_eq!(version("v0.13.1"), Some((0, 13)));
        assert_eq!(version("0.13.1+ds1 0.13.1+ds1-3"), Some((0, 13)));
        assert_eq!(version("v0.0.0+unknown"), Some((0, 0)));
        assert_eq!(version("unknown"), None);
        assert!(classic_requested(Some("0")) && classic_requested(Some("false")));
        assert!(!classic_requested(Some("1")) && !classic_requested(None));
        let text = "Name:          default\nDriver:        docker\n\nNodes:\nName: default\nBuildKit version: v0.0.0+unknown\n";
        assert_eq!(inspect_fields(text), (Some("docker".to_owned()), None));
        let text = "Driver: docker-container\nBuildKit version: v0.9.3\n";
        assert_eq!(
            inspect_fields(text),
            (Some("docker-container".to_owned()), Some((0, 9)))
        );
    }
}
