//! The derived Dockerfile (launch stage, image builds): the user's Dockerfile with, and only with,
//! what lets every `RUN` verify TLS against the run's bundle. Pure text in, text out: nothing here
//! touches an engine (`build::docker` and `build::compose` hand the result over).
//!
//! What is added, and why each is safe for the image:
//! - after each `FROM`, one `ARG NAME=PATH` per CA variable the stage does not set itself: a
//!   build argument is in the environment of the stage's `RUN`s but never in the image's config;
//!   a value given with `--build-arg` (or compose's `build.args`) still beats the default;
//! - in each `RUN`, right after the keyword, a read-only bind mount of the bundle from the named
//!   build context: the file is there while the step runs and in no layer afterwards.
//!
//! Everything else is the user's bytes, in order: parser directives stay first (the escape
//! character they choose is the one continuations are read with), comments, continuations,
//! heredoc bodies, exec-form `RUN [...]`, `RUN`s with mounts of their own. `ONBUILD` is never
//! touched: what it holds runs in another image's build and lands in this image's config.

use std::collections::BTreeSet;

use super::super::bundle_path::{self, BundlePath};

/// What to add: the named context holding the bundle, the bundle's file name in it, and the CA
/// variables. Where a stage's `RUN`s see the bundle is `bundle_path`'s rule, as for containers:
/// `/etc/trustrun/ca-bundle.pem`, or the next candidate when a `RUN` of the stage mounts something
/// over it (the variables are the stage's, so every `RUN` of it gets the same path).
#[derive(Debug, Clone)]
pub struct Addition<'a> {
    pub context: &'a str,
    pub source: &'a str,
    pub variables: &'a [String],
}

/// The derived text and what it covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Derived {
    pub text: String,
    /// `RUN` steps that got the bundle.
    pub runs: usize,
    /// Stages (`FROM`s).
    pub stages: usize,
    /// Base images (not earlier stages) named by the stages, as written.
    pub bases: Vec<String>,
    /// The `# syntax=` directive's frontend image, if any.
    pub syntax: Option<String>,
    /// The stages' names (`AS NAME`), lower case.
    pub names: Vec<String>,
}

/// One instruction: its physical lines `[first, last]` (heredoc bodies included), its keyword
/// (upper case) and its logical text after the keyword (continuations joined).
#[derive(Debug)]
struct Instruction {
    first: usize,
    last: usize,
    keyword: String,
    rest: String,
}

/// The parser directives at the top, as BuildKit reads them: the escape character (`# escape=`)
/// and the frontend (`# syntax=`).
fn directives(lines: &[&str]) -> (char, Option<String>) {
    let mut escape = '\\';
    let mut syntax = None;
    for line in lines {
        // A byte-order mark before the first line is not part of it (BuildKit drops it too).
        let t = line.trim_start_matches('\u{feff}').trim();
        let Some(body) = t.strip_prefix('#') else {
            break;
        };
        let Some((key, value)) = body.split_once('=') else {
            break;
        };
        let key = key.trim();
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric()) {
            break;
        }
        if key.eq_ignore_ascii_case("escape") && value.trim() == "`" {
            escape = '`';
        }
        if key.eq_ignore_ascii_case("syntax") {
            syntax = Some(value.trim().to_owned());
        }
    }
    (escape, syntax)
}

/// The `# syntax=` directive of a Dockerfile's text, if it has one.
pub fn syntax(text: &str) -> Option<String> {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    directives(&lines).1
}

/// Whether a `# syntax=` frontend reads named contexts and `RUN --mount` (docker/dockerfile 1.4
/// and later, or an untagged or `1` one, which is the newest 1.x). Any other frontend is not
/// known to.
pub fn frontend_has_named_contexts(syntax: &str) -> bool {
    let image = syntax.split('@').next().unwrap_or(syntax);
    let (name, tag) = match image.rsplit_once(':') {
        Some((n, t)) if !t.contains('/') => (n, t),
        _ => (image, "latest"),
    };
    let name = name
        .trim_start_matches("docker.io/")
        .trim_start_matches("index.docker.io/");
    if !matches!(name, "docker/dockerfile" | "docker/dockerfile-upstream") {
        return false;
    }
    let tag = tag.split('-').next().unwrap_or(tag);
    if matches!(tag, "latest" | "labs" | "1") {
        return true;
    }
    let mut parts = tag.split('.').map(|p| p.parse::<u32>().ok());
    match (parts.next().flatten(), parts.next().flatten()) {
        (Some(major), Some(minor)) => (major, minor) >= (1, 4),
        (Some(major), None) => major > 1,
        _ => false,
    }
}

/// `line` without its line break.
fn body(line: &str) -> &str {
    line.trim_end_matches(['\n', '\r'])
}

/// Whether a physical line continues on the next one: its last non-blank character is the
/// escape character.
fn continues(line: &str, escape: char) -> bool {
    body(line).trim_end().ends_with(escape)
}

/// The words of a logical line as a shell would split them (quotes kept out of the words), enough
/// to find heredoc markers and flags.
fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut any = false;
    for c in text.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => cur.push(c),
            None if c == '"' || c == '\'' => {
                quote = Some(c);
                any = true;
            }
            None if c.is_whitespace() => {
                if any || !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
                any = false;
            }
            None => {
                cur.push(c);
                any = true;
            }
        }
    }
    if any || !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// The heredocs an instruction's text opens (`<<EOF`, `<<-EOF`, `<<"EOF"`), in order: (name,
/// strip leading tabs). Only `RUN`, `COPY` and `ADD` take them, and an exec-form `RUN` none.
fn heredocs(keyword: &str, rest: &str) -> Vec<(String, bool)> {
    if !matches!(keyword, "RUN" | "COPY" | "ADD") {
        return Vec::new();
    }
    // After the flags: an exec form (`[...]`) has none.
    let mut raw_words = rest
        .split_whitespace()
        .skip_while(|w| w.starts_with("--"))
        .peekable();
    if raw_words.peek().is_some_and(|w| w.starts_with('[')) {
        return Vec::new();
    }
    let mut found = Vec::new();
    for raw in raw_words {
        let digits = raw.trim_start_matches(|c: char| c.is_ascii_digit());
        let Some(after) = digits.strip_prefix("<<") else {
            continue;
        };
        let (strip, name) = match after.strip_prefix('-') {
            Some(n) => (true, n),
            None => (false, after),
        };
        let name = name.trim_matches(['"', '\'']);
        if name.is_empty() || name.contains('<') {
            continue;
        }
        found.push((name.to_owned(), strip));
    }
    found
}

/// Splits the text into instructions (comments and blank lines between them are skipped; their
/// lines are kept as they are by `derive`).
fn instructions(lines: &[&str], escape: char) -> Vec<Instruction> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let t = body(lines[i]).trim_start_matches('\u{feff}').trim_start();
        if t.is_empty() || t.starts_with('#') {
            i += 1;
            continue;
        }
        let first = i;
        let mut logical = String::new();
        loop {
            let line = body(lines[i]);
            let trimmed = line.trim_start();
            // Comment and blank lines inside a continuation are dropped by the parser.
            if i != first && (trimmed.starts_with('#') || trimmed.is_empty()) {
            } else if continues(line, escape) {
                let end = line.trim_end();
                logical.push_str(&end[..end.len() - escape.len_utf8()]);
            } else {
                logical.push_str(line);
                break;
            }
            if i + 1 >= lines.len() {
                break;
            }
            i += 1;
        }
        let logical = logical.trim_start_matches('\u{feff}').trim_start();
        let (keyword, rest) = match logical.split_once(char::is_whitespace) {
            Some((k, r)) => (k.to_ascii_uppercase(), r.to_owned()),
            None => (logical.to_ascii_uppercase(), String::new()),
        };
        // Heredoc bodies follow the instruction's last line.
        for (name, strip) in heredocs(&keyword, &rest) {
            loop {
                i += 1;
                if i >= lines.len() {
                    break;
                }
                let line = body(lines[i]);
                let line = if strip {
                    line.trim_start_matches('\t')
                } else {
                    line
                };
                if line == name {
                    break;
                }
            }
        }
        out.push(Instruction {
            first,
            last: i.min(lines.len() - 1),
            keyword,
            rest,
        });
        i += 1;
    }
    out
}

/// Names an `ARG` declares (`ARG A=1 B`).
fn arg_names(rest: &str) -> Vec<String> {
    words(rest)
        .into_iter()
        .map(|w| w.split('=').next().unwrap_or_default().to_owned())
        .filter(|n| !n.is_empty())
        .collect()
}

/// Names an `ENV` sets: `ENV A=1 B=2`, or the old `ENV A value with spaces`.
fn env_names(rest: &str) -> Vec<String> {
    let w = words(rest);
    match w.first() {
        Some(first) if !first.contains('=') => vec![first.clone()],
        _ => w
            .into_iter()
            .filter_map(|w| w.split_once('=').map(|(n, _)| n.to_owned()))
            .collect(),
    }
}

/// A `FROM`'s image and stage name: `FROM [--platform=X] IMAGE [AS NAME]`.
fn from_parts(rest: &str) -> (String, Option<String>) {
    let w: Vec<String> = words(rest)
        .into_iter()
        .filter(|w| !w.starts_with("--"))
        .collect();
    let image = w.first().cloned().unwrap_or_default();
    let name = match (w.get(1), w.get(2)) {
        (Some(as_), Some(n)) if as_.eq_ignore_ascii_case("as") => Some(n.to_ascii_lowercase()),
        _ => None,
    };
    (image, name)
}

/// The targets of a `RUN`'s own `--mount` flags.
fn run_mount_targets(rest: &str) -> Vec<String> {
    let mut targets = Vec::new();
    let mut w = words(rest).into_iter();
    while let Some(word) = w.next() {
        if !word.starts_with("--") {
            break;
        }
        let value = match word.strip_prefix("--mount") {
            Some(v) if v.starts_with('=') => v[1..].to_owned(),
            Some("") => w.next().unwrap_or_default(),
            _ => continue,
        };
        targets.extend(bundle_path::mount_target(&value));
    }
    targets
}

/// The user's Dockerfile with the bundle added to every `RUN` of every stage. `keeps(image)` says
/// which CA variables a base image's own config sets (they stay the image's: no `ARG` for them).
/// A stage whose `RUN`s mount over every candidate path gets nothing.
pub fn derive(text: &str, add: &Addition, keeps: &dyn Fn(&str) -> BTreeSet<String>) -> Derived {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let (escape, syntax) = directives(&lines);
    let list = instructions(&lines, escape);
    let newline = if text.contains("\r\n") { "\r\n" } else { "\n" };

    // Per stage: the variables it sets itself (or inherits from an earlier stage or its base).
    let mut stage_names: Vec<Option<String>> = Vec::new();
    let mut stage_own: Vec<BTreeSet<String>> = Vec::new();
    let mut stage_env: Vec<BTreeSet<String>> = Vec::new();
    let mut bases = Vec::new();
    let mut stage_of: Vec<Option<usize>> = Vec::new();
    let mut stage_mounts: Vec<Vec<String>> = Vec::new();
    for ins in &list {
        match ins.keyword.as_str() {
            "FROM" => {
                let (image, name) = from_parts(&ins.rest);
                let lower = image.to_ascii_lowercase();
                let earlier = stage_names
                    .iter()
                    .position(|n| n.as_deref() == Some(lower.as_str()))
                    .or_else(|| {
                        image
                            .parse::<usize>()
                            .ok()
                            .filter(|i| *i < stage_names.len())
                    });
                let inherited = match earlier {
                    Some(s) => stage_env[s].clone(),
                    None => {
                        if !image.eq_ignore_ascii_case("scratch") && !bases.contains(&image) {
                            bases.push(image.clone());
                        }
                        keeps(&image)
                    }
                };
                stage_names.push(name);
                stage_mounts.push(Vec::new());
                stage_own.push(inherited.clone());
                stage_env.push(inherited);
            }
            "ARG" => {
                if let Some(own) = stage_own.last_mut() {
                    own.extend(arg_names(&ins.rest));
                }
            }
            "RUN" => {
                if let Some(mounts) = stage_mounts.last_mut() {
                    mounts.extend(run_mount_targets(&ins.rest));
                }
            }
            "ENV" => {
                if let (Some(own), Some(env)) = (stage_own.last_mut(), stage_env.last_mut()) {
                    let names = env_names(&ins.rest);
                    own.extend(names.iter().cloned());
                    env.extend(names);
                }
            }
            _ => {}
        }
        stage_of.push(stage_names.len().checked_sub(1));
    }

    let places: Vec<BundlePath> = stage_mounts
        .iter()
        .map(|m| bundle_path::choose(m))
        .collect();
    let mount = |target: &str| {
        format!(
            "--mount=type=bind,from={},source={},target={target},readonly",
            add.context, add.source
        )
    };
    let mut out = String::with_capacity(text.len() + 256);
    let mut runs = 0;
    let mut next = list.iter().zip(&stage_of).peekable();
    let mut i = 0;
    while i < lines.len() {
        let Some((ins, stage)) = next.next_if(|(ins, _)| ins.first == i) else {
            out.push_str(lines[i]);
            i += 1;
            continue;
        };
        let first = lines[ins.first];
        let target = stage.and_then(|s| places[s].mount());
        if let (true, Some(target)) = (ins.keyword == "RUN", target) {
            // After the keyword, before the user's flags: `RUN --mount=... <the user's text>`.
            let lead = first.len() - first.trim_start().len();
            let kw_end = lead + 3;
            out.push_str(&first[..kw_end]);
            out.push(' ');
            out.push_str(&mount(target));
            if first[kw_end..].starts_with([' ', '\t']) {
                out.push_str(&first[kw_end..]);
            } else {
                out.push(' ');
                out.push_str(&first[kw_end..]);
            }
            runs += 1;
        } else {
            out.push_str(first);
        }
        for line in &lines[ins.first + 1..=ins.last] {
            out.push_str(line);
        }
        if ins.keyword == "FROM" {
            if !out.ends_with('\n') {
                out.push_str(newline);
            }
            let stage = stage.expect("a FROM opens a stage");
            let own = &stage_own[stage];
            // One instruction for all (one history entry, not one per variable).
            let args: Vec<String> = match places[stage].path() {
                Some(path) => add
                    .variables
                    .iter()
                    .filter(|n| !own.contains(*n))
                    .map(|n| format!("{n}={path}"))
                    .collect(),
                None => Vec::new(),
            };
            if !args.is_empty() {
                out.push_str(&format!("ARG {}{newline}", args.join(" ")));
            }
        }
        i = ins.last + 1;
    }
    Derived {
        text: out,
        runs,
        stages: stage_names.len(),
        bases,
        syntax,
        names: stage_names.into_iter().flatten().collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOUNT: &str = "--mount=type=bind,from=trustrun-ca,source=b.pem,target=/etc/trustrun/ca-bundle.pem,readonly";

    fn vars() -> Vec<String> {
        vec!["SSL_CERT_FILE".to_owned(), "PIP_CERT".to_owned()]
    }

    fn derive_plain(text: &str) -> Derived {
        let v = vars();
        let add = Addition {
            context: "trustrun-ca",
            source: "b.pem",
            variables: &v,
        };
        derive(text, &add, &|_| BTreeSet::new())
    }

    const ARGS: &str =
        "ARG SSL_CERT_FILE=/etc/trustrun/ca-bundle.pem PIP_CERT=/etc/trustrun/ca-bundle.pem\n";

    #[test]
    fn every_run_of_every_stage_gets_the_mount_and_each_stage_the_args() {
        let d = derive_plain(
            "FROM base AS one\nRUN curl https://x\nFROM one\nWORKDIR /app\nrun [\"python3\", \"-c\", \"1\"]\n",
        );
        assert_eq!(
            d.text,
            format!(
                "FROM base AS one\n{ARGS}RUN {MOUNT} curl https://x\nFROM one\n{ARGS}WORKDIR /app\nrun {MOUNT} [\"python3\", \"-c\", \"1\"]\n"
            )
        );
        assert_eq!((d.runs, d.stages), (2, 2));
        assert_eq!(d.bases, ["base"], "an earlier stage is not a base image");
        assert_eq!(d.names, ["one"]);
    }

    #[test]
    fn directives_stay_first_and_the_escape_they_choose_reads_continuations() {
        let text = "# escape=`\n# a comment\nFROM base\nRUN echo a `\n  && echo b\\\nRUN echo c\n";
        let d = derive_plain(text);
        assert_eq!(
            d.text,
            format!(
                "# escape=`\n# a comment\nFROM base\n{ARGS}RUN {MOUNT} echo a `\n  && echo b\\\nRUN {MOUNT} echo c\n"
            )
        );
        assert_eq!(d.runs, 2);
        // With the default escape, a continued RUN is one instruction, comment and blank lines inside it too (a continued line starting `run` is not a RUN).
        let d = derive_plain(
            "# syntax=docker/dockerfile:1\nFROM base\nRUN a \\\n# note\n  b \\\n\n  run c\nRUN d\n",
        );
        assert!(
            d.text
                .starts_with("# syntax=docker/dockerfile:1\nFROM base\n")
        );
        assert_eq!(d.runs, 2);
        assert!(d.text.contains(&format!(
            "RUN {MOUNT} a \\\n# note\n  b \\\n\n  run c\nRUN {MOUNT} d\n"
        )));
    }

    #[test]
    fn a_byte_order_mark_does_not_hide_the_directives() {
        let d = derive_plain("\u{feff}# escape=`\nFROM base\nRUN a `\n  b\n");
        assert_eq!(
            d.text,
            format!("\u{feff}# escape=`\nFROM base\n{ARGS}RUN {MOUNT} a `\n  b\n")
        );
        let d = derive_plain("\u{feff}FROM base\nRUN a\n");
        assert_eq!(d.text, format!("\u{feff}FROM base\n{ARGS}RUN {MOUNT} a\n"));
    }

    #[test]
    fn heredoc_bodies_are_the_users_and_not_instructions() {
        let text = "FROM base\nRUN <<EOF\nRUN not-an-instruction\nFROM nope\nEOF\nCOPY <<-\"END\" /f\n\tRUN inside\n\tEND\nRUN last\n";
        let d = derive_plain(text);
        assert_eq!(
            d.text,
            format!(
                "FROM base\n{ARGS}RUN {MOUNT} <<EOF\nRUN not-an-instruction\nFROM nope\nEOF\nCOPY <<-\"END\" /f\n\tRUN inside\n\tEND\nRUN {MOUNT} last\n"
            )
        );
        assert_eq!((d.runs, d.stages), (2, 1));
    }

    #[test]
    fn onbuild_is_left_alone_and_a_stage_mounting_over_the_path_gets_the_next_one() {
        let text = "FROM base\nONBUILD RUN curl x\nRUN --mount=type=bind,source=.,target=/etc mine\n\
                    RUN --mount=type=cache,target=/root/.cache pip install x\n\
                    FROM base\nRUN --mount=type=tmpfs,target=/etc a\nRUN --mount=type=tmpfs,target=/run b\n\
                    RUN --mount=type=tmpfs,target=/.trustrun c\nFROM base\nRUN d\n";
        let d = derive_plain(text);
        let moved = |target: &str| {
            (
                format!("ARG SSL_CERT_FILE={target} PIP_CERT={target}\n"),
                format!("--mount=type=bind,from=trustrun-ca,source=b.pem,target={target},readonly"),
            )
        };
        let (args, mount) = moved("/run/trustrun/ca-bundle.pem");
        assert_eq!(
            d.text,
            format!(
                "FROM base\n{args}ONBUILD RUN curl x\nRUN {mount} --mount=type=bind,source=.,target=/etc mine\n\
                 RUN {mount} --mount=type=cache,target=/root/.cache pip install x\n\
                 FROM base\nRUN --mount=type=tmpfs,target=/etc a\nRUN --mount=type=tmpfs,target=/run b\n\
                 RUN --mount=type=tmpfs,target=/.trustrun c\nFROM base\n{ARGS}RUN {MOUNT} d\n"
            )
        );
        assert_eq!(
            d.runs, 3,
            "every candidate covered: that stage gets nothing"
        );
    }

    #[test]
    fn a_syntax_directive_is_kept_only_for_a_frontend_with_named_contexts() {
        let d = derive_plain("# syntax=docker/dockerfile:1.3\nFROM base\n");
        assert_eq!(d.syntax.as_deref(), Some("docker/dockerfile:1.3"));
        for yes in [
            "docker/dockerfile:1",
            "docker/dockerfile:1.4",
            "docker.io/docker/dockerfile:1.7-labs",
            "docker/dockerfile-upstream:master-labs@sha256:ab"
                .replace("master-labs", "labs")
                .as_str(),
            "docker/dockerfile",
        ] {
            assert!(frontend_has_named_contexts(yes), "{yes}");
        }
        for no in [
            "docker/dockerfile:1.3",
            "docker/dockerfile:1.2.1",
            "me/frontend:2",
            "docker/dockerfile:0.9",
        ] {
            assert!(!frontend_has_named_contexts(no), "{no}");
        }
    }

    #[test]
    fn a_stages_own_arg_or_env_and_its_bases_config_win() {
        let text = "FROM base AS a\nENV SSL_CERT_FILE=/mine.pem\nRUN x\nFROM a\nRUN y\nFROM other\nARG PIP_CERT\nRUN z\nFROM img\n";
        let v = vars();
        let add = Addition {
            context: "c",
            source: "b.pem",
            variables: &v,
        };
        let d = derive(text, &add, &|image| {
            if image == "img" {
                ["PIP_CERT".to_owned()].into()
            } else {
                BTreeSet::new()
            }
        });
        let mount =
            "--mount=type=bind,from=c,source=b.pem,target=/etc/trustrun/ca-bundle.pem,readonly";
        assert_eq!(
            d.text,
            format!(
                "FROM base AS a\nARG PIP_CERT=/etc/trustrun/ca-bundle.pem\nENV SSL_CERT_FILE=/mine.pem\nRUN {mount} x\n\
                 FROM a\nARG PIP_CERT=/etc/trustrun/ca-bundle.pem\nRUN {mount} y\n\
                 FROM other\nARG SSL_CERT_FILE=/etc/trustrun/ca-bundle.pem\nARG PIP_CERT\nRUN {mount} z\n\
                 FROM img\nARG SSL_CERT_FILE=/etc/trustrun/ca-bundle.pem\n"
            )
        );
        assert_eq!(d.bases, ["base", "other", "img"]);
    }

    #[test]
    fn crlf_and_a_last_line_without_a_break() {
        let d = derive_plain("FROM base\r\nRUN a");
        assert_eq!(
            d.text,
            format!("FROM base\r\n{}RUN {MOUNT} a", ARGS.replace('\n', "\r\n"))
        );
        let d = derive_plain("FROM base");
        assert_eq!(d.text, format!("FROM base\n{ARGS}"));
    }
}
