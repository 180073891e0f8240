//! Where the bundle goes inside a container (launch stage): a path no mount of the user's covers.
//!
//! Why it matters: the engine makes the mount point of a bind inside whatever is mounted above
//! it. Under a user's `-v DIR:/etc` that is an empty, root-owned `DIR/trustrun/ca-bundle.pem` on
//! the user's host; under a read-only one (`-v DIR:/etc/trustrun:ro`) the container does not
//! start. So the user's mount wins: trustrun takes the next candidate path, and when every
//! candidate is covered it mounts nothing. A user mount of exactly the first path is a bundle of
//! the user's own given there: trustrun mounts nothing and points the variables at it.

/// Where the bundle appears inside a container, unless a mount of the user's covers that path: the
/// path the documentation names.
pub const BUNDLE_TARGET: &str = "/etc/trustrun/ca-bundle.pem";

/// The paths trustrun mounts the bundle at, in order of preference. The first is the one the
/// documentation names; the others are for containers whose `/etc` (or `/etc/trustrun`, or
/// `/run`) the user mounts. The engine refuses a mount at `/`, so a user mount covers the last
/// one only when it is that very directory.
pub const CANDIDATES: &[&str] = &[
    BUNDLE_TARGET,
    "/run/trustrun/ca-bundle.pem",
    "/.trustrun/ca-bundle.pem",
];

/// Where the Java trust store goes (`containers_java`), for the bundle at `CANDIDATES[i]`: the
/// same directory, so that whatever kept the bundle's path clear of the user's mounts keeps the
/// store's clear too.
pub const JAVA_STORE_CANDIDATES: &[&str] = &[
    "/etc/trustrun/java-truststore.p12",
    "/run/trustrun/java-truststore.p12",
    "/.trustrun/java-truststore.p12",
];

/// Where trustrun mounts the Java trust store beside the bundle at `bundle`, given where the
/// user's mounts land: `None` when trustrun mounts no bundle (a bundle of the user's own at the
/// path is not the one the store was made from; no path left), or when a mount of the user's is
/// the store's very path (theirs, whatever it holds). The bundle's rule: the user's mount wins.
pub fn java_store(bundle: &BundlePath, user_targets: &[String]) -> Option<&'static str> {
    let i = CANDIDATES.iter().position(|c| Some(*c) == bundle.mount())?;
    let store = JAVA_STORE_CANDIDATES[i];
    let c = components(store);
    let covered = user_targets.iter().any(|t| {
        let t = components(t);
        !t.is_empty() && c.starts_with(&t)
    });
    (!covered).then_some(store)
}

/// The bundle's place in one container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BundlePath {
    /// trustrun mounts the bundle here.
    Mount(&'static str),
    /// The user mounts a file of their own at the first candidate: the variables point at it.
    Users(&'static str),
    /// Every candidate is under a mount of the user's: no bundle, no CA variable.
    Out,
}

impl Default for BundlePath {
    fn default() -> Self {
        BundlePath::Mount(CANDIDATES[0])
    }
}

impl BundlePath {
    /// The path the CA variables name, if any.
    pub fn path(&self) -> Option<&'static str> {
        match self {
            BundlePath::Mount(p) | BundlePath::Users(p) => Some(p),
            BundlePath::Out => None,
        }
    }

    /// The path trustrun mounts its bundle at, if it mounts one.
    pub fn mount(&self) -> Option<&'static str> {
        match self {
            BundlePath::Mount(p) => Some(p),
            _ => None,
        }
    }
}

/// The bundle's place given where the user's mounts land (their container paths).
pub fn choose(user_targets: &[String]) -> BundlePath {
    let targets: Vec<Vec<&str>> = user_targets.iter().map(|t| components(t)).collect();
    let first = components(CANDIDATES[0]);
    if targets.contains(&first) {
        return BundlePath::Users(CANDIDATES[0]);
    }
    CANDIDATES
        .iter()
        .find(|candidate| {
            let c = components(candidate);
            !targets.iter().any(|t| !t.is_empty() && c.starts_with(t))
        })
        .map_or(BundlePath::Out, |c| BundlePath::Mount(c))
}

/// A container path's components (always `/`-separated, whatever the host): `/etc//trustrun/.`
/// and `/etc/trustrun` are one path.
fn components(path: &str) -> Vec<&str> {
    path.split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect()
}

/// The container path a `-v`/`--volume` value mounts at: `SRC:DST[:OPTIONS]`, or `DST` alone
/// (an anonymous volume). The destination is the last part that is an absolute path, so a
/// Windows host path (`C:\x:/etc`) or options (`ro`, `rw,z`) do not mislead it.
pub fn volume_target(value: &str) -> Option<String> {
    let parts: Vec<&str> = value.split(':').collect();
    if parts.len() == 1 {
        return Some(value.to_owned());
    }
    parts
        .iter()
        .rev()
        .find(|p| p.starts_with('/'))
        .map(|p| (*p).to_owned())
}

/// The container path a `--mount` value (`type=...,target=...`, CSV with quoting as the engine
/// reads it) mounts at.
pub fn mount_target(value: &str) -> Option<String> {
    csv_fields(value).into_iter().find_map(|field| {
        let (key, v) = field.split_once('=')?;
        matches!(key.trim(), "target" | "dst" | "destination").then(|| v.to_owned())
    })
}

/// The container path a `--tmpfs` value (`PATH[:OPTIONS]`) mounts at.
pub fn tmpfs_target(value: &str) -> String {
    value.split(':').next().unwrap_or(value).to_owned()
}

/// One CSV record's fields, as Go's `encoding/csv` reads the engine's `--mount` values: a field
/// that starts with `"` runs to the closing quote, `""` inside it is one `"`.
fn csv_fields(value: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut quoted = false;
    let mut at_start = true;
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        let field = fields.last_mut().expect("never empty");
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            '"' if quoted => quoted = false,
            '"' if at_start => quoted = true,
            ',' if !quoted => {
                fields.push(String::new());
                at_start = true;
                continue;
            }
            _ => field.push(c),
        }
        at_start = false;
    }
    fields
}

/// One CSV field as the engine's `--mount` reader expects it: quoted when it holds a `,`, a `"`
/// or a line break (a path may), with every `"` doubled.
pub fn csv_field(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn targets(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_users_mount_over_the_path_or_a_parent_moves_the_bundle() {
        assert_eq!(
            choose(&targets(&["/data", "/etc/trustrunx"])),
            BundlePath::Mount("/etc/trustrun/ca-bundle.pem")
        );
        for covering in ["/etc", "/etc/", "//etc/trustrun", "/etc/./trustrun/"] {
            assert_eq!(
                choose(&targets(&[covering])),
                BundlePath::Mount("/run/trustrun/ca-bundle.pem"),
                "{covering}"
            );
        }
        assert_eq!(
            choose(&targets(&["/etc", "/run"])),
            BundlePath::Mount("/.trustrun/ca-bundle.pem")
        );
        assert_eq!(
            choose(&targets(&["/etc", "/run/trustrun", "/.trustrun"])),
            BundlePath::Out
        );
        assert_eq!(
            choose(&targets(&["/etc/trustrun/ca-bundle.pem"])),
            BundlePath::Users("/etc/trustrun/ca-bundle.pem")
        );
        // A mount below the bundle's directory covers nothing of it.
        assert_eq!(
            choose(&targets(&["/etc/trustrun/other.pem"])),
            BundlePath::default()
        );
    }

    #[test]
    fn the_java_store_goes_beside_the_bundle_unless_the_user_mounts_there() {
        let at = |list: &[&str]| {
            let t = targets(list);
            java_store(&choose(&t), &t)
        };
        assert_eq!(at(&[]), Some("/etc/trustrun/java-truststore.p12"));
        assert_eq!(at(&["/etc"]), Some("/run/trustrun/java-truststore.p12"));
        assert_eq!(
            at(&["/etc", "/run"]),
            Some("/.trustrun/java-truststore.p12")
        );
        assert_eq!(at(&["/etc", "/run/trustrun", "/.trustrun"]), None);
        // The user's file at the store's path, or the user's bundle at the bundle's: theirs.
        assert_eq!(at(&["/etc/trustrun/java-truststore.p12"]), None);
        assert_eq!(at(&["/etc/trustrun/ca-bundle.pem"]), None);
        for (bundle, store) in CANDIDATES.iter().zip(JAVA_STORE_CANDIDATES) {
            assert_eq!(
                std::path::Path::new(bundle).parent(),
                std::path::Path::new(store).parent()
            );
        }
    }

    #[test]
    fn mount_values_name_their_container_path() {
        assert_eq!(volume_target("/host:/etc:ro").as_deref(), Some("/etc"));
        assert_eq!(
            volume_target("vol:/etc/trustrun").as_deref(),
            Some("/etc/trustrun")
        );
        assert_eq!(volume_target("/anon").as_deref(), Some("/anon"));
        assert_eq!(
            volume_target(r"C:\Users\me:/etc:rw,z").as_deref(),
            Some("/etc")
        );
        assert_eq!(
            mount_target("type=bind,src=/a,dst=/etc/trustrun,readonly").as_deref(),
            Some("/etc/trustrun")
        );
        assert_eq!(
            mount_target(r#"type=bind,"source=/a,""b",target=/etc"#).as_deref(),
            Some("/etc")
        );
        assert_eq!(tmpfs_target("/run:rw,size=64m"), "/run");
    }

    #[test]
    fn a_field_is_quoted_as_the_engines_csv_reader_reads_it() {
        assert_eq!(csv_field("source=/plain/path"), "source=/plain/path");
        let odd = r#"source=/c/a,b"c/x.pem"#;
        let quoted = csv_field(odd);
        assert_eq!(quoted, r#""source=/c/a,b""c/x.pem""#);
        let record = format!("type=bind,{quoted},target=/t,readonly");
        assert_eq!(
            csv_fields(&record),
            ["type=bind", odd, "target=/t", "readonly"]
        );
    }
}
