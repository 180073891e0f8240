//! The `--truststore` choice (dispatch stage): a leaf, so that the config file, the flags and the
//! resolved options can all name it without importing each other.

/// When the child Python verifies through the OS (truststore) as well as through the bundle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Truststore {
    /// Windows and macOS, where the OS verifier knows roots a bundle cannot hold (fetched on
    /// demand, enterprise policy); on Linux the bundle already is what truststore would read.
    Auto,
    Always,
    Never,
}

impl Truststore {
    pub fn parse(text: &str) -> Option<Truststore> {
        match text.trim().to_ascii_lowercase().as_str() {
            "auto" => Some(Truststore::Auto),
            "always" => Some(Truststore::Always),
            "never" => Some(Truststore::Never),
            _ => None,
        }
    }

    /// `auto` decided for this platform.
    pub fn enabled(self) -> bool {
        match self {
            Truststore::Always => true,
            Truststore::Never => false,
            Truststore::Auto => cfg!(any(windows, target_os = "macos")),
        }
    }
}
