//! One function per AWS action: request JSON in, response JSON out. Shapes (required
//! members, types, lengths) were checked against the service model before these run.

use crate::arn;
use crate::error::ApiError;
use crate::page_token;
use serde_json::{json, Map, Value};
use stepwise_engine::{
    Engine, ExecutionOutcome, MachineView, NewStateMachine, Scope, StartRequest, StateMachineUpdate,
};
use stepwise_store::{ExecutionQuery, ExecutionRecord, MachineType};

type Res = Result<Value, ApiError>;

/// Run `action` (already known to be one of the model's operations) for a request
/// working in `scope`: what it creates lives there and List* shows only what lives
/// there; what it names by ARN lives where the ARN says.
pub async fn call(e: &Engine, scope: &Scope, action: &str, r: &Value) -> Res {
    let r = Req(r);
    match action {
        "CreateStateMachine" => create_state_machine(e, scope, r).await,
        "DescribeStateMachine" => describe_state_machine(e, r),
        "UpdateStateMachine" => update_state_machine(e, r).await,
        "DeleteStateMachine" => {
            let a = r.machine_arn("stateMachineArn")?;
            e.delete_state_machine(a).await?;
            Ok(json!({}))
        }
        "ListStateMachines" => {
            let all: Vec<Value> = e
                .list_state_machines()
                .into_iter()
                .filter(|m| scope.holds(&m.arn))
                .map(|m| {
                    json!({"stateMachineArn": m.arn, "name": m.name, "type": m.machine_type.as_str(),
                           "creationDate": ts(m.created_millis)})
                })
                .collect();
            paged(all, r, "stateMachines")
        }
        "DescribeStateMachineForExecution" => describe_for_execution(e, r).await,
        "ValidateStateMachineDefinition" => validate_definition(r),
        "PublishStateMachineVersion" => {
            let a = r.machine_arn("stateMachineArn")?;
            let v = e
                .publish_state_machine_version(
                    a,
                    r.s("revisionId"),
                    r.s("description").map(String::from),
                )
                .await?;
            Ok(json!({"creationDate": ts(v.created_millis), "stateMachineVersionArn": v.arn}))
        }
        "ListStateMachineVersions" => {
            let a = r.machine_arn("stateMachineArn")?;
            let all = e
                .list_state_machine_versions(a)?
                .into_iter()
                .map(|v| json!({"stateMachineVersionArn": v.arn, "creationDate": ts(v.created_millis)}))
                .collect();
            paged(all, r, "stateMachineVersions")
        }
        "DeleteStateMachineVersion" => {
            let a = r.req("stateMachineVersionArn")?;
            ensure::expect_version(a).map_err(ApiError::invalid_arn)?;
            e.delete_state_machine_version(a).await?;
            Ok(json!({}))
        }
        "CreateStateMachineAlias" => {
            let name = r.req("name")?;
            check_alias_name(name)?;
            let routing = r.routing()?.unwrap_or_default();
            let v = e
                .create_state_machine_alias(name, r.s("description").map(String::from), routing)
                .await?;
            Ok(json!({"stateMachineAliasArn": v.arn, "creationDate": ts(v.created_millis)}))
        }
        "DescribeStateMachineAlias" => {
            let v = e.describe_state_machine_alias(r.req("stateMachineAliasArn")?)?;
            let mut m = Map::new();
            m.insert("stateMachineAliasArn".into(), json!(v.arn));
            m.insert("name".into(), json!(v.name));
            if let Some(d) = v.description {
                m.insert("description".into(), json!(d));
            }
            m.insert("routingConfiguration".into(), routing_json(&v.routing));
            m.insert("creationDate".into(), ts(v.created_millis));
            m.insert("updateDate".into(), ts(v.updated_millis));
            Ok(Value::Object(m))
        }
        "UpdateStateMachineAlias" => {
            let a = r.req("stateMachineAliasArn")?;
            let routing = r.routing()?;
            if routing.is_none() && r.s("description").is_none() {
                return Err(ApiError::new(
                    "MissingRequiredParameter",
                    "Either the description or the RoutingConfiguration must be specified",
                ));
            }
            let t = e
                .update_state_machine_alias(a, r.s("description").map(String::from), routing)
                .await?;
            Ok(json!({"updateDate": ts(t)}))
        }
        "DeleteStateMachineAlias" => {
            e.delete_state_machine_alias(r.req("stateMachineAliasArn")?)
                .await?;
            Ok(json!({}))
        }
        "ListStateMachineAliases" => {
            let a = r.machine_arn("stateMachineArn")?;
            let all = e
                .list_state_machine_aliases(a)?
                .into_iter()
                .map(|v| json!({"stateMachineAliasArn": v.arn, "creationDate": ts(v.created_millis)}))
                .collect();
            paged(all, r, "stateMachineAliases")
        }
        "StartExecution" | "StartSyncExecution" => {
            start_execution(e, r, action == "StartSyncExecution").await
        }
        "DescribeExecution" => {
            let a = r.execution_arn("executionArn")?;
            Ok(describe_execution_json(&e.describe_execution(a).await?))
        }
        "ListExecutions" => list_executions(e, r).await,
        "StopExecution" => {
            let a = r.execution_arn("executionArn")?;
            let t = e
                .stop_execution(
                    a,
                    r.s("error").map(String::from),
                    r.s("cause").map(String::from),
                )
                .await?;
            Ok(json!({"stopDate": ts(t)}))
        }
        "RedriveExecution" => {
            let a = r.execution_arn("executionArn")?;
            let t = e.redrive_execution(a).await?;
            Ok(json!({"redriveDate": ts(t)}))
        }
        "GetExecutionHistory" => history(e, r).await,
        "DescribeMapRun" => {
            let (run, exec) = e.describe_map_run(r.req("mapRunArn")?)?;
            Ok(map_run_json(&run, &exec))
        }
        "UpdateMapRun" => {
            e.update_map_run(
                r.req("mapRunArn")?,
                r.u("maxConcurrency"),
                r.u("toleratedFailureCount"),
                r.0.get("toleratedFailurePercentage")
                    .and_then(Value::as_f64),
            )
            .await?;
            Ok(json!({}))
        }
        "ListMapRuns" => {
            let a = r.execution_arn("executionArn")?;
            let all = e
                .list_map_runs(a)?
                .into_iter()
                .map(|m| {
                    // The Map Run's "state machine": the machine's ARN plus "/<state name>".
                    let machine = a.rsplit_once(':').map_or(a, |(m, _)| m).replacen(
                        ":execution:",
                        ":stateMachine:",
                        1,
                    );
                    let mut o = json!({"executionArn": a, "mapRunArn": m.arn,
                        "stateMachineArn": format!("{machine}/{}", m.state_name),
                        "startDate": ts(m.start_millis)});
                    if let Some(s) = m.stop_millis {
                        o["stopDate"] = ts(s);
                    }
                    o
                })
                .collect();
            paged(all, r, "mapRuns")
        }
        "CreateActivity" => {
            let name = r.req("name")?;
            arn::check_name(name).map_err(|m| ApiError::new("InvalidName", m))?;
            let mut config = Map::new();
            if let Some(enc) = r.0.get("encryptionConfiguration") {
                config.insert("encryptionConfiguration".into(), enc.clone());
            }
            let a = e.create_activity_in(scope, name, r.tags()?, config).await?;
            Ok(json!({"activityArn": a.arn, "creationDate": ts(a.created_millis)}))
        }
        "DescribeActivity" => {
            let a = e.describe_activity(r.activity_arn("activityArn")?)?;
            let enc = serde_json::from_str::<Value>(&a.config)
                .ok()
                .and_then(|c| c.get("encryptionConfiguration").cloned())
                .unwrap_or_else(|| json!({"type": "AWS_OWNED_KEY"}));
            Ok(
                json!({"activityArn": a.arn, "name": a.name, "creationDate": ts(a.created_millis),
                      "encryptionConfiguration": enc}),
            )
        }
        "DeleteActivity" => {
            e.delete_activity(r.activity_arn("activityArn")?).await?;
            Ok(json!({}))
        }
        "ListActivities" => {
            let all = e
                .list_activities()
                .into_iter()
                .filter(|a| scope.holds(&a.arn))
                .map(|a| json!({"activityArn": a.arn, "name": a.name, "creationDate": ts(a.created_millis)}))
                .collect();
            paged(all, r, "activities")
        }
        "GetActivityTask" => {
            let a = r.activity_arn("activityArn")?;
            match e
                .get_activity_task(a, r.s("workerName").map(String::from))
                .await?
            {
                Some(t) => Ok(json!({"taskToken": t.token, "input": t.input})),
                None => Ok(json!({})),
            }
        }
        "SendTaskSuccess" => {
            e.send_task_success(r.req("taskToken")?, r.req("output")?)
                .await?;
            Ok(json!({}))
        }
        "SendTaskFailure" => {
            e.send_task_failure(
                r.req("taskToken")?,
                r.s("error").map(String::from),
                r.s("cause").map(String::from),
            )
            .await?;
            Ok(json!({}))
        }
        "SendTaskHeartbeat" => {
            e.send_task_heartbeat(r.req("taskToken")?).await?;
            Ok(json!({}))
        }
        "TagResource" => {
            e.tag_resource(r.req("resourceArn")?, r.tags()?).await?;
            Ok(json!({}))
        }
        "UntagResource" => {
            let keys =
                r.0.get("tagKeys")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(|k| k.as_str().map(String::from))
                            .collect()
                    })
                    .unwrap_or_default();
            e.untag_resource(r.req("resourceArn")?, keys).await?;
            Ok(json!({}))
        }
        "ListTagsForResource" => {
            let tags: Vec<Value> = e
                .list_tags(r.req("resourceArn")?)?
                .into_iter()
                .map(|(k, v)| json!({"key": k, "value": v}))
                .collect();
            Ok(json!({"tags": tags}))
        }
        "TestState" => test_state(e, scope, r).await,
        other => Err(ApiError::unknown_operation(&format!(
            "AWSStepFunctions.{other}"
        ))),
    }
}

/// Epoch seconds, as AWS's JSON protocol sends timestamps.
fn ts(millis: i64) -> Value {
    json!(millis as f64 / 1000.0)
}

/// Read access to a request body.
#[derive(Clone, Copy)]
struct Req<'a>(&'a Value);

impl<'a> Req<'a> {
    fn s(&self, k: &str) -> Option<&'a str> {
        self.0.get(k).and_then(Value::as_str)
    }
    fn req(&self, k: &str) -> Result<&'a str, ApiError> {
        self.s(k).ok_or_else(|| {
            ApiError::validation(format!(
                "1 validation error detected: Value null at '{k}' failed to satisfy constraint: Member must not be null"
            ))
        })
    }
    fn b(&self, k: &str) -> bool {
        self.0.get(k).and_then(Value::as_bool).unwrap_or(false)
    }
    fn u(&self, k: &str) -> Option<u64> {
        self.0.get(k).and_then(Value::as_u64)
    }
    fn machine_arn(&self, k: &str) -> Result<&'a str, ApiError> {
        let a = self.req(k)?;
        ensure::expect_state_machine(a).map_err(ApiError::invalid_arn)?;
        Ok(a)
    }
    fn execution_arn(&self, k: &str) -> Result<&'a str, ApiError> {
        let a = self.req(k)?;
        ensure::expect_execution(a).map_err(ApiError::invalid_arn)?;
        Ok(a)
    }
    fn activity_arn(&self, k: &str) -> Result<&'a str, ApiError> {
        let a = self.req(k)?;
        ensure::expect_activity(a).map_err(ApiError::invalid_arn)?;
        Ok(a)
    }
    fn tags(&self) -> Result<Vec<(String, String)>, ApiError> {
        let Some(arr) = self.0.get("tags").and_then(Value::as_array) else {
            return Ok(Vec::new());
        };
        Ok(arr
            .iter()
            .map(|t| {
                (
                    t.get("key")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                    t.get("value")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                )
            })
            .collect())
    }
    fn routing(&self) -> Result<Option<Vec<(String, u32)>>, ApiError> {
        let Some(arr) = self.0.get("routingConfiguration").and_then(Value::as_array) else {
            return Ok(None);
        };
        let mut out = Vec::new();
        for r in arr {
            let v = r
                .get("stateMachineVersionArn")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let w = r.get("weight").and_then(Value::as_u64).unwrap_or(0) as u32;
            out.push((v.to_string(), w));
        }
        let listed = || {
            out.iter()
                .map(|(v, _)| v.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        if out.iter().any(|(v, _)| ensure::expect_version(v).is_err()) {
            return Err(ApiError::validation(format!(
                "Routing configuration must contain state machine version ARNs. Received: [{}]",
                listed()
            )));
        }
        if out.len() == 2 && out[0].0 == out[1].0 {
            return Err(ApiError::validation(format!(
                "Routing configuration must contain distinct state machine version ARNs. Received: [{}]",
                listed()
            )));
        }
        Ok(Some(out))
    }
}

fn check_alias_name(name: &str) -> Result<(), ApiError> {
    arn::check_name(name).map_err(|m| ApiError::new("InvalidName", m))?;
    // An alias name must not look like a version number.
    if name.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::new(
            "InvalidName",
            format!("Invalid Name: '{name}'"),
        ));
    }
    Ok(())
}

fn routing_json(routing: &[(String, u32)]) -> Value {
    Value::Array(
        routing
            .iter()
            .map(|(v, w)| json!({"stateMachineVersionArn": v, "weight": w}))
            .collect(),
    )
}

const DEFAULT_PAGE: usize = 100;

/// Page a full listing: `nextToken` is the offset of the next item.
fn paged(all: Vec<Value>, r: Req<'_>, key: &str) -> Res {
    let max = match r.u("maxResults") {
        Some(0) | None => DEFAULT_PAGE,
        Some(n) => n as usize,
    };
    let start = match r.s("nextToken") {
        None => 0,
        Some(t) => page_token::read(key, r.0, t)?
            .parse::<usize>()
            .map_err(|_| invalid_token())?,
    };
    let end = start.saturating_add(max).min(all.len());
    let page: Vec<Value> = all
        .get(start..end)
        .map(<[Value]>::to_vec)
        .unwrap_or_default();
    let mut m = Map::new();
    m.insert(key.into(), Value::Array(page));
    if end < all.len() {
        m.insert(
            "nextToken".into(),
            json!(page_token::issue(key, r.0, &end.to_string())),
        );
    }
    Ok(Value::Object(m))
}

fn invalid_token() -> ApiError {
    ApiError::new("InvalidToken", "Invalid Token: 'Invalid token'")
}

fn machine_type(r: Req<'_>) -> Result<MachineType, ApiError> {
    match r.s("type") {
        None => Ok(MachineType::Standard),
        Some(t) => MachineType::parse(t).ok_or_else(|| {
            ApiError::validation(format!(
                "1 validation error detected: Value '{t}' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [STANDARD, EXPRESS]"
            ))
        }),
    }
}

/// loggingConfiguration / tracingConfiguration / encryptionConfiguration with AWS's defaults.
fn machine_config(r: Req<'_>, defaults: bool) -> Map<String, Value> {
    let mut m = Map::new();
    for (k, default) in [
        (
            "loggingConfiguration",
            json!({"level": "OFF", "includeExecutionData": false}),
        ),
        ("tracingConfiguration", json!({"enabled": false})),
        ("encryptionConfiguration", json!({"type": "AWS_OWNED_KEY"})),
    ] {
        match r.0.get(k) {
            Some(v) => {
                m.insert(k.into(), v.clone());
            }
            None if defaults => {
                m.insert(k.into(), default);
            }
            None => {}
        }
    }
    m
}

async fn create_state_machine(e: &Engine, scope: &Scope, r: Req<'_>) -> Res {
    let name = r.req("name")?;
    arn::check_name(name).map_err(|m| ApiError::new("InvalidName", m))?;
    let publish = r.b("publish");
    if r.s("versionDescription").is_some() && !publish {
        return Err(ApiError::validation(
            "Version description can only be set when publish is true",
        ));
    }
    let (m, version) = e
        .create_state_machine_in(
            scope,
            NewStateMachine {
                name: name.to_string(),
                definition: r.req("definition")?.to_string(),
                role_arn: r.req("roleArn")?.to_string(),
                machine_type: machine_type(r)?,
                config: machine_config(r, true),
                tags: r.tags()?,
                publish,
                version_description: r.s("versionDescription").map(String::from),
            },
        )
        .await?;
    let mut out = json!({"stateMachineArn": m.arn, "creationDate": ts(m.created_millis)});
    if let Some(v) = version {
        out["stateMachineVersionArn"] = json!(v.arn);
    }
    Ok(out)
}

/// A machine's logging, tracing and encryption configuration and its revision id.
fn put_config(o: &mut Map<String, Value>, m: &MachineView) {
    for k in [
        "loggingConfiguration",
        "tracingConfiguration",
        "encryptionConfiguration",
    ] {
        if let Some(v) = m.config.get(k) {
            o.insert(k.into(), v.clone());
        }
    }
    if let Some(r) = &m.revision_id {
        o.insert("revisionId".into(), json!(r));
    }
}

/// `variableReferences`: per state, the variables its JSONPath fields read (absent when none).
fn put_variable_references(o: &mut Map<String, Value>, definition: &str) {
    if let Ok(def) = serde_json::from_str::<Value>(definition) {
        let refs = stepwise_asl::variable_references(&def);
        if !refs.is_empty() {
            o.insert("variableReferences".into(), Value::Object(refs));
        }
    }
}

fn machine_json(m: &MachineView) -> Value {
    let mut o = Map::new();
    o.insert("stateMachineArn".into(), json!(m.arn));
    o.insert("name".into(), json!(m.name));
    o.insert("status".into(), json!(m.status));
    o.insert("definition".into(), json!(m.definition));
    o.insert("roleArn".into(), json!(m.role_arn));
    o.insert("type".into(), json!(m.machine_type.as_str()));
    o.insert("creationDate".into(), ts(m.created_millis));
    put_config(&mut o, m);
    put_variable_references(&mut o, &m.definition);
    if let Some(d) = &m.description {
        o.insert("description".into(), json!(d));
    }
    Value::Object(o)
}

fn describe_state_machine(e: &Engine, r: Req<'_>) -> Res {
    let a = r.machine_arn("stateMachineArn")?;
    Ok(machine_json(&e.describe_state_machine(a)?))
}

async fn update_state_machine(e: &Engine, r: Req<'_>) -> Res {
    let a = r.machine_arn("stateMachineArn")?;
    let config = machine_config(r, false);
    let upd = StateMachineUpdate {
        definition: r.s("definition").map(String::from),
        role_arn: r.s("roleArn").map(String::from),
        config,
        publish: r.b("publish"),
        version_description: r.s("versionDescription").map(String::from),
    };
    if upd.definition.is_none()
        && upd.role_arn.is_none()
        && !upd.config.contains_key("loggingConfiguration")
        && !upd.config.contains_key("tracingConfiguration")
        && !upd.config.contains_key("encryptionConfiguration")
    {
        return Err(ApiError::new(
            "MissingRequiredParameter",
            "Either the definition, the role ARN, the LoggingConfiguration, or the TracingConfiguration must be specified",
        ));
    }
    if upd.version_description.is_some() && !upd.publish {
        return Err(ApiError::validation(
            "Version description can only be set when publish is true",
        ));
    }
    let (t, revision, version) = e.update_state_machine(a, upd).await?;
    let mut out = json!({"updateDate": ts(t)});
    if let Some(r) = revision {
        out["revisionId"] = json!(r);
    }
    if let Some(v) = version {
        out["stateMachineVersionArn"] = json!(v.arn);
    }
    Ok(out)
}

async fn describe_for_execution(e: &Engine, r: Req<'_>) -> Res {
    let a = r.execution_arn("executionArn")?;
    let rec = e.describe_execution(a).await?;
    let target = rec
        .version_arn
        .clone()
        .unwrap_or_else(|| rec.machine_arn.clone());
    let mut out = Map::new();
    // The state machine's own ARN, also for an execution of a version.
    out.insert("stateMachineArn".into(), json!(rec.machine_arn));
    out.insert(
        "name".into(),
        json!(rec.machine_arn.rsplit(':').next().unwrap_or_default()),
    );
    out.insert("definition".into(), json!(rec.definition));
    put_variable_references(&mut out, &rec.definition);
    // The role and configuration of the machine as it is now (we keep only the definition
    // per execution); a Distributed Map child's (`…:stateMachine:NAME/LABEL`) are its
    // parent machine's.
    let owner = match rec.map_run_arn {
        Some(_) => target.rsplit_once('/').map_or(target.as_str(), |(m, _)| m),
        None => target.as_str(),
    };
    if let Ok(m) = e.describe_state_machine(owner) {
        out.insert("roleArn".into(), json!(m.role_arn));
        put_config(&mut out, &m);
    }
    out.insert("updateDate".into(), ts(rec.start_millis));
    if let Some(al) = &rec.alias_arn {
        out.insert("stateMachineAliasArn".into(), json!(al));
    }
    if let Some(run) = &rec.map_run_arn {
        out.insert("mapRunArn".into(), json!(run));
        if let Some((_, label)) = target.rsplit_once('/') {
            out.insert("label".into(), json!(label));
        }
    }
    Ok(Value::Object(out))
}

fn validate_definition(r: Req<'_>) -> Res {
    let def = r.req("definition")?;
    let all = match stepwise_asl::parse(def) {
        Ok(m) if r.s("type") == Some("EXPRESS") => stepwise_asl::check_express(&m),
        Ok(_) => Vec::new(),
        Err(d) => d,
    };
    let diags = stepwise_asl::aws_reported(&all);
    let max = match r.u("maxResults") {
        Some(0) | None => 100,
        Some(n) => n as usize,
    };
    let list: Vec<Value> = diags
        .iter()
        .take(max)
        .map(|d| {
            let mut m = Map::new();
            m.insert("severity".into(), json!("ERROR"));
            m.insert("code".into(), json!(d.code));
            m.insert("message".into(), json!(d.message));
            // A blank definition's diagnostic has no location.
            if !(d.pointer.is_empty() && d.message == stepwise_asl::BLANK_DEFINITION) {
                m.insert("location".into(), json!(stepwise_asl::aws_location(d)));
            }
            Value::Object(m)
        })
        .collect();
    Ok(json!({
        "result": if diags.is_empty() { "OK" } else { "FAIL" },
        "diagnostics": list,
        "truncated": diags.len() > max,
    }))
}

async fn start_execution(e: &Engine, r: Req<'_>, sync: bool) -> Res {
    let a = r.req("stateMachineArn")?;
    let (bare, _) = split_case(a);
    ensure::expect_state_machine(bare).map_err(ApiError::invalid_arn)?;
    if let Some(n) = r.s("name") {
        arn::check_name(n).map_err(|m| ApiError::new("InvalidName", m))?;
    }
    let (started, outcome) = e
        .start_execution(
            StartRequest {
                state_machine_arn: a.to_string(),
                name: r.s("name").map(String::from),
                input: r.s("input").map(String::from),
                trace_header: r.s("traceHeader").map(String::from),
            },
            sync,
        )
        .await?;
    match outcome {
        None => Ok(json!({"executionArn": started.arn, "startDate": ts(started.start_millis)})),
        Some(ExecutionOutcome { record }) => Ok(sync_json(&record)),
    }
}

fn split_case(a: &str) -> (&str, Option<&str>) {
    match a.split_once('#') {
        Some((b, c)) => (b, Some(c)),
        None => (a, None),
    }
}

fn sync_json(rec: &ExecutionRecord) -> Value {
    let mut m = Map::new();
    m.insert("executionArn".into(), json!(rec.arn));
    m.insert("stateMachineArn".into(), json!(rec.machine_arn));
    m.insert("name".into(), json!(rec.name));
    m.insert("startDate".into(), ts(rec.start_millis));
    if let Some(s) = rec.stop_millis {
        m.insert("stopDate".into(), ts(s));
    }
    m.insert("status".into(), json!(rec.status));
    if let Some(x) = &rec.error {
        m.insert("error".into(), json!(x));
    }
    if let Some(x) = &rec.cause {
        m.insert("cause".into(), json!(x));
    }
    m.insert("input".into(), json!(rec.input));
    m.insert("inputDetails".into(), json!({"included": true}));
    if let Some(o) = &rec.output {
        m.insert("output".into(), json!(o));
        m.insert("outputDetails".into(), json!({"included": true}));
    }
    if let Some(t) = &rec.trace_header {
        m.insert("traceHeader".into(), json!(t));
    }
    let billed = rec.stop_millis.unwrap_or(rec.start_millis) - rec.start_millis;
    m.insert(
        "billingDetails".into(),
        json!({"billedMemoryUsedInMB": 64, "billedDurationInMilliseconds": billed.max(100)}),
    );
    Value::Object(m)
}

fn describe_execution_json(rec: &ExecutionRecord) -> Value {
    let mut m = Map::new();
    m.insert("executionArn".into(), json!(rec.arn));
    m.insert("stateMachineArn".into(), json!(rec.machine_arn));
    m.insert("name".into(), json!(rec.name));
    m.insert("status".into(), json!(rec.status));
    m.insert("startDate".into(), ts(rec.start_millis));
    if let Some(s) = rec.stop_millis {
        m.insert("stopDate".into(), ts(s));
    }
    m.insert("input".into(), json!(rec.input));
    m.insert("inputDetails".into(), json!({"included": true}));
    if let Some(o) = &rec.output {
        m.insert("output".into(), json!(o));
        m.insert("outputDetails".into(), json!({"included": true}));
    }
    // A timed-out execution shows neither (its ExecutionTimedOut event has them).
    if rec.status != "TIMED_OUT" {
        if let Some(x) = &rec.error {
            m.insert("error".into(), json!(x));
        }
        if let Some(x) = &rec.cause {
            m.insert("cause".into(), json!(x));
        }
    }
    if let Some(t) = &rec.trace_header {
        m.insert("traceHeader".into(), json!(t));
    }
    if let Some(v) = &rec.version_arn {
        m.insert("stateMachineVersionArn".into(), json!(v));
    }
    if let Some(v) = &rec.alias_arn {
        m.insert("stateMachineAliasArn".into(), json!(v));
    }
    if let Some(v) = &rec.map_run_arn {
        m.insert("mapRunArn".into(), json!(v));
    }
    if rec.machine_type == MachineType::Standard {
        m.insert("redriveCount".into(), json!(rec.redrive_count));
        if let Some(t) = rec.redrive_millis {
            m.insert("redriveDate".into(), ts(t));
        }
        let (status, reason) = stepwise_engine::redrive_status(rec);
        m.insert("redriveStatus".into(), json!(status));
        if let Some(reason) = reason {
            m.insert("redriveStatusReason".into(), json!(reason));
        }
    }
    Value::Object(m)
}

async fn list_executions(e: &Engine, r: Req<'_>) -> Res {
    let a = r.s("stateMachineArn");
    if a.is_none() && r.s("mapRunArn").is_none() {
        return Err(ApiError::validation(
            "Must provide a StateMachine ARN or MapRun ARN",
        ));
    }
    let mut q = ExecutionQuery {
        status: r.s("statusFilter").map(String::from),
        ..Default::default()
    };
    if let Some(a) = a {
        let kind = ensure::expect_state_machine(a).map_err(ApiError::invalid_arn)?;
        match kind {
            ensure::MachineRef::Machine => q.machine_arn = Some(a.to_string()),
            ensure::MachineRef::Version => q.version_arn = Some(a.to_string()),
            ensure::MachineRef::Alias => q.alias_arn = Some(a.to_string()),
        }
    } else if let Some(run) = r.s("mapRunArn") {
        e.describe_map_run(run)?;
        q.map_run_arn = Some(run.to_string());
    }
    let max = match r.u("maxResults") {
        Some(0) | None => DEFAULT_PAGE,
        Some(n) => n as usize,
    };
    q.limit = max + 1;
    if let Some(t) = r.s("nextToken") {
        let position = page_token::read("executions", r.0, t)?;
        let (ms, arn) = position
            .split_once('|')
            .and_then(|(ms, a)| Some((ms.parse::<i64>().ok()?, a.to_string())))
            .ok_or_else(invalid_token)?;
        q.after = Some((ms, arn));
    }
    let mut v = e.list_executions(&q)?;
    let more = v.len() > max;
    v.truncate(max);
    let items: Vec<Value> = v
        .iter()
        .map(|rec| {
            let mut m = Map::new();
            m.insert("executionArn".into(), json!(rec.arn));
            m.insert("stateMachineArn".into(), json!(rec.machine_arn));
            m.insert("name".into(), json!(rec.name));
            m.insert("status".into(), json!(rec.status));
            m.insert("startDate".into(), ts(rec.start_millis));
            if let Some(s) = rec.stop_millis {
                m.insert("stopDate".into(), ts(s));
            }
            if let Some(x) = &rec.version_arn {
                m.insert("stateMachineVersionArn".into(), json!(x));
            }
            if let Some(x) = &rec.alias_arn {
                m.insert("stateMachineAliasArn".into(), json!(x));
            }
            // Every Standard execution shows it, 0 when never redriven.
            if rec.machine_type == MachineType::Standard {
                m.insert("redriveCount".into(), json!(rec.redrive_count));
            }
            // Only when listing by Map Run, as AWS.
            if let Some(run) = &q.map_run_arn {
                m.insert("mapRunArn".into(), json!(run));
            }
            Value::Object(m)
        })
        .collect();
    let mut out = json!({"executions": items});
    if more {
        if let Some(last) = v.last() {
            let position = format!("{}|{}", last.start_millis, last.arn);
            out["nextToken"] = json!(page_token::issue("executions", r.0, &position));
        }
    }
    Ok(out)
}

/// Data members GetExecutionHistory leaves out when `includeExecutionData` is false.
const DATA_MEMBERS: [&str; 4] = ["input", "inputDetails", "output", "outputDetails"];

async fn history(e: &Engine, r: Req<'_>) -> Res {
    let a = r.execution_arn("executionArn")?;
    let reverse = r.b("reverseOrder");
    let include =
        r.0.get("includeExecutionData")
            .and_then(Value::as_bool)
            .unwrap_or(true);
    let max = match r.u("maxResults") {
        Some(0) | None => DEFAULT_PAGE,
        Some(n) => n as usize,
    };
    let from = match r.s("nextToken") {
        None if reverse => u64::MAX,
        None => 0,
        Some(t) => page_token::read("events", r.0, t)?
            .parse()
            .map_err(|_| invalid_token())?,
    };
    let events = e.execution_history(a, from, reverse, max + 1).await?;
    let more = events.len() > max;
    let mut out = Vec::with_capacity(events.len().min(max));
    let mut last_id = 0;
    for ev in events.iter().take(max) {
        last_id = ev.id;
        let mut v: Value = serde_json::from_str(&ev.json)
            .map_err(|_| ApiError::new("ServiceException", "Stored history event is corrupt"))?;
        if !include {
            if let Some(obj) = v.as_object_mut() {
                for (_, d) in obj.iter_mut() {
                    if let Some(d) = d.as_object_mut() {
                        for k in DATA_MEMBERS {
                            d.shift_remove(k);
                        }
                    }
                }
            }
        }
        out.push(v);
    }
    let mut resp = json!({"events": out});
    if more {
        resp["nextToken"] = json!(page_token::issue("events", r.0, &last_id.to_string()));
    }
    Ok(resp)
}

/// ARN kinds each action accepts, with AWS's `InvalidArn` messages.
mod ensure {
    use crate::arn::{self, Resource, ResourceType};

    /// Which form of state machine ARN was given.
    pub enum MachineRef {
        Machine,
        Version,
        Alias,
    }

    pub fn expect_state_machine(a: &str) -> Result<MachineRef, String> {
        let parsed = arn::parse_for(a, &[ResourceType::StateMachine]).map_err(|e| e.to_string())?;
        Ok(match parsed.resource {
            Resource::StateMachineVersion { .. } => MachineRef::Version,
            Resource::StateMachineAlias { .. } => MachineRef::Alias,
            _ => MachineRef::Machine,
        })
    }

    pub fn expect_version(a: &str) -> Result<(), String> {
        let parsed = arn::parse_for(a, &[ResourceType::StateMachine]).map_err(|e| e.to_string())?;
        match parsed.resource {
            Resource::StateMachineVersion { .. } => Ok(()),
            _ => Err(format!(
                "Invalid Arn: 'Invalid State Machine Version Arn: {a}'"
            )),
        }
    }

    /// Standard executions only: AWS answers Describe/History/Stop of an EXPRESS
    /// execution ARN with "Resource type not valid in this context: express".
    pub fn expect_execution(a: &str) -> Result<(), String> {
        arn::parse_for(a, &[ResourceType::Execution])
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    pub fn expect_activity(a: &str) -> Result<(), String> {
        arn::parse_for(a, &[ResourceType::Activity])
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

async fn test_state(e: &Engine, scope: &Scope, r: Req<'_>) -> Res {
    use stepwise_engine::{
        InspectionLevel, MockErrorOutput, TestStateConfiguration, TestStateMock, TestStateRequest,
    };
    let inspection_level = match r.s("inspectionLevel") {
        None => InspectionLevel::Info,
        Some(l) => InspectionLevel::parse(l).unwrap_or(InspectionLevel::Info),
    };
    let mock = r.0.get("mock").map(|m| TestStateMock {
        result: m.get("result").and_then(Value::as_str).map(String::from),
        error_output: m.get("errorOutput").map(|eo| MockErrorOutput {
            error: eo.get("error").and_then(Value::as_str).map(String::from),
            cause: eo.get("cause").and_then(Value::as_str).map(String::from),
        }),
        field_validation_mode: m
            .get("fieldValidationMode")
            .and_then(Value::as_str)
            .map(String::from),
    });
    let state_configuration =
        r.0.get("stateConfiguration")
            .map(|c| TestStateConfiguration {
                retrier_retry_count: c
                    .get("retrierRetryCount")
                    .and_then(Value::as_u64)
                    .map(|n| n as u32),
                error_caused_by_state: c
                    .get("errorCausedByState")
                    .and_then(Value::as_str)
                    .map(String::from),
                map_iteration_failure_count: c
                    .get("mapIterationFailureCount")
                    .and_then(Value::as_u64)
                    .map(|n| n as u32),
                map_item_reader_data: c
                    .get("mapItemReaderData")
                    .and_then(Value::as_str)
                    .map(String::from),
            });
    let req = TestStateRequest {
        definition: r.req("definition")?.to_string(),
        state_name: r.s("stateName").map(String::from),
        input: r.s("input").map(String::from),
        inspection_level,
        variables: r.s("variables").map(String::from),
        reveal_secrets: r.b("revealSecrets"),
        role_arn: r.s("roleArn").map(String::from),
        context: r.s("context").map(String::from),
        mock,
        state_configuration,
        ..TestStateRequest::default()
    };
    Ok(e.test_state_in(scope, req).await?.to_aws_json())
}

fn counts_json(c: &stepwise_engine::Counts, with_results: bool) -> Value {
    let mut v = json!({"pending": c.pending, "running": c.running, "succeeded": c.succeeded,
        "failed": c.failed, "timedOut": c.timed_out, "aborted": c.aborted, "total": c.total,
        "resultsWritten": c.succeeded});
    if !with_results {
        if let Some(o) = v.as_object_mut() {
            o.shift_remove("resultsWritten");
        }
    }
    v
}

fn map_run_json(run: &stepwise_engine::MapRunInfo, execution_arn: &str) -> Value {
    let mut m = Map::new();
    m.insert("mapRunArn".into(), json!(run.arn));
    m.insert("executionArn".into(), json!(execution_arn));
    m.insert("status".into(), json!(run.status.as_str()));
    m.insert("startDate".into(), ts(run.start_millis));
    if let Some(s) = run.stop_millis {
        m.insert("stopDate".into(), ts(s));
    }
    m.insert("maxConcurrency".into(), json!(run.max_concurrency));
    m.insert(
        "toleratedFailurePercentage".into(),
        json!(run.tolerated_failure_percentage),
    );
    m.insert(
        "toleratedFailureCount".into(),
        json!(run.tolerated_failure_count),
    );
    m.insert("itemCounts".into(), counts_json(&run.items, true));
    // With an ItemBatcher a child execution holds a batch of items.
    let executions = run.executions.as_ref().unwrap_or(&run.items);
    m.insert("executionCounts".into(), counts_json(executions, true));
    m.insert("redriveCount".into(), json!(run.redrive_count));
    if let Some(t) = run.redrive_millis {
        m.insert("redriveDate".into(), ts(t));
    }
    Value::Object(m)
}
