//! Wording shared by messages at the edge (util) (render, warnings): counts with the right noun
//! form, and lines wrapped to the width every report keeps to.

/// Reports' lines stay under this many columns (a terminal of 100, a pasted issue).
pub const WIDTH: usize = 99;

/// "1 certificate", "2 certificates": `noun` is the singular; the plural adds an "s".
pub fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// Breaks lines longer than `width` at spaces; a continuation is indented two past the line's
/// own indent (past a list mark). A word longer than the width (a path) stays whole.
pub fn wrap(text: &str, width: usize) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let indent = line.len() - line.trim_start().len();
        let hanging = " ".repeat(indent + 2);
        let mut current = line[..indent].to_owned();
        let mut words_on_line = 0;
        for word in line[indent..].split(' ') {
            if words_on_line > 0 && current.chars().count() + 1 + word.chars().count() > width {
                out.push_str(&current);
                out.push('\n');
                current = hanging.clone();
                words_on_line = 0;
            }
            if words_on_line > 0 {
                current.push(' ');
            }
            current.push_str(word);
            words_on_line += 1;
        }
        out.push_str(&current);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn singular_and_plural() {
        assert_eq!(super::count(1, "certificate"), "1 certificate");
        assert_eq!(super::count(0, "certificate"), "0 certificates");
        assert_eq!(super::count(171, "certificate"), "171 certificates");
    }

    #[test]
    fn long_lines_wrap_under_the_width_with_a_hanging_indent() {
        let line = format!("  - {}", "word ".repeat(40).trim_end());
        let wrapped = wrap(&line, 30);
        assert!(wrapped.lines().count() > 1);
        for (i, l) in wrapped.lines().enumerate() {
            assert!(l.chars().count() <= 30, "{l:?}");
            assert!(
                l.starts_with(if i == 0 { "  - word" } else { "    word" }),
                "{l:?}"
            );
        }
        assert_eq!(
            wrapped.split_whitespace().filter(|w| *w == "word").count(),
            40
        );
    }

    #[test]
    fn a_word_longer_than_the_width_stays_whole() {
        let path = format!("/{}", "p".repeat(50));
        let wrapped = wrap(&format!("  bundle: {path} (1 certificate)"), 30);
        assert!(wrapped.lines().any(|l| l.trim() == path), "{wrapped}");
    }
}
