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
            None => Err(Error::new(ErrorKind::Rejected, "serve", "checkout.commit")
                .with_message(format!("order {transaction}: no payment was given with the commit"))),
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
