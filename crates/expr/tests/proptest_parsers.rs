//! The parsers and evaluators never panic, whatever text or JSON they are given.

use proptest::prelude::*;
use serde_json::{Map, Value};
use stepwise_expr::intrinsics::Intrinsic;
use stepwise_expr::jsonpath::JsonPath;
use stepwise_expr::template::PayloadTemplate;
use stepwise_expr::{Scope, Sources};

struct Fixed;
impl Sources for Fixed {
    fn now_millis(&mut self) -> i64 {
        0
    }
    fn uuid(&mut self) -> String {
        "00000000-0000-4000-8000-000000000000".into()
    }
    fn random(&mut self) -> f64 {
        0.999_999
    }
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (-1e12f64..1e12).prop_map(Value::from),
        "[a-z0-9 ,{}'$.-]{0,8}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec(("[a-z.$]{1,4}", inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Text built from the characters paths are made of, so most inputs get deep into the parser.
fn path_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\$[a-z$.\\[\\]'\"*?()@0-9:,<>=!&|~/ -]{0,24}",
        "\\$\\.[a-z]{1,3}(\\[[-0-9:,*]{0,5}\\]|\\.[a-z*]{1,3}|\\.\\.[a-z]{1,2}|\\[\\?\\(@\\.[a-z] ?[=<>!]=? ?[0-9'a-z]{1,3}\\)\\]){0,4}",
        any::<String>(),
    ]
}

fn intrinsic_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "States\\.(Format|Array|ArrayRange|ArrayPartition|ArrayGetItem|MathAdd|MathRandom|StringSplit|Hash|JsonMerge|StringToJson|JsonToString|Base64Decode|ArrayUnique|UUID)\\(([-0-9.e]{1,4}|'[a-z{}\\\\' ,]{0,6}'|\\$\\.[a-z]|\\$\\$|true|null|States\\.Array\\([0-9]?\\))?(, ?([-0-9.e]{1,4}|'[a-z{}\\\\ ]{0,4}'|\\$\\.[a-z]|false)){0,3}\\)",
        "States\\.[A-Za-z]{0,12}[(),'$. 0-9\\\\{}]{0,20}",
        any::<String>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn jsonpath_never_panics(src in path_text(), input in json_value()) {
        if let Ok(p) = JsonPath::parse(&src) {
            let _ = p.normalized();
            let _ = p.is_definite();
            let _ = p.select_in(&input);
            let mut target = input.clone();
            let _ = p.set(&mut target, Value::Null);
        }
    }

    #[test]
    fn intrinsic_never_panics(src in intrinsic_text(), input in json_value()) {
        if let Ok(call) = Intrinsic::parse(&src) {
            let vars = Map::new();
            let scope = Scope { input: &input, context: &input, vars: &vars };
            let _ = call.eval(&scope, &mut Fixed);
        }
    }

    #[test]
    fn template_never_panics(
        keys in prop::collection::vec(("[a-z]{1,3}(\\.\\$)?", prop_oneof![path_text(), intrinsic_text()]), 0..4),
        input in json_value(),
        raw in json_value(),
    ) {
        let mut m: Map<String, Value> = keys.into_iter().map(|(k, v)| (k, Value::String(v))).collect();
        m.insert("raw".into(), raw);
        if let Ok(t) = PayloadTemplate::compile(&Value::Object(m)) {
            let vars = Map::new();
            let scope = Scope { input: &input, context: &input, vars: &vars };
            let _ = t.eval(&scope, &mut Fixed);
        }
    }
}
