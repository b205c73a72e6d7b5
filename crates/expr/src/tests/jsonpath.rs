//! Unit tests of `jsonpath/` (a child module of `jsonpath/mod.rs`: `super::*` is that file).

use super::*;
use crate::{NoVariables, Scope};
use serde_json::{json, Map};

fn sel(path: &str, v: &Value) -> Option<Value> {
    JsonPath::parse(path).unwrap().select_in(v)
}

#[test]
fn an_unquoted_word_in_a_filter_compares_as_text() {
    let v = json!({"r": [{"s": "Failure", "n": 1}, {"s": "Success", "n": 2}]});
    assert_eq!(sel("$.r[?(@.s==Failure)].n", &v), Some(json!([1])));
    assert_eq!(sel("$..r[?(@.s != Failure)].n", &v), Some(json!([2])));
    // Numbers, booleans and null keep their types.
    assert_eq!(sel("$.r[?(@.n==2)].s", &v), Some(json!(["Success"])));
}

#[test]
fn a_name_straight_after_a_bracket_is_a_property_step() {
    let v = json!({"a": [{"b": {"c": 7}}]});
    assert_eq!(sel("$.a[0]b", &v), Some(json!({"c": 7})));
    assert_eq!(sel("$.a[0]b.c", &v), Some(json!(7)));
    assert!(JsonPath::parse("$.a b").is_err());
}

fn store() -> Value {
    json!({
        "store": {
            "book": [
                {"category": "reference", "author": "Nigel Rees", "title": "Sayings", "price": 8.95},
                {"category": "fiction", "author": "Evelyn Waugh", "title": "Sword", "price": 12.99},
                {"category": "fiction", "author": "Herman Melville", "title": "Moby Dick", "isbn": "0-553", "price": 8.99},
                {"category": "fiction", "author": "J. R. R. Tolkien", "title": "LOTR", "isbn": "0-395", "price": 22.99}
            ],
            "bicycle": {"color": "red", "price": 19.95}
        },
        "expensive": 10
    })
}

#[test]
fn take_in_moves_plain_paths_and_falls_back_otherwise() {
    let v = json!({"a": {"b": [1, {"c": 2}]}, "d": [3, 4]});
    assert_eq!(
        JsonPath::parse("$.a.b[1].c").unwrap().take_in(v.clone()),
        Some(json!(2))
    );
    assert_eq!(
        JsonPath::parse("$.a.b[-2]").unwrap().take_in(v.clone()),
        Some(json!(1))
    );
    assert_eq!(JsonPath::parse("$.a.x").unwrap().take_in(v.clone()), None);
    assert_eq!(JsonPath::parse("$.d[5]").unwrap().take_in(v.clone()), None);
    assert_eq!(
        JsonPath::parse("$.d[*]").unwrap().take_in(v.clone()),
        Some(json!([3, 4]))
    );
    assert_eq!(
        JsonPath::parse("$.d.length()").unwrap().take_in(v),
        Some(json!(2))
    );
}

#[test]
fn roots() {
    assert_eq!(JsonPath::parse("$").unwrap().root(), &Root::Input);
    assert_eq!(
        JsonPath::parse("$$.Execution.Id").unwrap().root(),
        &Root::Context
    );
    assert_eq!(JsonPath::parse("$$").unwrap().root(), &Root::Context);
    assert_eq!(
        JsonPath::parse("$x.a[0]").unwrap().root(),
        &Root::Variable("x".into())
    );
    assert_eq!(
        JsonPath::parse("$var_1").unwrap().root(),
        &Root::Variable("var_1".into())
    );
}

#[test]
fn scope_roots() {
    let input = json!({"a": 1});
    let ctx = json!({"Execution": {"Id": "e"}});
    let mut vars = Map::new();
    vars.insert("x".into(), json!({"b": [5, 6]}));
    let scope = Scope {
        input: &input,
        context: &ctx,
        vars: &vars,
    };
    let s = |p: &str| JsonPath::parse(p).unwrap().select(&scope);
    assert_eq!(s("$.a"), Some(json!(1)));
    assert_eq!(s("$$.Execution.Id"), Some(json!("e")));
    assert_eq!(s("$x.b[1]"), Some(json!(6)));
    assert_eq!(s("$x"), Some(json!({"b": [5, 6]})));
    assert_eq!(s("$nope"), None);
    assert_eq!(s("$"), Some(input.clone()));
    let scope2 = Scope {
        input: &input,
        context: &ctx,
        vars: &NoVariables,
    };
    assert_eq!(JsonPath::parse("$x").unwrap().select(&scope2), None);
}

#[test]
fn definite_paths() {
    let v = store();
    assert_eq!(sel("$.expensive", &v), Some(json!(10)));
    assert_eq!(sel("$.store.bicycle.color", &v), Some(json!("red")));
    assert_eq!(
        sel("$['store']['bicycle']['color']", &v),
        Some(json!("red"))
    );
    assert_eq!(
        sel("$[\"store\"].bicycle[\"color\"]", &v),
        Some(json!("red"))
    );
    assert_eq!(sel("$.store.book[0].author", &v), Some(json!("Nigel Rees")));
    assert_eq!(sel("$.store.book[-1].title", &v), Some(json!("LOTR")));
    assert_eq!(sel("$.store.book[4]", &v), None);
    assert_eq!(sel("$.store.book[-5]", &v), None);
    assert_eq!(sel("$.nope", &v), None);
    assert_eq!(sel("$.store.bicycle.color.x", &v), None);
    assert_eq!(sel("$.expensive[0]", &v), None);
    assert!(JsonPath::parse("$.a.b[0]").unwrap().is_definite());
    assert!(JsonPath::parse("$.a['b','c']").unwrap().is_definite());
    assert!(!JsonPath::parse("$.a['b','c'].d").unwrap().is_definite());
}

#[test]
fn quoted_names() {
    let v = json!({"a b": 1, "delivery-partner": 2, "Test\\\"\"Name\"": "ok", "it's": 3});
    assert_eq!(sel("$['a b']", &v), Some(json!(1)));
    assert_eq!(sel("$.delivery-partner", &v), Some(json!(2)));
    // AWS keeps the backslash: the key really is `Test\""Name"`.
    assert_eq!(sel("$['Test\\\"\"Name\"']", &v), Some(json!("ok")));
    assert_eq!(sel("$[\"it's\"]", &v), Some(json!(3)));
    assert!(JsonPath::parse("$.a b").is_err());
}

#[test]
fn multi_field_merge() {
    let v = json!({"a": 1, "b": 2, "c": 3});
    assert_eq!(sel("$['a','c','z']", &v), Some(json!({"a": 1, "c": 3})));
    let v = json!({"x": {"a": [1, 2]}, "y": {"a": [3]}});
    assert_eq!(sel("$['x','y'].a[0]", &v), Some(json!([1, 3])));
}

#[test]
fn indefinite_paths() {
    let v = store();
    assert_eq!(
        sel("$.store.book[*].author", &v),
        Some(json!([
            "Nigel Rees",
            "Evelyn Waugh",
            "Herman Melville",
            "J. R. R. Tolkien"
        ]))
    );
    assert_eq!(
        sel("$.store.book[0,1].price", &v),
        Some(json!([8.95, 12.99]))
    );
    assert_eq!(sel("$.store.bicycle.*", &v), Some(json!(["red", 19.95])));
    assert_eq!(
        sel("$.store.book[*].isbn", &v),
        Some(json!(["0-553", "0-395"]))
    );
    assert_eq!(sel("$.nothing[*]", &v), Some(json!([])));
    assert_eq!(sel("$[*]", &json!({})), Some(json!([])));
    assert_eq!(
        sel("$.item.items[1:5].itemValue", &json!({})),
        Some(json!([]))
    );
    assert!(!JsonPath::parse("$.a[*]").unwrap().is_definite());
}

#[test]
fn slices() {
    let v = json!({"a": [0, 1, 2, 3, 4]});
    assert_eq!(sel("$.a[1:3]", &v), Some(json!([1, 2])));
    assert_eq!(sel("$.a[:2]", &v), Some(json!([0, 1])));
    assert_eq!(sel("$.a[-1:]", &v), Some(json!([4])));
    assert_eq!(sel("$.a[-2:]", &v), Some(json!([3, 4])));
    assert_eq!(sel("$.a[1:]", &v), Some(json!([1, 2, 3, 4])));
    assert_eq!(sel("$.a[:-1]", &v), Some(json!([0, 1, 2, 3])));
    assert_eq!(sel("$.a[3:1]", &v), Some(json!([])));
    assert_eq!(sel("$.a[2:100]", &v), Some(json!([2, 3, 4])));
    assert!(JsonPath::parse("$.a[1:2:3]").is_err());
}

#[test]
fn deep_scan() {
    let v = store();
    assert_eq!(
        sel("$..price", &v),
        Some(json!([8.95, 12.99, 8.99, 22.99, 19.95]))
    );
    assert_eq!(sel("$..book[2].title", &v), Some(json!(["Moby Dick"])));
    assert_eq!(sel("$..nope", &v), Some(json!([])));
    let v = json!({"a": {"b": 1, "c": {"b": 2}}, "b": 0});
    assert_eq!(sel("$..b", &v), Some(json!([0, 1, 2])));
    assert_eq!(sel("$.a..*", &v), Some(json!([1, {"b": 2}, 2])));
}

#[test]
fn filters() {
    let v = store();
    assert_eq!(
        sel("$.store.book[?(@.price < 10)].title", &v),
        Some(json!(["Sayings", "Moby Dick"]))
    );
    assert_eq!(
        sel("$.store.book[?(@.isbn)].title", &v),
        Some(json!(["Moby Dick", "LOTR"]))
    );
    assert_eq!(
        sel(
            "$.store.book[?(@.price > $.expensive && @.category == 'fiction')].title",
            &v
        ),
        Some(json!(["Sword", "LOTR"]))
    );
    assert_eq!(
        sel(
            "$.store.book[?(@.price <= 8.95 || @.title == \"LOTR\")].title",
            &v
        ),
        Some(json!(["Sayings", "LOTR"]))
    );
    assert_eq!(
        sel("$.store.book[?(@.category != 'fiction')].title", &v),
        Some(json!(["Sayings"]))
    );
    assert_eq!(
        sel("$.store.book[?(!(@.price >= 10))].title", &v),
        Some(json!(["Sayings", "Moby Dick"]))
    );
    assert_eq!(
        sel("$.store.book[?(@.author =~ /.*melville/i)].title", &v),
        Some(json!(["Moby Dick"]))
    );
    assert_eq!(
        sel("$.store.book[?(@.category in ['reference'])].title", &v),
        Some(json!(["Sayings"]))
    );
    assert_eq!(
        sel("$..book[?(@.isbn)].price", &v),
        Some(json!([8.99, 22.99]))
    );
    let users = json!({"users": [{"year": 1997, "status": 0}, {"year": 1998, "status": 1}]});
    assert_eq!(
        sel("$.users[?(@.status == 0)]", &users),
        Some(json!([{"year": 1997, "status": 0}]))
    );
    // A filter on an object tests the object itself.
    assert_eq!(
        sel("$.store.bicycle[?(@.color == 'red')].price", &v),
        Some(json!([19.95]))
    );
    let t = json!({"a": [{"t": [1, 2]}, {"t": []}, {"t": "xy"}]});
    assert_eq!(
        sel("$.a[?(@.t size 2)]", &t),
        Some(json!([{"t": [1, 2]}, {"t": "xy"}]))
    );
    assert_eq!(sel("$.a[?(@.t empty true)]", &t), Some(json!([{"t": []}])));
    assert_eq!(
        sel("$.a[?(@.t contains 2)]", &t),
        Some(json!([{"t": [1, 2]}]))
    );
    assert!(JsonPath::parse("$.a[?(@.x ==)]").is_err());
    assert!(JsonPath::parse("$.a[?(@.x == 1]").is_err());
    assert!(JsonPath::parse("$.a[?(@.x =~ /(/)]").is_err());
}

#[test]
fn functions() {
    let v = json!({"a": [1, 2, 3], "o": {"x": 1, "y": 2}, "s": "abc"});
    assert_eq!(sel("$.a.length()", &v), Some(json!(3)));
    assert_eq!(sel("$.o.length()", &v), Some(json!(2)));
    assert_eq!(sel("$.s.length()", &v), None);
    assert_eq!(sel("$.a.max()", &v), Some(json!(3.0)));
    assert_eq!(sel("$.a.sum()", &v), Some(json!(6.0)));
    assert_eq!(sel("$.o.keys()", &v), Some(json!(["x", "y"])));
    assert_eq!(sel("$..x.length()", &v), Some(json!(1)));
    assert!(JsonPath::parse("$.a.nope()").is_err());
    assert!(JsonPath::parse("$.a.length().b").is_err());
}

#[test]
fn normalized_form() {
    let n = |p: &str| JsonPath::parse(p).unwrap().normalized();
    assert_eq!(n("$.NoSuchInputPath"), "$['NoSuchInputPath']");
    assert_eq!(n("$.a.b[0]"), "$['a']['b'][0]");
    assert_eq!(n("$['a b'][-1]"), "$['a b'][-1]");
    assert_eq!(n("$.a[*]"), "$['a'][*]");
    assert_eq!(n("$.a[1:3]"), "$['a'][1:3]");
    assert_eq!(n("$.a[:2]"), "$['a'][:2]");
    assert_eq!(n("$..a"), "$..['a']");
    assert_eq!(n("$.a[?(@.x)]"), "$['a'][?]");
    assert_eq!(n("$"), "$");
    assert_eq!(
        JsonPath::parse("$.NoSuchInputPath")
            .unwrap()
            .no_results_cause(),
        "Invalid path '$.NoSuchInputPath' : No results for path: $['NoSuchInputPath']"
    );
}

#[test]
fn hostile_nesting_is_an_error_not_a_crash() {
    let deep = format!("$.a[?({}@.x{})]", "(".repeat(5000), ")".repeat(5000));
    assert!(JsonPath::parse(&deep).is_err());
    let nots = format!("$.a[?({}@.x)]", "!".repeat(5000));
    assert!(JsonPath::parse(&nots).is_err());
    let lists = format!("$.a[?(@.x in {})]", "[".repeat(5000));
    assert!(JsonPath::parse(&lists).is_err());
    let scan = format!("$.a[?(@{})]", "[?(@".repeat(3000));
    assert!(JsonPath::parse(&scan).is_err());
    assert_eq!(
        sel(
            "$.a[?(\u{3000}@.x\u{3000}==\u{3000}1)]",
            &json!({"a": [{"x": 1}]})
        ),
        Some(json!([{"x": 1}]))
    );
}

#[test]
fn parse_errors() {
    for bad in [
        "", "a", "$.", "$..", "$.a.", "$[", "$['a", "$[a]", "$[]", "$.a[1,x]",
    ] {
        assert!(JsonPath::parse(bad).is_err(), "{bad} should not parse");
    }
}

#[test]
fn set_result_path() {
    let mut v = json!({"a": 1});
    JsonPath::parse("$.b.c")
        .unwrap()
        .set(&mut v, json!(2))
        .unwrap();
    assert_eq!(v, json!({"a": 1, "b": {"c": 2}}));
    JsonPath::parse("$.a")
        .unwrap()
        .set(&mut v, json!("x"))
        .unwrap();
    assert_eq!(v, json!({"a": "x", "b": {"c": 2}}));
    JsonPath::parse("$")
        .unwrap()
        .set(&mut v, json!([1]))
        .unwrap();
    assert_eq!(v, json!([1]));
    let mut v = json!({"l": [{"a": 1}, 2]});
    JsonPath::parse("$.l[0].b")
        .unwrap()
        .set(&mut v, json!(3))
        .unwrap();
    JsonPath::parse("$.l[1]")
        .unwrap()
        .set(&mut v, json!(4))
        .unwrap();
    assert_eq!(v, json!({"l": [{"a": 1, "b": 3}, 4]}));

    let mut v = json!({"a": "str"});
    let e = JsonPath::parse("$.a.b")
        .unwrap()
        .set(&mut v, json!(1))
        .unwrap_err();
    assert_eq!(e.error, "States.ResultPathMatchFailure");
    assert_eq!(
        e.cause,
        r#"Unable to apply ReferencePath $.a.b to input {"a":"str"}"#
    );
    assert_eq!(
        v,
        json!({"a": "str"}),
        "a failed set leaves the input unchanged"
    );
    let mut s = json!("text");
    let e = JsonPath::parse("$.x")
        .unwrap()
        .set(&mut s, json!(1))
        .unwrap_err();
    assert_eq!(
        e.cause,
        r#"Unable to apply ReferencePath $.x to input "text""#
    );
    let mut v = json!({"l": []});
    assert!(JsonPath::parse("$.l[0]")
        .unwrap()
        .set(&mut v, json!(1))
        .is_err());
    assert!(JsonPath::parse("$.n[0]")
        .unwrap()
        .set(&mut v, json!(1))
        .is_err());
    assert!(JsonPath::parse("$.l[*]")
        .unwrap()
        .set(&mut v, json!(1))
        .is_err());
}
