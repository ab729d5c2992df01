//! ICDF product lines (§4) and the product gateways G2 `checkAvailability` and G3
//! `basketImport` (§5).

use loyalty_core::Error;
use rust_decimal::Decimal;

use super::convert::Refused;
use super::xml::{read_reply, Node, Writer};
use super::{boolean, check, integer, non_negative, optional, unreadable, WireError};
use crate::config::CodeType;
use crate::names::{el, Gateway, Names, FAULT_CODE, FAULT_STRING};

/// One ICDF line: code of a family, positive quantity, optional note (§4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IcdfLine {
    pub code: String,
    pub code_type: CodeType,
    pub quantity: Decimal,
    pub comment: Option<String>,
}

/// The `products` list as a `SOAP-ENC:Array` of `productType` items (§2.1, §4).
pub(crate) fn write_products(w: &mut Writer, lines: &[IcdfLine]) {
    w.open_array(el::PRODUCTS, "ns1:productType", lines.len());
    for l in lines {
        w.open_item("ns1:productType");
        w.text(el::CODE, &l.code);
        w.text(el::CODE_TYPE, l.code_type.as_str());
        w.decimal(el::QUANTITY, l.quantity);
        w.opt_text(el::COMMENT, l.comment.as_deref());
        w.close_item();
    }
    w.close(el::PRODUCTS);
}

/// G2/G3 params: the ICDF lines.
pub(crate) fn products_params(lines: &[IcdfLine]) -> Result<String, Refused> {
    let mut w = Writer::new();
    write_products(&mut w, lines);
    w.into_string()
}

/// The per-line answer of G2 and G3: the echoed code, availability (G2) and the per-item
/// fault pair (§6.1: per-item codes while the top level says 0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LineResult {
    pub code: Option<String>,
    pub available_quantity: Option<Decimal>,
    pub available: Option<bool>,
    pub fault_code: i64,
    pub fault_string: String,
}

fn line_result(node: &Node, path: &str) -> Result<LineResult, WireError> {
    Ok(LineResult {
        code: optional(node, el::CODE),
        available_quantity: non_negative(node, el::AVAILABLE_QUANTITY, path)?,
        available: boolean(node, el::AVAILABLE, path)?,
        fault_code: integer(node, FAULT_CODE, path)?.unwrap_or(0),
        fault_string: optional(node, FAULT_STRING).unwrap_or_default(),
    })
}

fn line_results(results: &Node, expected: usize) -> Result<Vec<LineResult>, WireError> {
    let items = results.items_named(el::PRODUCTS, el::PRODUCT);
    if items.len() != expected {
        return Err(WireError::new(
            format!("results.{}", el::PRODUCTS),
            format!("{} lines answered for {expected} sent", items.len()),
        ));
    }
    items.into_iter().enumerate().map(|(i, n)| line_result(n, &format!("results.products[{i}]"))).collect()
}

/// The results of G2 in the order of the lines `sent`. When every result echoes its code
/// (§5 G2: "echo of code+codeType"), each goes to the first line of that code not yet
/// answered, so a wholesaler that answers in another order cannot give one product's stock to
/// another; a result that echoes no line sent is refused, naming it. Otherwise, by position.
pub(crate) fn in_sent_order(
    sent: &[IcdfLine],
    results: Vec<LineResult>,
) -> Result<Vec<LineResult>, WireError> {
    if results.len() != sent.len() || results.iter().any(|r| r.code.is_none()) {
        return Ok(results);
    }
    let mut ordered: Vec<Option<LineResult>> = vec![None; sent.len()];
    for (i, r) in results.into_iter().enumerate() {
        let echoed = r.code.as_deref().map(str::trim).unwrap_or_default();
        let Some(at) =
            sent.iter().enumerate().position(|(j, l)| ordered[j].is_none() && l.code.trim() == echoed)
        else {
            return Err(WireError::new(
                format!("results.{}[{i}].{}", el::PRODUCTS, el::CODE),
                "echoes no line sent (or one answered already)",
            ));
        };
        ordered[at] = Some(r);
    }
    // Every slot is filled: as many results as lines, each placed once.
    Ok(ordered.into_iter().flatten().collect())
}

/// Decodes G2: one result per line sent, in order.
///
/// faultCode 2 ("nothing found", §6.2) is an empty result, not a failure (checklist 10): the
/// wholesaler found no stock for what was asked, so every line is answered as nothing
/// available (quantity 0, not available), carrying the fault pair so the caller sees the
/// vendor's code.
pub(crate) fn decode_check_availability(
    names: &Names,
    op: &str,
    sent: usize,
    bytes: &[u8],
) -> Result<Vec<LineResult>, Error> {
    let reply = read_reply(names, bytes).map_err(|e| unreadable(op, &e))?;
    if check(names, op, &reply.errors)? {
        let none = LineResult {
            code: None,
            available_quantity: Some(Decimal::ZERO),
            available: Some(false),
            fault_code: reply.errors.code,
            fault_string: reply.errors.text.clone(),
        };
        return Ok(vec![none; sent]);
    }
    let results = reply
        .results(names.gates.get(Gateway::CheckAvailability))
        .ok_or_else(|| WireError::new("results", "missing").protocol(op))?;
    line_results(results, sent).map_err(|e| e.protocol(op))
}

/// What G3 answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ImportReply {
    pub lines: Vec<LineResult>,
    /// Lines now in the basket.
    pub basket_lines: Option<i64>,
}

/// Decodes G3: one result per line sent, and the basket's size.
///
/// faultCode 2 ("nothing found") stays an error here: an import answers each line it was sent
/// (§6.1), and an empty result says neither which lines went into the basket nor what the
/// basket holds, so no order could be placed on it. A `Protocol` error with effect `NotSent`:
/// G3 is only sent before G4, which is not sent after it, so no order was placed.
pub(crate) fn decode_basket_import(
    names: &Names,
    op: &str,
    sent: usize,
    bytes: &[u8],
) -> Result<ImportReply, Error> {
    let reply = read_reply(names, bytes).map_err(|e| unreadable(op, &e))?;
    if check(names, op, &reply.errors)? {
        return Err(WireError::new(
            "errors.faultCode",
            "an empty result to a basket import, which answers every line; no order was placed",
        )
        .protocol(op)
        .with_vendor_code(reply.errors.code.to_string())
        .with_effect(loyalty_core::WriteEffect::NotSent));
    }
    let results = reply
        .results(names.gates.get(Gateway::BasketImport))
        .ok_or_else(|| WireError::new("results", "missing").protocol(op))?;
    let lines = line_results(results, sent).map_err(|e| e.protocol(op))?;
    let basket_lines = integer(results, el::BASKET_LINES, "results").map_err(|e| e.protocol(op))?;
    if basket_lines.is_some_and(|n| n < 0) {
        return Err(WireError::new(format!("results.{}", el::BASKET_LINES), "negative count").protocol(op));
    }
    Ok(ImportReply { lines, basket_lines })
}
