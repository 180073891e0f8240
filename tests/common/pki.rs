//! The test "corporate" PKI: a root, an inspection intermediate and a leaf for the local server,
//! and roots with lax extensions that Python 3.13's strict checks reject.

use std::fs;
use std::path::PathBuf;
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, CustomExtension, DnType, IsCa,
    KeyIdMethod, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

pub const ROOT_CN: &str = "Trustrun Test Corporate Root CA";
/// The subject of `lax_root_pki()`'s root, which doctor's reports name.
pub const LAX_ROOT_CN: &str = "Trustrun Test Lax Root CA";

/// A corporate PKI whose root's basicConstraints is not critical (and otherwise fine), for
/// localhost: trusted by OpenSSL and rustls, rejected by Python 3.13's VERIFY_X509_STRICT.
pub fn lax_root_pki() -> Pki {
    Pki::lax(LAX_ROOT_CN, &["localhost", "127.0.0.1"], 0x42)
}

/// A root, an intermediate (as Zscaler and friends use) and a leaf for 127.0.0.1 and localhost.
pub struct Pki {
    // Kept alive: the PEM files live in it.
    pub dir: tempfile::TempDir,
    pub root_pem: PathBuf,
    pub root_der: CertificateDer<'static>,
    pub server_config: Arc<rustls::ServerConfig>,
}

impl Pki {
    pub fn corporate() -> Pki {
        Pki::build(ROOT_CN, |_| {})
    }

    /// A root whose basicConstraints is not critical and that has no keyUsage (`key_byte` fills
    /// its key identifier): trusted by OpenSSL and rustls, rejected by Python 3.13's
    /// VERIFY_X509_STRICT.
    pub fn lax(root_cn: &str, names: &[&str], key_byte: u8) -> Pki {
        Pki::build_for(root_cn, names, |params| {
            let key_id = vec![key_byte; 20];
            params.is_ca = IsCa::NoCa;
            params.key_identifier_method = KeyIdMethod::PreSpecified(key_id.clone());
            // BasicConstraints ::= SEQUENCE { cA BOOLEAN TRUE }, not critical.
            let mut bc = CustomExtension::from_oid_content(
                &[2, 5, 29, 19],
                vec![0x30, 0x03, 0x01, 0x01, 0xff],
            );
            bc.set_criticality(false);
            let mut ski_der = vec![0x04, key_id.len() as u8];
            ski_der.extend(&key_id);
            let ski = CustomExtension::from_oid_content(&[2, 5, 29, 14], ski_der);
            params.custom_extensions = vec![bc, ski];
        })
    }

    /// A PKI whose root parameters `tweak` may change (non-critical basicConstraints...).
    pub fn build(root_cn: &str, tweak: impl FnOnce(&mut CertificateParams)) -> Pki {
        Pki::build_for(root_cn, &["localhost", "127.0.0.1"], tweak)
    }

    /// The same with a leaf for `names` (a name only a test proxy resolves, say).
    pub fn build_for(
        root_cn: &str,
        names: &[&str],
        tweak: impl FnOnce(&mut CertificateParams),
    ) -> Pki {
        let mut root_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        root_params
            .distinguished_name
            .push(DnType::CommonName, root_cn);
        root_params
            .distinguished_name
            .push(DnType::OrganizationName, "Trustrun Tests");
        root_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        root_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        tweak(&mut root_params);
        let root = CertifiedIssuer::self_signed(root_params, KeyPair::generate().unwrap()).unwrap();

        let mut inter_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        inter_params
            .distinguished_name
            .push(DnType::CommonName, "Trustrun Test Inspection Intermediate");
        inter_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        inter_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        inter_params.use_authority_key_identifier_extension = true;
        let inter =
            CertifiedIssuer::signed_by(inter_params, KeyPair::generate().unwrap(), &root).unwrap();

        let leaf_key = KeyPair::generate().unwrap();
        let mut leaf_params =
            CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .unwrap();
        leaf_params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        leaf_params.use_authority_key_identifier_extension = true;
        leaf_params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        leaf_params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
        let leaf = leaf_params.signed_by(&leaf_key, &inter).unwrap();

        let dir = tempfile::tempdir().unwrap();
        let root_pem = dir.path().join("corporate-root.pem");
        fs::write(&root_pem, root.pem()).unwrap();

        let chain = vec![leaf.der().clone(), inter.der().clone()];
        Pki {
            dir,
            root_pem,
            root_der: root.der().clone(),
            server_config: server_config(chain, &leaf_key),
        }
    }
}

/// The test server's TLS configuration: `chain` (leaf first) with the leaf's key.
pub fn server_config(
    chain: Vec<CertificateDer<'static>>,
    leaf_key: &KeyPair,
) -> Arc<rustls::ServerConfig> {
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(chain, key)
    .unwrap();
    Arc::new(config)
}
