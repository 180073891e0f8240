//! Every environment variable trustrun reads or sets, named once (settings; every stage names
//! variables from here).

/// The CA variables trustrun points at the bundle, with who reads each. docs/reference.md's table is
/// this table; `tests/readme.rs` keeps the two in step.
pub const CA_VARIABLES: &[(&str, &str)] = &[
    (
        "SSL_CERT_FILE",
        "OpenSSL: Python's ssl/urllib, httpx, aiohttp, litellm, uv, Ruby, PHP",
    ),
    ("REQUESTS_CA_BUNDLE", "requests, pip (beats PIP_CERT)"),
    ("CURL_CA_BUNDLE", "curl, requests (fallback)"),
    ("PIP_CERT", "pip"),
    ("NODE_EXTRA_CA_CERTS", "Node.js (added to its own roots)"),
    ("GIT_SSL_CAINFO", "git"),
    ("AWS_CA_BUNDLE", "botocore, boto3, AWS CLI"),
    ("GRPC_DEFAULT_SSL_ROOTS_FILE_PATH", "gRPC (C core, grpcio)"),
    ("HTTPLIB2_CA_CERTS", "httplib2 (Google API clients)"),
    ("CARGO_HTTP_CAINFO", "cargo"),
    ("NPM_CONFIG_CAFILE", "npm"),
    ("DENO_CERT", "Deno"),
    ("CLOUDSDK_CORE_CUSTOM_CA_CERTS_FILE", "gcloud CLI"),
    ("NIX_SSL_CERT_FILE", "Nix"),
];

/// OpenSSL's certificate directory. Read as a trust source, never pointed at the bundle; an empty
/// value is removed from the child because httpx 0.27 reads `""` as "trust the current directory".
pub const SSL_CERT_DIR: &str = "SSL_CERT_DIR";

/// Extra CA files or directories, a path list (`:` on Unix, `;` on Windows).
pub const TRUSTRUN_CA: &str = "TRUSTRUN_CA";
/// `auto`, `always` or `never`.
pub const TRUSTRUN_TRUSTSTORE: &str = "TRUSTRUN_TRUSTSTORE";
/// `1`: an internal failure stops trustrun instead of running the program untouched.
pub const TRUSTRUN_STRICT: &str = "TRUSTRUN_STRICT";
/// `1`: the same as `-v`.
pub const TRUSTRUN_VERBOSE: &str = "TRUSTRUN_VERBOSE";
/// Overrides the per-user cache directory.
pub const TRUSTRUN_CACHE_DIR: &str = "TRUSTRUN_CACHE_DIR";
/// The config file to read instead of the platform's default.
pub const TRUSTRUN_CONFIG: &str = "TRUSTRUN_CONFIG";
/// Where `trustrun shim` installs, lists and removes shims.
pub const TRUSTRUN_SHIM_DIR: &str = "TRUSTRUN_SHIM_DIR";
/// Set for the child: the bundle's path (our sitecustomize redirects certifi to it).
pub const TRUSTRUN_BUNDLE: &str = "TRUSTRUN_BUNDLE";
/// Set for the child: how many trustruns are above it; guards against shim loops.
pub const TRUSTRUN_DEPTH: &str = "TRUSTRUN_DEPTH";
/// Set for the child: the python support directory we put on `PYTHONPATH`, so a nested
/// trustrun can take it out again instead of doubling it.
pub const TRUSTRUN_PYTHON_DIR: &str = "TRUSTRUN_PYTHON_DIR";
/// Set for the child: the CA files the caller's own CA variables named (a path list), which the
/// child's variables no longer show since they point at the bundle. A nested trustrun reads them.
pub const TRUSTRUN_INHERITED_CA: &str = "TRUSTRUN_INHERITED_CA";
/// `1` in the child: clear Python 3.13's `VERIFY_X509_STRICT` on default contexts.
pub const TRUSTRUN_RELAX_X509_STRICT: &str = "TRUSTRUN_RELAX_X509_STRICT";
/// `1` in the child: our sitecustomize says what it does on stderr.
pub const TRUSTRUN_DEBUG: &str = "TRUSTRUN_DEBUG";
/// `0` (or any false spelling `boolish` reads): leave container engines alone (no bundle handed into containers, no
/// engine shims on the child's PATH). Set for the child by `--no-containers`.
pub const TRUSTRUN_CONTAINERS: &str = "TRUSTRUN_CONTAINERS";
/// `1` (any true spelling `boolish` reads): containers also get the Java trust store and a
/// `JAVA_TOOL_OPTIONS` naming it (off by default, see docs/java.md). Reaches the engine shims as
/// every setting without a flag does: the child inherits the variable, the shim reads the config.
pub const TRUSTRUN_CONTAINERS_JAVA: &str = "TRUSTRUN_CONTAINERS_JAVA";

/// Every JVM reads it: the child's names the bundle's Java trust store (`run::java`), after the
/// caller's own options. The one variable besides the CA variables `leave_alone` takes.
pub const JAVA_TOOL_OPTIONS: &str = "JAVA_TOOL_OPTIONS";

pub const PYTHONPATH: &str = "PYTHONPATH";
pub const PATH: &str = "PATH";

/// The value of a variable, with an empty value read as unset: `SSL_CERT_FILE=""` means
/// different things to different clients, so trustrun never gives it a meaning of its own.
pub fn non_empty(name: &str) -> Option<std::ffi::OsString> {
    std::env::var_os(name).filter(|v| !v.is_empty())
}

/// The boolean variables handed to the child only as the `1` or `0` trustrun wrote
/// (`boolish::normalized`), which is all our sitecustomize accepts; read by `boolish`'s rule.
pub const BOOLEANS: &[&str] = &[
    TRUSTRUN_STRICT,
    TRUSTRUN_VERBOSE,
    TRUSTRUN_RELAX_X509_STRICT,
    TRUSTRUN_DEBUG,
];
