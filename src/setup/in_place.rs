//! What the setup in place has, which a later setup keeps unless told otherwise (beside the
//! pipeline, for setup): `--python` with its `--truststore` and `--relax-x509-strict` values, `--java`,
//! read from what the profiles (Unix) or the record (Windows) hold; and the CA files it was given,
//! from the sources it recorded. `trustrun setup --python` after `trustrun setup --ca corp.pem`
//! must neither drop the corporate root nor, run again plainly, drop `--python`.

use std::path::{Path, PathBuf};

use crate::settings::options::TrustOptions;
use crate::settings::truststore::Truststore;
use crate::settings::vars;
use crate::sources::Inputs;
use crate::store::stable;
use crate::user_env::UserEnv;

/// The `--python` variables the setup in place sets, and `--java`'s.
#[derive(Debug, Default)]
pub struct InPlace {
    pub python: bool,
    pub java: bool,
    relax: bool,
    truststore: bool,
}

impl InPlace {
    fn from_names(names: &[String]) -> InPlace {
        let has = |n: &str| names.iter().any(|x| x == n);
        InPlace {
            python: has(vars::TRUSTRUN_PYTHON_DIR),
            java: has(vars::JAVA_TOOL_OPTIONS),
            relax: has(vars::TRUSTRUN_RELAX_X509_STRICT),
            truststore: has(vars::TRUSTRUN_TRUSTSTORE),
        }
    }
}

/// The variables in a block of ours (what the profiles hold, whatever the record says: a
/// profile may come from a dotfiles repository).
#[cfg(unix)]
pub fn read(home: &Path, _record: &UserEnv, opts: &TrustOptions) -> InPlace {
    let config = dirs::config_dir().unwrap_or_else(|| home.join(".config"));
    let lines = super::setup_lines(opts);
    let mut found = Vec::new();
    for p in super::profiles::unix_profiles(home, &config) {
        // Regular files only: reading a FIFO would block.
        if !std::fs::metadata(&p.path).is_ok_and(|m| m.is_file()) {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&p.path) else {
            continue;
        };
        let Ok(blocks) = crate::user_env::block::scan(&text, |l| lines(&p.path, l)) else {
            continue;
        };
        for name in [
            vars::TRUSTRUN_PYTHON_DIR,
            vars::TRUSTRUN_RELAX_X509_STRICT,
            vars::TRUSTRUN_TRUSTSTORE,
            vars::JAVA_TOOL_OPTIONS,
        ] {
            if blocks.iter().any(|r| text[r.clone()].contains(name)) {
                found.push(name.to_owned());
            }
        }
    }
    InPlace::from_names(&found)
}

/// The variables setup set in `HKCU\Environment`, as its record has them.
#[cfg(windows)]
pub fn read(_home: &Path, record: &UserEnv, _opts: &TrustOptions) -> InPlace {
    let names: Vec<String> = record
        .changes()
        .iter()
        .filter(|r| r.owner == super::OWNER)
        .filter_map(|r| match &r.change {
            crate::user_env::Change::VariableSet { variable, .. } => Some(variable.clone()),
            _ => None,
        })
        .collect();
    InPlace::from_names(&names)
}

/// What this setup writes for Python.
pub struct PythonOptions {
    pub on: bool,
    /// `TRUSTRUN_TRUSTSTORE=always`.
    pub truststore: bool,
    /// `TRUSTRUN_RELAX_X509_STRICT=1`.
    pub relax: bool,
}

/// `--python` (`Some(true)`), `--no-python` (`Some(false)`) or neither (then the setup in
/// place decides), with its options: given now, or, with `--python` kept, kept too (unless
/// `--truststore never` now). Both act through our sitecustomize, so only with `--python`.
pub fn python_options(asked: Option<bool>, opts: &TrustOptions, before: &InPlace) -> PythonOptions {
    let on = asked.unwrap_or(before.python);
    let kept = asked.is_none();
    PythonOptions {
        on,
        truststore: on
            && (opts.truststore.enabled()
                || (kept && before.truststore && opts.truststore != Truststore::Never)),
        relax: on && (opts.relax_x509_strict || (kept && before.relax)),
    }
}

/// Given no CA file now (flags, `TRUSTRUN_CA`, the config), the CA files of the setup in place
/// are added to `inputs`: a later `setup --python` must not narrow every new shell's trust.
/// Given some, they replace those (IT's new root file instead of the old one). Returns the
/// files kept and those dropped because they no longer exist.
pub fn carry_ca(
    root: &Path,
    opts: &TrustOptions,
    inputs: &mut Inputs,
) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let (mut kept, mut gone) = (Vec::new(), Vec::new());
    if !opts.ca.is_empty() {
        return (kept, gone);
    }
    let Ok(Some(before)) = stable::recorded(root) else {
        return (kept, gone);
    };
    for ca in before.ca {
        if inputs.ca.contains(&ca) {
            continue;
        }
        if ca.exists() {
            inputs.ca.push(ca.clone());
            kept.push(ca);
        } else {
            gone.push(ca);
        }
    }
    (kept, gone)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> TrustOptions {
        // Neither this process's environment nor a config file: the defaults alone.
        crate::settings::resolve(
            Default::default(),
            Default::default(),
            &Default::default(),
            Default::default(),
        )
        .unwrap()
        .options
    }

    #[test]
    fn python_and_its_options_are_kept_unless_asked_otherwise() {
        let before = InPlace {
            python: true,
            java: false,
            relax: true,
            truststore: true,
        };
        let o = opts();
        let kept = python_options(None, &o, &before);
        assert!(kept.on && kept.relax && kept.truststore);
        let dropped = python_options(Some(false), &o, &before);
        assert!(!dropped.on && !dropped.relax && !dropped.truststore);
        // Given again, only what is given now counts.
        let again = python_options(Some(true), &o, &before);
        assert!(again.on && !again.relax);
        let mut never = opts();
        never.truststore = Truststore::Never;
        assert!(!python_options(None, &never, &before).truststore);
        assert!(!python_options(None, &o, &InPlace::default()).on);
    }
}
