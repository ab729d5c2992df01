//! Store currencies, shared by the simulators: how many decimals a currency's minor unit has,
//! and the half-up rounding to it. The simulators do not depend on loyalty-core (they must be
//! able to disagree with the adapters), whose table says the same.

use rust_decimal::{Decimal, RoundingStrategy};

/// Decimal places of a currency's minor unit (ISO 4217 exponent; two unless listed). Forint
/// (HUF) has two in ISO 4217 although cash is rounded to whole forints; card amounts keep the
/// fillér.
pub(crate) fn exponent(currency: &str) -> u32 {
    match currency.to_ascii_uppercase().as_str() {
        "JPY" | "KRW" | "CLP" | "ISK" | "VND" | "XAF" | "XOF" => 0,
        "BHD" | "KWD" | "JOD" | "OMR" | "TND" | "IQD" | "LYD" => 3,
        _ => 2,
    }
}

/// Rounds half-up (away from zero) to `dp` decimal places.
pub(crate) fn half_up(d: Decimal, dp: u32) -> Decimal {
    d.round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exponents_follow_iso_4217() {
        for (code, exp) in
            [("NOK", 2), ("usd", 2), ("HUF", 2), ("JPY", 0), ("isk", 0), ("KWD", 3), ("BHD", 3)]
        {
            assert_eq!(exponent(code), exp, "{code}");
        }
    }

    #[test]
    fn half_up_rounds_midpoints_away_from_zero() {
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        assert_eq!(half_up(d("6.0125"), 3), d("6.013"));
        assert_eq!(half_up(d("129.5"), 0), d("130"));
        assert_eq!(half_up(d("-0.125"), 2), d("-0.13"));
    }
}
