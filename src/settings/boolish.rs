//! Boolean environment variables (settings stage), read by one rule, uv's
//! (`parse_boolish_environment_variable`): `1 true yes on y t` or `0 false no off n f`, any case;
//! unset or empty is unset; any other spelling is a usage error naming the variable, never a
//! silent false (`TRUSTRUN_RELAX_X509_STRICT=false` once relaxed the checks because another
//! reader took any value as true). Every boolean of ours is read here: `TRUSTRUN_STRICT`,
//! `TRUSTRUN_VERBOSE`, `TRUSTRUN_RELAX_X509_STRICT`, `TRUSTRUN_DEBUG`, `TRUSTRUN_CONTAINERS`,
//! `TRUSTRUN_CONTAINERS_JAVA`.

use std::ffi::OsStr;

use crate::failure::Failure;

/// The variable `name`'s value already read (`EnvironmentOptions`): `None` when unset or empty.
pub fn parse(name: &str, value: Option<&OsStr>) -> Result<Option<bool>, Failure> {
    let Some(value) = value.filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    match value.to_string_lossy().trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" | "y" | "t" => Ok(Some(true)),
        "0" | "false" | "no" | "off" | "n" | "f" => Ok(Some(false)),
        _ => Err(Failure::usage(format!(
            "{name}={value:?}: expected 1, true, yes, on (or 0, false, no, off)"
        ))),
    }
}

/// The variable `name` as this process has it.
pub fn read(name: &str) -> Result<Option<bool>, Failure> {
    parse(name, std::env::var_os(name).as_deref())
}

/// What a boolean becomes in the child: `1` or `0`, never the caller's spelling (our
/// sitecustomize takes nothing else).
pub fn normalized(on: bool) -> &'static str {
    if on { "1" } else { "0" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_of_uv_and_nothing_else() {
        let p = |v: &str| parse("X", Some(OsStr::new(v)));
        for on in ["1", "true", "YES", "On", "y", "T", " 1 "] {
            assert_eq!(p(on).unwrap(), Some(true), "{on}");
        }
        for off in ["0", "false", "No", "OFF", "n", "f"] {
            assert_eq!(p(off).unwrap(), Some(false), "{off}");
        }
        assert_eq!(p("").unwrap(), None);
        assert_eq!(parse("X", None).unwrap(), None);
        let e = p("maybe").unwrap_err();
        assert_eq!(e.code, crate::failure::EXIT_USAGE);
        assert_eq!(
            e.message,
            "X=\"maybe\": expected 1, true, yes, on (or 0, false, no, off)"
        );
    }
}
