//! The `openapi` feature's schemas describe the JSON exactly as serde writes it.
//!
//! For a representative value of every type the HTTP API sends or receives (each variant of
//! every tagged enum, every `Option` filled), the value is built through serde (or a public
//! constructor), serialised with serde, and checked against the schema `utoipa` generates:
//! every property serde writes must be declared (no extra keys), every required one present,
//! tags and enums must match, types must match, recursively through `$ref`, `allOf`, `oneOf`,
//! arrays, tuples and maps. In the other direction every property a component declares must be
//! written by serde for at least one fixture, so a schema cannot describe a field serde skips.
#![cfg(feature = "openapi")]

use std::collections::{BTreeMap, BTreeSet};

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};
use utoipa::ToSchema;

use loyalty_core::checkout::{CheckoutOutcome, CheckoutRecord, Completion, Delivery, Prepared};
use loyalty_core::form::{registration_form, FieldError, FormSchema};
use loyalty_core::returns::ReturnOutcome;
use loyalty_core::{
    Basket, Capabilities, CartId, Currency, DepartmentId, EnrollMember, HoldId, HoldStyle, LineId,
    LookupKind, Member, MemberId, MemberLookup, MemberUpdate, Money, Offer, OfferId, OrderId, PricedBasket,
    ProductId, Quantity, RegisterMember, Reinstatement, Resend, ReturnStyle, Segment, SegmentId, Transaction,
    TransactionId, TransactionReceipt, UsageCounting,
};

// ---------------------------------------------------------------------------------------------
// A strict checker for the subset of JSON Schema (OpenAPI 3.1) that utoipa generates.

/// The component schemas of one root type, as JSON, plus the properties seen per component.
struct Schemas {
    components: BTreeMap<String, Value>,
}

impl Schemas {
    fn of<T: ToSchema>() -> (Schemas, Value) {
        let mut list = Vec::new();
        T::schemas(&mut list);
        list.push((T::name().into_owned(), T::schema()));
        let components = list
            .into_iter()
            .map(|(name, schema)| (name, serde_json::to_value(schema).expect("schema serialises")))
            .collect();
        let root = json!({ "$ref": format!("#/components/schemas/{}", T::name()) });
        (Schemas { components }, root)
    }

    fn component<'a>(&'a self, reference: &str) -> Result<(&'a str, &'a Value), String> {
        let name = reference
            .strip_prefix("#/components/schemas/")
            .ok_or_else(|| format!("unexpected $ref {reference}"))?;
        self.components
            .get_key_value(name)
            .map(|(name, s)| (name.as_str(), s))
            .ok_or_else(|| format!("$ref {reference} is not among the registered schemas"))
    }

    /// Checks `value` against `schema`; records into `seen` the (component, property) pairs
    /// of successfully matched objects.
    fn check(
        &self,
        value: &Value,
        schema: &Value,
        path: &str,
        seen: &mut BTreeSet<(String, String)>,
    ) -> Result<(), String> {
        if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            let (name, resolved) = self.component(reference)?;
            self.check(value, resolved, path, seen)?;
            if let (Some(object), Some(props)) = (value.as_object(), resolved.get("properties")) {
                for key in object.keys().filter(|k| props.get(k.as_str()).is_some()) {
                    seen.insert((name.to_string(), key.clone()));
                }
            }
            return Ok(());
        }
        for keyword in ["oneOf", "anyOf"] {
            if let Some(alternatives) = schema.get(keyword).and_then(Value::as_array) {
                let mut errors = Vec::new();
                let mut matched = None;
                for alternative in alternatives {
                    let mut local = BTreeSet::new();
                    match self.check(value, alternative, path, &mut local) {
                        Ok(()) if matched.is_none() => matched = Some(local),
                        Ok(()) if keyword == "oneOf" => {
                            return Err(format!("{path}: matches more than one oneOf alternative"))
                        }
                        Ok(()) => {}
                        Err(e) => errors.push(e),
                    }
                }
                match matched {
                    Some(local) => seen.extend(local),
                    None => {
                        return Err(format!(
                            "{path}: no {keyword} alternative matches: [{}]",
                            errors.join(" | ")
                        ))
                    }
                }
            }
        }
        self.check_type(value, schema, path)?;
        if let Some(allowed) = schema.get("enum").and_then(Value::as_array) {
            if !allowed.contains(value) {
                return Err(format!("{path}: {value} is not one of {allowed:?}"));
            }
        }
        if let Some(constant) = schema.get("const") {
            if constant != value {
                return Err(format!("{path}: {value} is not {constant}"));
            }
        }
        match value {
            Value::Object(object) if self.describes_object(schema)? => {
                let (props, required, additional) = self.object_view(schema)?;
                for key in &required {
                    if !object.contains_key(key) {
                        return Err(format!("{path}: required property {key:?} is missing"));
                    }
                }
                for (key, item) in object {
                    let item_path = format!("{path}.{key}");
                    match (props.get(key), additional) {
                        (Some(prop_schemas), _) => {
                            for prop_schema in prop_schemas {
                                self.check(item, prop_schema, &item_path, seen)?;
                            }
                        }
                        (None, Some(extra)) if extra.is_object() => {
                            self.check(item, extra, &item_path, seen)?
                        }
                        (None, Some(Value::Bool(true))) => {}
                        (None, _) => {
                            return Err(format!("{path}: property {key:?} is not declared in the schema"))
                        }
                    }
                }
                for part in schema.get("allOf").and_then(Value::as_array).into_iter().flatten() {
                    // Record the referenced parts' properties (an internally tagged newtype).
                    if let Some(reference) = part.get("$ref").and_then(Value::as_str) {
                        let (name, resolved) = self.component(reference)?;
                        if let Some(own) = resolved.get("properties") {
                            for key in object.keys().filter(|k| own.get(k.as_str()).is_some()) {
                                seen.insert((name.to_string(), key.clone()));
                            }
                        }
                    }
                }
            }
            Value::Array(items) => {
                let prefix = schema.get("prefixItems").and_then(Value::as_array);
                if let Some(prefix) = prefix {
                    if items.len() != prefix.len() {
                        return Err(format!(
                            "{path}: tuple of {} items, schema has {}",
                            items.len(),
                            prefix.len()
                        ));
                    }
                }
                for (i, item) in items.iter().enumerate() {
                    let item_path = format!("{path}[{i}]");
                    if let Some(s) = prefix.and_then(|p| p.get(i)) {
                        self.check(item, s, &item_path, seen)?;
                    } else if let Some(s) = schema.get("items").filter(|s| s.is_object()) {
                        self.check(item, s, &item_path, seen)?;
                    }
                }
            }
            _ => {
                if schema.get("allOf").is_some() {
                    for part in schema["allOf"].as_array().into_iter().flatten() {
                        self.check(value, part, path, seen)?;
                    }
                }
            }
        }
        Ok(())
    }

    fn check_type(&self, value: &Value, schema: &Value, path: &str) -> Result<(), String> {
        let types: Vec<&str> = match schema.get("type") {
            None => return Ok(()),
            Some(Value::String(t)) => vec![t.as_str()],
            Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
            Some(other) => return Err(format!("{path}: odd type {other}")),
        };
        let ok = types.iter().any(|t| match *t {
            "null" => value.is_null(),
            "boolean" => value.is_boolean(),
            "string" => value.is_string(),
            "integer" => value.is_i64() || value.is_u64(),
            "number" => value.is_number(),
            "array" => value.is_array(),
            "object" => value.is_object(),
            _ => false,
        });
        if ok {
            Ok(())
        } else {
            Err(format!("{path}: {value} is not of type {types:?}"))
        }
    }

    /// Whether the schema constrains object properties (its own or through `allOf`).
    fn describes_object(&self, schema: &Value) -> Result<bool, String> {
        if schema.get("properties").is_some() || schema.get("additionalProperties").is_some() {
            return Ok(true);
        }
        if schema.get("type").and_then(Value::as_str) == Some("object") {
            return Ok(true);
        }
        for part in schema.get("allOf").and_then(Value::as_array).into_iter().flatten() {
            let part = self.resolve(part)?;
            if self.describes_object(part)? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    fn resolve<'a>(&'a self, schema: &'a Value) -> Result<&'a Value, String> {
        match schema.get("$ref").and_then(Value::as_str) {
            Some(reference) => self.resolve(self.component(reference)?.1),
            None => Ok(schema),
        }
    }

    /// The declared properties, required names and `additionalProperties`, merged over `allOf`.
    #[allow(clippy::type_complexity)]
    fn object_view<'a>(
        &'a self,
        schema: &'a Value,
    ) -> Result<(BTreeMap<String, Vec<&'a Value>>, BTreeSet<String>, Option<&'a Value>), String> {
        let mut props: BTreeMap<String, Vec<&Value>> = BTreeMap::new();
        let mut required = BTreeSet::new();
        let mut additional = schema.get("additionalProperties");
        if let Some(own) = schema.get("properties").and_then(Value::as_object) {
            for (k, v) in own {
                props.entry(k.clone()).or_default().push(v);
            }
        }
        for r in schema.get("required").and_then(Value::as_array).into_iter().flatten() {
            required.insert(r.as_str().unwrap_or_default().to_string());
        }
        for part in schema.get("allOf").and_then(Value::as_array).into_iter().flatten() {
            let part = self.resolve(part)?;
            let (p, r, a) = self.object_view(part)?;
            for (k, v) in p {
                props.entry(k).or_default().extend(v);
            }
            required.extend(r);
            additional = additional.or(a);
        }
        Ok((props, required, additional))
    }
}

/// Serde's JSON of `value`, checked against `T`'s schema; the seen properties accumulate.
fn check_value<T: ToSchema + Serialize>(
    value: &T,
    seen: &mut BTreeSet<(String, String)>,
) -> Result<(), String> {
    let (schemas, root) = Schemas::of::<T>();
    let json = serde_json::to_value(value).expect("value serialises");
    schemas.check(&json, &root, T::name().as_ref(), seen)
}

/// `fixture` read through serde's `Deserialize` (so it is a real `T`), then checked as above.
fn check_json<T: ToSchema + Serialize + DeserializeOwned>(
    fixture: Value,
    seen: &mut BTreeSet<(String, String)>,
) {
    let value: T = serde_json::from_value(fixture.clone())
        .unwrap_or_else(|e| panic!("fixture is not a {}: {e}\n{fixture:#}", T::name()));
    if let Err(e) = check_value(&value, seen) {
        panic!("{} disagrees with its schema: {e}\n{:#}", T::name(), serde_json::to_value(&value).unwrap());
    }
}

/// Raw JSON (not through serde) against `T`'s schema: for the must-fail cases.
fn check_raw<T: ToSchema>(json: &Value) -> Result<(), String> {
    let (schemas, root) = Schemas::of::<T>();
    schemas.check(json, &root, T::name().as_ref(), &mut BTreeSet::new())
}

// ---------------------------------------------------------------------------------------------
// Fixtures: every variant of every tagged enum, every Option filled at least once.

const AT: &str = "2026-03-01T12:00:00Z";

fn money(minor: i64) -> Value {
    json!({ "minor": minor, "currency": "NOK" })
}

fn phone() -> Value {
    json!({ "country_code": "47", "number": "41234567" })
}

fn address() -> Value {
    json!({ "street": "Storgata 1", "city": "Oslo", "zip_code": "0155", "state": "Oslo", "country_code": "NO" })
}

fn consents() -> Value {
    json!({ "membership": true, "order_history": true, "marketing_sms": false, "marketing_email": true })
}

fn segment_answers() -> Value {
    json!([
        { "segment_id": "s-text", "value": { "kind": "text", "value": "espresso" } },
        { "segment_id": "s-date", "value": { "kind": "date", "value": "2020-01-31" } },
        { "segment_id": "s-multi", "value": { "kind": "choices", "value": ["a", "b"] } }
    ])
}

fn member() -> Value {
    json!({
        "id": "m-1", "first_name": "Kari", "last_name": "Nordmann", "email": "kari@example.com",
        "phone": phone(), "birth_date": "1990-05-17", "address": address(), "gender": "NonBinary",
        "consents": consents(), "segments": segment_answers(), "identifiers": ["card-1"],
        "departments": ["d-1"], "points": "120.50", "tier": "gold", "extras": { "club": "north" }
    })
}

fn register_member() -> Value {
    json!({
        "phone": phone(), "email": "kari@example.com", "first_name": "Kari", "last_name": "Nordmann",
        "birth_date": "1990-05-17", "gender": "Female", "address": address(), "consents": consents(),
        "segments": segment_answers(), "identifiers": ["card-1"], "external_id": "pos-9", "department": "d-1"
    })
}

fn offer_ref(kind: &str, value: &str) -> Value {
    json!({ "kind": kind, "value": value })
}

fn vendor_discount() -> Value {
    json!({ "amount": money(2500), "lines": [{ "line_id": "1", "units": "1.5" }] })
}

fn offer_kinds() -> Vec<Value> {
    vec![
        json!({ "type": "coupon", "discount": { "type": "percent", "value": "20" },
                "scope": { "type": "products", "products": ["COF-500"] } }),
        json!({ "type": "coupon", "discount": { "type": "fixed", "value": money(5000) }, "scope": { "type": "basket" } }),
        json!({ "type": "coupon", "discount": { "type": "free_shipping" }, "scope": { "type": "basket" } }),
        json!({ "type": "stamp_card", "required": 10, "collected": 3, "restartable": true, "products": ["COF-500"] }),
        json!({ "type": "progressive_discount", "tiers": [{ "min_units": 2, "percent": "10" }], "products": ["A"] }),
        json!({ "type": "vendor_priced", "rule": "buy_x_get_y", "discount": vendor_discount() }),
        json!({ "type": "vendor_priced", "rule": "lowest_item", "discount": null }),
        json!({ "type": "vendor_priced", "rule": { "other": "mystery" }, "discount": null }),
        json!({ "type": "reward", "points": "100", "discount": { "type": "fixed", "value": money(10000) } }),
        json!({ "type": "reward", "points": "50", "discount": null }),
    ]
}

fn offer(kind: Value) -> Value {
    json!({
        "id": "c-1", "code": "SUMMER", "title": "20 % off coffee", "valid_from": "2026-01-01T00:00:00Z",
        "valid_to": "2026-12-31T22:59:59Z", "ends_on": { "date": "2026-12-31", "zone": "Europe/Oslo" },
        "uses_left": 3, "kind": kind, "reference": offer_ref("code", "SUMMER")
    })
}

fn basket() -> Value {
    json!({ "currency": "NOK", "lines": [{
        "line_id": "1", "product_id": "COF-500", "sku": "7038010001", "name": "Coffee 500 g",
        "quantity": "2", "unit_price": money(12900), "tax_rate": "0.15"
    }] })
}

fn priced_basket() -> Value {
    json!({
        "currency": "NOK",
        "lines": [{ "line_id": "1", "gross": money(25800), "discount": money(5160), "net": money(20640),
                    "discounts": [{ "offer_id": "c-1", "amount": money(5160) }] }],
        "total_gross": money(25800), "total_discount": money(5160), "total": money(20640),
        "stamps": [{ "offer_id": "s-1", "earned": 1, "free_units": 0, "remaining": 9 }],
        "needs_confirmation": ["c-2"], "not_applied": [{ "offer_id": "c-3", "reason": "expired" }],
        "applied": [{ "offer_id": "c-1", "reason": "20 % off on the products it covers: 51.60 NOK on 1 line" }]
    })
}

fn hold() -> Value {
    json!({
        "id": "h-1", "offer_id": "c-1", "offer_ref": offer_ref("id", "c-1"), "member": "m-1",
        "transaction": "t-1", "expires_at": AT, "vendor_data": { "lock": [1, "x", null] },
        "vendor_discount": vendor_discount()
    })
}

fn transaction() -> Value {
    json!({
        "id": "t-1", "at": AT, "member": "m-1", "department": "d-1", "currency": "NOK",
        "lines": [{
            "line_id": "1", "product_id": "COF-500", "sku": "7038010001", "name": "Coffee 500 g",
            "quantity": "2", "unit_price": money(12900), "tax_rate": "0.15", "gross": money(25800),
            "discount": money(5160), "net": money(20640),
            "discounts": [{ "offer_id": "c-1", "amount": money(5160) }], "stamps": [["s-1", 2]]
        }],
        "payments": [{ "method": "card", "amount": money(20640) }],
        "offers_used": [{ "offer_id": "c-1", "offer_ref": offer_ref("code", "SUMMER"), "code": "SUMMER",
                          "amount": money(5160), "vendor_data": { "lock": [1, "x", null] } }],
        "stamps": [
            { "offer_id": "s-1", "offer_ref": offer_ref("id", "s-1"), "action": "collected", "count": 2 },
            { "offer_id": "s-1", "offer_ref": offer_ref("id", "s-1"), "action": "deducted", "count": 1 }
        ],
        "holds": [hold()], "total_gross": money(25800), "total_discount": money(5160), "total": money(20640)
    })
}

fn receipt() -> Value {
    json!({ "id": "t-1", "outcome": "already_recorded", "provider_ref": "p-77", "points_earned": "12.5" })
}

fn deliveries() -> Vec<Value> {
    let mut sent = receipt();
    sent["status"] = json!("sent");
    vec![
        sent,
        json!({ "status": "pending", "reason": "provider timed out" }),
        json!({ "status": "refused", "reason": "duplicate" }),
        json!({ "status": "not_supported" }),
    ]
}

fn outcome() -> Value {
    json!({
        "transaction": transaction(), "member": "m-1", "signed_up": true, "priced": priced_basket(),
        "delivery": deliveries()[0], "charged": money(20640), "dropped_claims": ["c-9"],
        "notes": ["hold released"], "applied_offers": [offer(offer_kinds()[0].clone())]
    })
}

fn prepared() -> Value {
    json!({
        "order": "t-1", "revision": 2, "member": member(), "signed_up": false,
        "offers": offer_kinds().into_iter().map(offer).collect::<Vec<_>>(), "priced": priced_basket(),
        "holds": [hold()], "notes": ["c-3 expired"]
    })
}

fn completions() -> Vec<Value> {
    let mut completed = outcome();
    completed["status"] = json!("completed");
    vec![
        completed,
        json!({ "status": "price_changed", "old_total": money(20640), "new_total": money(25800),
                "changes": ["c-1 no longer applies"], "prepared": prepared() }),
        json!({ "status": "action_required", "order": "t-1",
                "action": { "kind": "redirect", "url": "https://pay.example/3ds" } }),
    ]
}

fn lookups() -> Vec<Value> {
    vec![
        json!({ "kind": "phone", "value": phone() }),
        json!({ "kind": "email", "value": "kari@example.com" }),
        json!({ "kind": "national_id", "value": "01019012345" }),
        json!({ "kind": "drivers_license", "value": "DL-1" }),
        json!({ "kind": "external_id", "value": "pos-9" }),
        json!({ "kind": "provider_id", "value": "m-1" }),
        json!({ "kind": "activation_token", "value": "tok" }),
    ]
}

fn checkout_record() -> Value {
    json!({
        "order": "t-1", "provider": "memory", "state": "awaiting_action", "fingerprint": "9f2c", "revision": 2,
        "request": { "transaction_id": "t-1", "basket": basket(), "identify": lookups()[0],
                     "sign_up": register_member(), "confirmed": ["c-2"], "department": "d-1",
                     "payment_method": "card" },
        "member": member(), "signed_up": true, "offers": [offer(offer_kinds()[3].clone())],
        "priced": priced_basket(), "holds": [hold()], "hold_intents": [offer(offer_kinds()[1].clone())],
        "held_basket": "9f2c", "notes": [], "authorization": { "id": "a-1", "amount": money(20640) },
        "action": { "kind": "three_d_secure", "url": null }, "transaction": transaction(),
        "outcome": outcome(), "dropped_claims": ["c-9"], "send_attempts": 1, "due_at": AT, "updated_at": AT,
        "unconfirmed_change": { "old_total": money(20640), "changes": ["offer c-2: hold expired and the offer was taken"] },
        "authorize_unknown": false, "sending": false, "releasing": false
    })
}

fn segments() -> Vec<Value> {
    let options = json!([{ "id": "a", "label": "Espresso" }, { "id": "b", "label": "Filter" }]);
    [
        json!({ "kind": "text" }),
        json!({ "kind": "date" }),
        json!({ "kind": "single_choice", "options": options }),
        json!({ "kind": "multi_choice", "options": options }),
    ]
    .into_iter()
    .enumerate()
    .map(|(i, kind)| json!({ "id": format!("s-{i}"), "label": "Coffee", "kind": kind, "required": i % 2 == 0, "visible": true }))
    .collect()
}

fn capabilities() -> Vec<Capabilities> {
    let mut full = Capabilities::none();
    full.lookups = vec![LookupKind::Phone, LookupKind::Email, LookupKind::ActivationToken];
    full.hold = Some(HoldStyle::Lock { default_ttl_secs: 900 });
    full.usage_counting = UsageCounting::AtHold;
    full.reinstate = vec![Reinstatement::OnCancel, Reinstatement::Explicit];
    full.resend = Resend::Deduplicated;
    full.return_styles = ReturnStyle::ALL.to_vec();
    let mut reserve = full.clone();
    reserve.hold = Some(HoldStyle::Reserve { assumed_ttl_secs: 600 });
    reserve.resend = Resend::Upsert;
    vec![Capabilities::none(), full, reserve]
}

// ---------------------------------------------------------------------------------------------

#[test]
fn serde_json_of_every_api_type_matches_its_schema_both_ways() {
    let mut seen = BTreeSet::new();
    let seen = &mut seen;

    for caps in capabilities() {
        check_value(&caps, seen).unwrap_or_else(|e| panic!("Capabilities: {e}"));
    }
    check_json::<Member>(member(), seen);
    check_json::<Member>(
        json!({
            "id": "m-2", "first_name": null, "last_name": null, "email": null, "phone": null, "birth_date": null,
            "address": null, "gender": "Male", "consents": consents(), "segments": [], "identifiers": [],
            "departments": [], "points": null, "tier": null, "extras": {}
        }),
        seen,
    );
    for gender in ["Male", "Female", "NonBinary", "NotShared"] {
        let mut m = member();
        m["gender"] = json!(gender);
        check_json::<Member>(m, seen);
    }
    for lookup in lookups() {
        check_json::<MemberLookup>(lookup, seen);
    }
    check_json::<RegisterMember>(register_member(), seen);
    check_json::<EnrollMember>(
        json!({
            "phone": phone(), "department": "d-1", "first_name": "Kari", "last_name": "Nordmann", "email": "kari@example.com"
        }),
        seen,
    );
    check_json::<MemberUpdate>(
        json!({
            "first_name": "Kari", "last_name": "Nordmann", "email": "kari@example.com", "birth_date": "1990-05-17",
            "gender": "NotShared", "address": address(), "consents": consents(), "segments": segment_answers()
        }),
        seen,
    );
    let segment_values: Vec<Segment> =
        segments().into_iter().map(|s| serde_json::from_value(s).expect("a segment")).collect();
    for segment in &segment_values {
        check_value(segment, seen).unwrap_or_else(|e| panic!("Segment: {e}"));
    }
    // The form the crate itself builds, with choice options (their key is skipped when empty).
    check_value(&registration_form(&segment_values), seen).unwrap_or_else(|e| panic!("FormSchema: {e}"));
    for kind in ["text", "email", "phone", "date", "single_choice", "multi_choice", "checkbox"] {
        check_json::<FormSchema>(
            json!({ "fields": [{ "name": "f", "label": "F", "kind": kind, "required": true }] }),
            seen,
        );
    }
    check_json::<FieldError>(json!({ "field": "email", "reason": "is not an e-mail address" }), seen);
    for kind in offer_kinds() {
        check_json::<Offer>(offer(kind), seen);
    }
    check_json::<Offer>(
        json!({
            "id": "c-2", "code": null, "title": "Basket coupon", "valid_from": null, "valid_to": null, "ends_on": null,
            "uses_left": null, "kind": offer_kinds()[1], "reference": offer_ref("id", "c-2")
        }),
        seen,
    );
    check_json::<Basket>(basket(), seen);
    check_json::<PricedBasket>(priced_basket(), seen);
    check_json::<Prepared>(prepared(), seen);
    for completion in completions() {
        check_json::<Completion>(completion, seen);
    }
    check_json::<CheckoutOutcome>(outcome(), seen);
    for state in [
        "preparing",
        "prepared",
        "awaiting_action",
        "declined",
        "charging",
        "charged",
        "pending",
        "sent",
        "refused",
        "aborted",
    ] {
        let mut record = checkout_record();
        record["state"] = json!(state);
        check_json::<CheckoutRecord>(record, seen);
    }
    for delivery in deliveries() {
        check_json::<Delivery>(delivery, seen);
    }
    check_json::<Transaction>(transaction(), seen);
    for outcome in ["recorded", "already_recorded", "replaced", "stored"] {
        let mut r = receipt();
        r["outcome"] = json!(outcome);
        check_json::<TransactionReceipt>(r, seen);
    }
    for style in ["cancel_and_resend", "negative_transaction", "partial_refund", "resend_without_lines"] {
        check_json::<ReturnOutcome>(
            json!({
                "style": style, "refunded": money(12900), "new_transaction": "t-1-r1", "reinstated": ["c-1"],
                "stamps_taken_back": 1
            }),
            seen,
        );
    }
    check_json::<ReturnOutcome>(
        json!({
            "style": null, "refunded": money(0), "new_transaction": null, "reinstated": [], "stamps_taken_back": 0
        }),
        seen,
    );
    check_value(&Money::parse("1.234", Currency::KWD).expect("money"), seen).expect("Money");
    check_value(&Currency::JPY, seen).expect("Currency");
    check_value(&Quantity(rust_decimal::Decimal::new(15, 1)), seen).expect("Quantity");
    check_value(&MemberId::new("m-1"), seen).expect("MemberId");
    check_value(&OfferId::new("c-1"), seen).expect("OfferId");
    check_value(&TransactionId::new("t-1"), seen).expect("TransactionId");
    check_value(&LineId::new("1"), seen).expect("LineId");
    check_value(&ProductId::new("COF-500"), seen).expect("ProductId");
    check_value(&SegmentId::new("s-1"), seen).expect("SegmentId");
    check_value(&HoldId::new("h-1"), seen).expect("HoldId");
    check_value(&DepartmentId::new("d-1"), seen).expect("DepartmentId");
    check_value(&CartId::new("cart-1"), seen).expect("CartId");
    check_value(&OrderId::new("o-1"), seen).expect("OrderId");

    // The other direction: every property a component declares is one serde writes.
    let mut all = BTreeMap::new();
    collect_components::<Capabilities>(&mut all);
    collect_components::<CheckoutRecord>(&mut all);
    collect_components::<Completion>(&mut all);
    collect_components::<FormSchema>(&mut all);
    collect_components::<FieldError>(&mut all);
    collect_components::<Segment>(&mut all);
    collect_components::<ReturnOutcome>(&mut all);
    collect_components::<MemberUpdate>(&mut all);
    collect_components::<EnrollMember>(&mut all);
    let mut never = Vec::new();
    for (name, schema) in &all {
        for key in schema.get("properties").and_then(Value::as_object).into_iter().flat_map(|p| p.keys()) {
            if !seen.contains(&(name.clone(), key.clone())) {
                never.push(format!("{name}.{key}"));
            }
        }
    }
    assert!(never.is_empty(), "declared in a schema but never written by serde for a fixture: {never:?}");
    assert!(all.len() >= 60 && seen.len() >= 250, "{} components, {} properties seen", all.len(), seen.len());

    // Descriptions come from doc comments; a doctest in one is no API documentation.
    let with_code: Vec<&String> =
        all.iter().filter(|(_, s)| s.to_string().contains("```")).map(|(name, _)| name).collect();
    assert!(with_code.is_empty(), "descriptions with a Rust code block: {with_code:?}");
}

fn collect_components<T: ToSchema>(into: &mut BTreeMap<String, Value>) {
    let (schemas, _) = Schemas::of::<T>();
    into.extend(schemas.components);
}

#[test]
fn the_checker_rejects_json_that_serde_would_not_write() {
    // Sanity: the raw fixture passes as it is.
    assert_eq!(check_raw::<Transaction>(&transaction()), Ok(()));

    let mut extra = member();
    extra["nickname"] = json!("kn");
    assert!(check_raw::<Member>(&extra).unwrap_err().contains("nickname"));

    let mut missing = transaction();
    missing.as_object_mut().unwrap().remove("total");
    assert!(check_raw::<Transaction>(&missing).unwrap_err().contains("total"));

    let wrong_tag = offer(
        json!({ "type": "coupon_code", "discount": { "type": "free_shipping" }, "scope": { "type": "basket" } }),
    );
    assert!(check_raw::<Offer>(&wrong_tag).is_err());

    let stray_in_variant = json!({ "status": "pending", "reason": "slow", "retry_in": 30 });
    assert!(check_raw::<Delivery>(&stray_in_variant).is_err());

    assert!(check_raw::<Currency>(&json!("XXX")).is_err());
    assert!(check_raw::<Money>(&json!({ "minor": "129.00", "currency": "NOK" })).is_err());
    // Decimals are strings (rust_decimal `serde-str`), not JSON numbers.
    let mut number_quantity = basket();
    number_quantity["lines"][0]["quantity"] = json!(2);
    assert!(check_raw::<Basket>(&number_quantity).is_err());
    // Tuples are exactly two items: (offer id, stamp count).
    let mut triple = transaction();
    triple["lines"][0]["stamps"] = json!([["s-1", 2, 3]]);
    assert!(check_raw::<Transaction>(&triple).is_err());
}

#[test]
fn the_schemas_name_their_types_and_keep_doc_comments() {
    let (schemas, _) = Schemas::of::<CheckoutRecord>();
    for name in [
        "CheckoutRecord",
        "CheckoutRequest",
        "Member",
        "Offer",
        "Transaction",
        "Money",
        "Currency",
        "TransactionId",
    ] {
        assert!(schemas.components.contains_key(name), "{name} missing from {:?}", schemas.components.keys());
    }
    let money = &schemas.components["Money"];
    assert!(money["description"].as_str().is_some_and(|d| d.contains("minor units")), "{money:#}");
    assert_eq!(schemas.components["TransactionId"]["type"], json!("string"));
    assert_eq!(schemas.components["Currency"]["type"], json!("string"));
}
