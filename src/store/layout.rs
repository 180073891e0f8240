//! The cache's layout and the formats of its small files (bundle stage): every name in the
//! cache (`bundles/`, `index/`, `public/`, `current.pem` and its two records, the python support
//! directories, the containers' files and records), a bundle's content-addressed name and the
//! one check of its shape, the index entry (`<name> <stamp>`, then its companions'), the
//! bundle's header and text, and whether a path is a bundle of a trustrun cache. The one module that knows these: the rest of `store` writes,
//! finds and removes by it, and `setup` and doctor recognise a bundle of ours by it.

use std::ffi::OsStr;
use std::fmt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::sources::certs::{self, Der};
use crate::util::file_id::Stamp;

/// The content-addressed bundles: `bundles/<bundle_stem>.pem`.
pub const BUNDLES: &str = "bundles";
/// `index/<fingerprint of the inputs>`, holding an `IndexEntry`: `<bundle file name> <stamp>`.
pub const INDEX: &str = "index";
/// The stable file `trustrun setup` points the profiles at (see `store::stable`).
pub const CURRENT: &str = "current.pem";
/// The stable file's Java trust store (`store::java_store`'s format), which `setup --java` names.
pub const CURRENT_JAVA: &str = "current.p12";
/// Which bundle the stable file copies, and its stamp when written: an `IndexEntry`.
pub const CURRENT_SOURCE: &str = "current.source";
/// The sources setup recorded (`sources::Inputs` as JSON), read by every run.
pub const CURRENT_INPUTS: &str = "current.inputs";
/// World-readable copies of bundles handed to container engines: `public/<bundle name>` (see
/// `store::handoff`).
pub const PUBLIC: &str = "public";
/// The python support directories: `python-<hash of their files>` (see `store::python_support`).
pub const PYTHON_PREFIX: &str = "python-";
/// What the containers' support keeps: `containers/engines/` (the engines copies were handed
/// to), `containers/compose/` (compose override files), `containers/shims-<CLIs>/`.
const CONTAINERS: &str = "containers";

/// The first line of every bundle we write (what it is, for a person who opens it).
pub const BUNDLE_HEADER: &str = "# trustrun bundle";

/// The records of the engines public copies were handed to (see `store::handoff`).
pub fn engines_dir(root: &Path) -> PathBuf {
    root.join(CONTAINERS).join("engines")
}

/// A compose override file, named by the digest of its content.
pub fn compose_file(root: &Path, digest: &str) -> PathBuf {
    root.join(CONTAINERS)
        .join("compose")
        .join(format!("trustrun-{digest}.yml"))
}

/// An image build's files, each named by its content (see `containers::build::files`):
/// `containers/builds/ca-<bundle stem>/` holds only a bundle's public copy (the named build
/// context), `containers/builds/df-<digest>/` a derived Dockerfile and its `.dockerignore`.
pub fn build_dir(root: &Path, name: &str) -> PathBuf {
    root.join(CONTAINERS).join("builds").join(name)
}

/// The engine shims for a set of engine CLIs (`docker+podman`, say) leading to one trustrun
/// binary (`exe_hash`, a hash of its path); Unix only, as they are.
#[cfg(unix)]
pub fn engine_shims_dir(root: &Path, clis: &str, exe_hash: u64) -> PathBuf {
    root.join(CONTAINERS).join(format!(
        "{ENGINE_SHIMS_PREFIX}{clis}-{:08x}",
        exe_hash & 0xffff_ffff
    ))
}

/// How an engine shim directory is named, for cleanup.
pub const ENGINE_SHIMS_PREFIX: &str = "shims-";

/// Which engine CLIs a PATH holds, as found when the PATH's directories looked as recorded
/// (see `containers::shimdir`): `containers/found-<hash of PATH and binary>`.
#[cfg(unix)]
pub fn engines_found_record(root: &Path, path_hash: u64) -> PathBuf {
    engines_found_dir(root).join(format!("{ENGINES_FOUND_PREFIX}{path_hash:016x}"))
}

/// Where the records of `engines_found_record` are, for cleanup.
pub fn engines_found_dir(root: &Path) -> PathBuf {
    root.join(CONTAINERS)
}

/// How a record of `engines_found_record` is named.
pub const ENGINES_FOUND_PREFIX: &str = "found-";

/// Whether `stem` has the shape of a content-addressed name: 32 hex digits (we write lower
/// case; a name another tool or a case-insensitive file system spelt otherwise is still ours).
pub fn is_bundle_stem(stem: &str) -> bool {
    stem.len() == 32 && stem.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A bundle's name: the first 32 hex digits of the SHA-256 of its text.
pub fn bundle_stem(text: &[u8]) -> String {
    crate::util::digest::hex(&Sha256::digest(text)[..16])
}

/// Whether `dir` is the root of a trustrun cache: it has an index.
fn is_cache_root(dir: &Path) -> bool {
    dir.join(INDEX).is_dir()
}

/// Whether `path` is the stable file of a trustrun cache (`<cache>/current.pem`).
pub fn is_stable_file(path: &Path) -> bool {
    path.file_name() == Some(OsStr::new(CURRENT)) && path.parent().is_some_and(is_cache_root)
}

/// Whether `path` is the stable Java trust store of a trustrun cache (`<cache>/current.p12`).
pub fn is_stable_java_store(path: &Path) -> bool {
    path.file_name() == Some(OsStr::new(CURRENT_JAVA)) && path.parent().is_some_and(is_cache_root)
}

/// Whether `path` is a bundle in a trustrun cache, whichever cache: `<cache>/bundles/<stem>.pem`,
/// its public copy `<cache>/public/<stem>.pem`, or the stable file `<cache>/current.pem`. Such a
/// file only repeats the sources it was made from, and reading it back would keep roots the OS
/// store has since dropped. A copy made with `trustrun bundle --output` lives elsewhere and
/// counts as the user's own file.
pub fn is_cache_bundle(path: &Path) -> bool {
    if is_stable_file(path) {
        return true;
    }
    let Some(dir) = path.parent() else {
        return false;
    };
    let named_like_ours = path
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_suffix(".pem"))
        .is_some_and(is_bundle_stem);
    named_like_ours
        && dir.file_name().is_some_and(|n| n == BUNDLES || n == PUBLIC)
        && dir.parent().is_some_and(is_cache_root)
}

/// An index entry (or the stable file's `current.source`): a file's name, and its stamp when
/// it was written. An entry from an older trustrun has the name alone. Further lines, one a
/// file, name the bundle's companions (files made from it and written beside it, before the
/// entry) with their stamps: one entry vouches for all of them.
#[derive(Debug, PartialEq, Eq)]
pub struct IndexEntry<'a> {
    pub name: &'a str,
    pub stamp: Option<Stamp>,
    pub companions: Vec<(&'a str, Option<Stamp>)>,
}

impl<'a> IndexEntry<'a> {
    pub fn parse(text: &'a str) -> IndexEntry<'a> {
        let mut lines = text.trim().lines();
        let (name, stamp) = name_and_stamp(lines.next().unwrap_or(""));
        IndexEntry {
            name,
            stamp,
            companions: lines.map(name_and_stamp).collect(),
        }
    }

    /// The entry for the file `name` as `meta` shows it now.
    pub fn text(name: &str, meta: &std::fs::Metadata) -> String {
        Self::text_with(name, meta, &[])
    }

    /// The entry for the file `name` and its companions, each as its metadata shows it now.
    pub fn text_with(
        name: &str,
        meta: &std::fs::Metadata,
        companions: &[(String, std::fs::Metadata)],
    ) -> String {
        let mut text = format!("{name} {}\n", Stamp::of(meta).to_text());
        for (name, meta) in companions {
            text.push_str(&format!("{name} {}\n", Stamp::of(meta).to_text()));
        }
        text
    }
}

fn name_and_stamp(line: &str) -> (&str, Option<Stamp>) {
    match line.trim().split_once(' ') {
        Some((name, stamp)) => (name, Stamp::parse(stamp)),
        None => (line.trim(), None),
    }
}

/// The bundle's text: a header, then each certificate with the source it came from.
pub fn render<'a, O: fmt::Display + 'a>(certs: &'a [(Der, O)]) -> String {
    let mut text = String::with_capacity(certs.len() * 2200);
    text.push_str(BUNDLE_HEADER);
    text.push_str(": the OS trust store, Mozilla's roots and the CA files you named.\n");
    text.push_str("# Written by trustrun; a new file is written when the inputs change.\n");
    for (der, origin) in certs {
        text.push_str("\n# from: ");
        text.push_str(&ascii_comment(&origin.to_string()));
        text.push('\n');
        certs::to_pem(der, &mut text);
    }
    text
}

/// A comment line that keeps the bundle pure ASCII: certifi's `contents()` (which our
/// sitecustomize serves from the bundle) and some PEM readers decode it as ASCII.
fn ascii_comment(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\n' | '\r' => " ".to_owned(),
            c if c.is_ascii() && !c.is_ascii_control() => c.to_string(),
            c => c.escape_unicode().to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_caches_bundles_are_recognised_whichever_case_their_digits() {
        let cache = tempfile::tempdir().unwrap();
        let root = cache.path();
        std::fs::create_dir(root.join(INDEX)).unwrap();
        let stem = "0123456789abcdef0123456789abcdef";
        assert!(is_cache_bundle(
            &root.join(BUNDLES).join(format!("{stem}.pem"))
        ));
        let upper = stem.to_ascii_uppercase();
        assert!(is_cache_bundle(
            &root.join(PUBLIC).join(format!("{upper}.pem"))
        ));
        assert!(is_stable_file(&root.join(CURRENT)) && is_cache_bundle(&root.join(CURRENT)));
        assert!(!is_cache_bundle(&root.join(BUNDLES).join("corp.pem")));
        assert!(!is_cache_bundle(
            &root.join("other").join(format!("{stem}.pem"))
        ));
        let elsewhere = tempfile::tempdir().unwrap();
        assert!(!is_stable_file(&elsewhere.path().join(CURRENT)));
    }

    #[test]
    fn an_entry_reads_back_as_written_and_an_old_bare_name_too() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, "x").unwrap();
        let meta = std::fs::metadata(&file).unwrap();
        let text = IndexEntry::text("a.pem", &meta);
        assert_eq!(
            IndexEntry::parse(&text),
            IndexEntry {
                name: "a.pem",
                stamp: Some(Stamp::of(&meta)),
                companions: Vec::new(),
            }
        );
        assert_eq!(
            IndexEntry::parse("a.pem\n"),
            IndexEntry {
                name: "a.pem",
                stamp: None,
                companions: Vec::new(),
            }
        );
        let with = IndexEntry::text_with("a.pem", &meta, &[("a.p12".to_owned(), meta.clone())]);
        assert_eq!(
            IndexEntry::parse(&with),
            IndexEntry {
                name: "a.pem",
                stamp: Some(Stamp::of(&meta)),
                companions: vec![("a.p12", Some(Stamp::of(&meta)))],
            }
        );
    }

    #[test]
    fn bundle_comments_stay_ascii() {
        assert_eq!(
            ascii_comment("CA file /home/zoë/x\n"),
            "CA file /home/zo\\u{eb}/x "
        );
    }
}
