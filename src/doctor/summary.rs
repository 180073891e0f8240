//! The summary (doctor, beside the pipeline): the counts the exit code and the last line of the
//! report follow.

use super::report::{HostReport, Summary};
use super::{EXIT_NOT_VERIFIED, traps, trust};

pub fn summary(
    sources: &trust::SourcesReport,
    environment: &[traps::VarCheck],
    hosts: &[HostReport],
) -> Summary {
    let verified = hosts.iter().filter(|h| h.verified).count();
    let intercepted = hosts.iter().filter(|h| h.intercepted_by.is_some()).count();
    let traps = environment.iter().filter(|v| v.trap).count();
    let strict_failures = sources
        .corporate_roots
        .iter()
        .filter(|r| !r.passes_x509_strict)
        .count();
    let exit_code = if verified == hosts.len() {
        0
    } else {
        EXIT_NOT_VERIFIED
    };
    let mut parts = Vec::new();
    if hosts.is_empty() {
        parts.push("no host checked (name one: trustrun doctor api.openai.com)".to_owned());
    } else {
        parts.push(format!(
            "{verified} of {} host{} verified with trustrun's bundle",
            hosts.len(),
            if hosts.len() == 1 { "" } else { "s" },
        ));
        if intercepted > 0 {
            parts.push(format!("{intercepted} intercepted"));
        }
    }
    parts.push(format!(
        "{} corporate root{} (outside Mozilla's set)",
        sources.corporate_roots.len(),
        if sources.corporate_roots.len() == 1 {
            ""
        } else {
            "s"
        }
    ));
    if strict_failures > 0 {
        parts.push(format!(
            "{strict_failures} fail{} Python 3.13's strict checks",
            if strict_failures == 1 { "s" } else { "" }
        ));
    }
    parts.push(format!(
        "{traps} environment trap{}",
        if traps == 1 { "" } else { "s" }
    ));
    Summary {
        hosts: hosts.len(),
        verified,
        not_verified: hosts.len() - verified,
        intercepted,
        environment_traps: traps,
        corporate_roots: sources.corporate_roots.len(),
        strict_failures,
        exit_code,
        line: parts.join("; "),
    }
}
