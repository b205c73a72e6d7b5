//! Unit tests of `analyze.rs` (a child module of it: `super::*` is that file).

use super::*;
use jsonata_core::parser::parse;

fn needs(src: &str) -> Needs {
    let mut ast = parse(src).unwrap();
    rewrite(&mut ast);
    analyze(&ast)
}

#[test]
fn states_fields_are_narrowed() {
    let n = needs("$states.input.a & $states.context.Execution.Id");
    assert_eq!(
        n.states,
        StatesUse::Fields(BTreeSet::from(["context".into(), "input".into()]))
    );
    assert!(n.vars.is_empty());
    assert_eq!(needs("$keys($states)").states, StatesUse::All);
    assert_eq!(needs("$states[0].input").states, StatesUse::All);
    assert_eq!(needs("1 + 2").states, StatesUse::None);
}

#[test]
fn variables_are_collected_everywhere() {
    let n = needs("$a + $sum([$b.x, $states.input[$c > 1]]) ~> function($p){$p + $d}");
    let vars: Vec<&str> = n.vars.iter().map(String::as_str).collect();
    assert_eq!(vars, ["a", "b", "c", "d", "p"]);
}

#[test]
fn draws_are_counted() {
    let n = needs("[$uuid(), $uuid(), $random(), $random(3), $shuffle([1,2])]");
    assert_eq!((n.uuids, n.randoms, n.now), (2, 2, false));
    assert!(needs("$now()").now);
    assert!(needs("$millis()").now);
    assert!(needs("$map([1], $now)").now);
}

#[test]
fn now_is_rewritten() {
    let mut ast = parse("$now('[Y]')").unwrap();
    rewrite(&mut ast);
    match ast {
        AstNode::Function { name, args, .. } => {
            assert_eq!(name, "fromMillis");
            assert_eq!(args.len(), 2);
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn join_is_bounded_unless_the_expression_defines_its_own() {
    assert!(needs("$join(['a'], ',')")
        .names
        .contains(crate::functions::BOUNDED_JOIN));
    let own = needs("($join := function($a){ 'mine' }; $join([1]))");
    assert!(
        !own.names.contains(crate::functions::BOUNDED_JOIN),
        "{:?}",
        own.names
    );
    let param = needs("(function($join){ $join(1) })(function($x){ $x })");
    assert!(
        !param.names.contains(crate::functions::BOUNDED_JOIN),
        "{:?}",
        param.names
    );
}
