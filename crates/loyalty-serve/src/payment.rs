//! The payment a shop took itself, handed to the checkout with the commit request.
//!
//! The service moves no money: the shop's PSP or till did. A commit names the payment's
//! reference and amount; the checkout's authorization step accepts it only when the amount is
//! exactly the total it is about to record, so a sale is never recorded at a price the customer
//! did not pay.

use std::sync::Arc;

use async_trait::async_trait;
use loyalty_core::checkout::{
    Authorization, Authorized, CheckoutStore, Payment, PaymentKey, ReplyState, StoredReply,
};
use loyalty_core::{Error, ErrorKind, Money, Result, TransactionId};
use serde::{Deserialize, Serialize};

/// The payment a commit request announced, as kept in the checkout store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Announced {
    pub(crate) reference: String,
    pub(crate) amount: Money,
}

/// Payments announced by commit requests, by order id, kept in the checkout store (next to the
/// stored replies), so a charge interrupted by a restart, or resumed by another instance, can
/// finish without the shop repeating its commit.
#[derive(Debug)]
pub(crate) struct ShopPayments {
    store: Arc<dyn CheckoutStore>,
}

/// How often a lost versioned write of an announcement is tried again before giving up.
const WRITE_TRIES: usize = 5;

impl ShopPayments {
    pub(crate) fn new(store: Arc<dyn CheckoutStore>) -> ShopPayments {
        ShopPayments { store }
    }

    fn key(order: &TransactionId) -> String {
        format!("serve.payment:{order}")
    }

    /// Records the shop's payment for `order`, replacing an earlier one (a commit after a
    /// price change names the new amount).
    ///
    /// # Errors
    /// Store errors; a `Conflict` (temporary) when other writers keep winning.
    pub(crate) async fn announce(
        &self,
        order: &TransactionId,
        reference: String,
        amount: Money,
    ) -> Result<()> {
        let key = Self::key(order);
        let body = serde_json::to_string(&Announced { reference, amount }).map_err(|e| {
            Error::new(ErrorKind::Protocol, "serve", "checkout.commit").with_message(e.to_string())
        })?;
        let reply = StoredReply::done(key.as_str(), "", 200, body);
        for _ in 0..WRITE_TRIES {
            let expected = self.store.load_reply(&key).await?.map(|s| s.version);
            if self.store.save_reply(&reply, expected).await?.is_some() {
                return Ok(());
            }
        }
        Err(Error::new(ErrorKind::Conflict, "serve", "checkout.commit")
            .with_temporary(true)
            .with_message(format!("order {order}: the payment could not be recorded; commit again")))
    }

    pub(crate) async fn announced(&self, order: &TransactionId) -> Result<Option<Announced>> {
        let Some(stored) = self.store.load_reply(&Self::key(order)).await? else { return Ok(None) };
        match stored.value.state {
            ReplyState::Done { body, .. } => serde_json::from_str(&body).map(Some).map_err(|e| {
                Error::new(ErrorKind::Protocol, "serve", "checkout.commit")
                    .with_message(format!("order {order}: the stored payment cannot be read: {e}"))
            }),
            ReplyState::Running { .. } => Ok(None),
        }
    }
}

#[async_trait]
impl Payment for ShopPayments {
    async fn authorize(&self, key: &PaymentKey, amount: Money) -> Result<Authorized> {
        // The shop's payment is for the order, whichever attempt of the checkout records it.
        let transaction = &key.order;
        match self.announced(transaction).await? {
            Some(Announced { reference, amount: paid }) if paid == amount => {
                Ok(Authorized::Approved(Authorization { id: reference, amount }))
            }
            Some(Announced { amount: paid, .. }) => Err(Error::new(ErrorKind::Conflict, "serve", "checkout.commit").with_message(format!(
                "order {transaction}: the payment of {paid} does not equal the total {amount}; nothing was recorded"
            ))),
            // A charge resumed before any commit request named the shop's payment: the shop
            // may well have been paid, so the order must not be declined and its holds
            // released. Left charging, it completes when the shop commits with its payment.
            None => Err(Error::new(ErrorKind::Unavailable, "serve", "checkout.commit").with_message(format!(
                "order {transaction}: the shop's payment is not known yet; commit again with it"
            ))),
        }
    }

    async fn resume(&self, authorization: &Authorization) -> Result<Authorized> {
        Ok(Authorized::Approved(authorization.clone()))
    }

    async fn capture(&self, _authorization: &Authorization) -> Result<()> {
        Ok(())
    }

    async fn void(&self, _authorization: &Authorization) -> Result<()> {
        Ok(())
    }

    async fn refund(&self, _a: &Authorization, _id: &TransactionId, _amount: Money) -> Result<()> {
        // The shop pays refunds back itself; the return's outcome says how much.
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use loyalty_core::checkout::MemoryCheckoutStore;
    use loyalty_core::{Currency, WriteEffect};

    use super::*;

    fn key(order: &str) -> PaymentKey {
        PaymentKey::new(TransactionId::new(order), 1)
    }

    fn shop() -> (ShopPayments, Arc<dyn CheckoutStore>) {
        let store: Arc<dyn CheckoutStore> = Arc::new(MemoryCheckoutStore::new());
        (ShopPayments::new(store.clone()), store)
    }

    #[tokio::test]
    async fn a_payment_matching_the_total_is_taken_and_another_amount_refused() {
        let (shop, _) = shop();
        let total = Money::new(12_900, Currency::NOK);
        shop.announce(&TransactionId::new("o-1"), "psp-1".into(), total).await.unwrap();
        let Authorized::Approved(a) = shop.authorize(&key("o-1"), total).await.unwrap() else { panic!() };
        assert_eq!(a.id, "psp-1");
        let err = shop.authorize(&key("o-1"), Money::new(100, Currency::NOK)).await.unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Conflict);
        assert_ne!(err.effect(), WriteEffect::Unknown, "a refusal the checkout may act on");
    }

    #[tokio::test]
    async fn a_later_commit_replaces_the_payment_and_another_instance_sees_it() {
        let (shop, store) = shop();
        let order = TransactionId::new("o-3");
        shop.announce(&order, "psp-1".into(), Money::new(100, Currency::NOK)).await.unwrap();
        shop.announce(&order, "psp-2".into(), Money::new(80, Currency::NOK)).await.unwrap();
        // A second instance (or this one after a restart) over the same store.
        let other = ShopPayments::new(store);
        let Authorized::Approved(a) =
            other.authorize(&key("o-3"), Money::new(80, Currency::NOK)).await.unwrap()
        else {
            panic!()
        };
        assert_eq!(a.id, "psp-2");
    }

    #[tokio::test]
    async fn a_charge_resumed_without_the_shops_payment_is_left_charging_not_declined() {
        let (shop, _) = shop();
        let err = shop.authorize(&key("o-2"), Money::new(100, Currency::NOK)).await.unwrap_err();
        // What the checkout reads as "the money may have moved": nothing voided or released.
        assert_eq!(err.effect(), WriteEffect::Unknown);
        assert!(err.is_temporary());
        assert!(err.message().contains("commit again"), "{err}");
        assert!(!format!("{shop:?}").is_empty());
    }
}
