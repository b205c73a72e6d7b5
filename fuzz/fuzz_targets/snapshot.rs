//! `stepwise_interp::Execution::restore`: arbitrary bytes as the snapshot of one of a few
//! fixed machines; a snapshot that restores is then stepped with one event and its
//! summary, snapshot and restore taken again.
//!
//! Input: byte 0 picks the machine (`stepwise_fuzz::machines()`), byte 1 the event
//! (low 3 bits: Continue, TimerFired, TaskSucceeded, TaskFailed, Stop, TaskStarted,
//! TaskHeartbeat, Terminate; the rest picks which open timer or task), the rest is the
//! snapshot.
//!
//! With `STEPWISE_FUZZ_SNAPSHOT_SEEDS=DIR` set, the target first writes valid snapshots
//! of every machine, taken after each step of a driven execution, into DIR (seeds).
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::json;
use stepwise_fuzz::{machines, Fixed};
use stepwise_interp::{Event, Execution, ExecutionInfo};

fn event_for(ex: &Execution, sel: u8) -> Event {
    let which = (sel >> 3) as usize;
    let pick = |ids: Vec<u64>| {
        if ids.is_empty() {
            which as u64
        } else {
            ids[which % ids.len()]
        }
    };
    match sel & 7 {
        0 => Event::Continue,
        1 => Event::TimerFired {
            timer: pick(ex.open_timers()),
        },
        2 => Event::TaskSucceeded {
            task: pick(ex.open_tasks()),
            output: json!({"Payload": {"ok": true}, "list": [1, 2]}),
        },
        3 => Event::TaskFailed {
            task: pick(ex.open_tasks()),
            error: if which % 2 == 0 { "Boom" } else { "States.Timeout" }.into(),
            cause: "fuzz".into(),
        },
        4 => Event::Stop {
            error: Some("E".into()),
            cause: None,
        },
        5 => Event::TaskStarted {
            task: pick(ex.open_tasks()),
            worker_name: "w".into(),
        },
        6 => Event::TaskHeartbeat {
            task: pick(ex.open_tasks()),
        },
        _ => Event::Terminate {
            error: "States.Runtime".into(),
            cause: "deleted".into(),
        },
    }
}

/// Drives each machine and writes `[machine, event, snapshot…]` after every step.
fn write_seeds(dir: &str) {
    std::fs::create_dir_all(dir).expect("seed directory");
    let mut n = 0;
    for (mi, m) in machines().iter().enumerate() {
        for express in [false, true] {
            let info = if express {
                ExecutionInfo::local_express("sm", "ex", "id")
            } else {
                ExecutionInfo::local("sm", "ex")
            };
            let mut sources = Fixed::new();
            let (mut ex, _) =
                Execution::start(m.machine.clone(), info, m.input.clone(), &mut sources);
            for step in 0..40u32 {
                // The event the driver feeds next, also the seed's event byte.
                let sel: u8 = if ex.has_runnable() {
                    0
                } else if !ex.open_tasks().is_empty() {
                    if step % 3 == 2 {
                        3
                    } else {
                        2
                    }
                } else if !ex.open_timers().is_empty() {
                    1
                } else {
                    4
                };
                let mut seed = vec![mi as u8, sel];
                seed.extend(ex.snapshot());
                let path = format!("{dir}/seed-{}-{}-{step:02}", m.name, u8::from(express));
                std::fs::write(path, seed).expect("write seed");
                n += 1;
                if ex.status() != stepwise_interp::Status::Running {
                    break;
                }
                if sel == 1 {
                    sources.advance(10_000);
                }
                let event = event_for(&ex, sel);
                ex.handle(event, &mut sources);
            }
        }
    }
    eprintln!("snapshot: wrote {n} seeds to {dir}");
}

fuzz_target!(
    init: {
        if let Ok(dir) = std::env::var("STEPWISE_FUZZ_SNAPSHOT_SEEDS") {
            write_seeds(&dir);
        }
    },
    |data: &[u8]| {
        let [pick, sel, bytes @ ..] = data else {
            return;
        };
        let all = machines();
        let m = &all[*pick as usize % all.len()];
        let Ok(mut ex) = Execution::restore(m.machine.clone(), bytes) else {
            return;
        };
        let _ = ex.summary();
        let mut sources = Fixed::new();
        if sel & 7 == 1 {
            sources.advance(3_600_000);
        }
        let event = event_for(&ex, *sel);
        let _ = ex.handle(event, &mut sources);
        let _ = ex.summary();
        let again = ex.snapshot();
        let _ = Execution::restore(m.machine.clone(), &again);
    }
);
