//! State machines, versions, aliases, activities and tags: kept whole in memory,
//! written through to the store.

use crate::error::{Error, ErrorCode, Result};
use crate::sources::{now_millis, SystemSources};
use crate::{Engine, MachineEntry, State, VersionEntry};
use serde_json::{Map, Value};
use std::sync::Arc;
use stepwise_expr::Sources;
use stepwise_interp::Machine;
use stepwise_store::{
    ActivityRecord, AliasRecord, Batch, Catalog, MachineType, StateMachineRecord, VersionRecord,
    Write,
};

/// Marks the revision a machine was created with (not shown by DescribeStateMachine).
const INITIAL_REVISION: &str = "initial:";

/// AWS's limit on tags per resource.
const MAX_TAGS: usize = 50;

/// CreateStateMachine's arguments (already checked for shape by the API layer).
#[derive(Debug, Clone)]
pub struct NewStateMachine {
    pub name: String,
    pub definition: String,
    pub role_arn: String,
    pub machine_type: MachineType,
    /// loggingConfiguration, tracingConfiguration, encryptionConfiguration, with defaults.
    pub config: Map<String, Value>,
    pub tags: Vec<(String, String)>,
    pub publish: bool,
    pub version_description: Option<String>,
}

impl NewStateMachine {
    /// A STANDARD machine with the default configuration, no tags, not published.
    pub fn standard(name: &str, definition: String, role_arn: &str) -> NewStateMachine {
        NewStateMachine {
            name: name.to_string(),
            definition,
            role_arn: role_arn.to_string(),
            machine_type: MachineType::Standard,
            config: Map::new(),
            tags: Vec::new(),
            publish: false,
            version_description: None,
        }
    }
}

/// UpdateStateMachine's arguments.
#[derive(Debug, Clone, Default)]
pub struct StateMachineUpdate {
    pub definition: Option<String>,
    pub role_arn: Option<String>,
    /// Members to replace in the configuration.
    pub config: Map<String, Value>,
    pub publish: bool,
    pub version_description: Option<String>,
}

/// A state machine or one of its versions, as DescribeStateMachine shows it.
#[derive(Debug, Clone)]
pub struct MachineView {
    pub arn: String,
    pub name: String,
    pub definition: String,
    pub role_arn: String,
    pub machine_type: MachineType,
    pub created_millis: i64,
    /// AWS shows a machine's revision id only once it was updated; versions always.
    pub revision_id: Option<String>,
    pub config: Map<String, Value>,
    /// Versions only.
    pub description: Option<String>,
    /// ACTIVE, or DELETING while executions of a deleted machine still run.
    pub status: &'static str,
}

/// A version in ListStateMachineVersions.
#[derive(Debug, Clone)]
pub struct VersionView {
    pub arn: String,
    pub created_millis: i64,
}

/// An alias as DescribeStateMachineAlias shows it.
#[derive(Debug, Clone)]
pub struct AliasView {
    pub arn: String,
    pub name: String,
    pub description: Option<String>,
    pub routing: Vec<(String, u32)>,
    pub created_millis: i64,
    pub updated_millis: i64,
}

impl From<&AliasRecord> for AliasView {
    fn from(a: &AliasRecord) -> AliasView {
        AliasView {
            arn: a.arn.clone(),
            name: a.name.clone(),
            description: a.description.clone(),
            routing: a.routing.clone(),
            created_millis: a.created_millis,
            updated_millis: a.updated_millis,
        }
    }
}

pub(crate) fn deleting(arn: &str) -> Error {
    Error::new(
        ErrorCode::StateMachineDeleting,
        format!("State Machine is being deleted: '{arn}'"),
    )
}

pub(crate) fn not_found(arn: &str) -> Error {
    Error::new(
        ErrorCode::StateMachineDoesNotExist,
        format!("State Machine Does Not Exist: '{arn}'"),
    )
}

fn parse_config(text: &str) -> Map<String, Value> {
    match serde_json::from_str(text) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

fn machine_view(rec: &StateMachineRecord) -> MachineView {
    MachineView {
        arn: rec.arn.clone(),
        name: rec.name.clone(),
        definition: rec.definition.clone(),
        role_arn: rec.role_arn.clone(),
        machine_type: rec.machine_type,
        created_millis: rec.created_millis,
        revision_id: (!rec.revision_id.starts_with(INITIAL_REVISION))
            .then(|| rec.revision_id.clone()),
        config: parse_config(&rec.config),
        description: None,
        status: "ACTIVE",
    }
}

impl State {
    /// Keep the steps' copy of the activity ARNs (`Inner::activity_arns`) in line.
    fn note_activity(&self, arn: &str, exists: bool) {
        if let Ok(mut set) = self.activity_arns.write() {
            if exists {
                set.insert(arn.to_string());
            } else {
                set.remove(arn);
            }
        }
    }

    pub(crate) fn load_catalog(&mut self, cat: Catalog) {
        for rec in cat.state_machines {
            match self.machine_for(&rec.definition) {
                Ok(machine) => {
                    self.machines
                        .insert(rec.arn.clone(), MachineEntry { rec, machine });
                }
                Err(e) => {
                    tracing::warn!(arn = %rec.arn, error = %e, "stored definition no longer parses")
                }
            }
        }
        for rec in cat.versions {
            if let Ok(machine) = self.machine_for(&rec.definition) {
                self.versions
                    .insert(rec.arn.clone(), VersionEntry { rec, machine });
            }
        }
        for a in cat.aliases {
            self.aliases.insert(a.arn.clone(), a);
        }
        for a in cat.activities {
            self.note_activity(&a.arn, true);
            self.activities.insert(a.arn.clone(), a);
        }
        for (arn, k, v) in cat.tags {
            self.tags.entry(arn).or_default().push((k, v));
        }
    }

    fn machine(&self, arn: &str) -> Result<&MachineEntry> {
        self.machines.get(arn).ok_or_else(|| not_found(arn))
    }

    /// Publish the machine's current revision unless it already is the newest version.
    fn publish(
        &mut self,
        arn: &str,
        description: Option<String>,
        batch: &mut Batch,
        now: i64,
    ) -> Result<VersionView> {
        let entry = self.machine(arn)?;
        let latest = self
            .versions
            .values()
            .filter(|v| v.rec.machine_arn == arn)
            .max_by_key(|v| v.rec.version);
        if let Some(v) = latest {
            if v.rec.revision_id == entry.rec.revision_id {
                return Ok(VersionView {
                    arn: v.rec.arn.clone(),
                    created_millis: v.rec.created_millis,
                });
            }
        }
        let count = self
            .versions
            .values()
            .filter(|v| v.rec.machine_arn == arn)
            .count();
        if count >= 1000 {
            return Err(Error::new(
                ErrorCode::ServiceQuotaExceededException,
                format!("Maximum number of versions (1000) reached for state machine '{arn}'"),
            ));
        }
        let Some(entry) = self.machines.get_mut(arn) else {
            return Err(not_found(arn));
        };
        let version = entry.rec.next_version;
        entry.rec.next_version += 1;
        let rec = VersionRecord {
            arn: format!("{arn}:{version}"),
            machine_arn: arn.to_string(),
            version,
            definition: entry.rec.definition.clone(),
            role_arn: entry.rec.role_arn.clone(),
            revision_id: entry.rec.revision_id.clone(),
            description,
            created_millis: now,
            config: entry.rec.config.clone(),
        };
        let machine = Arc::clone(&entry.machine);
        batch.push(Write::PutStateMachine(entry.rec.clone()));
        batch.push(Write::PutVersion(rec.clone()));
        let view = VersionView {
            arn: rec.arn.clone(),
            created_millis: now,
        };
        self.versions
            .insert(rec.arn.clone(), VersionEntry { rec, machine });
        Ok(view)
    }

    /// The resource a tag call names must exist.
    fn taggable(&self, arn: &str) -> bool {
        self.machines.contains_key(arn)
            || self.activities.contains_key(arn)
            || self.aliases.contains_key(arn)
    }
}

fn check_definition(
    st: &mut State,
    definition: &str,
    machine_type: MachineType,
) -> Result<Arc<Machine>> {
    let m = st
        .machine_for(definition)
        .map_err(|m| Error::new(ErrorCode::InvalidDefinition, m))?;
    if machine_type == MachineType::Express {
        let diags = stepwise_asl::check_express(&m.definition);
        if !diags.is_empty() {
            return Err(Error::new(
                ErrorCode::InvalidDefinition,
                stepwise_asl::aws_message(&diags),
            ));
        }
    }
    Ok(m)
}

impl Engine {
    pub(crate) fn recover_catalog(&self) -> Result<()> {
        let cat = self.inner.store.load_catalog().map_err(Error::store)?;
        self.inner.lock().load_catalog(cat);
        Ok(())
    }

    /// Commit a batch and wait until it is durable.
    pub(crate) async fn commit(&self, batch: Batch) -> Result<()> {
        let seq = self.inner.committer.submit(batch);
        self.inner
            .committer
            .wait(seq)
            .await
            .map_err(|_| Error::commit())
    }

    /// CreateStateMachine in the server's scope (`--region`, `--account`).
    pub async fn create_state_machine(
        &self,
        req: NewStateMachine,
    ) -> Result<(MachineView, Option<VersionView>)> {
        self.create_state_machine_in(&self.default_scope(), req)
            .await
    }

    /// CreateStateMachine in `scope`: the machine's ARN names its region and account.
    pub async fn create_state_machine_in(
        &self,
        scope: &crate::Scope,
        req: NewStateMachine,
    ) -> Result<(MachineView, Option<VersionView>)> {
        let now = now_millis();
        let arn = format!("{}stateMachine:{}", scope.arn_prefix(), req.name);
        let mut batch = Batch::default();
        let out = {
            let mut st = self.inner.lock();
            if st.deleting.contains_key(&arn) {
                return Err(deleting(&arn));
            }
            check_definition(&mut st, &req.definition, req.machine_type)?;
            let config_text = Value::Object(req.config.clone()).to_string();
            if let Some(existing) = st.machines.get(&arn) {
                let same = existing.rec.definition == req.definition
                    && existing.rec.machine_type == req.machine_type
                    && parse_config(&existing.rec.config) == req.config;
                if !same {
                    return Err(Error::new(
                        ErrorCode::StateMachineAlreadyExists,
                        format!("State Machine Already Exists: '{arn}'"),
                    ));
                }
                // Idempotent: roleArn and tags differences are ignored, as on AWS.
                let view = machine_view(&existing.rec);
                let version = if req.publish {
                    Some(st.publish(&arn, req.version_description, &mut batch, now)?)
                } else {
                    None
                };
                (view, version)
            } else {
                if req.tags.len() > MAX_TAGS {
                    return Err(too_many_tags(&arn));
                }
                let machine = check_definition(&mut st, &req.definition, req.machine_type)?;
                let rec = StateMachineRecord {
                    arn: arn.clone(),
                    name: req.name.clone(),
                    machine_type: req.machine_type,
                    definition: req.definition.clone(),
                    role_arn: req.role_arn.clone(),
                    revision_id: format!("{INITIAL_REVISION}{}", SystemSources.uuid()),
                    created_millis: now,
                    config: config_text,
                    next_version: 1,
                };
                batch.push(Write::PutStateMachine(rec.clone()));
                if !req.tags.is_empty() {
                    batch.push(Write::PutTags {
                        arn: arn.clone(),
                        tags: req.tags.clone(),
                    });
                    st.tags.insert(arn.clone(), req.tags.clone());
                }
                let view = machine_view(&rec);
                st.machines
                    .insert(arn.clone(), MachineEntry { rec, machine });
                let version = if req.publish {
                    Some(st.publish(&arn, req.version_description, &mut batch, now)?)
                } else {
                    None
                };
                (view, version)
            }
        };
        self.commit(batch).await?;
        Ok(out)
    }

    /// A machine (unqualified ARN) or a version (`…:N`).
    pub fn describe_state_machine(&self, arn: &str) -> Result<MachineView> {
        let st = self.inner.lock();
        if let Some(e) = st.machines.get(arn) {
            return Ok(machine_view(&e.rec));
        }
        if let Some(e) = st.deleting.get(arn) {
            return Ok(MachineView {
                status: "DELETING",
                ..machine_view(&e.rec)
            });
        }
        if let Some(v) = st.versions.get(arn) {
            let machine_type = st
                .machines
                .get(&v.rec.machine_arn)
                .map_or(MachineType::Standard, |m| m.rec.machine_type);
            return Ok(MachineView {
                arn: v.rec.arn.clone(),
                name: v
                    .rec
                    .machine_arn
                    .rsplit(':')
                    .next()
                    .unwrap_or_default()
                    .to_string(),
                definition: v.rec.definition.clone(),
                role_arn: v.rec.role_arn.clone(),
                machine_type,
                created_millis: v.rec.created_millis,
                // A version of the machine's first revision has none, as AWS.
                revision_id: (!v.rec.revision_id.starts_with(INITIAL_REVISION))
                    .then(|| v.rec.revision_id.clone()),
                config: parse_config(&v.rec.config),
                description: v.rec.description.clone(),
                status: "ACTIVE",
            });
        }
        Err(not_found(arn))
    }

    /// Every state machine, ordered by ARN.
    pub fn list_state_machines(&self) -> Vec<MachineView> {
        let st = self.inner.lock();
        st.machines.values().map(|e| machine_view(&e.rec)).collect()
    }

    /// Returns the update time, the revision id (none while the machine is unchanged since
    /// its creation) and the published version.
    pub async fn update_state_machine(
        &self,
        arn: &str,
        upd: StateMachineUpdate,
    ) -> Result<(i64, Option<String>, Option<VersionView>)> {
        let now = now_millis();
        let mut batch = Batch::default();
        let out = {
            let mut st = self.inner.lock();
            let machine_type = st.machine(arn)?.rec.machine_type;
            let machine = match &upd.definition {
                Some(d) => Some(check_definition(&mut st, d, machine_type)?),
                None => None,
            };
            let Some(entry) = st.machines.get_mut(arn) else {
                return Err(not_found(arn));
            };
            let mut changed = false;
            if let (Some(d), Some(m)) = (&upd.definition, machine) {
                changed |= *d != entry.rec.definition;
                entry.rec.definition = d.clone();
                entry.machine = m;
            }
            if let Some(r) = &upd.role_arn {
                changed |= *r != entry.rec.role_arn;
                entry.rec.role_arn = r.clone();
            }
            if !upd.config.is_empty() {
                let mut cfg = parse_config(&entry.rec.config);
                for (k, v) in upd.config {
                    cfg.insert(k, v);
                }
                let text = Value::Object(cfg).to_string();
                changed |= text != entry.rec.config;
                entry.rec.config = text;
            }
            if changed {
                entry.rec.revision_id = SystemSources.uuid();
            }
            // The first revision has no id to show (an update that changed nothing).
            let revision = (!entry.rec.revision_id.starts_with(INITIAL_REVISION))
                .then(|| entry.rec.revision_id.clone());
            batch.push(Write::PutStateMachine(entry.rec.clone()));
            let version = if upd.publish {
                Some(st.publish(arn, upd.version_description, &mut batch, now)?)
            } else {
                None
            };
            (now, revision, version)
        };
        self.commit(batch).await?;
        Ok(out)
    }

    /// Deletes the machine with its versions, aliases and tags. Running executions go on
    /// with the definition they started with. Deleting a missing machine succeeds, as on AWS.
    pub async fn delete_state_machine(&self, arn: &str) -> Result<()> {
        let mut batch = Batch::default();
        let is_version = self.inner.lock().versions.contains_key(arn);
        if is_version {
            return self.delete_state_machine_version(arn).await;
        }
        {
            let mut st = self.inner.lock();
            let Some(entry) = st.machines.remove(arn) else {
                return Ok(());
            };
            if entry.rec.machine_type == MachineType::Standard && st.runs_executions_of(arn) {
                st.deleting.insert(arn.to_string(), entry);
            }
            st.versions.retain(|_, v| v.rec.machine_arn != arn);
            st.aliases.retain(|_, a| a.machine_arn != arn);
            let prefix = format!("{arn}:");
            st.tags.retain(|k, _| k != arn && !k.starts_with(&prefix));
            batch.push(Write::DeleteStateMachine {
                arn: arn.to_string(),
            });
        }
        self.commit(batch).await
    }

    pub async fn publish_state_machine_version(
        &self,
        arn: &str,
        revision_id: Option<&str>,
        description: Option<String>,
    ) -> Result<VersionView> {
        let now = now_millis();
        let mut batch = Batch::default();
        let v = {
            let mut st = self.inner.lock();
            let entry = st.machine(arn)?;
            if let Some(r) = revision_id {
                let current = entry.rec.revision_id.trim_start_matches(INITIAL_REVISION);
                if r != current {
                    return Err(Error::new(
                        ErrorCode::ConflictException,
                        format!(
                            "Failed to publish the State Machine version for revision {r}. The current State Machine revision is {current}."
                        ),
                    ));
                }
            }
            st.publish(arn, description, &mut batch, now)?
        };
        self.commit(batch).await?;
        Ok(v)
    }

    /// Versions of a machine, newest first.
    pub fn list_state_machine_versions(&self, arn: &str) -> Result<Vec<VersionView>> {
        let st = self.inner.lock();
        st.machine(arn)?;
        let mut v: Vec<&VersionEntry> = st
            .versions
            .values()
            .filter(|v| v.rec.machine_arn == arn)
            .collect();
        v.sort_by_key(|v| std::cmp::Reverse(v.rec.version));
        Ok(v.into_iter()
            .map(|v| VersionView {
                arn: v.rec.arn.clone(),
                created_millis: v.rec.created_millis,
            })
            .collect())
    }

    pub async fn delete_state_machine_version(&self, arn: &str) -> Result<()> {
        let mut batch = Batch::default();
        {
            let mut st = self.inner.lock();
            if !st.versions.contains_key(arn) {
                return Ok(());
            }
            let users: Vec<String> = st
                .aliases
                .values()
                .filter(|a| a.routing.iter().any(|(v, _)| v == arn))
                .map(|a| a.name.clone())
                .collect();
            if !users.is_empty() {
                return Err(Error::new(
                    ErrorCode::ConflictException,
                    format!(
                        "Version to be deleted must not be referenced by an alias. Current list of aliases referencing this version: [{}]",
                        users.join(", ")
                    ),
                ));
            }
            st.versions.remove(arn);
            batch.push(Write::DeleteVersion {
                arn: arn.to_string(),
            });
        }
        self.commit(batch).await
    }

    fn check_routing(st: &State, machine_arn: &str, routing: &[(String, u32)]) -> Result<()> {
        for (v, _) in routing {
            match st.versions.get(v) {
                Some(e) if e.rec.machine_arn == machine_arn => {}
                _ => {
                    return Err(Error::new(
                        ErrorCode::ResourceNotFound,
                        format!("Resource not found: '{v}'"),
                    ))
                }
            }
        }
        let sum: u32 = routing.iter().map(|(_, w)| *w).sum();
        if sum != 100 {
            let weights: Vec<String> = routing.iter().map(|(_, w)| w.to_string()).collect();
            return Err(Error::new(
                ErrorCode::ValidationException,
                format!(
                    "Sum of routing configuration weights must equal 100. Received: [{}]",
                    weights.join(", ")
                ),
            ));
        }
        Ok(())
    }

    pub async fn create_state_machine_alias(
        &self,
        name: &str,
        description: Option<String>,
        routing: Vec<(String, u32)>,
    ) -> Result<AliasView> {
        let now = now_millis();
        let mut batch = Batch::default();
        let view = {
            let mut st = self.inner.lock();
            // The machine is the one of the first version.
            let machine_arn = routing
                .first()
                .and_then(|(v, _)| st.versions.get(v))
                .map(|v| v.rec.machine_arn.clone())
                .ok_or_else(|| {
                    let v = routing.first().map(|r| r.0.as_str()).unwrap_or_default();
                    Error::new(
                        ErrorCode::ResourceNotFound,
                        format!("Resource not found: '{v}'"),
                    )
                })?;
            Self::check_routing(&st, &machine_arn, &routing)?;
            let arn = format!("{machine_arn}:{name}");
            if let Some(a) = st.aliases.get(&arn) {
                if a.description == description && a.routing == routing {
                    return Ok(AliasView::from(a));
                }
                return Err(Error::new(
                    ErrorCode::ConflictException,
                    "Failed to create alias because an alias with the same name and a different routing configuration already exists.",
                ));
            }
            let rec = AliasRecord {
                arn: arn.clone(),
                machine_arn,
                name: name.to_string(),
                description,
                routing,
                created_millis: now,
                updated_millis: now,
            };
            batch.push(Write::PutAlias(rec.clone()));
            let v = AliasView::from(&rec);
            st.aliases.insert(arn, rec);
            v
        };
        self.commit(batch).await?;
        Ok(view)
    }

    pub fn describe_state_machine_alias(&self, arn: &str) -> Result<AliasView> {
        let st = self.inner.lock();
        st.aliases
            .get(arn)
            .map(AliasView::from)
            .ok_or_else(alias_not_found)
    }

    pub async fn update_state_machine_alias(
        &self,
        arn: &str,
        description: Option<String>,
        routing: Option<Vec<(String, u32)>>,
    ) -> Result<i64> {
        let now = now_millis();
        let mut batch = Batch::default();
        {
            let mut st = self.inner.lock();
            let Some(a) = st.aliases.get(arn) else {
                return Err(alias_not_found());
            };
            if let Some(r) = &routing {
                Self::check_routing(&st, &a.machine_arn.clone(), r)?;
            }
            let Some(a) = st.aliases.get_mut(arn) else {
                return Err(alias_not_found());
            };
            if let Some(d) = description {
                a.description = Some(d);
            }
            if let Some(r) = routing {
                a.routing = r;
            }
            a.updated_millis = now;
            batch.push(Write::PutAlias(a.clone()));
        }
        self.commit(batch).await?;
        Ok(now)
    }

    pub async fn delete_state_machine_alias(&self, arn: &str) -> Result<()> {
        let mut batch = Batch::default();
        {
            let mut st = self.inner.lock();
            if st.aliases.remove(arn).is_none() {
                return Ok(());
            }
            st.tags.remove(arn);
            batch.push(Write::DeleteAlias {
                arn: arn.to_string(),
            });
        }
        self.commit(batch).await
    }

    /// Aliases of a machine, ordered by ARN.
    pub fn list_state_machine_aliases(&self, machine_arn: &str) -> Result<Vec<AliasView>> {
        let st = self.inner.lock();
        st.machine(machine_arn)?;
        Ok(st
            .aliases
            .values()
            .filter(|a| a.machine_arn == machine_arn)
            .map(AliasView::from)
            .collect())
    }

    // ----- activities ----------------------------------------------------------------

    /// Idempotent by name, as on AWS (tags of a repeated call are ignored); in the
    /// server's scope.
    pub async fn create_activity(
        &self,
        name: &str,
        tags: Vec<(String, String)>,
        config: Map<String, Value>,
    ) -> Result<ActivityRecord> {
        self.create_activity_in(&self.default_scope(), name, tags, config)
            .await
    }

    /// CreateActivity in `scope`.
    pub async fn create_activity_in(
        &self,
        scope: &crate::Scope,
        name: &str,
        tags: Vec<(String, String)>,
        config: Map<String, Value>,
    ) -> Result<ActivityRecord> {
        let arn = format!("{}activity:{name}", scope.arn_prefix());
        let mut batch = Batch::default();
        let rec = {
            let mut st = self.inner.lock();
            if let Some(a) = st.activities.get(&arn) {
                return Ok(a.clone());
            }
            if tags.len() > MAX_TAGS {
                return Err(too_many_tags(&arn));
            }
            let rec = ActivityRecord {
                arn: arn.clone(),
                name: name.to_string(),
                created_millis: now_millis(),
                config: Value::Object(config).to_string(),
            };
            batch.push(Write::PutActivity(rec.clone()));
            if !tags.is_empty() {
                batch.push(Write::PutTags {
                    arn: arn.clone(),
                    tags: tags.clone(),
                });
                st.tags.insert(arn.clone(), tags);
            }
            st.note_activity(&arn, true);
            st.activities.insert(arn, rec.clone());
            rec
        };
        self.commit(batch).await?;
        Ok(rec)
    }

    pub fn describe_activity(&self, arn: &str) -> Result<ActivityRecord> {
        self.inner
            .lock()
            .activities
            .get(arn)
            .cloned()
            .ok_or_else(|| activity_not_found(arn))
    }

    pub async fn delete_activity(&self, arn: &str) -> Result<()> {
        let mut batch = Batch::default();
        {
            let mut st = self.inner.lock();
            if st.activities.remove(arn).is_none() {
                return Ok(());
            }
            st.note_activity(arn, false);
            st.tags.remove(arn);
            batch.push(Write::DeleteActivity {
                arn: arn.to_string(),
            });
        }
        self.commit(batch).await
    }

    pub fn list_activities(&self) -> Vec<ActivityRecord> {
        self.inner.lock().activities.values().cloned().collect()
    }

    // ----- tags ----------------------------------------------------------------------

    pub async fn tag_resource(&self, arn: &str, tags: Vec<(String, String)>) -> Result<()> {
        let mut batch = Batch::default();
        {
            let mut st = self.inner.lock();
            if !st.taggable(arn) {
                return Err(resource_not_found(arn));
            }
            let cur = st.tags.entry(arn.to_string()).or_default();
            let mut next = cur.clone();
            for (k, v) in &tags {
                match next.iter_mut().find(|(ek, _)| ek == k) {
                    Some(e) => e.1 = v.clone(),
                    None => next.push((k.clone(), v.clone())),
                }
            }
            if next.len() > MAX_TAGS {
                return Err(too_many_tags(arn));
            }
            *cur = next;
            batch.push(Write::PutTags {
                arn: arn.to_string(),
                tags,
            });
        }
        self.commit(batch).await
    }

    pub async fn untag_resource(&self, arn: &str, keys: Vec<String>) -> Result<()> {
        let mut batch = Batch::default();
        {
            let mut st = self.inner.lock();
            if !st.taggable(arn) {
                return Err(resource_not_found(arn));
            }
            if let Some(cur) = st.tags.get_mut(arn) {
                cur.retain(|(k, _)| !keys.contains(k));
            }
            batch.push(Write::RemoveTags {
                arn: arn.to_string(),
                keys,
            });
        }
        self.commit(batch).await
    }

    pub fn list_tags(&self, arn: &str) -> Result<Vec<(String, String)>> {
        let st = self.inner.lock();
        if !st.taggable(arn) {
            return Err(resource_not_found(arn));
        }
        Ok(st.tags.get(arn).cloned().unwrap_or_default())
    }
}

fn too_many_tags(arn: &str) -> Error {
    Error::new(
        ErrorCode::TooManyTags,
        format!("Too many tags for resource '{arn}': a resource has at most {MAX_TAGS} tags"),
    )
}

/// AWS's words for a missing alias (it does not name the ARN).
fn alias_not_found() -> Error {
    Error::new(
        ErrorCode::ResourceNotFound,
        "Request references a resource that does not exist.",
    )
}

fn resource_not_found(arn: &str) -> Error {
    Error::new(
        ErrorCode::ResourceNotFound,
        format!("Resource not found: '{arn}'"),
    )
}

pub(crate) fn activity_not_found(arn: &str) -> Error {
    Error::new(
        ErrorCode::ActivityDoesNotExist,
        format!("Activity Does Not Exist: '{arn}'"),
    )
}
