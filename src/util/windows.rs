//! The Win32 calls trustrun makes, each behind a safe function or type of its own: every
//! `unsafe` block of the Windows build is here, with the reason it is sound. The registry (the
//! user environment, the root stores' write times, Microsoft's root list), the certificate
//! stores and trust lists, the console's Ctrl-C and the job that ties a child to us.

use std::io;
use std::os::windows::io::AsRawHandle;
use std::process::Child;
use std::ptr::{null, null_mut};

use windows_sys::Win32::Foundation::{
    CloseHandle, ERROR_FILE_NOT_FOUND, FILETIME, HANDLE, INVALID_HANDLE_VALUE,
};
use windows_sys::Win32::Security::Cryptography::{
    CALG_SHA1, CERT_STORE_OPEN_EXISTING_FLAG, CERT_STORE_PROV_SYSTEM_W, CERT_STORE_READONLY_FLAG,
    CERT_SYSTEM_STORE_LOCATION_SHIFT, CertCloseStore, CertCreateCTLContext,
    CertEnumCertificatesInStore, CertFreeCTLContext, CertOpenStore, CryptHashCertificate,
    PKCS_7_ASN_ENCODING, X509_ASN_ENCODING,
};
use windows_sys::Win32::System::Console::SetConsoleCtrlHandler;
use windows_sys::Win32::System::Diagnostics::ToolHelp::{
    CreateToolhelp32Snapshot, PROCESSENTRY32W, Process32FirstW, Process32NextW, TH32CS_SNAPPROCESS,
};
use windows_sys::Win32::System::JobObjects::{
    AssignProcessToJobObject, CreateJobObjectW, JOB_OBJECT_LIMIT_BREAKAWAY_OK,
    JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE, JOBOBJECT_EXTENDED_LIMIT_INFORMATION,
    JobObjectExtendedLimitInformation, SetInformationJobObject,
};
use windows_sys::Win32::System::Registry::{
    HKEY, KEY_READ, KEY_WRITE, REG_EXPAND_SZ, REG_OPTION_NON_VOLATILE, REG_SZ, RRF_RT_REG_BINARY,
    RegCloseKey, RegCreateKeyExW, RegDeleteValueW, RegGetValueW, RegOpenKeyExW, RegQueryInfoKeyW,
    RegQueryValueExW, RegSetValueExW,
};
use windows_sys::Win32::UI::WindowsAndMessaging::{
    HWND_BROADCAST, SMTO_ABORTIFHUNG, SendMessageTimeoutW, WM_SETTINGCHANGE,
};

pub use windows_sys::Win32::System::Registry::{HKEY_CURRENT_USER, HKEY_LOCAL_MACHINE};

/// A string as Win32 takes it: UTF-16, NUL-terminated.
fn wide(s: &str) -> Vec<u16> {
    s.encode_utf16().chain(std::iter::once(0)).collect()
}

/// A registry status as an error (`ERROR_SUCCESS` is 0).
fn status(code: u32) -> io::Result<()> {
    match code {
        0 => Ok(()),
        code => Err(io::Error::from_raw_os_error(code as i32)),
    }
}

/// An open registry key, closed when dropped.
pub struct RegKey(HKEY);

impl Drop for RegKey {
    fn drop(&mut self) {
        // SAFETY: the handle was opened by RegOpenKeyExW or RegCreateKeyExW and is closed once.
        unsafe { RegCloseKey(self.0) };
    }
}

/// A string value of the registry; `expand` for `REG_EXPAND_SZ` (its `%VAR%` references are
/// expanded when read), else `REG_SZ`.
pub struct RegString {
    pub text: String,
    pub expand: bool,
}

impl RegKey {
    /// The key `path` under `root`, to read; `None` when it does not exist or may not be read.
    pub fn open(root: HKEY, path: &str) -> Option<RegKey> {
        let name = wide(path);
        let mut key = null_mut();
        // SAFETY: `name` is NUL-terminated and outlives the call; `key` receives the handle.
        let code = unsafe { RegOpenKeyExW(root, name.as_ptr(), 0, KEY_READ, &mut key) };
        (code == 0).then_some(RegKey(key))
    }

    /// The key `path` under `HKEY_CURRENT_USER`, made when missing, to read (and with `write`,
    /// to write).
    pub fn create_current_user(path: &str, write: bool) -> io::Result<RegKey> {
        let name = wide(path);
        let access = if write {
            KEY_READ | KEY_WRITE
        } else {
            KEY_READ
        };
        let mut key = null_mut();
        // SAFETY: `name` is NUL-terminated and outlives the call; no class, default security;
        // `key` receives the handle; the disposition is not asked for.
        let code = unsafe {
            RegCreateKeyExW(
                HKEY_CURRENT_USER,
                name.as_ptr(),
                0,
                null(),
                REG_OPTION_NON_VOLATILE,
                access,
                null(),
                &mut key,
                null_mut(),
            )
        };
        status(code).map(|()| RegKey(key))
    }

    /// When the key was last written (a FILETIME as one number; 0 when it cannot be told).
    pub fn last_write(&self) -> u64 {
        let mut written = FILETIME {
            dwLowDateTime: 0,
            dwHighDateTime: 0,
        };
        // SAFETY: every out-pointer but the last is null (not asked for); `written` is a live
        // FILETIME the call fills in.
        unsafe {
            RegQueryInfoKeyW(
                self.0,
                null_mut(),
                null_mut(),
                null(),
                null_mut(),
                null_mut(),
                null_mut(),
                null_mut(),
                null_mut(),
                null_mut(),
                null_mut(),
                &mut written,
            );
        }
        (u64::from(written.dwHighDateTime) << 32) | u64::from(written.dwLowDateTime)
    }

    /// The string value `name`; `None` when there is none. A value of another type is an
    /// `InvalidData` error.
    pub fn string(&self, name: &str) -> io::Result<Option<RegString>> {
        let wname = wide(name);
        let mut kind = 0u32;
        let mut size = 0u32;
        // SAFETY: asks for the type and size only (no data buffer); `wname` is NUL-terminated.
        let mut code = unsafe {
            RegQueryValueExW(
                self.0,
                wname.as_ptr(),
                null(),
                &mut kind,
                null_mut(),
                &mut size,
            )
        };
        let mut buf = vec![0u16; (size as usize).div_ceil(2) + 1];
        if code == 0 {
            size = (buf.len() * 2) as u32;
            // SAFETY: `buf` holds `size` bytes, which the call writes at most.
            code = unsafe {
                RegQueryValueExW(
                    self.0,
                    wname.as_ptr(),
                    null(),
                    &mut kind,
                    buf.as_mut_ptr().cast(),
                    &mut size,
                )
            };
        }
        if code == ERROR_FILE_NOT_FOUND {
            return Ok(None);
        }
        status(code)?;
        if kind != REG_SZ && kind != REG_EXPAND_SZ {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "not a string value",
            ));
        }
        buf.truncate(size as usize / 2);
        while buf.last() == Some(&0) {
            buf.pop();
        }
        Ok(Some(RegString {
            text: String::from_utf16_lossy(&buf),
            expand: kind == REG_EXPAND_SZ,
        }))
    }

    /// Sets the string value `name`.
    pub fn set_string(&self, name: &str, value: &RegString) -> io::Result<()> {
        let data = wide(&value.text);
        let kind = if value.expand { REG_EXPAND_SZ } else { REG_SZ };
        let wname = wide(name);
        // SAFETY: `data` is the NUL-terminated UTF-16 text, `data.len() * 2` bytes long, and
        // outlives the call, as does `wname`.
        let code = unsafe {
            RegSetValueExW(
                self.0,
                wname.as_ptr(),
                0,
                kind,
                data.as_ptr().cast(),
                (data.len() * 2) as u32,
            )
        };
        status(code)
    }

    /// Deletes the value `name`; one that is not there is no error.
    pub fn delete_value(&self, name: &str) -> io::Result<()> {
        let wname = wide(name);
        // SAFETY: `wname` is NUL-terminated and outlives the call.
        let code = unsafe { RegDeleteValueW(self.0, wname.as_ptr()) };
        if code == ERROR_FILE_NOT_FOUND {
            return Ok(());
        }
        status(code)
    }
}

/// The binary value `value` of the key `path` under `root`, whole; `None` when there is none.
pub fn binary_value(root: HKEY, path: &str, value: &str) -> Option<Vec<u8>> {
    let key = wide(path);
    let value = wide(value);
    let read = |buf: *mut core::ffi::c_void, size: &mut u32| {
        // SAFETY: `key` and `value` are NUL-terminated; `buf` is null (asking the size) or
        // points at `size` writable bytes.
        unsafe {
            RegGetValueW(
                root,
                key.as_ptr(),
                value.as_ptr(),
                RRF_RT_REG_BINARY,
                null_mut(),
                buf,
                size,
            )
        }
    };
    let mut size = 0u32;
    if read(null_mut(), &mut size) != 0 || size == 0 {
        return None;
    }
    let mut data = vec![0u8; size as usize];
    if read(data.as_mut_ptr().cast(), &mut size) != 0 {
        return None;
    }
    data.truncate(size as usize);
    Some(data)
}

/// Tells the top-level windows that the user environment changed, as the System Properties
/// dialog does: Explorer rereads it, so programs started from it afterwards see the change. A
/// window that does not answer within a second is skipped, not waited for.
pub fn announce_environment_change() {
    let what = wide("Environment");
    // SAFETY: `what` is a NUL-terminated string that outlives the call (SendMessageTimeoutW
    // returns only once every window answered or timed out); the result is not asked for.
    unsafe {
        SendMessageTimeoutW(
            HWND_BROADCAST,
            WM_SETTINGCHANGE,
            0,
            what.as_ptr() as isize,
            SMTO_ABORTIFHUNG,
            1000,
            null_mut(),
        );
    }
}

/// The certificates (DER) of the system store `name` at the store location `location` (a
/// `CERT_SYSTEM_STORE_*` id), read-only; none when the store does not exist.
pub fn system_store_certificates(location: u32, name: &str) -> Vec<Vec<u8>> {
    let wname = wide(name);
    let flags = (location << CERT_SYSTEM_STORE_LOCATION_SHIFT)
        | CERT_STORE_READONLY_FLAG
        | CERT_STORE_OPEN_EXISTING_FLAG;
    let mut out = Vec::new();
    // SAFETY: the system provider takes the store's name as a NUL-terminated UTF-16 string,
    // which outlives the call.
    let store =
        unsafe { CertOpenStore(CERT_STORE_PROV_SYSTEM_W, 0, 0, flags, wname.as_ptr().cast()) };
    if store.is_null() {
        return out;
    }
    // SAFETY: `store` is open; each context the enumeration returns is valid until it is passed
    // back to the next call, and its encoded bytes are copied out before that.
    unsafe {
        let mut cert = CertEnumCertificatesInStore(store, null());
        while !cert.is_null() {
            let c = &*cert;
            let bytes = std::slice::from_raw_parts(c.pbCertEncoded, c.cbCertEncoded as usize);
            out.push(bytes.to_vec());
            cert = CertEnumCertificatesInStore(store, cert);
        }
        CertCloseStore(store, 0);
    }
    out
}

/// The subject identifiers a certificate trust list (an encoded CTL, as Windows caches
/// Microsoft's `authroot` list) names; `None` when it does not decode.
pub fn trust_list_subjects(encoded: &[u8]) -> Option<Vec<Vec<u8>>> {
    // SAFETY: `encoded` is read for its length only during the call; the context returned is
    // owned here and freed below.
    let ctl = unsafe {
        CertCreateCTLContext(
            X509_ASN_ENCODING | PKCS_7_ASN_ENCODING,
            encoded.as_ptr(),
            encoded.len() as u32,
        )
    };
    if ctl.is_null() {
        return None;
    }
    // SAFETY: a CTL context from CertCreateCTLContext points at its decoded info, whose entry
    // array and each entry's identifier are valid until the context is freed; they are copied
    // out before that.
    unsafe {
        let info = &*(*ctl).pCtlInfo;
        let entries = std::slice::from_raw_parts(info.rgCTLEntry, info.cCTLEntry as usize);
        let list = entries
            .iter()
            .map(|e| {
                let id = &e.SubjectIdentifier;
                std::slice::from_raw_parts(id.pbData, id.cbData as usize).to_vec()
            })
            .collect();
        CertFreeCTLContext(ctl);
        Some(list)
    }
}

/// A certificate's SHA-1 thumbprint (empty when Windows cannot compute it).
pub fn sha1_thumbprint(der: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; 20];
    let mut len = 20u32;
    // SAFETY: `der` is read for its length; `out` has the 20 bytes `len` says it has.
    let ok = unsafe {
        CryptHashCertificate(
            0,
            CALG_SHA1,
            0,
            der.as_ptr(),
            der.len() as u32,
            out.as_mut_ptr(),
            &mut len,
        )
    };
    if ok == 0 {
        out.clear();
    }
    out
}

/// The executable file name of this process's parent (`cmd.exe`, `powershell.exe`), from a
/// snapshot of the process list: how a message tells which shell it is printed for. `None` when
/// Windows does not say (the parent is gone).
pub fn parent_process_name() -> Option<String> {
    let me = std::process::id();
    // SAFETY: a snapshot of the process list; no process id is needed for TH32CS_SNAPPROCESS.
    let snapshot = unsafe { CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0) };
    if snapshot == INVALID_HANDLE_VALUE {
        return None;
    }
    let mut processes: Vec<(u32, u32, String)> = Vec::new();
    let mut entry = PROCESSENTRY32W {
        dwSize: std::mem::size_of::<PROCESSENTRY32W>() as u32,
        ..Default::default()
    };
    // SAFETY: `snapshot` is open until closed below; `entry` is a PROCESSENTRY32W whose dwSize
    // says so, written by each call and copied out before the next.
    unsafe {
        let mut more = Process32FirstW(snapshot, &mut entry) != 0;
        while more {
            let name = &entry.szExeFile;
            let len = name.iter().position(|&c| c == 0).unwrap_or(name.len());
            processes.push((
                entry.th32ProcessID,
                entry.th32ParentProcessID,
                String::from_utf16_lossy(&name[..len]),
            ));
            more = Process32NextW(snapshot, &mut entry) != 0;
        }
        CloseHandle(snapshot);
    }
    let parent = processes.iter().find(|(pid, _, _)| *pid == me)?.1;
    processes
        .into_iter()
        .find(|(pid, _, _)| *pid == parent)
        .map(|(_, _, name)| name)
}

/// Lets Ctrl-C and Ctrl-Break reach the child alone: trustrun handles (ignores) them and waits
/// for the child to decide what they mean. Passing no handler instead would set the console's
/// "ignore Ctrl-C" flag, which the child would inherit.
pub fn leave_ctrl_c_to_the_child() {
    // The signature SetConsoleCtrlHandler takes (SAFETY: calling it is sound: it does nothing).
    unsafe extern "system" fn wait_for_child(_ctrl_type: u32) -> i32 {
        1
    }
    // SAFETY: the handler is a plain function that touches nothing, valid for the life of the
    // process.
    unsafe {
        SetConsoleCtrlHandler(Some(wait_for_child), 1);
    }
}

/// A Job Object that ties a child's life to ours (as uv's launchers do): an IDE or CI runner
/// that kills trustrun.exe kills the Python under it too, instead of leaving it running. The
/// job is closed, and the child and everything it started killed, when this is dropped.
pub struct Job(HANDLE);

impl Drop for Job {
    fn drop(&mut self) {
        // SAFETY: the handle came from CreateJobObjectW and is closed once.
        unsafe { CloseHandle(self.0) };
    }
}

impl Job {
    /// Puts `child` in a new kill-on-close job. `None` when Windows refuses (the child then runs
    /// as before, untied): the program still runs, which matters more.
    pub fn kill_on_close(child: &Child) -> Option<Job> {
        // SAFETY: no security attributes, no name; the handle is owned by the Job from here.
        let handle = unsafe { CreateJobObjectW(null(), null()) };
        if handle.is_null() {
            return None;
        }
        let job = Job(handle);
        // SAFETY: an all-zero limit information is a valid value of the plain C struct.
        let mut info: JOBOBJECT_EXTENDED_LIMIT_INFORMATION = unsafe { std::mem::zeroed() };
        // BREAKAWAY_OK: a program that starts a process meant to outlive it (a daemon) may still
        // ask for that explicitly.
        info.BasicLimitInformation.LimitFlags =
            JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE | JOB_OBJECT_LIMIT_BREAKAWAY_OK;
        // SAFETY: `info` is the struct the information class names, with its size; the child's
        // handle is alive while `child` is borrowed.
        let tied = unsafe {
            SetInformationJobObject(
                job.0,
                JobObjectExtendedLimitInformation,
                (&raw const info).cast(),
                std::mem::size_of_val(&info) as u32,
            ) != 0
                && AssignProcessToJobObject(job.0, child.as_raw_handle() as HANDLE) != 0
        };
        tied.then_some(job)
    }
}
