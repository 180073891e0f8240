//! `HKCU\Environment`: the user environment every new Windows process starts with. Values are
//! read and written through the registry API (not `setx`, which cuts values at 1024 characters),
//! and Explorer is told with `WM_SETTINGCHANGE` so programs started from it see them.

use std::ptr;

use anyhow::{Result, bail};
use windows_sys::Win32::Foundation::{ERROR_FILE_NOT_FOUND, ERROR_SUCCESS};
use windows_sys::Win32::System::Registry::{
    HKEY, HKEY_CURRENT_USER, KEY_QUERY_VALUE, KEY_SET_VALUE, REG_EXPAND_SZ,
    REG_OPTION_NON_VOLATILE, REG_SZ, REG_VALUE_TYPE, RegCloseKey, RegCreateKeyExW, RegDeleteValueW,
    RegQueryValueExW, RegSetValueExW,
};
use windows_sys::Win32::UI::WindowsAndMessaging::{
    HWND_BROADCAST, SMTO_ABORTIFHUNG, SendMessageTimeoutW, WM_SETTINGCHANGE,
};

use super::{Change, Outcome, Record, RegistryData};

fn wide(s: &str) -> Vec<u16> {
    s.encode_utf16().chain([0]).collect()
}

/// `HKCU\Environment`, opened for reading and writing, closed on drop.
struct Key(HKEY);

impl Key {
    fn open() -> Result<Key> {
        let mut key: HKEY = ptr::null_mut();
        let sub = wide("Environment");
        // SAFETY: valid NUL-terminated strings and out-pointer.
        let rc = unsafe {
            RegCreateKeyExW(
                HKEY_CURRENT_USER,
                sub.as_ptr(),
                0,
                ptr::null(),
                REG_OPTION_NON_VOLATILE,
                KEY_QUERY_VALUE | KEY_SET_VALUE,
                ptr::null(),
                &mut key,
                ptr::null_mut(),
            )
        };
        if rc != ERROR_SUCCESS {
            bail!("cannot open HKCU\\Environment (error {rc})");
        }
        Ok(Key(key))
    }

    fn get(&self, name: &str) -> Result<Option<RegistryData>> {
        let wname = wide(name);
        let mut kind: REG_VALUE_TYPE = 0;
        let mut size: u32 = 0;
        // SAFETY: a size query with a null buffer.
        let rc = unsafe {
            RegQueryValueExW(
                self.0,
                wname.as_ptr(),
                ptr::null(),
                &mut kind,
                ptr::null_mut(),
                &mut size,
            )
        };
        if rc == ERROR_FILE_NOT_FOUND {
            return Ok(None);
        }
        if rc != ERROR_SUCCESS {
            bail!("cannot read HKCU\\Environment\\{name} (error {rc})");
        }
        let mut buf = vec![0u16; (size as usize).div_ceil(2) + 1];
        let mut bytes = (buf.len() * 2) as u32;
        // SAFETY: the buffer holds `bytes` bytes.
        let rc = unsafe {
            RegQueryValueExW(
                self.0,
                wname.as_ptr(),
                ptr::null(),
                &mut kind,
                buf.as_mut_ptr().cast(),
                &mut bytes,
            )
        };
        if rc != ERROR_SUCCESS {
            bail!("cannot read HKCU\\Environment\\{name} (error {rc})");
        }
        if kind != REG_SZ && kind != REG_EXPAND_SZ {
            bail!("HKCU\\Environment\\{name} is not a string value; left alone");
        }
        let units = &buf[..(bytes as usize / 2)];
        let end = units.iter().position(|&u| u == 0).unwrap_or(units.len());
        Ok(Some(RegistryData {
            value: String::from_utf16_lossy(&units[..end]),
            expand: kind == REG_EXPAND_SZ,
        }))
    }

    fn set(&self, name: &str, data: &RegistryData) -> Result<()> {
        let wname = wide(name);
        let value = wide(&data.value);
        let kind = if data.expand { REG_EXPAND_SZ } else { REG_SZ };
        // SAFETY: `value` is NUL-terminated and its byte length is given.
        let rc = unsafe {
            RegSetValueExW(
                self.0,
                wname.as_ptr(),
                0,
                kind,
                value.as_ptr().cast(),
                (value.len() * 2) as u32,
            )
        };
        if rc != ERROR_SUCCESS {
            bail!("cannot write HKCU\\Environment\\{name} (error {rc})");
        }
        Ok(())
    }

    fn delete(&self, name: &str) -> Result<()> {
        let wname = wide(name);
        // SAFETY: a valid key and NUL-terminated name.
        let rc = unsafe { RegDeleteValueW(self.0, wname.as_ptr()) };
        if rc != ERROR_SUCCESS && rc != ERROR_FILE_NOT_FOUND {
            bail!("cannot remove HKCU\\Environment\\{name} (error {rc})");
        }
        Ok(())
    }
}

impl Drop for Key {
    fn drop(&mut self) {
        // SAFETY: the key was opened by `open`.
        unsafe { RegCloseKey(self.0) };
    }
}

/// The user's own value of `name` in `HKCU\Environment`, if any.
pub fn user_value(name: &str) -> Result<Option<String>> {
    Ok(Key::open()?.get(name)?.map(|d| d.value))
}

/// Tells running programs (Explorer above all) that the environment changed, so the processes
/// they start from now on get the new values. Bounded: a hung window does not hang us.
pub fn broadcast() {
    let what = wide("Environment");
    let mut result = 0usize;
    // SAFETY: a broadcast with a NUL-terminated string parameter and a timeout.
    unsafe {
        SendMessageTimeoutW(
            HWND_BROADCAST,
            WM_SETTINGCHANGE,
            0,
            what.as_ptr() as isize,
            SMTO_ABORTIFHUNG,
            5000,
            &mut result,
        );
    }
}

impl Record {
    /// Sets `HKCU\Environment\name` to `value` (REG_SZ), recording what was there before.
    pub fn set_registry_value(
        &mut self,
        name: &str,
        value: &str,
        dry_run: bool,
    ) -> Result<Outcome> {
        let key = Key::open()?;
        let previous = key.get(name)?;
        let written = RegistryData {
            value: value.to_owned(),
            expand: false,
        };
        if previous.as_ref().is_some_and(|p| p.value == written.value) {
            return Ok(Outcome::Unchanged);
        }
        let outcome = if previous.is_some() {
            Outcome::Updated
        } else {
            Outcome::Added
        };
        if dry_run {
            return Ok(outcome);
        }
        // An earlier setup's record already holds the value from before trustrun.
        let recorded = self.changes.iter_mut().find_map(|c| match c {
            Change::RegistryValue {
                name: n,
                written: w,
                ..
            } if n == name => Some(w),
            _ => None,
        });
        match recorded {
            Some(w) => *w = written.clone(),
            None => self.changes.push(Change::RegistryValue {
                name: name.to_owned(),
                previous,
                written: written.clone(),
            }),
        }
        self.save()?;
        key.set(name, &written)?;
        Ok(outcome)
    }

    /// Puts `dir` first on the user PATH (kept `REG_EXPAND_SZ` so `%USERPROFILE%` entries keep
    /// working), unless it is on it already.
    pub fn add_path_entry(&mut self, dir: &str, dry_run: bool) -> Result<Outcome> {
        let key = Key::open()?;
        let current = key.get("Path")?;
        let entries: Vec<&str> = current
            .as_ref()
            .map(|d| d.value.split(';').filter(|e| !e.is_empty()).collect())
            .unwrap_or_default();
        if entries.iter().any(|e| same_entry(e, dir)) {
            return Ok(Outcome::Unchanged);
        }
        if dry_run {
            return Ok(Outcome::Added);
        }
        self.note(Change::PathEntry {
            entry: dir.to_owned(),
        })?;
        // The old value follows unchanged, so taking the entry off again restores it exactly.
        let value = match current.as_ref().map(|d| d.value.as_str()) {
            None | Some("") => dir.to_owned(),
            Some(old) => format!("{dir};{old}"),
        };
        key.set(
            "Path",
            &RegistryData {
                value,
                expand: current.is_none_or(|d| d.expand),
            },
        )?;
        Ok(Outcome::Added)
    }
}

fn same_entry(a: &str, b: &str) -> bool {
    a.trim_end_matches('\\')
        .eq_ignore_ascii_case(b.trim_end_matches('\\'))
}

/// Puts back what a value was before trustrun, unless it has changed since we wrote it.
pub fn undo_value(
    name: &str,
    previous: Option<&RegistryData>,
    written: &RegistryData,
) -> Result<Option<String>> {
    let key = Key::open()?;
    let now = key.get(name)?;
    if now.as_ref().map(|d| &d.value) != Some(&written.value) {
        return Ok(Some(format!(
            "left       HKCU\\Environment\\{name} (changed since trustrun set it)"
        )));
    }
    match previous {
        Some(p) => {
            key.set(name, p)?;
            Ok(Some(format!("restored   HKCU\\Environment\\{name}")))
        }
        None => {
            key.delete(name)?;
            Ok(Some(format!("removed    HKCU\\Environment\\{name}")))
        }
    }
}

/// Takes `entry` off the user PATH, leaving every other entry as it is.
pub fn undo_path_entry(entry: &str) -> Result<Option<String>> {
    let key = Key::open()?;
    let Some(current) = key.get("Path")? else {
        return Ok(None);
    };
    // First, as we put it: strip exactly what we added. Elsewhere (the user moved it): filter.
    let value = match current.value.strip_prefix(entry) {
        Some("") => String::new(),
        Some(rest) if rest.starts_with(';') => rest[1..].to_owned(),
        _ => current
            .value
            .split(';')
            .filter(|e| !same_entry(e, entry))
            .collect::<Vec<_>>()
            .join(";"),
    };
    if value == current.value {
        return Ok(None);
    }
    if value.is_empty() {
        key.delete("Path")?;
    } else {
        key.set(
            "Path",
            &RegistryData {
                value,
                expand: current.expand,
            },
        )?;
    }
    Ok(Some(format!("removed    {entry} from the user PATH")))
}
