//! ICDF product lines (the IdoSell contract §4) and the product gateways G2 `checkAvailability`
//! and G3 `basketImport` (§5).

use std::collections::BTreeMap;

use base64::Engine as _;
use rust_decimal::Decimal;

use super::{
    messages::{Fault, INPUT, STOCK, UNKNOWN_PRODUCT},
    names::el,
    routes::Ctx,
    settings::BasketImport,
    soap::{Node, Out},
    state::{CodeType, Inner, Line},
};

/// The magic product code that answers "insufficient stock" per line (with magic values on).
const FAIL_STOCK: &str = "FAIL-STOCK";

/// A number or numeric string (§4 quantity is a number; XML sends text, JSON either).
pub(crate) fn decimal(s: &str) -> Option<Decimal> {
    s.trim().parse::<Decimal>().ok()
}

fn code_and_type<'n>(cx: &Ctx<'_>, node: &'n Node, path: &str) -> Result<(&'n str, CodeType), Fault> {
    let code = node.text(el::CODE).ok_or_else(|| Fault::with(INPUT, format!("{path}.{}", el::CODE)))?;
    let magic = if cx.s.magic_values { super::routes::magic(code) } else { None };
    if let Some(c @ (INPUT | UNKNOWN_PRODUCT)) = magic {
        return Err(Fault::with(c, code));
    }
    let ct = node
        .text(el::CODE_TYPE)
        .and_then(CodeType::parse)
        .ok_or_else(|| Fault::with(INPUT, format!("{path}.{}", el::CODE_TYPE)))?;
    Ok((code, ct))
}

fn resolve(inner: &Inner, code: &str, ct: CodeType) -> Result<usize, Fault> {
    inner
        .products
        .iter()
        .position(|p| p.code(ct) == code)
        .ok_or_else(|| Fault::with(UNKNOWN_PRODUCT, format!("{} {code}", ct.as_str())))
}

fn positive(node: &Node, path: &str, default: Option<Decimal>) -> Result<Decimal, Fault> {
    let q = match node.text(el::QUANTITY) {
        Some(t) => decimal(t),
        None => default,
    };
    // §4: quantity must be a positive number (checklist item 13).
    q.filter(|q| *q > Decimal::ZERO).ok_or_else(|| Fault::with(INPUT, format!("{path}.{}", el::QUANTITY)))
}

/// Parses and resolves one ICDF line: code by (`codeType`, `code`) over the three code
/// families, positive quantity, optional comment and Base64 attachments, set components.
pub(crate) fn parse_line(inner: &Inner, cx: &Ctx<'_>, node: &Node) -> Result<Line, Fault> {
    let path = el::PRODUCT;
    let known = [el::CODE, el::CODE_TYPE, el::QUANTITY, el::COMMENT, el::ATTACHMENTS, el::PRODUCTS];
    cx.check_unknown(node, &known, path)?;
    let (code, code_type) = code_and_type(cx, node, path)?;
    let quantity = positive(node, path, None)?;
    if cx.s.magic_values && code == FAIL_STOCK {
        return Err(Fault::with(STOCK, code));
    }
    let product = resolve(inner, code, code_type)?;
    let mut components = inner.products[product].components.clone();
    if let Some(nested) = node.get(el::PRODUCTS).map(Node::items).filter(|n| !n.is_empty()) {
        // §4: nested `products` describe the components of a set line.
        if components.is_empty() {
            return Err(Fault::with(INPUT, format!("{path}.{} ({code} is not a set)", el::PRODUCTS)));
        }
        let cpath = format!("{path}.{}.{}", el::PRODUCTS, el::PRODUCT);
        components = Vec::new();
        for c in nested {
            cx.check_unknown(c, &[el::CODE, el::CODE_TYPE, el::QUANTITY], &cpath)?;
            let (ccode, cct) = code_and_type(cx, c, &cpath)?;
            components.push((resolve(inner, ccode, cct)?, positive(c, &cpath, Some(Decimal::ONE))?));
        }
    }
    let mut attachments = Vec::new();
    if let Some(list) = node.get(el::ATTACHMENTS) {
        let apath = format!("{path}.{}.{}", el::ATTACHMENTS, el::ATTACHMENT);
        for a in list.items() {
            cx.check_unknown(a, &[el::FILE, el::NAME], &apath)?;
            let name = a.text(el::NAME).ok_or_else(|| Fault::with(INPUT, format!("{apath}.{}", el::NAME)))?;
            let file = a.text(el::FILE).unwrap_or("");
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(file.split_whitespace().collect::<String>())
                .map_err(|_| Fault::with(INPUT, format!("{apath}.{}", el::FILE)))?;
            attachments.push((name.to_string(), bytes.len()));
        }
    }
    Ok(Line {
        product,
        code_type,
        code: code.to_string(),
        quantity,
        comment: node.text(el::COMMENT).map(str::to_string),
        attachments,
        components,
    })
}

/// Fault 5 naming a line's quantity whose arithmetic (a set's components × the line quantity,
/// a sum of lines, a weight, a price) passes the decimal range (about 7.9 × 10^28): a hostile
/// quantity is bad input, never a panic.
pub(crate) fn quantity_fault() -> Fault {
    Fault::with(INPUT, format!("{}.{}", el::PRODUCT, el::QUANTITY))
}

/// Stock needed per product: a set line counts against its components (§4, checklist 13).
/// Fault 5 on a quantity whose need passes the decimal range.
pub(crate) fn requirements(lines: &[Line]) -> Result<BTreeMap<usize, Decimal>, Fault> {
    let mut need = BTreeMap::new();
    let mut add = |product: usize, q: Option<Decimal>| -> Result<(), Fault> {
        let total = need.entry(product).or_insert(Decimal::ZERO);
        *total = q.and_then(|q| total.checked_add(q)).ok_or_else(quantity_fault)?;
        Ok(())
    };
    for l in lines {
        if l.components.is_empty() {
            add(l.product, Some(l.quantity))?;
        } else {
            for (c, per_set) in &l.components {
                add(*c, per_set.checked_mul(l.quantity))?;
            }
        }
    }
    Ok(need)
}

/// Whether the stock covers `lines`; the first short product's fault otherwise.
pub(crate) fn check_stock(inner: &Inner, lines: &[Line]) -> Result<(), Fault> {
    for (p, q) in requirements(lines)? {
        let product = &inner.products[p];
        if product.stock < q {
            return Err(Fault::with(STOCK, product.internal.clone()));
        }
    }
    Ok(())
}

/// How many of a line's product can be supplied now. Fault 5 naming the component quantity
/// when stock ÷ a (tiny) component quantity passes the decimal range.
fn available_quantity(inner: &Inner, line: &Line) -> Result<Decimal, Fault> {
    if line.components.is_empty() {
        return Ok(inner.products[line.product].stock);
    }
    let mut least: Option<Decimal> = None;
    for (c, per_set) in &line.components {
        let sets = inner.products[*c].stock.checked_div(*per_set).ok_or_else(|| {
            Fault::with(INPUT, format!("{}.{}.{}.{}", el::PRODUCT, el::PRODUCTS, el::PRODUCT, el::QUANTITY))
        })?;
        least = Some(least.map_or(sets.floor(), |l| l.min(sets.floor())));
    }
    Ok(least.unwrap_or(Decimal::ZERO))
}

/// The `products` list of the params, as nodes.
pub(crate) fn product_nodes(params: &Node) -> Vec<&Node> {
    params.get(el::PRODUCTS).map(Node::items).unwrap_or_default()
}

fn echo(node: &Node) -> [(&'static str, Out); 3] {
    [
        (el::CODE, Out::s(node.text(el::CODE).unwrap_or(""))),
        (el::CODE_TYPE, Out::s(node.text(el::CODE_TYPE).unwrap_or(""))),
        (el::QUANTITY, Out::s(node.text(el::QUANTITY).unwrap_or(""))),
    ]
}

/// G2: a pure read; per-line verdicts with faults 5/6/7, top level 0 (§5 G2, §6.1). Simulator
/// decision: each line is checked on its own against the stock (G4 checks the basket as a whole).
pub(crate) fn check_availability(inner: &mut Inner, cx: &Ctx<'_>, params: &Node) -> Result<Out, Fault> {
    cx.check_unknown(params, &[el::PRODUCTS], "params")?;
    let nodes = product_nodes(params);
    if nodes.is_empty() {
        return Err(Fault::with(INPUT, el::PRODUCTS));
    }
    let mut all = true;
    let mut items = Vec::new();
    for node in nodes {
        let (available, avail_q, fault) = match parse_line(inner, cx, node) {
            Err(f) => (false, Decimal::ZERO, Some(f)),
            Ok(line) => match available_quantity(inner, &line) {
                Err(f) => (false, Decimal::ZERO, Some(f)),
                Ok(q) => match check_stock(inner, std::slice::from_ref(&line)) {
                    Ok(()) => (true, q, None),
                    Err(f) => (false, q, Some(f)),
                },
            },
        };
        let fault = fault.as_ref();
        all &= available;
        let mut fields: Vec<(String, Out)> =
            echo(node).into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        fields.push(("availableQuantity".into(), Out::Dec(avail_q)));
        fields.push(("available".into(), Out::Bool(available)));
        fields.extend(cx.item_fault(fault).into_iter().map(|(k, v)| (k.to_string(), v)));
        items.push(Out::Obj(fields));
    }
    Ok(Out::obj([("available", Out::Bool(all)), (el::PRODUCTS, Out::List("productResultType", items))]))
}

/// Basket totals (§5 G3: net/gross and currency); fault 5 when one passes the decimal range.
pub(crate) fn totals(inner: &Inner, lines: &[Line]) -> Result<(Decimal, Decimal), Fault> {
    lines.iter().try_fold((Decimal::ZERO, Decimal::ZERO), |(n, g), l| {
        let p = &inner.products[l.product];
        let n = p.price_net.checked_mul(l.quantity).and_then(|v| n.checked_add(v));
        let g = p.price_gross.checked_mul(l.quantity).and_then(|v| g.checked_add(v));
        n.zip(g).ok_or_else(quantity_fault)
    })
}

/// G3: lines that pass the G2 checks go into the account's basket (replacing it by default).
/// Simulator decision: the others carry their per-line fault and stay out, top level 0, like
/// the admin batch gates (§6.1; checklist item 14).
pub(crate) fn basket_import(
    inner: &mut Inner,
    cx: &Ctx<'_>,
    account: usize,
    params: &Node,
) -> Result<Out, Fault> {
    cx.check_unknown(params, &[el::PRODUCTS], "params")?;
    let nodes = product_nodes(params);
    if nodes.is_empty() {
        return Err(Fault::with(INPUT, el::PRODUCTS));
    }
    let mut good = Vec::new();
    let mut items = Vec::new();
    for node in nodes {
        let result = parse_line(inner, cx, node).and_then(|line| {
            check_stock(inner, std::slice::from_ref(&line))?;
            Ok(line)
        });
        let fault = result.as_ref().err();
        let mut fields: Vec<(String, Out)> =
            echo(node).into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        fields.extend(cx.item_fault(fault).into_iter().map(|(k, v)| (k.to_string(), v)));
        items.push(Out::Obj(fields));
        if let Ok(line) = result {
            good.push(line);
        }
    }
    let mut lines = match cx.s.basket_import {
        BasketImport::Replace => Vec::new(),
        BasketImport::Append => inner.accounts[account].basket.clone(),
    };
    lines.extend(good);
    // Totals first: a basket whose totals pass the decimal range is refused unchanged.
    let (net, gross) = totals(inner, &lines)?;
    inner.accounts[account].basket = lines.clone();
    Ok(Out::obj([
        ("basketId", Out::s(format!("B-{}", inner.accounts[account].login))),
        (el::PRODUCTS, Out::List("productResultType", items)),
        ("basketLines", Out::Int(i64::try_from(lines.len()).unwrap_or(i64::MAX))),
        ("productsNet", Out::Dec(net)),
        ("productsGross", Out::Dec(gross)),
        ("currency", Out::s(super::demo::CURRENCY)),
    ]))
}
