//! Where a resource lives: the region and account its ARN names. As on AWS, each
//! (region, account) is its own world: the API creates and lists resources in the
//! request's scope (taken from its SigV4 credential scope, else the server's
//! `--region`/`--account`), and everything looked up by ARN lives where its ARN says
//! (an execution in its machine's region and account).

use crate::Engine;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scope {
    pub region: String,
    pub account: String,
}

impl Scope {
    pub fn new(region: impl Into<String>, account: impl Into<String>) -> Scope {
        Scope {
            region: region.into(),
            account: account.into(),
        }
    }

    /// `arn:PARTITION:states:REGION:ACCOUNT:`, the start of every ARN in this scope (the
    /// region's partition: `aws-cn` for `cn-north-1`).
    pub fn arn_prefix(&self) -> String {
        format!(
            "arn:{}:states:{}:{}:",
            stepwise_asl::partition_of(&self.region),
            self.region,
            self.account
        )
    }

    /// The scope an ARN names (`arn:PARTITION:states:REGION:ACCOUNT:…`).
    pub fn of_arn(arn: &str) -> Option<Scope> {
        let mut f = arn.splitn(6, ':');
        match (f.next(), f.next(), f.next(), f.next(), f.next(), f.next()) {
            (Some("arn"), Some(_), Some(_), Some(region), Some(account), Some(_))
                if !region.is_empty() && !account.is_empty() =>
            {
                Some(Scope::new(region, account))
            }
            _ => None,
        }
    }

    /// Whether `arn` lives in this scope.
    pub fn holds(&self, arn: &str) -> bool {
        Scope::of_arn(arn).is_some_and(|s| s == *self)
    }
}

/// The ARN prefix of the resource `arn` names, up to its account
/// (`arn:aws:states:eu-west-1:111122223333:`), partition kept.
pub(crate) fn prefix_of(arn: &str) -> Option<String> {
    let mut end = 0;
    for _ in 0..5 {
        end += arn[end..].find(':')? + 1;
    }
    Some(arn[..end].to_string())
}

impl Engine {
    /// The server's own scope (`--region`, `--account`): requests that name none.
    pub fn default_scope(&self) -> Scope {
        Scope::new(&self.inner.config.region, &self.inner.config.account)
    }

    /// The scope a resource of this engine lives in, from its ARN (the server's own
    /// when the ARN names none).
    pub(crate) fn scope_of(&self, arn: &str) -> Scope {
        Scope::of_arn(arn).unwrap_or_else(|| self.default_scope())
    }
}

#[cfg(test)]
#[path = "tests/scope.rs"]
mod tests;
