//! The simulator's state: seeded store data plus everything clients change.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde_json::{json, Value};

use super::{demo, settings::DillerSettings};

/// Fixed store facts (`StoreResponse`, §5.3).
#[derive(Clone, Debug)]
pub(crate) struct Store {
    pub id: String,
    pub name: String,
    pub currency: String,
    /// Dialling prefix of the store's country; national-format phones belong here (§4.2).
    pub country_dial: String,
    pub points_enabled: bool,
    pub ratio: Decimal,
}

#[derive(Clone, Debug)]
pub(crate) struct Segment {
    pub id: i64,
    pub text: String,
    pub kind: &'static str,
    pub visible: bool,
    pub required: bool,
    pub options: Vec<(i64, String)>,
}

#[derive(Clone, Debug)]
pub(crate) struct Level {
    pub id: i64,
    pub name: String,
    pub points: i64,
}

#[derive(Clone, Debug)]
pub(crate) struct Coupon {
    pub id: i64,
    pub code: String,
    pub title: String,
    pub description: String,
    pub kind: &'static str,
    pub discount_type: &'static str,
    pub discount_value: Decimal,
    pub max_redemptions: u32,
    pub product_ids: Vec<String>,
    pub valid_from: DateTime<FixedOffset>,
    pub valid_to: DateTime<FixedOffset>,
    /// Set only by the probe's date-only test hook (`add_coupon_ending_on`): such a coupon
    /// answers `valid_to` as a bare date, outside the offset form of §7.2, and stays valid to
    /// the end of that day in the store's time zone. Seeded coupons never set it.
    pub ends_on: Option<NaiveDate>,
    pub required_points: Option<i64>,
    pub membership_level: Option<i64>,
}

#[derive(Clone, Debug)]
pub(crate) struct StampCard {
    pub id: i64,
    pub title: String,
    pub description: String,
    pub restartable: bool,
    pub required_stamps: u32,
    pub last_stamp_text: String,
    pub product_ids: Vec<String>,
    pub card_type: &'static str,
    pub threshold_amount: Option<Decimal>,
    pub valid_from: DateTime<FixedOffset>,
    pub valid_to: DateTime<FixedOffset>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Consent {
    pub gdpr_accepted: bool,
    pub save_order_history: bool,
    pub receive_sms: bool,
    pub receive_email: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Dependent {
    pub id: i64,
    pub name: String,
    pub birthdate: NaiveDate,
    pub gender: &'static str,
}

#[derive(Clone, Debug)]
pub(crate) struct SegmentValue {
    pub id: i64,
    pub value: Option<String>,
    pub selected: Vec<i64>,
}

#[derive(Clone, Debug)]
pub(crate) struct Invitation {
    pub token: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub created_at: String,
    pub accepted: bool,
    pub points: i64,
}

/// The profile fields that register/update write (full replacement on update).
#[derive(Clone, Debug, Default)]
pub(crate) struct Profile {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub additional_identifiers: Vec<String>,
    pub birth_date: Option<String>,
    pub address: Option<Value>,
    pub gender: Option<&'static str>,
    pub consent: Consent,
    pub department_ids: Vec<String>,
    pub segments: Vec<SegmentValue>,
}

#[derive(Clone, Debug)]
pub(crate) struct Member {
    pub id: String,
    pub phone: (String, String),
    pub profile: Profile,
    pub remarks: Option<String>,
    pub points: Decimal,
    pub deleted: bool,
    pub activation_token: Option<String>,
    pub dependents: Vec<Dependent>,
    /// Coupon code → times redeemed.
    pub redeemed: HashMap<String, u32>,
    /// (coupon code, external_transaction_id) reservations.
    pub coupon_reservations: Vec<(String, String)>,
    /// Stamp card id → stamps collected.
    pub stamps: HashMap<i64, u32>,
    /// Non-restartable cards whose reward was taken; they drop out of K2 (§7.3).
    pub finished_cards: HashSet<i64>,
    /// (stamp card id, external_transaction_id) reservations, one per reserved stamp.
    pub stamp_reservations: Vec<(i64, String)>,
    pub login_otp: Option<i64>,
    pub pending_phone: Option<((String, String), i64)>,
    pub invitations: Vec<Invitation>,
}

impl Member {
    pub fn e164(&self) -> String {
        format!("{}{}", self.phone.0, self.phone.1)
    }
}

/// One stamp movement of a transaction, kept so a cancel can reverse it.
#[derive(Clone, Debug)]
pub(crate) struct StampMove {
    pub card: i64,
    pub before: u32,
    pub after: u32,
    pub finished: bool,
}

#[derive(Clone, Debug)]
pub(crate) struct Transaction {
    pub member_id: String,
    pub total: Decimal,
    pub coupons: Vec<String>,
    pub stamps: Vec<StampMove>,
    pub points: Decimal,
    pub cancelled: bool,
    pub refunded: Decimal,
    pub refund_points: Decimal,
    pub refund_ids: Vec<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct NonEligible {
    pub id: i64,
    pub description: Option<String>,
    pub product_id: Option<String>,
    pub product_id_prefix: Option<String>,
    pub product_category_id: Option<i64>,
    pub subsystem: &'static str,
    pub expires_at: Option<NaiveDate>,
}

/// Everything behind the simulator's mutex.
#[derive(Debug)]
pub(crate) struct Inner {
    pub settings: DillerSettings,
    pub store: Store,
    pub departments: Vec<(String, String)>,
    pub segments: Vec<Segment>,
    pub levels: Vec<Level>,
    pub coupons: Vec<Coupon>,
    pub cards: Vec<StampCard>,
    pub members: BTreeMap<String, Member>,
    /// Bookings by T1 `external_id`: one, or several after double bookings
    /// (`duplicate_transaction = accept`).
    pub transactions: HashMap<String, Vec<Transaction>>,
    pub non_eligible: BTreeMap<i64, NonEligible>,
    /// Access token → expiry on the simulator clock.
    pub tokens: HashMap<String, DateTime<Utc>>,
    pub token_requests: usize,
    pub seq: u64,
    pub next_dependent_id: i64,
    pub next_non_eligible_id: i64,
}

const URL_SAFE: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// splitmix64: deterministic, well-spread ids without a random source (tests stay repeatable).
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

impl Inner {
    /// `n` URL-safe characters from the id sequence.
    pub fn next_chars(&mut self, n: usize) -> String {
        self.seq += 1;
        let mut x = mix(self.seq);
        (0..n)
            .map(|i| {
                if i % 10 == 9 {
                    x = mix(x);
                }
                let c = URL_SAFE[(x & 63) as usize];
                x >>= 6;
                c as char
            })
            .collect()
    }

    /// A member id shaped like Diller's (`m_` + 12 URL-safe characters, §1).
    pub fn new_member_id(&mut self) -> String {
        format!("m_{}", self.next_chars(12))
    }

    pub fn coupon(&self, code: &str) -> Option<&Coupon> {
        self.coupons.iter().find(|c| c.code == code)
    }

    pub fn card(&self, id: i64) -> Option<&StampCard> {
        self.cards.iter().find(|c| c.id == id)
    }

    pub fn known_department(&self, id: &str) -> bool {
        self.departments.iter().any(|(d, _)| d == id)
    }

    pub fn member_by_phone(&self, e164: &str) -> Option<&Member> {
        self.members.values().find(|m| !m.deleted && m.e164() == e164)
    }

    /// Whether a product earns loyalty points (not on the non-eligible list, §4.6).
    pub fn product_earns(&self, product_id: &str, today: NaiveDate) -> bool {
        !self.non_eligible.values().any(|n| {
            matches!(n.subsystem, "All" | "Loyalty")
                && n.expires_at.is_none_or(|d| d > today)
                && (n.product_id.as_deref() == Some(product_id)
                    || n.product_id_prefix.as_deref().is_some_and(|p| product_id.starts_with(p)))
        })
    }

    /// The member's tier and the next one (S6 ladder).
    pub fn membership_detail(&self, points: Decimal) -> Value {
        let mut current: Option<&Level> = None;
        let mut next: Option<&Level> = None;
        for l in &self.levels {
            if Decimal::from(l.points) <= points {
                current = Some(l);
            } else if next.is_none() {
                next = Some(l);
            }
        }
        json!({
            "points": num(points),
            "remaining_points": next.map(|n| num(Decimal::from(n.points) - points)).unwrap_or(json!(0.0)),
            "level_title": current.map(|l| l.name.clone()),
            "next_level_title": next.map(|l| l.name.clone()),
            "next_level_points": next.map(|n| num(Decimal::from(n.points))),
            "level_expire_date": Value::Null,
        })
    }

    /// `MemberResponse` (§5.2).
    pub fn member_json(&self, m: &Member) -> Value {
        let segments: Vec<Value> = m
            .profile
            .segments
            .iter()
            .filter_map(|sv| {
                let s = self.segments.iter().find(|s| s.id == sv.id)?;
                Some(json!({
                    "id": s.id, "text": s.text, "type": s.kind,
                    "is_visible_to_follower": s.visible, "is_required": s.required,
                    "value": sv.value, "selected_options": sv.selected,
                }))
            })
            .collect();
        let p = &m.profile;
        json!({
            "id": m.id,
            "first_name": p.first_name,
            "last_name": p.last_name,
            "email": p.email,
            "additional_identifiers": p.additional_identifiers,
            "remarks": m.remarks,
            "phone": {"country_code": m.phone.0, "number": m.phone.1},
            "birth_date": p.birth_date,
            "address": p.address,
            // `gender` is required in MemberResponse; "NotShared" when unknown (§5.2 [I]).
            "gender": p.gender.unwrap_or("NotShared"),
            "consent": {
                "gdpr_accepted": p.consent.gdpr_accepted,
                "save_order_history": p.consent.save_order_history,
                "receive_sms": p.consent.receive_sms,
                "receive_email": p.consent.receive_email,
            },
            "membership_detail": self.membership_detail(m.points),
            "department_ids": p.department_ids,
            "segments": segments,
        })
    }

    pub fn store_json(&self) -> Value {
        let s = &self.store;
        json!({
            "id": s.id,
            "tax_number": "NO987654321MVA",
            "external_id": "ext-demo-client",
            "store_name": s.name,
            "phone": {"country_code": "+47", "number": "22334455"},
            "email": "post@demo-client.example",
            "address": {"street": "Karl Johans gate 1", "city": "Oslo", "zip_code": "0154", "state": null, "country_code": "NO"},
            "currency": s.currency,
            "time_zone": "Europe/Oslo",
            "culture": "nb-NO",
            "stamps_enabled": true,
            "friend_referral_enabled": true,
            "points_system": {
                "enabled": s.points_enabled,
                "friend_referral_points": 50,
                "follower_signup_points": 100,
                "currency_points_ratio": num(s.ratio),
            },
            "member_identifier": {"type": demo::IDENTIFIER_TYPE, "is_unique_per_country": self.settings.unique_identifiers},
            "privacy_policy_url": "https://demo-client.example/privacy",
        })
    }

    pub fn coupon_json(&self, c: &Coupon, times_redeemed: Option<u32>) -> Value {
        let mut v = json!({
            "id": c.id,
            "external_ids": [{"platform": "Magento", "external_id": c.id.to_string()}],
            "code": c.code,
            "title": c.title,
            "description": c.description,
            "article_number": Value::Null,
            "valid_from": c.valid_from.to_rfc3339(),
            "valid_to": match c.ends_on {
                Some(d) => d.format("%Y-%m-%d").to_string(),
                None => c.valid_to.to_rfc3339(),
            },
            "type": c.kind,
            "discount_type": c.discount_type,
            "discount_value": num(c.discount_value),
            "max_redemptions": c.max_redemptions,
            "image_url": Value::Null,
            "product_ids": c.product_ids,
        });
        if let Some(o) = v.as_object_mut() {
            match times_redeemed {
                Some(t) => {
                    o.insert("times_redeemed".into(), json!(t));
                }
                None => {
                    o.insert(
                        "target".into(),
                        json!({
                            "required_points": c.required_points,
                            "membership_level": c.membership_level,
                            "list_id": Value::Null,
                        }),
                    );
                    o.insert("usage_extension_in_days".into(), json!(0));
                }
            }
        }
        v
    }

    pub fn card_json(&self, c: &StampCard, collected: Option<u32>) -> Value {
        let mut v = json!({
            "id": c.id,
            "external_id": format!("sc-{}", c.id),
            "article_number": Value::Null,
            "title": c.title,
            "description": c.description,
            "required_points": 0,
            "is_restartable": c.restartable,
            "required_stamps": c.required_stamps,
            "image_url": Value::Null,
            "last_stamp_text": c.last_stamp_text,
            "product_ids": c.product_ids,
            "card_type": c.card_type,
            "threshold_amount": c.threshold_amount.map(num),
            "valid_from": c.valid_from.to_rfc3339(),
            "valid_to": c.valid_to.to_rfc3339(),
        });
        if let (Some(o), Some(n)) = (v.as_object_mut(), collected) {
            o.insert("stamps_collected".into(), json!(n));
        }
        v
    }

    pub fn non_eligible_json(n: &NonEligible) -> Value {
        json!({
            "id": n.id,
            "description": n.description,
            "product_id": n.product_id,
            "product_id_prefix": n.product_id_prefix,
            "product_category_id": n.product_category_id,
            "subsystem": n.subsystem,
            "expires_at": n.expires_at.map(|d| d.format("%Y-%m-%d").to_string()),
        })
    }
}

/// A decimal as a JSON number (major units on the wire, §6.4). Output only, never arithmetic.
pub(crate) fn num(d: Decimal) -> Value {
    let s = d.normalize().to_string();
    let s = if s.contains('.') { s } else { format!("{s}.0") };
    serde_json::from_str::<Value>(&s).unwrap_or(Value::Null)
}

fn at(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).unwrap_or_default()
}

/// The seeded demo store (values listed in [`demo`]).
pub(crate) fn seed(settings: DillerSettings) -> Inner {
    let forever = "2100-01-01T00:00:00+01:00";
    let coupon = |id,
                  code: &str,
                  title: &str,
                  kind,
                  dt,
                  value: Decimal,
                  max,
                  products: &[&str],
                  from: &str,
                  to: &str| Coupon {
        id,
        code: code.to_string(),
        title: title.to_string(),
        description: format!("{title} (demo)"),
        kind,
        discount_type: dt,
        discount_value: value,
        max_redemptions: max,
        product_ids: products.iter().map(|s| s.to_string()).collect(),
        valid_from: at(from),
        valid_to: at(to),
        ends_on: None,
        required_points: None,
        membership_level: None,
    };
    let mut gold = coupon(
        demo::COUPON_GOLD100_ID,
        demo::COUPON_GOLD100,
        "100 kr off for Gold members",
        "Standard",
        "Fixed",
        Decimal::new(100, 0),
        1,
        &[],
        "2025-01-01T00:00:00+01:00",
        forever,
    );
    gold.required_points = Some(1000);
    gold.membership_level = Some(demo::LEVEL_GOLD_ID);
    let coupons = vec![
        coupon(
            demo::COUPON_SUMMER10_ID,
            demo::COUPON_SUMMER10,
            "10 % off everything",
            "Standard",
            "Percentage",
            Decimal::new(10, 0),
            1,
            &[],
            "2025-06-01T00:00:00+02:00",
            forever,
        ),
        coupon(
            demo::COUPON_COFFEE20_ID,
            demo::COUPON_COFFEE20,
            "20 % off coffee",
            "Campaign",
            "Percentage",
            Decimal::new(20, 0),
            3,
            &[demo::PRODUCT_COFFEE],
            "2025-09-01T00:00:00+02:00",
            "2026-12-31T23:59:59+01:00",
        ),
        coupon(
            demo::COUPON_FIXED50_ID,
            demo::COUPON_FIXED50,
            "50 kr off",
            "Welcome",
            "Fixed",
            Decimal::new(50, 0),
            1,
            &[],
            "2025-01-01T00:00:00+01:00",
            forever,
        ),
        coupon(
            demo::COUPON_EXPIRED_ID,
            demo::COUPON_EXPIRED,
            "Winter sale 15 %",
            "Campaign",
            "Percentage",
            Decimal::new(15, 0),
            1,
            &[],
            "2025-01-01T00:00:00+01:00",
            "2025-03-01T00:00:00+01:00",
        ),
        gold,
    ];
    let cards = vec![
        StampCard {
            id: demo::STAMP_CARD_COFFEE,
            title: "Coffee card".into(),
            description: "Buy 6 coffees, get one free".into(),
            restartable: true,
            required_stamps: 6,
            last_stamp_text: "Free coffee".into(),
            product_ids: vec![demo::PRODUCT_COFFEE.into()],
            card_type: "standard",
            threshold_amount: None,
            valid_from: at("2025-01-01T00:00:00+01:00"),
            valid_to: at(forever),
        },
        StampCard {
            id: demo::STAMP_CARD_LAUNCH,
            title: "Tea launch card".into(),
            description: "Buy 4 teas once, get a mug".into(),
            restartable: false,
            required_stamps: 4,
            last_stamp_text: "Free mug".into(),
            product_ids: vec![demo::PRODUCT_TEA.into()],
            card_type: "standard",
            threshold_amount: None,
            valid_from: at("2025-01-01T00:00:00+01:00"),
            valid_to: at(forever),
        },
    ];
    let seg = |id, text: &str, kind, options: &[(i64, &str)]| Segment {
        id,
        text: text.to_string(),
        kind,
        visible: true,
        required: false,
        options: options.iter().map(|(i, t)| (*i, t.to_string())).collect(),
    };
    let segments = vec![
        seg(demo::SEGMENT_TEXT, "Favourite drink", "Text", &[]),
        seg(demo::SEGMENT_DATETIME, "Wedding day", "DateTime", &[]),
        seg(demo::SEGMENT_RADIO, "Preferred shop", "Radio", &[(31, "Oslo"), (32, "Bergen")]),
        seg(demo::SEGMENT_CHECKBOX, "Interests", "Checkbox", &[(41, "Coffee"), (42, "Tea"), (43, "Pastry")]),
        seg(demo::SEGMENT_DROPDOWN, "Shirt size", "Dropdown", &[(51, "S"), (52, "M"), (53, "L")]),
    ];
    let mut members = BTreeMap::new();
    members.insert(
        demo::MEMBER_ID.to_string(),
        Member {
            id: demo::MEMBER_ID.into(),
            phone: ("+47".into(), "41234567".into()),
            profile: Profile {
                first_name: Some("Kari".into()),
                last_name: Some("Nordmann".into()),
                email: Some(demo::MEMBER_EMAIL.into()),
                additional_identifiers: vec![demo::MEMBER_IDENTIFIER.into()],
                birth_date: Some("1990-05-17T00:00:00+00:00".into()),
                address: Some(json!({"street": "Storgata 5", "city": "Oslo", "zip_code": "0155", "state": null, "country_code": "NO"})),
                gender: Some("Female"),
                consent: Consent { gdpr_accepted: true, save_order_history: true, receive_sms: true, receive_email: true },
                department_ids: vec![demo::DEPARTMENT_ID.into()],
                segments: vec![SegmentValue { id: demo::SEGMENT_CHECKBOX, value: None, selected: vec![41] }],
            },
            remarks: None,
            points: Decimal::new(250, 0),
            deleted: false,
            activation_token: None,
            dependents: vec![Dependent {
                id: 1,
                name: "Ola".into(),
                birthdate: NaiveDate::from_ymd_opt(2018, 4, 1).unwrap_or_default(),
                gender: "Male",
            }],
            redeemed: HashMap::new(),
            coupon_reservations: Vec::new(),
            stamps: HashMap::new(),
            finished_cards: HashSet::new(),
            stamp_reservations: Vec::new(),
            login_otp: None,
            pending_phone: None,
            invitations: vec![Invitation {
                token: demo::INVITATION_TOKEN.into(),
                first_name: "Per".into(),
                last_name: "Hansen".into(),
                email: "per.hansen@example.com".into(),
                created_at: "2025-11-01T10:00:00+01:00".into(),
                accepted: true,
                points: 50,
            }],
        },
    );
    let mut non_eligible = BTreeMap::new();
    non_eligible.insert(
        1,
        NonEligible {
            id: 1,
            description: Some("Gift cards".into()),
            product_id: Some(demo::PRODUCT_GIFT_CARD.into()),
            product_id_prefix: None,
            product_category_id: None,
            subsystem: "All",
            expires_at: None,
        },
    );
    Inner {
        settings,
        store: Store {
            id: demo::STORE_ID.into(),
            name: "Demo Kaffebar".into(),
            currency: "NOK".into(),
            country_dial: "+47".into(),
            points_enabled: true,
            ratio: Decimal::new(1, 0),
        },
        departments: vec![
            (demo::DEPARTMENT_ID.into(), "Web shop".into()),
            (demo::DEPARTMENT_POS.into(), "Register 1".into()),
        ],
        segments,
        levels: vec![
            Level { id: demo::LEVEL_BASIC_ID, name: "Member".into(), points: 0 },
            Level { id: demo::LEVEL_GOLD_ID, name: "Gold".into(), points: 1000 },
        ],
        coupons,
        cards,
        members,
        transactions: HashMap::new(),
        non_eligible,
        tokens: HashMap::new(),
        token_requests: 0,
        seq: 0,
        next_dependent_id: 2,
        next_non_eligible_id: 2,
    }
}
