//! The segment-driven registration form (issue: Diller adapter, item 3): from the store's
//! segments, a form schema with field kinds, options, required flags and the two consents at
//! the bottom; a submitted form becomes a register request, or field-named errors.

mod common;

use loyalty_core::form::{parse_registration, registration_form, FieldKind};
use loyalty_core::{Context, MemberLookup, Provider, SegmentValue};
use loyalty_sim::diller::demo;
use serde_json::json;

fn kind_of(form: &loyalty_core::form::FormSchema, name: &str) -> FieldKind {
    form.fields.iter().find(|f| f.name == name).unwrap_or_else(|| panic!("{name} not in the form")).kind
}

#[tokio::test]
async fn form_from_store_segments_has_every_kind_and_the_consents_last() {
    let env = common::start().await;
    let segments = env.adapter.members().unwrap().segments(&Context::new()).await.unwrap();
    let form = registration_form(&segments);
    // The demo store's five segments: Text, DateTime, Radio, Checkbox, Dropdown (ids 1-5).
    assert_eq!(kind_of(&form, "segment.1"), FieldKind::Text);
    assert_eq!(kind_of(&form, "segment.2"), FieldKind::Date);
    assert_eq!(kind_of(&form, "segment.3"), FieldKind::SingleChoice);
    assert_eq!(kind_of(&form, "segment.4"), FieldKind::MultiChoice);
    assert_eq!(kind_of(&form, "segment.5"), FieldKind::SingleChoice);
    let radio = form.fields.iter().find(|f| f.name == "segment.3").unwrap();
    let ids: Vec<&str> = radio.options.iter().map(|o| o.id.as_str()).collect();
    assert_eq!(ids, ["31", "32"]);
    let names: Vec<&str> = form.fields.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(&names[names.len() - 2..], ["consent.membership", "consent.order_history"]);
    // The schema is JSON a web page can render.
    let schema = serde_json::to_value(&form).unwrap();
    assert_eq!(schema["fields"][names.len() - 2]["kind"], "checkbox");
    assert_eq!(schema["fields"][names.len() - 2]["required"], true);
}

#[tokio::test]
async fn submitted_form_registers_a_member_with_segment_answers() {
    let env = common::start().await;
    let members = env.adapter.members().unwrap();
    let segments = members.segments(&Context::new()).await.unwrap();
    let submitted = json!({
        "first_name": "Ola", "last_name": "Nordmann",
        "email": "ola.form@example.com", "phone": "+4790011223",
        "segment.1": "Espresso", "segment.2": "2019-08-24", "segment.3": "32",
        "segment.4": ["41", "43"], "segment.5": "52",
        "consent.membership": true, "consent.order_history": true, "consent.marketing_email": true
    });
    let request = parse_registration(&segments, submitted.as_object().unwrap()).expect("valid form");
    let member = members.register(&Context::new(), &request).await.unwrap();
    assert!(member.consents.membership && member.consents.order_history && member.consents.marketing_email);
    let found = members
        .find(&Context::new(), &MemberLookup::Email("ola.form@example.com".into()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, member.id);
    let answer =
        |id: &str| found.segments.iter().find(|a| a.segment_id.as_str() == id).map(|a| a.value.clone());
    assert_eq!(answer("1"), Some(SegmentValue::Text("Espresso".into())));
    assert_eq!(answer("3"), Some(SegmentValue::Choices(vec!["32".into()])));
    assert_eq!(answer("4"), Some(SegmentValue::Choices(vec!["41".into(), "43".into()])));
    // The simulator stored the answers as Diller's `selected_options`.
    let body = env
        .journal()
        .entries()
        .into_iter()
        .find(|e| e.method == "POST" && e.path == format!("/api/v2.0/stores/{}/members", demo::STORE_ID))
        .expect("register request sent")
        .body;
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(body["segments"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["segment_id"] == 4 && s["selected_options"] == json!([41, 43])));
}

#[tokio::test]
async fn bad_form_names_each_field() {
    let env = common::start().await;
    let segments = env.adapter.members().unwrap().segments(&Context::new()).await.unwrap();
    let submitted = json!({
        "email": "ola@", "phone": "41234567", "segment.3": "99", "segment.2": "24.08.2019",
        "consent.membership": false
    });
    let errors = parse_registration(&segments, submitted.as_object().unwrap()).unwrap_err();
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    for f in ["email", "phone", "segment.3", "segment.2", "consent.membership"] {
        assert!(fields.contains(&f), "{f} missing in {errors:?}");
    }
}
