//! The documentation's promises that code can check: the reference page's variable and exit-code
//! tables are the code's tables, its option tables are what `--help` lists, and every relative link
//! in the README, CONTRIBUTING.md, BENCHMARKS.md and docs/ leads to a file and, for `#anchor`, to a
//! heading there.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn reference() -> String {
    read(&repo().join("docs/reference.md"))
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The lines of `text` outside fenced code blocks, with their line numbers: a `# comment` in a
/// shell example is not a heading, and a link in one is not a link.
fn prose(text: &str) -> Vec<(usize, &str)> {
    let mut fenced = false;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if !fenced {
            out.push((i + 1, line));
        }
    }
    out
}

/// A heading's level and text, if `line` is one.
fn heading(line: &str) -> Option<(usize, &str)> {
    let level = line.chars().take_while(|&c| c == '#').count();
    (1..=6)
        .contains(&level)
        .then(|| line[level..].strip_prefix(' '))
        .flatten()
        .map(|title| (level, title.trim()))
}

/// The lines under the heading that is exactly `title`, up to the next heading of its level or
/// higher. Exactly one such heading must exist.
fn section<'a>(text: &'a str, title: &str) -> Vec<&'a str> {
    let lines = prose(text);
    let starts: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, (_, l))| heading(l).is_some_and(|(_, t)| t == title))
        .map(|(i, _)| i)
        .collect();
    assert_eq!(
        starts.len(),
        1,
        "one heading {title:?} in docs/reference.md"
    );
    let (level, _) = heading(lines[starts[0]].1).unwrap();
    lines[starts[0] + 1..]
        .iter()
        .map(|(_, l)| *l)
        .take_while(|l| heading(l).is_none_or(|(n, _)| n > level))
        .collect()
}

/// A table row's cells, with the `\|` escapes of code spans kept inside their cell.
fn cells(row: &str) -> Vec<String> {
    row.trim()
        .trim_matches('|')
        .replace("\\|", "\u{0}")
        .split(" | ")
        .map(|c| c.trim().replace('\u{0}', "|"))
        .collect()
}

#[test]
fn the_variable_table_is_the_code_table() {
    let text = reference();
    let rows: Vec<(String, String)> = section(&text, "The variables trustrun sets")
        .into_iter()
        .skip_while(|l| !l.starts_with("| `"))
        .take_while(|l| l.starts_with("| `"))
        .map(|l| {
            let c = cells(l);
            (c[0].trim_matches('`').to_owned(), c[1].clone())
        })
        .collect();
    let code: Vec<(String, String)> = trustrun::vars::CA_VARIABLES
        .iter()
        .map(|(n, who)| (n.to_string(), who.to_string()))
        .collect();
    assert_eq!(
        rows, code,
        "docs/reference.md's table and vars::CA_VARIABLES differ"
    );
}

#[test]
fn the_documented_exit_codes_are_the_codes_in_use() {
    let text = reference();
    let rows: Vec<(String, String)> = section(&text, "Exit codes")
        .into_iter()
        .skip_while(|l| !l.starts_with("| the program's"))
        .skip(1)
        .take_while(|l| l.starts_with("| "))
        .map(|l| {
            let (code, meaning) = l.trim_matches('|').split_once(" | ").unwrap();
            (code.trim().to_owned(), meaning.trim().to_owned())
        })
        .collect();
    let code: Vec<(String, String)> = trustrun::failure::EXIT_CODES
        .iter()
        .map(|(c, m)| (c.to_string(), m.to_string()))
        .collect();
    assert_eq!(
        rows, code,
        "docs/reference.md's exit-code table and failure::EXIT_CODES differ"
    );
}

/// The long options `trustrun ARGS --help` lists, less `--help` and `--version`.
fn help_options(args: &[&str]) -> BTreeSet<String> {
    let out = Command::new(env!("CARGO_BIN_EXE_trustrun"))
        .args(args)
        .arg("--help")
        .env_remove("TRUSTRUN_CONFIG")
        .output()
        .unwrap();
    assert!(out.status.success(), "trustrun {args:?} --help failed");
    let help = String::from_utf8(out.stdout).unwrap();
    help.lines()
        .map(str::trim_start)
        .filter(|l| l.starts_with('-'))
        .filter_map(|l| {
            long_options(l.split("  ").next().unwrap())
                .into_iter()
                .next()
        })
        .filter(|o| o != "--help" && o != "--version")
        .collect()
}

/// Every `--name` in `text`.
fn long_options(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("--") {
        let name: String = rest[at + 2..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        if name.starts_with(|c: char| c.is_ascii_alphabetic()) {
            found.push(format!("--{name}"));
        }
        rest = &rest[at + 2 + name.len()..];
    }
    found
}

/// The options the reference documents under `title`: the first cell of each table row.
fn documented_options(text: &str, title: &str) -> BTreeSet<String> {
    section(text, title)
        .into_iter()
        .filter(|l| l.starts_with("| `-"))
        .flat_map(|l| long_options(&cells(l)[0]))
        .collect()
}

#[test]
fn the_reference_lists_each_commands_options_as_help_does() {
    let text = reference();
    let commands: &[(&[&str], &str)] = &[
        (&[], "`trustrun PROGRAM`"),
        (&["bundle"], "`trustrun bundle`"),
        (&["env"], "`trustrun env`"),
        (&["doctor"], "`trustrun doctor`"),
        (&["setup"], "`trustrun setup`"),
        (&["shim", "install"], "`trustrun shim install`"),
        (&["shim", "list"], "`trustrun shim list`"),
        (&["shim", "remove"], "`trustrun shim remove`"),
        (&["config", "path"], "`trustrun config`"),
        (&["config", "show"], "`trustrun config`"),
        (&["config", "init"], "`trustrun config`"),
        (&["completions"], "`trustrun completions`"),
    ];
    let mut differ = Vec::new();
    for (args, title) in commands {
        let help = help_options(args);
        let documented = documented_options(&text, title);
        if help != documented {
            differ.push(format!(
                "{title}: --help lists {help:?}, docs/reference.md {documented:?}"
            ));
        }
    }
    assert!(differ.is_empty(), "{}", differ.join("\n"));
    // The check reads real tables: the run's own options are there.
    assert!(documented_options(&text, "`trustrun PROGRAM`").contains("--ca"));
}

/// The pages that link to each other.
fn pages() -> Vec<PathBuf> {
    let mut pages = vec![
        repo().join("README.md"),
        repo().join("CONTRIBUTING.md"),
        repo().join("BENCHMARKS.md"),
    ];
    let mut docs: Vec<PathBuf> = fs::read_dir(repo().join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    pages.extend(docs);
    pages
}

/// The targets of the inline links `[text](target)` on a line, outside code spans.
fn link_targets(line: &str) -> Vec<String> {
    let mut plain = String::new();
    for (i, part) in line.split('`').enumerate() {
        // Odd parts are inside code spans: a rough cut (a ``double`` span's inside counts as plain
        // text), enough for links, which never sit inside one.
        plain.push_str(if i % 2 == 0 { part } else { " " });
    }
    let mut targets = Vec::new();
    let mut rest = plain.as_str();
    while let Some(at) = rest.find("](") {
        let after = &rest[at + 2..];
        let end = after.find(')').unwrap_or(after.len());
        let target = after[..end].split_whitespace().next().unwrap_or("");
        targets.push(target.to_owned());
        rest = &after[end..];
    }
    targets
}

/// GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens.
fn slug(title: &str) -> String {
    title
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c.to_ascii_lowercase()),
            _ => None,
        })
        .collect()
}

/// Every anchor a page has, with GitHub's `-1`, `-2` for repeated headings.
fn anchors(text: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    for (_, line) in prose(text) {
        if let Some((_, title)) = heading(line) {
            let base = slug(title);
            let mut anchor = base.clone();
            let mut n = 0;
            while seen.contains(&anchor) {
                n += 1;
                anchor = format!("{base}-{n}");
            }
            seen.insert(anchor);
        }
    }
    seen
}

#[test]
fn every_relative_link_leads_to_a_file_and_heading() {
    let mut broken = Vec::new();
    let mut checked = 0;
    for page in pages() {
        let text = read(&page);
        for (number, line) in prose(&text) {
            for target in link_targets(line) {
                if target.contains("://") || target.starts_with("mailto:") {
                    continue;
                }
                checked += 1;
                let (file, anchor) = match target.split_once('#') {
                    Some((file, anchor)) => (file, Some(anchor)),
                    None => (target.as_str(), None),
                };
                let at = format!(
                    "{}:{number}: {target}",
                    page.strip_prefix(repo()).unwrap().display()
                );
                let file = if file.is_empty() {
                    page.clone()
                } else {
                    page.parent().unwrap().join(file)
                };
                if !file.exists() {
                    broken.push(format!("{at}: no such file"));
                    continue;
                }
                if let Some(anchor) = anchor
                    && !anchors(&read(&file)).contains(anchor)
                {
                    broken.push(format!("{at}: no such heading"));
                }
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
    assert!(
        checked > 50,
        "only {checked} relative links found: the scan is broken"
    );
}

#[test]
fn the_link_check_sees_what_github_sees() {
    assert_eq!(
        slug("Make it permanent: `trustrun setup`"),
        "make-it-permanent-trustrun-setup"
    );
    assert_eq!(slug("`trustrun PROGRAM`"), "trustrun-program");
    assert_eq!(
        link_targets("see [a](b.md#c), `[x](not-a-link)` and [d](../e.md)"),
        ["b.md#c", "../e.md"]
    );
    assert_eq!(
        anchors("# A\n```\n# not a heading\n```\n## A\n"),
        BTreeSet::from(["a".to_owned(), "a-1".to_owned()])
    );
}
