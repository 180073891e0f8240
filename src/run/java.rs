//! `JAVA_TOOL_OPTIONS` for the child (plan stage): the one way to reach every JVM a program
//! starts (Maven, Gradle, an IDE's build, Spark, a Kafka client) without knowing how it is
//! launched. A JVM reads none of the CA variables; it trusts its own `cacerts` unless
//! `javax.net.ssl.trustStore` names a key store, here the bundle's PKCS#12 twin
//! (`store::java_store`).
//!
//! The rule, a pure function (`tool_options`):
//! - the caller's own value is kept, ours appended after it;
//! - a `javax.net.ssl.trustStore` (or `trustStoreType`, which alone can pick `Windows-ROOT`) the
//!   caller set already wins: the value is left as it is;
//! - an outer trustrun's addition (the store next to `TRUSTRUN_BUNDLE`) is replaced, not doubled,
//!   so a nested run with more CA files gets its own store;
//! - a container engine CLI gets the caller's own value back (`callers_own`): it hands variables
//!   into containers (`-e JAVA_TOOL_OPTIONS`, compose's `environment: [JAVA_TOOL_OPTIONS]`), and a
//!   JVM there must never be given a host path to a store it cannot open;
//! - the path is quoted as the JVM's own option tokenizer reads quotes (a `'...'` or `"..."`
//!   run inside a token, no escapes): single quotes first, since a Windows `cmd` script cannot
//!   hold a `"` (`trustrun env --format cmd`), double quotes for a path holding a `'`, and a path
//!   holding both is not named at all.
//!
//! Every JVM prints "Picked up JAVA_TOOL_OPTIONS: ..." on stderr when the variable is set. That
//! is why it is set for `trustrun PROGRAM` (asked for, one program and what it starts) and not by
//! `trustrun env`, nor by `setup` or in containers unless asked (every JVM of a shell, a CI job or
//! an image, whose scripts may parse `java -version`): `setup --java` writes `tool_options` of
//! the stable store into the profiles; `leave_alone = ["JAVA_TOOL_OPTIONS"]` turns it off.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

use crate::store::java_store::{self, TRUST_STORE, TRUST_STORE_TYPE};

/// What the child's `JAVA_TOOL_OPTIONS` becomes.
#[derive(Debug, PartialEq, Eq)]
pub enum JavaOptions {
    /// Set it to this.
    Set(OsString),
    /// The caller named a trust store of their own: theirs wins, the variable is left alone.
    CallersStore,
    /// The store's path cannot be written in the variable (it holds both quote characters, or
    /// is not Unicode): the variable is left alone.
    Unwritable,
}

/// The child's `JAVA_TOOL_OPTIONS` for `store`, given the caller's `current` value and the store
/// an outer trustrun named (`outer_store`, from `TRUSTRUN_BUNDLE`).
pub fn tool_options(
    store: &Path,
    current: Option<&OsStr>,
    outer_store: Option<&Path>,
) -> JavaOptions {
    let Some(ours) = addition(store) else {
        return JavaOptions::Unwritable;
    };
    let kept = callers_own(current, outer_store);
    if names_trust_store(OsStr::new(&kept)) {
        return JavaOptions::CallersStore;
    }
    if kept.is_empty() {
        JavaOptions::Set(ours.into())
    } else {
        JavaOptions::Set(format!("{kept} {ours}").into())
    }
}

/// The caller's own `JAVA_TOOL_OPTIONS`: `current` less an outer trustrun's addition (the store
/// next to `TRUSTRUN_BUNDLE`), which always comes last, as `tool_options` writes it.
pub fn callers_own(current: Option<&OsStr>, outer_store: Option<&Path>) -> String {
    let current = current.map(|v| v.to_string_lossy().into_owned());
    let kept = current.as_deref().unwrap_or("").trim();
    match outer_store.and_then(addition) {
        Some(outer) if kept == outer => String::new(),
        Some(outer) => kept
            .strip_suffix(&format!(" {outer}"))
            .unwrap_or(kept)
            .trim_end()
            .to_owned(),
        None => kept.to_owned(),
    }
}

/// The store a `JAVA_TOOL_OPTIONS` value names when it is exactly trustrun's addition and
/// nothing else (what `setup --java` writes), else `None`.
pub fn only_ours(value: &OsStr) -> Option<PathBuf> {
    let value = value.to_str()?.trim();
    let quoted = value
        .strip_prefix(TRUST_STORE)?
        .strip_suffix(&format!(" {TRUST_STORE_TYPE}PKCS12"))?;
    let path = ['\'', '"']
        .iter()
        .find_map(|q| quoted.strip_prefix(*q)?.strip_suffix(*q))
        .unwrap_or(quoted);
    let path = PathBuf::from(path);
    (addition(&path).as_deref() == Some(value)).then_some(path)
}

/// The store of a `JAVA_TOOL_OPTIONS` value that is trustrun's alone: `setup --java`'s stable
/// store, or (a setup or doctor run inside `trustrun PROGRAM`) a bundle's store of a cache.
/// Such a value is trustrun's, not the user's.
pub fn trustruns_store(value: &OsStr) -> Option<PathBuf> {
    only_ours(value).filter(|p| {
        crate::store::layout::is_stable_java_store(p)
            || crate::store::layout::is_cache_bundle(&p.with_extension("pem"))
    })
}

/// Whether a `JAVA_TOOL_OPTIONS` value chooses a trust store (which then wins over ours): a
/// `javax.net.ssl.trustStore`, or a `trustStoreType` alone, as `Windows-ROOT` or `KeychainStore`
/// (the OS's own store) is chosen.
pub fn names_trust_store(value: &OsStr) -> bool {
    value
        .to_string_lossy()
        .split_whitespace()
        .any(|t| t.starts_with(TRUST_STORE) || t.starts_with(TRUST_STORE_TYPE))
}

/// What trustrun adds for `store`.
fn addition(store: &Path) -> Option<String> {
    let path = store.to_str()?;
    let quoted = if !path.contains(|c: char| c.is_whitespace() || c == '\'' || c == '"') {
        path.to_owned()
    } else if !path.contains('\'') {
        format!("'{path}'")
    } else if !path.contains('"') {
        format!("\"{path}\"")
    } else {
        return None;
    };
    Some(java_store::jvm_options(&quoted))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(v: &str) -> JavaOptions {
        JavaOptions::Set(v.into())
    }

    #[test]
    fn appended_to_the_callers_value_and_quoted_as_the_jvm_reads_it() {
        let store = Path::new("/c/b.p12");
        assert_eq!(
            tool_options(store, None, None),
            set("-Djavax.net.ssl.trustStore=/c/b.p12 -Djavax.net.ssl.trustStoreType=PKCS12")
        );
        assert_eq!(
            tool_options(store, Some(OsStr::new(" -Xmx1g ")), None),
            set("-Xmx1g -Djavax.net.ssl.trustStore=/c/b.p12 -Djavax.net.ssl.trustStoreType=PKCS12")
        );
        assert_eq!(
            tool_options(Path::new("/home/J Smith/b.p12"), None, None),
            set(
                "-Djavax.net.ssl.trustStore='/home/J Smith/b.p12' -Djavax.net.ssl.trustStoreType=PKCS12"
            )
        );
        assert_eq!(
            tool_options(Path::new("/home/o'brien/b.p12"), None, None),
            set(
                "-Djavax.net.ssl.trustStore=\"/home/o'brien/b.p12\" -Djavax.net.ssl.trustStoreType=PKCS12"
            )
        );
        for path in ["/c/b.p12", "/home/J Smith/b.p12", "/home/o'brien/b.p12"] {
            let JavaOptions::Set(v) = tool_options(Path::new(path), None, None) else {
                panic!()
            };
            assert_eq!(only_ours(&v), Some(PathBuf::from(path)));
            let more = format!("-Xmx1g {}", v.to_string_lossy());
            assert_eq!(only_ours(OsStr::new(&more)), None, "not ours alone");
        }
        assert_eq!(
            tool_options(Path::new("/a'\"/b.p12"), None, None),
            JavaOptions::Unwritable
        );
    }

    #[test]
    fn the_callers_store_wins_and_an_outer_trustruns_is_replaced() {
        let store = Path::new("/c/inner.p12");
        let theirs =
            "-Djavax.net.ssl.trustStore=/etc/corp.jks -Djavax.net.ssl.trustStorePassword=x";
        assert_eq!(
            tool_options(store, Some(OsStr::new(theirs)), None),
            JavaOptions::CallersStore
        );
        // The type alone chooses a store too (Windows-ROOT: the OS's own); a password does not.
        let typed = "-Djavax.net.ssl.trustStoreType=Windows-ROOT";
        assert_eq!(
            tool_options(store, Some(OsStr::new(typed)), None),
            JavaOptions::CallersStore
        );
        let password = "-Djavax.net.ssl.trustStorePassword=x";
        assert!(matches!(
            tool_options(store, Some(OsStr::new(password)), None),
            JavaOptions::Set(_)
        ));
        let outer = Path::new("/c/outer.p12");
        let JavaOptions::Set(from_outer) = tool_options(outer, Some(OsStr::new("-Xmx1g")), None)
        else {
            panic!()
        };
        assert_eq!(
            tool_options(store, Some(&from_outer), Some(outer)),
            set(
                "-Xmx1g -Djavax.net.ssl.trustStore=/c/inner.p12 -Djavax.net.ssl.trustStoreType=PKCS12"
            )
        );
        let JavaOptions::Set(alone) = tool_options(outer, None, None) else {
            panic!()
        };
        assert_eq!(only_ours(&alone).as_deref(), Some(outer));
        assert_eq!(
            tool_options(store, Some(&alone), Some(outer)),
            set("-Djavax.net.ssl.trustStore=/c/inner.p12 -Djavax.net.ssl.trustStoreType=PKCS12")
        );
    }
}
