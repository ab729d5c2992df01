//! Single-offer orders and post-purchase upsell orders (the eManage contract §6.3):
//! `POST orders/{wk}`, the upsell posted to the upsell campaign's own web key [I].

use rust_decimal::Decimal;
use serde_json::{json, Value};

use super::{
    body_obj,
    checkout::{has, read_address, read_email, PaymentReply},
    field_error, finish, message, ok, Req, Res,
};
use crate::emanage::{
    catalog::CampaignKind,
    input::{guid, query, Check},
    names::BEHAVIOR_TEST,
    payment::{card_outcome, read_payment, Outcome, PaymentInput},
    session::{PaymentMethod, Pending},
    state::{Inner, Order, Tracked},
};

/// `POST orders/{wk}[?behaviorId=2]`: a main order (full customer, address and payment) or, with
/// `campaignUpsell: { webKey, relatedOrderNumber }`, a one-click upsell charged to the main
/// order's card on file (`payment.cardId`) and shipped to its address (`shippingAddress.id`).
/// Payment outcomes follow the same card table and redirect processors as the cart checkout.
pub(super) fn place(inner: &mut Inner, rq: &Req) -> Res {
    let campaign = inner.campaign(&rq.web_key).ok_or_else(|| message(404, "Campaign not found."))?;
    // Simulator decision: orders belong to single-offer campaigns (§5.1), carts use checkout.
    if campaign.kind != CampaignKind::SingleOffer {
        return Err(message(404, "This campaign takes shopping-cart sessions, not orders."));
    }
    let o = body_obj(rq)?;
    let mut c = Check::default();
    let test = query(&rq.q, "behaviorId").and_then(|b| b.parse().ok()) == Some(BEHAVIOR_TEST);
    let pid = c.req_int(&o, "productId", "");
    let ship = c.req_int(&o, "shippingMethodId", "");
    c.str(&o, "couponCode", "");
    c.str(&o, "comment", "");
    c.int(&o, "funnelBoxId", "");
    let same = c.bool(&o, "useShippingAddressForBilling", "").unwrap_or(true);
    let upsell = c.obj(&o, "campaignUpsell", "").map(|u| {
        (c.req_str(u, "webKey", "campaignUpsell"), c.req_str(u, "relatedOrderNumber", "campaignUpsell"))
    });
    let email = c.req_obj(&o, "customer", "").and_then(|cu| read_email(&mut c, cu, "customer"));
    let payment = read_payment(&mut c, &o, upsell.is_some());
    let address_id = if upsell.is_some() {
        c.obj(&o, "shippingAddress", "").and_then(|a| c.int(a, "id", "shippingAddress"))
    } else {
        read_address(&mut c, &o, "shippingAddress", true);
        if !same && has(&o, "billingAddress") {
            read_address(&mut c, &o, "billingAddress", true);
        }
        None
    };
    finish(c)?;
    let (Some(pid), Some(ship), Some(email), Some(payment)) = (pid, ship, email, payment) else {
        return Err(field_error("productId", "The productId field is required."));
    };
    let product = campaign
        .product(pid)
        .ok_or_else(|| message(404, format!("Product {pid} was not found in this campaign.")))?;
    let shipping = product.shipping(ship).ok_or_else(|| {
        field_error("shippingMethodId", format!("Shipping method {ship} is not available for product {pid}."))
    })?;
    let amount: Decimal = product.price + shipping.price;
    let descriptor = campaign.descriptor.clone();
    let upsells: Vec<Value> = campaign
        .upsells
        .iter()
        .map(|u| json!({"upsellUrl": u.url, "webKey": u.web_key, "productId": u.product_id}))
        .collect();
    let cid = campaign.cid.clone();

    let mut related = None;
    if let Some((wk, number)) = upsell {
        let (wk, number) = (wk.unwrap_or_default(), number.unwrap_or_default());
        let main = guid(&wk)
            .filter(|w| inner.campaign(w).is_some_and(|k| k.cid == cid))
            .ok_or_else(|| message(404, format!("Campaign '{wk}' was not found.")))?;
        let r = inner
            .orders
            .iter()
            .find(|o| o.number == number && o.web_key == main)
            .ok_or_else(|| message(404, format!("Order '{number}' was not found.")))?;
        if !r.paid {
            return Err(message(409, format!("Order '{number}' is not paid.")));
        }
        if address_id.is_some_and(|a| a != r.shipping_address_id as i64) {
            return Err(field_error(
                "shippingAddress.id",
                "The address does not belong to the related order.",
            ));
        }
        related = Some(r.clone());
    }

    let mut reply = PaymentReply {
        descriptor,
        upsells: if related.is_none() { upsells } else { Vec::new() },
        ..Default::default()
    };
    let (customer_id, address_id) = match &related {
        Some(r) => (r.customer_id, r.shipping_address_id),
        None => (inner.next_number(), inner.next_number()),
    };
    reply.customer = Some((customer_id, address_id));
    let (card_id, pending) = match payment {
        PaymentInput::Redirect { processor } => {
            reply.processor = Some(processor);
            (None, Some((PaymentMethod::Redirect { processor }, false)))
        }
        PaymentInput::CardOnFile { card_id } => {
            let on_file = related.as_ref().and_then(|r| r.card_id).filter(|id| *id as i64 == card_id);
            let Some(id) = on_file else {
                return Err(field_error("payment.cardId", "The card is not on file for the related order."));
            };
            // The upgrade-charge-failure card fails every later charge on file (§11 table).
            if inner.cards.get(&id).is_some_and(|(fails, _)| *fails) {
                reply.message = Some("The card on file could not be charged.".into());
                return ok(reply.json());
            }
            (Some(id), None)
        }
        PaymentInput::GiftCard { number } => {
            reply.processor = Some(crate::emanage::names::GIFT_CARD_PROCESSOR);
            if let Err(why) = inner.spend_gift_card(&number, amount) {
                reply.message = Some(why.into());
                reply.customer = None;
                return ok(reply.json());
            }
            (None, None)
        }
        PaymentInput::Card { pan, expiry } => {
            match card_outcome(&inner.settings.test_pans, &pan, expiry, rq.now) {
                Outcome::Decline(why) => {
                    reply.message = Some(why.into());
                    reply.customer = None;
                    return ok(reply.json());
                }
                Outcome::ThreeDs => {
                    let id = inner.next_number();
                    inner.cards.insert(id, (false, email.clone()));
                    (Some(id), Some((PaymentMethod::Card { card_id: id, upgrade_charges_fail: false }, true)))
                }
                Outcome::Approve { upgrade_charges_fail } => {
                    let id = inner.next_number();
                    inner.cards.insert(id, (upgrade_charges_fail, email.clone()));
                    (Some(id), None)
                }
            }
        }
    };
    let number = (10_000_000 + inner.next_number()).to_string();
    let mut order = Order {
        number: number.clone(),
        web_key: rq.web_key.clone(),
        test,
        product_id: pid,
        amount,
        email,
        card_id,
        customer_id,
        shipping_address_id: address_id,
        related_order: related.map(|r| r.number),
        paid: pending.is_none(),
        pending: None,
        created_at: rq.now,
        paid_at: pending.is_none().then_some(rq.now),
    };
    if let Some((method, three_ds)) = pending {
        let tracking = inner.new_tracking(Tracked::Order(number.clone()));
        let url = inner.payment_url(&tracking);
        if three_ds {
            reply.action_url = Some(url);
        } else {
            reply.callback_url = Some(url);
        }
        reply.tracking = Some(tracking.clone());
        order.pending = Some(Pending { tracking, since: rq.now, method, three_ds });
    }
    inner.orders.push(order);
    reply.success = true;
    reply.order_number = Some(number);
    reply.card_id = card_id;
    ok(reply.json())
}
