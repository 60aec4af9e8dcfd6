//! Probability distributions: `beta_cdf`, `beta_inv`, `beta_pdf` and
//! `welch_test`. The special functions (the regularized incomplete beta
//! function and its inverse, Student's t distribution) come from the
//! `statrs` crate; this module only applies the reference's rules for
//! invalid arguments.
//!
//! Every argument is a number (int, long, real, or a `dynamic` holding one);
//! null or any other value gives null.

use statrs::distribution::{Beta, Continuous, ContinuousCDF, StudentsT};

use super::real_arg;
use crate::value::Value;

/// The largest `alpha` or `beta` `beta_cdf` accepts (`beta-cdf-function.md`:
/// larger gives NaN).
const BETA_CDF_MAX_SHAPE: f64 = 10_000.0;

/// The three arguments as reals, or `None` when one is null or not a number.
fn three(a: &Value, b: &Value, c: &Value) -> Option<(f64, f64, f64)> {
    Some((real_arg(a)?, real_arg(b)?, real_arg(c)?))
}

/// The beta distribution of shapes `alpha` and `beta`; `None` when a shape
/// is not a positive finite number.
fn beta_distribution(alpha: f64, beta: f64) -> Option<Beta> {
    if !(alpha > 0.0 && beta > 0.0 && alpha.is_finite() && beta.is_finite()) {
        return None;
    }
    Beta::new(alpha, beta).ok()
}

/// `beta_cdf(x, alpha, beta)` (`beta-cdf-function.md`): the cumulative beta
/// distribution, the regularized incomplete beta function I_x(alpha, beta)
/// (`beta_cdf(0.5, 2, 2)` is 0.5). NaN when `x` is outside [0, 1], or a shape
/// is at most 0 or more than 10000, as the page lists. Null or a non-number
/// argument → null.
pub fn beta_cdf(x: &Value, alpha: &Value, beta: &Value) -> Value {
    let Some((x, alpha, beta)) = three(x, alpha, beta) else {
        return Value::Null;
    };
    if !(0.0..=1.0).contains(&x) || alpha > BETA_CDF_MAX_SHAPE || beta > BETA_CDF_MAX_SHAPE {
        return Value::Real(f64::NAN);
    }
    match beta_distribution(alpha, beta) {
        Some(distribution) => Value::Real(distribution.cdf(x)),
        None => Value::Real(f64::NAN),
    }
}

/// `beta_pdf(x, alpha, beta)` (`beta-pdf-function.md`): the beta probability
/// density at `x` (`beta_pdf(0.5, 2, 2)` is 1.5). NaN when `x` is not
/// strictly between 0 and 1, or a shape is at most 0, as the page lists.
/// Null or a non-number argument → null.
pub fn beta_pdf(x: &Value, alpha: &Value, beta: &Value) -> Value {
    let Some((x, alpha, beta)) = three(x, alpha, beta) else {
        return Value::Null;
    };
    if !(x > 0.0 && x < 1.0) {
        return Value::Real(f64::NAN);
    }
    match beta_distribution(alpha, beta) {
        Some(distribution) => Value::Real(distribution.pdf(x)),
        None => Value::Real(f64::NAN),
    }
}

/// `beta_inv(probability, alpha, beta)` (`beta-inv-function.md`): the `x` at
/// which `beta_cdf(x, alpha, beta)` is `probability`. Following the page's
/// text (its example table says otherwise; `docs/semantics.md`): a shape at
/// most 0 gives null, and a probability at most 0 or above 1 gives NaN.
/// Null or a non-number argument → null.
pub fn beta_inv(probability: &Value, alpha: &Value, beta: &Value) -> Value {
    let Some((p, alpha, beta)) = three(probability, alpha, beta) else {
        return Value::Null;
    };
    if alpha <= 0.0 || beta <= 0.0 || alpha.is_nan() || beta.is_nan() {
        return Value::Null;
    }
    if !(p > 0.0 && p <= 1.0) {
        return Value::Real(f64::NAN);
    }
    match beta_distribution(alpha, beta) {
        Some(distribution) => Value::Real(distribution.inverse_cdf(p)),
        None => Value::Real(f64::NAN),
    }
}

/// `welch_test(mean1, variance1, count1, mean2, variance2, count2)`
/// (`welch-test-function.md`): the two-sided p-value of Welch's t-test that
/// two populations have equal means, from each sample's mean, variance and
/// size: t = (mean1 - mean2) / sqrt(variance1/count1 + variance2/count2),
/// with the Welch–Satterthwaite degrees of freedom, against Student's t
/// distribution. The page gives no edge cases (`docs/semantics.md`): NaN
/// when the statistic or the degrees of freedom are not defined (a count of
/// at most 1, a negative variance, both variances 0 with equal means), 0
/// when t is infinite (both variances 0, means apart). Null or a
/// non-number argument → null.
pub fn welch_test(
    mean1: &Value,
    variance1: &Value,
    count1: &Value,
    mean2: &Value,
    variance2: &Value,
    count2: &Value,
) -> Value {
    let reals: Option<Vec<f64>> = [mean1, variance1, count1, mean2, variance2, count2]
        .into_iter()
        .map(real_arg)
        .collect();
    let Some(&[m1, v1, c1, m2, v2, c2]) = reals.as_deref() else {
        return Value::Null;
    };
    Value::Real(welch_p_value(m1, v1, c1, m2, v2, c2))
}

fn welch_p_value(
    mean1: f64,
    variance1: f64,
    count1: f64,
    mean2: f64,
    variance2: f64,
    count2: f64,
) -> f64 {
    if !(count1 > 1.0 && count2 > 1.0 && variance1 >= 0.0 && variance2 >= 0.0) {
        return f64::NAN;
    }
    let (share1, share2) = (variance1 / count1, variance2 / count2);
    let spread = share1 + share2;
    let t = (mean1 - mean2) / spread.sqrt();
    if t.is_nan() {
        return f64::NAN;
    }
    if t.is_infinite() {
        return 0.0;
    }
    let freedom =
        spread * spread / (share1 * share1 / (count1 - 1.0) + share2 * share2 / (count2 - 1.0));
    match StudentsT::new(0.0, 1.0, freedom) {
        Ok(student) => 2.0 * student.cdf(-t.abs()),
        Err(_) => f64::NAN,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(x: f64) -> Value {
        Value::Real(x)
    }

    fn real(v: Value) -> f64 {
        match v {
            Value::Real(x) => x,
            other => panic!("not a real: {other:?}"),
        }
    }

    fn close(got: f64, want: f64) {
        assert!((got - want).abs() < 1e-12, "{got} is not {want}");
    }

    #[test]
    fn beta_functions_agree_with_closed_forms() {
        // Beta(2, 2): pdf 6x(1-x), cdf 3x² - 2x³.
        close(
            real(beta_pdf(&r(0.25), &r(2.0), &r(2.0))),
            6.0 * 0.25 * 0.75,
        );
        close(
            real(beta_cdf(&r(0.25), &Value::Long(2), &Value::Int(2))),
            3.0 * 0.0625 - 2.0 * 0.015625,
        );
        // Beta(1, 1) is uniform: the inverse is the identity.
        close(real(beta_inv(&r(0.3), &r(1.0), &r(1.0))), 0.3);
        // The inverse undoes the cdf.
        let x = real(beta_inv(&r(0.1), &r(10.0), &r(20.0)));
        close(real(beta_cdf(&r(x), &r(10.0), &r(20.0))), 0.1);
    }

    #[test]
    fn beta_invalid_arguments_give_nan_or_null_as_documented() {
        assert!(real(beta_cdf(&r(1.5), &r(1.0), &r(1.0))).is_nan());
        assert!(real(beta_cdf(&r(0.5), &r(10_001.0), &r(1.0))).is_nan());
        assert!(real(beta_pdf(&r(0.0), &r(2.0), &r(2.0))).is_nan());
        assert!(real(beta_pdf(&r(0.5), &r(0.0), &r(2.0))).is_nan());
        assert!(real(beta_inv(&r(0.0), &r(2.0), &r(2.0))).is_nan());
        assert_eq!(beta_inv(&r(0.5), &r(-1.0), &r(2.0)), Value::Null);
        assert_eq!(beta_cdf(&Value::Null, &r(1.0), &r(1.0)), Value::Null);
        assert_eq!(
            beta_pdf(&Value::from_static("0.5"), &r(1.0), &r(1.0)),
            Value::Null
        );
    }

    #[test]
    fn welch_test_of_equal_samples_is_one_and_of_distant_ones_small() {
        let p = |m1, v1, c1, m2, v2, c2| {
            real(welch_test(&r(m1), &r(v1), &r(c1), &r(m2), &r(v2), &r(c2)))
        };
        close(p(5.0, 2.0, 10.0, 5.0, 2.0, 10.0), 1.0);
        assert!(p(0.0, 1.0, 50.0, 10.0, 1.0, 50.0) < 1e-12);
        assert!(p(1.0, 1.0, 1.0, 2.0, 1.0, 5.0).is_nan());
        assert_eq!(p(1.0, 0.0, 5.0, 2.0, 0.0, 5.0), 0.0);
        assert_eq!(
            welch_test(&r(1.0), &Value::Null, &r(3.0), &r(1.0), &r(1.0), &r(3.0)),
            Value::Null
        );
    }
}
