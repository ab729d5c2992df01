//! SOAP 1.1 rpc/encoded messages (the IdoSell contract §2.1, §2.3): a reader that turns the
//! envelope (or a JSON twin body) into a [`Node`] tree, and writers for replies and faults.
//!
//! The reader is as strict as the contract's SOAP 1.1 server (§2.1 \[C\]: the `SOAP-ENV` /
//! `SOAP-ENC` 1.1 namespaces): the root must be `Envelope` in the SOAP 1.1 envelope namespace
//! (anything else, a SOAP 1.2 envelope included, is a `VersionMismatch`, SOAP 1.1 §4.4.1), its
//! children `Header` (optional) and `Body` in that namespace, an `encodingStyle` anywhere must be
//! the SOAP 1.1 encoding namespace, and only the 1.1 encoding namespace marks an array
//! (`SOAP-ENC:arrayType`, or `xsi:type="SOAP-ENC:Array"`). Below the method element names are
//! matched by local name (PHP's SOAP server ignores the prefix of rpc parameters and struct
//! fields) with their exact case; other prefixed attributes (`xsi:type`, …) are ignored; unprefixed
//! attributes (the ICDF notation `<product code=".." codeType=".."/>`, §4) count as fields.

use std::fmt::Write as _;

use std::borrow::Cow;

use quick_xml::{
    events::{BytesStart, Event},
    name::{QName, ResolveResult},
    NsReader, Reader, XmlVersion,
};
use rust_decimal::Decimal;

use super::names::{SOAP_ENC_NS, SOAP_ENV_NS};

/// Escapes text for element content or an attribute value: `&`, `<`, `>`, `"`, `'` as entities
/// and a carriage return as `&#13;` (XML 1.0 §2.11 has a parser turn a raw one into a line
/// feed, so a reply would carry other text than was stored).
pub(crate) fn escape(text: &str) -> Cow<'_, str> {
    if !text.contains(['&', '<', '>', '"', '\'', '\r']) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// The XML Schema instance namespace (`xsi:type`).
const XSI_NS: &str = "http://www.w3.org/2001/XMLSchema-instance";
/// The SOAP 1.2 envelope namespace: named only to say why such a request is refused.
pub(crate) const SOAP12_ENV_NS: &str = "http://www.w3.org/2003/05/soap-envelope";

/// A request value: text, fields in document order (names are local names), or a list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Node {
    Text(String),
    Obj(Vec<(String, Node)>),
    List(Vec<Node>),
}

impl Node {
    /// The first field named exactly `name` (element names are case-sensitive, as in XML and in
    /// PHP's SOAP server; the adapter's names table spells them as the simulator's does).
    pub fn get(&self, name: &str) -> Option<&Node> {
        match self {
            Node::Obj(f) => f.iter().find(|(k, _)| k == name).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Trimmed text of a field; empty text counts as absent. Simulator decision: the contract
    /// says nothing about whitespace around values, so leading and trailing whitespace is
    /// ignored (a pretty-printed request reads the same as a compact one).
    pub fn text(&self, name: &str) -> Option<&str> {
        match self.get(name)? {
            Node::Text(t) => Some(t.trim()).filter(|t| !t.is_empty()),
            _ => None,
        }
    }

    /// Field names not in `known` (exact case).
    pub fn unknown_fields(&self, known: &[&str]) -> Vec<String> {
        match self {
            Node::Obj(f) => {
                f.iter().filter(|(k, _)| !known.contains(&k.as_str())).map(|(k, _)| k.clone()).collect()
            }
            _ => Vec::new(),
        }
    }

    /// The elements of a list field, however it is written: a SOAP-ENC array of `item`, a
    /// wrapper with repeated children (`<products><product/>…</products>`), a single child, or a
    /// JSON array.
    pub fn items(&self) -> Vec<&Node> {
        match self {
            Node::List(v) => v.iter().collect(),
            Node::Obj(f) => {
                let same = f.first().map(|(k, _)| k.as_str());
                // A wrapper repeats one child name; a lone text child is a field, not an item.
                let wrapper =
                    f.len() > 1 || same == Some("item") || !matches!(f.first(), Some((_, Node::Text(_))));
                if wrapper && same.is_some() && f.iter().all(|(k, _)| Some(k.as_str()) == same) {
                    match f.as_slice() {
                        // A wrapper around one list (`<products><product>` JSON style).
                        [(_, Node::List(v))] => v.iter().collect(),
                        _ => f.iter().map(|(_, v)| v).collect(),
                    }
                } else {
                    vec![self]
                }
            }
            Node::Text(t) if t.trim().is_empty() => Vec::new(),
            Node::Text(_) => vec![self],
        }
    }

    /// Every text anywhere below this node.
    pub fn texts(&self) -> Vec<&str> {
        match self {
            Node::Text(t) => vec![t.trim()],
            Node::Obj(f) => f.iter().flat_map(|(_, v)| v.texts()).collect(),
            Node::List(v) => v.iter().flat_map(Node::texts).collect(),
        }
    }

    /// Converts a JSON twin body.
    pub fn from_json(v: &serde_json::Value) -> Node {
        use serde_json::Value as V;
        match v {
            V::Null => Node::Text(String::new()),
            V::Bool(b) => Node::Text(b.to_string()),
            V::Number(n) => Node::Text(n.to_string()),
            V::String(s) => Node::Text(s.clone()),
            V::Array(a) => Node::List(a.iter().map(Node::from_json).collect()),
            V::Object(o) => Node::Obj(o.iter().map(|(k, v)| (k.clone(), Node::from_json(v))).collect()),
        }
    }
}

/// A parsed SOAP request: the method element's local name and its content.
#[derive(Debug)]
pub(crate) struct Call {
    pub method: String,
    pub body: Node,
}

/// Why a request is not a SOAP 1.1 message the gates serve: the `faultcode` of the SOAP 1.1
/// `Fault` that answers it (SOAP 1.1 §4.4.1) and its `faultstring`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The root is not `Envelope` in the SOAP 1.1 envelope namespace (a SOAP 1.2 envelope, a
    /// wrong or missing namespace).
    VersionMismatch(String),
    /// Anything else: unparsable XML, no `Body`, an unknown encoding style.
    Client(String),
}

impl Refusal {
    /// The SOAP 1.1 `faultcode` without its prefix.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::VersionMismatch(_) => "VersionMismatch",
            Refusal::Client(_) => "Client",
        }
    }

    /// The `faultstring`.
    pub fn text(&self) -> &str {
        match self {
            Refusal::VersionMismatch(t) | Refusal::Client(t) => t,
        }
    }
}

/// An element being read.
struct Frame {
    /// Namespace URI; `None` when unqualified.
    ns: Option<String>,
    name: String,
    fields: Vec<(String, Node)>,
    /// Namespace URI of each field's element (`None` for attributes and unqualified elements).
    field_ns: Vec<Option<String>>,
    text: String,
    array: bool,
}

/// A finished element: namespace, local name, content.
struct Done {
    ns: Option<String>,
    name: String,
    node: Node,
    /// The namespaces of the direct children (parallel to the fields of an `Obj` node).
    field_ns: Vec<Option<String>>,
}

fn utf8(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The namespace URI of a resolution; an undeclared prefix is a namespace well-formedness error.
fn namespace(r: &ResolveResult<'_>) -> Result<Option<String>, String> {
    match r {
        ResolveResult::Unbound => Ok(None),
        ResolveResult::Bound(ns) => Ok(Some(utf8(ns.as_ref()))),
        ResolveResult::Unknown(p) => Err(format!("undeclared namespace prefix {}", utf8(p))),
    }
}

fn frame<R>(reader: &NsReader<R>, ns: Option<String>, e: &BytesStart<'_>) -> Result<Frame, String> {
    let resolver = reader.resolver();
    let (_, local) = resolver.resolve_element(e.name());
    let mut f = Frame {
        ns,
        name: utf8(local.as_ref()),
        fields: Vec::new(),
        field_ns: Vec::new(),
        text: String::new(),
        array: false,
    };
    for a in e.attributes() {
        let a = a.map_err(|e| e.to_string())?;
        if a.key.as_namespace_binding().is_some() {
            continue;
        }
        let value = a.normalized_value(XmlVersion::Implicit1_0).map_err(|e| e.to_string())?.into_owned();
        let (r, local) = resolver.resolve_attribute(a.key);
        let local = utf8(local.as_ref());
        match namespace(&r)?.as_deref() {
            None => {
                f.fields.push((local, Node::Text(value)));
                f.field_ns.push(None);
            }
            Some(SOAP_ENC_NS) if local == "arrayType" => f.array = true,
            Some(XSI_NS) if local == "type" => {
                let (r, ty) = resolver.resolve_element(QName(value.as_bytes()));
                if ty.as_ref() == b"Array" && namespace(&r)?.as_deref() == Some(SOAP_ENC_NS) {
                    f.array = true;
                }
            }
            // PHP's SOAP server answers any other encoding style with a Client fault.
            Some(SOAP_ENV_NS) if local == "encodingStyle" && value.trim() != SOAP_ENC_NS => {
                return Err(format!("Unknown Data Encoding Style {value}"));
            }
            Some(_) => {}
        }
    }
    Ok(f)
}

fn finish(f: Frame) -> Done {
    let node = if f.fields.is_empty() {
        if f.array {
            Node::List(Vec::new())
        } else {
            Node::Text(f.text)
        }
    } else if f.array || f.fields.iter().all(|(k, _)| k == "item") && f.fields.len() > 1 {
        Node::List(f.fields.into_iter().map(|(_, v)| v).collect())
    } else {
        Node::Obj(f.fields)
    };
    Done { ns: f.ns, name: f.name, node, field_ns: f.field_ns }
}

/// How deep a request's elements may nest (IdoSell's own requests go about ten levels deep).
const MAX_DEPTH: usize = 64;

/// True for a character XML 1.0's `Char` production leaves out: U+0000–U+0008, U+000B,
/// U+000C, U+000E–U+001F, U+FFFE, U+FFFF (surrogates cannot occur in a Rust string).
fn forbidden_in_xml(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{8}' | '\u{B}' | '\u{C}' | '\u{E}'..='\u{1F}' | '\u{FFFE}' | '\u{FFFF}')
}

/// Parses an XML document into its root element, with namespaces resolved.
fn parse_document(bytes: &[u8]) -> Result<Done, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "request is not UTF-8".to_string())?;
    // libxml refuses a document holding a character XML 1.0 does not allow, wherever it is
    // (checklist 9: unparsable XML is a SOAP Fault); the reader below would take it as text.
    if let Some((at, c)) = text.char_indices().find(|&(_, c)| forbidden_in_xml(c)) {
        return Err(format!("invalid XML character U+{:04X} at byte {at}", u32::from(c)));
    }
    let mut reader = NsReader::from_str(text);
    let mut stack: Vec<Frame> = Vec::new();
    let mut root: Option<Done> = None;
    loop {
        let (ns, ev) = match reader.read_resolved_event() {
            Ok((r, ev)) => (namespace(&r), ev),
            Err(e) => return Err(format!("{e} at {}", reader.buffer_position())),
        };
        let mut push = |d: Done, stack: &mut Vec<Frame>| match stack.last_mut() {
            Some(p) => {
                p.fields.push((d.name, d.node));
                p.field_ns.push(d.ns);
            }
            None => root = Some(d),
        };
        match ev {
            Event::Start(e) => {
                // A deeper request would be built, walked and dropped by recursion: refused as
                // malformed before it can overflow a worker's stack.
                if stack.len() >= MAX_DEPTH {
                    return Err(format!("elements nested deeper than {MAX_DEPTH} levels"));
                }
                let f = frame(&reader, ns?, &e)?;
                stack.push(f);
            }
            Event::Empty(e) => {
                let f = frame(&reader, ns?, &e)?;
                push(finish(f), &mut stack);
            }
            Event::End(_) => {
                let f = stack.pop().ok_or("unbalanced end tag")?;
                push(finish(f), &mut stack);
            }
            Event::Text(t) => {
                let s = t.xml10_content().map_err(|e| e.to_string())?;
                if let Some(f) = stack.last_mut() {
                    f.text.push_str(&s);
                } else if !s.trim().is_empty() {
                    return Err("text outside the root element".into());
                }
            }
            Event::CData(t) => {
                if let Some(f) = stack.last_mut() {
                    f.text.push_str(&String::from_utf8_lossy(&t));
                }
            }
            Event::GeneralRef(r) => {
                let c = match r.resolve_char_ref().map_err(|e| e.to_string())? {
                    // A reference to a character XML 1.0 leaves out is ill-formed too.
                    Some(c) if forbidden_in_xml(c) => {
                        return Err(format!("invalid XML character reference U+{:04X}", u32::from(c)))
                    }
                    Some(c) => c,
                    None => match r.decode().map_err(|e| e.to_string())?.as_ref() {
                        "lt" => '<',
                        "gt" => '>',
                        "amp" => '&',
                        "apos" => '\'',
                        "quot" => '"',
                        other => return Err(format!("unknown entity &{other};")),
                    },
                };
                if let Some(f) = stack.last_mut() {
                    f.text.push(c);
                }
            }
            Event::Eof => break,
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
    if !stack.is_empty() {
        return Err("unexpected end of document".into());
    }
    root.ok_or_else(|| "no XML document".into())
}

/// Parses an XML document into its root element's local name and content.
#[cfg(test)]
pub(crate) fn parse_xml(bytes: &[u8]) -> Result<(String, Node), String> {
    parse_document(bytes).map(|d| (d.name, d.node))
}

/// Reads a SOAP 1.1 envelope: `Envelope` › (`Header`) › `Body` › the method element, refusing
/// what a SOAP 1.1 server refuses (module docs). Unparsable XML is a `Client` refusal with the
/// text PHP's SOAP server gives (`Bad Request`).
pub(crate) fn parse_envelope(bytes: &[u8]) -> Result<Call, Refusal> {
    let root = parse_document(bytes).map_err(|e| Refusal::Client(format!("Bad Request: {e}")))?;
    let soap11 = |ns: &Option<String>| ns.as_deref() == Some(SOAP_ENV_NS);
    if !(root.name == "Envelope" && soap11(&root.ns)) {
        let why = match root.ns.as_deref() {
            Some(SOAP12_ENV_NS) => "a SOAP 1.2 envelope; this server speaks SOAP 1.1 only".to_string(),
            Some(ns) => format!("root element {{{ns}}}{}, not the SOAP 1.1 Envelope", root.name),
            None => format!("root element {} has no namespace, not the SOAP 1.1 Envelope", root.name),
        };
        return Err(Refusal::VersionMismatch(format!("Wrong Version: {why}")));
    }
    let children = match root.node {
        Node::Obj(f) => f,
        _ => Vec::new(),
    };
    let mut body = None;
    for (i, ((name, node), ns)) in children.into_iter().zip(root.field_ns).enumerate() {
        match (name.as_str(), soap11(&ns), &body) {
            ("Header", true, None) if i == 0 => {}
            ("Body", true, None) => body = Some(node),
            _ => {
                return Err(Refusal::Client(format!(
                    "unexpected element {name} in the SOAP 1.1 Envelope (Header? then Body)"
                )))
            }
        }
    }
    match body.ok_or_else(|| Refusal::Client("Body must be present in a SOAP envelope".into()))? {
        Node::Obj(f) => {
            let (method, content) =
                f.into_iter().next().ok_or_else(|| Refusal::Client("Body is empty".into()))?;
            Ok(Call { method, body: content })
        }
        Node::List(_) | Node::Text(_) => Err(Refusal::Client("Body has no method element".into())),
    }
}

fn local(qname: &[u8]) -> String {
    let s = String::from_utf8_lossy(qname);
    s.rsplit(':').next().unwrap_or(&s).to_string()
}

/// Reads just enough of a body to name its method element (for route names).
pub(crate) fn method_of(bytes: &[u8]) -> Option<String> {
    let mut reader = Reader::from_reader(bytes);
    let mut buf = Vec::new();
    let mut in_body = false;
    loop {
        match reader.read_event_into(&mut buf).ok()? {
            Event::Start(e) | Event::Empty(e) => {
                let name = local(e.name().as_ref());
                if in_body {
                    return Some(name);
                }
                in_body = name == "Body";
            }
            Event::Eof => return None,
            _ => {}
        }
        buf.clear();
    }
}

/// A reply value, written in order.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Out {
    Str(String),
    Int(i64),
    Dec(Decimal),
    Bool(bool),
    Obj(Vec<(String, Out)>),
    /// Item type name (for `SOAP-ENC:arrayType`) and items.
    List(&'static str, Vec<Out>),
}

impl Out {
    pub fn s(v: impl Into<String>) -> Out {
        Out::Str(v.into())
    }

    pub fn obj<const N: usize>(fields: [(&str, Out); N]) -> Out {
        Out::Obj(fields.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
    }

    fn xsi_type(&self, name: &str) -> String {
        match self {
            Out::Str(_) => "xsd:string".into(),
            Out::Int(_) => "xsd:int".into(),
            Out::Dec(_) => "xsd:float".into(),
            Out::Bool(_) => "xsd:boolean".into(),
            Out::Obj(_) => format!("ns1:{name}Type"),
            Out::List(..) => "SOAP-ENC:Array".into(),
        }
    }

    fn write_xml(&self, name: &str, out: &mut String) {
        let ty = self.xsi_type(name);
        match self {
            Out::Str(s) => {
                let _ = write!(out, "<{name} xsi:type=\"{ty}\">{}</{name}>", escape(s.as_str()));
            }
            Out::Int(i) => {
                let _ = write!(out, "<{name} xsi:type=\"{ty}\">{i}</{name}>");
            }
            Out::Dec(d) => {
                let _ = write!(out, "<{name} xsi:type=\"{ty}\">{d}</{name}>");
            }
            Out::Bool(b) => {
                let _ = write!(out, "<{name} xsi:type=\"{ty}\">{b}</{name}>");
            }
            Out::Obj(fields) => {
                let _ = write!(out, "<{name} xsi:type=\"{ty}\">");
                for (k, v) in fields {
                    v.write_xml(k, out);
                }
                let _ = write!(out, "</{name}>");
            }
            Out::List(item, items) => {
                let item_ty = if item.starts_with("xsd:") { item.to_string() } else { format!("ns1:{item}") };
                let _ = write!(
                    out,
                    "<{name} SOAP-ENC:arrayType=\"{item_ty}[{}]\" xsi:type=\"{ty}\">",
                    items.len()
                );
                for v in items {
                    match v {
                        Out::Obj(_) => {
                            let _ = write!(out, "<item xsi:type=\"{item_ty}\">");
                            if let Out::Obj(fields) = v {
                                for (k, f) in fields {
                                    f.write_xml(k, out);
                                }
                            }
                            out.push_str("</item>");
                        }
                        _ => v.write_xml("item", out),
                    }
                }
                let _ = write!(out, "</{name}>");
            }
        }
    }

    /// JSON text with fields in order (serde_json's map would sort them).
    pub fn write_json(&self, out: &mut String) {
        match self {
            Out::Obj(f) => {
                out.push('{');
                for (i, (k, v)) in f.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&serde_json::Value::String(k.clone()).to_string());
                    out.push(':');
                    v.write_json(out);
                }
                out.push('}');
            }
            Out::List(_, v) => {
                out.push('[');
                for (i, x) in v.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    x.write_json(out);
                }
                out.push(']');
            }
            Out::Str(v) => out.push_str(&serde_json::Value::String(v.clone()).to_string()),
            Out::Int(i) => out.push_str(&i.to_string()),
            // The decimal's own digits are a valid JSON number: no trip through f64.
            Out::Dec(d) => out.push_str(&d.to_string()),
            Out::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        }
    }
}

/// The SOAP reply: `{method}Response` › `{response}` › fields (the `errors` block first).
pub(crate) fn envelope(namespace: &str, method: &str, response: &str, fields: &[(String, Out)]) -> String {
    let mut out = String::with_capacity(1024);
    let _ = write!(
        out,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<SOAP-ENV:Envelope xmlns:SOAP-ENV=\"{SOAP_ENV_NS}\" \
         xmlns:ns1=\"{}\" xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" \
         xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xmlns:SOAP-ENC=\"{SOAP_ENC_NS}\" \
         SOAP-ENV:encodingStyle=\"{SOAP_ENC_NS}\"><SOAP-ENV:Body><ns1:{method}Response>",
        escape(namespace)
    );
    Out::Obj(fields.to_vec()).write_xml(response, &mut out);
    let _ = writeln!(out, "</ns1:{method}Response></SOAP-ENV:Body></SOAP-ENV:Envelope>");
    out
}

/// A SOAP 1.1 `Fault` (§6.1: only for protocol problems such as unparsable XML or an unknown
/// method), with `faultcode` `SOAP-ENV:Client` or `SOAP-ENV:Server`.
pub(crate) fn fault(code: &str, text: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<SOAP-ENV:Envelope xmlns:SOAP-ENV=\"{SOAP_ENV_NS}\">\
         <SOAP-ENV:Body><SOAP-ENV:Fault><faultcode>SOAP-ENV:{code}</faultcode><faultstring>{}</faultstring>\
         </SOAP-ENV:Fault></SOAP-ENV:Body></SOAP-ENV:Envelope>\n",
        escape(text)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENV: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:ns1="x"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:SOAP-ENC="http://schemas.xmlsoap.org/soap/encoding/">
 <SOAP-ENV:Body>
  <ns1:checkAvailability>
   <request xsi:type="ns1:requestType">
    <sessionKey xsi:type="xsd:string">abc</sessionKey>
    <params>
     <products SOAP-ENC:arrayType="ns1:productType[2]" xsi:type="SOAP-ENC:Array">
      <item><code>COF-500</code><codeType>internal</codeType><quantity>2</quantity></item>
      <item><code>A &amp; B&#x21;</code></item>
     </products>
     <icdf><product code="MUG-1" codeType="internal" quantity="1"/></icdf>
    </params>
   </request>
  </ns1:checkAvailability>
 </SOAP-ENV:Body>
</SOAP-ENV:Envelope>"#;

    #[test]
    fn envelope_yields_method_and_fields_without_prefixes() {
        let c = parse_envelope(ENV.as_bytes()).unwrap();
        assert_eq!(c.method, "checkAvailability");
        let req = c.body.get("request").unwrap();
        assert_eq!(req.text("sessionKey"), Some("abc"));
        assert_eq!(req.text("SESSIONKEY"), None, "element names keep their case");
        let products = req.get("params").unwrap().get("products").unwrap().items();
        assert_eq!(products.len(), 2);
        assert_eq!(products[0].text("code"), Some("COF-500"));
        assert_eq!(products[1].text("code"), Some("A & B!"));
    }

    #[test]
    fn a_request_nested_thousands_deep_is_a_client_fault_not_a_stack_overflow() {
        let body = ENV.replace("<sessionKey", &format!("{}<sessionKey", "<a>".repeat(200_000)));
        let body = body.replace("</params>", &format!("{}</params>", "</a>".repeat(200_000)));
        // On a 2 MiB stack, as a tokio worker has.
        let refused = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || matches!(parse_envelope(body.as_bytes()), Err(Refusal::Client(m)) if m.contains("deeper than 64")))
            .unwrap();
        assert!(refused.join().unwrap());
    }

    #[test]
    fn icdf_attributes_count_as_fields() {
        let c = parse_envelope(ENV.as_bytes()).unwrap();
        let icdf = c.body.get("request").unwrap().get("params").unwrap().get("icdf").unwrap();
        let lines = icdf.items();
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].text("codeType"), Some("internal"));
    }

    #[test]
    fn broken_xml_is_an_error() {
        assert!(parse_envelope(b"<SOAP-ENV:Envelope><SOAP-ENV:Body>").is_err());
        assert!(parse_envelope(b"<a><b></a>").is_err());
        assert!(parse_envelope(b"not xml").is_err());
    }

    fn refusal(xml: &str) -> Refusal {
        parse_envelope(xml.as_bytes()).unwrap_err()
    }

    #[test]
    fn a_character_xml_1_0_forbids_is_a_client_fault_raw_or_referenced() {
        for c in ['\u{0}', '\u{1}', '\u{8}', '\u{B}', '\u{C}', '\u{1F}', '\u{FFFE}', '\u{FFFF}'] {
            let raw = ENV.replace("COF-500", &format!("COF{c}500"));
            let r = refusal(&raw);
            assert_eq!(r.code(), "Client", "U+{:04X}", u32::from(c));
            assert!(r.text().starts_with("Bad Request"), "{}", r.text());
            let referenced = ENV.replace("COF-500", &format!("COF&#x{:X};500", u32::from(c)));
            assert_eq!(refusal(&referenced).code(), "Client", "&#x{:X};", u32::from(c));
        }
        // Tab, LF, CR and U+007F–U+009F are allowed.
        let fine = ENV.replace("COF-500", "COF\t\u{7f}\u{85}\u{9f}&#x9;&#xA;&#xD;500");
        assert!(parse_envelope(fine.as_bytes()).is_ok());
    }

    #[test]
    fn only_the_soap_1_1_envelope_namespace_is_served() {
        let soap12 = ENV.replace("http://schemas.xmlsoap.org/soap/envelope/", SOAP12_ENV_NS);
        assert_eq!(refusal(&soap12).code(), "VersionMismatch");
        assert!(refusal(&soap12).text().contains("SOAP 1.2"));
        let other = ENV.replace("http://schemas.xmlsoap.org/soap/envelope/", "urn:not-soap");
        assert_eq!(refusal(&other).code(), "VersionMismatch");
        assert_eq!(refusal("<Envelope><Body><m/></Body></Envelope>").code(), "VersionMismatch");
        // A well-formed envelope whose prefix is never declared is malformed XML (namespaces).
        assert_eq!(refusal("<SOAP-ENV:Envelope><SOAP-ENV:Body/></SOAP-ENV:Envelope>").code(), "Client");
    }

    #[test]
    fn body_and_encoding_style_must_be_soap_1_1() {
        let e = r#"<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/">"#;
        assert_eq!(refusal(&format!("{e}</e:Envelope>")).code(), "Client");
        assert_eq!(refusal(&format!("{e}<Body><m/></Body></e:Envelope>")).code(), "Client");
        assert_eq!(refusal(&format!("{e}<e:Body/></e:Envelope>")).code(), "Client");
        assert_eq!(
            refusal(&format!("{e}<e:Body><m/></e:Body><e:Body><m/></e:Body></e:Envelope>")).code(),
            "Client"
        );
        let enc12 = r#"<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/" e:encodingStyle="http://www.w3.org/2003/05/soap-encoding"><e:Body><m/></e:Body></e:Envelope>"#;
        assert_eq!(refusal(enc12).code(), "Client");
        let ok = parse_envelope(
            format!("{e}<e:Header><h/></e:Header><e:Body><m><x>1</x></m></e:Body></e:Envelope>").as_bytes(),
        )
        .unwrap();
        assert_eq!((ok.method.as_str(), ok.body.text("x")), ("m", Some("1")));
    }

    #[test]
    fn only_the_soap_1_1_encoding_namespace_marks_an_array() {
        let with = |ns: &str| {
            format!(
                r#"<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/" xmlns:enc="{ns}"><e:Body><m><a enc:arrayType="xsd:string[0]"/></m></e:Body></e:Envelope>"#
            )
        };
        let call = parse_envelope(with(SOAP_ENC_NS).as_bytes()).unwrap();
        assert_eq!(call.body.get("a"), Some(&Node::List(Vec::new())));
        let call = parse_envelope(with("http://www.w3.org/2003/05/soap-encoding").as_bytes()).unwrap();
        assert_eq!(call.body.get("a"), Some(&Node::Text(String::new())));
    }

    #[test]
    fn method_of_finds_the_first_element_in_body() {
        assert_eq!(method_of(ENV.as_bytes()).as_deref(), Some("checkAvailability"));
        assert_eq!(method_of(b"<x/>"), None);
    }

    #[test]
    fn a_carriage_return_is_read_from_its_reference_and_written_as_one() {
        // XML 1.0 §2.11: a raw CR reads as LF, `&#13;` as CR; a reply writes CR as `&#13;`.
        let call = parse_envelope(ENV.replace("COF-500", "COF&#13;500\r\n").as_bytes()).unwrap();
        let products =
            call.body.get("request").unwrap().get("params").unwrap().get("products").unwrap().items();
        assert_eq!(products[0].text("code"), Some("COF\r500"));
        let raw = parse_envelope(ENV.replace("COF-500", "COF\r500").as_bytes()).unwrap();
        let products =
            raw.body.get("request").unwrap().get("params").unwrap().get("products").unwrap().items();
        assert_eq!(products[0].text("code"), Some("COF\n500"));
        let fields = vec![("street".to_string(), Out::s("a\rb\r\nc"))];
        let xml = envelope("getClientAddresses", "getClientAddresses", "response", &fields);
        assert!(xml.contains(">a&#13;b&#13;\nc<"), "{xml}");
        let (_, root) = parse_xml(xml.as_bytes()).unwrap();
        let body = root.get("Body").unwrap().get("getClientAddressesResponse").unwrap();
        assert_eq!(body.get("response").unwrap().text("street"), Some("a\rb\r\nc"));
    }

    #[test]
    fn reply_round_trips_through_the_reader() {
        let fields = vec![
            ("errors".to_string(), Out::obj([("faultCode", Out::Int(0)), ("faultString", Out::s(""))])),
            ("results".to_string(), Out::obj([("n", Out::List("xsd:string", vec![Out::s("a<b")]))])),
        ];
        let xml = envelope("placeOrder", "placeOrder", "response", &fields);
        let (_, root) = parse_xml(xml.as_bytes()).unwrap();
        let resp = root.get("Body").unwrap().get("placeOrderResponse").unwrap().get("response").unwrap();
        assert_eq!(resp.get("errors").unwrap().text("faultCode"), Some("0"));
        let n = resp.get("results").unwrap().get("n").unwrap().items();
        assert_eq!(n[0], &Node::Text("a<b".into()));
    }
}
