//! The Map state: `ItemProcessor` (or the legacy `Iterator`) with its `ProcessorConfig`
//! (`Mode`, `ExecutionType`), `ItemsPath`/`Items`, `ItemSelector` (or the legacy
//! `Parameters`), `MaxConcurrency`, `ToleratedFailureCount`, `ToleratedFailurePercentage`
//! (and their `…Path` forms), `Label`, `ItemBatcher` (`MaxItemsPerBatch(Path)`,
//! `MaxInputBytesPerBatch(Path)`, `BatchInput`), and the shape of `ItemReader` and
//! `ResultWriter`.

use super::{join, Lang, Parser};
use crate::validate;
use crate::{Diagnostic, ItemBatcher, MapSelector, ProcessorMode, QueryLanguage};
use serde_json::{Map, Value};
use stepwise_jsonata::is_expression;

impl Parser {
    pub(super) fn map(
        &mut self,
        obj: &Map<String, Value>,
        p: &str,
        ql: QueryLanguage,
    ) -> Option<crate::definition::Map> {
        let jp = ql == QueryLanguage::JsonPath;
        let (field, legacy_iterator) = match (
            obj.contains_key("ItemProcessor"),
            obj.contains_key("Iterator"),
        ) {
            (true, true) => {
                self.err(
                    p,
                    "Only one of the fields 'ItemProcessor' and 'Iterator' may be set",
                );
                return None;
            }
            (false, false) => {
                self.required(p, "ItemProcessor");
                return None;
            }
            (true, false) => ("ItemProcessor", false),
            (false, true) => ("Iterator", true),
        };
        let pp = join(p, field);
        let (processor, mode, execution_type) = match obj.get(field) {
            Some(Value::Object(proc_obj)) => {
                let (mode, execution_type) = self.processor_config(proc_obj, &pp);
                (
                    self.block(proc_obj, &pp, &[("ProcessorConfig", Lang::Any)]),
                    mode,
                    execution_type,
                )
            }
            _ => {
                self.wrong(p, field, "an OBJECT");
                (None, ProcessorMode::Inline, None)
            }
        };
        let items_path = if jp {
            self.path_field(obj, p, "ItemsPath")
        } else {
            None
        };
        let items = if jp {
            None
        } else {
            match obj.get("Items") {
                Some(Value::Array(_)) => self.jsonata_template(obj, p, "Items", false),
                Some(Value::String(s)) if is_expression(s) => {
                    self.jsonata_template(obj, p, "Items", false)
                }
                Some(_) => {
                    self.wrong(p, "Items", "an ARRAY or a JSONata expression");
                    None
                }
                None => None,
            }
        };
        let item_selector = match (
            obj.contains_key("ItemSelector"),
            jp && obj.contains_key("Parameters"),
        ) {
            (true, true) => {
                self.err(
                    p,
                    "Only one of the fields 'ItemSelector' and 'Parameters' may be set",
                );
                None
            }
            (true, false) if jp => self
                .payload(obj, p, "ItemSelector")
                .map(MapSelector::JsonPath),
            (true, false) => self
                .jsonata_template(obj, p, "ItemSelector", true)
                .map(MapSelector::Jsonata),
            (false, true) => self
                .payload(obj, p, "Parameters")
                .map(MapSelector::JsonPath),
            (false, false) => None,
        };
        let max_concurrency = self.dyn_uint(
            obj,
            p,
            "MaxConcurrency",
            Some("MaxConcurrencyPath"),
            ql,
            0,
            u32::MAX as u64,
        );
        let tolerated_failure_count = self.dyn_uint(
            obj,
            p,
            "ToleratedFailureCount",
            Some("ToleratedFailureCountPath"),
            ql,
            0,
            u32::MAX as u64,
        );
        let tolerated_failure_percentage = self.dyn_field(
            obj,
            p,
            "ToleratedFailurePercentage",
            Some("ToleratedFailurePercentagePath"),
            ql,
            false,
            |this, v, at| match v.as_f64() {
                Some(f) if (0.0..=100.0).contains(&f) => Some(f),
                _ => {
                    this.err(
                        at,
                        "The field 'ToleratedFailurePercentage' must be a NUMBER between 0 and 100",
                    );
                    None
                }
            },
        );
        let label = self.opt_string(obj, p, "Label");
        if let Some(l) = &label {
            if l.is_empty()
                || l.chars().count() > 40
                || l.chars().any(|c| {
                    c.is_whitespace() || "<>{}[]?*\"#%\\^|~`$&,;:/".contains(c) || c.is_control()
                })
            {
                self.diags.push(Diagnostic::new(
                    join(p, "Label"),
                    "INVALID_LABEL_NAME",
                    "Label must be 1 to 40 characters without whitespace or special characters",
                ));
            } else {
                self.labels.push((l.clone(), join(p, "Label")));
            }
        }
        let item_reader = self.shape(
            obj,
            p,
            "ItemReader",
            ql,
            &[("Resource", true), ("ReaderConfig", false)],
        );
        let item_batcher = self
            .shape(
                obj,
                p,
                "ItemBatcher",
                ql,
                &[
                    ("MaxItemsPerBatch", false),
                    ("MaxItemsPerBatchPath", false),
                    ("MaxInputBytesPerBatch", false),
                    ("MaxInputBytesPerBatchPath", false),
                    ("BatchInput", false),
                ],
            )
            .and_then(|_| self.item_batcher(obj, p, ql));
        // `WriterConfig` alone is allowed (the results are formatted into the state's
        // output, nothing is written); otherwise `Resource` says where to write.
        let writer_only = obj
            .get("ResultWriter")
            .is_some_and(|w| w.get("WriterConfig").is_some());
        let result_writer = self.shape(
            obj,
            p,
            "ResultWriter",
            ql,
            &[("Resource", !writer_only), ("WriterConfig", false)],
        );
        Some(crate::definition::Map {
            processor: processor?,
            mode,
            execution_type,
            legacy_iterator,
            items_path,
            items,
            item_selector,
            max_concurrency,
            tolerated_failure_count,
            tolerated_failure_percentage,
            label,
            item_reader,
            item_batcher,
            result_writer,
        })
    }

    fn processor_config(
        &mut self,
        proc_obj: &Map<String, Value>,
        pp: &str,
    ) -> (ProcessorMode, Option<String>) {
        let Some(cfg) = proc_obj.get("ProcessorConfig") else {
            return (ProcessorMode::Inline, None);
        };
        let cp = join(pp, "ProcessorConfig");
        let Value::Object(cfg) = cfg else {
            self.wrong(pp, "ProcessorConfig", "an OBJECT");
            return (ProcessorMode::Inline, None);
        };
        self.check_fields(
            cfg,
            &cp,
            &[("Mode", Lang::Any), ("ExecutionType", Lang::Any)],
            QueryLanguage::JsonPath,
        );
        let mode = match cfg.get("Mode") {
            None => ProcessorMode::Inline,
            Some(v) => {
                match v.as_str() {
                    Some("INLINE") => ProcessorMode::Inline,
                    Some("DISTRIBUTED") => ProcessorMode::Distributed,
                    _ => {
                        self.err(join(&cp, "Mode"), "The field 'Mode' should have one of these values: [INLINE, DISTRIBUTED]");
                        ProcessorMode::Inline
                    }
                }
            }
        };
        let execution_type = match cfg.get("ExecutionType") {
            None => None,
            Some(v) => match v.as_str() {
                Some(t @ ("STANDARD" | "EXPRESS")) => Some(t.to_string()),
                _ => {
                    self.err(join(&cp, "ExecutionType"), "The field 'ExecutionType' should have one of these values: [STANDARD, EXPRESS]");
                    None
                }
            },
        };
        if mode == ProcessorMode::Distributed
            && execution_type.is_none()
            && !cfg.contains_key("ExecutionType")
        {
            self.required(&cp, "ExecutionType");
        }
        (mode, execution_type)
    }

    /// `ItemBatcher`, once [`Self::shape`] has checked its fields: the limits (literal,
    /// `…Path` or JSONata; one of a literal and its path) and `BatchInput` as a template.
    fn item_batcher(
        &mut self,
        obj: &Map<String, Value>,
        p: &str,
        ql: QueryLanguage,
    ) -> Option<ItemBatcher> {
        let Some(Value::Object(o)) = obj.get("ItemBatcher") else {
            return None;
        };
        let bp = join(p, "ItemBatcher");
        let limit = |this: &mut Self, field: &str| {
            let path_field = format!("{field}Path");
            this.dyn_field(o, &bp, field, Some(&path_field), ql, false, |_, v, _| {
                Some(v.clone())
            })
        };
        let max_items_per_batch = limit(self, "MaxItemsPerBatch");
        let max_input_bytes_per_batch = limit(self, "MaxInputBytesPerBatch");
        // A `BatchInput` that is not an object was reported by `shape`.
        let batch_input = match (o.get("BatchInput"), ql) {
            (Some(Value::Object(_)), QueryLanguage::JsonPath) => self
                .payload(o, &bp, "BatchInput")
                .map(MapSelector::JsonPath),
            (Some(Value::Object(_)), QueryLanguage::Jsonata) => self
                .jsonata_template(o, &bp, "BatchInput", true)
                .map(MapSelector::Jsonata),
            _ => None,
        };
        Some(ItemBatcher {
            max_items_per_batch,
            max_input_bytes_per_batch,
            batch_input,
        })
    }

    /// `ItemReader` / `ItemBatcher` / `ResultWriter`: kept as written, checked for shape.
    fn shape(
        &mut self,
        obj: &Map<String, Value>,
        p: &str,
        field: &str,
        ql: QueryLanguage,
        fields: &[(&str, bool)],
    ) -> Option<Value> {
        let v = obj.get(field)?;
        let fp = join(p, field);
        let Value::Object(o) = v else {
            self.wrong(p, field, "an OBJECT");
            return None;
        };
        let mut allowed: Vec<(&str, Lang)> = fields.iter().map(|(k, _)| (*k, Lang::Any)).collect();
        allowed.push(("Parameters", Lang::JsonPath));
        allowed.push(("Arguments", Lang::Jsonata));
        // The `…Path` variants of batcher limits are JSONPath-only.
        for a in allowed.iter_mut() {
            if a.0.ends_with("Path") {
                a.1 = Lang::JsonPath;
            }
        }
        self.check_fields(o, &fp, &allowed, ql);
        for (k, required) in fields {
            if *required && !o.contains_key(*k) {
                self.required(&fp, k);
            }
        }
        if let Some(r) = o.get("Resource") {
            if !r.as_str().is_some_and(validate::is_arn) {
                self.err(
                    join(&fp, "Resource"),
                    "The field 'Resource' must be a valid resource ARN",
                );
            }
        }
        for k in ["ReaderConfig", "WriterConfig", "Parameters", "BatchInput"] {
            if o.get(k).is_some_and(|v| !v.is_object()) {
                self.wrong(&fp, k, "an OBJECT");
            }
        }
        Some(v.clone())
    }
}
