//! Members, consents, segments and member lookups.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::ids::{DepartmentId, MemberId, SegmentId};

/// A phone number split the way loyalty vendors store it.
///
/// Written as `{"country_code": "+47", "number": "41234567"}`; read from that or from one
/// international number, `"+4741234567"` (what a web form or a PHP client has at hand).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Phone {
    /// Dialling prefix with the plus sign, e.g. `"+47"`.
    pub country_code: String,
    /// National significant number, digits only, e.g. `"41234567"`.
    pub number: String,
}

impl<'de> Deserialize<'de> for Phone {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Phone, D::Error> {
        use serde::de::{self, MapAccess, Visitor};

        // Strict even where serde reads this from buffered content (a `value` written before
        // its `kind` in a lookup), where a skipped field could not be seen from outside.
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Parts {
            #[serde(deserialize_with = "contact_str")]
            country_code: String,
            #[serde(deserialize_with = "contact_str")]
            number: String,
        }

        struct PhoneVisitor;

        impl<'de> Visitor<'de> for PhoneVisitor {
            type Value = Phone;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an international number like \"+4741234567\", or {country_code, number}")
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<Phone, E> {
                Phone::parse_e164(text).ok_or_else(|| E::invalid_value(de::Unexpected::Str(text), &self))
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Phone, A::Error> {
                let parts = Parts::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(Phone { country_code: parts.country_code, number: parts.number })
            }
        }

        deserializer.deserialize_any(PhoneVisitor)
    }
}

impl Phone {
    /// Makes a phone from a dialling prefix (with or without `+`) and a national number; spaces
    /// and dashes in the number are dropped.
    pub fn new(country_code: impl AsRef<str>, number: impl AsRef<str>) -> Phone {
        let cc = country_code.as_ref().trim().trim_start_matches('+');
        Phone {
            country_code: format!("+{cc}"),
            number: number.as_ref().chars().filter(|c| c.is_ascii_digit()).collect(),
        }
    }

    /// Splits an E.164 number (`"+4741234567"`, or `"004741234567"`) into dialling prefix and
    /// national number, using the ITU zone structure (1 and 7 are one digit; the listed codes
    /// two; every other code three). `None` when it is not an international number.
    pub fn parse_e164(text: &str) -> Option<Phone> {
        let t: String = text.chars().filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '.')).collect();
        let digits = t.strip_prefix('+').or_else(|| t.strip_prefix("00"))?;
        if !digits.chars().all(|c| c.is_ascii_digit()) || digits.len() < 8 || digits.len() > 15 {
            return None;
        }
        const TWO: &[&str] = &[
            "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45", "46", "47",
            "48", "49", "51", "52", "53", "54", "55", "56", "57", "58", "60", "61", "62", "63", "64", "65",
            "66", "81", "82", "84", "86", "90", "91", "92", "93", "94", "95", "98",
        ];
        let cc_len = if digits.starts_with('1') || digits.starts_with('7') {
            1
        } else if TWO.contains(&&digits[..2]) {
            2
        } else {
            3
        };
        let phone = Phone::new(&digits[..cc_len], &digits[cc_len..]);
        phone.is_well_formed().then_some(phone)
    }

    /// The number in E.164 form, e.g. `"+4741234567"`.
    pub fn e164(&self) -> String {
        format!("{}{}", self.country_code, self.number)
    }

    /// True when both parts hold digits only (after the prefix's `+`).
    pub fn is_well_formed(&self) -> bool {
        let cc = self.country_code.strip_prefix('+').unwrap_or("");
        !cc.is_empty()
            && cc.len() <= 3
            && cc.chars().all(|c| c.is_ascii_digit())
            && (4..=14).contains(&self.number.len())
            && self.number.chars().all(|c| c.is_ascii_digit())
    }
}

/// Why `text`, a contact detail (an e-mail address, a name, a line of a postal address, a
/// phone's parts), cannot be sent to a vendor: it holds a control character (a NUL, a terminal
/// escape, a line break, U+0080 to U+009F), a Unicode line or paragraph separator (U+2028,
/// U+2029: line breaks too, to anything that shows or splits text by Unicode's rules), or a
/// bidirectional override or isolate (U+202A to U+202E, U+2066 to U+2069: they make text show
/// in another order than it is stored, so a receipt or an admin page shows a name other than
/// the one registered). No contact detail has these, and vendors store, truncate or refuse them
/// each in their own way. `None` for plain text.
///
/// Registrations, enrolments and member updates read from JSON refuse such a field while they
/// are read (the error names it: `email`, `address.street`, `phone.number`), as does
/// [`crate::form::parse_registration`]; a caller building a request in code checks its input
/// with this.
///
/// ```
/// use loyalty_core::member::contact_text_fault;
///
/// assert_eq!(contact_text_fault("Kari Nordmann"), None);
/// assert_eq!(
///     contact_text_fault("a\u{0}@x.no").as_deref(),
///     Some("contains the control character U+0000; contact details are plain text")
/// );
/// assert_eq!(
///     contact_text_fault("Kari\u{2028}Nordmann").as_deref(),
///     Some("contains the line separator U+2028; contact details are plain text")
/// );
/// ```
pub fn contact_text_fault(text: &str) -> Option<String> {
    text.chars().find_map(|c| {
        let what = match c {
            c if c.is_control() => "the control character",
            '\u{2028}' => "the line separator",
            '\u{2029}' => "the paragraph separator",
            '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => "the bidirectional formatting character",
            _ => return None,
        };
        Some(format!("contains {what} U+{:04X}; contact details are plain text", u32::from(c)))
    })
}

/// The first contact field of a request that [`contact_text_fault`] refuses, as
/// `(field, reason)`: what a request built in code (not read from JSON, where the field is
/// refused as it is read) is checked by before any provider sees it ([`crate::Checked`]).
pub(crate) fn contact_fault(
    phone: Option<&Phone>,
    names: [(&str, Option<&str>); 3],
    address: Option<&Address>,
) -> Option<(String, String)> {
    let mut fields: Vec<(&str, Option<&str>)> = Vec::with_capacity(9);
    if let Some(p) = phone {
        fields.push(("phone.country_code", Some(p.country_code.as_str())));
        fields.push(("phone.number", Some(p.number.as_str())));
    }
    fields.extend(names);
    if let Some(a) = address {
        fields.push(("address.street", a.street.as_deref()));
        fields.push(("address.city", a.city.as_deref()));
        fields.push(("address.zip_code", a.zip_code.as_deref()));
        fields.push(("address.state", a.state.as_deref()));
        fields.push(("address.country_code", a.country_code.as_deref()));
    }
    fields
        .into_iter()
        .find_map(|(field, text)| text.and_then(contact_text_fault).map(|reason| (field.to_string(), reason)))
}

impl RegisterMember {
    /// The first contact field with a control character, as `(field, reason)`.
    pub(crate) fn contact_fault(&self) -> Option<(String, String)> {
        contact_fault(
            self.phone.as_ref(),
            [
                ("email", self.email.as_deref()),
                ("first_name", self.first_name.as_deref()),
                ("last_name", self.last_name.as_deref()),
            ],
            self.address.as_ref(),
        )
    }
}

impl EnrollMember {
    /// The first contact field with a control character, as `(field, reason)`.
    pub(crate) fn contact_fault(&self) -> Option<(String, String)> {
        contact_fault(
            Some(&self.phone),
            [
                ("email", self.email.as_deref()),
                ("first_name", self.first_name.as_deref()),
                ("last_name", self.last_name.as_deref()),
            ],
            None,
        )
    }
}

impl MemberUpdate {
    /// The first contact field with a control character, as `(field, reason)`.
    pub(crate) fn contact_fault(&self) -> Option<(String, String)> {
        contact_fault(
            None,
            [
                ("email", self.email.as_deref()),
                ("first_name", self.first_name.as_deref()),
                ("last_name", self.last_name.as_deref()),
            ],
            self.address.as_ref(),
        )
    }
}

fn contact_str<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    let text = String::deserialize(deserializer)?;
    match contact_text_fault(&text) {
        Some(reason) => Err(serde::de::Error::custom(reason)),
        None => Ok(text),
    }
}

fn contact<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    struct Text(#[serde(deserialize_with = "contact_str")] String);
    Ok(Option::<Text>::deserialize(deserializer)?.map(|t| t.0))
}

/// An address in a request: each line checked by [`contact_text_fault`] as it is read, so the
/// error names the line (`address.city`). A [`Member`]'s address, read back from a vendor, is
/// taken as it is.
fn contact_address<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<Address>, D::Error> {
    #[derive(Deserialize)]
    struct Lines {
        #[serde(default, deserialize_with = "contact")]
        street: Option<String>,
        #[serde(default, deserialize_with = "contact")]
        city: Option<String>,
        #[serde(default, deserialize_with = "contact")]
        zip_code: Option<String>,
        #[serde(default, deserialize_with = "contact")]
        state: Option<String>,
        #[serde(default, deserialize_with = "contact")]
        country_code: Option<String>,
    }
    Ok(Option::<Lines>::deserialize(deserializer)?.map(|l| Address {
        street: l.street,
        city: l.city,
        zip_code: l.zip_code,
        state: l.state,
        country_code: l.country_code,
    }))
}

/// A postal address.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Address {
    /// Street and house number.
    pub street: Option<String>,
    /// City.
    pub city: Option<String>,
    /// Postal code.
    pub zip_code: Option<String>,
    /// State or region.
    pub state: Option<String>,
    /// ISO 3166-1 alpha-2 country code, e.g. `"NO"`.
    pub country_code: Option<String>,
}

/// Gender as loyalty vendors record it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Gender {
    /// Male.
    Male,
    /// Female.
    Female,
    /// Non-binary.
    NonBinary,
    /// Not shared by the member.
    NotShared,
}

/// The four consents a loyalty member gives.
///
/// A guest checkout needs the first two to sign up a member: `membership` (the programme's terms,
/// GDPR) and `order_history` (purchase history may be kept).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Consents {
    /// The membership (GDPR) terms are accepted.
    pub membership: bool,
    /// Purchase history may be stored.
    pub order_history: bool,
    /// Marketing by SMS is allowed.
    pub marketing_sms: bool,
    /// Marketing by e-mail is allowed.
    pub marketing_email: bool,
}

impl Consents {
    /// True when the two consents a guest sign-up needs are both given.
    pub fn allow_sign_up(&self) -> bool {
        self.membership && self.order_history
    }
}

/// How a member is looked up.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum MemberLookup {
    /// By phone number.
    Phone(Phone),
    /// By e-mail address.
    Email(String),
    /// By national identity number (SSN).
    NationalId(String),
    /// By driver's licence number.
    DriversLicense(String),
    /// By the integrator's own customer id or a card number.
    ExternalId(String),
    /// By the provider's member id.
    ProviderId(MemberId),
    /// By a pending sign-up's activation token.
    ActivationToken(String),
}

impl MemberLookup {
    /// The kind of this lookup, as capabilities name it.
    pub fn kind(&self) -> LookupKind {
        match self {
            MemberLookup::Phone(_) => LookupKind::Phone,
            MemberLookup::Email(_) => LookupKind::Email,
            MemberLookup::NationalId(_) => LookupKind::NationalId,
            MemberLookup::DriversLicense(_) => LookupKind::DriversLicense,
            MemberLookup::ExternalId(_) => LookupKind::ExternalId,
            MemberLookup::ProviderId(_) => LookupKind::ProviderId,
            MemberLookup::ActivationToken(_) => LookupKind::ActivationToken,
        }
    }
}

/// The kinds of member lookup a provider may support.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum LookupKind {
    /// [`MemberLookup::Phone`].
    Phone,
    /// [`MemberLookup::Email`].
    Email,
    /// [`MemberLookup::NationalId`].
    NationalId,
    /// [`MemberLookup::DriversLicense`].
    DriversLicense,
    /// [`MemberLookup::ExternalId`].
    ExternalId,
    /// [`MemberLookup::ProviderId`].
    ProviderId,
    /// [`MemberLookup::ActivationToken`].
    ActivationToken,
}

impl LookupKind {
    /// Every lookup kind, in declaration order.
    pub const ALL: [LookupKind; 7] = [
        LookupKind::Phone,
        LookupKind::Email,
        LookupKind::NationalId,
        LookupKind::DriversLicense,
        LookupKind::ExternalId,
        LookupKind::ProviderId,
        LookupKind::ActivationToken,
    ];

    /// The kind as capabilities and errors name it (`"phone"`, `"external_id"`).
    pub fn label(&self) -> &'static str {
        match self {
            LookupKind::Phone => "phone",
            LookupKind::Email => "email",
            LookupKind::NationalId => "national_id",
            LookupKind::DriversLicense => "drivers_license",
            LookupKind::ExternalId => "external_id",
            LookupKind::ProviderId => "provider_id",
            LookupKind::ActivationToken => "activation_token",
        }
    }
}

/// One selectable option of a choice segment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SegmentOption {
    /// The option id.
    pub id: String,
    /// What the member sees.
    pub label: String,
}

/// What kind of answer a segment takes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SegmentKind {
    /// Free text.
    Text,
    /// A calendar date.
    Date,
    /// Exactly one of the options (radio buttons, drop-down).
    SingleChoice {
        /// The options.
        options: Vec<SegmentOption>,
    },
    /// Any number of the options (check boxes).
    MultiChoice {
        /// The options.
        options: Vec<SegmentOption>,
    },
}

/// A custom member field a store defines ("How did you hear about us?").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[non_exhaustive]
pub struct Segment {
    /// The segment id.
    pub id: SegmentId,
    /// The question or label.
    pub label: String,
    /// The kind of answer, with options for choices.
    pub kind: SegmentKind,
    /// The member must answer it.
    pub required: bool,
    /// Shown to members (hidden segments are for staff only).
    pub visible: bool,
}

impl Segment {
    /// Makes a visible, optional segment.
    pub fn new(id: impl Into<SegmentId>, label: impl Into<String>, kind: SegmentKind) -> Segment {
        Segment { id: id.into(), label: label.into(), kind, required: false, visible: true }
    }

    /// Marks the segment required.
    pub fn required(mut self, required: bool) -> Segment {
        self.required = required;
        self
    }

    /// Marks the segment visible or hidden.
    pub fn visible(mut self, visible: bool) -> Segment {
        self.visible = visible;
        self
    }
}

/// A member's answer to one segment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SegmentAnswer {
    /// The segment answered.
    pub segment_id: SegmentId,
    /// The answer.
    pub value: SegmentValue,
}

/// The value of a segment answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum SegmentValue {
    /// Free text.
    Text(String),
    /// A date.
    Date(NaiveDate),
    /// The chosen option ids (one for a single choice).
    Choices(Vec<String>),
}

/// A loyalty member as the provider knows them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[non_exhaustive]
pub struct Member {
    /// The provider's id.
    pub id: MemberId,
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
    /// E-mail address.
    pub email: Option<String>,
    /// Phone number.
    pub phone: Option<Phone>,
    /// Birth date.
    pub birth_date: Option<NaiveDate>,
    /// Postal address.
    pub address: Option<Address>,
    /// Gender, when shared.
    pub gender: Option<Gender>,
    /// The member's consents.
    pub consents: Consents,
    /// Answers to the store's segments.
    pub segments: Vec<SegmentAnswer>,
    /// Extra identifiers (national id, licence, card number) the provider keeps.
    pub identifiers: Vec<String>,
    /// Departments the member belongs to.
    pub departments: Vec<DepartmentId>,
    /// Points balance, when the provider has points.
    pub points: Option<Decimal>,
    /// Tier or membership level name.
    pub tier: Option<String>,
    /// Provider-specific values kept as opaque key/values.
    pub extras: BTreeMap<String, String>,
}

impl Member {
    /// A member with only an id; fill the public fields as needed.
    pub fn new(id: impl Into<MemberId>) -> Member {
        Member {
            id: id.into(),
            first_name: None,
            last_name: None,
            email: None,
            phone: None,
            birth_date: None,
            address: None,
            gender: None,
            consents: Consents::default(),
            segments: Vec::new(),
            identifiers: Vec::new(),
            departments: Vec::new(),
            points: None,
            tier: None,
            extras: BTreeMap::new(),
        }
    }

    /// True when the member accepted the membership terms (an enrolled but not yet activated
    /// member has not).
    pub fn is_active(&self) -> bool {
        self.consents.membership
    }
}

/// A member profile sent to the provider on registration (the web-shop path: the integrator
/// collects the profile and the consents).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[non_exhaustive]
pub struct RegisterMember {
    /// Phone number (some vendors require it).
    pub phone: Option<Phone>,
    /// E-mail address.
    #[serde(default, deserialize_with = "contact")]
    pub email: Option<String>,
    /// Given name.
    #[serde(default, deserialize_with = "contact")]
    pub first_name: Option<String>,
    /// Family name.
    #[serde(default, deserialize_with = "contact")]
    pub last_name: Option<String>,
    /// Birth date.
    pub birth_date: Option<NaiveDate>,
    /// Gender.
    pub gender: Option<Gender>,
    /// Postal address.
    #[serde(default, deserialize_with = "contact_address")]
    pub address: Option<Address>,
    /// Consents given by the person signing up.
    pub consents: Consents,
    /// Segment answers.
    pub segments: Vec<SegmentAnswer>,
    /// Extra identifiers (national id, licence, card number).
    pub identifiers: Vec<String>,
    /// The integrator's own customer id.
    pub external_id: Option<String>,
    /// Department the member signs up at.
    pub department: Option<DepartmentId>,
}

impl RegisterMember {
    /// An empty registration; set the fields the provider needs.
    pub fn new() -> RegisterMember {
        RegisterMember::default()
    }

    /// The lookups that find a member this registration would make again: by its phone, then
    /// its e-mail, each only where `caps` declares that lookup. Looked up before registering
    /// again after an attempt whose answer was lost, so a retry finds the member it created.
    pub fn lookups(&self, caps: &crate::capabilities::Capabilities) -> Vec<MemberLookup> {
        [self.phone.clone().map(MemberLookup::Phone), self.email.clone().map(MemberLookup::Email)]
            .into_iter()
            .flatten()
            .filter(|l| caps.supports_lookup(l.kind()))
            .collect()
    }

    /// Sets the phone.
    pub fn with_phone(mut self, phone: Phone) -> Self {
        self.phone = Some(phone);
        self
    }

    /// Sets the e-mail address.
    pub fn with_email(mut self, email: impl Into<String>) -> Self {
        self.email = Some(email.into());
        self
    }

    /// Sets given and family name.
    pub fn with_name(mut self, first: impl Into<String>, last: impl Into<String>) -> Self {
        self.first_name = Some(first.into());
        self.last_name = Some(last.into());
        self
    }

    /// Sets the consents.
    pub fn with_consents(mut self, consents: Consents) -> Self {
        self.consents = consents;
        self
    }

    /// Adds a segment answer.
    pub fn with_segment(mut self, answer: SegmentAnswer) -> Self {
        self.segments.push(answer);
        self
    }

    /// Sets the department.
    pub fn with_department(mut self, department: impl Into<DepartmentId>) -> Self {
        self.department = Some(department.into());
        self
    }

    /// Sets the integrator's customer id.
    pub fn with_external_id(mut self, id: impl Into<String>) -> Self {
        self.external_id = Some(id.into());
        self
    }
}

/// A phone-first sign-up at a till (the POS path): the member completes the profile and the
/// consents themselves through an activation message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[non_exhaustive]
pub struct EnrollMember {
    /// Phone number the activation link goes to.
    pub phone: Phone,
    /// Department (till, store) enrolling the member.
    pub department: Option<DepartmentId>,
    /// Given name, when the cashier asked.
    #[serde(default, deserialize_with = "contact")]
    pub first_name: Option<String>,
    /// Family name, when the cashier asked.
    #[serde(default, deserialize_with = "contact")]
    pub last_name: Option<String>,
    /// E-mail, when the cashier asked.
    #[serde(default, deserialize_with = "contact")]
    pub email: Option<String>,
}

impl EnrollMember {
    /// Enrolment by phone.
    pub fn new(phone: Phone) -> EnrollMember {
        EnrollMember { phone, department: None, first_name: None, last_name: None, email: None }
    }

    /// Sets the department.
    pub fn with_department(mut self, department: impl Into<DepartmentId>) -> Self {
        self.department = Some(department.into());
        self
    }
}

/// Changes to a member's profile. `None` leaves a field as it is; adapters for vendors whose
/// update is a full replacement read the member first and merge.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[non_exhaustive]
pub struct MemberUpdate {
    /// New given name.
    #[serde(default, deserialize_with = "contact")]
    pub first_name: Option<String>,
    /// New family name.
    #[serde(default, deserialize_with = "contact")]
    pub last_name: Option<String>,
    /// New e-mail address.
    #[serde(default, deserialize_with = "contact")]
    pub email: Option<String>,
    /// New birth date.
    pub birth_date: Option<NaiveDate>,
    /// New gender.
    pub gender: Option<Gender>,
    /// New address.
    #[serde(default, deserialize_with = "contact_address")]
    pub address: Option<Address>,
    /// New consents (all four replaced together).
    pub consents: Option<Consents>,
    /// Segment answers to set (answers to other segments are kept).
    pub segments: Vec<SegmentAnswer>,
}

impl MemberUpdate {
    /// An update that changes nothing yet.
    pub fn new() -> MemberUpdate {
        MemberUpdate::default()
    }

    /// Sets the e-mail address.
    pub fn with_email(mut self, email: impl Into<String>) -> Self {
        self.email = Some(email.into());
        self
    }

    /// Sets given and family name.
    pub fn with_name(mut self, first: impl Into<String>, last: impl Into<String>) -> Self {
        self.first_name = Some(first.into());
        self.last_name = Some(last.into());
        self
    }

    /// Replaces the consents.
    pub fn with_consents(mut self, consents: Consents) -> Self {
        self.consents = Some(consents);
        self
    }

    /// Sets a segment answer.
    pub fn with_segment(mut self, answer: SegmentAnswer) -> Self {
        self.segments.push(answer);
        self
    }

    /// Applies this update to `member` (the merge full-replacement adapters need).
    pub fn apply_to(&self, member: &mut Member) {
        if let Some(v) = &self.first_name {
            member.first_name = Some(v.clone());
        }
        if let Some(v) = &self.last_name {
            member.last_name = Some(v.clone());
        }
        if let Some(v) = &self.email {
            member.email = Some(v.clone());
        }
        if let Some(v) = self.birth_date {
            member.birth_date = Some(v);
        }
        if let Some(v) = self.gender {
            member.gender = Some(v);
        }
        if let Some(v) = &self.address {
            member.address = Some(v.clone());
        }
        if let Some(v) = self.consents {
            member.consents = v;
        }
        for answer in &self.segments {
            member.segments.retain(|a| a.segment_id != answer.segment_id);
            member.segments.push(answer.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_registration_is_looked_up_by_phone_then_email_where_the_provider_can() {
        let request = RegisterMember::new()
            .with_phone(Phone::new("+47", "41234567"))
            .with_email("kari@example.com".to_string());
        let mut caps = crate::capabilities::Capabilities::none();
        caps.lookups = vec![LookupKind::Phone, LookupKind::Email];
        let kinds = |caps: &crate::capabilities::Capabilities| {
            request.lookups(caps).iter().map(MemberLookup::kind).collect::<Vec<_>>()
        };
        assert_eq!(kinds(&caps), [LookupKind::Phone, LookupKind::Email]);
        caps.lookups = vec![LookupKind::Email];
        assert_eq!(kinds(&caps), [LookupKind::Email]);
        caps.lookups.clear();
        assert!(kinds(&caps).is_empty());
    }

    #[test]
    fn e164_numbers_split_by_itu_zones() {
        assert_eq!(Phone::parse_e164("+4741234567"), Some(Phone::new("+47", "41234567")));
        assert_eq!(Phone::parse_e164("004741234567"), Some(Phone::new("+47", "41234567")));
        assert_eq!(Phone::parse_e164("+1 415 555 0100"), Some(Phone::new("+1", "4155550100")));
        assert_eq!(Phone::parse_e164("+358401234567"), Some(Phone::new("+358", "401234567")));
        assert_eq!(Phone::parse_e164("41234567"), None);
        assert_eq!(Phone::parse_e164("+47abc"), None);
    }

    #[test]
    fn a_request_with_a_control_character_in_a_contact_field_does_not_read() {
        let refused = |text: &str| {
            let e = serde_json::from_str::<RegisterMember>(text).unwrap_err().to_string();
            assert!(e.contains("contains the control character"), "{text}: {e}");
        };
        refused(r#"{"email": "a\u0000@x.no"}"#);
        refused(r#"{"first_name": "Kari\u001b[2J"}"#);
        refused(r#"{"last_name": "N\u0085"}"#);
        refused(r#"{"address": {"street": "Storgata 1\nH0101"}}"#);
        refused(r#"{"phone": {"country_code": "+47", "number": "4123\u00074567"}}"#);
        // Unicode's own line breaks and the characters that reorder how text shows.
        let unicode = |text: &str, reason: &str| {
            let e = serde_json::from_str::<RegisterMember>(text).unwrap_err().to_string();
            assert!(e.contains(reason), "{text}: {e}");
        };
        unicode(r#"{"first_name": "Kari\u2028Nordmann"}"#, "the line separator U+2028");
        unicode(r#"{"last_name": "Nord\u2029mann"}"#, "the paragraph separator U+2029");
        unicode(r#"{"email": "kari\u202e@x.no"}"#, "the bidirectional formatting character U+202E");
        unicode(
            r#"{"address": {"city": "\u2066Oslo\u2069"}}"#,
            "the bidirectional formatting character U+2066",
        );
        assert!(serde_json::from_str::<MemberUpdate>(r#"{"email": "a\u202a@x.no"}"#).is_err());
        assert!(serde_json::from_str::<MemberUpdate>(r#"{"email": "a\u0007@x.no"}"#).is_err());
        assert!(serde_json::from_str::<MemberUpdate>(r#"{"address": {"city": "O\u0000slo"}}"#).is_err());
        assert!(serde_json::from_str::<EnrollMember>(
            r#"{"phone": "+4741234567", "department": null, "first_name": "\u001b"}"#
        )
        .is_err());
        // Plain text, missing fields and nulls read as before.
        let r: RegisterMember = serde_json::from_str(
            r#"{"email": "kari@example.com", "first_name": "Kåri", "last_name": null,
                "address": {"street": "Storgata 1", "city": "Oslo"}}"#,
        )
        .unwrap();
        assert_eq!((r.first_name.as_deref(), r.last_name), (Some("Kåri"), None));
        assert_eq!(r.address.and_then(|a| a.city).as_deref(), Some("Oslo"));
        let e: EnrollMember =
            serde_json::from_str(r#"{"phone": "+4741234567", "department": null}"#).unwrap();
        assert_eq!(e.email, None);
    }

    /// The separators and bidi controls are refused one by one (the ranges' ends included),
    /// while letters of any script, and the joiners names and emoji use, stay plain text.
    #[test]
    fn unicode_line_breaks_and_bidi_controls_are_not_plain_text() {
        for c in
            ['\u{2028}', '\u{2029}'].into_iter().chain('\u{202A}'..='\u{202E}').chain('\u{2066}'..='\u{2069}')
        {
            let reason = contact_text_fault(&format!("Kari{c}Nordmann"));
            assert!(
                reason.as_deref().is_some_and(|r| r.contains(&format!("U+{:04X}", u32::from(c)))),
                "U+{:04X}: {reason:?}",
                u32::from(c)
            );
        }
        for plain in ["Kåri Nordmann", "Ølstad-Æsøy", "محمد", "Zoë\u{200D}", "a\u{2027}b", "c\u{202F}d"]
        {
            assert_eq!(contact_text_fault(plain), None, "{plain:?}");
        }
    }

    #[test]
    fn update_keeps_fields_it_does_not_name() {
        let mut m = Member::new("m1");
        m.email = Some("a@example.com".into());
        MemberUpdate::new().with_name("A", "B").apply_to(&mut m);
        assert_eq!(m.email.as_deref(), Some("a@example.com"));
        assert_eq!(m.first_name.as_deref(), Some("A"));
    }
}
