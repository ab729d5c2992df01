//! Money and the progressive discount (the eManage contract §8, §9.5): decimals only, discounts
//! computed in minor units and rounded half-up once per line, allocations by largest remainder.

use rust_decimal::Decimal;

use super::settings::{DiscountCount, DiscountMode, ProgressiveDiscount};

pub(crate) use crate::currency::{exponent, half_up};

fn scale(exp: u32) -> Decimal {
    Decimal::from(10u64.pow(exp))
}

/// Major units → whole minor units (catalogue prices already are whole; anything finer is
/// rounded half-up).
pub(crate) fn to_minor(d: Decimal, exp: u32) -> Decimal {
    half_up(d * scale(exp), 0)
}

/// Whole minor units → major units.
pub(crate) fn from_minor(m: Decimal, exp: u32) -> Decimal {
    (m / scale(exp)).normalize()
}

/// `FormattedValue` of an amount: symbol, thousands separators, the currency's decimals
/// (`$1,234.50`); currencies without a known symbol are prefixed by their code.
pub(crate) fn format_money(d: Decimal, currency: &str) -> String {
    let exp = exponent(currency);
    let fixed = half_up(d, exp);
    let text = format!("{:.*}", exp as usize, fixed.abs());
    let (int, frac) =
        text.split_once('.').map(|(i, f)| (i.to_string(), Some(f.to_string()))).unwrap_or((text, None));
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    if let Some(f) = frac {
        grouped = format!("{grouped}.{f}");
    }
    let sign = if fixed < Decimal::ZERO { "-" } else { "" };
    match currency.to_ascii_uppercase().as_str() {
        "USD" | "CAD" | "AUD" | "NZD" => format!("{sign}${grouped}"),
        "EUR" => format!("{sign}€{grouped}"),
        "GBP" => format!("{sign}£{grouped}"),
        "JPY" => format!("{sign}¥{grouped}"),
        code => format!("{sign}{code} {grouped}"),
    }
}

/// One cart line as the discount sees it: the product it counts as and that product's unit
/// price. An upgrade line counts as the unit it replaces (§8: "upgrade lines count as the unit
/// they replace, so an upgrade never changes the tier"), so `base_product` / `base_unit` are the
/// chain's origin for upgrade lines.
#[derive(Clone, Debug)]
pub(crate) struct DiscountLine {
    pub base_product: i64,
    pub base_unit: Decimal,
    pub units: u32,
}

/// The discount of one line: amount off in major units and the percentage shown as the
/// `discountPercent` extra.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct LineDiscount {
    pub amount: Decimal,
    pub percent: Decimal,
}

/// The percentage of the highest tier reached by `n` (0 when none is reached).
fn tier_percent(cfg: &ProgressiveDiscount, n: u64) -> Decimal {
    cfg.tiers
        .iter()
        .filter(|t| u64::from(t.min_units) <= n)
        .max_by_key(|t| t.min_units)
        .map(|t| t.percent)
        .unwrap_or(Decimal::ZERO)
}

/// The sum of [`tier_percent`] over units `first..=last`, tier by tier: a line of a billion
/// units is priced as fast as one of ten.
fn percent_sum(cfg: &ProgressiveDiscount, first: u64, last: u64) -> Decimal {
    let mut starts: Vec<u64> = cfg.tiers.iter().map(|t| u64::from(t.min_units)).collect();
    starts.sort_unstable();
    starts.dedup();
    let mut sum = Decimal::ZERO;
    for (k, &start) in starts.iter().enumerate() {
        let end = starts.get(k + 1).map_or(u64::MAX, |next| next - 1);
        let (lo, hi) = (start.max(first), end.min(last));
        if lo <= hi {
            sum += tier_percent(cfg, lo) * Decimal::from(hi - lo + 1);
        }
    }
    sum
}

/// Applies the progressive discount to `lines` (simulator configuration of §8, the project's
/// pricing rules 6 and 8).
///
/// Lines that count as the same product form a group (a partial upgrade splits a line, never
/// the group), so the discount is computed once per group on its total in minor units, rounded
/// half-up once, and allocated back over the group's lines by largest remainder. That keeps the
/// discount of a paid cart unchanged by later upgrades and the totals exact.
pub(crate) fn progressive_discount(
    lines: &[DiscountLine],
    cfg: Option<&ProgressiveDiscount>,
    exp: u32,
) -> Vec<LineDiscount> {
    let mut out = vec![LineDiscount::default(); lines.len()];
    let Some(cfg) = cfg.filter(|c| !c.tiers.is_empty()) else {
        return out;
    };
    let qualifies = |p: i64| cfg.product_ids.is_empty() || cfg.product_ids.contains(&p);
    // Groups in first-appearance order: (product, unit price, units, line indices).
    let mut groups: Vec<(i64, Decimal, u64, Vec<usize>)> = Vec::new();
    for (i, l) in lines.iter().enumerate().filter(|(_, l)| qualifies(l.base_product) && l.units > 0) {
        match groups.iter_mut().find(|g| g.0 == l.base_product) {
            Some(g) => {
                g.2 += u64::from(l.units);
                g.3.push(i);
            }
            None => groups.push((l.base_product, l.base_unit, u64::from(l.units), vec![i])),
        }
    }
    let count = match cfg.count {
        DiscountCount::Units => groups.iter().map(|g| g.2).sum::<u64>(),
        DiscountCount::Lines => groups.len() as u64,
    };
    let mut units_before = 0u64;
    for (gi, (_, unit, units, members)) in groups.iter().enumerate() {
        let unit_minor = to_minor(*unit, exp);
        let list_minor = unit_minor * Decimal::from(*units);
        // The percentage shown is the tier's; under `marginal_unit` units of one group differ,
        // so the group's effective percentage (2 decimals) is shown instead.
        let (raw, shown) = match (cfg.mode, cfg.count) {
            (DiscountMode::AllUnits, _) => {
                (list_minor * tier_percent(cfg, count), Some(tier_percent(cfg, count)))
            }
            (DiscountMode::MarginalUnit, DiscountCount::Lines) => {
                let p = tier_percent(cfg, gi as u64 + 1);
                (list_minor * p, Some(p))
            }
            (DiscountMode::MarginalUnit, DiscountCount::Units) => {
                (unit_minor * percent_sum(cfg, units_before + 1, units_before + units), None)
            }
        };
        units_before += units;
        let discount_minor = half_up(raw / Decimal::ONE_HUNDRED, 0);
        let percent = match shown {
            Some(p) => p.normalize(),
            None if list_minor.is_zero() => Decimal::ZERO,
            None => half_up(discount_minor * Decimal::ONE_HUNDRED / list_minor, 2).normalize(),
        };
        let weights: Vec<u64> = members.iter().map(|i| u64::from(lines[*i].units)).collect();
        for (i, share) in members.iter().zip(allocate(discount_minor, &weights)) {
            out[*i] = LineDiscount { amount: from_minor(share, exp), percent };
        }
    }
    out
}

/// Splits a whole number of minor units over weights by largest remainder (ties: the earlier
/// line), so the parts always sum to `total`.
pub(crate) fn allocate(total: Decimal, weights: &[u64]) -> Vec<Decimal> {
    let sum: u64 = weights.iter().sum();
    if sum == 0 {
        return vec![Decimal::ZERO; weights.len()];
    }
    let sum = Decimal::from(sum);
    let exact: Vec<Decimal> = weights.iter().map(|w| total * Decimal::from(*w) / sum).collect();
    let mut parts: Vec<Decimal> = exact.iter().map(|e| e.floor()).collect();
    let mut left = total - parts.iter().copied().sum::<Decimal>();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|a, b| (exact[*b] - parts[*b]).cmp(&(exact[*a] - parts[*a])).then(a.cmp(b)));
    for i in order {
        if left <= Decimal::ZERO {
            break;
        }
        parts[i] += Decimal::ONE;
        left -= Decimal::ONE;
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emanage::settings::Tier;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn cfg(count: DiscountCount, mode: DiscountMode) -> ProgressiveDiscount {
        ProgressiveDiscount {
            tiers: vec![Tier::new(1, 25), Tier::new(2, 50)],
            product_ids: vec![],
            count,
            mode,
        }
    }

    fn line(p: i64, unit: &str, units: u32) -> DiscountLine {
        DiscountLine { base_product: p, base_unit: d(unit), units }
    }

    #[test]
    fn all_units_discount_is_rounded_half_up_once_on_the_line_total() {
        let c = cfg(DiscountCount::Units, DiscountMode::AllUnits);
        let r = progressive_discount(&[line(1, "33.33", 3)], Some(&c), 2);
        assert_eq!(r[0].amount, d("50"));
        assert_eq!(r[0].percent, d("50"));
    }

    #[test]
    fn marginal_unit_gives_each_unit_its_own_tier() {
        let c = cfg(DiscountCount::Units, DiscountMode::MarginalUnit);
        let r = progressive_discount(&[line(1, "100", 2)], Some(&c), 2);
        assert_eq!(r[0].amount, d("75"));
        assert_eq!(r[0].percent, d("37.5"));
    }

    #[test]
    fn marginal_unit_sums_tiers_not_units() {
        let c = cfg(DiscountCount::Units, DiscountMode::MarginalUnit);
        // The first unit at the first tier, the rest at the second: a billion units at once.
        let r = progressive_discount(&[line(1, "100", 1_000_000_000)], Some(&c), 2);
        let first = tier_percent(&c, 1);
        let rest = tier_percent(&c, 2);
        assert_eq!(r[0].amount, d("100") * (first + rest * d("999999999")) / d("100"));
    }

    #[test]
    fn split_group_keeps_the_group_discount() {
        let c = cfg(DiscountCount::Units, DiscountMode::AllUnits);
        let r = progressive_discount(&[line(1, "33.33", 2), line(1, "33.33", 1)], Some(&c), 2);
        assert_eq!(r[0].amount + r[1].amount, d("50"));
    }

    #[test]
    fn allocation_sums_to_the_total() {
        assert_eq!(allocate(d("5000"), &[1, 1, 1]), vec![d("1667"), d("1667"), d("1666")]);
        assert_eq!(allocate(d("7"), &[0, 0]), vec![d("0"), d("0")]);
    }

    #[test]
    fn exponents_follow_iso_4217_with_two_decimals_for_huf() {
        for (code, exp) in [("HUF", 2), ("huf", 2), ("USD", 2), ("JPY", 0), ("ISK", 0), ("KWD", 3)] {
            assert_eq!(exponent(code), exp, "{code}");
        }
        // 25 % of 33.33 forints is 8.33 (833 fillér), not 8 (25 % of 33 whole forints).
        let c = cfg(DiscountCount::Units, DiscountMode::AllUnits);
        let r = progressive_discount(&[line(1, "33.33", 1)], Some(&c), exponent("HUF"));
        assert_eq!(r[0].amount, d("8.33"));
        assert_eq!(format_money(d("1234.5"), "HUF"), "HUF 1,234.50");
    }

    #[test]
    fn money_is_formatted_with_symbol_and_separators() {
        assert_eq!(format_money(d("1234.5"), "USD"), "$1,234.50");
        assert_eq!(format_money(d("100"), "EUR"), "€100.00");
        assert_eq!(format_money(d("1000"), "JPY"), "¥1,000");
        assert_eq!(format_money(d("9.5"), "NOK"), "NOK 9.50");
    }
}
