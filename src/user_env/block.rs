//! Marked blocks in text files the user owns (shell profiles): added once, replaced in place,
//! and removed so that the file is byte for byte what it was before. Pure text functions; the
//! files themselves are read and written by `user_env`.
// The shell profiles and files setup writes are Unix and macOS targets; Windows setup writes
// the registry (user_env::Registry).
#![cfg_attr(windows, allow(dead_code))]

use std::ops::Range;

pub const BEGIN: &str = "# >>> trustrun setup >>>";
pub const END: &str = "# <<< trustrun setup <<<";

/// The whole block around `body` (lines, each ending in a newline). Every format we write
/// (sh, fish, PowerShell, environment.d) takes `#` as a comment.
pub fn render(body: &str) -> String {
    format!(
        "{BEGIN}\n# Added by `trustrun setup`; `trustrun setup --undo` removes this block.\n{body}{END}\n"
    )
}

/// Where our block is in `text`: from the start of its first line to the end of its last.
pub fn find(text: &str) -> Option<Range<usize>> {
    let start = line_starting(text, BEGIN, 0)?;
    let end_line = line_starting(text, END, start)?;
    let end = text[end_line..]
        .find('\n')
        .map(|i| end_line + i + 1)
        .unwrap_or(text.len());
    Some(start..end)
}

/// The offset of the first line at or after `from` that starts with `marker`.
fn line_starting(text: &str, marker: &str, from: usize) -> Option<usize> {
    let mut at = from;
    loop {
        if text[at..].starts_with(marker) && (at == 0 || text.as_bytes()[at - 1] == b'\n') {
            return Some(at);
        }
        at += text[at..].find('\n')? + 1;
    }
}

/// What goes between the file's text and an appended block: nothing in an empty file, a blank
/// line otherwise (and the missing newline of a last line without one).
pub fn separator(text: &str) -> &'static str {
    if text.is_empty() {
        ""
    } else if text.ends_with('\n') {
        "\n"
    } else {
        "\n\n"
    }
}

/// `text` with `block` in it: replaced in place when a block is there already, else appended
/// after `separator(text)`.
pub fn put(text: &str, block: &str) -> String {
    match find(text) {
        Some(r) => format!("{}{block}{}", &text[..r.start], &text[r.end..]),
        None => format!("{text}{}{block}", separator(text)),
    }
}

/// `text` without our block and without the separator that was added with it.
pub fn remove(text: &str, separator: &str) -> Option<String> {
    let r = find(text)?;
    let mut before = &text[..r.start];
    // Only when the block was last: text the user appended after it keeps its place.
    if r.end == text.len() {
        before = before.strip_suffix(separator).unwrap_or(before);
    }
    Some(format!("{before}{}", &text[r.end..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block() -> String {
        render("export A='x'\n")
    }

    #[test]
    fn put_then_remove_is_byte_identical() {
        for original in ["", "alias ll='ls -l'\n", "no newline at the end", "a\n\n\n"] {
            let sep = separator(original);
            let with = put(original, &block());
            assert!(with.ends_with(&block()), "{with:?}");
            assert_eq!(remove(&with, sep).unwrap(), original);
        }
    }

    #[test]
    fn putting_twice_keeps_one_block() {
        let once = put("x\n", &block());
        assert_eq!(put(&once, &block()), once);
        let changed = put(&once, &render("export A='y'\n"));
        assert_eq!(changed.matches(BEGIN).count(), 1);
        assert!(changed.contains("A='y'") && !changed.contains("A='x'"));
    }

    #[test]
    fn text_after_the_block_stays() {
        let with = put("a\n", &block()) + "echo later\n";
        assert_eq!(remove(&with, "\n").unwrap(), "a\n\necho later\n");
    }

    #[test]
    fn a_marker_inside_a_line_is_not_a_block() {
        let text = format!("echo '{BEGIN}'\necho '{END}'\n");
        assert_eq!(find(&text), None);
        assert_eq!(remove(&text, ""), None);
    }
}
