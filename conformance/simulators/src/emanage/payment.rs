//! Payment outcomes (the eManage contract §6.3, §11): the test card table and the redirect
//! processors. No real processor exists behind the simulator, so the same table decides live
//! and test carts (simulator decision).

use chrono::{DateTime, Datelike, Utc};

use super::{
    input::{Check, Obj},
    names::{GIFT_CARD_NUMBER, GIFT_CARD_PROCESSOR, REDIRECT_PROCESSORS},
    settings::TestPans,
};

/// The `payment` member of a checkout or order body, validated.
#[derive(Clone, Debug)]
pub(crate) enum PaymentInput {
    Card {
        pan: String,
        expiry: (u32, i32),
    },
    Redirect {
        processor: i64,
    },
    /// Upsell orders charge the card on file (§6.3).
    CardOnFile {
        card_id: i64,
    },
    /// Processor 62: a gift card covering the whole amount, named by `GiftCardNumber` (§6.3,
    /// §6.4 row 9).
    GiftCard {
        number: String,
    },
}

/// What the processor answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    Approve { upgrade_charges_fail: bool },
    Decline(&'static str),
    ThreeDs,
}

/// Reads `payment` under `path` (`payment`): a card `{ name, creditcard, creditCardBrand,
/// expiration: "MM/YYYY", cvv }`, or `{ paymentProcessorId }` (§6.3); `cardId` only when
/// `allow_card_on_file`.
pub(crate) fn read_payment(c: &mut Check, body: &Obj, allow_card_on_file: bool) -> Option<PaymentInput> {
    let path = "payment";
    let p = c.req_obj(body, path, "")?;
    if let Some(processor) = c.int(p, "paymentProcessorId", path) {
        if processor == GIFT_CARD_PROCESSOR {
            // `GiftCardNumber` goes next to `payment` (§6.4 row 9); inside it is read too.
            let number = c.str(p, GIFT_CARD_NUMBER, path).or_else(|| c.str(body, GIFT_CARD_NUMBER, ""));
            let Some(number) = number.filter(|n| !n.trim().is_empty()) else {
                c.err(GIFT_CARD_NUMBER, "The GiftCardNumber field is required for a gift-card payment.");
                return None;
            };
            return Some(PaymentInput::GiftCard { number: number.trim().to_string() });
        }
        if !REDIRECT_PROCESSORS.contains(&processor) {
            // Simulator decision: processors the contract does not list are not simulated.
            c.err("payment.paymentProcessorId", format!("Payment processor {processor} is not supported."));
            return None;
        }
        return Some(PaymentInput::Redirect { processor });
    }
    if allow_card_on_file {
        if let Some(card_id) = c.int(p, "cardId", path) {
            return Some(PaymentInput::CardOnFile { card_id });
        }
    }
    let pan = c.req_str(p, "creditcard", path);
    let expiration = c.req_str(p, "expiration", path);
    let cvv = c.req_str(p, "cvv", path);
    c.str(p, "name", path);
    c.str(p, "creditCardBrand", path);
    let pan: Option<String> = pan.map(|s| s.chars().filter(|ch| !matches!(ch, ' ' | '-')).collect());
    if let Some(pan) = &pan {
        if !(12..=19).contains(&pan.len()) || !pan.chars().all(|ch| ch.is_ascii_digit()) {
            c.err("payment.creditcard", "The creditcard field is not a valid card number.");
        }
    }
    let expiry = expiration.as_deref().and_then(|e| {
        let parsed = parse_expiry(e);
        if parsed.is_none() {
            c.err("payment.expiration", "The expiration field must be MM/YYYY.");
        }
        parsed
    });
    if let Some(cvv) = &cvv {
        if !(3..=4).contains(&cvv.len()) || !cvv.chars().all(|ch| ch.is_ascii_digit()) {
            c.err("payment.cvv", "The cvv field must be 3 or 4 digits.");
        }
    }
    Some(PaymentInput::Card { pan: pan?, expiry: expiry? })
}

/// `MM/YYYY` (§6.3).
fn parse_expiry(s: &str) -> Option<(u32, i32)> {
    let (m, y) = s.trim().split_once('/')?;
    let month: u32 = m.parse().ok().filter(|m| (1..=12).contains(m))?;
    let year: i32 = y.parse().ok().filter(|_| y.len() == 4)?;
    Some((month, year))
}

/// The Luhn check every real card number passes.
pub(crate) fn luhn(pan: &str) -> bool {
    let mut sum = 0;
    for (i, ch) in pan.chars().rev().enumerate() {
        let Some(mut d) = ch.to_digit(10) else {
            return false;
        };
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    !pan.is_empty() && sum % 10 == 0
}

/// The outcome of a card payment at `now`: the test table first, then expiry and Luhn; any other
/// valid card is approved.
pub(crate) fn card_outcome(pans: &TestPans, pan: &str, expiry: (u32, i32), now: DateTime<Utc>) -> Outcome {
    if (expiry.1, expiry.0) < (now.year(), now.month()) {
        return Outcome::Decline("The card has expired.");
    }
    if !luhn(pan) {
        return Outcome::Decline("The card number is invalid.");
    }
    if pan == pans.decline {
        Outcome::Decline("The card was declined.")
    } else if pan == pans.three_d_secure {
        Outcome::ThreeDs
    } else {
        Outcome::Approve { upgrade_charges_fail: pan == pans.upgrade_charge_failure }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_pans_pass_luhn() {
        let p = TestPans::default();
        for pan in [&p.approve, &p.decline, &p.three_d_secure, &p.upgrade_charge_failure] {
            assert!(luhn(pan), "{pan}");
        }
        assert!(!luhn("4111111111111112"));
    }

    #[test]
    fn table_selects_the_outcome() {
        let p = TestPans::default();
        let now = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 1, 15, 12, 0, 0).unwrap();
        assert_eq!(
            card_outcome(&p, &p.approve, (12, 2030), now),
            Outcome::Approve { upgrade_charges_fail: false }
        );
        assert_eq!(card_outcome(&p, &p.decline, (12, 2030), now), Outcome::Decline("The card was declined."));
        assert_eq!(card_outcome(&p, &p.three_d_secure, (12, 2030), now), Outcome::ThreeDs);
        assert_eq!(
            card_outcome(&p, &p.upgrade_charge_failure, (1, 2026), now),
            Outcome::Approve { upgrade_charges_fail: true }
        );
        assert_eq!(card_outcome(&p, &p.approve, (12, 2025), now), Outcome::Decline("The card has expired."));
    }
}
