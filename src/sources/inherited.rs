//! `TRUSTRUN_INHERITED_CA`, the list of CA files the caller's own variables named, as one value
//! (plan stage writes it, sources stage reads it in a nested run). Unlike `TRUSTRUN_CA`, which the
//! user writes and which is a plain path list, these paths come from variables that each held one
//! path, so a name may hold the list separator (`:` on Unix, `;` on Windows). Such names are
//! escaped: `%` as `%25`, the separator as `%3A` (Unix) or `%3B` (Windows), exactly these
//! spellings.
//!
//! A path written by a trustrun older than this escaping is read the same unless it contains
//! `%25`, `%3A` or `%3B`.

use std::ffi::{OsStr, OsString};
use std::path::PathBuf;

#[cfg(unix)]
const SEP: Unit = b':';
#[cfg(unix)]
const PERCENT: Unit = b'%';
#[cfg(unix)]
const ESCAPED_PERCENT: [Unit; 3] = *b"%25";
#[cfg(unix)]
const ESCAPED_SEP: [Unit; 3] = *b"%3A";

#[cfg(windows)]
const SEP: Unit = b';' as Unit;
#[cfg(windows)]
const PERCENT: Unit = b'%' as Unit;
#[cfg(windows)]
const ESCAPED_PERCENT: [Unit; 3] = [b'%' as Unit, b'2' as Unit, b'5' as Unit];
#[cfg(windows)]
const ESCAPED_SEP: [Unit; 3] = [b'%' as Unit, b'3' as Unit, b'B' as Unit];

/// The paths as one escaped list.
pub fn encode(paths: &[PathBuf]) -> OsString {
    let mut out = Vec::new();
    for (i, p) in paths.iter().enumerate() {
        if i > 0 {
            out.push(SEP);
        }
        for unit in units(p.as_os_str()) {
            if unit == PERCENT {
                out.extend(ESCAPED_PERCENT);
            } else if unit == SEP {
                out.extend(ESCAPED_SEP);
            } else {
                out.push(unit);
            }
        }
    }
    from_units(out)
}

/// The paths of an escaped list, empty entries dropped.
pub fn decode(value: &OsStr) -> Vec<PathBuf> {
    let all = units(value);
    all.split(|u| *u == SEP)
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            let mut out = Vec::with_capacity(entry.len());
            let mut i = 0;
            while i < entry.len() {
                let escape = entry.get(i..i + 3).and_then(unescape);
                match escape {
                    Some(unit) => {
                        out.push(unit);
                        i += 3;
                    }
                    None => {
                        out.push(entry[i]);
                        i += 1;
                    }
                }
            }
            PathBuf::from(from_units(out))
        })
        .collect()
}

fn unescape(three: &[Unit]) -> Option<Unit> {
    if three == ESCAPED_PERCENT {
        Some(PERCENT)
    } else if three == ESCAPED_SEP {
        Some(SEP)
    } else {
        None
    }
}

// Paths are bytes on Unix and UTF-16 units on Windows; both are handled as their own units, so
// names that are not Unicode survive.
#[cfg(unix)]
type Unit = u8;
#[cfg(windows)]
type Unit = u16;

#[cfg(unix)]
fn units(s: &OsStr) -> Vec<Unit> {
    use std::os::unix::ffi::OsStrExt;
    s.as_bytes().to_vec()
}

#[cfg(unix)]
fn from_units(v: Vec<Unit>) -> OsString {
    use std::os::unix::ffi::OsStringExt;
    OsString::from_vec(v)
}

#[cfg(windows)]
fn units(s: &OsStr) -> Vec<Unit> {
    use std::os::windows::ffi::OsStrExt;
    s.encode_wide().collect()
}

#[cfg(windows)]
fn from_units(v: Vec<Unit>) -> OsString {
    use std::os::windows::ffi::OsStringExt;
    OsString::from_wide(&v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_with_the_separator_and_percent_survive() {
        let sep = char::from_u32(u32::from(SEP)).unwrap();
        let paths = vec![
            PathBuf::from(format!("/a{sep}b/corp.pem")),
            PathBuf::from("/100%25 sure/%3A.pem"),
            PathBuf::from("/plain/root.pem"),
        ];
        let encoded = encode(&paths);
        assert_eq!(
            std::env::split_paths(&encoded).count(),
            3,
            "{encoded:?} splits as a plain path list into the three entries"
        );
        assert_eq!(decode(&encoded), paths);
    }

    #[test]
    fn a_plain_list_reads_as_before() {
        let joined = std::env::join_paths(["/x/a.pem", "/y/b.pem"]).unwrap();
        assert_eq!(
            decode(&joined),
            vec![PathBuf::from("/x/a.pem"), PathBuf::from("/y/b.pem")]
        );
    }
}
