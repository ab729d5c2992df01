//! A registration form built from a store's segments, and the validation of what a shopper
//! submits into a [`RegisterMember`] with errors that name the field.
//!
//! ```
//! use loyalty_core::form::{registration_form, parse_registration};
//! use loyalty_core::{Segment, SegmentKind};
//!
//! let segments = vec![Segment::new("7", "Favourite drink", SegmentKind::Text).required(true)];
//! let form = registration_form(&segments);
//! assert_eq!(form.fields.last().unwrap().name, "consent.order_history");
//!
//! let submitted = serde_json::json!({
//!     "phone": "+4741234567", "email": "kari@example.com",
//!     "segment.7": "espresso", "consent.membership": true, "consent.order_history": true
//! });
//! let request = parse_registration(&segments, submitted.as_object().unwrap()).unwrap();
//! assert!(request.consents.allow_sign_up());
//! ```

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::member::{
    Consents, Phone, RegisterMember, Segment, SegmentAnswer, SegmentKind, SegmentOption, SegmentValue,
};

/// What kind of input a field takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    /// Free text.
    Text,
    /// An e-mail address.
    Email,
    /// An international phone number (`+4741234567`).
    Phone,
    /// A date, `YYYY-MM-DD`.
    Date,
    /// One of the options.
    SingleChoice,
    /// Any of the options.
    MultiChoice,
    /// A tick box.
    Checkbox,
}

/// One form field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FormField {
    /// The key the submission uses (`email`, `segment.7`, `consent.membership`).
    pub name: String,
    /// The label to show.
    pub label: String,
    /// Input kind.
    pub kind: FieldKind,
    /// Must be filled (a required checkbox must be ticked).
    pub required: bool,
    /// Options of a choice field.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub options: Vec<SegmentOption>,
}

/// A registration form: profile fields, the store's visible segments, then the consents,
/// with the two a sign-up needs at the bottom.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FormSchema {
    /// Fields in display order.
    pub fields: Vec<FormField>,
}

/// A submitted value that was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldError {
    /// The field's name.
    pub field: String,
    /// Why, readable by the shopper.
    pub reason: String,
}

fn field(name: &str, label: &str, kind: FieldKind, required: bool) -> FormField {
    FormField { name: name.into(), label: label.into(), kind, required, options: Vec::new() }
}

/// Builds the registration form for a store with `segments` (hidden segments are left out).
pub fn registration_form(segments: &[Segment]) -> FormSchema {
    let mut fields = vec![
        field("first_name", "First name", FieldKind::Text, false),
        field("last_name", "Last name", FieldKind::Text, false),
        field("email", "E-mail", FieldKind::Email, true),
        field("phone", "Mobile phone", FieldKind::Phone, true),
        field("birth_date", "Birth date", FieldKind::Date, false),
    ];
    for s in segments.iter().filter(|s| s.visible) {
        let (kind, options) = match &s.kind {
            SegmentKind::Text => (FieldKind::Text, Vec::new()),
            SegmentKind::Date => (FieldKind::Date, Vec::new()),
            SegmentKind::SingleChoice { options } => (FieldKind::SingleChoice, options.clone()),
            SegmentKind::MultiChoice { options } => (FieldKind::MultiChoice, options.clone()),
        };
        fields.push(FormField {
            name: format!("segment.{}", s.id),
            label: s.label.clone(),
            kind,
            required: s.required,
            options,
        });
    }
    fields.extend([
        field("consent.marketing_sms", "Offers by SMS", FieldKind::Checkbox, false),
        field("consent.marketing_email", "Offers by e-mail", FieldKind::Checkbox, false),
        field("consent.membership", "I accept the membership terms", FieldKind::Checkbox, true),
        field("consent.order_history", "Keep my purchase history", FieldKind::Checkbox, false),
    ]);
    FormSchema { fields }
}

fn text<'v>(values: &'v Map<String, Value>, name: &str, errors: &mut Vec<FieldError>) -> Option<&'v str> {
    match values.get(name) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(Value::String(s)) => match crate::member::contact_text_fault(s) {
            None => Some(s.trim()),
            Some(reason) => {
                errors.push(FieldError { field: name.into(), reason });
                None
            }
        },
        Some(_) => {
            errors.push(FieldError { field: name.into(), reason: "must be text".into() });
            None
        }
    }
}

fn tick(values: &Map<String, Value>, name: &str, errors: &mut Vec<FieldError>) -> bool {
    match values.get(name) {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            errors.push(FieldError { field: name.into(), reason: "must be true or false".into() });
            false
        }
    }
}

fn date(value: &str, name: &str, errors: &mut Vec<FieldError>) -> Option<NaiveDate> {
    let parsed = NaiveDate::parse_from_str(value, "%Y-%m-%d").ok();
    if parsed.is_none() {
        errors.push(FieldError { field: name.into(), reason: "must be a date like 1990-05-17".into() });
    }
    parsed
}

/// Validates a submitted form (field name → JSON value) against the store's `segments` and
/// turns it into a registration. Every problem is reported, each naming its field.
///
/// # Errors
/// The refused fields: unknown names, missing required values, malformed e-mail, phone or
/// date, text holding a control character ([`crate::member::contact_text_fault`]), options that
/// are not offered, an unticked membership consent.
pub fn parse_registration(
    segments: &[Segment],
    values: &Map<String, Value>,
) -> Result<RegisterMember, Vec<FieldError>> {
    let schema = registration_form(segments);
    let mut errors = Vec::new();
    for name in values.keys() {
        if !schema.fields.iter().any(|f| &f.name == name) {
            errors.push(FieldError { field: name.clone(), reason: "unknown field".into() });
        }
    }
    let mut req = RegisterMember::new();
    req.first_name = text(values, "first_name", &mut errors).map(str::to_string);
    req.last_name = text(values, "last_name", &mut errors).map(str::to_string);
    match text(values, "email", &mut errors) {
        Some(e) if e.contains('@') && !e.starts_with('@') && !e.ends_with('@') => {
            req.email = Some(e.to_string())
        }
        Some(_) => {
            errors.push(FieldError { field: "email".into(), reason: "is not an e-mail address".into() })
        }
        None if !errors.iter().any(|e| e.field == "email") => {
            errors.push(FieldError { field: "email".into(), reason: "is required".into() })
        }
        None => {}
    }
    match text(values, "phone", &mut errors) {
        Some(p) => match Phone::parse_e164(p) {
            Some(phone) => req.phone = Some(phone),
            None => errors.push(FieldError {
                field: "phone".into(),
                reason: "must be an international number like +4741234567".into(),
            }),
        },
        None if !errors.iter().any(|e| e.field == "phone") => {
            errors.push(FieldError { field: "phone".into(), reason: "is required".into() })
        }
        None => {}
    }
    if let Some(d) = text(values, "birth_date", &mut errors) {
        req.birth_date = date(d, "birth_date", &mut errors);
    }
    for s in segments.iter().filter(|s| s.visible) {
        let name = format!("segment.{}", s.id);
        let value = match (&s.kind, values.get(&name)) {
            (_, None | Some(Value::Null)) => None,
            (SegmentKind::Text, _) => {
                text(values, &name, &mut errors).map(|t| SegmentValue::Text(t.to_string()))
            }
            (SegmentKind::Date, _) => text(values, &name, &mut errors)
                .and_then(|t| date(t, &name, &mut errors))
                .map(SegmentValue::Date),
            (SegmentKind::SingleChoice { options }, Some(v)) => match v.as_str() {
                Some(id) if options.iter().any(|o| o.id == id) => {
                    Some(SegmentValue::Choices(vec![id.to_string()]))
                }
                _ => {
                    errors.push(FieldError {
                        field: name.clone(),
                        reason: "must be one of the options".into(),
                    });
                    None
                }
            },
            (SegmentKind::MultiChoice { options }, Some(v)) => {
                let ids: Option<Vec<String>> =
                    v.as_array().map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect());
                match ids {
                    Some(ids)
                        if ids.iter().all(|id| options.iter().any(|o| &o.id == id))
                            && ids.len() == v.as_array().map_or(0, Vec::len) =>
                    {
                        (!ids.is_empty()).then_some(SegmentValue::Choices(ids))
                    }
                    _ => {
                        errors.push(FieldError {
                            field: name.clone(),
                            reason: "must be a list of the options".into(),
                        });
                        None
                    }
                }
            }
        };
        match value {
            Some(v) => req.segments.push(SegmentAnswer { segment_id: s.id.clone(), value: v }),
            None if s.required && !errors.iter().any(|e| e.field == name) => {
                errors.push(FieldError { field: name, reason: "is required".into() })
            }
            None => {}
        }
    }
    req.consents = Consents {
        membership: tick(values, "consent.membership", &mut errors),
        order_history: tick(values, "consent.order_history", &mut errors),
        marketing_sms: tick(values, "consent.marketing_sms", &mut errors),
        marketing_email: tick(values, "consent.marketing_email", &mut errors),
    };
    if !req.consents.membership {
        errors.push(FieldError {
            field: "consent.membership".into(),
            reason: "the membership terms must be accepted".into(),
        });
    }
    if errors.is_empty() {
        Ok(req)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn segments() -> Vec<Segment> {
        let opts = |xs: &[&str]| {
            xs.iter().map(|x| SegmentOption { id: (*x).into(), label: x.to_uppercase() }).collect()
        };
        vec![
            Segment::new("1", "Drink", SegmentKind::Text),
            Segment::new("2", "Wedding day", SegmentKind::Date),
            Segment::new("3", "Shop", SegmentKind::SingleChoice { options: opts(&["31", "32"]) })
                .required(true),
            Segment::new("4", "Interests", SegmentKind::MultiChoice { options: opts(&["41", "42"]) }),
            Segment::new("5", "Staff", SegmentKind::Text).visible(false),
        ]
    }

    fn valid() -> Value {
        json!({"email": "kari@example.com", "phone": "+4741234567", "segment.3": "31", "segment.4": ["41", "42"],
               "segment.2": "2020-06-01", "consent.membership": true, "consent.order_history": true})
    }

    #[test]
    fn form_lists_visible_segments_and_ends_with_the_two_consents() {
        let form = registration_form(&segments());
        let names: Vec<&str> = form.fields.iter().map(|f| f.name.as_str()).collect();
        assert!(names.contains(&"segment.3") && !names.contains(&"segment.5"));
        assert_eq!(&names[names.len() - 2..], ["consent.membership", "consent.order_history"]);
        let shop = form.fields.iter().find(|f| f.name == "segment.3").unwrap();
        assert_eq!((shop.kind, shop.required, shop.options.len()), (FieldKind::SingleChoice, true, 2));
    }

    #[test]
    fn valid_submission_becomes_a_registration() {
        let req = parse_registration(&segments(), valid().as_object().unwrap()).unwrap();
        assert_eq!(req.phone, Some(Phone::new("+47", "41234567")));
        assert_eq!(req.segments.len(), 3);
        assert!(req.consents.allow_sign_up());
    }

    #[test]
    fn every_bad_field_is_named() {
        let mut v = valid();
        v["email"] = json!("not-an-address");
        v["segment.3"] = json!("99");
        v["segment.2"] = json!("01.06.2020");
        v["consent.membership"] = json!(false);
        v["shoe_size"] = json!(42);
        let errs = parse_registration(&segments(), v.as_object().unwrap()).unwrap_err();
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        for f in ["email", "segment.3", "segment.2", "consent.membership", "shoe_size"] {
            assert!(fields.contains(&f), "{f} not reported in {fields:?}");
        }
    }

    #[test]
    fn a_control_character_in_a_text_field_is_refused_once_naming_it() {
        let mut v = valid();
        v["email"] = json!("a\u{0}@x.no");
        v["first_name"] = json!("Kari\u{1b}[2J");
        let errs = parse_registration(&segments(), v.as_object().unwrap()).unwrap_err();
        let reason = |c: &str| format!("contains the control character {c}; contact details are plain text");
        assert_eq!(
            errs,
            vec![
                FieldError { field: "first_name".into(), reason: reason("U+001B") },
                FieldError { field: "email".into(), reason: reason("U+0000") },
            ]
        );
    }

    #[test]
    fn missing_required_segment_is_reported() {
        let mut v = valid();
        v.as_object_mut().unwrap().remove("segment.3");
        let errs = parse_registration(&segments(), v.as_object().unwrap()).unwrap_err();
        assert_eq!(errs, vec![FieldError { field: "segment.3".into(), reason: "is required".into() }]);
    }
}
