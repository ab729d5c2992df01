//! `loyalty offers`: what a member (or any guest) can use, optionally evaluated against a basket.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use loyalty_core::{Context, MemberId, Offer, OfferKind};

use crate::out;

/// Arguments of `loyalty offers`.
#[derive(Debug, Args)]
pub struct OffersArgs {
    /// The member's provider id; without it, the offers every guest gets.
    #[arg(long)]
    member: Option<String>,
    /// A basket (the JSON of docs/pricing.md, without offers) to evaluate the offers against.
    #[arg(long)]
    basket: Option<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// One line for an offer: id, title, and what matters at the till, made safe for a terminal
/// ([`out::safe_line`]): the title and code are the provider's text.
pub fn describe(o: &Offer) -> String {
    let kind = match &o.kind {
        OfferKind::Coupon { .. } if o.is_basket_coupon() => "basket coupon".to_string(),
        OfferKind::Coupon { .. } => "product coupon".to_string(),
        OfferKind::StampCard(c) => format!("stamp card {}/{}", c.collected, c.required),
        OfferKind::ProgressiveDiscount { .. } => "progressive discount".to_string(),
        OfferKind::VendorPriced { discount: Some(d), .. } => {
            format!("priced by the provider: {} off", d.amount)
        }
        OfferKind::VendorPriced { discount: None, .. } => "priced by the provider".to_string(),
        OfferKind::Reward { points, .. } => format!("reward for {points} points"),
    };
    let mut extra = Vec::new();
    if let Some(code) = &o.code {
        extra.push(format!("code {code}"));
    }
    if let Some(n) = o.uses_left {
        extra.push(if n == 1 { "1 use left".to_string() } else { format!("{n} uses left") });
    }
    match (&o.ends_on, o.valid_to) {
        (Some(d), _) => extra.push(format!("until {} ({})", d.date, d.zone)),
        (None, Some(t)) => extra.push(format!("until {}", t.format("%Y-%m-%d %H:%M UTC"))),
        _ => {}
    }
    let extra = if extra.is_empty() { String::new() } else { format!(" [{}]", extra.join(", ")) };
    out::safe_line(&format!("{:<20} {} ({kind}){extra}", o.id.as_str(), o.title))
}

/// Lists the offers.
pub fn execute(config: &Path, args: &OffersArgs) -> ExitCode {
    let basket = match &args.basket {
        Some(path) => match super::checkout::read_basket(path) {
            Ok((basket, _)) => Some(basket),
            Err(code) => return code,
        },
        None => None,
    };
    let member = args.member.clone().map(MemberId::new);
    let json = args.json;
    super::with_opened(config, |opened| async move {
        let Some(o) = opened.provider.offers() else {
            return out::fail(&loyalty_core::Error::unsupported(opened.provider.name(), "offers.list"));
        };
        match o.list(&Context::new(), member.as_ref(), basket.as_ref()).await {
            Ok(offers) if json => {
                out::json(&offers);
                ExitCode::SUCCESS
            }
            Ok(offers) if offers.is_empty() => {
                out::line("no offers");
                ExitCode::SUCCESS
            }
            Ok(offers) => {
                offers.iter().map(describe).for_each(out::line);
                ExitCode::SUCCESS
            }
            Err(e) => out::fail(&e),
        }
    })
}

#[cfg(test)]
mod tests {
    use loyalty_core::{Discount, Offer, OfferKind, Scope};

    use super::describe;

    /// An offer's title and code are the vendor's text: a terminal escape (ESC [2J clears the
    /// screen) or a line break in them is printed escaped, as the CLI's error lines show one.
    #[test]
    fn an_offers_control_characters_are_shown_escaped() {
        let kind = OfferKind::Coupon { discount: Discount::FreeShipping, scope: Scope::Basket };
        let mut offer = Offer::new("c-1", "Free\u{1b}[2J shipping\nnow", kind);
        offer.code = Some("FREE\u{7}".into());
        let line = describe(&offer);
        assert!(!line.chars().any(char::is_control), "{line:?}");
        assert!(line.contains("Free\\u{1b}[2J shipping\\nnow"), "{line}");
        assert!(line.contains("code FREE\\u{7}"), "{line}");
    }
}
