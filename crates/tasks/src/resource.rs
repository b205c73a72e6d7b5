//! Which Task resources this crate calls, and with which integration pattern.

/// A Task resource Stepwise calls for real.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resource {
    /// `arn:aws:states:::lambda:invoke`: the function named by `FunctionName`.
    LambdaInvoke,
    /// `arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]`: the input is the event,
    /// the payload is the result (`LambdaFunction*` events).
    LambdaFunction { function: String },
    /// `arn:aws:states:::http:invoke`.
    HttpInvoke,
    /// `arn:aws:states:::states:startExecution`: a nested execution (the engine's job).
    StartExecution,
}

/// The service integration pattern a resource ends with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pattern {
    RequestResponse,
    /// `.sync`
    Sync,
    /// `.sync:2`
    Sync2,
    /// `.waitForTaskToken`
    WaitForTaskToken,
}

/// What follows `arn:PARTITION:SERVICE:` in `resource`, in any AWS partition (`aws`,
/// `aws-cn`, `aws-us-gov`, …).
fn after_service<'a>(resource: &'a str, service: &str) -> Option<&'a str> {
    let (partition, rest) = resource.strip_prefix("arn:")?.split_once(':')?;
    if !partition.starts_with("aws") {
        return None;
    }
    rest.strip_prefix(service)?.strip_prefix(':')
}

/// What `resource` names, or `None` when it is not one of ours (activities, other
/// services).
pub fn classify(resource: &str) -> Option<(Resource, Pattern)> {
    if let Some(rest) = after_service(resource, "lambda") {
        // REGION:ACCOUNT:function:NAME[:QUALIFIER]
        let parts: Vec<&str> = rest.split(':').collect();
        if parts.len() >= 4 && parts[2] == "function" && !parts[3].is_empty() {
            return Some((
                Resource::LambdaFunction {
                    function: parts[3].to_string(),
                },
                Pattern::RequestResponse,
            ));
        }
        return None;
    }
    let rest = after_service(resource, "states")?.strip_prefix("::")?;
    let (service, pattern) = match rest.split_once('.') {
        None => (rest, Pattern::RequestResponse),
        Some((s, "sync")) => (s, Pattern::Sync),
        Some((s, "sync:2")) => (s, Pattern::Sync2),
        Some((s, "waitForTaskToken")) => (s, Pattern::WaitForTaskToken),
        Some(_) => return None,
    };
    let r = match service {
        "lambda:invoke" => Resource::LambdaInvoke,
        "http:invoke" => Resource::HttpInvoke,
        "states:startExecution" => Resource::StartExecution,
        _ => return None,
    };
    // AWS offers these patterns only.
    let supported = match r {
        Resource::LambdaInvoke | Resource::HttpInvoke => {
            matches!(
                pattern,
                Pattern::RequestResponse | Pattern::WaitForTaskToken
            )
        }
        Resource::StartExecution => true,
        Resource::LambdaFunction { .. } => false,
    };
    supported.then_some((r, pattern))
}

/// What would answer `resource` when nothing does: the `stepwise.toml` key to add, or
/// the other ways (for errors that say how to go on).
pub fn config_hint(resource: &str, parameters: &serde_json::Value) -> String {
    let function = |name: &str| {
        format!(
            "configure the function as [functions.{}] in stepwise.toml (--config)",
            crate::config::function_name_of(name)
        )
    };
    match classify(resource) {
        Some((Resource::LambdaFunction { function: f }, _)) => function(&f),
        Some((Resource::LambdaInvoke, _)) => match parameters.get("FunctionName").and_then(|v| v.as_str()) {
            Some(f) => function(f),
            None => "configure the function as [functions.NAME] in stepwise.toml (--config)".into(),
        },
        Some((Resource::HttpInvoke, _)) => {
            "configure its connection as [connections.NAME] in stepwise.toml (--config)".into()
        }
        _ => "answer it with a mock test case (stateMachineArn#TestCase and --mock-config), an activity, or the .waitForTaskToken pattern".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_are_classified() {
        assert_eq!(
            classify("arn:aws:states:::lambda:invoke"),
            Some((Resource::LambdaInvoke, Pattern::RequestResponse))
        );
        assert_eq!(
            classify("arn:aws:states:::lambda:invoke.waitForTaskToken"),
            Some((Resource::LambdaInvoke, Pattern::WaitForTaskToken))
        );
        assert_eq!(classify("arn:aws:states:::lambda:invoke.sync"), None);
        assert_eq!(
            classify("arn:aws:lambda:us-east-1:123456789012:function:f:prod"),
            Some((
                Resource::LambdaFunction {
                    function: "f".into()
                },
                Pattern::RequestResponse
            ))
        );
        assert_eq!(
            classify("arn:aws:states:::states:startExecution.sync:2"),
            Some((Resource::StartExecution, Pattern::Sync2))
        );
        assert_eq!(
            classify("arn:aws:states:::http:invoke"),
            Some((Resource::HttpInvoke, Pattern::RequestResponse))
        );
        assert_eq!(classify("arn:aws:states:us-east-1:1:activity:a"), None);
        assert_eq!(classify("arn:aws:states:::sqs:sendMessage"), None);
        // Every AWS partition; nothing else.
        assert_eq!(
            classify("arn:aws-cn:states:::lambda:invoke"),
            Some((Resource::LambdaInvoke, Pattern::RequestResponse))
        );
        assert_eq!(
            classify("arn:aws-us-gov:lambda:us-gov-west-1:1:function:g"),
            Some((
                Resource::LambdaFunction {
                    function: "g".into()
                },
                Pattern::RequestResponse
            ))
        );
        assert_eq!(classify("arn:other:states:::lambda:invoke"), None);
        assert_eq!(classify("arn:aws:statesx:::lambda:invoke"), None);
        assert_eq!(classify("arn:aws-cn"), None);
    }

    #[test]
    fn hints_name_the_config_key() {
        let p =
            serde_json::json!({"FunctionName": "arn:aws:lambda:us-east-1:1:function:charge:prod"});
        assert!(config_hint("arn:aws:states:::lambda:invoke", &p).contains("[functions.charge]"));
        let bare = "arn:aws:lambda:us-east-1:1:function:thumbs";
        assert!(config_hint(bare, &p).contains("[functions.thumbs]"));
        assert!(config_hint("arn:aws:states:::http:invoke", &p).contains("[connections.NAME]"));
        assert!(config_hint("arn:aws:states:::sqs:sendMessage", &p).contains("mock"));
    }
}
