//! `--config stepwise.toml`: loading what Task states call, with errors naming the key.

use std::path::Path;
use std::sync::Arc;
use stepwise_tasks::config::Config;
use stepwise_tasks::Integrations;

/// The integrations `path` configures (`None` without a file).
pub fn load(
    path: Option<&Path>,
    region: &str,
    account: &str,
) -> anyhow::Result<Option<Arc<Integrations>>> {
    let Some(path) = path else {
        return Ok(None);
    };
    let config = Config::load(path).map_err(|e| anyhow::anyhow!("bad configuration: {e}"))?;
    Ok(Some(Arc::new(Integrations::new(config, region, account))))
}
