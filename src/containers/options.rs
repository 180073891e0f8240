//! How an engine's command line spells an option (launch stage), shared by every reader of one:
//! the engine's global options (`docker -H ... run`), compose's, `run`/`create`'s and a build's.
//! What each option means, and which ones a reader knows, stays with that reader.

/// Splits `--name=value` / `--name value` / `-Xvalue`; returns (name, inline value).
pub fn split(arg: &str) -> (&str, Option<&str>) {
    if arg.starts_with("--") {
        match arg.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (arg, None),
        }
    } else if arg.len() > 2 && arg.is_char_boundary(2) {
        (&arg[..2], Some(&arg[2..]))
    } else {
        (arg, None)
    }
}

/// What a cluster of short options says (`-it`, `-eFOO=1`, `-dp 80:80`).
#[derive(Debug, PartialEq, Eq)]
pub enum Short<'a> {
    /// Only flags.
    Flags,
    /// The first letter that takes a value (`-e`), and the value when it is in the same word
    /// (`-eFOO=1`); `None`: the value is the next word.
    Value(String, Option<&'a str>),
    /// A letter neither list holds (only when the reader lists the letters that take a value).
    Unknown,
}

/// Reads the cluster `arg` (`-` and letters): letters in `flags` take no value; the first other
/// one takes the rest of the word, or the next word. `takes_value`: the letters that take one,
/// or `None` when every letter that is not a flag does.
pub fn short_cluster<'a>(arg: &'a str, flags: &[char], takes_value: Option<&[char]>) -> Short<'a> {
    for (at, ch) in arg.char_indices().skip(1) {
        if flags.contains(&ch) {
            continue;
        }
        if takes_value.is_some_and(|known| !known.contains(&ch)) {
            return Short::Unknown;
        }
        let rest = &arg[at + ch.len_utf8()..];
        return Short::Value(format!("-{ch}"), (!rest.is_empty()).then_some(rest));
    }
    Short::Flags
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_short_and_inline_values() {
        assert_eq!(split("--env=A=1"), ("--env", Some("A=1")));
        assert_eq!(split("--env"), ("--env", None));
        assert_eq!(split("-eA=1"), ("-e", Some("A=1")));
        assert_eq!(split("-e"), ("-e", None));
        assert_eq!(split("-é"), ("-é", None));
    }

    #[test]
    fn clusters_of_flags_and_one_value() {
        assert_eq!(short_cluster("-it", &['i', 't'], None), Short::Flags);
        assert_eq!(
            short_cluster("-dp", &['d'], None),
            Short::Value("-p".into(), None)
        );
        assert_eq!(
            short_cluster("-ieFOO=1", &['i'], None),
            Short::Value("-e".into(), Some("FOO=1"))
        );
        assert_eq!(
            short_cluster("-qf", &['q'], Some(&['f'])),
            Short::Value("-f".into(), None)
        );
        assert_eq!(short_cluster("-qx", &['q'], Some(&['f'])), Short::Unknown);
        assert_eq!(
            short_cluster("-éx", &[], None),
            Short::Value("-é".into(), Some("x"))
        );
    }
}
