//! `HKCU\Environment`, the user's persistent environment on Windows, as a `Store`: read, set and
//! delete a value, and tell running programs it changed.

use anyhow::{Context, Result};

use super::{Store, Value};

/// The current user's environment in the registry, `HKCU\Environment`.
pub struct Registry;

impl Registry {
    const KEY: &str = "Environment";

    fn wide(s: &str) -> Vec<u16> {
        s.encode_utf16().chain(std::iter::once(0)).collect()
    }

    fn open(write: bool) -> Result<windows_sys::Win32::System::Registry::HKEY> {
        use windows_sys::Win32::System::Registry::{
            HKEY_CURRENT_USER, KEY_READ, KEY_WRITE, REG_OPTION_NON_VOLATILE, RegCreateKeyExW,
        };
        let mut key = std::ptr::null_mut();
        let access = if write {
            KEY_READ | KEY_WRITE
        } else {
            KEY_READ
        };
        let status = unsafe {
            RegCreateKeyExW(
                HKEY_CURRENT_USER,
                Self::wide(Self::KEY).as_ptr(),
                0,
                std::ptr::null(),
                REG_OPTION_NON_VOLATILE,
                access,
                std::ptr::null(),
                &mut key,
                std::ptr::null_mut(),
            )
        };
        if status != 0 {
            return Err(std::io::Error::from_raw_os_error(status as i32))
                .context("cannot open HKCU\\Environment");
        }
        Ok(key)
    }
}

impl Store for Registry {
    fn get(&self, name: &str) -> Result<Option<Value>> {
        use windows_sys::Win32::Foundation::ERROR_FILE_NOT_FOUND;
        use windows_sys::Win32::System::Registry::{
            REG_EXPAND_SZ, REG_SZ, RegCloseKey, RegQueryValueExW,
        };
        let key = Self::open(false)?;
        let wname = Self::wide(name);
        let mut kind = 0u32;
        let mut size = 0u32;
        let mut status = unsafe {
            RegQueryValueExW(
                key,
                wname.as_ptr(),
                std::ptr::null(),
                &mut kind,
                std::ptr::null_mut(),
                &mut size,
            )
        };
        let mut buf = vec![0u16; (size as usize).div_ceil(2) + 1];
        if status == 0 {
            size = (buf.len() * 2) as u32;
            status = unsafe {
                RegQueryValueExW(
                    key,
                    wname.as_ptr(),
                    std::ptr::null(),
                    &mut kind,
                    buf.as_mut_ptr().cast(),
                    &mut size,
                )
            };
        }
        unsafe { RegCloseKey(key) };
        if status == ERROR_FILE_NOT_FOUND {
            return Ok(None);
        }
        if status != 0 {
            return Err(std::io::Error::from_raw_os_error(status as i32))
                .with_context(|| format!("cannot read HKCU\\Environment\\{name}"));
        }
        if kind != REG_SZ && kind != REG_EXPAND_SZ {
            anyhow::bail!("HKCU\\Environment\\{name} is not a string value; left alone");
        }
        buf.truncate(size as usize / 2);
        while buf.last() == Some(&0) {
            buf.pop();
        }
        Ok(Some(Value {
            text: String::from_utf16_lossy(&buf),
            expand: kind == REG_EXPAND_SZ,
        }))
    }

    fn set(&mut self, name: &str, value: &Value) -> Result<()> {
        use windows_sys::Win32::System::Registry::{
            REG_EXPAND_SZ, REG_SZ, RegCloseKey, RegSetValueExW,
        };
        let key = Self::open(true)?;
        let data = Self::wide(&value.text);
        let kind = if value.expand { REG_EXPAND_SZ } else { REG_SZ };
        let status = unsafe {
            RegSetValueExW(
                key,
                Self::wide(name).as_ptr(),
                0,
                kind,
                data.as_ptr().cast(),
                (data.len() * 2) as u32,
            )
        };
        unsafe { RegCloseKey(key) };
        if status != 0 {
            return Err(std::io::Error::from_raw_os_error(status as i32))
                .with_context(|| format!("cannot write HKCU\\Environment\\{name}"));
        }
        Ok(())
    }

    fn remove(&mut self, name: &str) -> Result<()> {
        use windows_sys::Win32::Foundation::ERROR_FILE_NOT_FOUND;
        use windows_sys::Win32::System::Registry::{RegCloseKey, RegDeleteValueW};
        let key = Self::open(true)?;
        let status = unsafe { RegDeleteValueW(key, Self::wide(name).as_ptr()) };
        unsafe { RegCloseKey(key) };
        if status != 0 && status != ERROR_FILE_NOT_FOUND {
            return Err(std::io::Error::from_raw_os_error(status as i32))
                .with_context(|| format!("cannot delete HKCU\\Environment\\{name}"));
        }
        Ok(())
    }

    fn announce(&mut self) {
        use windows_sys::Win32::UI::WindowsAndMessaging::{
            HWND_BROADCAST, SMTO_ABORTIFHUNG, SendMessageTimeoutW, WM_SETTINGCHANGE,
        };
        // What the System Properties dialog sends: Explorer rereads the environment, so programs
        // started from it afterwards see the change. A window that does not answer in a second
        // is skipped, not waited for.
        let what = Self::wide("Environment");
        unsafe {
            SendMessageTimeoutW(
                HWND_BROADCAST,
                WM_SETTINGCHANGE,
                0,
                what.as_ptr() as isize,
                SMTO_ABORTIFHUNG,
                1000,
                std::ptr::null_mut(),
            );
        }
    }
}
