//! Upgrade chains on a paid session (the eManage contract §7): finding the line a step names,
//! splitting it, extending the chain, and what a charge or a failure does to the line.

use rust_decimal::Decimal;

use super::session::{Chain, Line, Session, UpgradeStatus};

/// Why an upgrade step cannot be placed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TargetError {
    /// No line of the session holds `upgradePreviewProductId`.
    NotInCart,
    /// The chain's previous offline step still awaits payment in its own session.
    OfflinePending,
}

/// The line an upgrade step applies to: the chain head holding `upgradePreviewProductId`
/// (§7.2 rule 1, an upgrade of an upgrade), else the paid plain line of that product.
/// Simulator decision: when several heads hold the product, the latest one.
pub(crate) fn find_target(s: &Session, preview_product: i64) -> Result<usize, TargetError> {
    let head = s.lines.iter().rposition(|l| l.product_id == preview_product && l.chain.is_some());
    if let Some(i) = head {
        let c = &s.chains[s.lines[i].chain.unwrap_or_default()];
        if c.child_pending {
            return Err(TargetError::OfflinePending);
        }
        return Ok(i);
    }
    s.plain_line(preview_product).ok_or(TargetError::NotInCart)
}

/// Adds step `(product, price)` for `quantity` units of line `line_idx` and returns the chain
/// index. A partial upgrade splits the line; the rest stays as it was (§7.2 rule 2). The step
/// becomes the head; earlier steps are previews that never ship (rule 4).
pub(crate) fn add_step(
    s: &mut Session,
    line_idx: usize,
    quantity: u32,
    product: (i64, Decimal),
    shipping_method_id: i64,
) -> usize {
    let line = s.lines[line_idx].clone();
    let split = quantity < line.quantity;
    // A discarded chain is over: its line is the original product again, and a new step on
    // it starts a new chain from there.
    let live = line.chain.filter(|ci| s.chains[*ci].status != UpgradeStatus::Discarded);
    // The shipping paid for a line shows once (§7.2 rule 2): a split leaves it with the rest.
    let line_ships = match line.chain {
        Some(ci) => s.chains[ci].carries_shipping,
        None => line.delta.is_none(),
    };
    let ci = match live {
        Some(ci) if split => {
            s.chains[ci].quantity -= quantity;
            let mut c = s.chains[ci].clone();
            c.quantity = quantity;
            c.carries_shipping = false;
            s.chains.push(c);
            s.chains.len() - 1
        }
        Some(ci) => ci,
        None => {
            s.chains.push(Chain {
                origin_product: line.product_id,
                origin_unit: line.unit_price,
                origin_shipping: line.shipping_method_id,
                carries_shipping: line_ships && !split,
                quantity,
                steps: Vec::new(),
                status: UpgradeStatus::Preview,
                captured_per_unit: Decimal::ZERO,
                charged_step: None,
                failed: Vec::new(),
                attempts: 0,
                tried: Vec::new(),
                due_at: None,
                child: None,
                child_pending: false,
            });
            s.chains.len() - 1
        }
    };
    let c = &mut s.chains[ci];
    c.steps.push(product);
    c.status = UpgradeStatus::Preview;
    c.attempts = 0;
    c.tried.clear();
    c.due_at = None;
    let head = Line {
        product_id: product.0,
        quantity,
        shipping_method_id,
        unit_price: product.1,
        chain: Some(ci),
        delta: None,
    };
    if split {
        s.lines[line_idx].quantity -= quantity;
        s.lines.insert(line_idx + 1, head);
    } else {
        s.lines[line_idx] = head;
    }
    ci
}

/// The chain's pending step was paid: `per_unit` more is captured for each unit.
pub(crate) fn charged(s: &mut Session, ci: usize, per_unit: Decimal) {
    let c = &mut s.chains[ci];
    c.captured_per_unit += per_unit;
    c.charged_step = Some(c.steps.len() - 1);
    c.status = UpgradeStatus::Charged;
    c.due_at = None;
    c.child_pending = false;
}

/// The chain's pending step could not be paid (§7.2 rule 6, §9.3, §9.4 step 5). Nothing charged
/// before: the upgrade is discarded and the line goes back to the original product. Simulator
/// decision (§17 questions 5 and 7): when an earlier step was captured, only the unpaid steps
/// are dropped and the line goes back to the last paid product.
pub(crate) fn fail(s: &mut Session, ci: usize) {
    let Some(li) = s.lines.iter().position(|l| l.chain == Some(ci)) else {
        return;
    };
    let c = &mut s.chains[ci];
    c.due_at = None;
    c.child_pending = false;
    if let Some(k) = c.charged_step {
        let dropped: Vec<i64> = c.steps[k + 1..].iter().map(|s| s.0).collect();
        c.failed.extend(dropped);
        c.steps.truncate(k + 1);
        c.status = UpgradeStatus::Charged;
        let (product, price) = c.steps[k];
        s.lines[li].product_id = product;
        s.lines[li].unit_price = price;
        return;
    }
    c.status = UpgradeStatus::Discarded;
    let (origin, unit, shipping, quantity) = (c.origin_product, c.origin_unit, c.origin_shipping, c.quantity);
    match s.plain_line(origin) {
        // The rest of a split line is still there: the units go back into it.
        Some(p) => {
            s.lines[p].quantity += quantity;
            s.lines.remove(li);
        }
        // The line itself goes back to the original product and keeps its chain, so the cart
        // GET reports the upgrade's terminal status `discarded` on it (§7.2 rule 6).
        None => {
            s.lines[li] = Line {
                product_id: origin,
                quantity,
                shipping_method_id: shipping,
                unit_price: unit,
                chain: Some(ci),
                delta: None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn d(n: i64) -> Decimal {
        Decimal::from(n)
    }

    fn paid_session(quantity: u32) -> Session {
        let mut s = Session::new("s".into(), "w".into(), Utc::now(), false);
        s.lines.push(Line {
            product_id: 918_325,
            quantity,
            shipping_method_id: 145,
            unit_price: d(100),
            chain: None,
            delta: None,
        });
        s
    }

    #[test]
    fn partial_upgrade_splits_the_line() {
        let mut s = paid_session(2);
        add_step(&mut s, 0, 1, (918_446, d(120)), 145);
        let lines: Vec<(i64, u32)> = s.lines.iter().map(|l| (l.product_id, l.quantity)).collect();
        assert_eq!(lines, [(918_325, 1), (918_446, 1)]);
    }

    #[test]
    fn failed_chain_merges_back_into_the_original_line() {
        let mut s = paid_session(2);
        let ci = add_step(&mut s, 0, 1, (918_446, d(120)), 145);
        fail(&mut s, ci);
        let lines: Vec<(i64, u32)> = s.lines.iter().map(|l| (l.product_id, l.quantity)).collect();
        assert_eq!(lines, [(918_325, 2)]);
        assert_eq!(s.chains[ci].status, UpgradeStatus::Discarded);
    }

    #[test]
    fn a_failed_whole_line_goes_back_to_the_original_and_still_shows_the_discarded_chain() {
        let mut s = paid_session(1);
        let ci = add_step(&mut s, 0, 1, (918_446, d(120)), 145);
        fail(&mut s, ci);
        assert_eq!((s.lines[0].product_id, s.lines[0].chain), (918_325, Some(ci)));
        assert_eq!(s.chains[ci].ships(), 918_325);
        // Upgrading it again starts a new chain from the original product.
        let li = find_target(&s, 918_325).unwrap();
        let next = add_step(&mut s, li, 1, (918_447, d(140)), 145);
        assert_ne!(next, ci);
        assert_eq!((s.chains[next].origin_product, s.chains[next].origin_unit), (918_325, d(100)));
    }

    #[test]
    fn failure_after_an_earlier_capture_keeps_the_paid_step() {
        let mut s = paid_session(1);
        let ci = add_step(&mut s, 0, 1, (918_446, d(120)), 145);
        charged(&mut s, ci, d(20));
        let li = find_target(&s, 918_446).unwrap();
        add_step(&mut s, li, 1, (918_447, d(140)), 145);
        fail(&mut s, ci);
        assert_eq!(s.lines[0].product_id, 918_446);
        assert_eq!(s.chains[ci].ships(), 918_446);
        assert_eq!(s.chains[ci].discarded_products(), [918_447]);
    }
}
