//! Fault codes and texts (the IdoSell contract §6.3, the simulator's own table \[S\]). Texts are
//! Polish by default and English on request (§6.3 "Messages"); adapters never branch on them.

/// Language of a reply's fault texts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Lang {
    Pl,
    En,
}

/// A gateway refusal: its class (as the default faultCode of §6.3, the constants below) and an
/// optional detail appended to the text. The number answered comes from the names table
/// ([`super::names::FaultNumbers`]), unless the fault is `verbatim`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Fault {
    pub code: u32,
    pub detail: Option<String>,
    /// Answer `code` as it is (a number a test asked for), not through the table.
    pub verbatim: bool,
}

impl Fault {
    pub fn new(code: u32) -> Fault {
        Fault { code, detail: None, verbatim: false }
    }

    pub fn with(code: u32, detail: impl Into<String>) -> Fault {
        Fault { code, detail: Some(detail.into()), verbatim: false }
    }

    /// A fault answered with exactly this number.
    pub fn verbatim(code: u32, detail: impl Into<String>) -> Fault {
        Fault { code, detail: Some(detail.into()), verbatim: true }
    }

    /// The faultCode answered under this table.
    pub fn number(&self, table: &super::names::FaultNumbers) -> u32 {
        if self.verbatim {
            self.code
        } else {
            table.number(self.code)
        }
    }

    pub fn text(&self, lang: Lang) -> String {
        text(self.code, lang, self.detail.as_deref())
    }
}

/// Login failed (§6.2: the one confirmed meaning).
pub(crate) const LOGIN: u32 = 1;
/// Nothing matched (§6.2).
pub(crate) const EMPTY: u32 = 2;
/// Session key missing, unknown or expired.
pub(crate) const SESSION: u32 = 3;
/// Dropshipping key missing or wrong, or dropshipping off for the account.
pub(crate) const DROPSHIPPING: u32 = 4;
/// Malformed or missing parameter.
pub(crate) const INPUT: u32 = 5;
/// Product unknown for (`code`, `codeType`).
pub(crate) const UNKNOWN_PRODUCT: u32 = 6;
/// Insufficient stock.
pub(crate) const STOCK: u32 = 7;
/// Courier not allowed for the order/address.
pub(crate) const COURIER: u32 = 8;
/// Basket empty on placeOrder.
pub(crate) const BASKET_EMPTY: u32 = 9;
/// Address not modifiable (order dispatched).
pub(crate) const ADDRESS_LOCKED: u32 = 10;
/// Request body over the limit.
pub(crate) const TOO_LARGE: u32 = 11;
/// Internal error.
pub(crate) const INTERNAL: u32 = 99;

/// The fault text for a code, with an optional detail (a field name, a code) after a colon.
pub(crate) fn text(code: u32, lang: Lang, detail: Option<&str>) -> String {
    let (pl, en) = match code {
        0 => ("", ""),
        LOGIN => ("Logowanie nie powiodło się", "Login failed"),
        EMPTY => ("Brak wyników dla podanych kryteriów", "No results for the given criteria"),
        SESSION => ("Sesja wygasła lub jest nieprawidłowa", "Session expired or invalid"),
        DROPSHIPPING => ("Nieprawidłowy klucz dropshippingu", "Invalid dropshipping key"),
        INPUT => ("Nieprawidłowy lub brakujący parametr", "Invalid or missing parameter"),
        UNKNOWN_PRODUCT => ("Nieznany produkt", "Unknown product"),
        STOCK => ("Niewystarczający stan magazynowy", "Insufficient stock"),
        COURIER => ("Kurier niedostępny dla tego zamówienia", "Courier not available for this order"),
        BASKET_EMPTY => ("Koszyk jest pusty", "The basket is empty"),
        ADDRESS_LOCKED => (
            "Nie można zmienić adresu: zamówienie zostało wysłane",
            "The address cannot be changed: the order has been dispatched",
        ),
        TOO_LARGE => ("Przekroczono maksymalny rozmiar żądania", "The request exceeds the maximum size"),
        _ => ("Błąd wewnętrzny", "Internal error"),
    };
    let base = if lang == Lang::Pl { pl } else { en };
    match detail {
        Some(d) if !d.is_empty() => format!("{base}: {d}"),
        _ => base.to_string(),
    }
}
