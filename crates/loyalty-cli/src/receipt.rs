//! Receipts as a cashier reads them: what was bought, which offer took what off, what was paid
//! and what happened at the provider. Shared by `loyalty checkout` and `loyalty demo`.

use loyalty_core::checkout::{CheckoutOutcome, Delivery};
use loyalty_core::{Money, Offer, OfferId, SendOutcome};

/// Width of the text column; amounts are right-aligned after it.
const TEXT: usize = 40;
/// Width of the amount column.
const AMOUNT: usize = 12;

/// The title of `id` among `offers`, or the id itself when the offer is not known.
pub fn title(offers: &[Offer], id: &OfferId) -> String {
    offers.iter().find(|o| &o.id == id).map_or_else(|| id.to_string(), |o| o.title.clone())
}

fn row(text: &str, amount: &str) -> String {
    let text: String = if text.chars().count() > TEXT {
        text.chars().take(TEXT - 1).chain(std::iter::once('…')).collect()
    } else {
        text.to_string()
    };
    format!("  {text:<TEXT$}{amount:>AMOUNT$}")
}

fn negative(m: Money) -> String {
    format!("-{}", m.amount_string())
}

/// What the provider did with the sale, in words.
pub fn delivery(provider: &str, d: &Delivery) -> String {
    match d {
        Delivery::Sent(r) => match r.outcome {
            SendOutcome::Recorded => format!("sent to {provider}: recorded"),
            SendOutcome::AlreadyRecorded => format!("sent to {provider}: it already had this sale"),
            SendOutcome::Replaced => format!("sent to {provider}: replaced its earlier version"),
            SendOutcome::Stored => format!("sent to {provider}: stored"),
        },
        Delivery::Pending { reason } => format!("kept in the outbox for a resend: {reason}"),
        Delivery::Refused { reason } => format!("refused by {provider}: {reason}"),
        Delivery::NotSupported => format!("{provider} takes no transactions: nothing sent"),
    }
}

/// The receipt lines of a completed checkout at `provider`, each made safe for a terminal
/// ([`crate::out::safe_line`]): offer titles, line names and the provider's reasons are text
/// from elsewhere.
pub fn receipt(provider: &str, o: &CheckoutOutcome) -> Vec<String> {
    let currency = o.charged.currency;
    let mut lines = vec![format!("  order {}", o.transaction.id)];
    if let Some(m) = &o.member {
        lines.push(format!("  member {m}{}", if o.signed_up { " (joined at this checkout)" } else { "" }));
    }
    for l in &o.transaction.lines {
        let name = l.name.clone().unwrap_or_else(|| l.product_id.to_string());
        let what = format!("{} x {name} @ {}", l.quantity.normalize(), l.unit_price.amount_string());
        lines.push(row(&what, &l.gross.amount_string()));
        for d in &l.discounts {
            lines.push(row(&format!("    {}", title(&o.applied_offers, &d.offer_id)), &negative(d.amount)));
        }
    }
    lines.push(format!("  {}", "-".repeat(TEXT + AMOUNT)));
    lines.push(row("Subtotal", &o.priced.total_gross.amount_string()));
    if !o.priced.total_discount.is_zero() {
        lines.push(row("Discount", &negative(o.priced.total_discount)));
    }
    lines.push(row(&format!("Paid ({currency})"), &o.charged.amount_string()));
    for s in o.priced.stamps.iter().filter(|s| s.earned > 0) {
        lines.push(format!(
            "  stamps: {} +{}, {} more to the reward",
            title(&o.applied_offers, &s.offer_id),
            s.earned,
            s.remaining
        ));
    }
    lines.push(format!("  {}", delivery(provider, &o.delivery)));
    for c in &o.dropped_claims {
        lines.push(format!(
            "  note: {} was refused by {provider} after the charge; the sale was sent without it",
            title(&o.applied_offers, c)
        ));
    }
    for n in &o.notes {
        lines.push(format!("  note: {n}"));
    }
    lines.iter().map(|l| crate::out::safe_line(l)).collect()
}
