//! Dispatch-stage hints for the mistakes a new user makes: a typo of a subcommand taken for a
//! program name, and the CA option spelled as other tools spell it.

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
