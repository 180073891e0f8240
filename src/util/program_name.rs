//! Program names (util): the program a file's name stands for, and whether a name is
//! trustrun's own. Plain logic, tested on every platform: `cli` dispatches on them (argv[0]),
//! containers know an engine CLI by them, `shim` and `locate` know a shim file by them.

/// The program a file's name stands for: in lower case (Windows names are case-insensitive),
/// without the `.exe` or `.cmd` Windows starts it by (`Python.EXE`, a `.cmd` shim). The one
/// spelling of "strip .exe, lower-case".
pub fn of_file(file_name: &str) -> String {
    let name = file_name.to_ascii_lowercase();
    match [".exe", ".cmd"]
        .iter()
        .find_map(|ext| name.strip_suffix(ext))
    {
        Some(stem) => stem.to_owned(),
        None => name,
    }
}

/// Started as `trustrun` (or a renamed copy such as `trustrun-0.2`), not through a shim.
pub(crate) fn is_trustrun_name(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name == "trustrun"
        || ["trustrun-", "trustrun_", "trustrun."]
            .iter()
            .any(|p| name.starts_with(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn program_names_of_files() {
        assert_eq!(of_file("Python.EXE"), "python");
        assert_eq!(of_file("python3.12.exe"), "python3.12");
        assert_eq!(of_file("pip.cmd"), "pip");
        assert_eq!(of_file("harbor"), "harbor");
        assert_eq!(of_file("tool.bat"), "tool.bat");
    }

    #[test]
    fn trustrun_under_its_own_names() {
        assert!(is_trustrun_name("trustrun"));
        assert!(is_trustrun_name("trustrun-0.2"));
        assert!(!is_trustrun_name("python3"));
        assert!(!is_trustrun_name("trustrunner"));
    }
}
