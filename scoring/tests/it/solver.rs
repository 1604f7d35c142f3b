//! The solver of the disclosure tests: given, for each figure a reader can get, the set of
//! real protected answers behind it, it tries to isolate one answer by exact arithmetic.
//! A figure over fewer than `k` of them, two nested figures that differ by fewer than `k`,
//! or any linear combination of figures equal to one answer (a rank test over two large
//! prime fields) is a finding.
//!
//! Shared with the server's suite, which plays the same attack over HTTP on each backend
//! (it includes this file by path), so both use one solver, one generated programme's
//! vocabulary and one rule for changing an answer.

use std::collections::{BTreeMap, BTreeSet};

/// The rated elements of `client-portal`.
pub(crate) const ELEMENTS: [&str; 7] = [
    "trust",
    "commitment",
    "satisfaction",
    "uniqueness",
    "reliability",
    "responsiveness",
    "care",
];
/// The options of its role question.
pub(crate) const ROLES: [&str; 3] = ["decision-maker", "day-to-day", "operational"];
/// The accounts of a generated programme.
pub(crate) const ACCOUNTS: [&str; 3] = ["northwind", "contoso", "fabrikam"];

/// Another 0–10 answer of the same category (detractor, passive, promoter), so a changed
/// answer moves every figure it is counted in and no breakdown group changes members.
pub(crate) fn same_category_other(nps: u8) -> u8 {
    match nps {
        0..=5 => nps + 1,
        6 => 0,
        7 => 8,
        8 => 7,
        9 => 10,
        _ => 9,
    }
}

/// Another 1–7 rating: each moves by one step round the scale.
pub(crate) fn other_rating(rating: u8) -> u8 {
    rating % 7 + 1
}

/// A small deterministic generator (xorshift64*), so every run sees the same programmes.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    /// A number below `n`.
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
    }
}

/// For each figure, the real protected answers behind it, from the numbers alone: `base`
/// holds every figure the reader got, keyed by where it appears, and `changed[v]` the same
/// figures when only protected answer `v` was different. The answers behind a figure are
/// those whose change moved it. Distinct sets only.
pub(crate) fn answer_sets(
    base: &BTreeMap<String, String>,
    changed: &[BTreeMap<String, String>],
) -> Vec<BTreeSet<usize>> {
    let mut sets: BTreeMap<&str, BTreeSet<usize>> = BTreeMap::new();
    for (victim, changed) in changed.iter().enumerate() {
        for (key, value) in base {
            if changed.get(key).is_some_and(|other| other != value) {
                sets.entry(key).or_default().insert(victim);
            }
        }
    }
    let distinct: BTreeSet<BTreeSet<usize>> = sets.into_values().collect();
    distinct.into_iter().collect()
}

/// What the solver recovered.
#[derive(Debug)]
pub(crate) enum Finding {
    /// One figure stands on fewer than k protected answers.
    SmallFigure(usize),
    /// Two figures, one inside the other, differ by fewer than k protected answers.
    Difference(usize),
    /// One protected answer is a linear combination of the figures.
    Combination,
}

const PRIMES: [u64; 2] = [2_305_843_009_213_693_951, 4_611_686_018_427_387_847];

fn mul_mod(a: u64, b: u64, p: u64) -> u64 {
    (u128::from(a) * u128::from(b) % u128::from(p)) as u64
}

fn inverse(a: u64, p: u64) -> u64 {
    // Fermat: a^(p−2).
    let (mut base, mut exponent, mut result) = (a, p - 2, 1u64);
    while exponent > 0 {
        if exponent & 1 == 1 {
            result = mul_mod(result, base, p);
        }
        base = mul_mod(base, base, p);
        exponent >>= 1;
    }
    result
}

/// Whether the unit vector of `column` lies in the row space of `rows` over GF(p).
fn unit_in_span(rows: &[Vec<u64>], n_columns: usize, column: usize, p: u64) -> bool {
    // Row-reduce the rows into an echelon basis keyed by pivot column.
    let mut basis: Vec<(usize, Vec<u64>)> = Vec::new();
    for row in rows {
        let mut row = row.clone();
        for (pivot, basis_row) in &basis {
            if row[*pivot] != 0 {
                let factor = row[*pivot];
                for (entry, basis_entry) in row.iter_mut().zip(basis_row) {
                    *entry = (*entry + p - mul_mod(factor, *basis_entry, p)) % p;
                }
            }
        }
        if let Some(pivot) = (0..n_columns).find(|column| row[*column] != 0) {
            let scale = inverse(row[pivot], p);
            for entry in &mut row {
                *entry = mul_mod(*entry, scale, p);
            }
            basis.push((pivot, row));
        }
    }
    let mut target = vec![0u64; n_columns];
    target[column] = 1;
    for (pivot, basis_row) in &basis {
        if target[*pivot] != 0 {
            let factor = target[*pivot];
            for (entry, basis_entry) in target.iter_mut().zip(basis_row) {
                *entry = (*entry + p - mul_mod(factor, *basis_entry, p)) % p;
            }
        }
    }
    target.iter().all(|entry| *entry == 0)
}

/// Everything the solver can isolate from the sets of answers behind the figures.
pub(crate) fn solve(sets: &[BTreeSet<usize>], n_victims: usize, k: usize) -> Vec<Finding> {
    let mut findings = Vec::new();
    for set in sets {
        if !set.is_empty() && set.len() < k {
            findings.push(Finding::SmallFigure(set.len()));
        }
    }
    for outer in sets {
        for inner in sets {
            if inner.len() < outer.len() && inner.is_subset(outer) {
                let difference = outer.len() - inner.len();
                if difference < k {
                    findings.push(Finding::Difference(difference));
                }
            }
        }
    }
    for prime in PRIMES {
        let rows: Vec<Vec<u64>> = sets
            .iter()
            .map(|set| {
                (0..n_victims)
                    .map(|victim| u64::from(set.contains(&victim)))
                    .collect()
            })
            .collect();
        for victim in 0..n_victims {
            if unit_in_span(&rows, n_victims, victim, prime) {
                findings.push(Finding::Combination);
            }
        }
    }
    findings
}

impl Finding {
    /// How many protected answers the finding isolates, or `None` for one answer by a
    /// combination.
    pub(crate) fn isolated(&self) -> Option<usize> {
        match self {
            Finding::SmallFigure(n) | Finding::Difference(n) => Some(*n),
            Finding::Combination => None,
        }
    }
}
