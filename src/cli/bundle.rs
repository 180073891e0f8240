//! `trustrun bundle` (dispatch stage, calling the bundle stage): the bundle's path, or a copy of it
//! (`--output FILE`), or the corporate roots alone (`--corporate-only`). The copies are files meant
//! to be handed out (to a container running as another user, a CI artifact, a Dockerfile), unlike
//! the private cache.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::failure::{EXIT_FAILURE, Failure};
use crate::settings::options::TrustOptions;

/// Writes `bytes` to `path` readable by everyone (0644 on Unix, whatever the umask or an
/// existing file's mode said): certificates are public, and a reader under another uid must get
/// them.
pub fn write_shared(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    let fail = |e: std::io::Error| {
        Failure::new(
            EXIT_FAILURE,
            format!("--output {}: cannot write: {e}", path.display()),
        )
    };
    let mut file = std::fs::File::create(path).map_err(fail)?;
    file.write_all(bytes).map_err(fail)?;
    make_world_readable(path).map_err(fail)
}

#[cfg(unix)]
fn make_world_readable(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644))
}

/// Windows files take their directory's ACL; there is no mode to set.
#[cfg(not(unix))]
fn make_world_readable(_path: &Path) -> std::io::Result<()> {
    Ok(())
}

/// The corporate roots as PEM, to `output` or stdout. None found is a failure (exit 1) that
/// says how to name one, never an empty file that looks like success.
pub fn corporate_only(opts: &TrustOptions, output: Option<&Path>) -> Result<()> {
    let roots = crate::doctor::corporate_roots(opts)?;
    if roots.is_empty() {
        return Err(Failure::new(
            EXIT_FAILURE,
            "--corporate-only: no corporate root found (every trusted root is a public one); \
             name your proxy's root with --ca FILE",
        )
        .into());
    }
    let mut pem = String::new();
    for der in &roots {
        crate::sources::certs::to_pem(der, &mut pem);
    }
    match output {
        Some(path) => write_shared(path, pem.as_bytes())?,
        None => crate::out!("{pem}")?,
    }
    crate::verbose!(
        opts.verbose,
        "exported {}",
        crate::util::text::count(roots.len(), "corporate root")
    );
    Ok(())
}

/// The bundle's path on stdout, or with `--output` a copy of it.
pub fn path_or_copy(opts: &TrustOptions, output: Option<PathBuf>) -> Result<()> {
    let prepared = super::prepare_or_fail(opts)?;
    match output {
        Some(out) => {
            // In a shell set up by `trustrun env` or `trustrun setup`, `--output "$SSL_CERT_FILE"`
            // names the bundle itself (or its stable or public copy): writing a file onto itself
            // would empty it.
            if prepared.is_the_bundle(&out) {
                return Err(Failure::usage(format!(
                    "--output {}: that is trustrun's bundle itself; nothing to copy",
                    out.display()
                ))
                .into());
            }
            let pem = std::fs::read(&prepared.bundle).map_err(|e| {
                anyhow::Error::from(e).context(format!("cannot read {}", prepared.bundle.display()))
            })?;
            write_shared(&out, &pem)?;
        }
        None => crate::outln!("{}", prepared.bundle.display())?,
    }
    Ok(())
}
