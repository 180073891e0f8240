//! What doctor concludes (doctor, beside the pipeline), the first line of its report: each
//! checked host's verdict, whether setup makes that last here, and, with no host checked, what a
//! look at this machine alone could not tell.

use super::HostReport;
use super::traps::VarCheck;
use crate::setup::status::Status;
use crate::util::text::count;

/// The host name example every "name a host" line uses.
const EXAMPLE: &str = "`trustrun doctor api.openai.com`";

pub fn verdict(hosts: &[HostReport], environment: &[VarCheck], setup: &Status) -> String {
    let traps = environment.iter().filter(|v| v.trap).count();
    if hosts.is_empty() {
        let found = if traps == 0 {
            "nothing wrong found in the trust sources and CA variables".to_owned()
        } else {
            format!("{} in the CA variables", count(traps, "trap"))
        };
        return format!(
            "this machine only: {found}; not checked: whether your hosts are intercepted and \
             whether plain Python (certifi) trusts them (name one: {EXAMPLE})"
        );
    }
    let mut parts: Vec<String> = hosts
        .iter()
        .map(|h| format!("{}: {}", h.target, h.line))
        .collect();
    let intercepted = hosts
        .iter()
        .any(|h| h.intercepted_by.is_some() && h.verified);
    if intercepted && setup.working_here() {
        parts.push("setup is in place and in use here, so programs started here trust it".into());
    }
    if traps > 0 {
        parts.push(format!("{} in the CA variables", count(traps, "trap")));
    }
    parts.join("; ")
}

/// The line under the verdict: the first fix, or why there is none.
pub fn next(fixes: &[String], hosts: &[HostReport]) -> String {
    match fixes.first() {
        Some(fix) => fix.clone(),
        None if hosts.is_empty() => format!(
            "nothing to fix on this machine; to know whether a host is intercepted, name it: \
             {EXAMPLE}"
        ),
        None if hosts.iter().any(|h| h.error.is_some()) => {
            "nothing doctor can name: a host could not be checked (its line says why)".to_owned()
        }
        None => "nothing to fix".to_owned(),
    }
}
