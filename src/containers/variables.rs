//! Which variable names a container's settings count as one (launch stage): shared by what the
//! user gives (`inject`) and what an image sets (`image_env`), so both sides agree.

/// The host's proxy settings, passed in as they are (both spellings: curl reads only lower-case
/// `http_proxy`, Go only upper-case on some versions).
pub const PROXY_VARIABLES: &[&str] = &[
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "NO_PROXY",
    "no_proxy",
    "ALL_PROXY",
    "all_proxy",
];

/// Whether two variable names are one setting for a client. A proxy variable counts in either
/// spelling: clients disagree on which one they read first (curl and Python the lower-case one,
/// Go the upper-case one), so a user's (or image's) `https_proxy` next to an injected
/// `HTTPS_PROXY` would send some clients one way and some the other. Every other name is exact.
pub fn same_variable(a: &str, b: &str) -> bool {
    a == b
        || (a.eq_ignore_ascii_case(b) && PROXY_VARIABLES.iter().any(|p| p.eq_ignore_ascii_case(a)))
}
