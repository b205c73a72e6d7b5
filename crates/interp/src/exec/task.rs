//! Task: `Resource` (activities, Lambda functions, service integrations, `.sync` and
//! `.waitForTaskToken`), `TimeoutSeconds(Path)`, `HeartbeatSeconds(Path)`; dispatching the
//! call, its result or failure, heartbeats and timeouts.

use super::*;

#[derive(Debug, Serialize, Deserialize)]
pub(super) struct TaskWait {
    pub(super) task: u64,
    pub(super) kind: ResourceKind,
    pub(super) resource_type: String,
    pub(super) resource: String,
    /// Effective input (JSONata `$states.input` stays the raw input).
    pub(super) timeout_timer: Option<u64>,
    pub(super) heartbeat_timer: Option<u64>,
    pub(super) heartbeat_seconds: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(super) enum ResourceKind {
    Service,
    Activity,
    Lambda,
}

pub(super) fn classify_resource(
    resource: &str,
    default_region: &str,
) -> (ResourceKind, String, String, String) {
    let parts: Vec<&str> = resource.splitn(6, ':').collect();
    let region = parts
        .get(3)
        .filter(|r| !r.is_empty())
        .map(|r| r.to_string())
        .unwrap_or_else(|| default_region.to_string());
    if parts.len() >= 6 && parts[2] == "states" && parts[5].starts_with("activity:") {
        return (
            ResourceKind::Activity,
            "activity".into(),
            resource.into(),
            region,
        );
    }
    if parts.len() >= 6 && parts[2] == "lambda" && parts[5].starts_with("function:") {
        return (
            ResourceKind::Lambda,
            "lambda".into(),
            resource.into(),
            region,
        );
    }
    if parts.len() == 6 && parts[2] == "states" && parts[3].is_empty() && parts[4].is_empty() {
        // arn:aws:states:::service:action[.pattern] and arn:aws:states:::aws-sdk:service:action
        let rest = parts[5];
        if let Some(sdk) = rest.strip_prefix("aws-sdk:") {
            if let Some((svc, action)) = sdk.split_once(':') {
                return (
                    ResourceKind::Service,
                    format!("aws-sdk:{svc}"),
                    action.into(),
                    region,
                );
            }
        }
        if let Some((svc, action)) = rest.split_once(':') {
            return (ResourceKind::Service, svc.into(), action.into(), region);
        }
    }
    (
        ResourceKind::Service,
        "unknown".into(),
        resource.into(),
        region,
    )
}

pub(super) fn task_token(src: &mut dyn Sources) -> String {
    // AWS tokens are long opaque strings; ours carry two UUIDs without dashes.
    let a = src.uuid().replace('-', "");
    let b = src.uuid().replace('-', "");
    format!("AQ{a}{b}")
}

impl Execution {
    pub(super) fn run_task(
        &mut self,
        fid: FrameId,
        st: &State,
        t: &stepwise_asl::Task,
        input: Arc<Value>,
        ctx: &Value,
        src: &mut dyn Sources,
    ) -> Result<Flow, Failure> {
        let (kind, resource_type, resource, region) =
            classify_resource(&t.resource, &self.info.region);
        let waits_for_token =
            t.resource.ends_with(".waitForTaskToken") || kind == ResourceKind::Activity;
        let token = if waits_for_token {
            Some(task_token(src))
        } else {
            None
        };
        // `$$.Task.Token` is visible while the parameters are evaluated.
        let ctx_owned;
        let ctx = match &token {
            Some(tok) => {
                let (entered, retries) = self.entered_and_retries(fid, st);
                let mut task = Map::new();
                task.insert("Token".into(), Value::String(tok.clone()));
                ctx_owned = self.context_value(
                    fid,
                    &st.name,
                    entered,
                    retries,
                    Some(("Task", Value::Object(task))),
                );
                &ctx_owned
            }
            None => ctx,
        };
        let (params, timeout, heartbeat) = {
            let params = match st.query_language {
                QueryLanguage::JsonPath => self.effective_input(fid, &st.io, &input, ctx, src)?,
                QueryLanguage::Jsonata => {
                    let args = self.jsonata_arguments(fid, st, &input, ctx, src)?;
                    self.inspect(fid, |r| r.data.after_arguments = Some(Value::clone(&args)));
                    args
                }
            };
            let timeout = self.dyn_seconds(
                fid,
                t.timeout_seconds.as_ref(),
                "TimeoutSeconds",
                &input,
                ctx,
                src,
            )?;
            let heartbeat = self.dyn_seconds(
                fid,
                t.heartbeat_seconds.as_ref(),
                "HeartbeatSeconds",
                &input,
                ctx,
                src,
            )?;
            (Arc::unwrap_or_clone(params), timeout, heartbeat)
        };
        // AWS fails at once, before `ActivityScheduled`, on an activity that does not
        // exist (test_activities.snapshot.json, `test_activity_task_on_deleted`).
        if kind == ResourceKind::Activity && !src.activity_exists(&t.resource) {
            return Err(Failure::eval(StatesError::runtime(format!(
                "The activity {} does not exist.",
                t.resource
            ))));
        }
        let task = self.next_task;
        self.next_task += 1;
        match kind {
            ResourceKind::Activity => {
                self.emit(
                    fid,
                    EventType::ActivityScheduled,
                    Details::ActivityScheduled(Box::new(ActivityScheduledDetails {
                        resource: t.resource.clone(),
                        input: params.clone(),
                        timeout_in_seconds: timeout,
                        heartbeat_in_seconds: heartbeat,
                    })),
                );
            }
            ResourceKind::Lambda => {
                self.emit(
                    fid,
                    EventType::LambdaFunctionScheduled,
                    Details::LambdaFunctionScheduled(Box::new(LambdaFunctionScheduledDetails {
                        resource: t.resource.clone(),
                        input: params.clone(),
                        timeout_in_seconds: timeout,
                    })),
                );
                self.emit(fid, EventType::LambdaFunctionStarted, Details::None);
            }
            ResourceKind::Service => {
                self.emit(
                    fid,
                    EventType::TaskScheduled,
                    Details::TaskScheduled(Box::new(TaskScheduledDetails {
                        resource_type: resource_type.clone(),
                        resource: resource.clone(),
                        region,
                        parameters: params.clone(),
                        timeout_in_seconds: timeout,
                        heartbeat_in_seconds: heartbeat,
                    })),
                );
                self.emit(
                    fid,
                    EventType::TaskStarted,
                    Details::TaskStarted {
                        resource_type: resource_type.clone(),
                        resource: resource.clone(),
                    },
                );
            }
        }
        let invocation = {
            let n = self.invocations.entry(st.name.to_string()).or_insert(0);
            let v = *n;
            *n += 1;
            v
        };
        let timeout_timer = timeout.map(|s| {
            let t = self.arm_timer(self.now + s as i64 * 1000);
            self.timers.insert(t, fid);
            t
        });
        let heartbeat_timer = heartbeat.map(|s| {
            let t = self.arm_timer(self.now + s as i64 * 1000);
            self.timers.insert(t, fid);
            t
        });
        self.tasks.insert(task, fid);
        self.out.commands.push(Command::DispatchTask(TaskRequest {
            task,
            state_name: st.name.to_string(),
            resource: t.resource.clone(),
            input: params,
            token,
            invocation,
            timeout_seconds: timeout,
            heartbeat_seconds: heartbeat,
        }));
        if let Stage::Active(a) = &mut self.frame(fid).stage {
            a.wait = Blocked::Task(Box::new(TaskWait {
                task,
                kind,
                resource_type,
                resource,
                timeout_timer,
                heartbeat_timer,
                heartbeat_seconds: heartbeat,
            }));
        }
        Ok(Flow::Blocked)
    }

    /// `TimeoutSeconds(Path)` / `HeartbeatSeconds(Path)`: a positive integer.
    pub(super) fn dyn_seconds(
        &self,
        fid: FrameId,
        d: Option<&Dyn<u64>>,
        field: &str,
        input: &Value,
        ctx: &Value,
        src: &mut dyn Sources,
    ) -> Result<Option<u64>, Failure> {
        match self.dyn_u64(fid, d, field, input, ctx, src)? {
            Some(0) => Err(Failure::eval(StatesError::runtime(format!(
                "{field} must be a positive integer."
            )))),
            other => Ok(other),
        }
    }

    pub(super) fn task_result(
        &mut self,
        task: u64,
        result: Result<Value, StatesError>,
        src: &mut dyn Sources,
    ) {
        let Some(fid) = self.tasks.remove(&task) else {
            return;
        };
        let machine = Arc::clone(&self.machine);
        let path = Arc::clone(&self.frame(fid).path);
        let states = states_at(&machine.definition, &path);
        let Some(mut a) = self.take_active(fid) else {
            return;
        };
        let tw = match std::mem::replace(&mut a.wait, Blocked::Nothing) {
            Blocked::Task(tw) => tw,
            other => {
                a.wait = other;
                self.frame(fid).stage = Stage::Active(a);
                return;
            }
        };
        for t in [tw.timeout_timer, tw.heartbeat_timer].into_iter().flatten() {
            self.cancel_timer(t);
        }
        let st = states.get(a.state);
        let input = a.input.clone();
        self.frame(fid).stage = Stage::Active(a);
        let flow = match result {
            Ok(output) => {
                let output = Arc::new(output);
                self.inspect(fid, |r| r.data.result = Some(Value::clone(&output)));
                let (t, d) = match tw.kind {
                    ResourceKind::Service => (
                        EventType::TaskSucceeded,
                        Details::TaskOutput(Box::new(TaskOutputDetails {
                            resource_type: tw.resource_type.clone(),
                            resource: tw.resource.clone(),
                            output: Value::clone(&output),
                        })),
                    ),
                    ResourceKind::Activity => (
                        EventType::ActivitySucceeded,
                        Details::Output {
                            output: Arc::clone(&output),
                        },
                    ),
                    ResourceKind::Lambda => (
                        EventType::LambdaFunctionSucceeded,
                        Details::Output {
                            output: Arc::clone(&output),
                        },
                    ),
                };
                self.emit(fid, t, d);
                let ctx = self.context_for(fid, st);
                match self.complete(fid, st, input, output, &ctx, true, None, src) {
                    Ok(out) => Self::transition(st, out),
                    Err(f) => Flow::Failed(f),
                }
            }
            Err(err) => {
                self.emit_task_failure(fid, &tw, false, &err);
                Flow::Failed(Failure::plain(err))
            }
        };
        if self.after_flow(fid, states, flow, src) {
            self.runnable.push_back(fid);
        }
    }

    pub(super) fn emit_task_failure(
        &mut self,
        fid: FrameId,
        tw: &TaskWait,
        timed_out: bool,
        err: &StatesError,
    ) {
        // Left out when empty: `SendTaskFailure` without `error` (AWS writes neither).
        let error = (!err.error.is_empty()).then(|| err.error.clone());
        let cause = if err.cause.is_empty() {
            None
        } else {
            Some(err.cause.clone())
        };
        let (t, d) = match tw.kind {
            ResourceKind::Service => (
                if timed_out {
                    EventType::TaskTimedOut
                } else {
                    EventType::TaskFailed
                },
                Details::TaskFailure(Box::new(TaskFailureDetails {
                    resource_type: tw.resource_type.clone(),
                    resource: tw.resource.clone(),
                    error,
                    cause,
                })),
            ),
            ResourceKind::Activity => (
                if timed_out {
                    EventType::ActivityTimedOut
                } else {
                    EventType::ActivityFailed
                },
                Details::Failure { error, cause },
            ),
            ResourceKind::Lambda => (
                if timed_out {
                    EventType::LambdaFunctionTimedOut
                } else {
                    EventType::LambdaFunctionFailed
                },
                Details::Failure { error, cause },
            ),
        };
        self.emit(fid, t, d);
    }

    pub(super) fn task_heartbeat(&mut self, task: u64) {
        let Some(&fid) = self.tasks.get(&task) else {
            return;
        };
        let now = self.now;
        let (old, secs) = match &self.frame(fid).stage {
            Stage::Active(a) => match &a.wait {
                Blocked::Task(tw) => (tw.heartbeat_timer, tw.heartbeat_seconds),
                _ => return,
            },
            _ => return,
        };
        let (Some(old), Some(secs)) = (old, secs) else {
            return;
        };
        self.cancel_timer(old);
        let new = self.arm_timer(now + secs as i64 * 1000);
        self.timers.insert(new, fid);
        if let Stage::Active(a) = &mut self.frame(fid).stage {
            if let Blocked::Task(tw) = &mut a.wait {
                tw.heartbeat_timer = Some(new);
            }
        }
    }

    /// The call of a `.waitForTaskToken` or `.sync` task went out: `TaskSubmitted` with
    /// what it returned.
    pub(super) fn task_submitted(&mut self, task: u64, output: Value) {
        let Some(&fid) = self.tasks.get(&task) else {
            return;
        };
        let details = match &self.frame(fid).stage {
            Stage::Active(a) => match &a.wait {
                Blocked::Task(tw) if tw.kind == ResourceKind::Service => {
                    Details::TaskOutput(Box::new(TaskOutputDetails {
                        resource_type: tw.resource_type.clone(),
                        resource: tw.resource.clone(),
                        output,
                    }))
                }
                _ => return,
            },
            _ => return,
        };
        self.emit(fid, EventType::TaskSubmitted, details);
    }
}
