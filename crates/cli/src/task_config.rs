//! `--config stepwise.toml`: loading what Task states call, with errors naming the key.

use std::path::Path;
use std::sync::Arc;
use stepwise_tasks::config::Config;
use stepwise_tasks::Integrations;

/// The file at `path`, checked (`None` without one).
pub fn load(path: Option<&Path>) -> anyhow::Result<Option<Config>> {
    match path {
        None => Ok(None),
        Some(p) => Config::load(p)
            .map(Some)
            .map_err(|e| anyhow::anyhow!("bad configuration: {e}")),
    }
}

/// What `config` configures, ready to call; functions reach this Stepwise's API at
/// `api_endpoint`.
pub fn integrations(
    config: Option<Config>,
    region: &str,
    account: &str,
    api_endpoint: &str,
) -> Option<Arc<Integrations>> {
    config.map(|c| Arc::new(Integrations::new(c, region, account, Some(api_endpoint))))
}
