//! `stepwise_interp::test_state::test_state`: a TestState request with fuzzed text.
//!
//! Input: fields separated by NUL bytes, a missing field is absent (`None`):
//! 0 definition, 1 input, 2 control bytes, 3 mock result / mock error name,
//! 4 variables, 5 context, 6 stateName, 7 mock error cause, 8 map item reader data.
//! Control bytes: [0] inspection level (INFO, DEBUG, TRACE), [1] mock (none, result,
//! errorOutput), [2] retrierRetryCount (0: absent, else n - 1), [3]
//! mapIterationFailureCount (same), [4] bit 0 revealSecrets, bit 1 errorCausedByState,
//! [5] fieldValidationMode (absent, STRICT, PRESENT, NONE).
//!
//! A JSONata expression may run up to its 10 s guard by design; scripts/fuzz gives this
//! target a timeout above it, and a request slower than a second is kept out of the
//! corpus (see the jsonata target).
#![no_main]

use libfuzzer_sys::{fuzz_target, Corpus};
use std::time::{Duration, Instant};
use stepwise_fuzz::{fields, Fixed};
use stepwise_interp::test_state::{
    test_state, InspectionLevel, MockErrorOutput, TestStateConfiguration, TestStateMock,
    TestStateRequest,
};

fn text(f: Option<&&[u8]>) -> Option<String> {
    f.map(|b| String::from_utf8_lossy(b).into_owned())
}

fuzz_target!(|data: &[u8]| -> Corpus {
    let f = fields(data, 9);
    let Ok(definition) = std::str::from_utf8(f[0]) else {
        return Corpus::Reject;
    };
    let control = f.get(2).copied().unwrap_or(&[]);
    let c = |i: usize| control.get(i).copied().unwrap_or(0);
    let count = |i: usize| match c(i) {
        0 => None,
        n => Some(u32::from(n - 1)),
    };
    let payload = text(f.get(3));
    let mock = match c(1) % 3 {
        0 => None,
        1 => Some(TestStateMock {
            result: Some(payload.unwrap_or_else(|| "{}".into())),
            ..Default::default()
        }),
        _ => Some(TestStateMock {
            error_output: Some(MockErrorOutput {
                error: payload,
                cause: text(f.get(7)),
            }),
            ..Default::default()
        }),
    };
    let mock = mock.map(|mut m| {
        m.field_validation_mode = match c(5) % 4 {
            0 => None,
            1 => Some("STRICT".into()),
            2 => Some("PRESENT".into()),
            _ => Some("NONE".into()),
        };
        m
    });
    let config = TestStateConfiguration {
        retrier_retry_count: count(2),
        error_caused_by_state: (c(4) & 2 != 0).then(|| "Other".to_string()),
        map_iteration_failure_count: count(3),
        map_item_reader_data: text(f.get(8)),
    };
    let req = TestStateRequest {
        definition: definition.to_string(),
        state_name: text(f.get(6)),
        input: text(f.get(1)),
        inspection_level: match c(0) % 3 {
            0 => InspectionLevel::Info,
            1 => InspectionLevel::Debug,
            _ => InspectionLevel::Trace,
        },
        variables: text(f.get(4)),
        reveal_secrets: c(4) & 1 != 0,
        context: text(f.get(5)),
        mock,
        state_configuration: (config != TestStateConfiguration::default()).then_some(config),
        ..TestStateRequest::default()
    };
    let started = Instant::now();
    match test_state(&req, &mut Fixed::new()) {
        Ok(resp) => {
            let _ = resp.to_aws_json();
        }
        Err(e) => {
            let _ = (e.code(), e.message().len());
        }
    }
    if started.elapsed() > Duration::from_secs(1) {
        Corpus::Reject
    } else {
        Corpus::Keep
    }
});
