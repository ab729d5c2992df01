//! Exact integer arithmetic for the engine: rates as fractions, half-up rounding, and
//! largest-remainder allocation. No floating point anywhere, so results never depend on the
//! platform and line discounts always sum exactly.

use std::cmp::Ordering;

use rust_decimal::Decimal;

/// A share of a unit's worth as an exact fraction `num / den` with `0 <= num <= den`, `den > 0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rate {
    num: i128,
    den: i128,
}

impl Rate {
    /// `percent` % as a fraction; `None` when the percentage is too precise to represent.
    pub(crate) fn from_percent(percent: Decimal) -> Option<Rate> {
        let p = percent.normalize();
        let den = 10i128.checked_pow(p.scale())?.checked_mul(100)?;
        Some(Rate::reduced(p.mantissa(), den))
    }

    /// `part / whole`, capped at 1; `whole` must be positive.
    pub(crate) fn share(part: i64, whole: i64) -> Rate {
        debug_assert!(whole > 0);
        Rate::reduced(i128::from(part.min(whole)), i128::from(whole))
    }

    fn reduced(num: i128, den: i128) -> Rate {
        let g = gcd(num, den).max(1);
        Rate { num: num / g, den: den / g }
    }

    pub(crate) fn is_zero(&self) -> bool {
        self.num == 0
    }

    /// `amount * self`, rounded half-up once; `None` on overflow.
    pub(crate) fn apply(&self, amount: i64) -> Option<i64> {
        let twice = i128::from(amount).checked_mul(self.num)?.checked_mul(2)?;
        let rounded = twice.checked_add(self.den)? / self.den.checked_mul(2)?;
        i64::try_from(rounded).ok()
    }

    /// Exact comparison, overflow free.
    pub(crate) fn cmp_exact(&self, other: &Rate) -> Ordering {
        cmp_fractions(self.num, self.den, other.num, other.den)
    }
}

fn gcd(mut a: i128, mut b: i128) -> i128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a.abs()
}

/// Compares `a/b` with `c/d` (non-negative, `b, d > 0`) by continued fractions, so no product
/// can overflow: compare integer parts, then the reciprocals of the remainders, swapped.
fn cmp_fractions(a: i128, b: i128, c: i128, d: i128) -> Ordering {
    let (q1, r1, q2, r2) = (a / b, a % b, c / d, c % d);
    match q1.cmp(&q2) {
        Ordering::Equal => match (r1 == 0, r2 == 0) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Less,
            (false, true) => Ordering::Greater,
            (false, false) => cmp_fractions(d, r2, b, r1),
        },
        unequal => unequal,
    }
}

/// Splits `total` over `weights` in proportion, by largest remainder: every share is the floor of
/// its exact proportion, and the minor units left over go one each to the largest remainders,
/// equal remainders to the earlier entry. The shares sum exactly to `total`.
///
/// Requires `0 <= total <= sum(weights)` and non-negative weights; then no share exceeds its
/// weight. A zero weight sum gives all zeros.
pub(crate) fn allocate(total: i64, weights: &[i64]) -> Vec<i64> {
    let sum: i128 = weights.iter().map(|w| i128::from(*w)).sum();
    if sum <= 0 {
        return vec![0; weights.len()];
    }
    let total = i128::from(total);
    // total and each weight fit in i64, so their product fits in i128.
    let mut shares: Vec<i128> = Vec::with_capacity(weights.len());
    let mut remainders: Vec<(i128, usize)> = Vec::with_capacity(weights.len());
    for (i, w) in weights.iter().enumerate() {
        let exact = total * i128::from(*w);
        shares.push(exact / sum);
        remainders.push((exact % sum, i));
    }
    let mut left = total - shares.iter().sum::<i128>();
    remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for (_, i) in remainders {
        if left == 0 {
            break;
        }
        shares[i] += 1;
        left -= 1;
    }
    // Each share is at most total, which fits in i64.
    shares.into_iter().map(|s| s as i64).collect()
}

/// Like [`allocate`] for exact parts that need not fit in i64, with a cap on every share: each
/// share is the floor of its exact proportion (at most its cap), and the minor units left over
/// go one each to the largest remainders among parts with a positive weight still below their
/// cap, equal remainders to the earlier entry. The shares sum exactly to `total`.
///
/// Requires `0 <= total <=` the caps of the parts with a positive weight, and non-negative
/// weights; `None` on overflow. A zero weight sum gives all zeros.
pub(crate) fn allocate_capped(total: i64, weights: &[i128], caps: &[i64]) -> Option<Vec<i64>> {
    debug_assert_eq!(weights.len(), caps.len());
    let sum = weights.iter().try_fold(0i128, |sum, w| sum.checked_add(*w))?;
    if sum <= 0 {
        return Some(vec![0; weights.len()]);
    }
    let total = i128::from(total);
    let mut shares: Vec<i128> = Vec::with_capacity(weights.len());
    let mut remainders: Vec<(i128, usize)> = Vec::with_capacity(weights.len());
    for (i, w) in weights.iter().enumerate() {
        let exact = total.checked_mul(*w)?;
        shares.push((exact / sum).min(i128::from(caps[i])));
        if *w > 0 {
            remainders.push((exact % sum, i));
        }
    }
    let mut left = total - shares.iter().sum::<i128>();
    remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    // One pass gives every leftover when no share was capped; a capped share's leftover goes
    // round again, and the caps hold at least `total`, so the loop ends.
    while left > 0 {
        let before = left;
        for (_, i) in &remainders {
            if left == 0 {
                break;
            }
            if shares[*i] < i128::from(caps[*i]) {
                shares[*i] += 1;
                left -= 1;
            }
        }
        if left == before {
            return None;
        }
    }
    // Each share is at most its cap, an i64.
    Some(shares.into_iter().map(|s| s as i64).collect())
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    fn pct(s: &str) -> Rate {
        Rate::from_percent(Decimal::from_str(s).unwrap()).unwrap()
    }

    #[test]
    fn percent_rounds_half_up_once() {
        assert_eq!(pct("10").apply(999), Some(100));
        assert_eq!(pct("10").apply(995), Some(100));
        assert_eq!(pct("10").apply(994), Some(99));
        assert_eq!(pct("33.33").apply(3000), Some(1000));
        assert_eq!(pct("0").apply(3000), Some(0));
        assert_eq!(pct("100").apply(4990), Some(4990));
    }

    #[test]
    fn equal_rates_compare_equal_whatever_their_form() {
        assert_eq!(pct("50").cmp_exact(&Rate::share(5, 10)), Ordering::Equal);
        assert_eq!(pct("10").cmp_exact(&Rate::share(15, 100)), Ordering::Less);
        assert_eq!(Rate::share(200, 100).cmp_exact(&pct("100")), Ordering::Equal);
        assert_eq!(pct("33.333333333333333333").cmp_exact(&pct("33.333333333333333334")), Ordering::Less);
    }

    #[test]
    fn largest_remainder_gives_leftover_to_largest_remainder() {
        assert_eq!(allocate(1000, &[1000, 2000, 3000]), vec![167, 333, 500]);
    }

    #[test]
    fn largest_remainder_ties_go_to_the_earlier_entry() {
        assert_eq!(allocate(100, &[333, 333, 333]), vec![34, 33, 33]);
        assert_eq!(allocate(1, &[5, 5]), vec![1, 0]);
    }

    #[test]
    fn capped_allocation_is_allocate_when_no_cap_binds() {
        assert_eq!(
            allocate_capped(1000, &[1000, 2000, 3000], &[1000, 2000, 3000]),
            Some(vec![167, 333, 500])
        );
        assert_eq!(allocate_capped(100, &[333, 333, 333], &[100, 100, 100]), Some(vec![34, 33, 33]));
        assert_eq!(allocate_capped(5, &[0, 0], &[5, 5]), Some(vec![0, 0]));
    }

    #[test]
    fn capped_allocation_hands_a_capped_leftover_on() {
        // 101 over parts 100, 0.3, 0.3 (x 10): the first part's remainder is the largest,
        // but it is at its cap of 100, so the leftover goes to the next.
        assert_eq!(allocate_capped(101, &[1000, 3, 3], &[100, 1, 1]), Some(vec![100, 1, 0]));
        // A part of zero weight takes nothing, even with room.
        assert_eq!(allocate_capped(3, &[10, 0, 10], &[1, 9, 2]), Some(vec![1, 0, 2]));
    }

    #[test]
    fn allocation_never_exceeds_a_weight() {
        assert_eq!(allocate(10, &[1, 9]), vec![1, 9]);
        assert_eq!(allocate(0, &[1, 9]), vec![0, 0]);
        assert_eq!(allocate(0, &[0, 0]), vec![0, 0]);
    }
}
