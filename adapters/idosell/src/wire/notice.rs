//! The shipment webhook body (§7.2, all \[S\]): JSON by default, or the same fields as XML
//! elements of `<notification>`. Field names are read through the same lenient field map as
//! SOAP replies.

use super::xml::{parse, Node};
use super::{optional, required, strings, WireError};
use crate::names::{el, Names};

/// A dispatch notice (§7.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Notice {
    pub event: Option<String>,
    pub order_id: String,
    pub reference: Option<String>,
    pub status: Option<String>,
    pub courier_id: Option<String>,
    pub courier_name: Option<String>,
    pub shipment_numbers: Vec<String>,
    pub dispatch_date: Option<String>,
}

fn from_node(names: &Names, n: &Node) -> Result<Notice, WireError> {
    Ok(Notice {
        event: optional(n, "event"),
        order_id: required(n, el::ORDER_ID, "notice")?.to_string(),
        reference: optional(n, &names.shop_order_reference),
        status: optional(n, el::STATUS),
        courier_id: optional(n, el::COURIER_ID),
        courier_name: optional(n, el::COURIER_NAME),
        shipment_numbers: strings(n, el::SHIPMENT_NUMBERS).into_iter().filter(|s| !s.is_empty()).collect(),
        dispatch_date: optional(n, el::DISPATCH_DATE),
    })
}

/// A JSON value as a tree the lenient readers understand. Ids are read as text, so a number
/// must keep its digits: one beyond 64-bit integers and at least 2^53 (a `1.23e29` order id)
/// has come through a double and would read as another id, and is refused. A whole number
/// written as a double (`17.0`) reads as the integer's text (`17`), as an id.
fn json_node(v: &serde_json::Value) -> Result<Node, WireError> {
    use serde_json::Value as V;
    Ok(match v {
        V::Null => Node::Text(String::new()),
        V::Bool(b) => Node::Text(b.to_string()),
        V::Number(n) => {
            let exact =
                n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.abs() < 9_007_199_254_740_992.0);
            if !exact {
                return Err(WireError::new(
                    "notice",
                    "a number is too large to read exactly; send ids as strings",
                ));
            }
            // An integer id written through a double (`17.0`, `1.7e1`) is that integer's text.
            match n.as_f64().filter(|f| !(n.is_i64() || n.is_u64()) && f.fract() == 0.0) {
                // (`+ 0.0` writes -0.0 as `0`.)
                Some(f) => Node::Text(format!("{:.0}", f + 0.0)),
                None => Node::Text(n.to_string()),
            }
        }
        V::String(s) => Node::Text(s.clone()),
        V::Array(a) => Node::List(a.iter().map(json_node).collect::<Result<_, _>>()?),
        V::Object(o) => Node::Obj(
            o.iter().map(|(k, v)| Ok((k.clone(), json_node(v)?))).collect::<Result<_, WireError>>()?,
        ),
    })
}

/// Decodes a notice body: XML when it starts with `<`, JSON otherwise.
pub(crate) fn decode_notice(names: &Names, body: &[u8]) -> Result<Notice, WireError> {
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    let node = if first == Some(&b'<') {
        parse(body).map_err(|e| WireError::new("notice", e))?.1
    } else {
        let v: serde_json::Value =
            serde_json::from_slice(body).map_err(|e| WireError::new("notice", format!("not JSON: {e}")))?;
        if !v.is_object() {
            return Err(WireError::new("notice", "not a JSON object"));
        }
        json_node(&v)?
    };
    if !matches!(node, Node::Obj(_)) {
        return Err(WireError::new("notice", "no fields"));
    }
    from_node(names, &node)
}
