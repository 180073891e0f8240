//! `HKCU\Environment`, the user's persistent environment on Windows, as a `Store`: read, set and
//! delete a value, and tell running programs it changed (the Win32 calls are `util::windows`).

use anyhow::{Context, Result};

use super::{Store, Value};
use crate::util::windows::{RegKey, RegString, announce_environment_change};

/// The current user's environment in the registry, `HKCU\Environment`.
pub struct Registry;

impl Registry {
    fn open(write: bool) -> Result<RegKey> {
        RegKey::create_current_user("Environment", write).context("cannot open HKCU\\Environment")
    }
}

impl Store for Registry {
    fn get(&self, name: &str) -> Result<Option<Value>> {
        match Self::open(false)?.string(name) {
            Ok(value) => Ok(value.map(|v| Value {
                text: v.text,
                expand: v.expand,
            })),
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                anyhow::bail!("HKCU\\Environment\\{name} is not a string value; left alone")
            }
            Err(e) => Err(e).with_context(|| format!("cannot read HKCU\\Environment\\{name}")),
        }
    }

    fn set(&mut self, name: &str, value: &Value) -> Result<()> {
        let value = RegString {
            text: value.text.clone(),
            expand: value.expand,
        };
        Self::open(true)?
            .set_string(name, &value)
            .with_context(|| format!("cannot write HKCU\\Environment\\{name}"))
    }

    fn remove(&mut self, name: &str) -> Result<()> {
        Self::open(true)?
            .delete_value(name)
            .with_context(|| format!("cannot delete HKCU\\Environment\\{name}"))
    }

    fn announce(&mut self) {
        announce_environment_change();
    }
}
