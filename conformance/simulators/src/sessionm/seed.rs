//! The seeded demo tenant (values listed in [`super::demo`]). Wallets are seeded from fixtures,
//! plus whatever users buy in the reward store (the SessionM contract §8.3 "wallet seeding",
//! §7.10): one store, [`demo::REWARD_STORE_ID`], selling the coffee coupon for points and a
//! zero-point tasting.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;

use super::{
    demo,
    offers::{Offer, Pick, Reward, Rule, UoState, UserOffer},
    settings::SessionmSettings,
    state::{CatalogItem, Inner, Phone, Store, StoreOffer, User},
};

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).map(|d| d.with_timezone(&Utc)).unwrap_or_default()
}

fn ids(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

const GROUP_DISCOUNTS: &str = "6A1C0E52-7B3D-4F19-A2E4-5C8D9B0F1A01";
const GROUP_REWARDS: &str = "6A1C0E52-7B3D-4F19-A2E4-5C8D9B0F1A02";

fn user(
    id: &str,
    first: &str,
    last: &str,
    email: &str,
    phone: &str,
    ext: &str,
    dob: (i32, u32, u32),
) -> User {
    let created = at("2024-03-01T09:00:00Z");
    User {
        id: id.into(),
        external_id: Some(ext.into()),
        external_id_type: Some(demo::EXTERNAL_ID_TYPE.into()),
        identifiers: vec![(ext.into(), Some(demo::EXTERNAL_ID_TYPE.into()))],
        email: Some(email.into()),
        first_name: Some(first.into()),
        last_name: Some(last.into()),
        gender: None,
        dob: NaiveDate::from_ymd_opt(dob.0, dob.1, dob.2),
        opted_in: true,
        phone_numbers: Some(vec![Phone {
            phone_number: phone.into(),
            phone_type: Some("mobile".into()),
            preference_flags: vec!["primary".into()],
            verified_ownership: Some(true),
        }]),
        attrs: BTreeMap::from([("locale".to_string(), "nb-NO".into()), ("country".to_string(), "NO".into())]),
        user_profile: None,
        created_at: created,
        updated_at: created,
        points: Decimal::ZERO,
        life_time_points: Decimal::ZERO,
    }
}

/// The seeded tenant.
pub(crate) fn seed(settings: SessionmSettings) -> Inner {
    let mut kari = user(
        demo::USER_ID,
        "Kari",
        "Nordmann",
        demo::USER_EMAIL,
        demo::USER_PHONE,
        demo::USER_EXTERNAL_ID,
        (1985, 4, 12),
    );
    kari.gender = Some("f".into());
    kari.points = Decimal::from(demo::USER_POINTS);
    kari.life_time_points = Decimal::from(demo::USER_LIFE_TIME_POINTS);
    let ola = user(
        demo::OLA_USER_ID,
        "Ola",
        "Nordmann",
        "ola.nordmann@example.com",
        demo::SHARED_PHONE,
        "CARD-0002",
        (1983, 9, 30),
    );
    let mut per = user(
        demo::PER_USER_ID,
        "Per",
        "Hansen",
        demo::SHARED_EMAIL,
        demo::SHARED_PHONE,
        "CARD-0003",
        (1970, 1, 2),
    );
    per.points = Decimal::from(40);
    per.life_time_points = Decimal::from(40);
    let lise = user(
        demo::LISE_USER_ID,
        "Lise",
        "Hansen",
        demo::SHARED_EMAIL,
        "4790000003",
        "CARD-0004",
        (1972, 6, 15),
    );

    let d = Decimal::from;
    let mut offers = Vec::new();
    let mut offer = |name: &str, rule: Rule, items: &[&str], stores: &[&str], pos_id: Option<&str>| {
        let n = offers.len() + 1;
        offers.push(Offer {
            offer_id: format!("{:08X}-1111-4A00-8000-{n:012X}", 0x0FFE_0000 + n),
            root_offer_id: format!("{:08X}-2222-4A00-8000-{n:012X}", 0x0FFE_0000 + n),
            name: name.into(),
            description: format!("{name} (demo offer)"),
            rule,
            item_ids: ids(items),
            store_ids: ids(stores),
            pos_discount_id: pos_id.map(String::from),
            offer_group_id: if pos_id.is_some() { GROUP_DISCOUNTS } else { GROUP_REWARDS }.into(),
            image_url: Some(format!("https://cdn.example.invalid/offers/{n}.png")),
        });
        offers.len() - 1
    };
    let (coffee, mug, tea) = (demo::ITEM_COFFEE, demo::ITEM_MUG, demo::ITEM_TEA);
    let bxgy = |buy: &[&str], buy_count, get_count, reward| Rule::BuyGet {
        buy_count,
        buy_item_ids: ids(buy),
        get_count,
        reward,
        pick: Pick::Lowest,
        max_applications: 1,
    };
    let wallet: Vec<(&str, usize)> = vec![
        (
            demo::UO_FIXED_CHECK,
            offer("50 kr off your purchase", Rule::Check(Reward::Fixed(d(50))), &[], &[], Some("SM-50")),
        ),
        (
            demo::UO_PERCENT_CHECK,
            offer("10 % off your purchase", Rule::Check(Reward::Percent(d(10))), &[], &[], Some("SM-10P")),
        ),
        (
            demo::UO_FIXED_LOWEST,
            offer(
                "20 kr off the cheapest coffee or tea",
                Rule::Item { reward: Reward::Fixed(d(20)), pick: Pick::Lowest },
                &[coffee, tea],
                &[],
                Some("SM-20LOW"),
            ),
        ),
        (
            demo::UO_FIXED_HIGHEST,
            offer(
                "30 kr off your most expensive item",
                Rule::Item { reward: Reward::Fixed(d(30)), pick: Pick::Highest },
                &[],
                &[],
                Some("SM-30HIGH"),
            ),
        ),
        (
            demo::UO_PERCENT_LOWEST,
            offer(
                "50 % off the cheapest coffee or tea",
                Rule::Item { reward: Reward::Percent(d(50)), pick: Pick::Lowest },
                &[coffee, tea],
                &[],
                Some("SM-50PLOW"),
            ),
        ),
        (
            demo::UO_PERCENT_HIGHEST,
            offer(
                "25 % off your most expensive coffee or mug",
                Rule::Item { reward: Reward::Percent(d(25)), pick: Pick::Highest },
                &[coffee, mug],
                &[],
                Some("SM-25PHIGH"),
            ),
        ),
        (
            demo::UO_BXGY_FIXED,
            offer(
                "Buy 2 coffees, get 30 kr off a third",
                bxgy(&[coffee], 2, 1, Reward::Fixed(d(30))),
                &[coffee],
                &[],
                Some("SM-B2G1"),
            ),
        ),
        (
            demo::UO_BXGY_PERCENT,
            offer(
                "Buy a mug, get a second at half price",
                bxgy(&[mug], 1, 1, Reward::Percent(d(50))),
                &[mug],
                &[],
                Some("SM-MUG2"),
            ),
        ),
        (
            demo::UO_BXGY_SET_PRICE,
            offer(
                "Buy a coffee, get a mug for 99",
                bxgy(&[coffee], 1, 1, Reward::SetPrice(d(99))),
                &[mug],
                &[],
                Some("SM-MUG99"),
            ),
        ),
        (
            demo::UO_SET_PRICE,
            offer(
                "Coffee 500 g for 99",
                Rule::Item { reward: Reward::SetPrice(d(99)), pick: Pick::Highest },
                &[coffee],
                &[],
                Some("SM-COF99"),
            ),
        ),
        (
            demo::UO_OTHER_STORE_ONLY,
            offer(
                "15 % off in Bergen",
                Rule::Check(Reward::Percent(d(15))),
                &[],
                &[demo::OTHER_STORE_ID],
                Some("SM-BGO15"),
            ),
        ),
        (
            demo::UO_TTL,
            offer(
                "40 kr off a mug",
                Rule::Item { reward: Reward::Fixed(d(40)), pick: Pick::Lowest },
                &[mug],
                &[],
                Some("SM-MUG40"),
            ),
        ),
        (
            demo::UO_EXPIRED,
            offer("Christmas: 100 kr off", Rule::Check(Reward::Fixed(d(100))), &[], &[], Some("SM-XMAS")),
        ),
        (demo::UO_MANUAL, offer("Free coffee tasting", Rule::Manual, &[], &[], None)),
    ];
    // The zero-point store offer: not issued like the others, so its offer_id is its
    // root_offer_id (§4.3 [D]).
    let tasting = {
        let n = offers.len() + 1;
        let id = format!("{:08X}-2222-4A00-8000-{n:012X}", 0x0FFE_0000 + n);
        offers.push(Offer {
            offer_id: id.clone(),
            root_offer_id: id,
            name: "Coffee tasting for two".into(),
            description: "Coffee tasting for two (demo reward-store offer)".into(),
            rule: Rule::Manual,
            item_ids: Vec::new(),
            store_ids: Vec::new(),
            pos_discount_id: None,
            offer_group_id: GROUP_REWARDS.into(),
            image_url: Some(format!("https://cdn.example.invalid/offers/{n}.png")),
        });
        offers.len() - 1
    };
    let coffee_coupon = wallet.iter().find(|(id, _)| *id == demo::UO_SET_PRICE).map_or(0, |(_, o)| *o);
    let store_offers = vec![
        StoreOffer {
            reward_store_id: demo::REWARD_STORE_ID.into(),
            reward_store_offer_id: demo::STORE_OFFER_COFFEE.into(),
            offer: coffee_coupon,
            price: Decimal::from(demo::STORE_OFFER_COFFEE_POINTS),
            valid_days: 90,
        },
        StoreOffer {
            reward_store_id: demo::REWARD_STORE_ID.into(),
            reward_store_offer_id: demo::STORE_OFFER_TASTING.into(),
            offer: tasting,
            price: Decimal::ZERO,
            valid_days: 90,
        },
    ];
    let user_offers = wallet
        .into_iter()
        .map(|(id, o)| UserOffer {
            user_offer_id: id.into(),
            user_id: demo::USER_ID.into(),
            offer: o,
            issued_at: at("2026-01-01T00:00:00Z"),
            expiration_date: at(if id == demo::UO_EXPIRED {
                "2025-12-31T23:59:59Z"
            } else {
                "2026-12-31T23:59:59Z"
            }),
            ttl_code: (id == demo::UO_TTL)
                .then(|| (demo::TTL_CODE.to_string(), at(demo::TTL_CODE_EXPIRES_AT))),
            state: UoState::Issued,
            lapsed_locks: Vec::new(),
        })
        .collect();

    Inner {
        settings,
        stores: vec![
            Store { id: demo::STORE_ID.into(), time_zone: "Europe/Oslo".into(), include_tax: true },
            Store { id: demo::OTHER_STORE_ID.into(), time_zone: "Europe/Oslo".into(), include_tax: true },
        ],
        catalog: [coffee, mug, tea]
            .iter()
            .enumerate()
            .map(|(n, id)| CatalogItem {
                item_id: id.to_string(),
                master_item_id: format!("C0FFEE00-3333-4A00-8000-{:012X}", n + 1),
            })
            .collect(),
        offers,
        offer_groups: vec![
            (GROUP_DISCOUNTS.into(), "Discounts".into()),
            (GROUP_REWARDS.into(), "Rewards".into()),
        ],
        offer_categories: vec![("5C2B7A10-0D4E-4E61-9F3A-8B2C1D0E4F01".into(), "Everyday".into())],
        user_offers,
        store_offers,
        users: vec![kari, ola, per, lise],
        transactions: BTreeMap::new(),
        replays: HashMap::new(),
        warnings: Vec::new(),
        seq: 0,
    }
}
