//! Unit tests of `jackson.rs` (a child module of it: `super::*` is that file).

use super::*;

fn message(text: &str) -> String {
    let e = serde_json::from_str::<serde_json::Value>(text).expect_err("not JSON");
    describe(text, &e)
}

#[test]
fn a_bare_word_is_an_unrecognized_token_as_aws_records_it() {
    // AWS (LocalStack's recording of ValidateStateMachineDefinition, NOT_A_DEF).
    assert_eq!(
        message("not a definition"),
        "Unrecognized token 'not': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')\n at [Source: (String)\"not a definition\"; line: 1, column: 4]"
    );
    // A path given where the definition's text belongs (no file://).
    assert_eq!(
        message("examples/hello.asl.json"),
        "Unrecognized token 'examples': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')\n at [Source: (String)\"examples/hello.asl.json\"; line: 1, column: 9]"
    );
    assert!(message("{\"a\": tru}").starts_with("Unrecognized token 'tru': "));
}

#[test]
fn unexpected_characters_say_what_was_expected() {
    let m = message("{'StartAt': 1}");
    assert!(
        m.starts_with("Unexpected character (''' (code 39)): was expecting double-quote to start field name\n at [Source: (String)\"{'StartAt': 1}\"; line: 1, column: 3]"),
        "{m}"
    );
    assert!(message("{\"a\": 1 \"b\": 2}").starts_with(
        "Unexpected character ('\"' (code 34)): was expecting comma to separate Object entries"
    ));
    assert!(message("[1 2]").starts_with(
        "Unexpected character ('2' (code 50)): was expecting comma to separate Array entries"
    ));
    assert!(message("{\"a\" 1}")
        .starts_with("Unexpected character ('1' (code 49)): was expecting a colon to separate field name and value"));
    assert!(message("./machine.json")
        .starts_with("Unexpected character ('.' (code 46)): expected a valid value (JSON String"));
}

#[test]
fn end_of_input_names_the_unclosed_container() {
    assert_eq!(
        message("{\"StartAt\": \"A\", \"States\": "),
        "Unexpected end-of-input: expected close marker for Object (start marker at [Source: (String)\"{\"StartAt\": \"A\", \"States\": \"; line: 1, column: 1])\n at [Source: (String)\"{\"StartAt\": \"A\", \"States\": \"; line: 1, column: 28]"
    );
}

#[test]
fn long_sources_are_cut_as_jackson_cuts_them() {
    let text = format!("x{}", "y".repeat(600));
    let m = message(&text);
    assert!(
        m.contains("[truncated 101 chars]; line: 1, column: 602]"),
        "{m}"
    );
}
