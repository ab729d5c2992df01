//! The decode path of every Diller reply body: bytes → [`wire`] model → domain value.
//!
//! The client reads every success body through [`json`] and [`action`], the adapter converts
//! through the functions below and [`crate::classify`] reads every error body, so the fuzz
//! targets of `conformance/fuzz` (which call these functions on arbitrary bytes) exercise the
//! code production runs.
//!
//! # Behaviour
//! - Malformed vendor data is never a panic and never a business answer: it is a `Protocol`
//!   error whose message names the field, `unreadable coupons[2].times_redeemed: -1 is
//!   negative` (`body` when the whole reply has the wrong shape).
//! - Every model must arrive in its documented JSON shape: an object where §5 lists a model, an
//!   array where an endpoint answers a list. `[false]` is not `{"is_ok": false}`.
//! - Numbers go through checked conversions; impossible values (negative counts, more uses
//!   than the maximum, more stamps than a card needs, a percentage above 100) are `Protocol`.

use loyalty_core::{Error, ErrorKind, Member, Offer, Segment};
use loyalty_http::ClassifyInput;
use serde::de::DeserializeOwned;

use crate::error::VALIDATE_OPERATION;
use crate::wire::{self, ConversionError};
use crate::PROVIDER;

/// A `Protocol` error of `operation` naming `field`.
fn unreadable(operation: &str, field: &str, reason: impl std::fmt::Display) -> Error {
    ConversionError::new(field, reason.to_string()).protocol(operation)
}

/// Reads a reply body as the wire model `T`.
///
/// # Errors
/// `Protocol` naming the JSON path that failed (`[0].membership_detail.points`), or `body`
/// for a reply that is not JSON or not the model's shape at its top level.
pub fn json<T: DeserializeOwned>(operation: &str, body: &[u8]) -> Result<T, Error> {
    // Tracking the path costs an allocation per object key, so a good reply is read without
    // it; only a reply that fails is read again, with it, to name the field. A body that is
    // UTF-8 (every good reply) is checked so once, as a whole, and read as `str`: serde_json
    // then skips checking every string it reads again. It accepts what `from_slice` accepts.
    let first = match std::str::from_utf8(body) {
        Ok(text) => serde_json::from_str(text),
        Err(_) => serde_json::from_slice(body),
    };
    if let Ok(value) = first {
        return Ok(value);
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let field = field_of(e.path());
        unreadable(operation, &field, e.into_inner())
    })?;
    de.end().map_err(|e| unreadable(operation, "body", e))?;
    Ok(value)
}

/// A JSON path as a field name that is never blank: `[0].consent.receive_sms`, with odd keys
/// quoted and cut (`["  "]`), and `body` for the top level.
fn field_of(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                let plain = !key.is_empty()
                    && key.len() <= 64
                    && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
                if plain {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(key);
                } else {
                    let cut: String = key.chars().take(64).collect();
                    out.push_str(&format!("[{cut:?}]"));
                }
            }
            Segment::Unknown => out.push_str("[?]"),
        }
    }
    if out.is_empty() {
        "body".to_string()
    } else {
        out
    }
}

/// Reads a command's `ActionResponse` (§5.8). An empty 2xx body counts as success (M8 answers
/// none, §6.5), except for `offers.validate`, whose `is_ok` is the answer.
///
/// # Errors
/// `Protocol` for a body that is no `ActionResponse` or lacks `is_ok`.
pub fn action(operation: &str, body: &[u8]) -> Result<wire::ActionResponse, Error> {
    if body.iter().all(u8::is_ascii_whitespace) {
        if operation == VALIDATE_OPERATION {
            return Err(unreadable(operation, "is_ok", "missing: the validation reply is empty"));
        }
        return Ok(wire::ActionResponse { is_ok: Some(true), details: None });
    }
    let reply: wire::ActionResponse = json(operation, body)?;
    if reply.is_ok.is_none() {
        return Err(unreadable(operation, "is_ok", "missing"));
    }
    Ok(reply)
}

/// Converts a `MemberResponse` (M2-M5), moving its strings into the member.
///
/// # Errors
/// `Protocol` naming the field that cannot cross the edge.
pub fn member_of(operation: &str, w: wire::MemberResponse) -> Result<Member, Error> {
    Member::try_from(w).map_err(|e| e.protocol(operation))
}

/// Reads an M2-M5 reply: one `MemberResponse`.
///
/// # Errors
/// As [`json`] and [`member_of`].
pub fn member(operation: &str, body: &[u8]) -> Result<Member, Error> {
    member_of(operation, json(operation, body)?)
}

/// Reads an M1 reply (a list; the first match is the member, §4.2).
///
/// # Errors
/// As [`json`] and [`member_of`]; a list entry that is no object fails the reply.
pub fn member_search(operation: &str, body: &[u8]) -> Result<Option<Member>, Error> {
    let list: Vec<wire::MemberResponse> = json(operation, body)?;
    list.into_iter().next().map(|w| member_of(operation, w)).transpose()
}

/// Converts C1/C2 coupons into offers (by value: their strings move); a failure names the list entry (`coupons[3].code`).
///
/// A coupon without a discount to price (`discount_type` `NotDefined` or absent, both allowed
/// by the contract, §5.4) is valid at Diller but gives the bridge nothing to apply: it is left
/// out of the list with a warning naming its entry, and the member's other offers stay usable.
///
/// # Errors
/// `Protocol` naming the entry and field.
pub fn coupon_offers(
    operation: &str,
    coupons: Vec<wire::MemberCouponResponse>,
    ctx: &wire::OfferContext,
) -> Result<Vec<Offer>, Error> {
    let mut offers = Vec::with_capacity(coupons.len());
    for (i, c) in coupons.into_iter().enumerate() {
        if matches!(c.discount_type, None | Some(wire::CouponDiscountType::NotDefined)) {
            tracing::warn!(
                provider = PROVIDER,
                operation,
                entry = %format!("coupons[{i}]"),
                "coupon has no discount to apply (discount_type not defined); left out of the offers"
            );
            continue;
        }
        offers.push(wire::coupon_offer(c, ctx).map_err(|e| {
            ConversionError::new(format!("coupons[{i}].{}", e.field), e.reason).protocol(operation)
        })?);
    }
    Ok(offers)
}

/// Reads a C2 (or C1) reply into offers.
///
/// # Errors
/// As [`json`] and [`coupon_offers`].
pub fn member_coupons(operation: &str, body: &[u8], ctx: &wire::OfferContext) -> Result<Vec<Offer>, Error> {
    coupon_offers(operation, json::<Vec<wire::MemberCouponResponse>>(operation, body)?, ctx)
}

/// Converts K1/K2 stamp cards into offers (by value: their strings move); a failure names the list entry.
///
/// # Errors
/// `Protocol` naming the entry and field.
pub fn stamp_card_offers(
    operation: &str,
    cards: Vec<wire::MemberStampCard>,
    ctx: &wire::OfferContext,
) -> Result<Vec<Offer>, Error> {
    cards
        .into_iter()
        .enumerate()
        .map(|(i, k)| {
            wire::stamp_card_offer(k, ctx).map_err(|e| {
                ConversionError::new(format!("stamp_cards[{i}].{}", e.field), e.reason).protocol(operation)
            })
        })
        .collect()
}

/// Reads a K2 (or K1) reply into offers.
///
/// # Errors
/// As [`json`] and [`stamp_card_offers`].
pub fn member_stamp_cards(
    operation: &str,
    body: &[u8],
    ctx: &wire::OfferContext,
) -> Result<Vec<Offer>, Error> {
    stamp_card_offers(operation, json::<Vec<wire::MemberStampCard>>(operation, body)?, ctx)
}

/// Converts the store's segments (S5).
///
/// # Errors
/// `Protocol` naming the entry and field.
pub fn segments_of(operation: &str, list: &[wire::StoreSegmentResponse]) -> Result<Vec<Segment>, Error> {
    wire::segments(list).map_err(|e| e.protocol(operation))
}

/// Reads an S5 reply.
///
/// # Errors
/// As [`json`] and [`segments_of`].
pub fn segments(operation: &str, body: &[u8]) -> Result<Vec<Segment>, Error> {
    segments_of(operation, &json::<Vec<wire::StoreSegmentResponse>>(operation, body)?)
}

/// The store's currency (S2 `currency`, §5.3), which fixed-amount coupons are in (§5.4).
///
/// # Errors
/// `Protocol` naming `currency` when it is missing or no ISO 4217 code we know.
pub fn currency_of(operation: &str, store: &wire::StoreResponse) -> Result<loyalty_core::Currency, Error> {
    let code = store.currency.as_deref().unwrap_or_default();
    loyalty_core::Currency::from_code(code.trim()).map_err(|e| unreadable(operation, "currency", e))
}

/// Reads an S2 reply and returns the store's currency.
///
/// # Errors
/// As [`json`] and [`currency_of`].
pub fn store_currency(operation: &str, body: &[u8]) -> Result<loyalty_core::Currency, Error> {
    currency_of(operation, &json(operation, body)?)
}

/// Reads a reply with this status through [`crate::classify`]: `None` for a success, the error
/// otherwise (problem details, an `ActionResponse` refusal, IdentityServer's `{"error"}`).
pub fn reply_error(operation: &str, status: u16, body: &[u8]) -> Option<Error> {
    let headers = reqwest::header::HeaderMap::new();
    let method = reqwest::Method::POST;
    crate::classify(&ClassifyInput {
        provider: PROVIDER,
        operation,
        method: &method,
        status,
        headers: &headers,
        body,
        now: chrono::DateTime::UNIX_EPOCH,
    })
}

/// True for an error of this module: `Protocol` with a message naming a field.
pub fn is_named_protocol_error(e: &Error) -> bool {
    *e.kind() == ErrorKind::Protocol
        && e.message()
            .strip_prefix("unreadable ")
            .is_some_and(|rest| rest.split_once(": ").is_some_and(|(field, _)| !field.trim().is_empty()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use loyalty_core::Currency;

    fn ctx() -> wire::OfferContext {
        wire::OfferContext { time_zone: chrono_tz::Europe::Oslo, currency: Currency::NOK }
    }

    fn coupon(extra: &str) -> String {
        format!(
            r#"[{{"id":1,"code":"C","title":"t","valid_from":"2024-01-01T00:00:00+01:00",
                "valid_to":"2100-01-01T00:00:00+01:00","type":"Standard","discount_type":"Percentage",
                "discount_value":10.0{extra}}}]"#
        )
    }

    fn message(r: Result<impl std::fmt::Debug, Error>) -> String {
        let e = r.unwrap_err();
        assert!(is_named_protocol_error(&e), "{e:?}");
        e.message().to_string()
    }

    #[test]
    fn a_coupon_without_a_discount_is_left_out_and_the_others_stay() {
        let listed = |discount_type: &str| {
            let body = format!(
                r#"[{{"id":1,"code":"FREEBIE","title":"t","valid_from":"2024-01-01T00:00:00+01:00",
                    "valid_to":"2100-01-01T00:00:00+01:00","type":"Standard"{discount_type}}},
                   {{"id":2,"code":"C","title":"t","valid_from":"2024-01-01T00:00:00+01:00",
                    "valid_to":"2100-01-01T00:00:00+01:00","type":"Standard","discount_type":"Percentage",
                    "discount_value":10.0}}]"#
            );
            member_coupons("offers.list", body.as_bytes(), &ctx()).unwrap()
        };
        for discount_type in [r#","discount_type":"NotDefined""#, ""] {
            let offers = listed(discount_type);
            assert_eq!(offers.len(), 1, "{discount_type}: {offers:?}");
            assert_eq!(offers[0].code.as_deref(), Some("C"));
        }
        // A discount type the contract does not list is still a Protocol error naming it.
        let m = message(member_coupons(
            "offers.list",
            coupon("").replace("Percentage", "Bogus").as_bytes(),
            &ctx(),
        ));
        assert!(m.contains("coupons[0].discount_type"), "{m}");
    }

    #[test]
    fn false_in_an_array_is_protocol_not_a_refusal() {
        let m = message(action("offers.validate", b"[false]"));
        assert!(m.starts_with("unreadable body:"), "{m}");
        let m = message(action("holds.hold", b"[false, \"no\"]"));
        assert!(m.starts_with("unreadable body:"), "{m}");
    }

    #[test]
    fn action_without_is_ok_is_protocol() {
        assert!(message(action("holds.hold", b"{\"details\":\"x\"}")).contains("is_ok"));
        assert!(message(action("offers.validate", b"")).contains("is_ok"));
        assert_eq!(action("holds.hold", b"").unwrap().is_ok, Some(true));
    }

    #[test]
    fn times_redeemed_near_i64_min_is_protocol_naming_the_field() {
        let body = coupon(&format!(r#","max_redemptions":3,"times_redeemed":{}"#, i64::MIN + 1));
        let m = message(member_coupons("offers.list", body.as_bytes(), &ctx()));
        assert!(m.contains("coupons[0].times_redeemed"), "{m}");
    }

    #[test]
    fn negative_times_redeemed_never_adds_uses() {
        let body = coupon(r#","max_redemptions":1,"times_redeemed":-5"#);
        assert!(message(member_coupons("offers.list", body.as_bytes(), &ctx())).contains("negative"));
    }

    #[test]
    fn redeemed_above_the_maximum_is_protocol() {
        let body = coupon(r#","max_redemptions":2,"times_redeemed":3"#);
        let m = message(member_coupons("offers.list", body.as_bytes(), &ctx()));
        assert!(m.contains("coupons[0].times_redeemed: 3 is above max_redemptions 2"), "{m}");
    }

    #[test]
    fn uses_left_is_max_minus_redeemed() {
        let body = coupon(r#","max_redemptions":3,"times_redeemed":1"#);
        assert_eq!(member_coupons("offers.list", body.as_bytes(), &ctx()).unwrap()[0].uses_left, Some(2));
        let body = coupon(r#","max_redemptions":1000,"times_redeemed":4000"#);
        assert_eq!(member_coupons("offers.list", body.as_bytes(), &ctx()).unwrap()[0].uses_left, None);
    }

    #[test]
    fn negative_max_redemptions_is_protocol() {
        let body = coupon(r#","max_redemptions":-1"#);
        assert!(message(member_coupons("offers.list", body.as_bytes(), &ctx())).contains("max_redemptions"));
    }

    #[test]
    fn percentage_above_100_is_protocol() {
        let body = coupon("").replace("10.0", "150");
        assert!(message(member_coupons("offers.list", body.as_bytes(), &ctx())).contains("discount_value"));
    }

    fn card(required: &str, collected: &str) -> String {
        format!(
            r#"[{{"id":17,"title":"Coffee","required_stamps":{required},"stamps_collected":{collected}}}]"#
        )
    }

    #[test]
    fn stamp_count_above_the_card_is_protocol() {
        let m = message(member_stamp_cards("offers.list", card("6", "7").as_bytes(), &ctx()));
        assert!(m.contains("stamp_cards[0].stamps_collected: 7 is above required_stamps 6"), "{m}");
        assert!(member_stamp_cards("offers.list", card("6", "6").as_bytes(), &ctx()).is_ok());
    }

    #[test]
    fn negative_and_zero_stamp_counts_are_protocol() {
        assert!(message(member_stamp_cards("offers.list", card("6", "-1").as_bytes(), &ctx()))
            .contains("stamps_collected"));
        assert!(message(member_stamp_cards("offers.list", card("0", "0").as_bytes(), &ctx()))
            .contains("required_stamps"));
        assert!(message(member_stamp_cards(
            "offers.list",
            card("-9223372036854775808", "0").as_bytes(),
            &ctx()
        ))
        .contains("required_stamps"));
    }

    #[test]
    fn a_nested_model_given_as_an_array_is_protocol_naming_its_path() {
        let m = message(member("members.get", br#"{"id":"m1","membership_detail":[250.0,10.0]}"#));
        assert!(m.contains("membership_detail"), "{m}");
    }

    #[test]
    fn wrong_type_names_the_json_path() {
        let m = message(member_search("members.find", br#"[{"id":"m1","consent":{"receive_sms":"yes"}}]"#));
        assert!(m.contains("[0].consent.receive_sms"), "{m}");
    }

    #[test]
    fn an_odd_key_is_quoted_so_the_field_is_never_blank() {
        let m = message(action("holds.hold", b"{\"  \":r}"));
        assert!(m.starts_with(r#"unreadable ["  "]:"#), "{m}");
    }

    #[test]
    fn trailing_garbage_is_protocol() {
        assert!(message(member("members.get", br#"{"id":"m1"} x"#)).contains("body"));
    }

    #[test]
    fn a_utf8_body_reads_as_str_exactly_as_from_bytes() {
        fn same<T: DeserializeOwned + std::fmt::Debug>(body: &str) {
            let as_str = serde_json::from_str::<T>(body).map_err(|e| e.to_string());
            let as_bytes = serde_json::from_slice::<T>(body.as_bytes()).map_err(|e| e.to_string());
            assert_eq!(format!("{as_str:?}"), format!("{as_bytes:?}"), "{body}");
        }
        let bodies = [
            coupon(""),
            coupon(
                r#","description":"caf\u00e9 \"x\"","image_url":null,"external_ids":[{"platform":"\ud83d\ude00"}]"#,
            ),
            coupon(r#","description":"\ud800""#),
            coupon(r#","description":"\udc00x""#),
            coupon(r#","title":"tab	inside""#),
            coupon(r#","unknown":"\uZZZZ""#),
            coupon(r#","code":"\u0000""#),
            coupon(r#","description":5"#),
            r#"[{"id":"m1","first_name":"Åse","segments":[{"id":1,"text":"\n","value":"é"}]}]"#.to_string(),
            r#"{"is_ok":true,"details":"ok"} "#.to_string(),
            r#"{"is_ok":true} x"#.to_string(),
            "[".to_string(),
            String::new(),
        ];
        for body in &bodies {
            same::<Vec<wire::MemberCouponResponse>>(body);
            same::<Vec<wire::MemberResponse>>(body);
            same::<wire::ActionResponse>(body);
        }
    }
}
