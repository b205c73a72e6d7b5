//! Unit tests of `bench_server/driver.rs` (a child module of it: `super::*` is that file).

use super::*;

#[test]
fn driver_counts_operations_and_stops_on_the_first_error() {
    let n = AtomicU64::new(0);
    let r = drive("http://127.0.0.1:9", 3, Until::Count(10), &|_| {
        n.fetch_add(1, Ordering::Relaxed);
        Ok(())
    })
    .unwrap();
    assert_eq!(
        (r.ops, r.hist.count(), n.load(Ordering::Relaxed)),
        (10, 10, 10)
    );
    let r = drive("http://127.0.0.1:9", 2, Until::Seconds(0.05), &|_| Ok(()));
    assert!(r.unwrap().ops > 0);
    let e = drive("http://127.0.0.1:9", 4, Until::Seconds(10.0), &|_| {
        bail!("boom")
    })
    .err()
    .unwrap();
    assert_eq!(e.to_string(), "boom");
}
