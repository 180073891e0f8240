//! The Java trust store (bundle stage): the bundle's certificates as a PKCS#12 key store a JVM
//! reads without a password, written next to its bundle on the cold path. A JVM reads none of
//! the CA variables; it trusts its own `cacerts` unless `javax.net.ssl.trustStore` names a key
//! store (PKCS#12 or JKS, never PEM), which the plan stage does through `JAVA_TOOL_OPTIONS`.
//!
//! Its name is its bundle's: `bundles/<bundle stem>.p12` next to `bundles/<bundle stem>.pem`.
//! The store is a pure function of the bundle's certificates, so the bundle's content-addressed
//! name names it too. It is one of the bundle's companions (`bundle::COMPANIONS`): written before
//! the bundle's index entry, which records its stamp, so an index entry that leads to a bundle
//! also leads to its store, and the warm path notices a store deleted or changed by hand (one
//! `stat`) and writes it again (a JVM given a missing or damaged trust store trusts nothing, or
//! falls back to `cacerts` silently, depending on its version; it must never be given one).
//! Cleanup removes a store with its bundle.
//!
//! The format, written by hand because the one crate for it (`p12-keystore`) always encrypts and
//! adds a MAC, which a JVM can only read with a password: an unencrypted PFX (RFC 7292) holding
//! one SafeContents of certBags, no MacData. Each bag carries a `friendlyName` (the alias
//! `keytool -list` shows, unique per certificate) and Oracle's trusted-key-usage attribute; a
//! JDK loads a certBag without that attribute as no entry at all.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::sources::Gathered;

/// The store's file name ending.
pub const EXTENSION: &str = "p12";

/// The property that names a JVM's trust store.
pub const TRUST_STORE: &str = "-Djavax.net.ssl.trustStore=";
/// The property that names its type; alone, it can choose the OS's store (`Windows-ROOT`).
pub const TRUST_STORE_TYPE: &str = "-Djavax.net.ssl.trustStoreType=";

/// The JVM options that name a store of this kind at `path`, as written in `JAVA_TOOL_OPTIONS`
/// (`path` already quoted where it needs to be).
pub fn jvm_options(path: &str) -> String {
    format!("{TRUST_STORE}{path} {TRUST_STORE_TYPE}PKCS12")
}

/// Where the store of `bundle` (a bundle of the cache) is, written or not.
pub fn path_for(bundle: &Path) -> PathBuf {
    bundle.with_extension(EXTENSION)
}

/// Writes the store for the bundle made from `gathered` at `file` (`path_for` the bundle) on the
/// cold path, unless it already holds exactly those bytes; atomically and private, as the
/// bundle: a bundle companion's writer (`bundle::COMPANIONS`).
pub fn write(gathered: &Gathered, file: &Path) -> Result<()> {
    let bytes = pkcs12_trust_store(gathered.certs.iter().map(|(der, _)| der.as_ref()));
    if fs::read(file).is_ok_and(|existing| existing == bytes) {
        return Ok(());
    }
    crate::util::fs::write_atomic(file, &bytes).context("cannot write the Java trust store")
}

/// The certificates as a PKCS#12 trust store with no password, no MAC and no encryption:
/// `PFX { 3, data { AuthenticatedSafe { data { SafeContents { bags } } } } }`. Every layer
/// around the bags wraps just what is inside it, so the layers' headers are worked out from the
/// inside and the bags copied once, behind them (the store is as big as the bundle).
pub fn pkcs12_trust_store<'a>(certs: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    let bags: Vec<Vec<u8>> = certs.into_iter().map(cert_bag).collect();
    let mut len: usize = bags.iter().map(Vec::len).sum();
    // Innermost first: what each layer puts before what it wraps (its header, and for a
    // ContentInfo the `data` OID, for the PFX its version).
    let mut heads: Vec<Vec<u8>> = Vec::new();
    let mut wrap = |tag: u8, before: Vec<u8>| {
        let mut head = header(tag, before.len() + len);
        head.extend(before);
        len += head.len();
        heads.push(head);
    };
    wrap(SEQUENCE, vec![]); // SafeContents
    wrap(OCTET_STRING, vec![]); // ContentInfo { data, [0] EXPLICIT OCTET STRING }
    wrap(CONTEXT_0, vec![]);
    wrap(SEQUENCE, oid(ID_DATA));
    wrap(SEQUENCE, vec![]); // AuthenticatedSafe: SEQUENCE OF ContentInfo
    wrap(OCTET_STRING, vec![]); // its one ContentInfo
    wrap(CONTEXT_0, vec![]);
    wrap(SEQUENCE, oid(ID_DATA));
    wrap(SEQUENCE, tlv(INTEGER, &[3])); // PFX { version 3, authSafe }, no MacData
    let mut out = Vec::with_capacity(len);
    for head in heads.iter().rev() {
        out.extend(head);
    }
    for bag in &bags {
        out.extend(bag);
    }
    out
}

/// The alias of a certificate in the store: lower case (a JDK lowers them all) and unique.
pub fn alias(cert: &[u8]) -> String {
    format!("trustrun-{}", &crate::util::digest::sha256_hex(cert)[..16])
}

const INTEGER: u8 = 0x02;
const OCTET_STRING: u8 = 0x04;
const OID: u8 = 0x06;
const BMP_STRING: u8 = 0x1e;
const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;
/// `[0] EXPLICIT`, constructed.
const CONTEXT_0: u8 = 0xa0;

/// PKCS#7 `data`.
const ID_DATA: &[u64] = &[1, 2, 840, 113549, 1, 7, 1];
/// PKCS#12 `certBag`.
const CERT_BAG: &[u64] = &[1, 2, 840, 113549, 1, 12, 10, 1, 3];
/// PKCS#9 `x509Certificate`, the certBag's type.
const X509_CERTIFICATE: &[u64] = &[1, 2, 840, 113549, 1, 9, 22, 1];
/// PKCS#9 `friendlyName`.
const FRIENDLY_NAME: &[u64] = &[1, 2, 840, 113549, 1, 9, 20];
/// Oracle's "trusted key usage": what a JDK trusts a certBag for; without it the bag is skipped.
const ORACLE_TRUSTED_KEY_USAGE: &[u64] = &[2, 16, 840, 1, 113894, 746875, 1, 1];
/// `anyExtendedKeyUsage`: trusted for anything, as an entry of `cacerts` is.
const ANY_EXTENDED_KEY_USAGE: &[u64] = &[2, 5, 29, 37, 0];

/// `SafeBag { certBag, [0] CertBag, SET OF attributes }`.
fn cert_bag(cert: &[u8]) -> Vec<u8> {
    let mut value = oid(X509_CERTIFICATE);
    value.extend(tlv(CONTEXT_0, &tlv(OCTET_STRING, cert)));
    let name: Vec<u8> = alias(cert)
        .encode_utf16()
        .flat_map(|u| u.to_be_bytes())
        .collect();
    let attributes = set_of(vec![
        attribute(FRIENDLY_NAME, tlv(BMP_STRING, &name)),
        attribute(ORACLE_TRUSTED_KEY_USAGE, oid(ANY_EXTENDED_KEY_USAGE)),
    ]);
    let mut bag = oid(CERT_BAG);
    bag.extend(tlv(CONTEXT_0, &tlv(SEQUENCE, &value)));
    bag.extend(attributes);
    tlv(SEQUENCE, &bag)
}

/// `Attribute { type, SET OF value }` with one value.
fn attribute(kind: &[u64], value: Vec<u8>) -> Vec<u8> {
    let mut attr = oid(kind);
    attr.extend(set_of(vec![value]));
    tlv(SEQUENCE, &attr)
}

/// A DER `SET OF`: its elements sorted by their encodings.
fn set_of(mut elements: Vec<Vec<u8>>) -> Vec<u8> {
    elements.sort();
    tlv(SET, &elements.concat())
}

fn oid(arcs: &[u64]) -> Vec<u8> {
    let mut body = Vec::new();
    base128(arcs[0] * 40 + arcs[1], &mut body);
    for &arc in &arcs[2..] {
        base128(arc, &mut body);
    }
    tlv(OID, &body)
}

/// An OID arc: base 128, most significant group first, the high bit on all but the last.
fn base128(mut n: u64, out: &mut Vec<u8>) {
    let mut groups = vec![(n & 0x7f) as u8];
    n >>= 7;
    while n > 0 {
        groups.push((n & 0x7f) as u8 | 0x80);
        n >>= 7;
    }
    out.extend(groups.iter().rev());
}

/// Tag, DER length, content.
fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = header(tag, content.len());
    out.extend(content);
    out
}

/// Tag and DER length: the short form below 128, else the fewest big-endian bytes.
fn header(tag: u8, len: usize) -> Vec<u8> {
    let mut out = vec![tag];
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend(&bytes[skip..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::certs::Der;

    #[test]
    fn lengths_and_oids_are_der() {
        assert_eq!(tlv(OCTET_STRING, &[7; 3]), [4, 3, 7, 7, 7]);
        assert_eq!(&tlv(OCTET_STRING, &[0; 200])[..3], [4, 0x81, 200]);
        assert_eq!(&tlv(OCTET_STRING, &[0; 300])[..4], [4, 0x82, 1, 44]);
        assert_eq!(
            oid(ORACLE_TRUSTED_KEY_USAGE),
            [
                6, 12, 0x60, 0x86, 0x48, 0x01, 0x86, 0xf9, 0x66, 0xad, 0xca, 0x7b, 0x01, 0x01
            ]
        );
        assert_eq!(oid(ANY_EXTENDED_KEY_USAGE), [6, 4, 0x55, 0x1d, 0x25, 0x00]);
        assert_eq!(
            oid(ID_DATA),
            [6, 9, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01]
        );
    }

    #[test]
    fn the_store_holds_each_certificate_with_its_alias_and_no_mac() {
        let a = Der::from(vec![0x30, 3, 1, 2, 3]);
        let b = Der::from(
            vec![0x30, 130]
                .into_iter()
                .chain([9; 130])
                .collect::<Vec<_>>(),
        );
        let store = pkcs12_trust_store([&a[..], &b[..]]);
        let find = |needle: &[u8]| store.windows(needle.len()).any(|w| w == needle);
        assert!(find(&a) && find(&b));
        let bmp = |s: &str| -> Vec<u8> { s.encode_utf16().flat_map(|u| u.to_be_bytes()).collect() };
        assert!(find(&bmp(&alias(&a))) && find(&bmp(&alias(&b))));
        assert_ne!(alias(&a), alias(&b));
        // PFX { version 3, authSafe }: nothing follows the one ContentInfo (no MacData).
        let (pfx, rest) = read_tlv(&store);
        assert!(rest.is_empty());
        let (version, rest) = read_tlv(pfx);
        assert_eq!(version, [3]);
        let (_auth_safe, rest) = read_tlv(rest);
        assert!(rest.is_empty(), "no MacData");
        assert_eq!(
            store,
            nested([&a[..], &b[..]]),
            "the layers as DER nests them"
        );
        // A bundle-sized store: lengths of three bytes in the outer layers.
        let many: Vec<Vec<u8>> = (0..200u8)
            .map(|i| {
                vec![0x30, 0x82, 5, 0xdc, i]
                    .into_iter()
                    .chain([i; 1500])
                    .collect()
            })
            .collect();
        let store = pkcs12_trust_store(many.iter().map(Vec::as_slice));
        assert!(store.len() > 0x10000);
        assert_eq!(store, nested(many.iter().map(Vec::as_slice)));
    }

    /// The store written the plain way, each layer copying what it wraps.
    fn nested<'a>(certs: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
        let content_info = |content: &[u8]| {
            let mut info = oid(ID_DATA);
            info.extend(tlv(CONTEXT_0, &tlv(OCTET_STRING, content)));
            tlv(SEQUENCE, &info)
        };
        let bags: Vec<u8> = certs.into_iter().flat_map(cert_bag).collect();
        let safe_contents = tlv(SEQUENCE, &bags);
        let authenticated_safe = tlv(SEQUENCE, &content_info(&safe_contents));
        let mut pfx = tlv(INTEGER, &[3]);
        pfx.extend(content_info(&authenticated_safe));
        tlv(SEQUENCE, &pfx)
    }

    /// One TLV's content and what follows it.
    fn read_tlv(der: &[u8]) -> (&[u8], &[u8]) {
        let (len, header) = match der[1] {
            n if n < 0x80 => (n as usize, 2),
            n => {
                let k = (n & 0x7f) as usize;
                let len = der[2..2 + k].iter().fold(0, |l, b| l << 8 | *b as usize);
                (len, 2 + k)
            }
        };
        (&der[header..header + len], &der[header + len..])
    }
}
