//! `trustrun env` (dispatch stage, calling the plan stage): the environment `trustrun PROGRAM`
//! would give its child, printed for a shell profile, CI or a dotenv file.

use anyhow::Result;

use crate::run::env_format::{self, Format};
use crate::run::plan;
use crate::settings::options::TrustOptions;

/// The environment in `format` (the shell's own when none is asked for) on stdout.
pub fn print(opts: &TrustOptions, format: Option<Format>) -> Result<()> {
    let prepared = super::prepare_or_fail(opts)?;
    let mut plan = plan::child_env(&prepared, opts)
        .map_err(|e| crate::store::PrepareError::Internal(e).into_error())?;
    // Not for a shell, a CI job or a .env file: every JVM started there would print "Picked up
    // JAVA_TOOL_OPTIONS" (as with setup), and a quoted path cannot be written in every format.
    plan.vars
        .retain(|(name, _)| name != crate::settings::vars::JAVA_TOOL_OPTIONS);
    let format = format.unwrap_or_else(Format::default_here);
    let text = env_format::render(format, &plan, &prepared.python_dir)?;
    crate::out!("{text}")?;
    Ok(())
}
