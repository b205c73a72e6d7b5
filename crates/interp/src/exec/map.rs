//! Map: `ItemsPath` / `Items`, `ItemSelector`, `MaxConcurrency(Path)`,
//! `ToleratedFailureCount(Path)`, `ToleratedFailurePercentage(Path)`, `ItemProcessor`
//! (`ProcessorConfig.Mode` and `ExecutionType`), `Label`; a Distributed Map's
//! `ItemBatcher` is applied to the selected items in `item_batcher.rs`.

use super::*;

impl Execution {
    pub(super) fn run_map(
        &mut self,
        fid: FrameId,
        st: &State,
        m: &stepwise_asl::Map,
        input: Arc<Value>,
        ctx: &Value,
        src: &mut dyn Sources,
    ) -> Result<Flow, Failure> {
        let (items, eff) = self.map_items(fid, st, m, &input, ctx, src)?;
        let limit = match self.dyn_u64(
            fid,
            m.max_concurrency.as_ref(),
            "MaxConcurrency",
            &input,
            ctx,
            src,
        )? {
            Some(0) | None => usize::MAX,
            Some(n) => n as usize,
        };
        self.inspect(fid, |r| {
            r.data.max_concurrency = Some(if limit == usize::MAX { 0 } else { limit as u64 })
        });
        // ItemSelector is applied to every item before any iteration starts.
        let n = items.len();
        let mut pending = VecDeque::with_capacity(n);
        let needs_item_ctx = m.item_selector.is_some();
        for (i, item) in items.into_iter().enumerate() {
            let v = match &m.item_selector {
                None => item,
                Some(sel) => {
                    let entered = match &self.frame(fid).stage {
                        Stage::Active(a) => a.entered_millis,
                        _ => self.now,
                    };
                    let mut mi = Map::new();
                    let mut itm = Map::new();
                    itm.insert("Index".into(), Value::from(i));
                    itm.insert("Value".into(), item);
                    mi.insert("Item".into(), Value::Object(itm));
                    let ictx = if needs_item_ctx {
                        let retries = self.entered_and_retries(fid, st).1;
                        self.context_value(
                            fid,
                            &st.name,
                            entered,
                            retries,
                            Some(("Map", Value::Object(mi))),
                        )
                    } else {
                        Value::Null
                    };
                    let vars = self.vars(fid);
                    match sel {
                        MapSelector::JsonPath(t) => {
                            let env = Env {
                                context: &ictx,
                                vars: &vars,
                            };
                            dataflow::template(t, &eff, &env, src).map_err(Failure::eval)?
                        }
                        MapSelector::Jsonata(t) => {
                            let states = Self::states_value(&input, &ictx, &[]);
                            let scope = JsonataScope {
                                states: &states,
                                vars: &vars,
                            };
                            t.eval("ItemSelector", &scope, src)?
                        }
                    }
                }
            };
            pending.push_back(Arc::new(v));
        }
        if m.item_selector.is_some() && self.inspector.is_some() {
            let selected: Vec<Value> = pending.iter().map(|v| Value::clone(v)).collect();
            self.inspect(fid, |r| {
                r.data.after_item_selector = Some(Value::Array(selected))
            });
        }
        // A Distributed Map's ItemBatcher: one child execution per batch of (selected)
        // items.
        let mut batch_sizes = Vec::new();
        if let (Some(b), ProcessorMode::Distributed) = (&m.item_batcher, m.mode) {
            let selected: Vec<Value> = pending.into_iter().map(Arc::unwrap_or_clone).collect();
            let batches = self.batch_items(fid, b, selected, &input, &eff, ctx, src)?;
            pending = batches.inputs.into_iter().map(Arc::new).collect();
            batch_sizes = batches.sizes;
        }
        let children = pending.len();
        self.emit(
            fid,
            EventType::MapStateStarted,
            Details::MapStateStarted { length: n },
        );
        let tolerated_count = self.dyn_u64(
            fid,
            m.tolerated_failure_count.as_ref(),
            "ToleratedFailureCount",
            &input,
            ctx,
            src,
        )?;
        let tolerated_pct = self.dyn_percentage(
            fid,
            m.tolerated_failure_percentage.as_ref(),
            &input,
            ctx,
            src,
        )?;
        self.inspect(fid, |r| {
            r.data.tolerated_failure_count = tolerated_count;
            r.data.tolerated_failure_percentage = tolerated_pct;
        });
        let kind = if m.mode == ProcessorMode::Distributed {
            FanKind::MapRun
        } else {
            FanKind::Map
        };
        let mut run = None;
        if kind == FanKind::MapRun {
            self.map_runs += 1;
            // Inside a child execution, its machine (`NAME/LABEL`) owns the run.
            let owner = self
                .frame(fid)
                .sink
                .and_then(|c| self.children.get(&c))
                .and_then(|c| c.state_machine_arn.split_once(":stateMachine:"))
                .map_or_else(
                    || self.info.state_machine_name.clone(),
                    |(_, m)| m.to_string(),
                );
            // Without a Label, AWS generates one.
            let label = m.label.clone().unwrap_or_else(|| src.uuid());
            let arn = format!(
                "arn:{}:states:{}:{}:mapRun:{owner}/{label}:{}",
                stepwise_asl::partition_of(&self.info.region),
                self.info.region,
                self.info.account,
                map_run_id(src)
            );
            run = Some(self.runs.len());
            self.runs.push(MapRunInfo {
                arn: arn.clone(),
                state_name: st.name.to_string(),
                status: Status::Running,
                start_millis: self.now,
                stop_millis: None,
                max_concurrency: if limit == usize::MAX { 0 } else { limit as u64 },
                tolerated_failure_count: tolerated_count.unwrap_or(0),
                tolerated_failure_percentage: tolerated_pct.unwrap_or(0.0),
                items: Counts {
                    pending: n as u64,
                    total: n as u64,
                    ..Counts::default()
                },
                executions: m.item_batcher.is_some().then(|| Counts {
                    pending: children as u64,
                    total: children as u64,
                    ..Counts::default()
                }),
                batch_sizes,
                redrive_count: 0,
                redrive_millis: None,
            });
            self.emit(
                fid,
                EventType::MapRunStarted,
                Details::MapRunStarted { map_run_arn: arn },
            );
        }
        let fan = Fanout {
            kind,
            pending,
            next_index: 0,
            total: children,
            results: vec![None; children],
            running: 0,
            limit,
            succeeded: 0,
            failed: 0,
            tolerated_count,
            tolerated_pct,
            children: Vec::new(),
            redo: VecDeque::new(),
            tolerated_points: Vec::new(),
            failed_items: 0,
            run,
        };
        self.start_fanout(fid, st, fan, src)
    }

    /// `ToleratedFailurePercentage(Path)`: a number (or numeric text) from 0 to 100.
    pub(super) fn dyn_percentage(
        &self,
        fid: FrameId,
        d: Option<&Dyn<f64>>,
        input: &Value,
        ctx: &Value,
        src: &mut dyn Sources,
    ) -> Result<Option<f64>, Failure> {
        let parse = |v: &Value| match v {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse::<f64>().ok().filter(|f| f.is_finite()),
            _ => None,
        };
        let literal = |v: &f64| *v;
        let pct = self.dyn_number(
            fid,
            d,
            literal,
            "ToleratedFailurePercentage",
            "float",
            "number",
            parse,
            input,
            ctx,
            src,
        )?;
        match pct {
            Some(p) if !(0.0..=100.0).contains(&p) => Err(Failure::eval(StatesError::runtime(
                "ToleratedFailurePercentage must be between 0 and 100.",
            ))),
            other => Ok(other),
        }
    }

    /// The items a Map iterates over, and the effective input ItemSelector sees.
    pub(super) fn map_items(
        &mut self,
        fid: FrameId,
        st: &State,
        m: &stepwise_asl::Map,
        input: &Arc<Value>,
        ctx: &Value,
        src: &mut dyn Sources,
    ) -> Result<(Vec<Value>, Arc<Value>), Failure> {
        // TestState's mock stands for the ItemReader as well as the processor: nothing
        // is read.
        if m.item_reader.is_some() && self.single.is_some() {
            return Ok((Vec::new(), Arc::clone(input)));
        }
        match st.query_language {
            QueryLanguage::JsonPath => {
                let eff = self.input_path(fid, &st.io, Arc::clone(input), ctx)?;
                let items = match &m.items_path {
                    None => Some(Value::clone(&eff)),
                    Some(p) => {
                        let vars = self.vars(fid);
                        let env = Env {
                            context: ctx,
                            vars: &vars,
                        };
                        p.select(&env.scope(&eff))
                    }
                };
                match items {
                    Some(Value::Array(a)) => {
                        self.inspect(fid, |r| {
                            r.data.after_items_path = Some(Value::Array(a.clone()))
                        });
                        Ok((a, eff))
                    }
                    _ if self.single.is_some() => Err(Self::alone_items_not_array(
                        m.items_path.as_ref().map(|p| p.as_str()),
                    )),
                    None => Err(Failure::eval(StatesError::runtime(
                        m.items_path
                            .as_ref()
                            .map(|p| p.no_results_cause())
                            .unwrap_or_default(),
                    ))),
                    Some(other) => Err(Failure::eval(StatesError::runtime(format!(
                        "Map state input must be an array but was: {}",
                        other
                    )))),
                }
            }
            QueryLanguage::Jsonata => {
                let vars = self.vars(fid);
                let states = Self::states_value(input, ctx, &[]);
                let scope = JsonataScope {
                    states: &states,
                    vars: &vars,
                };
                let items = match &m.items {
                    None => Value::clone(input),
                    Some(t) => match t.as_expr() {
                        Some(e) => {
                            let v = e
                                .eval("Items", &scope, src)
                                .map_err(|e| Failure::at(e, "Items"))?;
                            match v {
                                Some(Value::Array(a)) => Value::Array(a),
                                Some(other) => {
                                    return Err(Failure::at(
                                        e.unexpected_type_error("Items", "array", &other),
                                        "Items",
                                    ))
                                }
                                None => {
                                    return Err(Failure::at(
                                        e.unsupported_type_error("Items"),
                                        "Items",
                                    ))
                                }
                            }
                        }
                        None => t.eval("Items", &scope, src)?,
                    },
                };
                // Items from the state input are within the payload limit already; ones
                // an expression makes are held to it too (each becomes an iteration).
                if m.items.is_some()
                    && dataflow::check_payload(&items, dataflow::MAX_PAYLOAD_BYTES).is_err()
                {
                    return Err(Failure::at(
                        StatesError::new(
                            names::DATA_LIMIT_EXCEEDED,
                            format!(
                                "The Items of the state '{}' have a size exceeding the maximum number of bytes service limit.",
                                st.name
                            ),
                        ),
                        "Items",
                    ));
                }
                match items {
                    Value::Array(a) => Ok((a, Arc::clone(input))),
                    other => Err(Failure::eval(StatesError::query_evaluation(format!(
                        "Map state input must be an array but was: {}",
                        other
                    )))),
                }
            }
        }
    }
}
