//! Unit tests of `bench_server/table.rs` (a child module of it: `super::*` is that file).

use super::*;

fn row(target: Option<Target>, better: Better, s: Cell, m: Cell) -> Row {
    Row {
        workload: "hello3",
        metric: "m".into(),
        unit: Unit::PerSec,
        better,
        target,
        stepwise: s,
        process: Cell::Skipped(String::new()),
        moto: m,
    }
}

#[test]
fn ratio_is_times_better_both_ways_and_targets_are_judged() {
    let r = row(
        Some(Target::AtLeast(8000.0)),
        Better::Higher,
        Cell::Ran(9000.0, String::new()),
        Cell::Ran(90.0, String::new()),
    );
    assert_eq!(r.ratio(), Some(100.0));
    assert_eq!(r.met(), Some(true));
    let r = row(
        Some(Target::AtMost(2.0)),
        Better::Lower,
        Cell::Ran(1.0, String::new()),
        Cell::Ran(11.0, String::new()),
    );
    assert_eq!(r.ratio(), Some(11.0));
    assert_eq!(r.met(), Some(true));
    let r = row(
        Some(Target::AtLeast(5000.0)),
        Better::Higher,
        Cell::Ran(4000.0, String::new()),
        Cell::Skipped("n/a".into()),
    );
    assert_eq!(r.ratio(), None);
    assert_eq!(r.met(), Some(false));
    let r = row(
        None,
        Better::Higher,
        Cell::Ran(1.0, String::new()),
        Cell::Skipped(String::new()),
    );
    assert_eq!(r.met(), None);
}

#[test]
fn table_is_aligned_with_marks_and_failures() {
    let rows = vec![
        row(
            Some(Target::AtLeast(5000.0)),
            Better::Higher,
            Cell::Ran(12_345.6, String::new()),
            Cell::Ran(90.0, String::new()),
        ),
        row(
            None,
            Better::Higher,
            Cell::Failed("output differs\nmore".into()),
            Cell::Skipped("n/a".into()),
        ),
    ];
    let t = format_table(&rows);
    let lines: Vec<&str> = t.lines().collect();
    assert_eq!(lines.len(), 4);
    let w = lines[0].chars().count();
    assert!(lines.iter().all(|l| l.chars().count() == w), "{t}");
    assert!(lines[0].starts_with("| workload | metric | Stepwise "));
    assert!(
        lines[2].contains("12,346")
            && lines[2].contains("90.0")
            && lines[2].contains("137×")
            && lines[2].contains("≥ 5,000 ✓"),
        "{t}"
    );
    assert!(lines[3].contains("FAILED (below)") && !lines[3].contains("output differs"));
}
