//! Aggregation throughput: folds 10 million generated responses into a [`Tally`], beside
//! two references measured in the same run: an NPS-only histogram fold, and the memory
//! floor (reading every byte of the same observations once). Run with
//! `cargo bench -p rapport-scoring --bench aggregate`.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rapport_scoring::aggregate::Tally;
use rapport_scoring::definition::MAX_RATED_ITEMS;
use rapport_scoring::score::{NO_NPS, NO_RATING, Observation};
use rapport_scoring::wire::ConfidentialityChoice;
use rapport_scoring::{Scorer, template};

const N_RESPONSES: usize = 10_000_000;

/// Deterministic pseudo-random observations shaped like a real programme: most answer the
/// 0–10 question, about 80% of ratings are given, two thirds keep confidentiality.
fn observations(n: usize) -> Vec<Observation> {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    (0..n)
        .map(|_| {
            let bits = next();
            let mut ratings = [NO_RATING; MAX_RATED_ITEMS];
            for (slot, rating) in ratings.iter_mut().take(7).enumerate() {
                let draw = (bits >> (slot * 4)) & 0xf;
                *rating = if draw < 13 {
                    (draw % 7) as u8 + 1
                } else {
                    NO_RATING
                };
            }
            Observation {
                nps: if bits >> 60 == 0 {
                    NO_NPS
                } else {
                    ((bits >> 32) % 11) as u8
                },
                ratings,
                confidentiality: if (bits >> 40) % 3 == 0 {
                    ConfidentialityChoice::Identified
                } else {
                    ConfidentialityChoice::Confidential
                },
            }
        })
        .collect()
}

fn aggregate(c: &mut Criterion) {
    let definition = template("client-portal").expect("built-in template");
    let scorer = Scorer::new(&definition);
    let data = observations(N_RESPONSES);
    let mut group = c.benchmark_group("aggregate-10m");
    group.sample_size(10);
    group.throughput(Throughput::Elements(N_RESPONSES as u64));
    group.bench_function("tally (nps + crq + categories)", |b| {
        b.iter(|| {
            let mut tally = Tally::new(&scorer);
            for observation in &data {
                tally.add(&scorer, observation);
            }
            black_box(tally)
        })
    });
    group.bench_function("nps histogram only", |b| {
        b.iter(|| {
            let mut histogram = [0u64; 12];
            for observation in &data {
                histogram[usize::from(observation.nps).min(11)] += 1;
            }
            black_box(histogram)
        })
    });
    group.bench_function("memory floor (sum every byte)", |b| {
        b.iter(|| {
            let mut sum = 0u64;
            for observation in &data {
                sum += u64::from(observation.nps)
                    + observation
                        .ratings
                        .iter()
                        .map(|rating| u64::from(*rating))
                        .sum::<u64>();
            }
            black_box(sum)
        })
    });
    group.finish();
}

criterion_group!(benches, aggregate);
criterion_main!(benches);
