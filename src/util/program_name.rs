//! Which name trustrun was started under: `trustrun` itself (its own interface) or the name of
//! a program it stands in for (a shim). Plain logic, so it is tested on every platform; `cli`
//! dispatches on it and `shim` uses it to tell its own links.

/// A Windows exe's name as a program name: without `.exe`, in lower case (Windows names are
/// case-insensitive). Plain logic, so it is tested on every platform.
#[cfg_attr(not(windows), allow(dead_code))]
pub(crate) fn windows_program_name(file_name: &str) -> String {
    let name = file_name.to_ascii_lowercase();
    match name.strip_suffix(".exe") {
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
    fn windows_program_names() {
        assert_eq!(windows_program_name("Python.EXE"), "python");
        assert_eq!(windows_program_name("python3.12.exe"), "python3.12");
        assert_eq!(windows_program_name("harbor"), "harbor");
    }

    #[test]
    fn trustrun_under_its_own_names() {
        assert!(is_trustrun_name("trustrun"));
        assert!(is_trustrun_name("trustrun-0.2"));
        assert!(!is_trustrun_name("python3"));
        assert!(!is_trustrun_name("trustrunner"));
    }
}
