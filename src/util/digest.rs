//! Hex digests, written one way (util): content-addressed names (bundles, the python support
//! directory, computed at build time), fingerprints and the certificate fingerprints doctor prints.

use sha2::{Digest, Sha256};

/// Lower-case hex, two digits a byte.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The SHA-256 of `bytes` in lower-case hex (64 digits).
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// FNV-1a (64 bits) of `bytes`, continuing from `state` (`FNV_START` to begin): a name that
/// only has to change when the content does, computed by the compiler (`const`), where hashing
/// the embedded Python files with SHA-256 on every start was half of a warm run's instructions.
/// Not for anything an adversary chooses.
pub const fn fnv1a64(mut state: u64, bytes: &[u8]) -> u64 {
    let mut i = 0;
    while i < bytes.len() {
        state ^= bytes[i] as u64;
        state = state.wrapping_mul(0x0000_0100_0000_01b3);
        i += 1;
    }
    state
}

/// The FNV-1a offset basis.
pub const FNV_START: u64 = 0xcbf2_9ce4_8422_2325;

/// `prefix` followed by the low `N - prefix.len()` hex digits of `value`, in a const.
pub const fn hex_name<const N: usize>(prefix: &str, value: u64) -> [u8; N] {
    let digits = b"0123456789abcdef";
    let p = prefix.as_bytes();
    let mut out = [0u8; N];
    let mut i = 0;
    while i < p.len() {
        out[i] = p[i];
        i += 1;
    }
    let mut shift = (N - p.len()) * 4;
    while i < N {
        shift -= 4;
        out[i] = digits[((value >> shift) & 0xf) as usize];
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn sha256_of_nothing() {
        assert_eq!(
            super::sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(super::hex(&[0, 0xab]), "00ab");
    }

    #[test]
    fn fnv_and_its_hex_name() {
        // The published FNV-1a 64 test vectors.
        assert_eq!(super::fnv1a64(super::FNV_START, b""), 0xcbf29ce484222325);
        assert_eq!(super::fnv1a64(super::FNV_START, b"a"), 0xaf63dc4c8601ec8c);
        assert_eq!(&super::hex_name::<6>("p-", 0xabcd), b"p-abcd");
        assert_eq!(&super::hex_name::<6>("p-", 0x1_0000_000f), b"p-000f");
    }
}
