//! The documentation's promises that code can check: the reference page's variable and exit-code
//! tables are the code's tables.

use std::fs;
use std::path::{Path, PathBuf};

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
