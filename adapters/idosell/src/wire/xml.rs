//! SOAP 1.1 rpc/encoded envelopes: written by hand (§9.1 item 4) and read leniently (§9.1:
//! `xsi:type` ignored, prefixes and casing ignored through [`same_name`], optional elements may
//! be missing, `SOAP-ENC:Array`s of `item` read as lists, ICDF attributes read as fields).
//!
//! SOAP 1.1 encoding's references are read too (SOAP 1.1 §5.4.1, what PHP's `SoapServer` writes
//! for a value it meets twice, and a `multiRef` element after the reply as other servers
//! write it): `id`, `href` and `root` are no fields, and an element `href="#x"` reads as the
//! element carrying `id="x"`, bounded (no cycles, [`MAX_DEPTH`] levels, [`MAX_REF_NODES`]
//! elements copied); a reference to no element is an error naming the field. Only elements a
//! reference names are kept for that (a first pass collects the `href`s, see
//! [`referenced_ids`]): an `id` nothing names costs nothing.
//!
//! Two readers: [`parse`] builds a small tree of a whole document (replies of a few KB), and
//! [`stream_items`] walks a document once and hands over one list item at a time, so a large
//! reply (G7 with thousands of orders) is never held as a tree (§9.1, the benchmark measures it).
//! A reply that holds references is read as a tree by both, since the element a reference names
//! may come after it.

use std::borrow::Cow;
use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};
use rust_decimal::Decimal;

use super::convert::Refused;
use crate::names::{
    same_name, Gate, Names, ERRORS, FAULT_CODE, FAULT_STRING, RESULT, SOAP_ENC_NS, SOAP_ENV_NS,
};

// ------------------------------------------------------------------------------------ writing

/// Escapes `text` for element content or an attribute value: `&`, `<`, `>`, `"` and `'` as
/// entities, and a carriage return as `&#13;`. Every text the adapter writes into XML goes
/// through here.
///
/// A raw carriage return would not survive: XML 1.0 §2.11 has every parser turn one (alone or
/// before a line feed) into a line feed, so the wholesaler would store other text than the
/// shop sent; a character reference is read back as the carriage return itself.
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

/// The first character of `text` that XML 1.0 does not allow in a document (its `Char`
/// production: U+0000–U+0008, U+000B, U+000C, U+000E–U+001F, U+FFFE, U+FFFF; surrogates
/// cannot occur in a Rust string). Escaping cannot carry them: a character reference to one is
/// ill-formed too, and a PHP/libxml server refuses the whole body with a SOAP `Client` fault.
/// U+007F–U+009F are allowed (only discouraged), so they pass.
pub(crate) fn forbidden_char(text: &str) -> Option<char> {
    text.chars().find(|&c| {
        matches!(c, '\u{0}'..='\u{8}' | '\u{B}' | '\u{C}' | '\u{E}'..='\u{1F}' | '\u{FFFE}' | '\u{FFFF}')
    })
}

/// Writes the elements of a `params` block (or any SOAP-encoded content).
///
/// Text XML 1.0 cannot carry (see [`forbidden_char`]) is not sent: the first such element is
/// remembered with its path (`note`, `recipient.street`, `products[1].comment`) and
/// [`Writer::into_string`] refuses the block with it.
#[derive(Debug, Default)]
pub(crate) struct Writer {
    out: String,
    /// The open elements: name and, for an array, the items opened so far.
    open: Vec<(String, usize)>,
    refused: Option<Refused>,
}

impl Writer {
    pub fn new() -> Writer {
        Writer::default()
    }

    /// The written block.
    ///
    /// # Errors
    /// The first text that XML 1.0 cannot carry, by its element's path (`Invalid`, effect
    /// `NotSent`, once the caller names its operation).
    pub fn into_string(self) -> Result<String, Refused> {
        match self.refused {
            Some(r) => Err(r),
            None => Ok(self.out),
        }
    }

    /// The path of element `name` under the open elements (`recipient.street`,
    /// `products[0].code`).
    fn path(&self, name: &str) -> String {
        let mut p = String::new();
        for (n, _) in &self.open {
            if !(p.is_empty() || n.starts_with('[')) {
                p.push('.');
            }
            p.push_str(n);
        }
        if !(p.is_empty() || name.starts_with('[')) {
            p.push('.');
        }
        p.push_str(name);
        p
    }

    /// Remembers the first text XML 1.0 cannot carry.
    fn check(&mut self, name: &str, value: &str) {
        if self.refused.is_some() {
            return;
        }
        if let Some(c) = forbidden_char(value) {
            self.refused = Some(Refused::new(
                self.path(name),
                format!("holds U+{:04X}, a character XML 1.0 does not allow", u32::from(c)),
            ));
        }
    }

    /// `<name xsi:type="xsd:string">text</name>`.
    pub fn text(&mut self, name: &str, value: &str) {
        self.check(name, value);
        let _ = write!(self.out, "<{name} xsi:type=\"xsd:string\">{}</{name}>", escape(value));
    }

    /// A string element, only when there is a value.
    pub fn opt_text(&mut self, name: &str, value: Option<&str>) {
        if let Some(v) = value {
            self.text(name, v);
        }
    }

    /// `<name xsi:type="xsd:int">n</name>`.
    pub fn int(&mut self, name: &str, value: i64) {
        let _ = write!(self.out, "<{name} xsi:type=\"xsd:int\">{value}</{name}>");
    }

    /// A decimal from its own digits (never through a float): `xsd:float`, as PHP's SOAP
    /// server types numbers (§2.1).
    pub fn decimal(&mut self, name: &str, value: Decimal) {
        let _ = write!(self.out, "<{name} xsi:type=\"xsd:float\">{}</{name}>", value.normalize());
    }

    /// Opens a struct element of type `ns1:{ty}`.
    pub fn open(&mut self, name: &str, ty: &str) {
        self.open.push((name.to_string(), 0));
        let _ = write!(self.out, "<{name} xsi:type=\"ns1:{ty}\">");
    }

    /// Closes an element.
    pub fn close(&mut self, name: &str) {
        self.open.pop();
        let _ = write!(self.out, "</{name}>");
    }

    /// Opens a `SOAP-ENC:Array` of `count` items of type `item_type` (`ns1:productType`,
    /// `xsd:string`).
    pub fn open_array(&mut self, name: &str, item_type: &str, count: usize) {
        self.open.push((name.to_string(), 0));
        let _ = write!(
            self.out,
            "<{name} SOAP-ENC:arrayType=\"{item_type}[{count}]\" xsi:type=\"SOAP-ENC:Array\">"
        );
    }

    /// The index of the next item of the array open last.
    fn next_item(&mut self) -> usize {
        self.open.last_mut().map_or(0, |(_, items)| {
            *items += 1;
            *items - 1
        })
    }

    /// Opens one struct item of an array.
    pub fn open_item(&mut self, item_type: &str) {
        let i = self.next_item();
        self.open.push((format!("[{i}]"), 0));
        let _ = write!(self.out, "<item xsi:type=\"{item_type}\">");
    }

    /// Closes an array item.
    pub fn close_item(&mut self) {
        self.open.pop();
        self.out.push_str("</item>");
    }

    /// An array of strings.
    pub fn strings(&mut self, name: &str, values: &[String]) {
        self.open_array(name, "xsd:string", values.len());
        for v in values {
            let i = self.next_item();
            self.check(&format!("[{i}]"), v);
            let _ = write!(self.out, "<item xsi:type=\"xsd:string\">{}</item>", escape(v.as_str()));
        }
        self.close(name);
    }
}

/// An envelope for `gate`, split around the credentials so a transport attempt can put its
/// current session key in without writing the rest again (§2.3).
#[derive(Debug, Clone)]
pub(crate) struct Envelope {
    /// Everything up to and including `<request>`.
    pub head: String,
    /// The `params` block and everything after it.
    pub tail: String,
}

impl Envelope {
    /// An envelope whose `request` holds the credentials and then `params` (§2.3).
    pub fn new(names: &Names, gate: &Gate, params: &str) -> Envelope {
        let m = &gate.method;
        let request = &names.request;
        let head = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<SOAP-ENV:Envelope xmlns:SOAP-ENV=\"{SOAP_ENV_NS}\" \
             xmlns:ns1=\"{}\" xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" \
             xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xmlns:SOAP-ENC=\"{SOAP_ENC_NS}\" \
             SOAP-ENV:encodingStyle=\"{SOAP_ENC_NS}\"><SOAP-ENV:Body><ns1:{m}><{request} \
             xsi:type=\"ns1:requestType\">",
            escape(&gate.namespace)
        );
        let p = &names.params;
        let tail = format!(
            "<{p} xsi:type=\"ns1:paramsType\">{params}</{p}></{request}></ns1:{m}></SOAP-ENV:Body></SOAP-ENV:Envelope>\n"
        );
        Envelope { head, tail }
    }

    /// An envelope whose `request` holds only what is written into it (G1 `Authenticate` has
    /// no `params`, §5 G1).
    pub fn bare(names: &Names, gate: &Gate) -> Envelope {
        let mut e = Envelope::new(names, gate, "");
        let m = &gate.method;
        e.tail = format!("</{}></ns1:{m}></SOAP-ENV:Body></SOAP-ENV:Envelope>\n", names.request);
        e
    }

    /// The whole body with these credential elements (already written) in `request`.
    pub fn with(&self, credentials: &str) -> Vec<u8> {
        let mut body = String::with_capacity(self.head.len() + credentials.len() + self.tail.len());
        body.push_str(&self.head);
        body.push_str(credentials);
        body.push_str(&self.tail);
        body.into_bytes()
    }

    /// The body's length without credentials.
    pub fn len_without_credentials(&self) -> usize {
        self.head.len() + self.tail.len()
    }
}

// ------------------------------------------------------------------------------------ reading

/// A read element: text, a struct of named fields (attributes included), or a list.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    Text(String),
    Obj(Vec<(String, Node)>),
    List(Vec<Node>),
    /// A SOAP-encoding reference (`href`, SOAP 1.1 §5.4.1) while a document is read: the trees
    /// the readers hand over hold none, each replaced by the element it names.
    Ref(String),
}

impl Node {
    /// The first field called `name` (compared through [`same_name`]).
    pub fn get(&self, name: &str) -> Option<&Node> {
        match self {
            Node::Obj(fields) => fields.iter().find(|(k, _)| same_name(k, name)).map(|(_, v)| v),
            Node::List(_) | Node::Text(_) | Node::Ref(_) => None,
        }
    }

    /// The trimmed text of field `name`; `None` when missing or not text. An empty element
    /// reads as `Some("")`.
    pub fn text(&self, name: &str) -> Option<&str> {
        match self.get(name)? {
            Node::Text(t) => Some(t.trim()),
            // An empty array-typed element is an empty value.
            Node::List(v) if v.is_empty() => Some(""),
            _ => None,
        }
    }

    /// The trimmed text of field `name`, `None` when missing or empty.
    pub fn non_empty(&self, name: &str) -> Option<&str> {
        self.text(name).filter(|t| !t.is_empty())
    }

    /// The items of a list; a struct or text counts as one item, empty text as none.
    pub fn items(&self) -> Vec<&Node> {
        match self {
            Node::List(v) => v.iter().collect(),
            Node::Obj(_) => vec![self],
            Node::Text(t) if t.trim().is_empty() => Vec::new(),
            Node::Text(_) => vec![self],
            Node::Ref(_) => Vec::new(),
        }
    }

    /// The items of list field `field` (none when it is missing), written either as a
    /// `SOAP-ENC:Array` of `item`s or as repeated `item` children, such as the ICDF
    /// `products.product` (§4): a container whose children are all `item` (or `item`-named,
    /// compared through [`same_name`]) elements is a list even with one child. Anything else
    /// reads as [`Node::items`] does.
    pub fn items_named(&self, field: &str, item: &str) -> Vec<&Node> {
        match self.get(field) {
            None => Vec::new(),
            Some(Node::Obj(children))
                if children.iter().all(|(k, _)| same_name(k, item) || same_name(k, "item")) =>
            {
                children.iter().map(|(_, v)| v).collect()
            }
            Some(n) => n.items(),
        }
    }

    /// This node's own text.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Node::Text(t) => Some(t.trim()),
            _ => None,
        }
    }
}

/// An element being read.
struct Frame {
    name: String,
    fields: Vec<(String, Node)>,
    /// True once a child element was read (`fields` may hold attributes only).
    children: bool,
    text: String,
    array: bool,
    /// The SOAP-encoding `id` and `href` attributes (SOAP 1.1 §5.4.1).
    id: Option<String>,
    href: Option<String>,
}

fn local(qname: &[u8]) -> String {
    let s = String::from_utf8_lossy(qname);
    s.rsplit(':').next().unwrap_or(&s).to_string()
}

fn frame(e: &BytesStart<'_>) -> Result<Frame, String> {
    let mut f = Frame {
        name: local(e.name().as_ref()),
        fields: Vec::new(),
        children: false,
        text: String::new(),
        array: false,
        id: None,
        href: None,
    };
    for a in e.attributes() {
        let a = a.map_err(|e| e.to_string())?;
        let key = String::from_utf8_lossy(a.key.as_ref()).into_owned();
        let value = a.normalized_value(XmlVersion::Implicit1_0).map_err(|e| e.to_string())?.into_owned();
        match key.split_once(':') {
            // `xsi:type` and namespace declarations are ignored (§9.1); an array type marks a
            // list even when it holds one item or none.
            Some((_, l)) if l.eq_ignore_ascii_case("arrayType") => f.array = true,
            Some((_, l)) if l.eq_ignore_ascii_case("type") && value.ends_with(":Array") => f.array = true,
            Some(_) => {}
            None if key == "xmlns" => {}
            // SOAP encoding's own attributes (SOAP 1.1 §5.4.1, §5.6) are no fields.
            None if key == "id" => f.id = Some(value),
            None if key == "href" => f.href = Some(value),
            None if key == "root" => {}
            // ICDF attributes (`code`, `codeType`, `quantity`, §4) read as fields.
            None => f.fields.push((key, Node::Text(value))),
        }
    }
    Ok(f)
}

/// A finished element: its name, content and SOAP-encoding `id`.
///
/// An element with `href` is a [`Node::Ref`] (its content, which SOAP encoding leaves empty,
/// is not read). An element without child elements is its text, or, when the text is blank
/// and it has attributes, a struct of them (the ICDF `<product code=".." quantity=".."/>`).
fn finish(f: Frame) -> (String, Node, Option<String>) {
    let node = if let Some(href) = f.href {
        Node::Ref(href)
    } else if !f.children {
        if f.array {
            Node::List(Vec::new())
        } else if f.fields.is_empty() || !f.text.trim().is_empty() {
            Node::Text(f.text)
        } else {
            Node::Obj(f.fields)
        }
    } else if f.array || f.fields.iter().all(|(k, _)| k == "item") {
        Node::List(f.fields.into_iter().map(|(_, v)| v).collect())
    } else {
        Node::Obj(f.fields)
    };
    (f.name, node, f.id)
}

fn entity(r: &quick_xml::events::BytesRef<'_>) -> Result<char, String> {
    if let Some(c) = r.resolve_char_ref().map_err(|e| e.to_string())? {
        return Ok(c);
    }
    match r.decode().map_err(|e| e.to_string())?.as_ref() {
        "lt" => Ok('<'),
        "gt" => Ok('>'),
        "amp" => Ok('&'),
        "apos" => Ok('\''),
        "quot" => Ok('"'),
        other => Err(format!("unknown entity &{other};")),
    }
}

/// How deep elements may nest. IdoSell's replies go about a dozen levels deep; a reply nested
/// deeper is refused before its tree is built, since dropping a very deep tree (and walking
/// it) recurses once per level and would overflow the stack.
const MAX_DEPTH: usize = 64;

fn too_deep() -> String {
    format!("elements nested deeper than {MAX_DEPTH} levels")
}

/// How many elements references may copy into one document's tree: a few references to a
/// shared value are what SOAP encoding writes; more is a reply built to blow a small document
/// up (a reference to an element holding ten references to one holding ten more …).
pub(crate) const MAX_REF_NODES: usize = 100_000;

/// True when `bytes` may hold a SOAP-encoding reference: the attribute name `href` appears.
/// Only then are `id`s kept and references resolved, and G7 read as a tree.
fn may_reference(bytes: &[u8]) -> bool {
    bytes.windows(4).any(|w| w == b"href")
}

/// The ids the references of a document name (`href="#x"` names `x`), read in a first pass
/// over its events before any tree is built, so only elements something refers to are kept as
/// [`Targets`]. An element's `id` alone costs nothing then: copying every element with an id
/// as it is read (nested, up to [`MAX_DEPTH`] levels) cost up to 64 times the tree's memory
/// for a reply whose ids nothing names.
///
/// A document the reader cannot read is left to the tree's reader, which reports where; the
/// ids named up to there are returned. More distinct ids than [`MAX_REF_NODES`] is an error:
/// each reference copies at least one element.
fn referenced_ids(text: &str) -> Result<HashSet<String>, String> {
    let mut reader = Reader::from_str(text);
    let mut ids = HashSet::new();
    loop {
        let e = match reader.read_event() {
            Ok(Event::Start(e) | Event::Empty(e)) => e,
            Ok(Event::Eof) | Err(_) => return Ok(ids),
            Ok(_) => continue,
        };
        for a in e.attributes() {
            let Ok(a) = a else { break };
            // As `frame` reads it: the unprefixed `href`, its value normalised.
            if a.key.as_ref() != b"href" {
                continue;
            }
            let Ok(value) = a.normalized_value(XmlVersion::Implicit1_0) else { break };
            if let Some(id) = value.strip_prefix('#') {
                if !ids.contains(id) {
                    if ids.len() >= MAX_REF_NODES {
                        return Err(format!("references name more than {MAX_REF_NODES} elements"));
                    }
                    ids.insert(id.to_string());
                }
            }
        }
    }
}

/// The elements carrying an `id` that a reference names, by id.
#[derive(Default)]
struct Targets {
    /// The ids references name (see [`referenced_ids`]); an element with another id is not
    /// kept.
    wanted: HashSet<String>,
    by_id: HashMap<String, Node>,
    /// Ids carried by more than one element: a reference to one of them is ambiguous.
    repeated: HashSet<String>,
    /// The elements held by the kept copies, bounded by [`MAX_REF_NODES`].
    kept: usize,
}

impl Targets {
    /// Keeps a copy of `node` when a reference names `id` (the first element carrying it).
    ///
    /// # Errors
    /// The copies would hold more than [`MAX_REF_NODES`] elements: each is copied at least
    /// once when its references are resolved, which would exceed that bound too.
    fn add(&mut self, id: String, node: &Node) -> Result<(), String> {
        if !self.wanted.contains(&id) {
            return Ok(());
        }
        match self.by_id.entry(id) {
            Entry::Occupied(e) => {
                self.repeated.insert(e.key().clone());
            }
            Entry::Vacant(e) => {
                self.kept += size(node);
                if self.kept > MAX_REF_NODES {
                    return Err(format!(
                        "elements that references name hold more than {MAX_REF_NODES} elements"
                    ));
                }
                e.insert(node.clone());
            }
        }
        Ok(())
    }
}

fn size(node: &Node) -> usize {
    match node {
        Node::Text(_) | Node::Ref(_) => 1,
        Node::Obj(f) => 1 + f.iter().map(|(_, v)| size(v)).sum::<usize>(),
        Node::List(v) => 1 + v.iter().map(size).sum::<usize>(),
    }
}

/// Replaces each reference in a tree by a copy of the element it names.
struct Resolver<'a> {
    targets: &'a Targets,
    copied: usize,
    /// The ids being expanded (a reference back to one is a cycle).
    open: Vec<String>,
}

impl Resolver<'_> {
    fn resolve(&mut self, node: &mut Node, path: &mut String, depth: usize) -> Result<(), String> {
        if depth > MAX_DEPTH {
            return Err(too_deep());
        }
        match node {
            Node::Ref(href) => {
                let href = std::mem::take(href);
                let Some(id) = href.strip_prefix('#') else {
                    return Err(format!("{path}: href=\"{href}\" is not a reference within the reply"));
                };
                if self.targets.repeated.contains(id) {
                    return Err(format!("{path}: href=\"{href}\" names more than one element"));
                }
                if self.open.iter().any(|o| o == id) {
                    return Err(format!("{path}: href=\"{href}\" refers back to itself"));
                }
                let target = self
                    .targets
                    .by_id
                    .get(id)
                    .ok_or_else(|| format!("{path}: href=\"{href}\" names no element"))?;
                self.copied += size(target);
                if self.copied > MAX_REF_NODES {
                    return Err(format!("{path}: references copy more than {MAX_REF_NODES} elements"));
                }
                *node = target.clone();
                self.open.push(id.to_string());
                self.resolve(node, path, depth)?;
                self.open.pop();
            }
            Node::Obj(fields) => {
                for (k, v) in fields {
                    let len = path.len();
                    path.push('.');
                    path.push_str(k);
                    self.resolve(v, path, depth + 1)?;
                    path.truncate(len);
                }
            }
            Node::List(items) => {
                for (i, v) in items.iter_mut().enumerate() {
                    let len = path.len();
                    let _ = write!(path, "[{i}]");
                    self.resolve(v, path, depth + 1)?;
                    path.truncate(len);
                }
            }
            Node::Text(_) => {}
        }
        Ok(())
    }
}

/// Builds trees from events, for a whole document or one subtree.
#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    done: Option<(String, Node)>,
    /// The elements carrying an `id` that a reference names (none unless the document may
    /// hold references).
    targets: Targets,
    /// References read.
    refs: usize,
}

impl Builder {
    /// Feeds one event; returns true once the outermost element is complete.
    fn feed(&mut self, ev: Event<'_>) -> Result<bool, String> {
        match ev {
            Event::Start(e) => {
                if self.stack.len() >= MAX_DEPTH {
                    return Err(too_deep());
                }
                self.stack.push(frame(&e)?)
            }
            Event::Empty(e) => self.attach(finish(frame(&e)?))?,
            Event::End(_) => {
                let f = self.stack.pop().ok_or("unbalanced end tag")?;
                self.attach(finish(f))?;
            }
            Event::Text(t) => {
                let s = t.xml10_content().map_err(|e| e.to_string())?;
                match self.stack.last_mut() {
                    Some(f) => f.text.push_str(&s),
                    None if !s.trim().is_empty() => return Err("text outside the root element".into()),
                    None => {}
                }
            }
            Event::CData(t) => {
                if let Some(f) = self.stack.last_mut() {
                    f.text.push_str(&String::from_utf8_lossy(&t));
                }
            }
            Event::GeneralRef(r) => {
                let c = entity(&r)?;
                if let Some(f) = self.stack.last_mut() {
                    f.text.push(c);
                }
            }
            Event::Eof => return Err("unexpected end of document".into()),
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) | Event::DocType(_) => {}
        }
        Ok(self.done.is_some())
    }

    fn attach(&mut self, (k, v, id): (String, Node, Option<String>)) -> Result<(), String> {
        if matches!(v, Node::Ref(_)) {
            self.refs += 1;
        }
        if let Some(id) = id {
            self.targets.add(id, &v)?;
        }
        match self.stack.last_mut() {
            Some(p) => {
                p.fields.push((k, v));
                p.children = true;
            }
            None => self.done = Some((k, v)),
        }
        Ok(())
    }

    /// The finished tree, its references resolved.
    fn into_tree(self) -> Result<Option<(String, Node)>, String> {
        let Some((name, mut node)) = self.done else { return Ok(None) };
        if self.refs > 0 {
            let mut resolver = Resolver { targets: &self.targets, copied: 0, open: Vec::new() };
            let mut path = name.clone();
            resolver.resolve(&mut node, &mut path, 1)?;
        }
        Ok(Some((name, node)))
    }
}

fn utf8(bytes: &[u8]) -> Result<&str, String> {
    std::str::from_utf8(bytes).map_err(|e| format!("not UTF-8 at byte {}", e.valid_up_to()))
}

/// Parses a whole XML document into its root element.
///
/// References (`href`) are replaced by the elements they name, wherever those are in the
/// document (a `multiRef` after the reply element in the `Body` included).
pub(crate) fn parse(bytes: &[u8]) -> Result<(String, Node), String> {
    let text = utf8(bytes)?;
    let mut reader = Reader::from_str(text);
    let wanted = if may_reference(bytes) { referenced_ids(text)? } else { HashSet::new() };
    let mut b = Builder { targets: Targets { wanted, ..Targets::default() }, ..Builder::default() };
    loop {
        let ev = reader.read_event().map_err(|e| format!("{e} at byte {}", reader.buffer_position()))?;
        if matches!(ev, Event::Eof) && b.stack.is_empty() {
            break;
        }
        if b.feed(ev)? {
            break;
        }
    }
    b.into_tree()?.ok_or_else(|| "no XML document".into())
}

/// The `errors` block (§6.1).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Errors {
    pub code: i64,
    pub text: String,
}

/// Why a reply could not be read as a gateway reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ReadError {
    /// A genuine SOAP `Fault` (§6.1: only for protocol problems).
    Fault { code: String, text: String },
    /// Not the envelope a gateway answers.
    Unreadable(String),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Fault { code, text } => write!(f, "SOAP Fault {code}: {text}"),
            ReadError::Unreadable(r) => f.write_str(r),
        }
    }
}

/// A gateway reply read as a tree: its `errors` and the content of the reply wrapper.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub errors: Errors,
    pub content: Node,
}

impl Reply {
    /// The results element of `gate` (`Results`/`results`, §6.1), or else one spelled
    /// [`RESULT`] (the captured admin reply's `result`, §2.1).
    pub fn results(&self, gate: &Gate) -> Option<&Node> {
        self.content.get(&gate.results_key).or_else(|| self.content.get(RESULT))
    }
}

fn errors_of(node: &Node) -> Result<Errors, ReadError> {
    let code = node
        .text(FAULT_CODE)
        .ok_or_else(|| ReadError::Unreadable(format!("{ERRORS} has no {FAULT_CODE}")))?;
    let code = code
        .parse::<i64>()
        .map_err(|_| ReadError::Unreadable(format!("{ERRORS}.{FAULT_CODE} is not an integer")))?;
    Ok(Errors { code, text: node.text(FAULT_STRING).unwrap_or("").to_string() })
}

fn fault_of(node: &Node) -> ReadError {
    ReadError::Fault {
        code: node.text("faultcode").unwrap_or("").to_string(),
        text: node.text("faultstring").unwrap_or("").to_string(),
    }
}

/// Reads `Envelope › Body › {method}Response › {response}` (the wrapper is optional) and its
/// `errors` block.
pub(crate) fn read_reply(names: &Names, bytes: &[u8]) -> Result<Reply, ReadError> {
    let (root, node) = parse(bytes).map_err(ReadError::Unreadable)?;
    if !same_name(&root, "Envelope") {
        return Err(ReadError::Unreadable(format!("root element is {root}, not Envelope")));
    }
    let body = node.get("Body").ok_or_else(|| ReadError::Unreadable("envelope has no Body".into()))?;
    if let Some(fault) = body.get("Fault") {
        return Err(fault_of(fault));
    }
    let Node::Obj(fields) = body else {
        return Err(ReadError::Unreadable("Body holds no reply element".into()));
    };
    let (_, method) = fields.first().ok_or_else(|| ReadError::Unreadable("Body is empty".into()))?;
    let content = method.get(&names.response).unwrap_or(method).clone();
    let errors = content
        .get(ERRORS)
        .ok_or_else(|| ReadError::Unreadable(format!("reply has no {ERRORS} block")))
        .and_then(errors_of)?;
    Ok(Reply { errors, content })
}

/// What [`scan_errors`] found at the top of a reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Scan {
    /// The `errors` block.
    Errors(Errors),
    /// A SOAP `Fault`.
    Fault { code: String, text: String },
}

/// Reads only as far as the first `errors` block (or a `Fault`), without building the rest:
/// what the transport's classifier needs from a reply of any size.
pub(crate) fn scan_errors(bytes: &[u8]) -> Result<Scan, String> {
    if may_reference(bytes) {
        return scan_tree(bytes);
    }
    let mut reader = Reader::from_str(utf8(bytes)?);
    loop {
        let ev = reader.read_event().map_err(|e| format!("{e} at byte {}", reader.buffer_position()))?;
        match ev {
            Event::Start(e) => {
                let name = local(e.name().as_ref());
                let is_errors = same_name(&name, ERRORS);
                if is_errors || same_name(&name, "Fault") {
                    let node = subtree(&mut reader, Event::Start(e))?;
                    return if is_errors {
                        errors_of(&node).map(Scan::Errors).map_err(|e| e.to_string())
                    } else {
                        match fault_of(&node) {
                            ReadError::Fault { code, text } => Ok(Scan::Fault { code, text }),
                            ReadError::Unreadable(r) => Err(r),
                        }
                    };
                }
            }
            Event::Eof => return Err(format!("reply has no {ERRORS} block")),
            _ => {}
        }
    }
}

/// Reads the rest of the element that `start` opened into a tree.
///
/// Only for documents without references (see [`may_reference`]): a reference here names no
/// element and is an error.
fn subtree<'a>(reader: &mut Reader<&'a [u8]>, start: Event<'a>) -> Result<Node, String> {
    let mut b = Builder::default();
    let mut done = b.feed(start)?;
    while !done {
        let ev = reader.read_event().map_err(|e| format!("{e} at byte {}", reader.buffer_position()))?;
        done = b.feed(ev)?;
    }
    Ok(b.into_tree()?.map(|(_, n)| n).unwrap_or(Node::Text(String::new())))
}

/// The first element called `name` (compared through [`same_name`]) below `node`, in document
/// order.
fn find<'a>(node: &'a Node, name: &str) -> Option<&'a Node> {
    match node {
        Node::Obj(fields) => {
            fields.iter().find_map(|(k, v)| if same_name(k, name) { Some(v) } else { find(v, name) })
        }
        Node::List(items) => items.iter().find_map(|v| find(v, name)),
        Node::Text(_) | Node::Ref(_) => None,
    }
}

/// [`scan_errors`] for a reply with references, read whole as a tree.
fn scan_tree(bytes: &[u8]) -> Result<Scan, String> {
    let (_, root) = parse(bytes)?;
    let errors = find(&root, ERRORS);
    match find(&root, "Fault") {
        Some(fault) if errors.is_none() => match fault_of(fault) {
            ReadError::Fault { code, text } => Ok(Scan::Fault { code, text }),
            ReadError::Unreadable(r) => Err(r),
        },
        _ => match errors {
            Some(e) => errors_of(e).map(Scan::Errors).map_err(|e| e.to_string()),
            None => Err(format!("reply has no {ERRORS} block")),
        },
    }
}

/// What [`stream_items`] read besides the items it handed over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Streamed {
    /// The `errors` block.
    pub errors: Errors,
    /// Whether the reply holds a results element at all. Without one, a success says nothing
    /// about the items, which is not the same as an empty list (`<Results/>`, or a results
    /// element without the list, which is one).
    pub results: bool,
}

/// [`stream_items`] for a reply with references, read whole as a tree.
fn tree_items(
    bytes: &[u8],
    results: &[&str],
    list: &str,
    mut each: impl FnMut(Node) -> Result<(), String>,
) -> Result<Streamed, ReadError> {
    let (_, root) = parse(bytes).map_err(ReadError::Unreadable)?;
    if let Some(fault) = find(&root, "Fault") {
        return Err(fault_of(fault));
    }
    let errors = find(&root, ERRORS)
        .ok_or_else(|| ReadError::Unreadable(format!("reply has no {ERRORS} block")))
        .and_then(errors_of)?;
    let found = results.iter().find_map(|r| find(&root, r));
    let items = match found.and_then(|r| find(r, list)) {
        Some(Node::List(items)) => items.clone(),
        Some(Node::Obj(children)) => children.iter().map(|(_, v)| v.clone()).collect(),
        _ => Vec::new(),
    };
    let results = found.is_some();
    drop(root);
    for item in items {
        each(item).map_err(ReadError::Unreadable)?;
    }
    Ok(Streamed { errors, results })
}

/// Walks a reply once: reads its `errors` block, then hands each item of the list `list`
/// inside the results element (named by any of `results`, in order of preference) to `each`,
/// one item tree at a time (an item is a child of the list element). Returns the errors block
/// and whether a results element was there; a `Fault` or a reply without `errors` is an error.
///
/// A reply holding references (`href`, SOAP 1.1 §5.4.1) is read whole as a tree instead, since
/// the element a reference names may come after it.
pub(crate) fn stream_items(
    bytes: &[u8],
    results: &[&str],
    list: &str,
    mut each: impl FnMut(Node) -> Result<(), String>,
) -> Result<Streamed, ReadError> {
    if may_reference(bytes) {
        return tree_items(bytes, results, list, each);
    }
    let is_results = |name: &[u8]| results.iter().any(|r| bytes_name(name, r));
    let mut seen_results = false;
    let unreadable = ReadError::Unreadable;
    let mut reader = Reader::from_str(utf8(bytes).map_err(unreadable)?);
    let mut errors: Option<Errors> = None;
    // Where we are: outside, inside the results element, inside the list.
    let (mut in_results, mut in_list) = (0usize, false);
    let mut depth = 0usize;
    loop {
        let ev = reader
            .read_event()
            .map_err(|e| ReadError::Unreadable(format!("{e} at byte {}", reader.buffer_position())))?;
        match ev {
            Event::Start(e) => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(ReadError::Unreadable(too_deep()));
                }
                let name = e.local_name();
                let name = name.as_ref();
                if in_list {
                    let node = subtree(&mut reader, Event::Start(e)).map_err(ReadError::Unreadable)?;
                    depth -= 1;
                    each(node).map_err(ReadError::Unreadable)?;
                } else if in_results > 0 && bytes_name(name, list) {
                    in_list = true;
                } else if in_results == 0 && is_results(name) {
                    in_results = depth;
                    seen_results = true;
                } else if errors.is_none() && bytes_name(name, ERRORS) {
                    let node = subtree(&mut reader, Event::Start(e)).map_err(ReadError::Unreadable)?;
                    depth -= 1;
                    errors = Some(errors_of(&node)?);
                } else if bytes_name(name, "Fault") {
                    let node = subtree(&mut reader, Event::Start(e)).map_err(ReadError::Unreadable)?;
                    return Err(fault_of(&node));
                }
            }
            Event::Empty(e) if in_list => {
                let (_, node, _) = finish(frame(&e).map_err(ReadError::Unreadable)?);
                each(node).map_err(ReadError::Unreadable)?;
            }
            // `<Results/>`: a results element holding nothing.
            Event::Empty(e) if in_results == 0 && is_results(e.local_name().as_ref()) => seen_results = true,
            Event::End(_) => {
                if in_list && in_results > 0 && depth == in_results + 1 {
                    in_list = false;
                } else if in_results > 0 && depth == in_results {
                    in_results = 0;
                }
                depth = depth.saturating_sub(1);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    let errors = errors.ok_or_else(|| ReadError::Unreadable(format!("reply has no {ERRORS} block")))?;
    Ok(Streamed { errors, results: seen_results })
}

fn bytes_name(local: &[u8], name: &str) -> bool {
    local.eq_ignore_ascii_case(name.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPLY: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:ns1="getOrderStatus" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:SOAP-ENC="http://schemas.xmlsoap.org/soap/encoding/"><SOAP-ENV:Body><ns1:getOrderStatusResponse><response xsi:type="ns1:responseType"><errors xsi:type="ns1:errorsType"><faultCode xsi:type="xsd:int">0</faultCode><faultString xsi:type="xsd:string"></faultString></errors><Results xsi:type="ns1:ResultsType"><orders SOAP-ENC:arrayType="ns1:orderType[2]" xsi:type="SOAP-ENC:Array"><item xsi:type="ns1:orderType"><orderId xsi:type="xsd:string">W-1</orderId><shipmentNumbers SOAP-ENC:arrayType="xsd:string[0]" xsi:type="SOAP-ENC:Array"></shipmentNumbers></item><item xsi:type="ns1:orderType"><orderId xsi:type="xsd:string">W-2 &amp; co&#x21;</orderId><shipmentNumbers SOAP-ENC:arrayType="xsd:string[1]" xsi:type="SOAP-ENC:Array"><item xsi:type="xsd:string">003</item></shipmentNumbers></item></orders></Results></response></ns1:getOrderStatusResponse></SOAP-ENV:Body></SOAP-ENV:Envelope>"#;

    #[test]
    fn tree_reader_ignores_types_prefixes_and_casing() {
        let r = read_reply(&Names::default(), REPLY.as_bytes()).unwrap();
        assert_eq!(r.errors, Errors { code: 0, text: String::new() });
        let gate = Gate::working(crate::names::Gateway::GetOrderStatus);
        let orders = r.results(&gate).unwrap().get("ORDERS").unwrap().items();
        assert_eq!(orders.len(), 2);
        assert_eq!(orders[1].text("orderid"), Some("W-2 & co!"));
        assert_eq!(orders[0].get("shipmentNumbers").unwrap().items().len(), 0);
        assert_eq!(orders[1].get("shipmentNumbers").unwrap().items()[0].as_text(), Some("003"));
    }

    #[test]
    fn stream_reader_hands_over_each_item_once() {
        let mut ids = Vec::new();
        let read = stream_items(REPLY.as_bytes(), &["results"], "orders", |n| {
            ids.push(n.text("orderId").unwrap().to_string());
            Ok(())
        })
        .unwrap();
        assert_eq!(read, Streamed { errors: Errors::default(), results: true });
        assert_eq!(ids, ["W-1", "W-2 & co!"]);
    }

    #[test]
    fn both_readers_tell_a_reply_without_results_from_an_empty_one() {
        // A success without a results element says nothing about the orders (the G7 reconcile
        // after a lost placeOrder must not read it as "none"); `<Results/>` or a results element
        // without the list is an empty one. Each with and without a reference (the tree reader).
        let head = &REPLY[..REPLY.find("<Results").unwrap()];
        let tail = &REPLY[REPLY.find("</response>").unwrap()..];
        let reply = |inner: &str| format!("{head}{inner}{tail}");
        // The text `href` anywhere has the reply read as a tree.
        let with_ref = |text: String| text + "<!-- href -->";
        let orders = "<orders><item><orderId>W-1</orderId></item></orders>";
        for (inner, results, items) in [
            (String::new(), false, 0),
            (orders.to_string(), false, 0),
            (format!("<resultz>{orders}</resultz>"), false, 0),
            ("<Results/>".to_string(), true, 0),
            ("<results></results>".to_string(), true, 0),
            (format!("<results>{orders}</results>"), true, 1),
            // The captured admin reply's singular spelling (§2.1) is read too.
            (format!("<result xsi:type=\"ns1:resultType\">{orders}</result>"), true, 1),
        ] {
            for text in [reply(&inner), with_ref(reply(&inner))] {
                let mut n = 0;
                let read = stream_items(text.as_bytes(), &["Results", RESULT], "orders", |_| {
                    n += 1;
                    Ok(())
                })
                .unwrap();
                assert_eq!((read.results, n), (results, items), "{inner}");
            }
        }
    }

    #[test]
    fn scan_stops_at_the_errors_block() {
        // Everything after the block is garbage: the scan never reads it.
        let head = &REPLY[..REPLY.find("<Results").unwrap()];
        let text = format!("{head}<<<garbage");
        assert_eq!(scan_errors(text.as_bytes()).unwrap(), Scan::Errors(Errors::default()));
    }

    #[test]
    fn a_soap_fault_is_reported_as_such() {
        let fault = r#"<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Body><SOAP-ENV:Fault><faultcode>SOAP-ENV:Client</faultcode><faultstring>Bad Request</faultstring></SOAP-ENV:Fault></SOAP-ENV:Body></SOAP-ENV:Envelope>"#;
        assert!(matches!(read_reply(&Names::default(), fault.as_bytes()), Err(ReadError::Fault { .. })));
        assert!(matches!(scan_errors(fault.as_bytes()), Ok(Scan::Fault { .. })));
        assert!(matches!(
            stream_items(fault.as_bytes(), &["results"], "orders", |_| Ok(())),
            Err(ReadError::Fault { .. })
        ));
    }

    #[test]
    fn broken_documents_are_errors_not_panics() {
        for bad in ["", "not xml", "<a><b></a>", "<SOAP-ENV:Envelope><SOAP-ENV:Body>", "\u{0}"] {
            assert!(read_reply(&Names::default(), bad.as_bytes()).is_err(), "{bad:?}");
            assert!(scan_errors(bad.as_bytes()).is_err(), "{bad:?}");
        }
        assert!(read_reply(&Names::default(), &[0xff, 0xfe]).is_err());
    }

    #[test]
    fn written_text_is_escaped() {
        let mut w = Writer::new();
        w.text("street", "ul. <Długa> & 5");
        assert_eq!(
            w.into_string().unwrap(),
            "<street xsi:type=\"xsd:string\">ul. &lt;Długa&gt; &amp; 5</street>"
        );
    }

    #[test]
    fn a_carriage_return_is_written_as_a_reference_and_read_back_as_itself() {
        // XML 1.0 §2.11: a raw CR reads as LF; `&#13;` reads as CR.
        let text = "a\rb\r\nc\nd \"q\" 'a'";
        let mut w = Writer::new();
        w.text("note", text);
        w.strings("refs", &[text.to_string()]);
        let written = w.into_string().unwrap();
        assert!(!written.contains('\r'), "{written}");
        assert!(written.contains("a&#13;b&#13;\nc\nd &quot;q&quot; &apos;a&apos;"), "{written}");
        let (_, node) = parse(format!("<r>{written}</r>").as_bytes()).unwrap();
        assert_eq!(node.text("note"), Some(text));
        assert_eq!(node.get("refs").unwrap().items()[0].as_text(), Some(text));
        let (_, raw) = parse(b"<r><note>a\rb\r\nc</note></r>").unwrap();
        assert_eq!(raw.text("note"), Some("a\nb\nc"), "what a raw CR would have become");
        // The login and the credentials go through the same escaping.
        let body = crate::wire::auth::authenticate_body(&Names::default(), "shop\r<1>", "k");
        assert!(String::from_utf8(body).unwrap().contains(">shop&#13;&lt;1&gt;<"));
    }

    #[test]
    fn a_list_of_named_children_is_a_list_even_of_one() {
        let (_, r) = parse(b"<r><products><product><code>A</code></product></products><one><code>B</code></one><many><product code=\"C\"/><item><code>D</code></item></many><none/></r>").unwrap();
        let codes = |items: Vec<&Node>| {
            items.iter().map(|n| n.text("code").unwrap_or("?").to_string()).collect::<Vec<_>>()
        };
        assert_eq!(codes(r.items_named("products", "product")), ["A"]);
        // A lone struct still counts as one item; mixed `item` and named children are items.
        assert_eq!(codes(r.items_named("one", "product")), ["B"]);
        assert_eq!(codes(r.items_named("many", "PRODUCT")), ["C", "D"]);
        assert!(r.items_named("none", "product").is_empty());
        assert!(r.items_named("missing", "product").is_empty());
    }

    #[test]
    fn soap_encoding_attributes_are_no_fields_and_references_resolve() {
        let (_, r) = parse(
            br##"<r><a id="x" xsi:type="xsd:string">W-1</a><b href="#x"/><c code="K" root="1" id="y"/><d code="K">text</d></r>"##,
        )
        .unwrap();
        assert_eq!(r.text("a"), Some("W-1"));
        assert_eq!(r.text("b"), Some("W-1"));
        assert_eq!(r.get("c"), Some(&Node::Obj(vec![("code".into(), Node::Text("K".into()))])));
        // An element with text keeps it; its plain attributes are then left unread.
        assert_eq!(r.text("d"), Some("text"));
        // The streaming reader reads a reply with references whole, and hands each item over.
        let with_ref = REPLY.replacen(
            "<item xsi:type=\"ns1:orderType\"><orderId xsi:type=\"xsd:string\">W-1</orderId>",
            "<item href=\"#first\"/><item id=\"first\"><orderId>W-1</orderId>",
            1,
        );
        let mut ids = Vec::new();
        stream_items(with_ref.as_bytes(), &["results"], "orders", |n| {
            ids.push(n.text("orderId").unwrap().to_string());
            Ok(())
        })
        .unwrap();
        assert_eq!(ids, ["W-1", "W-1", "W-2 & co!"]);
        // Nested references deeper than the reader allows are refused, not followed.
        let mut chain = String::from("<r><v href=\"#n0\"/>");
        for i in 0..80 {
            chain.push_str(&format!("<n id=\"n{i}\"><w href=\"#n{}\"/></n>", i + 1));
        }
        chain.push_str("<n id=\"n80\">end</n></r>");
        assert_eq!(parse(chain.as_bytes()).unwrap_err(), too_deep());
    }

    #[test]
    fn only_elements_a_reference_names_are_kept_and_their_copies_are_bounded() {
        // An `id` nothing refers to is read and dropped: keeping a copy of every element with
        // an id, nested up to the depth limit, multiplied a reply's memory by its depth.
        let text =
            r##"<r><a id="x"><b id="y">1</b></a><c href="#x"/><d href="other"/><e xlink:href="#z"/></r>"##;
        assert_eq!(referenced_ids(text).unwrap(), HashSet::from(["x".to_string()]));
        let (_, r) = parse(text.replace("<d href=\"other\"/>", "").as_bytes()).unwrap();
        assert_eq!(r.get("c"), r.get("a"));
        // What is kept counts against the bound references copy: one target holding more
        // elements than that is refused as it is read, before any copy is made.
        let mut big = String::from("<r><a id=\"x\">");
        for _ in 0..MAX_REF_NODES {
            big.push_str("<b>1</b>");
        }
        big.push_str("</a><c href=\"#x\"/></r>");
        let err = parse(big.as_bytes()).unwrap_err();
        assert!(err.contains("elements that references name hold more than"), "{err}");
        // Without the reference the same element is an ordinary (large) subtree.
        assert!(parse(big.replace("href", "ref").replace("<r>", "<r><!-- href -->").as_bytes()).is_ok());
        // More distinct ids named than references could ever copy is refused by the first pass.
        let mut many = String::from("<r>");
        for i in 0..=MAX_REF_NODES {
            let _ = write!(many, "<c href=\"#n{i}\"/>");
        }
        many.push_str("</r>");
        assert!(parse(many.as_bytes()).unwrap_err().contains("references name more than"));
    }

    #[test]
    fn text_with_a_character_xml_forbids_is_refused_by_its_element_path() {
        // Tab, LF, CR and U+007F–U+009F are allowed; C0 controls, U+FFFE and U+FFFF are not.
        let mut ok = Writer::new();
        ok.text("note", "a\tb\nc\rd\u{7f}\u{85}\u{9f}\u{FFFD}");
        assert!(ok.into_string().is_ok());
        for (c, code) in [
            ('\u{0}', "0000"),
            ('\u{8}', "0008"),
            ('\u{B}', "000B"),
            ('\u{1F}', "001F"),
            ('\u{FFFE}', "FFFE"),
            ('\u{FFFF}', "FFFF"),
        ] {
            let mut w = Writer::new();
            w.open("recipient", "recipientType");
            w.text("city", "Łódź");
            w.text("street", &format!("ul. Prosta{c}5"));
            w.close("recipient");
            w.text("note", "\u{1}");
            let r = w.into_string().unwrap_err();
            assert_eq!(r.field, "recipient.street", "{code}");
            assert!(r.reason.contains(code), "{}", r.reason);
        }
        let mut w = Writer::new();
        w.open_array("products", "ns1:productType", 2);
        for comment in ["fine", "bad\u{C}"] {
            w.open_item("ns1:productType");
            w.text("comment", comment);
            w.close_item();
        }
        w.close("products");
        assert_eq!(w.into_string().unwrap_err().field, "products[1].comment");
        let mut w = Writer::new();
        w.strings("shopOrderReferences", &["A-1".into(), "A\u{2}".into()]);
        assert_eq!(w.into_string().unwrap_err().field, "shopOrderReferences[1]");
    }
}
