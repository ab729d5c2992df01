//! How each registered adapter starts: embedded default and live sandbox.

pub mod memory;

#[cfg(feature = "diller")]
pub mod diller;
#[cfg(feature = "sessionm")]
pub mod sessionm;

#[cfg(feature = "emanage")]
pub mod emanage;

#[cfg(feature = "idosell")]
pub mod idosell;

use loyalty_conformance::Environment;
use loyalty_core::{
    Basket, Consents, Context, Currency, Error, Line, MemberLookup, Provider, RegisterMember,
};
use rust_decimal::Decimal;

/// For a live sandbox: registers a fresh member to run the suite with, since a live store's
/// members are not ours to change.
pub async fn live_environment(
    provider: &dyn Provider,
    department: Option<String>,
) -> Result<Environment, Error> {
    let scratch = Environment::new("unknown", Basket::new(Currency::NOK));
    let phone = scratch.fresh_phone();
    let email = scratch.fresh_email();
    let members =
        provider.members().ok_or_else(|| Error::unsupported(provider.name(), "members.register"))?;
    let mut req = RegisterMember::new()
        .with_phone(phone.clone())
        .with_email(email.clone())
        .with_name("Loyalty Bridge", "Conformance")
        .with_consents(Consents { membership: true, order_history: true, ..Consents::default() });
    if let Some(d) = &department {
        req = req.with_department(d.clone());
    }
    let member = members.register(&Context::new(), &req).await?;
    let basket = Basket::new(Currency::NOK).with_line(Line::new(
        "1",
        "LB-CONFORMANCE",
        Decimal::from(2),
        loyalty_core::Money::new(10_000, Currency::NOK),
    ));
    let mut env = Environment::new(member.id, basket)
        .with_lookup(MemberLookup::Phone(phone))
        .with_lookup(MemberLookup::Email(email));
    if let Some(d) = department {
        env = env.with_department(d);
    }
    Ok(env)
}
