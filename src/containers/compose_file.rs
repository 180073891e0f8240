//! The extra compose file (launch stage): its shape, its name in the cache, and writing it. For
//! each service, what trustrun adds: the bundle mounted read-only (and the Java trust store
//! beside it, with `containers_java`), the variables, the gateway's name. `service_entry` is the one place that builds a service's part; whatever else trustrun
//! adds to a service (a build's keys, say) goes there.
//!
//! Two rules make the file mean exactly what it says:
//! - compose interpolates every file it reads, ours too: `$` in a value (a proxy password, a
//!   cache path) is written `$$`, which compose reads back as one `$`;
//! - the bundle is a long-form bind with `bind.create_host_path: false` (compose v2; v1's schema
//!   has no such key and its long form never creates one): the short `SRC:DST:ro` form makes
//!   the engine create a root-owned directory at SRC when the file is gone, and mount that.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Result;
use serde_json::{Map, Value, json};

use super::compose::Service;
use super::inject::{GATEWAY_ADD_HOST, Injection};

/// Which compose reads the file: v1's schema (`docker-compose` 1.x) is stricter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    V1,
    V2,
}

/// Text compose reads back as `text` after interpolation.
pub fn escaped(text: &str) -> String {
    text.replace('$', "$$")
}

/// The public copies the services' mounts bind (`store::handoff`).
#[derive(Debug, Clone, Copy)]
pub struct Handed<'a> {
    pub bundle: &'a Path,
    /// The Java trust store's, when some service gets it (`containers_java`).
    pub java_store: Option<&'a Path>,
}

/// A read-only bind of `source` at `target`, in the long form (see above).
fn bind(source: &Path, target: &str, dialect: Dialect) -> Value {
    let mut volume = json!({
        "type": "bind",
        "source": escaped(&source.to_string_lossy()),
        "target": target,
        "read_only": true,
    });
    if dialect == Dialect::V2 {
        volume["bind"] = json!({"create_host_path": false});
    }
    volume
}

/// One service's part of the extra file, or `None` when trustrun adds nothing to it.
pub fn service_entry(
    inj: &Injection,
    handed: Handed,
    dialect: Dialect,
) -> Option<Map<String, Value>> {
    let mut entry = Map::new();
    let mut volumes = Vec::new();
    if let Some(target) = inj.bundle.mount() {
        volumes.push(bind(handed.bundle, target, dialect));
    }
    // The caller takes the store out of an injection whose copy could not be made.
    if let (Some(target), Some(store)) = (inj.java_store, handed.java_store) {
        volumes.push(bind(store, target, dialect));
    }
    if !volumes.is_empty() {
        entry.insert("volumes".into(), Value::Array(volumes));
    }
    if !inj.env.is_empty() {
        let env: Map<String, Value> = inj
            .env
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(escaped(v))))
            .collect();
        entry.insert("environment".into(), Value::Object(env));
    }
    if inj.add_gateway_host {
        entry.insert("extra_hosts".into(), json!([GATEWAY_ADD_HOST]));
    }
    (!entry.is_empty()).then_some(entry)
}

/// The whole file: the version of the user's (v1 wants them equal), each service's entry, and
/// the `build:` part of each service compose builds (`build::compose`). JSON is YAML, so compose
/// reads it as it is.
pub fn document(
    version: Option<&str>,
    per_service: &[(&Service, Injection)],
    builds: &[(String, Map<String, Value>)],
    handed: Option<Handed>,
    dialect: Dialect,
) -> Value {
    let mut services: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
    if let Some(handed) = handed {
        for (svc, inj) in per_service {
            if let Some(e) = service_entry(inj, handed, dialect) {
                services.insert(svc.name.clone(), e);
            }
        }
    }
    for (name, build) in builds {
        services
            .entry(name.clone())
            .or_default()
            .extend(build.clone());
    }
    let mut doc = Map::new();
    if let Some(v) = version {
        doc.insert("version".into(), Value::String(v.to_owned()));
    }
    doc.insert("services".into(), json!(services));
    Value::Object(doc)
}

/// Writes `doc` under the cache at `root`, named by its content (rewritten only when it is not
/// already there as it should be), and returns its path.
pub fn write(root: &Path, doc: &Value) -> Result<PathBuf> {
    let content = serde_json::to_vec_pretty(doc)?;
    let digest = crate::util::digest::sha256_hex(&content);
    let file = crate::store::layout::compose_file(root, &digest[..16]);
    if std::fs::read(&file).ok().as_deref() != Some(content.as_slice()) {
        crate::util::fs::write_atomic(&file, &content)?;
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::containers::bundle_path::BUNDLE_TARGET;
    use crate::containers::bundle_path::BundlePath;

    #[test]
    fn the_extra_file_mounts_and_sets_per_service() {
        let svc = Service {
            name: "web".into(),
            ..Default::default()
        };
        let inj = Injection {
            env: vec![
                ("SSL_CERT_FILE".into(), BUNDLE_TARGET.into()),
                ("HTTPS_PROXY".into(), "http://me:pa$word@proxy:1".into()),
            ],
            add_gateway_host: true,
            ..Default::default()
        };
        let build = json!({"build": {"dockerfile": "/c/df/Dockerfile"}});
        let build = build.as_object().unwrap().clone();
        let doc = document(
            Some("3.9"),
            &[(&svc, inj)],
            &[("web".to_owned(), build)],
            Some(Handed {
                bundle: Path::new("/c$HOME/ca.pem"),
                java_store: None,
            }),
            Dialect::V2,
        );
        assert_eq!(
            doc,
            json!({"version": "3.9", "services": {"web": {
                "volumes": [{"type": "bind", "source": "/c$$HOME/ca.pem",
                    "target": "/etc/trustrun/ca-bundle.pem", "read_only": true,
                    "bind": {"create_host_path": false}}],
                "environment": {"SSL_CERT_FILE": "/etc/trustrun/ca-bundle.pem",
                    "HTTPS_PROXY": "http://me:pa$$word@proxy:1"},
                "extra_hosts": ["host.docker.internal:host-gateway"],
                "build": {"dockerfile": "/c/df/Dockerfile"}}}})
        );
    }

    fn handed(store: Option<&'static str>) -> Handed<'static> {
        Handed {
            bundle: Path::new("/c/ca.pem"),
            java_store: store.map(Path::new),
        }
    }

    #[test]
    fn the_java_store_is_a_second_read_only_bind_beside_the_bundle() {
        let inj = Injection {
            java_store: Some("/etc/trustrun/java-truststore.p12"),
            env: vec![("JAVA_TOOL_OPTIONS".into(), "-Dx=1".into())],
            ..Default::default()
        };
        let entry = service_entry(&inj, handed(Some("/c/ca.p12")), Dialect::V2).unwrap();
        assert_eq!(
            entry["volumes"],
            json!([
                {"type": "bind", "source": "/c/ca.pem", "target": "/etc/trustrun/ca-bundle.pem",
                    "read_only": true, "bind": {"create_host_path": false}},
                {"type": "bind", "source": "/c/ca.p12",
                    "target": "/etc/trustrun/java-truststore.p12",
                    "read_only": true, "bind": {"create_host_path": false}}
            ])
        );
        // Java off: the injection names no store, so the file gets none.
        let entry = service_entry(
            &Injection::default(),
            handed(Some("/c/ca.p12")),
            Dialect::V2,
        );
        assert_eq!(entry.unwrap()["volumes"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn v1_gets_the_long_form_without_the_key_its_schema_lacks() {
        let inj = Injection::default();
        let entry = service_entry(&inj, handed(None), Dialect::V1).unwrap();
        assert_eq!(
            entry["volumes"],
            json!([{"type": "bind", "source": "/c/ca.pem",
                "target": "/etc/trustrun/ca-bundle.pem", "read_only": true}])
        );
        // The user's own file at the path, or no path left: no mount.
        let users = Injection {
            bundle: BundlePath::Users(BUNDLE_TARGET),
            ..Default::default()
        };
        assert_eq!(
            service_entry(&users, handed(Some("/c/ca.p12")), Dialect::V1),
            None
        );
    }
}
