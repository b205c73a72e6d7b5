//! Reading a mock file into a [`MockConfig`], checking every rule on the way. Each error
//! carries the path of the key at fault, e.g. `MockedResponses.Retry."1-x"`.

use std::collections::{BTreeMap, BTreeSet};

use crate::raw::Raw;
use crate::{quote, MockConfig, MockError, MockResult, MockedResponse, TestCaseMap};

const STATE_MACHINES: &str = "StateMachines";
const MOCKED_RESPONSES: &str = "MockedResponses";
const TEST_CASES: &str = "TestCases";
const RETURN: &str = "Return";
const THROW: &str = "Throw";
const ERROR: &str = "Error";
const CAUSE: &str = "Cause";

const RANGE_HELP: &str =
    "invalid attempt range (expected an invocation number such as \"0\" or an inclusive range such as \"1-2\")";

pub(crate) fn parse(text: &str) -> Result<MockConfig, MockError> {
    let root: Raw = serde_json::from_str(text).map_err(|e| MockError::Json(e.to_string()))?;
    let members = object(
        &root,
        &[],
        "an object with \"StateMachines\" and \"MockedResponses\"",
    )?;
    let mut machines = None;
    let mut responses = None;
    for (key, value) in members {
        match key.as_str() {
            STATE_MACHINES => machines = Some(value),
            MOCKED_RESPONSES => responses = Some(value),
            _ => {
                return Err(invalid(
                    &[key],
                    "unknown field (a mock file has \"StateMachines\" and \"MockedResponses\")",
                ))
            }
        }
    }
    let machines =
        machines.ok_or_else(|| invalid(&[], "missing required field \"StateMachines\""))?;
    let responses =
        responses.ok_or_else(|| invalid(&[], "missing required field \"MockedResponses\""))?;
    // Responses first, whatever the file order, so test cases can be checked against them.
    let responses = mocked_responses(responses)?;
    let machines = state_machines(machines, &responses)?;
    Ok(MockConfig {
        machines,
        responses,
    })
}

/// `a.b."1-2"`: plain segments bare, anything else as a JSON string.
fn path(segments: &[&str]) -> String {
    let mut out = String::new();
    for (i, seg) in segments.iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        let bare = seg
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && seg.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if bare {
            out.push_str(seg);
        } else {
            out.push_str(&quote(seg));
        }
    }
    out
}

fn invalid(segments: &[&str], message: impl Into<String>) -> MockError {
    MockError::Invalid {
        path: path(segments),
        message: message.into(),
    }
}

/// The members of an object, rejecting other kinds and repeated keys.
fn object<'r>(raw: &'r Raw, at: &[&str], expected: &str) -> Result<&'r [(String, Raw)], MockError> {
    let Raw::Object(members) = raw else {
        return Err(invalid(
            at,
            format!("expected {expected}, found {}", raw.kind()),
        ));
    };
    let mut seen = BTreeSet::new();
    for (key, _) in members {
        if !seen.insert(key.as_str()) {
            let mut segs = at.to_vec();
            segs.push(key);
            return Err(invalid(&segs, "duplicate key"));
        }
    }
    Ok(members)
}

fn mocked_responses(raw: &Raw) -> Result<BTreeMap<String, MockedResponse>, MockError> {
    let members = object(raw, &[MOCKED_RESPONSES], "an object of mocked responses")?;
    let mut out = BTreeMap::new();
    for (name, value) in members {
        out.insert(name.clone(), mocked_response(name, value)?);
    }
    Ok(out)
}

fn mocked_response(name: &str, raw: &Raw) -> Result<MockedResponse, MockError> {
    let at = [MOCKED_RESPONSES, name];
    let members = object(
        raw,
        &at,
        "an object keyed by invocation number (\"0\", \"1-2\", …)",
    )?;
    if members.is_empty() {
        return Err(invalid(
            &at,
            "defines no responses (expected keys such as \"0\" or \"1-2\")",
        ));
    }
    let mut entries = Vec::with_capacity(members.len());
    for (key, value) in members {
        let entry_at = [MOCKED_RESPONSES, name, key.as_str()];
        let (first, last) = match attempt_range(key) {
            Some((first, last)) if first <= last => (first, last),
            Some((first, last)) => {
                return Err(invalid(
                    &entry_at,
                    format!("invalid attempt range: {first} is greater than {last}"),
                ))
            }
            None => return Err(invalid(&entry_at, RANGE_HELP)),
        };
        entries.push((first, last, key.as_str(), entry(&entry_at, value)?));
    }
    entries.sort_by_key(|(first, _, _, _)| *first);
    // Every invocation from 0 to the last key's end must have exactly one response.
    let mut next: u64 = 0;
    let mut previous_key = "";
    for (first, last, key, _) in &entries {
        let first = u64::from(*first);
        if first < next {
            return Err(invalid(
                &[MOCKED_RESPONSES, name, key],
                format!(
                    "overlaps {} (each invocation must have exactly one response)",
                    quote(previous_key)
                ),
            ));
        }
        if first > next {
            let missing = if first - 1 == next {
                next.to_string()
            } else {
                format!("{next}-{}", first - 1)
            };
            return Err(invalid(
                &at,
                format!(
                    "no response for invocation {missing} (keys must cover every invocation from 0 up to the last, without gaps)"
                ),
            ));
        }
        next = u64::from(*last) + 1;
        previous_key = key;
    }
    Ok(MockedResponse {
        entries: entries
            .into_iter()
            .map(|(first, last, _, result)| (first, last, result))
            .collect(),
    })
}

/// `"3"` → (3, 3); `"1-2"` → (1, 2). Whitespace around the numbers is allowed, as in
/// LocalStack; signs, fractions and numbers above `u32::MAX` are not.
fn attempt_range(key: &str) -> Option<(u32, u32)> {
    let number = |s: &str| {
        let s = s.trim();
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        s.parse::<u32>().ok()
    };
    match key.split_once('-') {
        Some((first, last)) => Some((number(first)?, number(last)?)),
        None => number(key).map(|n| (n, n)),
    }
}

fn entry(at: &[&str], raw: &Raw) -> Result<MockResult, MockError> {
    const ONE_OF: &str = "exactly one of \"Return\" or \"Throw\"";
    let members = object(raw, at, &format!("an object with {ONE_OF}"))?;
    let mut result = None;
    for (key, value) in members {
        let mut field_at = at.to_vec();
        field_at.push(key);
        let this = match key.as_str() {
            RETURN => MockResult::Return(value.clone().into_value()),
            THROW => throw(&field_at, value)?,
            _ => {
                return Err(invalid(
                    &field_at,
                    format!("unknown field (a response has {ONE_OF})"),
                ))
            }
        };
        if result.is_some() {
            return Err(invalid(
                at,
                format!("has both \"Return\" and \"Throw\" (expected {ONE_OF})"),
            ));
        }
        result = Some(this);
    }
    result.ok_or_else(|| invalid(at, format!("expected {ONE_OF}")))
}

fn throw(at: &[&str], raw: &Raw) -> Result<MockResult, MockError> {
    let members = object(raw, at, "an object with \"Error\" and \"Cause\"")?;
    let mut error = None;
    let mut cause = None;
    for (key, value) in members {
        let mut field_at = at.to_vec();
        field_at.push(key);
        let slot = match key.as_str() {
            ERROR => &mut error,
            CAUSE => &mut cause,
            _ => {
                return Err(invalid(
                    &field_at,
                    "unknown field (a Throw has \"Error\" and \"Cause\")",
                ))
            }
        };
        let Some(text) = value.as_str() else {
            return Err(invalid(
                &field_at,
                format!("expected a string, found {}", value.kind()),
            ));
        };
        *slot = Some(text.to_owned());
    }
    let error = error.ok_or_else(|| invalid(at, "missing required field \"Error\""))?;
    if error.is_empty() {
        let mut field_at = at.to_vec();
        field_at.push(ERROR);
        return Err(invalid(
            &field_at,
            "must not be empty (it is the error name Retry and Catch match)",
        ));
    }
    Ok(MockResult::Throw {
        error,
        cause: cause.unwrap_or_default(),
    })
}

type Machines = BTreeMap<String, BTreeMap<String, TestCaseMap>>;

fn state_machines(
    raw: &Raw,
    responses: &BTreeMap<String, MockedResponse>,
) -> Result<Machines, MockError> {
    let members = object(
        raw,
        &[STATE_MACHINES],
        "an object keyed by state machine name",
    )?;
    let mut out = BTreeMap::new();
    for (machine, value) in members {
        let at = [STATE_MACHINES, machine.as_str()];
        let fields = object(value, &at, "an object with \"TestCases\"")?;
        let mut cases = None;
        for (key, value) in fields {
            if key != TEST_CASES {
                return Err(invalid(
                    &[STATE_MACHINES, machine, key],
                    "unknown field (a state machine has \"TestCases\")",
                ));
            }
            cases = Some(test_cases(machine, value, responses)?);
        }
        let cases = cases.ok_or_else(|| invalid(&at, "missing required field \"TestCases\""))?;
        out.insert(machine.clone(), cases);
    }
    Ok(out)
}

fn test_cases(
    machine: &str,
    raw: &Raw,
    responses: &BTreeMap<String, MockedResponse>,
) -> Result<BTreeMap<String, TestCaseMap>, MockError> {
    let members = object(
        raw,
        &[STATE_MACHINES, machine, TEST_CASES],
        "an object keyed by test case name",
    )?;
    let mut out = BTreeMap::new();
    for (case, value) in members {
        let at = [STATE_MACHINES, machine, TEST_CASES, case.as_str()];
        let states = object(
            value,
            &at,
            "an object mapping state names to mocked response names",
        )?;
        let mut map = TestCaseMap::new();
        for (state, value) in states {
            let state_at = [
                STATE_MACHINES,
                machine,
                TEST_CASES,
                case.as_str(),
                state.as_str(),
            ];
            let Some(response) = value.as_str() else {
                return Err(invalid(
                    &state_at,
                    format!(
                        "expected the name of a mocked response (a string), found {}",
                        value.kind()
                    ),
                ));
            };
            if !responses.contains_key(response) {
                return Err(invalid(
                    &state_at,
                    format!(
                        "refers to mocked response {}, which MockedResponses does not define",
                        quote(response)
                    ),
                ));
            }
            map.insert(state.clone(), response.to_owned());
        }
        out.insert(case.clone(), map);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_quote_non_identifiers() {
        assert_eq!(
            path(&["MockedResponses", "Retry", "1-x"]),
            "MockedResponses.Retry.\"1-x\""
        );
        assert_eq!(path(&["A_b9", "0", ""]), "A_b9.\"0\".\"\"");
        assert_eq!(path(&["we\"ird"]), "\"we\\\"ird\"");
        assert_eq!(path(&[]), "");
    }

    #[test]
    fn attempt_ranges() {
        assert_eq!(attempt_range("0"), Some((0, 0)));
        assert_eq!(attempt_range("12"), Some((12, 12)));
        assert_eq!(attempt_range("1-2"), Some((1, 2)));
        assert_eq!(attempt_range(" 1 - 2 "), Some((1, 2)));
        assert_eq!(attempt_range("4294967295"), Some((u32::MAX, u32::MAX)));
        assert_eq!(
            attempt_range("3-1"),
            Some((3, 1)),
            "order is checked by the caller"
        );
        for bad in [
            "",
            "-",
            "x",
            "1-x",
            "-1",
            "1-",
            "1-2-3",
            "+1",
            "1.0",
            "4294967296",
            "0x1",
            "1 2",
            "١",
        ] {
            assert_eq!(attempt_range(bad), None, "{bad:?}");
        }
    }
}
