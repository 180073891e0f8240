//! The Python interpreters a user starts by name (doctor, beside the pipeline), and what each
//! does with trust: its version
//! (3.13 adds strict X.509 checks), truststore, certifi, the sitecustomize trustrun would chain
//! to, and isolation flags in a shebang that keep trustrun's sitecustomize out.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::shim::locate::{self, PathVerdict};

#[derive(Debug, Serialize, Default)]
pub struct PythonInfo {
    /// The name it is started by (`python3`).
    pub name: String,
    pub path: PathBuf,
    pub version: Option<String>,
    pub truststore: Option<bool>,
    /// The directory of the certifi package, when installed.
    pub certifi: Option<String>,
    /// The sitecustomize trustrun's own would chain to.
    pub sitecustomize: Option<String>,
    /// Whether `ssl.create_default_context()` sets VERIFY_X509_STRICT (Python 3.13+).
    pub x509_strict_default: Option<bool>,
    pub openssl: Option<String>,
    /// The `#!` line when the file is a script.
    pub shebang: Option<String>,
    /// `-I`, `-E`, `-s`, `-S` as given in the shebang.
    pub isolation_flags: Vec<String>,
    pub notes: Vec<String>,
    pub error: Option<String>,
}

#[cfg(windows)]
const NAMES: &[&str] = &["python", "python3", "py"];
#[cfg(not(windows))]
const NAMES: &[&str] = &["python", "python3"];

/// Runs without `import` of anything heavy and works on Python 2 too (it may be what `python` is).
const PROBE: &str = r#"
import os, sys, json
out = {"version": "%d.%d.%d" % tuple(sys.version_info[:3])}
try:
    import importlib.util as u
    out["truststore"] = u.find_spec("truststore") is not None
    s = u.find_spec("certifi")
    out["certifi"] = os.path.dirname(s.origin) if s is not None and s.origin else None
except Exception:
    pass
try:
    import importlib.machinery as m
    paths = [p for p in sys.path if not os.path.isfile(os.path.join(p or os.curdir, ".trustrun-python"))]
    s = m.PathFinder.find_spec("sitecustomize", paths)
    out["sitecustomize"] = s.origin if s is not None else None
except Exception:
    pass
try:
    import ssl
    out["openssl"] = ssl.OPENSSL_VERSION
    flag = getattr(ssl, "VERIFY_X509_STRICT", 0)
    out["x509_strict_default"] = bool(flag and ssl.create_default_context().verify_flags & flag)
except Exception:
    pass
sys.stdout.write(json.dumps(out) + "\n")
"#;

/// Every Python on PATH, all answered (or given up on) by `deadline`.
pub fn inspect(deadline: Instant) -> Vec<PythonInfo> {
    let mut seen: Vec<PathBuf> = Vec::new();
    let mut out = Vec::new();
    for name in NAMES {
        let found = locate::candidates(OsStr::new(name), false);
        let Some((path, _)) = found.into_iter().find(|(_, v)| *v == PathVerdict::Chosen) else {
            continue;
        };
        let real = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
        if seen.contains(&real) {
            continue;
        }
        seen.push(real);
        out.push(inspect_one(name, &path, deadline));
    }
    out
}

pub fn inspect_one(name: &str, path: &Path, deadline: Instant) -> PythonInfo {
    let mut info = PythonInfo {
        name: name.to_owned(),
        path: path.to_owned(),
        ..PythonInfo::default()
    };
    let shebang = read_shebang(path);
    let mut cmd = Command::new(path);
    if let Some(line) = &shebang {
        let (interpreter, flags) = parse_shebang(line);
        info.isolation_flags = isolation_flags(&flags);
        // A Python script (not a shell wrapper such as pyenv's shim): `-c` would run the script
        // itself, so ask the interpreter it names, with its flags.
        if interpreter
            .as_deref()
            .and_then(|i| Path::new(i).file_name())
            .is_some_and(|f| f.to_string_lossy().starts_with("python"))
        {
            cmd = Command::new(interpreter.unwrap_or_default());
            cmd.args(&flags);
        }
        info.shebang = Some(line.clone());
    }
    for flag in &info.isolation_flags {
        info.notes.push(match flag.as_str() {
            "-I" | "-E" => format!(
                "{flag} in its shebang: PYTHONPATH is ignored, so trustrun's sitecustomize cannot run; \
                 SSL_CERT_FILE still reaches OpenSSL (urllib, httpx, aiohttp), code that pins certifi is not helped"
            ),
            "-S" => format!(
                "{flag} in its shebang: no site module, so no sitecustomize runs; only the CA variables help"
            ),
            _ => format!("{flag} in its shebang: user site-packages ignored"),
        });
    }
    cmd.arg("-c").arg(PROBE);
    match run_until(cmd, deadline) {
        Ok(stdout) => match serde_json::from_str::<serde_json::Value>(stdout.trim()) {
            Ok(v) => {
                let s = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_owned);
                let b = |k: &str| v.get(k).and_then(|x| x.as_bool());
                info.version = s("version");
                info.truststore = b("truststore");
                info.certifi = s("certifi");
                info.sitecustomize = s("sitecustomize");
                info.x509_strict_default = b("x509_strict_default");
                info.openssl = s("openssl");
            }
            Err(_) => {
                info.error = Some(format!("did not answer the probe: {}", first_line(&stdout)))
            }
        },
        Err(e) => info.error = Some(e),
    }
    if info.x509_strict_default == Some(true) {
        info.notes.push(
            "applies VERIFY_X509_STRICT by default: a corporate root failing those checks is rejected here"
                .to_owned(),
        );
    }
    info
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or("(no output)").to_owned()
}

fn read_shebang(path: &Path) -> Option<String> {
    let file = std::fs::File::open(path).ok()?;
    let mut line = Vec::new();
    BufReader::new(file.take(512))
        .read_until(b'\n', &mut line)
        .ok()?;
    let line = line.strip_prefix(b"#!")?;
    Some(String::from_utf8_lossy(line).trim().to_owned())
}

/// The interpreter and its arguments, looking through `/usr/bin/env [-S]`.
fn parse_shebang(line: &str) -> (Option<String>, Vec<String>) {
    let mut words = line.split_whitespace().map(str::to_owned);
    let mut interpreter = words.next();
    if interpreter
        .as_deref()
        .is_some_and(|i| Path::new(i).file_name() == Some(OsStr::new("env")))
    {
        interpreter = None;
        for w in words.by_ref() {
            if w.starts_with('-') || w.contains('=') {
                continue;
            }
            interpreter = Some(w);
            break;
        }
    }
    (interpreter, words.collect())
}

/// `-I`, `-E`, `-s`, `-S` from arguments such as `-Es` or `-I`.
fn isolation_flags(args: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for arg in args {
        let Some(letters) = arg.strip_prefix('-').filter(|a| !a.starts_with('-')) else {
            continue;
        };
        for c in letters.chars() {
            let flag = format!("-{c}");
            if "IEsS".contains(c) && !out.contains(&flag) {
                out.push(flag);
            }
        }
    }
    out
}

/// Its stdout, or why there is none. At the deadline the interpreter and everything it started
/// are killed (its own process group on Unix), and the pipes are not waited for past it: a child
/// it left behind may hold them open long after it exited.
fn run_until(mut cmd: Command, deadline: Instant) -> Result<String, String> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let mut child = cmd.spawn().map_err(|e| format!("cannot run: {e}"))?;
    let reader = read_in_background(child.stdout.take());
    let err_reader = read_in_background(child.stderr.take());
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            Ok(None) => {
                kill_all(&mut child);
                return Err("no answer within doctor's --timeout".to_owned());
            }
            Err(e) => return Err(format!("cannot wait for it: {e}")),
        }
    };
    let remaining = || deadline.saturating_duration_since(Instant::now());
    let Ok(text) = reader.recv_timeout(remaining()) else {
        kill_all(&mut child);
        return Err(
            "exited, but something it started still holds its output open past doctor's --timeout"
                .to_owned(),
        );
    };
    let errors = err_reader.recv_timeout(remaining()).unwrap_or_default();
    kill_all(&mut child);
    if status.success() {
        Ok(text)
    } else {
        Err(format!(
            "the probe failed ({status}): {}",
            first_line(&errors)
        ))
    }
}

/// Reads a pipe to its end on a thread of its own; the text arrives on the channel.
fn read_in_background<R: Read + Send + 'static>(pipe: Option<R>) -> mpsc::Receiver<String> {
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_string(&mut text);
        }
        let _ = send.send(text);
    });
    receive
}

/// Kills the probe and whatever it started (it leads its own process group), then reaps it.
fn kill_all(child: &mut std::process::Child) {
    #[cfg(unix)]
    crate::util::unix::kill_group(child.id());
    let _ = child.kill();
    let _ = child.wait();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shebangs() {
        let (i, f) = parse_shebang("/usr/bin/python3 -I");
        assert_eq!(i.as_deref(), Some("/usr/bin/python3"));
        assert_eq!(isolation_flags(&f), ["-I"]);
        let (i, f) = parse_shebang("/usr/bin/env -S python3 -Es");
        assert_eq!(i.as_deref(), Some("python3"));
        assert_eq!(isolation_flags(&f), ["-E", "-s"]);
        let (i, f) = parse_shebang("/usr/bin/env bash");
        assert_eq!(i.as_deref(), Some("bash"));
        assert!(isolation_flags(&f).is_empty());
    }
}
