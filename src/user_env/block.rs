//! Marked blocks in text files the user owns (beside the pipeline, for setup; shell profiles):
//! added once, replaced in place, and removed so that the file is byte for byte what it was before.
//! Pure text functions; the files themselves are read and written by `user_env`.
// The shell profiles and files setup writes are Unix and macOS targets; Windows setup writes
// the registry (user_env::Registry).
#![cfg_attr(windows, allow(dead_code))]

use std::ops::Range;

pub const BEGIN: &str = "# >>> trustrun setup >>>";
pub const END: &str = "# <<< trustrun setup <<<";
/// The first line inside every block.
const HEADER: &str = "# Added by `trustrun setup`; `trustrun setup --undo` removes this block.";

/// The whole block around `body` (lines, each ending in a newline). Every format we write
/// (sh, fish, PowerShell, environment.d) takes `#` as a comment.
pub fn render(body: &str) -> String {
    format!("{BEGIN}\n{HEADER}\n{body}{END}\n")
}

/// Why the markers in a file do not make blocks of ours: the line (counted from 1) and what is
/// wrong there. Nothing in such a file is ours to change: a lone marker would otherwise make
/// every line after it look like part of a block.
#[derive(Debug, PartialEq, Eq)]
pub struct Problem {
    pub line: usize,
    pub what: String,
}

/// Our blocks in `text`, each from the start of its begin marker's line to the end of its end
/// marker's line. A block is ours only when both markers are there, in order, each on a line of
/// its own, and every line between is our header or a line `is_ours` accepts (one setup
/// writes); anything else is a `Problem`.
pub fn scan(text: &str, is_ours: impl Fn(&str) -> bool) -> Result<Vec<Range<usize>>, Problem> {
    let mut blocks = Vec::new();
    // The open block: its start offset, its line number, its first line that is not ours.
    let mut open: Option<(usize, usize, Option<Problem>)> = None;
    let mut at = 0;
    for (i, raw) in text.split_inclusive('\n').enumerate() {
        let number = i + 1;
        let line = raw.trim_end_matches('\n').trim_end_matches('\r');
        let marker = line.trim_end();
        match &mut open {
            None if marker == BEGIN => open = Some((at, number, None)),
            None if marker == END => {
                return Err(Problem {
                    line: number,
                    what: format!("`{END}` without `{BEGIN}` before it"),
                });
            }
            None => {}
            Some((start, _, foreign)) if marker == END => {
                if let Some(problem) = foreign.take() {
                    return Err(problem);
                }
                blocks.push(*start..at + raw.len());
                open = None;
            }
            Some((_, begun, _)) if marker == BEGIN => {
                return Err(Problem {
                    line: *begun,
                    what: format!(
                        "`{BEGIN}` without `{END}` before the next one, on line {number}"
                    ),
                });
            }
            // The first line that is not ours is reported once the end marker shows this
            // is a block at all (without one, the lone begin marker is the problem).
            Some((_, begun, foreign)) if foreign.is_none() && line != HEADER && !is_ours(line) => {
                *foreign = Some(Problem {
                    line: number,
                    what: format!(
                        "`{}` is inside the block begun on line {begun} but is not a line `trustrun setup` writes (edited by hand?)",
                        shorten(line)
                    ),
                });
            }
            Some(_) => {}
        }
        at += raw.len();
    }
    match open {
        // Without its end, the lines after it are the user's, whatever they look like.
        Some((_, begun, _)) => Err(Problem {
            line: begun,
            what: format!("`{BEGIN}` without `{END}` after it"),
        }),
        None => Ok(blocks),
    }
}

/// A line as a message quotes it: at most 60 characters.
fn shorten(line: &str) -> String {
    match line.char_indices().nth(60) {
        Some((i, _)) => format!("{}...", &line[..i]),
        None => line.to_owned(),
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

/// The separator a block found without a record of its own (a profile synced from a dotfiles
/// repository) was most likely added with: the blank line setup puts before a block that ends
/// the file, else nothing.
pub fn guessed_separator(text: &str, blocks: &[Range<usize>]) -> &'static str {
    match blocks.last() {
        Some(r) if r.end == text.len() && text[..r.start].ends_with("\n\n") => "\n",
        _ => "",
    }
}

/// `text` with `block` in it: in place of the first of `blocks` (found by `scan`; any others
/// are dropped, as a racing older setup could leave two), else appended after
/// `separator(text)`.
pub fn put(text: &str, blocks: &[Range<usize>], block: &str) -> String {
    if blocks.is_empty() {
        return format!("{text}{}{block}", separator(text));
    }
    let mut out = String::with_capacity(text.len() + block.len());
    let mut from = 0;
    for (i, r) in blocks.iter().enumerate() {
        out.push_str(&text[from..r.start]);
        if i == 0 {
            out.push_str(block);
        }
        from = r.end;
    }
    out.push_str(&text[from..]);
    out
}

/// `text` without `blocks` (found by `scan`), and without the separator that was added before
/// the last one when it ends the file.
pub fn remove(text: &str, blocks: &[Range<usize>], separator: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut from = 0;
    for r in blocks {
        out.push_str(&text[from..r.start]);
        from = r.end;
    }
    let rest = &text[from..];
    // Only when the block was last: text the user appended after it keeps its place.
    if rest.is_empty()
        && blocks.last().is_some_and(|r| r.end == text.len())
        && let Some(kept) = out.strip_suffix(separator)
    {
        return kept.to_owned();
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block() -> String {
        render("export A='x'\n")
    }

    fn ours(line: &str) -> bool {
        line.starts_with("export A=")
    }

    fn blocks(text: &str) -> Vec<Range<usize>> {
        scan(text, ours).unwrap()
    }

    #[test]
    fn put_then_remove_is_byte_identical() {
        for original in ["", "alias ll='ls -l'\n", "no newline at the end", "a\n\n\n"] {
            let sep = separator(original);
            let with = put(original, &blocks(original), &block());
            assert!(with.ends_with(&block()), "{with:?}");
            assert_eq!(remove(&with, &blocks(&with), sep), original);
        }
    }

    #[test]
    fn putting_twice_keeps_one_block() {
        let once = put("x\n", &[], &block());
        assert_eq!(put(&once, &blocks(&once), &block()), once);
        let changed = put(&once, &blocks(&once), &render("export A='y'\n"));
        assert_eq!(changed.matches(BEGIN).count(), 1);
        assert!(changed.contains("A='y'") && !changed.contains("A='x'"));
        // Two blocks (a race of an older setup): one is left, in the first one's place.
        let twice = format!("{once}mine\n{}", block());
        let fixed = put(&twice, &blocks(&twice), &block());
        assert_eq!(fixed, format!("{once}mine\n"));
    }

    #[test]
    fn text_after_the_block_stays() {
        let text = put("a\n", &[], &block()) + "echo later\n";
        assert_eq!(remove(&text, &blocks(&text), "\n"), "a\n\necho later\n");
    }

    #[test]
    fn a_marker_inside_a_line_is_not_a_block() {
        let text = format!("echo '{BEGIN}'\necho '{END}'\n");
        assert_eq!(blocks(&text), Vec::<std::ops::Range<usize>>::new());
    }

    #[test]
    fn markers_that_do_not_pair_are_problems_with_their_line() {
        let orphan = format!("a\n{BEGIN}\nmy line\nmore\n");
        assert_eq!(scan(&orphan, ours).unwrap_err().line, 2);
        let lone_end = format!("a\nb\n{END}\n");
        assert_eq!(scan(&lone_end, ours).unwrap_err().line, 3);
        // An orphan, then a block an older setup appended after it.
        let nested = format!("x\n{BEGIN}\nmine\n{}", block());
        assert_eq!(scan(&nested, ours).unwrap_err().line, 2);
        // A line of the user's between our markers: the block is not ours to replace.
        let edited = block().replace("export A='x'\n", "export A='x'\nalias x=y\n");
        let problem = scan(&edited, ours).unwrap_err();
        assert_eq!(problem.line, 4);
        assert!(problem.what.contains("alias x=y"), "{problem:?}");
    }

    #[test]
    fn a_block_with_crlf_line_ends_is_still_ours() {
        let crlf = block().replace('\n', "\r\n");
        assert_eq!(blocks(&crlf), vec![0..crlf.len()]);
    }

    #[test]
    fn the_separator_of_an_unrecorded_block_is_guessed_from_the_blank_line() {
        let text = format!("a\n\n{}", block());
        assert_eq!(guessed_separator(&text, &blocks(&text)), "\n");
        let text = format!("a\n{}", block());
        assert_eq!(guessed_separator(&text, &blocks(&text)), "");
        let text = format!("a\n\n{}b\n", block());
        assert_eq!(guessed_separator(&text, &blocks(&text)), "");
    }
}
