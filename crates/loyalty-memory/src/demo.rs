//! The demo store every example and the conformance suite's memory target use.
//!
//! Values are fixed so docs and tests can name them.

use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use loyalty_core::{
    Address, Basket, CardDetails, CardSecret, CartPayment, Clock, Consents, Courier, Currency, Customer,
    Discount, Line, ManualClock, Member, MemberId, MemberLookup, Money, Offer, OfferKind, Phone, Scope,
    Segment, SegmentKind, SegmentOption, StampCard, Tier,
};
use rust_decimal::Decimal;

use crate::MemoryProvider;

/// The seeded member's id.
pub const MEMBER_ID: &str = "m-1001";
/// The seeded member's national number (country code +47).
pub const MEMBER_PHONE: &str = "41234567";
/// The seeded member's e-mail.
pub const MEMBER_EMAIL: &str = "kari.nordmann@example.com";
/// The seeded member's national id.
pub const MEMBER_NATIONAL_ID: &str = "01017012345";
/// The seeded member's driver's licence.
pub const MEMBER_LICENSE: &str = "DL-7788991";
/// The seeded member's card (external) id.
pub const MEMBER_CARD: &str = "CARD-0001";
/// Single-use basket coupon, 10 %.
pub const COUPON_SUMMER10: &str = "c-summer10";
/// Product coupon, 20 % on coffee, three uses.
pub const COUPON_COFFEE20: &str = "c-coffee20";
/// Coffee stamp card: 6 stamps, restartable.
pub const STAMP_COFFEE: &str = "s-coffee";
/// Progressive discount on socks, for everyone: carts are priced with it.
pub const PROGRESSIVE_SOCKS: &str = "p-socks";
/// An offer the provider prices itself: 30 % off the cheapest unit of coffee or mug, once
/// per member, applied when the customer confirms it.
pub const VENDOR_CHEAPEST: &str = "v-cheapest";
/// Coffee, 500 g.
pub const PRODUCT_COFFEE: &str = "COF-500";
/// A mug.
pub const PRODUCT_MUG: &str = "MUG-1";
/// Socks.
pub const PRODUCT_SOCKS: &str = "SOCK-1";
/// Premium socks (an upgrade of socks).
pub const PRODUCT_SOCKS_PREMIUM: &str = "SOCK-2";
/// Deluxe socks (an upgrade of premium socks).
pub const PRODUCT_SOCKS_DELUXE: &str = "SOCK-3";
/// A card number carts accept.
pub const CARD_APPROVED: &str = "4111111111111111";
/// A card number carts decline.
pub const CARD_DECLINED: &str = "4000000000000002";
/// A processor id whose payment takes the customer elsewhere and back (any id does).
pub const PROCESSOR_REDIRECT: &str = "redirect";
/// The courier of the demo wholesaler.
pub const COURIER: &str = "posten";

/// The instant the demo clock starts at.
pub fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 15, 12, 0, 0).single().expect("valid date")
}

fn nok(minor: i64) -> Money {
    Money::new(minor, Currency::NOK)
}

/// Every lookup that finds the seeded member, one per kind the demo store keeps.
pub fn member_lookups() -> Vec<MemberLookup> {
    vec![
        MemberLookup::Phone(Phone::new("+47", MEMBER_PHONE)),
        MemberLookup::Email(MEMBER_EMAIL.into()),
        MemberLookup::NationalId(MEMBER_NATIONAL_ID.into()),
        MemberLookup::DriversLicense(MEMBER_LICENSE.into()),
        MemberLookup::ExternalId(MEMBER_CARD.into()),
    ]
}

/// The demo basket: two coffees and a mug.
pub fn basket() -> Basket {
    Basket::new(Currency::NOK)
        .with_line(
            Line::new("1", PRODUCT_COFFEE, Decimal::from(2), nok(12_900))
                .with_name("Coffee 500 g")
                .with_tax_rate(Decimal::from(15)),
        )
        .with_line(
            Line::new("2", PRODUCT_MUG, Decimal::ONE, nok(19_900))
                .with_name("Mug")
                .with_tax_rate(Decimal::from(25)),
        )
}

fn card(number: &str) -> CartPayment {
    CartPayment::Card(CardDetails::new(
        "Kari Nordmann",
        CardSecret::new(number),
        12,
        2030,
        CardSecret::new("123"),
    ))
}

/// A card carts accept.
pub fn card_approved() -> CartPayment {
    card(CARD_APPROVED)
}

/// A card carts decline.
pub fn card_declined() -> CartPayment {
    card(CARD_DECLINED)
}

/// A payment that takes the customer elsewhere and back.
pub fn redirect_payment() -> CartPayment {
    CartPayment::Processor { id: PROCESSOR_REDIRECT.into() }
}

/// The demo cart customer.
pub fn cart_customer() -> Customer {
    Customer::with_email(MEMBER_EMAIL).named("Kari", "Nordmann").at(Address {
        street: Some("Storgata 1".into()),
        city: Some("Oslo".into()),
        zip_code: Some("0155".into()),
        state: None,
        country_code: Some("NO".into()),
    })
}

impl MemoryProvider {
    /// The demo store on the system clock.
    pub fn demo() -> MemoryProvider {
        MemoryProvider::demo_on(Arc::new(loyalty_core::SystemClock))
    }

    /// The demo store on a manual clock standing at [`start`]; the clock is returned too.
    pub fn demo_manual() -> (MemoryProvider, ManualClock) {
        let clock = ManualClock::at(start());
        (MemoryProvider::demo_on(Arc::new(clock.clone())), clock)
    }

    /// The demo store on `clock`.
    pub fn demo_on(clock: Arc<dyn Clock>) -> MemoryProvider {
        let p = MemoryProvider::new(clock);
        let mut m = Member::new(MEMBER_ID);
        m.first_name = Some("Kari".into());
        m.last_name = Some("Nordmann".into());
        m.email = Some(MEMBER_EMAIL.into());
        m.phone = Some(Phone::new("+47", MEMBER_PHONE));
        m.consents =
            Consents { membership: true, order_history: true, marketing_sms: false, marketing_email: true };
        m.points = Some(Decimal::from(120));
        m.tier = Some("Silver".into());
        p.add_member(m, Some(MEMBER_NATIONAL_ID), Some(MEMBER_LICENSE), Some(MEMBER_CARD));

        let options = |xs: &[(&str, &str)]| {
            xs.iter().map(|(id, l)| SegmentOption { id: (*id).into(), label: (*l).into() }).collect()
        };
        p.add_segment(Segment::new("seg-nick", "What should we call you?", SegmentKind::Text));
        p.add_segment(Segment::new("seg-birthday", "Your birthday", SegmentKind::Date).required(true));
        p.add_segment(Segment::new(
            "seg-store",
            "Favourite store",
            SegmentKind::SingleChoice { options: options(&[("oslo", "Oslo"), ("bergen", "Bergen")]) },
        ));
        p.add_segment(Segment::new(
            "seg-interests",
            "Interests",
            SegmentKind::MultiChoice {
                options: options(&[("coffee", "Coffee"), ("tea", "Tea"), ("cakes", "Cakes")]),
            },
        ));
        p.add_segment(Segment::new("seg-staff", "Staff note", SegmentKind::Text).visible(false));

        let far = Utc.with_ymd_and_hms(2100, 1, 1, 0, 0, 0).single();
        p.add_offer(
            Offer::new(
                COUPON_SUMMER10,
                "10 % off everything",
                OfferKind::Coupon { discount: Discount::Percent(Decimal::from(10)), scope: Scope::Basket },
            )
            .with_code("SUMMER10")
            .with_validity(Some(start() - chrono::Duration::days(30)), far),
            Some(1),
        );
        p.add_offer(
            Offer::new(
                COUPON_COFFEE20,
                "20 % off coffee",
                OfferKind::Coupon {
                    discount: Discount::Percent(Decimal::from(20)),
                    scope: Scope::Products(vec![PRODUCT_COFFEE.into()]),
                },
            )
            .with_code("COFFEE20"),
            Some(3),
        );
        p.add_offer(
            Offer::new(
                STAMP_COFFEE,
                "Sixth coffee free",
                OfferKind::StampCard(StampCard {
                    required: 6,
                    collected: 0,
                    restartable: true,
                    products: vec![PRODUCT_COFFEE.into()],
                }),
            ),
            None,
        );
        p.add_offer_for_everyone(Offer::new(
            PROGRESSIVE_SOCKS,
            "Socks: 25 % for one, 50 % for two",
            OfferKind::ProgressiveDiscount {
                tiers: vec![
                    Tier { min_units: 1, percent: Decimal::from(25) },
                    Tier { min_units: 2, percent: Decimal::from(50) },
                ],
                products: vec![PRODUCT_SOCKS.into()],
                count: Default::default(),
                mode: Default::default(),
            },
        ));
        p.add_lowest_item_offer(
            VENDOR_CHEAPEST,
            "30 % off the cheaper of coffee and mug",
            vec![PRODUCT_COFFEE.into(), PRODUCT_MUG.into()],
            Decimal::from(30),
            Some(1),
        );
        p.set_stamps(&MemberId::new(MEMBER_ID), &STAMP_COFFEE.into(), 4);

        p.add_product(PRODUCT_COFFEE, nok(12_900), &[]);
        p.add_product(PRODUCT_MUG, nok(19_900), &[]);
        p.add_product(PRODUCT_SOCKS, nok(9_900), &[PRODUCT_SOCKS_PREMIUM, PRODUCT_SOCKS_DELUXE]);
        p.add_product(PRODUCT_SOCKS_PREMIUM, nok(14_900), &[PRODUCT_SOCKS_DELUXE]);
        p.add_product(PRODUCT_SOCKS_DELUXE, nok(19_900), &[]);
        p.set_stock(PRODUCT_COFFEE, Decimal::from(40));
        p.set_stock(PRODUCT_MUG, Decimal::from(5));
        p.add_courier(Courier::new(COURIER, "Posten", Some(nok(9_900))));
        p
    }
}
