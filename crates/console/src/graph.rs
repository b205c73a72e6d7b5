//! The graph of a definition, laid out once (it is fixed) with `dagre` and drawn as SVG:
//! each state a node whose `id` and `data-state` are its name, Parallel branches and Map
//! item processors as nested clusters, Choice edges labelled with their rule, Catch edges
//! dashed and labelled with their errors. A node's `data-status` is what colours it; the
//! execution page sets it from the history and the live stream updates it.

use maud::{html, Markup, PreEscaped};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::fmt::Write as _;

/// Larger definitions are not drawn (the layout's time grows quickly with size).
pub const MAX_STATES: usize = 400;

/// What a node is.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    /// A state, by name, with its `Type`.
    State {
        name: String,
        state_type: String,
    },
    Start,
    End,
    /// Where a Parallel's branches or a Map's iterations meet again.
    Join,
}

#[derive(Debug, Clone)]
pub struct Node {
    pub kind: NodeKind,
    /// Centre.
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

/// A Parallel or Map state's box (`state` set), or one Parallel branch's box.
#[derive(Debug, Clone)]
pub struct Cluster {
    pub state: Option<String>,
    pub label: String,
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

#[derive(Debug, Clone)]
pub struct Edge {
    pub points: Vec<(f64, f64)>,
    pub label: Option<(String, f64, f64)>,
    /// A Catch edge.
    pub catch: bool,
}

/// A laid-out definition.
#[derive(Debug, Clone)]
pub struct Drawing {
    pub width: f64,
    pub height: f64,
    pub nodes: Vec<Node>,
    pub clusters: Vec<Cluster>,
    pub edges: Vec<Edge>,
}

/// Why a definition is not drawn.
#[derive(Debug, Clone, PartialEq)]
pub enum NotDrawn {
    NotJson,
    TooLarge(usize),
    /// The layout failed (a bug in it; the rest of the page still works).
    Layout,
}

impl std::fmt::Display for NotDrawn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NotDrawn::NotJson => write!(f, "the definition is not JSON"),
            NotDrawn::TooLarge(n) => write!(
                f,
                "{n} states are more than the console draws ({MAX_STATES}); the table lists them"
            ),
            NotDrawn::Layout => write!(f, "the layout failed"),
        }
    }
}

const FONT_WIDTH: f64 = 7.4;
const NODE_HEIGHT: f64 = 36.0;
const LABEL_CHARS: usize = 32;

/// The text a node or edge shows: long names are cut (the full one is the tooltip).
fn short(text: &str) -> String {
    if text.chars().count() <= LABEL_CHARS {
        text.to_string()
    } else {
        let mut s: String = text.chars().take(LABEL_CHARS - 1).collect();
        s.push('…');
        s
    }
}

fn text_width(text: &str) -> f64 {
    short(text).chars().count() as f64 * FONT_WIDTH
}

type DGraph = dagre::graph::Graph<dagre::NodeLabel, dagre::EdgeLabel>;

struct Builder {
    g: DGraph,
    kinds: HashMap<String, NodeKind>,
    clusters: HashMap<String, (Option<String>, String)>,
    edge_meta: Vec<(String, String, String, Option<String>, bool)>,
    next: usize,
    states: usize,
}

impl Builder {
    fn id(&mut self, prefix: &str) -> String {
        self.next += 1;
        format!("{prefix}{}", self.next)
    }

    fn node(&mut self, kind: NodeKind, parent: Option<&str>) -> String {
        let (w, h) = match &kind {
            NodeKind::State { name, .. } => ((text_width(name) + 28.0).max(90.0), NODE_HEIGHT),
            NodeKind::Start | NodeKind::End => (54.0, 26.0),
            NodeKind::Join => (12.0, 12.0),
        };
        let id = self.id("n");
        let label = dagre::NodeLabel {
            width: w,
            height: h,
            ..Default::default()
        };
        self.g.set_node(id.clone(), Some(label));
        if let Some(p) = parent {
            self.g.set_parent(&id, Some(p));
        }
        self.kinds.insert(id.clone(), kind);
        id
    }

    fn cluster(&mut self, state: Option<String>, label: String, parent: Option<&str>) -> String {
        let id = self.id("c");
        let l = dagre::NodeLabel {
            padding: 14.0,
            ..Default::default()
        };
        self.g.set_node(id.clone(), Some(l));
        if let Some(p) = parent {
            self.g.set_parent(&id, Some(p));
        }
        self.clusters.insert(id.clone(), (state, label));
        id
    }

    fn edge(&mut self, from: &str, to: &str, label: Option<String>, catch: bool) {
        let name = self.id("e");
        let mut l = dagre::EdgeLabel::default();
        if let Some(text) = &label {
            l.width = text_width(text) + 8.0;
            l.height = 16.0;
            l.labelpos = dagre::layout::types::LabelPos::Center;
        }
        self.g.set_edge(from, to, Some(l), Some(&name));
        self.edge_meta.push((
            from.into(),
            to.into(),
            name,
            label.map(|t| short(&t)),
            catch,
        ));
    }

    /// Adds the states of one scope (the machine, a branch, an item processor): an edge
    /// from `enter` to its StartAt, and from each terminal state to `leave`.
    fn scope(
        &mut self,
        scope: &Map<String, Value>,
        parent: Option<&str>,
        enter: &str,
        leave: &str,
    ) {
        let Some(states) = scope.get("States").and_then(Value::as_object) else {
            return;
        };
        // Each state's (entry node, exit node).
        let mut ends: HashMap<&str, (String, String)> = HashMap::new();
        for (name, state) in states {
            self.states += 1;
            let state_type = state["Type"].as_str().unwrap_or_default().to_string();
            let kind = NodeKind::State {
                name: name.clone(),
                state_type: state_type.clone(),
            };
            match state_type.as_str() {
                "Parallel" | "Map" => {
                    let c = self.cluster(Some(name.clone()), state_type.clone(), parent);
                    let entry = self.node(kind, Some(&c));
                    let join = self.node(NodeKind::Join, Some(&c));
                    if state_type == "Parallel" {
                        let branches = state["Branches"].as_array().cloned().unwrap_or_default();
                        for (i, b) in branches.iter().enumerate().rev() {
                            let Some(b) = b.as_object() else { continue };
                            let bc = self.cluster(None, format!("Branch {}", i + 1), Some(&c));
                            self.scope(b, Some(&bc), &entry, &join);
                        }
                    } else if let Some(p) = state
                        .get("ItemProcessor")
                        .or_else(|| state.get("Iterator"))
                        .and_then(Value::as_object)
                    {
                        self.scope(p, Some(&c), &entry, &join);
                    }
                    ends.insert(name, (entry, join));
                }
                _ => {
                    let n = self.node(kind, parent);
                    ends.insert(name, (n.clone(), n));
                }
            }
        }
        if let Some((first, _)) = scope
            .get("StartAt")
            .and_then(Value::as_str)
            .and_then(|s| ends.get(s))
        {
            self.edge(enter, &first.clone(), None, false);
        }
        for (name, state) in states {
            let Some((_, out)) = ends.get(name.as_str()).cloned() else {
                continue;
            };
            let to = |target: &Value| {
                target
                    .as_str()
                    .and_then(|t| ends.get(t))
                    .map(|e| e.0.clone())
            };
            let terminal = state["End"].as_bool() == Some(true)
                || matches!(state["Type"].as_str(), Some("Succeed" | "Fail"));
            if terminal {
                self.edge(&out, leave, None, false);
            }
            if let Some(next) = to(&state["Next"]) {
                self.edge(&out, &next, None, false);
            }
            for rule in state["Choices"].as_array().into_iter().flatten() {
                if let Some(next) = to(&rule["Next"]) {
                    self.edge(&out, &next, Some(choice_label(rule)), false);
                }
            }
            if let Some(next) = to(&state["Default"]) {
                self.edge(&out, &next, Some("Default".into()), false);
            }
            for c in state["Catch"].as_array().into_iter().flatten() {
                if let Some(next) = to(&c["Next"]) {
                    let errors: Vec<&str> = c["ErrorEquals"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str)
                        .collect();
                    self.edge(&out, &next, Some(errors.join(", ")), true);
                }
            }
        }
    }
}

/// A Choice rule in a few words: its JSONata `Condition`, or its JSONPath comparison.
pub fn choice_label(rule: &Value) -> String {
    if let Some(c) = rule["Condition"].as_str() {
        return c.to_string();
    }
    for (op, word) in [("And", "and"), ("Or", "or")] {
        if let Some(parts) = rule[op].as_array() {
            let parts: Vec<String> = parts.iter().map(choice_label).collect();
            return format!("({})", parts.join(&format!(" {word} ")));
        }
    }
    if rule.get("Not").is_some() {
        return format!("not {}", choice_label(&rule["Not"]));
    }
    let variable = rule["Variable"].as_str().unwrap_or("?");
    let Some(obj) = rule.as_object() else {
        return String::new();
    };
    for (k, v) in obj {
        if matches!(
            k.as_str(),
            "Variable" | "Next" | "Assign" | "Output" | "Comment"
        ) {
            continue;
        }
        let (op, path) = match k.strip_suffix("Path") {
            Some(base) if base != "Is" && !k.starts_with("Is") => (base, true),
            _ => (k.as_str(), false),
        };
        let symbol = [
            ("Equals", "=="),
            ("LessThan", "<"),
            ("GreaterThan", ">"),
            ("LessThanEquals", "<="),
            ("GreaterThanEquals", ">="),
        ]
        .iter()
        .find(|(suffix, _)| {
            op.strip_suffix(suffix)
                .is_some_and(|t| ["String", "Numeric", "Boolean", "Timestamp"].contains(&t))
        })
        .map(|(_, s)| *s);
        let value = if path {
            v.as_str().unwrap_or_default().to_string()
        } else {
            v.to_string()
        };
        return match symbol {
            Some(s) => format!("{variable} {s} {value}"),
            None => format!("{variable} {op} {value}"),
        };
    }
    variable.to_string()
}

/// Lays out a definition (JSON text).
pub fn layout(definition: &str) -> Result<Drawing, NotDrawn> {
    let def: Value = serde_json::from_str(definition).map_err(|_| NotDrawn::NotJson)?;
    let root = def.as_object().ok_or(NotDrawn::NotJson)?;
    let count = count_states(&def);
    if count > MAX_STATES {
        return Err(NotDrawn::TooLarge(count));
    }
    let mut b = Builder {
        g: DGraph::with_options(dagre::graph::GraphOptions {
            directed: true,
            multigraph: true,
            compound: true,
        }),
        kinds: HashMap::new(),
        clusters: HashMap::new(),
        edge_meta: Vec::new(),
        next: 0,
        states: 0,
    };
    let start = b.node(NodeKind::Start, None);
    let end = b.node(NodeKind::End, None);
    b.scope(root, None, &start, &end);
    let opts = dagre::LayoutOptions {
        nodesep: 28.0,
        ranksep: 38.0,
        edgesep: 12.0,
        marginx: 12.0,
        marginy: 12.0,
        ..Default::default()
    };
    // The layout is a port of a large library: a panic in it costs the drawing, not the page.
    let laid = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
        dagre::layout(&mut b.g, Some(opts));
        b
    }))
    .map_err(|_| NotDrawn::Layout)?;
    Ok(read_out(laid))
}

fn count_states(v: &Value) -> usize {
    let Some(states) = v["States"].as_object() else {
        return 0;
    };
    states
        .values()
        .map(|s| {
            let nested: usize = s["Branches"]
                .as_array()
                .into_iter()
                .flatten()
                .map(count_states)
                .sum();
            let processor = s
                .get("ItemProcessor")
                .or_else(|| s.get("Iterator"))
                .map_or(0, count_states);
            1 + nested + processor
        })
        .sum()
}

fn read_out(b: Builder) -> Drawing {
    let num = |v: Option<f64>| v.filter(|f| f.is_finite()).unwrap_or(0.0);
    let mut nodes = Vec::new();
    let mut clusters = Vec::new();
    let (mut width, mut height) = (0.0f64, 0.0f64);
    let mut grow = |x: f64, y: f64, w: f64, h: f64| {
        width = width.max(x + w / 2.0);
        height = height.max(y + h / 2.0);
    };
    for (id, kind) in &b.kinds {
        if let Some(l) = b.g.node(id) {
            let (x, y) = (num(l.x), num(l.y));
            grow(x, y, l.width, l.height);
            nodes.push(Node {
                kind: kind.clone(),
                x,
                y,
                width: l.width,
                height: l.height,
            });
        }
    }
    for (id, (state, label)) in &b.clusters {
        if let Some(l) = b.g.node(id) {
            let (x, y) = (num(l.x), num(l.y));
            grow(x, y, l.width, l.height);
            clusters.push(Cluster {
                state: state.clone(),
                label: label.clone(),
                x,
                y,
                width: l.width,
                height: l.height,
            });
        }
    }
    // Outer boxes first, so inner ones are drawn over them.
    clusters.sort_by(|a, b| {
        (b.width * b.height)
            .partial_cmp(&(a.width * a.height))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    nodes.sort_by(|a, b| {
        (a.y, a.x)
            .partial_cmp(&(b.y, b.x))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let mut edges = Vec::new();
    for (v, w, name, label, catch) in &b.edge_meta {
        let Some(l) = b.g.edge(v, w, Some(name)) else {
            continue;
        };
        let points: Vec<(f64, f64)> = l
            .points
            .iter()
            .map(|p| (p.x, p.y))
            .filter(|(x, y)| x.is_finite() && y.is_finite())
            .collect();
        for (x, y) in &points {
            grow(*x, *y, 0.0, 0.0);
        }
        let label = label
            .clone()
            .map(|t| (t, num(l.x), num(l.y)))
            .filter(|(t, _, _)| !t.is_empty());
        edges.push(Edge {
            points,
            label,
            catch: *catch,
        });
    }
    Drawing {
        width: width + 12.0,
        height: height + 12.0,
        nodes,
        clusters,
        edges,
    }
}

/// How each state is drawn: `notstarted`, `running`, `succeeded`, `failed`, `caught`,
/// `cancelled`.
pub type Statuses = HashMap<String, &'static str>;

/// The colours, inside the SVG so an exported file keeps them.
const SVG_STYLE: &str = r#"
.graph { font: 13px system-ui, sans-serif; }
.graph .node rect { fill: #f2f3f3; stroke: #8d99a8; stroke-width: 1.2; }
.graph .node text { fill: #16191f; }
.graph .node[data-status=running] rect { fill: #d1e8ff; stroke: #0972d3; stroke-width: 2.4; }
.graph .node[data-status=succeeded] rect { fill: #d7f5d9; stroke: #037f0c; }
.graph .node[data-status=failed] rect { fill: #ffe3e3; stroke: #d91515; stroke-width: 2; }
.graph .node[data-status=caught] rect { fill: #fff1cc; stroke: #b47800; stroke-width: 2; }
.graph .node[data-status=cancelled] rect { fill: #e9ebed; stroke: #5f6b7a; stroke-dasharray: 4 3; }
.graph .node.selected rect { stroke-width: 3.5; }
.graph .terminal { fill: #16191f; } .graph .terminal-text { fill: #fff; font-size: 11px; }
.graph .join { fill: #8d99a8; }
.graph .cluster rect { fill: none; stroke: #8d99a8; stroke-dasharray: 5 4; }
.graph .cluster text { fill: #5f6b7a; font-size: 11px; }
.graph .edge { fill: none; stroke: #5f6b7a; stroke-width: 1.2; }
.graph .edge.catch { stroke: #b47800; stroke-dasharray: 5 4; }
.graph .edge-label { fill: #5f6b7a; font-size: 11px; }
.graph .edge-label-bg { fill: #fff; opacity: .85; }
"#;

impl Drawing {
    /// The SVG. `link` gives a node's href (None: not a link); `selected` is marked.
    pub fn svg(
        &self,
        statuses: &Statuses,
        link: &dyn Fn(&str) -> Option<String>,
        selected: Option<&str>,
    ) -> Markup {
        let (w, h) = (self.width.ceil(), self.height.ceil());
        let points = |pts: &[(f64, f64)]| {
            let mut d = String::new();
            for (i, (x, y)) in pts.iter().enumerate() {
                let _ = write!(d, "{}{x:.1} {y:.1} ", if i == 0 { "M" } else { "L" });
            }
            d
        };
        html! {
            svg.graph xmlns="http://www.w3.org/2000/svg" viewBox={ "0 0 " (w) " " (h) } width=(w) height=(h) role="img" aria-label="The state machine's graph" {
                defs {
                    style { (PreEscaped(SVG_STYLE)) }
                    marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse" {
                        path d="M 0 0 L 10 5 L 0 10 z" fill="#5f6b7a" {}
                    }
                }
                @for c in &self.clusters {
                    g.cluster data-cluster=[c.state.as_deref()] {
                        rect x=(c.x - c.width / 2.0) y=(c.y - c.height / 2.0) width=(c.width) height=(c.height) rx="6" {}
                        text x=(c.x - c.width / 2.0 + 6.0) y=(c.y - c.height / 2.0 + 12.0) { (c.label) }
                    }
                }
                @for e in &self.edges {
                    path.edge.catch[e.catch] d=(points(&e.points)) marker-end="url(#arrow)" {}
                    @if let Some((t, x, y)) = &e.label {
                        rect.edge-label-bg x=(x - text_width(t) / 2.0 - 3.0) y=(y - 9.0) width=(text_width(t) + 6.0) height="15" {}
                        text.edge-label x=(x) y=(y + 3.0) text-anchor="middle" { (t) }
                    }
                }
                @for n in &self.nodes {
                    @let (x0, y0) = (n.x - n.width / 2.0, n.y - n.height / 2.0);
                    @match &n.kind {
                        NodeKind::State { name, state_type } => {
                            @let status = statuses.get(name.as_str()).copied().unwrap_or("notstarted");
                            @let body = html! {
                                g.node.selected[selected == Some(name.as_str())] id=(name) data-state=(name) data-type=(state_type) data-status=(status) {
                                    title { (name) " (" (state_type) ")" }
                                    rect x=(x0) y=(y0) width=(n.width) height=(n.height) rx="5" {}
                                    text x=(n.x) y=(n.y + 4.5) text-anchor="middle" { (short(name)) }
                                }
                            };
                            @if let Some(href) = link(name) { a href=(href) { (body) } } @else { (body) }
                        }
                        NodeKind::Start | NodeKind::End => {
                            rect.terminal x=(x0) y=(y0) width=(n.width) height=(n.height) rx=(n.height / 2.0) {}
                            text.terminal-text x=(n.x) y=(n.y + 4.0) text-anchor="middle" {
                                @if n.kind == NodeKind::Start { "Start" } @else { "End" }
                            }
                        }
                        NodeKind::Join => { circle.join cx=(n.x) cy=(n.y) r="4" {} }
                    }
                }
            }
        }
    }
}

/// Laid-out definitions by a hash of their text: each is laid out once.
static DRAWINGS: std::sync::OnceLock<
    std::sync::Mutex<(std::collections::hash_map::RandomState, HashMap<u64, Drawn>)>,
> = std::sync::OnceLock::new();

/// A definition's drawing, or why there is none.
pub type Drawn = std::sync::Arc<Result<Drawing, NotDrawn>>;

/// Definitions kept laid out.
const CACHED: usize = 64;

/// The drawing of `definition`, laid out off the async threads the first time.
pub async fn drawing(definition: &str) -> Drawn {
    use std::hash::BuildHasher;
    let cache = DRAWINGS.get_or_init(Default::default);
    let key = {
        let c = cache.lock().unwrap_or_else(|p| p.into_inner());
        let key = c.0.hash_one(definition);
        if let Some(d) = c.1.get(&key) {
            return d.clone();
        }
        key
    };
    let text = definition.to_string();
    let drawn: Drawn = std::sync::Arc::new(
        tokio::task::spawn_blocking(move || layout(&text))
            .await
            .unwrap_or(Err(NotDrawn::Layout)),
    );
    let mut c = cache.lock().unwrap_or_else(|p| p.into_inner());
    if c.1.len() >= CACHED {
        c.1.clear();
    }
    c.1.insert(key, drawn.clone());
    drawn
}

#[cfg(test)]
#[path = "tests/graph.rs"]
mod tests;
