//! The payment a shop took itself, handed to the checkout with the commit request.
//!
//! The service moves no money: the shop's PSP or till did. A commit names the payment's
//! reference and amount; the checkout's authorization step accepts it only when the amount is
//! exactly the total it is about to record, so a sale is never recorded at a price the customer
//! did not pay.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use loyalty_core::checkout::{Authorization, Authorized, Payment, PaymentKey};
use loyalty_core::{Error, ErrorKind, Money, Result, TransactionId};

/// Payments announced by commit requests, by order id.
#[derive(Debug, Default)]
pub(crate) struct ShopPayments {
    announced: Mutex<HashMap<TransactionId, (String, Money)>>,
}

impl ShopPayments {
    pub(crate) fn announce(&self, order: &TransactionId, reference: String, amount: Money) {
        self.lock().insert(order.clone(), (reference, amount));
    }

    pub(crate) fn forget(&self, order: &TransactionId) {
        self.lock().remove(order);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<TransactionId, (String, Money)>> {
        self.announced.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[async_trait]
impl Payment for ShopPayments {
    async fn authorize(&self, key: &PaymentKey, amount: Money) -> Result<Authorized> {
        // The shop's payment is for the order, whichever attempt of the checkout records it.
        let transaction = &key.order;
        let announced = self.lock().get(transaction).cloned();
        match announced {
            Some((reference, paid)) if paid == amount => {
                Ok(Authorized::Approved(Authorization { id: reference, amount }))
            }
            Some((_, paid)) => Err(Error::new(ErrorKind::Rejected, "serve", "checkout.commit").with_message(format!(
                "order {transaction}: the payment of {paid} does not equal the total {amount}; nothing was recorded"
            ))),
            // Only a charge resumed without its commit request gets here (this instance
            // restarted, or took over from one that stopped): the shop may well have been paid,
            // so the order must not be declined and its holds released. Left charging, it
            // completes when the shop commits again with its payment.
            None => Err(Error::new(ErrorKind::Unavailable, "serve", "checkout.commit").with_message(format!(
                "order {transaction}: this instance has not seen the shop's payment; commit again with it"
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
    use loyalty_core::{Currency, WriteEffect};

    use super::*;

    fn key(order: &str) -> PaymentKey {
        PaymentKey::new(TransactionId::new(order), 1)
    }

    #[tokio::test]
    async fn a_payment_matching_the_total_is_taken_and_another_amount_refused() {
        let shop = ShopPayments::default();
        let total = Money::new(12_900, Currency::NOK);
        shop.announce(&TransactionId::new("o-1"), "psp-1".into(), total);
        let Authorized::Approved(a) = shop.authorize(&key("o-1"), total).await.unwrap() else { panic!() };
        assert_eq!(a.id, "psp-1");
        let err = shop.authorize(&key("o-1"), Money::new(100, Currency::NOK)).await.unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Rejected);
    }

    #[tokio::test]
    async fn a_charge_resumed_without_the_shops_payment_is_left_charging_not_declined() {
        let shop = ShopPayments::default();
        let err = shop.authorize(&key("o-2"), Money::new(100, Currency::NOK)).await.unwrap_err();
        // What the checkout reads as "the money may have moved": nothing voided or released.
        assert_eq!(err.effect(), WriteEffect::Unknown);
        assert!(err.is_temporary());
        assert!(err.message().contains("commit again"), "{err}");
    }
}
