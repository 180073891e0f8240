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
    let text = readme();
    let section = text
        .split("### Exit codes")
        .nth(1)
        .expect("README has the exit-code table");
    let rows: Vec<(String, String)> = section
        .lines()
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
        "README exit-code table and failure::EXIT_CODES differ"
    );
}
