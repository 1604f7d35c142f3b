//! Key drivers: which rated statements move the 0–10 answer, and how each is rated.
//!
//! For every rated item of a survey version (the CRQ elements and the contract-experience
//! statements) a report gives its *performance* (mean rating, how many rated it) beside its
//! *importance*: the Pearson correlation with the 0–10 answer (pairwise complete, with the
//! 95% Fisher-z interval), the standardised coefficient of the regression of the z-scored
//! 0–10 answer on the z-scored items over complete cases (with its 95% t interval), and
//! Johnson's (2000) relative weight, the share of R² that the item carries once the items'
//! correlation with one another is accounted for. The relative weights add up to R².
//!
//! Drivers are computed only by [`crate::report::report_of`], from the rows of its
//! `ReportInput`, so a role other than admin gets drivers of its release and nothing
//! else. The module must never read a row on its own, and it is not reached from the
//! widget, which never builds a report.
//!
//! Numerics: means first, then centred cross-products (no sums of raw squares), the
//! correlation matrix solved through its Cholesky factor, and the symmetric square root
//! that relative weights need from a cyclic Jacobi eigendecomposition: the matrices are at
//! most [`MAX_RATED_ITEMS`](crate::definition::MAX_RATED_ITEMS) wide, so a few sweeps are
//! exact to rounding and no linear-algebra dependency is needed.

use serde::{Deserialize, Serialize};

use crate::ids::{LevelId, QuestionId};
use crate::score::{NO_NPS, NO_RATING, Observation, Scorer};
use crate::stats::{Interval, t_quantile};

/// How many more complete answers than rated items drivers need at least, beside the
/// minimum group size: with fewer, the regression has too few degrees of freedom for its
/// coefficients to mean anything.
pub const EXTRA_COMPLETE_CASES: u64 = 10;

/// The 0.975 quantile of the standard normal distribution, for 95% Fisher-z intervals.
const NORMAL_QUANTILE_975: f64 = 1.959_963_984_540_054;

/// What moves the 0–10 answer, item by item, with the fit of the model behind it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Drivers {
    /// Responses with the 0–10 answer and every rated item answered: the rows of the
    /// regression and of the relative weights.
    pub complete_cases: u64,
    /// The share of the variance of the 0–10 answer that the items explain together (R²).
    pub r_squared: f64,
    /// Residual degrees of freedom of the regression: complete cases − items − 1.
    pub residual_df: u64,
    /// One entry per rated item, in survey order.
    pub items: Vec<Driver>,
}

/// Importance and performance of one rated item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Driver {
    /// Question id.
    pub id: QuestionId,
    /// Pyramid level; absent for contract-experience items.
    pub level: Option<LevelId>,
    /// Mean rating (1–7) over everyone who rated the item.
    pub mean_rating: f64,
    /// How many rated the item.
    pub n_rated: u64,
    /// Pearson correlation of the rating with the 0–10 answer.
    pub correlation: Correlation,
    /// Standardised regression coefficient (the change in the 0–10 answer, in standard
    /// deviations, for one standard deviation more of this rating, the others held).
    pub coefficient: f64,
    /// 95% t interval of the coefficient, on [`Drivers::residual_df`] degrees of freedom.
    pub coefficient_interval: Interval,
    /// Johnson's relative weight: the part of R² this item carries; they sum to R².
    pub relative_weight: f64,
    /// The relative weight as a share of R² (0–1); the shares sum to 1.
    pub share: f64,
}

/// A Pearson correlation with its 95% interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Correlation {
    /// The correlation coefficient r.
    pub r: f64,
    /// How many responses have both the rating and the 0–10 answer.
    pub n: u64,
    /// 95% interval from Fisher's z: tanh(atanh r ± 1.96 / √(n − 3)).
    pub interval: Interval,
}

/// The fewest complete answers drivers need: the larger of the minimum group size and the
/// number of rated items plus [`EXTRA_COMPLETE_CASES`].
pub fn min_complete_cases(n_items: usize, min_group_size: u64) -> u64 {
    min_group_size.max(n_items as u64 + EXTRA_COMPLETE_CASES)
}

/// Key drivers over `observations`, or `None` when there are fewer complete answers than
/// [`min_complete_cases`], when the 0–10 answer or a rating does not vary among them, or
/// when one item's ratings are a linear combination of the others' (the correlation matrix
/// is singular and importance cannot be shared out).
pub(crate) fn key_drivers(
    scorer: &Scorer,
    observations: &[Observation],
    min_group_size: u64,
) -> Option<Drivers> {
    let n_items = scorer.rated_ids().len();
    if n_items == 0 {
        return None;
    }
    let complete: Vec<&Observation> = observations
        .iter()
        .filter(|observation| {
            observation.nps != NO_NPS
                && observation.ratings[..n_items]
                    .iter()
                    .all(|rating| *rating != NO_RATING)
        })
        .collect();
    let n_complete = complete.len() as u64;
    if n_complete < min_complete_cases(n_items, min_group_size) {
        return None;
    }
    // Column 0 is the 0–10 answer, columns 1..=n_items the ratings.
    let width = n_items + 1;
    let value = |observation: &Observation, column: usize| -> f64 {
        if column == 0 {
            f64::from(observation.nps)
        } else {
            f64::from(observation.ratings[column - 1])
        }
    };
    let mut means = vec![0.0; width];
    for observation in &complete {
        for (column, mean) in means.iter_mut().enumerate() {
            *mean += value(observation, column);
        }
    }
    for mean in &mut means {
        *mean /= n_complete as f64;
    }
    let mut cross = vec![vec![0.0; width]; width];
    let mut centred = vec![0.0; width];
    for observation in &complete {
        for (column, deviation) in centred.iter_mut().enumerate() {
            *deviation = value(observation, column) - means[column];
        }
        for first in 0..width {
            for second in first..width {
                cross[first][second] += centred[first] * centred[second];
            }
        }
    }
    if (0..width).any(|column| cross[column][column] <= 0.0) {
        return None;
    }
    let correlation_of = |first: usize, second: usize| {
        let (low, high) = (first.min(second), first.max(second));
        cross[low][high] / (cross[low][low] * cross[high][high]).sqrt()
    };
    let item_correlations: Vec<Vec<f64>> = (1..width)
        .map(|first| {
            (1..width)
                .map(|second| {
                    if first == second {
                        1.0
                    } else {
                        correlation_of(first, second)
                    }
                })
                .collect()
        })
        .collect();
    let with_answer: Vec<f64> = (1..width).map(|item| correlation_of(0, item)).collect();

    let factor = cholesky(&item_correlations)?;
    let coefficients = cholesky_solve(&factor, &with_answer);
    let r_squared: f64 = with_answer
        .iter()
        .zip(&coefficients)
        .map(|(r, beta)| r * beta)
        .sum();
    let inverse_diagonal = inverse_diagonal(&factor);
    let residual_df = n_complete - n_items as u64 - 1;
    let residual_variance = (1.0 - r_squared) / residual_df as f64;
    let t = t_quantile(0.05, residual_df as f64);
    let weights = relative_weights(&item_correlations, &with_answer)?;

    let items = (0..n_items)
        .map(|item| {
            let (n_rated, sum) = observations
                .iter()
                .map(|observation| observation.ratings[item])
                .filter(|rating| *rating != NO_RATING)
                .fold((0u64, 0u64), |(n, sum), rating| {
                    (n + 1, sum + u64::from(rating))
                });
            let standard_error = (residual_variance * inverse_diagonal[item]).sqrt();
            let coefficient = coefficients[item];
            Driver {
                id: scorer.rated_ids()[item].clone(),
                level: scorer.level_of_rated(item).cloned(),
                mean_rating: sum as f64 / n_rated as f64,
                n_rated,
                correlation: pairwise_correlation(observations, item),
                coefficient,
                coefficient_interval: Interval {
                    low: coefficient - t * standard_error,
                    high: coefficient + t * standard_error,
                },
                relative_weight: weights[item],
                share: if r_squared > 0.0 {
                    weights[item] / r_squared
                } else {
                    0.0
                },
            }
        })
        .collect();
    Some(Drivers {
        complete_cases: n_complete,
        r_squared,
        residual_df,
        items,
    })
}

/// Pearson's r of item `item` with the 0–10 answer over the rows that have both, with the
/// Fisher-z interval. Called only once the complete cases have shown that both vary, so
/// the pairwise rows (a superset) have at least those cases and both vary there too.
fn pairwise_correlation(observations: &[Observation], item: usize) -> Correlation {
    let pairs = || {
        observations
            .iter()
            .filter(move |observation| {
                observation.nps != NO_NPS && observation.ratings[item] != NO_RATING
            })
            .map(move |observation| {
                (
                    f64::from(observation.ratings[item]),
                    f64::from(observation.nps),
                )
            })
    };
    let (n, sum_x, sum_y) = pairs().fold((0u64, 0.0, 0.0), |(n, sum_x, sum_y), (x, y)| {
        (n + 1, sum_x + x, sum_y + y)
    });
    let (mean_x, mean_y) = (sum_x / n as f64, sum_y / n as f64);
    let (sxx, syy, sxy) = pairs().fold((0.0, 0.0, 0.0), |(sxx, syy, sxy), (x, y)| {
        let (dx, dy) = (x - mean_x, y - mean_y);
        (sxx + dx * dx, syy + dy * dy, sxy + dx * dy)
    });
    let r = (sxy / (sxx * syy).sqrt()).clamp(-1.0, 1.0);
    let half_width = NORMAL_QUANTILE_975 / ((n as f64) - 3.0).sqrt();
    let z = r.atanh();
    Correlation {
        r,
        n,
        interval: Interval {
            low: (z - half_width).tanh(),
            high: (z + half_width).tanh(),
        },
    }
}

/// The lower-triangular `L` with `L Lᵀ = matrix`, or `None` when `matrix` is not
/// (numerically) positive definite.
fn cholesky(matrix: &[Vec<f64>]) -> Option<Vec<Vec<f64>>> {
    let size = matrix.len();
    let mut factor = vec![vec![0.0; size]; size];
    for row in 0..size {
        for column in 0..=row {
            let partial: f64 = (0..column)
                .map(|k| factor[row][k] * factor[column][k])
                .sum();
            if row == column {
                let pivot = matrix[row][row] - partial;
                // A correlation matrix has ones on the diagonal; a pivot this small means
                // an item is (almost) a linear combination of the ones before it.
                if pivot <= 1e-10 {
                    return None;
                }
                factor[row][row] = pivot.sqrt();
            } else {
                factor[row][column] = (matrix[row][column] - partial) / factor[column][column];
            }
        }
    }
    Some(factor)
}

/// Solves `L Lᵀ x = rhs` by forward then back substitution.
fn cholesky_solve(factor: &[Vec<f64>], rhs: &[f64]) -> Vec<f64> {
    let size = factor.len();
    let mut forward = vec![0.0; size];
    for row in 0..size {
        let partial: f64 = (0..row).map(|k| factor[row][k] * forward[k]).sum();
        forward[row] = (rhs[row] - partial) / factor[row][row];
    }
    let mut solution = vec![0.0; size];
    for row in (0..size).rev() {
        let partial: f64 = (row + 1..size).map(|k| factor[k][row] * solution[k]).sum();
        solution[row] = (forward[row] - partial) / factor[row][row];
    }
    solution
}

/// The diagonal of `(L Lᵀ)⁻¹`: column `j` of `L⁻¹` by forward substitution, and
/// `(L Lᵀ)⁻¹ⱼⱼ = Σₖ (L⁻¹)ₖⱼ²`.
fn inverse_diagonal(factor: &[Vec<f64>]) -> Vec<f64> {
    let size = factor.len();
    (0..size)
        .map(|column| {
            let mut inverse_column = vec![0.0; size];
            for row in column..size {
                let target = if row == column { 1.0 } else { 0.0 };
                let partial: f64 = (column..row)
                    .map(|k| factor[row][k] * inverse_column[k])
                    .sum();
                inverse_column[row] = (target - partial) / factor[row][row];
            }
            inverse_column.iter().map(|entry| entry * entry).sum()
        })
        .collect()
}

/// Johnson's relative weights: with `R = V Λ Vᵀ`, the symmetric root `Λ½ = V Λ^½ Vᵀ` maps
/// the items onto their closest orthogonal counterparts; the answer's coefficients on those
/// are `β* = V Λ^-½ Vᵀ r`, and item `j` carries `Σₖ Λ½ⱼₖ² β*ₖ²`. `None` when an
/// eigenvalue is not positive.
fn relative_weights(correlations: &[Vec<f64>], with_answer: &[f64]) -> Option<Vec<f64>> {
    let size = correlations.len();
    let (eigenvalues, eigenvectors) = jacobi_eigen(correlations);
    if eigenvalues.iter().any(|value| *value <= 0.0) {
        return None;
    }
    // Vᵀ r, scaled by Λ^-½, then back with V.
    let projected: Vec<f64> = (0..size)
        .map(|k| {
            let dot: f64 = (0..size).map(|i| eigenvectors[i][k] * with_answer[i]).sum();
            dot / eigenvalues[k].sqrt()
        })
        .collect();
    let orthogonal_coefficients: Vec<f64> = (0..size)
        .map(|i| (0..size).map(|k| eigenvectors[i][k] * projected[k]).sum())
        .collect();
    let root: Vec<Vec<f64>> = (0..size)
        .map(|i| {
            (0..size)
                .map(|j| {
                    (0..size)
                        .map(|k| eigenvectors[i][k] * eigenvalues[k].sqrt() * eigenvectors[j][k])
                        .sum()
                })
                .collect()
        })
        .collect();
    Some(
        (0..size)
            .map(|item| {
                (0..size)
                    .map(|k| root[item][k].powi(2) * orthogonal_coefficients[k].powi(2))
                    .sum()
            })
            .collect(),
    )
}

/// Eigenvalues and eigenvectors (as columns) of a symmetric matrix by cyclic Jacobi
/// rotations, each rotation zeroing one off-diagonal entry, until the off-diagonal part is
/// negligible against the whole.
fn jacobi_eigen(matrix: &[Vec<f64>]) -> (Vec<f64>, Vec<Vec<f64>>) {
    let size = matrix.len();
    let mut a: Vec<Vec<f64>> = matrix.to_vec();
    let mut vectors: Vec<Vec<f64>> = (0..size)
        .map(|i| (0..size).map(|j| if i == j { 1.0 } else { 0.0 }).collect())
        .collect();
    let norm: f64 = a.iter().flatten().map(|entry| entry * entry).sum();
    for _sweep in 0..100 {
        let off: f64 = (0..size)
            .flat_map(|p| (p + 1..size).map(move |q| (p, q)))
            .map(|(p, q)| a[p][q] * a[p][q])
            .sum();
        if off <= norm * 1e-34 {
            break;
        }
        for p in 0..size {
            for q in p + 1..size {
                if a[p][q] == 0.0 {
                    continue;
                }
                let theta = (a[q][q] - a[p][p]) / (2.0 * a[p][q]);
                let sign = if theta >= 0.0 { 1.0 } else { -1.0 };
                let tangent = sign / (theta.abs() + (theta * theta + 1.0).sqrt());
                let cosine = 1.0 / (tangent * tangent + 1.0).sqrt();
                let sine = tangent * cosine;
                for row in a.iter_mut() {
                    let (at_p, at_q) = (row[p], row[q]);
                    row[p] = cosine * at_p - sine * at_q;
                    row[q] = sine * at_p + cosine * at_q;
                }
                let (above, below) = a.split_at_mut(q);
                for (at_p, at_q) in above[p].iter_mut().zip(below[0].iter_mut()) {
                    let (old_p, old_q) = (*at_p, *at_q);
                    *at_p = cosine * old_p - sine * old_q;
                    *at_q = sine * old_p + cosine * old_q;
                }
                for row in vectors.iter_mut() {
                    let (at_p, at_q) = (row[p], row[q]);
                    row[p] = cosine * at_p - sine * at_q;
                    row[q] = sine * at_p + cosine * at_q;
                }
            }
        }
    }
    ((0..size).map(|i| a[i][i]).collect(), vectors)
}
