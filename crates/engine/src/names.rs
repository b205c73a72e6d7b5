//! Which execution ARNs may already be in the store, so that StartExecution with a new
//! name (nearly every call) need not read the store to check that the name is free.
//!
//! A scalable Bloom filter: a list of filters, each twice the capacity of the one
//! before, about 1% false positives each and ~1.2 MiB per million names. A "maybe"
//! means: ask the store. A "no" is certain, because every ARN the store holds was added
//! (at startup from the store, then as executions start).

use std::hash::{DefaultHasher, Hash, Hasher};

/// Bits per name and probes per lookup: ~1% false positives.
const BITS_PER_NAME: usize = 10;
const PROBES: u64 = 7;
const FIRST_CAPACITY: usize = 1 << 16;

#[derive(Debug)]
pub(crate) struct NameFilter {
    filters: Vec<Bloom>,
}

#[derive(Debug)]
struct Bloom {
    words: Vec<u64>,
    capacity: usize,
    len: usize,
}

impl Bloom {
    fn new(capacity: usize) -> Bloom {
        Bloom {
            words: vec![0; (capacity * BITS_PER_NAME).div_ceil(64)],
            capacity,
            len: 0,
        }
    }

    fn positions(&self, (h1, h2): (u64, u64)) -> impl Iterator<Item = usize> + '_ {
        let bits = (self.words.len() * 64) as u64;
        (0..PROBES).map(move |i| (h1.wrapping_add(i.wrapping_mul(h2)) % bits) as usize)
    }

    fn insert(&mut self, h: (u64, u64)) {
        let positions: Vec<usize> = self.positions(h).collect();
        for p in positions {
            self.words[p / 64] |= 1 << (p % 64);
        }
        self.len += 1;
    }

    fn contains(&self, h: (u64, u64)) -> bool {
        self.positions(h)
            .all(|p| self.words[p / 64] & (1 << (p % 64)) != 0)
    }
}

fn hashes(arn: &str) -> (u64, u64) {
    let mut a = DefaultHasher::new();
    arn.hash(&mut a);
    let h1 = a.finish();
    let mut b = DefaultHasher::new();
    (arn, 0x9e37_79b9_u32).hash(&mut b);
    // An odd step visits distinct positions.
    (h1, b.finish() | 1)
}

impl NameFilter {
    pub(crate) fn new() -> NameFilter {
        NameFilter {
            filters: vec![Bloom::new(FIRST_CAPACITY)],
        }
    }

    pub(crate) fn insert(&mut self, arn: &str) {
        let h = hashes(arn);
        let full = self.filters.last().is_none_or(|f| f.len >= f.capacity);
        if full {
            let capacity = self
                .filters
                .last()
                .map_or(FIRST_CAPACITY, |f| f.capacity * 2);
            self.filters.push(Bloom::new(capacity));
        }
        if let Some(f) = self.filters.last_mut() {
            f.insert(h);
        }
    }

    /// `false`: the store certainly has no execution with this ARN.
    pub(crate) fn may_contain(&self, arn: &str) -> bool {
        let h = hashes(arn);
        self.filters.iter().any(|f| f.contains(h))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_false_negatives_and_few_false_positives_as_it_grows() {
        let mut f = NameFilter::new();
        let n = 3 * FIRST_CAPACITY + 17;
        for i in 0..n {
            f.insert(&format!(
                "arn:aws:states:us-east-1:123456789012:execution:m:e-{i}"
            ));
        }
        assert!(f.filters.len() >= 2, "it grew");
        for i in 0..n {
            assert!(f.may_contain(&format!(
                "arn:aws:states:us-east-1:123456789012:execution:m:e-{i}"
            )));
        }
        let false_positives = (0..100_000)
            .filter(|i| {
                f.may_contain(&format!(
                    "arn:aws:states:us-east-1:123456789012:execution:m:x-{i}"
                ))
            })
            .count();
        assert!(false_positives < 4_000, "{false_positives} in 100,000");
    }
}
