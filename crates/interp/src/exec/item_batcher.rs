//! Distributed Map `ItemBatcher`: `MaxItemsPerBatch(Path)`, `MaxInputBytesPerBatch(Path)`
//! (or their JSONata expressions) and `BatchInput`. The items (after `ItemSelector`) are
//! cut, in order, into batches; each child execution gets `{"BatchInput": …, "Items":
//! [item, …]}` (`BatchInput` only when given) and the Map's result has one element per
//! batch. A batch holds at most `MaxItemsPerBatch` items (no limit when only bytes are
//! given) and its input, as compact JSON, at most `MaxInputBytesPerBatch` bytes (256 KiB
//! when only items are given). AWS's "ItemBatcher (Map)" page (developer guide) and the
//! recordings in LocalStack's test_base_scenarios.snapshot.json
//! `test_map_item_batching_base_json_max_per_batch_jsonata` (JSONata limits, `BatchInput`
//! evaluated once with `$states.context`, `{"BatchInput","Items"}` in that order) and
//! test_assign_reference_variables.snapshot.json `…[MAP_STATE_REFERENCE_IN_MAX_PER_BATCH_PATH]`
//! (`…Path` fields that name variables holding numeric text: four items in two batches).

use super::*;
use dataflow::{json_size, MAX_PAYLOAD_BYTES};

/// `MaxInputBytesPerBatch` may not exceed AWS's payload limit (256 KiB).
pub(super) const MAX_BATCH_BYTES: u64 = MAX_PAYLOAD_BYTES as u64;

/// The batches: each child execution's input and how many items it holds.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Batches {
    pub(super) inputs: Vec<Value>,
    pub(super) sizes: Vec<u32>,
}

/// Cut `items` into batches of at most `max_items` items whose input (with
/// `batch_input`) is at most `max_bytes` bytes of compact JSON. An item that does not fit
/// in a batch of its own fails the Map.
pub(super) fn split(
    items: Vec<Value>,
    batch_input: Option<&Value>,
    max_items: u64,
    max_bytes: u64,
) -> Result<Batches, StatesError> {
    let wrap = |items: Vec<Value>| {
        let mut m = Map::new();
        if let Some(b) = batch_input {
            m.insert("BatchInput".into(), b.clone());
        }
        m.insert("Items".into(), Value::Array(items));
        Value::Object(m)
    };
    // `{…"Items":[]}`: every item adds its own bytes and, after the first, a comma.
    let empty = json_size(&wrap(Vec::new())) as u64;
    let mut out = Batches {
        inputs: Vec::new(),
        sizes: Vec::new(),
    };
    let mut batch: Vec<Value> = Vec::new();
    let mut bytes = empty;
    for (index, item) in items.into_iter().enumerate() {
        let size = json_size(&item) as u64;
        if empty + size > max_bytes {
            return Err(StatesError::runtime(format!(
                "The item at index {index} is too large for a batch: {} bytes with the batch's \
                 Items key and BatchInput, over the MaxInputBytesPerBatch of {max_bytes}.",
                empty + size
            )));
        }
        let added = size + u64::from(!batch.is_empty());
        if !batch.is_empty() && (batch.len() as u64 >= max_items || bytes + added > max_bytes) {
            out.sizes.push(batch.len() as u32);
            out.inputs.push(wrap(std::mem::take(&mut batch)));
            bytes = empty;
        }
        bytes += size + u64::from(!batch.is_empty());
        batch.push(item);
    }
    if !batch.is_empty() {
        out.sizes.push(batch.len() as u32);
        out.inputs.push(wrap(batch));
    }
    Ok(out)
}

impl Execution {
    /// The batches of a Distributed Map with an `ItemBatcher`: its limits and `BatchInput`
    /// evaluated once (`input` the state input, `eff` the effective input `BatchInput`
    /// templates read), then [`split`].
    #[allow(clippy::too_many_arguments)] // the values a Map state evaluates its fields on
    pub(super) fn batch_items(
        &mut self,
        fid: FrameId,
        b: &stepwise_asl::ItemBatcher,
        items: Vec<Value>,
        input: &Arc<Value>,
        eff: &Arc<Value>,
        ctx: &Value,
        src: &mut dyn Sources,
    ) -> Result<Batches, Failure> {
        let max_items = self.batch_limit(
            fid,
            b.max_items_per_batch.as_ref(),
            "MaxItemsPerBatch",
            u64::MAX,
            input,
            ctx,
            src,
        )?;
        let max_bytes = self.batch_limit(
            fid,
            b.max_input_bytes_per_batch.as_ref(),
            "MaxInputBytesPerBatch",
            MAX_BATCH_BYTES,
            input,
            ctx,
            src,
        )?;
        let batch_input = match &b.batch_input {
            None => None,
            Some(MapSelector::JsonPath(t)) => {
                let vars = self.vars(fid);
                let env = Env {
                    context: ctx,
                    vars: &vars,
                };
                Some(dataflow::template(t, eff, &env, src).map_err(Failure::eval)?)
            }
            Some(MapSelector::Jsonata(t)) => {
                let vars = self.vars(fid);
                let states = Self::states_value(input, ctx, &[]);
                let scope = JsonataScope {
                    states: &states,
                    vars: &vars,
                };
                Some(t.eval("BatchInput", &scope, src)?)
            }
        };
        let batches = split(
            items,
            batch_input.as_ref(),
            max_items.unwrap_or(u64::MAX),
            max_bytes.unwrap_or(MAX_BATCH_BYTES),
        )
        .map_err(Failure::eval)?;
        if self.inspector.is_some() {
            let shown = Value::Array(batches.inputs.clone());
            self.inspect(fid, |r| r.data.after_item_batcher = Some(shown));
        }
        Ok(batches)
    }

    /// One limit of the batcher: a positive integer (numeric text too, as AWS reads
    /// `…Path` values), at most `max`.
    #[allow(clippy::too_many_arguments)]
    fn batch_limit(
        &self,
        fid: FrameId,
        d: Option<&Dyn<Value>>,
        field: &str,
        max: u64,
        input: &Value,
        ctx: &Value,
        src: &mut dyn Sources,
    ) -> Result<Option<u64>, Failure> {
        let parse = super::dataflow::integer_or_numeric_text;
        let n = match d {
            None => return Ok(None),
            Some(Dyn::Literal(v)) => match parse(v).filter(|_| !v.is_string()) {
                Some(n) => n,
                None => {
                    return Err(Failure::eval(StatesError::runtime(format!(
                        "The {field} field must be a positive integer, but was: {v}"
                    ))))
                }
            },
            Some(d) => {
                let literal = |_: &Value| 0i64;
                match self.dyn_number(
                    fid,
                    Some(d),
                    literal,
                    field,
                    "integer",
                    "integer",
                    parse,
                    input,
                    ctx,
                    src,
                )? {
                    Some(n) => n,
                    None => return Ok(None),
                }
            }
        };
        if n < 1 || n as u64 > max {
            let cause = if max == u64::MAX {
                format!("{field} must be greater than 0, but was: {n}")
            } else {
                format!("{field} must be between 1 and {max}, but was: {n}")
            };
            return Err(Failure::eval(StatesError::runtime(cause)));
        }
        Ok(Some(n as u64))
    }
}

#[cfg(test)]
#[path = "../tests/item_batcher.rs"]
mod tests;
