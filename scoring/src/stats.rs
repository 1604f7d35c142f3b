//! Small, dependency-free statistics: Student's t distribution, confidence intervals of a
//! mean, and Welch's unequal-variances t-test.
//!
//! Only what the reports need, written from the textbook formulas (Lanczos log-gamma and
//! the continued fraction of the regularised incomplete beta function), so the crate stays
//! pure and builds for the browser.

use serde::{Deserialize, Serialize};

/// A two-sided interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Interval {
    /// Lower bound.
    pub low: f64,
    /// Upper bound.
    pub high: f64,
}

fn ln_gamma(x: f64) -> f64 {
    const COEFFICIENTS: [f64; 6] = [
        76.180_091_729_471_46,
        -86.505_320_329_416_77,
        24.014_098_240_830_91,
        -1.231_739_572_450_155,
        0.001_208_650_973_866_179,
        -0.000_005_395_239_384_953,
    ];
    let mut denominator = x;
    let tmp = x + 5.5;
    let tmp = tmp - (x + 0.5) * tmp.ln();
    let mut series = 1.000_000_000_190_015;
    for coefficient in COEFFICIENTS {
        denominator += 1.0;
        series += coefficient / denominator;
    }
    -tmp + (2.506_628_274_631_000_5 * series / x).ln()
}

fn beta_continued_fraction(a: f64, b: f64, x: f64) -> f64 {
    // Lentz's method: each step folds one coefficient into the running ratios `c` and `d`,
    // kept away from zero so that a division never blows up.
    const TINY: f64 = 1e-300;
    let away_from_zero = |value: f64| if value.abs() < TINY { TINY } else { value };
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 / away_from_zero(1.0 - qab * x / qap);
    let mut h = d;
    for m in 1..=300 {
        let m = f64::from(m);
        let m2 = 2.0 * m;
        let mut delta = 1.0;
        for coefficient in [
            m * (b - m) * x / ((qam + m2) * (a + m2)),
            -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)),
        ] {
            d = 1.0 / away_from_zero(1.0 + coefficient * d);
            c = away_from_zero(1.0 + coefficient / c);
            delta = d * c;
            h *= delta;
        }
        if (delta - 1.0).abs() < 1e-15 {
            break;
        }
    }
    h
}

/// The regularised incomplete beta function I_x(a, b).
fn incomplete_beta(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let front =
        (ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln()).exp();
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_continued_fraction(a, b, x) / a
    } else {
        1.0 - front * beta_continued_fraction(b, a, 1.0 - x) / b
    }
}

/// Two-sided p-value of Student's t statistic with `df` degrees of freedom.
pub fn t_two_sided_p(t: f64, df: f64) -> f64 {
    if !t.is_finite() {
        return 0.0;
    }
    incomplete_beta(df / 2.0, 0.5, df / (df + t * t)).clamp(0.0, 1.0)
}

/// The `1 − alpha/2` quantile of Student's t with `df` degrees of freedom (e.g. 2.262 for a
/// 95% interval with df = 9): Newton's method on the distribution function, from the
/// normal quantile with its first Cornish–Fisher correction, inside a bracket that any step
/// leaving it bisects instead. A handful of distribution-function evaluations, where
/// bisection alone needs 64: a report computes one per interval, of every group.
pub fn t_quantile(alpha: f64, df: f64) -> f64 {
    let log_density_constant =
        ln_gamma((df + 1.0) / 2.0) - ln_gamma(df / 2.0) - 0.5 * (df * std::f64::consts::PI).ln();
    let density = |t: f64| (log_density_constant - (df + 1.0) / 2.0 * (t * t / df).ln_1p()).exp();
    // The upper normal quantile of alpha/2 (Abramowitz and Stegun 26.2.23, within 4.5e-4).
    let tail = (-2.0 * (alpha / 2.0).ln()).sqrt();
    let z = tail
        - (2.515_517 + 0.802_853 * tail + 0.010_328 * tail * tail)
            / (1.0 + 1.432_788 * tail + 0.189_269 * tail * tail + 0.001_308 * tail * tail * tail);
    // The two-sided p-value falls from 1 at t = 0; the root lies in (low, high).
    let (mut low, mut high) = (0.0_f64, 1000.0_f64);
    let mut t = (z + (z * z * z + z) / (4.0 * df)).clamp(f64::MIN_POSITIVE, high / 2.0);
    for _ in 0..200 {
        let excess = t_two_sided_p(t, df) - alpha;
        if excess > 0.0 {
            low = t;
        } else {
            high = t;
        }
        let newton = t + excess / (2.0 * density(t));
        let next = if newton > low && newton < high {
            newton
        } else {
            (low + high) / 2.0
        };
        if (next - t).abs() <= 1e-15 * t || high - low <= 1e-15 * high {
            return next;
        }
        t = next;
    }
    t
}

/// [`t_quantile`] for a 95% interval, remembered by degrees of freedom: a report computes one
/// per interval of every group, and the same group sizes come back report after report.
fn t_quantile_95(df: u64) -> f64 {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    // Enough for every interval of a dashboard with thousands of groups; cleared when full.
    const REMEMBERED: usize = 1 << 16;
    static KNOWN: OnceLock<Mutex<HashMap<u64, f64>>> = OnceLock::new();
    let known = KNOWN.get_or_init(Mutex::default);
    if let Some(quantile) = known.lock().ok().and_then(|known| known.get(&df).copied()) {
        return quantile;
    }
    let quantile = t_quantile(0.05, df as f64);
    if let Ok(mut known) = known.lock() {
        if known.len() >= REMEMBERED {
            known.clear();
        }
        known.insert(df, quantile);
    }
    quantile
}

/// The mean of a sample with its spread, as [`mean_sd_interval`] computes it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MeanSpread {
    /// The mean.
    pub mean: f64,
    /// The sample standard deviation; `None` when `n < 2`.
    pub sd: Option<f64>,
    /// The t-based 95% interval of the mean; `None` when `n < 2`.
    pub interval_95: Option<Interval>,
}

/// Mean, sample standard deviation and t-based 95% interval from `n`, Σx and Σx².
/// `None` for the spread when `n < 2`.
pub fn mean_sd_interval(n: u64, sum: f64, sum_squares: f64) -> MeanSpread {
    let n_f = n as f64;
    let mean = sum / n_f;
    if n < 2 {
        return MeanSpread {
            mean,
            sd: None,
            interval_95: None,
        };
    }
    let variance = ((sum_squares - sum * sum / n_f) / (n_f - 1.0)).max(0.0);
    let sd = variance.sqrt();
    let half_width = t_quantile_95(n - 1) * sd / n_f.sqrt();
    MeanSpread {
        mean,
        sd: Some(sd),
        interval_95: Some(Interval {
            low: mean - half_width,
            high: mean + half_width,
        }),
    }
}

/// The result of Welch's unequal-variances t-test of two group means.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct WelchTest {
    /// Mean of the first group minus mean of the second.
    pub difference: f64,
    /// The t statistic.
    pub t: f64,
    /// Welch–Satterthwaite degrees of freedom.
    pub df: f64,
    /// Two-sided p-value.
    pub p_value: f64,
}

/// Summary of one group for a t-test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GroupMoments {
    /// Size.
    pub n: u64,
    /// Mean.
    pub mean: f64,
    /// Sample variance.
    pub variance: f64,
}

impl GroupMoments {
    /// Builds the summary from `n`, Σx and Σx²; `None` when `n < 2`.
    pub fn from_sums(n: u64, sum: f64, sum_squares: f64) -> Option<Self> {
        if n < 2 {
            return None;
        }
        let n_f = n as f64;
        Some(GroupMoments {
            n,
            mean: sum / n_f,
            variance: ((sum_squares - sum * sum / n_f) / (n_f - 1.0)).max(0.0),
        })
    }
}

/// Welch's t-test of `first.mean − second.mean`. `None` when both groups have no spread.
pub fn welch(first: GroupMoments, second: GroupMoments) -> Option<WelchTest> {
    let (n1, n2) = (first.n as f64, second.n as f64);
    let (se1, se2) = (first.variance / n1, second.variance / n2);
    let se_squared = se1 + se2;
    if se_squared <= 0.0 {
        return None;
    }
    let difference = first.mean - second.mean;
    let t = difference / se_squared.sqrt();
    let df = se_squared * se_squared / (se1 * se1 / (n1 - 1.0) + se2 * se2 / (n2 - 1.0));
    Some(WelchTest {
        difference,
        t,
        df,
        p_value: t_two_sided_p(t, df),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles_match_printed_tables() {
        // Reference values from SciPy's `t.ppf(0.975, df)`.
        for (df, expected) in [
            (1.0, 12.706_204_74),
            (2.0, 4.302_652_73),
            (9.0, 2.262_157_16),
            (30.0, 2.042_272_46),
            (1000.0, 1.962_339_08),
        ] {
            assert!(
                (t_quantile(0.05, df) - expected).abs() < 1e-6,
                "df {df}: {}",
                t_quantile(0.05, df)
            );
        }
        // SciPy's `t.ppf(0.995, 4)` and `t.ppf(0.95, 20)`: other levels than 95%.
        assert!(
            (t_quantile(0.01, 4.0) - 4.604_094_87).abs() < 1e-6,
            "{}",
            t_quantile(0.01, 4.0)
        );
        assert!(
            (t_quantile(0.10, 20.0) - 1.724_718_24).abs() < 1e-6,
            "{}",
            t_quantile(0.10, 20.0)
        );
    }

    #[test]
    fn t_quantiles_agree_with_bisection_from_one_to_a_million_degrees_of_freedom() {
        let bisected = |alpha: f64, df: f64| {
            let (mut low, mut high) = (0.0, 1000.0);
            for _ in 0..64 {
                let mid = (low + high) / 2.0;
                if t_two_sided_p(mid, df) > alpha {
                    low = mid
                } else {
                    high = mid
                }
            }
            (low + high) / 2.0
        };
        for df in [
            1.0,
            1.5,
            2.0,
            3.0,
            7.0,
            19.0,
            99.0,
            1234.0,
            54_321.0,
            999_999.0,
            4_000_000.0,
        ] {
            for alpha in [0.05, 0.01, 0.2] {
                let (newton, reference) = (t_quantile(alpha, df), bisected(alpha, df));
                assert!(
                    (newton - reference).abs() < 1e-12 * reference,
                    "alpha {alpha}, df {df}: {newton} against {reference}"
                );
            }
        }
    }

    #[test]
    fn welch_matches_a_worked_example() {
        // Two samples {19.8, 20.4, 19.6, 17.8, 18.5, 18.9, 18.3, 18.9, 19.5, 22.0} and
        // {28.2, 26.6, 20.1, 23.3, 25.2, 22.1, 17.7, 27.6, 20.6, 13.7, 23.2, 17.5, 20.6, 18.0,
        // 23.9, 21.6, 24.3, 20.4, 24.0, 13.2}. Reference values from SciPy's
        // `ttest_ind(a, b, equal_var=False)`: t = −2.219241, df = 24.496223, p = 0.0359723.
        let sample = |values: &[f64]| {
            GroupMoments::from_sums(
                values.len() as u64,
                values.iter().sum(),
                values.iter().map(|v| v * v).sum(),
            )
            .unwrap()
        };
        let first = sample(&[19.8, 20.4, 19.6, 17.8, 18.5, 18.9, 18.3, 18.9, 19.5, 22.0]);
        let second = sample(&[
            28.2, 26.6, 20.1, 23.3, 25.2, 22.1, 17.7, 27.6, 20.6, 13.7, 23.2, 17.5, 20.6, 18.0,
            23.9, 21.6, 24.3, 20.4, 24.0, 13.2,
        ]);
        let test = welch(first, second).unwrap();
        assert!((test.t + 2.219_241).abs() < 1e-6, "{test:?}");
        assert!((test.df - 24.496_223).abs() < 1e-6, "{test:?}");
        assert!((test.p_value - 0.035_972_3).abs() < 1e-7, "{test:?}");
    }
}
