//! The README's promises that code can check: the variable table is the code's table, and the
//! exit codes it documents are the ones the code uses.

use std::fs;

fn readme() -> String {
    fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap()
}

#[test]
fn the_variable_table_is_the_code_table() {
    let text = readme();
    let section = text
        .split("### The variables trustrun sets")
        .nth(1)
        .expect("README has the variable table");
    let rows: Vec<(String, String)> = section
        .lines()
        .skip_while(|l| !l.starts_with("| `"))
        .take_while(|l| l.starts_with("| `"))
        .map(|l| {
            let cells: Vec<&str> = l.trim_matches('|').split(" | ").map(str::trim).collect();
            (cells[0].trim_matches('`').to_owned(), cells[1].to_owned())
        })
        .collect();
    let code: Vec<(String, String)> = trustrun::vars::CA_VARIABLES
        .iter()
        .map(|(n, who)| (n.to_string(), who.to_string()))
        .collect();
    assert_eq!(rows, code, "README table and vars::CA_VARIABLES differ");
}

#[test]
fn the_documented_exit_codes_are_the_codes_in_use() {
    use trustrun::failure::*;
    let text = readme();
    for (code, words) in [
        (EXIT_FAILURE, "| 1 |"),
        (EXIT_USAGE, "| 2 |"),
        (EXIT_INTERNAL, "| 125 |"),
        (EXIT_CANNOT_EXECUTE, "| 126 |"),
        (EXIT_NOT_FOUND, "| 127 |"),
    ] {
        assert!(text.contains(words), "README documents exit code {code}");
        assert_eq!(words, format!("| {code} |"));
    }
}
