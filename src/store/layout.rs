//! The cache's layout and the bundle file's format (bundle stage): the names of `bundles/`,
//! `index/`, `public/` and `current.pem`, a bundle's content-addressed name, its header and text, and
//! whether a path is one of them. The one module that knows these; `bundle`, `store::stable` and
//! `cleanup` write and remove by it, `sources` and doctor recognise a bundle of ours by it. A
//! leaf: `sources` asks it, so it cannot ask `sources`.

use std::fmt;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::sources::certs::{self, Der};

/// The content-addressed bundles: `bundles/<bundle_stem>.pem`.
pub const BUNDLES: &str = "bundles";
/// `index/<fingerprint of the inputs>`, holding `<bundle file name> <stamp>`.
pub const INDEX: &str = "index";
/// The stable file `trustrun setup` points the profiles at (see `store::stable`).
pub const CURRENT: &str = "current.pem";
/// World-readable copies of bundles handed to container engines: `public/<bundle name>` (see
/// `containers::handoff`).
pub const PUBLIC: &str = "public";

/// The first line of every bundle we write (what it is, for a person who opens it).
pub const BUNDLE_HEADER: &str = "# trustrun bundle";

/// Whether `stem` has the shape of a bundle's name: 32 lower-case hex digits.
pub fn is_bundle_stem(stem: &str) -> bool {
    stem.len() == 32 && stem.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// A bundle's name: the first 32 hex digits of the SHA-256 of its text.
pub fn bundle_stem(text: &[u8]) -> String {
    crate::util::digest::hex(&Sha256::digest(text)[..16])
}

/// Whether `path` is a bundle in a trustrun cache (`<cache>/bundles/<32 hex>.pem` or its public
/// copy `<cache>/public/<32 hex>.pem` beside an `index` directory, or `<cache>/current.pem`),
/// whichever cache: such a file only repeats the
/// sources it was made from, and reading it back would keep roots the OS store has since dropped. A copy made with
/// `trustrun bundle --output` lives elsewhere and counts as the user's own file.
pub fn is_cache_bundle(path: &Path) -> bool {
    let Some(dir) = path.parent() else {
        return false;
    };
    // The stable copy (`<cache>/current.pem`), which setup points the variables at, likewise.
    if path.file_name() == Some(std::ffi::OsStr::new(CURRENT)) && dir.join(INDEX).is_dir() {
        return true;
    }
    let named_like_ours = path
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_suffix(".pem"))
        .is_some_and(|stem| stem.len() == 32 && stem.bytes().all(|b| b.is_ascii_hexdigit()));
    named_like_ours
        && dir.file_name().is_some_and(|n| n == BUNDLES || n == PUBLIC)
        && dir.parent().is_some_and(|root| root.join(INDEX).is_dir())
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
    #[test]
    fn bundle_comments_stay_ascii() {
        assert_eq!(
            super::ascii_comment("CA file /home/zoë/x\n"),
            "CA file /home/zo\\u{eb}/x "
        );
    }
}
