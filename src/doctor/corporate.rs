//! The corporate roots alone (doctor's judgement, beside the pipeline), for `trustrun bundle
//! --corporate-only`: the same judgement doctor
//! lists under "Roots outside Mozilla's set, added locally", as certificates to export.

use crate::failure::Failure;
use crate::settings::options::TrustOptions;
use crate::sources;
use crate::sources::certs::Der;

use super::{certinfo, trust};

/// The roots the sources trust that neither Mozilla nor the OS distribution ships as public.
pub fn corporate_roots(opts: &TrustOptions) -> Result<Vec<Der>, Failure> {
    let inputs = crate::store::inputs(opts);
    let gathered = sources::gather(&inputs).map_err(|e| Failure::usage(e.to_string()))?;
    let mozilla_keys = trust::keys(&trust::mozilla());
    let corporate = trust::roots_outside_mozilla(&gathered, &mozilla_keys).corporate;
    let mut out: Vec<Der> = Vec::new();
    for root in &corporate {
        let der = gathered
            .certs
            .iter()
            .map(|(d, _)| d)
            .find(|d| certinfo::parse(d).is_some_and(|p| p.info(d).sha256 == root.cert.sha256));
        if let Some(der) = der {
            out.push(der.clone());
        }
    }
    Ok(out)
}
