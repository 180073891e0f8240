//! The shim directory's manifest, `.trustrun-shims` (read by the locate stage): the one file that
//! marks a directory as holding trustrun shims, and lists which names there are ours, how each
//! was made, by which trustrun version and with what content. Written by `shim install|remove`
//! (and, listing no names, into the containers' engine shim directory); read by `locate`, which
//! skips exactly the names it lists, and by `shadow`.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use anyhow::Result;

/// The file `trustrun shim install` leaves in a shim directory.
pub const SHIM_MARKER: &str = ".trustrun-shims";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Symlink,
    Hardlink,
    Copy,
    Cmd,
}

impl Kind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Kind::Symlink => "symlink",
            Kind::Hardlink => "hardlink",
            Kind::Copy => "copy",
            Kind::Cmd => "cmd",
        }
    }

    fn parse(s: &str) -> Option<Kind> {
        [Kind::Symlink, Kind::Hardlink, Kind::Copy, Kind::Cmd]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// The manifest: which names are our shims, how each was made, by which trustrun version, and
/// the SHA-256 of what was written (`-` for a symlink). A regular file is ours only while its
/// content still has that hash: a file the user put in its place since is theirs.
#[derive(Default)]
pub(crate) struct Manifest {
    pub(crate) shims: BTreeMap<String, Entry>,
}

#[derive(Clone)]
pub(crate) struct Entry {
    pub(crate) kind: Kind,
    pub(crate) version: String,
    pub(crate) digest: String,
}

impl Manifest {
    /// The manifest in `dir`; empty when there is none or it cannot be read.
    pub(crate) fn read(dir: &Path) -> Manifest {
        fs::read_to_string(dir.join(SHIM_MARKER))
            .map(|text| Manifest::parse(&text))
            .unwrap_or_default()
    }

    fn parse(text: &str) -> Manifest {
        let mut m = Manifest::default();
        for line in text.lines() {
            let parts: Vec<&str> = line.split_whitespace().collect();
            if let ["shim", name, kind, version, rest @ ..] = parts.as_slice()
                && let Some(kind) = Kind::parse(kind)
            {
                let digest = rest.first().copied().unwrap_or("-").to_owned();
                let version = version.to_string();
                m.shims.insert(
                    name.to_string(),
                    Entry {
                        kind,
                        version,
                        digest,
                    },
                );
            }
        }
        m
    }

    pub(crate) fn write(&self, dir: &Path) -> Result<()> {
        let mut text = String::from(
            "# trustrun shims. trustrun skips the shims listed here when it looks for the real programs.\n\
             # Managed by `trustrun shim install|remove`: shim NAME KIND VERSION SHA256\n",
        );
        for (name, e) in &self.shims {
            text.push_str(&format!(
                "shim {name} {} {} {}\n",
                e.kind.as_str(),
                e.version,
                e.digest
            ));
        }
        crate::util::fs::write_atomic(&dir.join(SHIM_MARKER), text.as_bytes())
    }
}

/// The names `dir`'s manifest lists as our shims; `None` when it exists but cannot be read.
/// `locate` skips exactly these there, so the user's other programs in the same directory stay
/// reachable.
pub fn listed_names(dir: &Path) -> Option<Vec<String>> {
    let text = fs::read_to_string(dir.join(SHIM_MARKER)).ok()?;
    Some(Manifest::parse(&text).shims.into_keys().collect())
}
