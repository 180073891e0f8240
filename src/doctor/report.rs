//! The report's shape (doctor, beside the pipeline; what `--json` prints and render reads): one
//! part per thing doctor looks at, the hosts' verdicts, and the summary the exit code follows.

use serde::Serialize;

use super::certinfo::CertInfo;
use super::probe::ProbeError;
use super::proxy::Route;
use super::verdict::Verdict;
use super::{containers, pythons, traps, trust};

#[derive(Serialize)]
pub struct Report {
    pub trustrun_version: &'static str,
    /// What doctor concludes, first thing in the text: the hosts' verdicts, or what a look at
    /// this machine alone could not tell.
    pub verdict: String,
    /// The one step to take first (`advice[0]`), or none when nothing needs doing.
    pub next: Option<String>,
    pub sources: trust::SourcesReport,
    pub environment: Vec<traps::VarCheck>,
    pub pythons: Vec<pythons::PythonInfo>,
    /// The runtimes on PATH that ignore the OS store, and trustrun's cover for each.
    pub runtimes: Vec<super::runtimes::RuntimeInfo>,
    pub containers: containers::ContainersReport,
    pub hosts: Vec<HostReport>,
    pub advice: Vec<String>,
    /// Worth knowing, nothing to do now (a root failing strict checks with no Python 3.13 here).
    pub notes: Vec<String>,
    /// `trustrun setup`: in place, fresh, shadowed (see `setup::status`).
    pub setup: String,
    pub summary: Summary,
}

#[derive(Serialize)]
pub struct HostReport {
    pub target: String,
    pub host: String,
    pub port: u16,
    pub route: Route,
    /// The chain the host presented, leaf first.
    pub chain: Vec<CertInfo>,
    /// The root the chain leads to, when one of the trust sets (or the chain itself) holds it.
    pub root: Option<RootFound>,
    /// The root's subject when the chain leads to a root outside Mozilla's set.
    pub intercepted_by: Option<String>,
    pub verdicts: Vec<Verdict>,
    /// The verdict of trustrun's bundle, the one the exit code follows.
    pub verified: bool,
    pub tls_version: Option<String>,
    /// What Python 3.13's VERIFY_X509_STRICT would reject in this chain, by certificate.
    pub x509_strict_problems: Vec<String>,
    pub error: Option<ProbeError>,
    /// The one-line verdict the text report shows.
    pub line: String,
}

#[derive(Serialize)]
pub struct RootFound {
    #[serde(flatten)]
    pub cert: CertInfo,
    pub in_mozilla: bool,
    pub in_os_store: bool,
    pub in_bundle: bool,
}

#[derive(Serialize)]
pub struct Summary {
    pub hosts: usize,
    pub verified: usize,
    pub not_verified: usize,
    pub intercepted: usize,
    pub environment_traps: usize,
    pub corporate_roots: usize,
    pub strict_failures: usize,
    pub exit_code: u8,
    pub line: String,
}
