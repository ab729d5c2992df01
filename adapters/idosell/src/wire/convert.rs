//! Conversions between the core's types and IdoSell's: domain → wire for requests
//! (a refusal is `Invalid`, nothing is sent), wire → domain for replies (a contradiction is
//! `Protocol` naming the field).
//!
//! Money: IdoSell writes amounts as decimals in the reply's `currency` (the configured one when
//! absent); they become [`Money`] rounded half away from zero to the currency's minor unit
//! ([`Rounding::HalfUp`]). Amounts sent (cash on delivery) are written from the exact minor
//! units.

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use loyalty_core::{
    Address, Billing, Courier, Currency, Error, Member, MemberUpdate, Money, OrderId, OrderLine, OrderStatus,
    Phone, PlacedOrder, Recipient, Rounding, ShipmentNotice, Shortfall, StockLevel,
};
use rust_decimal::Decimal;

use super::addresses::{AddressChange, AddressFields, AddressRecord};
use super::couriers::CourierItem;
use super::notice::Notice;
use super::orders::{BillingFields, Order};
use super::products::{IcdfLine, LineResult};
use super::WireError;
use crate::config::CodeType;
use crate::names::{el, FaultClass, FaultCodes, Names};
use crate::PROVIDER;

/// A request the adapter refuses to write: `Invalid` naming the field, effect `NotSent`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refused {
    pub field: String,
    pub reason: String,
}

impl Refused {
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Refused {
        Refused { field: field.into(), reason: reason.into() }
    }

    pub fn invalid(self, op: &str) -> Error {
        Error::invalid(PROVIDER, op, self.field, self.reason).with_effect(loyalty_core::WriteEffect::NotSent)
    }
}

// ------------------------------------------------------------------------ domain → wire

impl TryFrom<(&OrderLine, CodeType)> for IcdfLine {
    type Error = Refused;

    /// An ICDF line: the product id is the code of the configured family (§4).
    fn try_from((line, code_type): (&OrderLine, CodeType)) -> Result<IcdfLine, Refused> {
        let code = line.product_id.as_str().trim();
        if code.is_empty() {
            return Err(Refused::new("product_id", "empty"));
        }
        // §4: a quantity must be positive (checklist 13).
        if line.quantity <= Decimal::ZERO {
            return Err(Refused::new("quantity", "must be positive"));
        }
        Ok(IcdfLine {
            code: code.to_string(),
            code_type,
            quantity: line.quantity.normalize(),
            comment: line.comment.clone().filter(|c| !c.trim().is_empty()),
        })
    }
}

/// ICDF lines for `lines`, refusing the first bad one by its index.
pub(crate) fn icdf_lines(lines: &[OrderLine], code_type: CodeType) -> Result<Vec<IcdfLine>, Refused> {
    if lines.is_empty() {
        return Err(Refused::new("lines", "at least one line is needed"));
    }
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            IcdfLine::try_from((l, code_type))
                .map_err(|r| Refused::new(format!("lines[{i}].{}", r.field), r.reason))
        })
        .collect()
}

fn text(v: &Option<String>) -> Option<String> {
    v.as_ref().map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// Splits a full name at its last space: given names, then the family name.
fn split_name(name: &str) -> (Option<String>, Option<String>) {
    let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
    match name.rsplit_once(' ') {
        Some((first, last)) => (Some(first.to_string()), Some(last.to_string())),
        None if name.is_empty() => (None, None),
        None => (None, Some(name)),
    }
}

fn country(code: &Option<String>, field: &str) -> Result<String, Refused> {
    let c = text(code).ok_or_else(|| Refused::new(field, "required"))?;
    // ISO 3166 alpha-2 (§9.3 country coding [I]).
    if c.len() != 2 || !c.chars().all(|c| c.is_ascii_alphabetic()) {
        return Err(Refused::new(field, "expected an ISO 3166 alpha-2 code"));
    }
    Ok(c.to_ascii_uppercase())
}

impl TryFrom<&Recipient> for AddressFields {
    type Error = Refused;

    /// The recipient of G4 (§5 G4): a person's given and family name, or a company; street,
    /// postcode, city and country are required.
    fn try_from(r: &Recipient) -> Result<AddressFields, Refused> {
        let (first_name, last_name) = split_name(&r.name);
        let company = text(&r.company);
        if company.is_none() && (first_name.is_none() || last_name.is_none()) {
            return Err(Refused::new("recipient.name", "a given and a family name, or a company, is needed"));
        }
        let a = &r.address;
        Ok(AddressFields {
            first_name,
            last_name,
            company,
            street: Some(
                text(&a.street).ok_or_else(|| Refused::new("recipient.address.street", "required"))?,
            ),
            postcode: Some(
                text(&a.zip_code).ok_or_else(|| Refused::new("recipient.address.zip_code", "required"))?,
            ),
            city: Some(text(&a.city).ok_or_else(|| Refused::new("recipient.address.city", "required"))?),
            country: Some(country(&a.country_code, "recipient.address.country_code")?),
            phone: r.phone.as_ref().map(Phone::e164),
            email: text(&r.email),
        })
    }
}

impl TryFrom<&Billing> for BillingFields {
    type Error = Refused;

    /// The shop's invoice data (§5 G4): every field required.
    fn try_from(b: &Billing) -> Result<BillingFields, Refused> {
        let need = |v: &Option<String>, f: &str| text(v).ok_or_else(|| Refused::new(f, "required"));
        let company = b.company.trim();
        let tax_id = b.tax_id.trim();
        if company.is_empty() {
            return Err(Refused::new("billing.company", "required"));
        }
        if tax_id.is_empty() {
            return Err(Refused::new("billing.tax_id", "required"));
        }
        Ok(BillingFields {
            company: company.to_string(),
            tax_id: tax_id.to_string(),
            street: need(&b.address.street, "billing.address.street")?,
            postcode: need(&b.address.zip_code, "billing.address.zip_code")?,
            city: need(&b.address.city, "billing.address.city")?,
            country: country(&b.address.country_code, "billing.address.country_code")?,
        })
    }
}

impl TryFrom<&MemberUpdate> for AddressChange {
    type Error = Refused;

    /// G9 changes from a member update: names, e-mail and address. An address record keeps no
    /// consents, segments, birth date or gender, so an update of those is refused.
    fn try_from(u: &MemberUpdate) -> Result<AddressChange, Refused> {
        if u.consents.is_some() {
            return Err(Refused::new("consents", "IdoSell recipient addresses keep no consents"));
        }
        if !u.segments.is_empty() {
            return Err(Refused::new("segments", "IdoSell recipient addresses keep no segments"));
        }
        if u.birth_date.is_some() {
            return Err(Refused::new("birth_date", "IdoSell recipient addresses keep no birth date"));
        }
        if u.gender.is_some() {
            return Err(Refused::new("gender", "IdoSell recipient addresses keep no gender"));
        }
        let mut c = AddressChange {
            first_name: text(&u.first_name),
            last_name: text(&u.last_name),
            email: text(&u.email),
            ..AddressChange::default()
        };
        if let Some(a) = &u.address {
            c.street = text(&a.street);
            c.postcode = text(&a.zip_code);
            c.city = text(&a.city);
            if a.country_code.is_some() {
                c.country = Some(country(&a.country_code, "address.country_code")?);
            }
        }
        Ok(c)
    }
}

/// A cash-on-delivery amount in the wholesaler's currency.
pub(crate) fn cash_on_delivery(amount: Money, currency: Currency) -> Result<Decimal, Refused> {
    if amount.currency != currency {
        return Err(Refused::new(
            "cash_on_delivery",
            format!("in {}, the wholesaler takes {}", amount.currency.code(), currency.code()),
        ));
    }
    if amount.is_negative() {
        return Err(Refused::new("cash_on_delivery", "negative"));
    }
    Ok(amount.to_decimal())
}

// ------------------------------------------------------------------------ wire → domain

/// The currency of a reply's amounts.
pub(crate) fn currency(code: Option<&str>, default: Currency, field: &str) -> Result<Currency, WireError> {
    match code.map(str::trim).filter(|c| !c.is_empty()) {
        None => Ok(default),
        Some(c) => {
            Currency::from_code(c).map_err(|_| WireError::new(field, format!("unknown currency {c:?}")))
        }
    }
}

/// A reply amount as money, rounded half-up (see the module docs).
pub(crate) fn money(value: Decimal, currency: Currency, field: &str) -> Result<Money, WireError> {
    Money::from_decimal(value, currency, Rounding::HalfUp).map_err(|e| WireError::new(field, e.to_string()))
}

/// `YYYY-MM-DD HH:MM:SS` in the wholesaler's zone (§7.2 \[S\]).
pub(crate) fn local_time(text: &str, zone: Tz, field: &str) -> Result<DateTime<Utc>, WireError> {
    let naive = NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%d %H:%M:%S")
        .map_err(|_| WireError::new(field, "expected YYYY-MM-DD HH:MM:SS"))?;
    // A time repeated when the clocks go back reads as its first occurrence.
    zone.from_local_datetime(&naive)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| WireError::new(field, "not a time in the wholesaler's zone"))
}

/// An order's status (§5 G7): dispatched when its symbol says so (§4 vocabulary) or it carries
/// shipment numbers.
pub(crate) fn order_status(o: &Order, names: &Names, zone: Tz) -> Result<OrderStatus, WireError> {
    let dispatched = names.is_dispatched(&o.status) || !o.shipment_numbers.is_empty();
    let mut s = OrderStatus::new(
        OrderId::new(o.id.clone()),
        o.status.clone(),
        o.shipment_numbers.clone(),
        dispatched,
    );
    if let Some(r) = &o.reference {
        s = s.with_reference(r.clone());
    }
    if let Some(c) = &o.courier_id {
        s = s.with_courier(c.clone());
    }
    if let Some(d) = &o.dispatch_date {
        s = s.dispatched_at(local_time(d, zone, el::DISPATCH_DATE)?);
    }
    Ok(s)
}

/// What G4 answered, as the core reports a placement.
pub(crate) fn placed(o: &Order, default: Currency) -> Result<PlacedOrder, WireError> {
    let mut p = PlacedOrder::new(OrderId::new(o.id.clone())).duplicate(o.duplicate.unwrap_or(false));
    if let Some(total) = o.order_total {
        let c = currency(o.currency.as_deref(), default, "results.currency")?;
        p = p.with_total(money(total, c, "results.orderTotal")?);
    }
    Ok(p)
}

/// A stock level from a G2 line result, by the class of its per-line fault (§6.1).
pub(crate) fn stock_level(sent: &OrderLine, r: &LineResult, faults: &FaultCodes) -> StockLevel {
    let available = match (r.available_quantity, r.available) {
        (Some(quantity), _) => quantity,
        // Answered by the flag alone ("available quantity or availability flag", §5 G2): the
        // goods asked for are there, which is the quantity asked.
        (None, Some(true)) => sent.quantity,
        (None, _) => Decimal::ZERO,
    };
    let level = StockLevel::new(sent.product_id.clone(), sent.quantity, available);
    let shortfall = match faults.class(r.fault_code) {
        FaultClass::Ok if r.available == Some(false) => Some(Shortfall::Insufficient),
        FaultClass::Ok => level.shortfall,
        FaultClass::UnknownProduct => Some(Shortfall::UnknownProduct),
        FaultClass::Stock => Some(Shortfall::Insufficient),
        // "Nothing found" (§6.2): an empty result, nothing available (checklist 10).
        FaultClass::Empty => Some(Shortfall::Insufficient),
        _ => Some(Shortfall::Refused),
    };
    let level = level.with_shortfall(shortfall);
    if r.fault_code != 0 {
        level.with_vendor_code(r.fault_code.to_string())
    } else {
        level
    }
}

/// A courier from G5/G6.
pub(crate) fn courier(c: &CourierItem, default: Currency, path: &str) -> Result<Courier, WireError> {
    let cost = match c.delivery_cost {
        None => None,
        Some(d) => {
            let cur = currency(c.currency.as_deref(), default, &format!("{path}.currency"))?;
            Some(money(d, cur, &format!("{path}.deliveryCost"))?)
        }
    };
    let mut out = Courier::new(c.id.clone(), c.name.clone(), cost)
        .needs_pickup_point(c.kind.as_deref().is_some_and(|k| k.eq_ignore_ascii_case(el::PICKUP_POINT_TYPE)))
        .with_cash_on_delivery(c.cash_on_delivery.unwrap_or(false))
        .serving(c.countries.iter().map(|s| s.to_ascii_uppercase()).collect());
    if let Some(d) = c.delivery_days {
        let days =
            u32::try_from(d).map_err(|_| WireError::new(format!("{path}.deliveryDays"), "out of range"))?;
        out = out.with_delivery_days(days);
    }
    Ok(out)
}

fn address(f: &AddressFields) -> Address {
    Address {
        street: f.street.clone(),
        city: f.city.clone(),
        zip_code: f.postcode.clone(),
        state: None,
        country_code: f.country.clone(),
    }
}

/// A recipient address record as a member: the address id is the member id (§5 G8).
pub(crate) fn member(a: &AddressRecord) -> Member {
    let mut m = Member::new(a.id.to_string());
    let f = &a.fields;
    m.first_name = f.first_name.clone();
    m.last_name = f.last_name.clone();
    m.email = f.email.clone();
    m.phone = f.phone.as_deref().and_then(Phone::parse_e164);
    m.address = Some(address(f));
    if let Some(c) = &f.company {
        m.extras.insert("company".into(), c.clone());
    }
    if let Some(o) = &a.order_id {
        m.extras.insert("order_id".into(), o.clone());
    }
    m
}

/// A recipient address record as an order's recipient.
pub(crate) fn recipient(a: &AddressRecord) -> Recipient {
    let f = &a.fields;
    let name =
        [f.first_name.as_deref(), f.last_name.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(" ");
    let mut r = Recipient::new(name, address(f));
    r.company = f.company.clone();
    r.phone = f.phone.as_deref().and_then(Phone::parse_e164);
    r.email = f.email.clone();
    r
}

/// A dispatch notice (§7.2).
pub(crate) fn notice(n: &Notice, zone: Tz) -> Result<ShipmentNotice, WireError> {
    let mut s = ShipmentNotice::new(OrderId::new(n.order_id.clone()), n.shipment_numbers.clone());
    s.reference = n.reference.clone();
    s.courier = n.courier_name.clone().or_else(|| n.courier_id.clone());
    s.status = n.status.clone();
    if let Some(d) = &n.dispatch_date {
        s.at = Some(local_time(d, zone, "notice.dispatchDate")?);
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_split_at_the_last_space() {
        assert_eq!(split_name("Anna Maria  Nowak"), (Some("Anna Maria".into()), Some("Nowak".into())));
        assert_eq!(split_name("Nowak"), (None, Some("Nowak".into())));
        assert_eq!(split_name("  "), (None, None));
    }

    #[test]
    fn a_recipient_without_family_name_or_company_is_refused() {
        let a = Address {
            street: Some("ul. Prosta 5".into()),
            city: Some("Warszawa".into()),
            zip_code: Some("00-838".into()),
            state: None,
            country_code: Some("pl".into()),
        };
        let err = AddressFields::try_from(&Recipient::new("Anna", a.clone())).unwrap_err();
        assert_eq!(err.field, "recipient.name");
        let ok = AddressFields::try_from(&Recipient::new("Anna", a.clone()).with_company("Sklep")).unwrap();
        assert_eq!(ok.country.as_deref(), Some("PL"));
        let mut bad = a;
        bad.country_code = Some("Poland".into());
        assert_eq!(
            AddressFields::try_from(&Recipient::new("Anna Nowak", bad)).unwrap_err().field,
            "recipient.address.country_code"
        );
    }

    #[test]
    fn zero_or_negative_quantities_are_refused_before_sending() {
        let err = icdf_lines(
            &[OrderLine::new("A", Decimal::ONE), OrderLine::new("B", Decimal::ZERO)],
            CodeType::Internal,
        )
        .unwrap_err();
        assert_eq!(err.field, "lines[1].quantity");
        assert!(icdf_lines(&[], CodeType::Internal).is_err());
    }

    #[test]
    fn amounts_round_half_up_to_minor_units() {
        let m = money("15.275".parse().unwrap(), Currency::PLN, "x").unwrap();
        assert_eq!(m, Money::new(1528, Currency::PLN));
        assert!(currency(Some("XYZ"), Currency::PLN, "c").is_err());
    }

    #[test]
    fn local_times_are_read_in_the_wholesaler_zone() {
        let t = local_time("2024-03-16 14:05:00", chrono_tz::Europe::Warsaw, "d").unwrap();
        assert_eq!(t.to_rfc3339(), "2024-03-16T13:05:00+00:00");
        assert!(local_time("16.03.2024", chrono_tz::Europe::Warsaw, "d").is_err());
    }
}
