//! Dispatch-stage hints for the mistakes a new user makes: clap's usage errors on one line, a
//! typo of a subcommand taken for a program name, the CA option spelled as other tools spell it,
//! and a program named like a trustrun command (`trustrun env FOO=1 python app.py`).

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
/// With one dash too (`-ca`, openssl's `-CAfile`): clap reads those as a bundle of short options.
pub fn is_other_tools_ca_option(arg: &str) -> bool {
    let option = arg.split('=').next().unwrap_or(arg).to_ascii_lowercase();
    let single_dash = option.starts_with('-') && !option.starts_with("--");
    let name = option.trim_start_matches('-');
    // `--ca` is trustrun's own; `-ca` is another tool's spelling of it.
    (single_dash && name == "ca")
        || matches!(
            name,
            "cert"
                | "cacert"
                | "ca-cert"
                | "cafile"
                | "ca-file"
                | "ca-bundle"
                | "cabundle"
                | "certificate"
                | "ca-certificate"
                | "capath"
                | "ca-path"
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

/// `--cert x.pem`, `-ca x.pem` and the other ways other tools name a CA file: say it is `--ca`
/// here. clap names a single-dash word by its first letter (`-c`), so the word itself is looked
/// up in `argv`.
pub fn ca_option_hint(e: &clap::Error, argv: &[OsString]) -> Option<Failure> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if e.kind() != ErrorKind::UnknownArgument {
        return None;
    }
    let Some(ContextValue::String(invalid)) = e.get(ContextKind::InvalidArg) else {
        return None;
    };
    let arg = if invalid.starts_with("--") {
        invalid.clone()
    } else {
        // The first word of argv that clap could have read as `invalid`.
        argv.iter()
            .skip(1)
            .map(|a| a.to_string_lossy())
            .take_while(|a| a != "--")
            .find(|a| a.starts_with(invalid.as_str()) && !a.starts_with("--"))?
            .into_owned()
    };
    is_other_tools_ca_option(&arg).then(|| {
        let option = arg.split('=').next().unwrap_or(&arg);
        Failure::usage(format!(
            "unknown option {option}; trustrun's is --ca FILE|DIR (e.g. `trustrun --ca root.pem PROGRAM`)"
        ))
    })
}

/// A word that is both a trustrun command and a program on PATH, followed by arguments the command
/// does not take (`trustrun env FOO=1 python app.py`): the user meant the program. Say what to
/// type: the same line with `--` before the word. Not when clap has a similar option to suggest
/// (`trustrun env --formt sh` meant trustrun's env).
pub fn program_meant(e: &clap::Error, argv: &[OsString]) -> Option<Failure> {
    use clap::CommandFactory;
    use clap::error::{ContextKind, ErrorKind};
    if !matches!(
        e.kind(),
        ErrorKind::UnknownArgument | ErrorKind::InvalidSubcommand
    ) || e.get(ContextKind::SuggestedArg).is_some()
    {
        return None;
    }
    let cli = Cli::command();
    let at = command_position(&cli, argv)?;
    let word = argv[at].to_string_lossy();
    crate::shim::locate::find(&argv[at]).ok()?;
    let shell = crate::util::shell::Shell::detect();
    let typed: Vec<String> = std::iter::once("trustrun".to_owned())
        .chain(
            argv[1..at]
                .iter()
                .map(|a| shell.quote(&a.to_string_lossy())),
        )
        .chain(std::iter::once("--".to_owned()))
        .chain(argv[at..].iter().map(|a| shell.quote(&a.to_string_lossy())))
        .collect();
    Some(Failure::usage(format!(
        "`trustrun {word}` is trustrun's own command, which takes no such arguments; to run the \
         program {word}, type: {}",
        typed.join(" ")
    )))
}

/// Where in `argv` the subcommand is: the first word that is not an option (or an option's
/// value), when it names a subcommand.
fn command_position(cli: &clap::Command, argv: &[OsString]) -> Option<usize> {
    let takes_value = |word: &str| {
        cli.get_arguments().any(|a| {
            a.get_action().takes_values()
                && (a.get_long().is_some_and(|l| word == format!("--{l}"))
                    || a.get_short().is_some_and(|s| word == format!("-{s}")))
        })
    };
    let mut i = 1;
    while i < argv.len() {
        let word = argv[i].to_string_lossy();
        if word == "--" {
            return None;
        }
        if word.starts_with('-') {
            i += if takes_value(&word) { 2 } else { 1 };
            continue;
        }
        return cli
            .get_subcommands()
            .any(|c| c.get_name() == word)
            .then_some(i);
    }
    None
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
        assert!(is_other_tools_ca_option("-ca"));
        assert!(is_other_tools_ca_option("-CAfile"));
        assert!(!is_other_tools_ca_option("-c"));
        assert!(!is_other_tools_ca_option("--ca"));
        assert!(!is_other_tools_ca_option("--strict"));
    }

    #[test]
    fn the_command_word_is_found_past_options_and_their_values() {
        use clap::CommandFactory;
        let cli = Cli::command();
        let argv = |words: &[&str]| -> Vec<OsString> { words.iter().map(OsString::from).collect() };
        assert_eq!(
            command_position(&cli, &argv(&["trustrun", "--ca", "env", "env", "FOO=1"])),
            Some(3)
        );
        assert_eq!(
            command_position(&cli, &argv(&["trustrun", "env", "x"])),
            Some(1)
        );
        assert_eq!(
            command_position(&cli, &argv(&["trustrun", "python", "x"])),
            None
        );
        assert_eq!(
            command_position(&cli, &argv(&["trustrun", "--", "env"])),
            None
        );
    }

    #[test]
    fn distances() {
        assert_eq!(edit_distance("doctr", "doctor"), 1);
        assert_eq!(edit_distance("", "env"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
