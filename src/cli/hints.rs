//! Dispatch-stage hints for the mistakes a new user makes: clap's usage errors on one line, a
//! typo of a subcommand taken for a program name, and the CA option spelled as other tools
//! spell it.

use std::ffi::OsString;

use crate::failure::Failure;

use super::args::Cli;

/// The subcommand `name` was most likely meant as, when `name` is one typo away from it (two for
/// longer names). Only asked once `name` was not found as a program.
pub fn close_subcommand<'a>(name: &str, subcommands: &[&'a str]) -> Option<&'a str> {
    let name = name.to_ascii_lowercase();
    let allowed = if name.chars().count() <= 4 { 1 } else { 2 };
    subcommands
        .iter()
        .map(|s| (edit_distance(&name, s), *s))
        .filter(|(d, _)| *d <= allowed)
        .min_by_key(|(d, _)| *d)
        .map(|(_, s)| s)
}

/// How curl, pip, git, openssl and requests users spell "trust this CA file": all mean `--ca`.
pub fn is_other_tools_ca_option(arg: &str) -> bool {
    let option = arg.split('=').next().unwrap_or(arg).to_ascii_lowercase();
    matches!(
        option.as_str(),
        "--cert"
            | "--cacert"
            | "--ca-cert"
            | "--cafile"
            | "--ca-file"
            | "--ca-bundle"
            | "--cabundle"
            | "--certificate"
            | "--ca-certificate"
            | "--capath"
            | "--ca-path"
    )
}

/// Levenshtein distance over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous[j] + usize::from(ca != *cb);
            current.push(substitute.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

/// clap's usage error on one line, like every other error of ours: the error itself, then what
/// clap suggests (a similar name, the possible values), without the usage block and help hint.
pub fn usage_line(rendered: &str) -> String {
    let mut lines = rendered.lines().map(str::trim).filter(|l| !l.is_empty());
    let first = lines.next().unwrap_or("bad usage");
    let mut parts = vec![first.strip_prefix("error: ").unwrap_or(first).to_owned()];
    parts.extend(
        lines
            .filter(|l| {
                l.starts_with("tip: a similar")
                    || l.starts_with("tip: some similar")
                    || l.starts_with("[possible values:")
            })
            .map(|l| l.trim_start_matches('[').trim_end_matches(']').to_owned()),
    );
    let mut line = parts.join("; ");
    if !line.contains("--help") {
        line.push_str(" (see `trustrun --help`)");
    }
    line
}

/// `--cert x.pem` and the other ways other tools name a CA file: say it is `--ca` here.
pub fn ca_option_hint(e: &clap::Error) -> Option<Failure> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if e.kind() != ErrorKind::UnknownArgument {
        return None;
    }
    let Some(ContextValue::String(arg)) = e.get(ContextKind::InvalidArg) else {
        return None;
    };
    is_other_tools_ca_option(arg).then(|| {
        let option = arg.split('=').next().unwrap_or(arg);
        Failure::usage(format!(
            "unknown option {option}; trustrun's is --ca FILE|DIR (e.g. `trustrun --ca root.pem PROGRAM`)"
        ))
    })
}

/// A program not found whose name is a typo of a subcommand: say which one was likely meant.
pub fn suggest_subcommand(err: anyhow::Error, program: &OsString) -> anyhow::Error {
    use clap::CommandFactory;
    if crate::failure::exit_code_of(&err) != crate::failure::EXIT_NOT_FOUND {
        return err;
    }
    let cli = Cli::command();
    let names: Vec<&str> = cli.get_subcommands().map(|c| c.get_name()).collect();
    match close_subcommand(&program.to_string_lossy(), &names) {
        Some(name) => Failure::new(
            crate::failure::EXIT_NOT_FOUND,
            format!(
                "{}; did you mean `trustrun {name}`?",
                crate::failure::one_line(&err)
            ),
        )
        .into(),
        None => err,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUBCOMMANDS: &[&str] = &["bundle", "env", "config", "doctor", "shim"];

    #[test]
    fn typos_of_subcommands() {
        assert_eq!(close_subcommand("doctr", SUBCOMMANDS), Some("doctor"));
        assert_eq!(close_subcommand("Doctor", SUBCOMMANDS), Some("doctor"));
        assert_eq!(close_subcommand("shmi", SUBCOMMANDS), None);
        assert_eq!(close_subcommand("shims", SUBCOMMANDS), Some("shim"));
        assert_eq!(close_subcommand("bundel", SUBCOMMANDS), Some("bundle"));
        assert_eq!(close_subcommand("python", SUBCOMMANDS), None);
        assert_eq!(close_subcommand("harbor", SUBCOMMANDS), None);
    }

    #[test]
    fn ca_spellings_of_other_tools() {
        assert!(is_other_tools_ca_option("--cert"));
        assert!(is_other_tools_ca_option("--cacert=x.pem"));
        assert!(!is_other_tools_ca_option("--ca"));
        assert!(!is_other_tools_ca_option("--strict"));
    }

    #[test]
    fn distances() {
        assert_eq!(edit_distance("doctr", "doctor"), 1);
        assert_eq!(edit_distance("", "env"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
