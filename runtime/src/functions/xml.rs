//! `parse_xml(xml)` (`parse-xml-function.md`): XML text as a dynamic value,
//! by the page's conversion table.
//!
//! - the document is a bag with one property, the root element's name;
//! - an element with neither attributes nor child elements is its text, or
//!   null when it has none (`<e/>`, `<e>  </e>`);
//! - otherwise it is a bag: each attribute as `@name`, its text (if any) as
//!   `#text`, each child element under its name; children of the same name
//!   make an array, at the place of the first one;
//! - text is trimmed of surrounding white space, entity and character
//!   references are resolved, and an element's several pieces of text (split
//!   by child elements) are joined with no separator;
//! - only elements, attributes and text become values: the declaration,
//!   comments, processing instructions, the DOCTYPE and CDATA sections are
//!   skipped ("Everything else will be skipped");
//! - values stay strings (`<v>118.0</v>` gives `"118.0"`, as the table
//!   says; the page's prose example shows numbers, see `docs/semantics.md`);
//! - invalid XML (unclosed or mismatched tags, no root element, two root
//!   elements, text outside the root), an input over 1 MiB, or a value that
//!   is not a string gives null.
//!
//! Names keep their prefixes (`ns:e`, `@xmlns:ns`).

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use crate::value::{Str, Value};

/// The longest input the page accepts: 1 MiB.
pub const MAX_XML_BYTES: usize = 1 << 20;

/// An element being read: its attributes, text and children in order.
struct Element {
    name: String,
    attributes: Vec<(String, String)>,
    text: String,
    children: Vec<(String, Value)>,
}

impl Element {
    fn open(start: &BytesStart<'_>) -> Option<Element> {
        let name = String::from_utf8(start.name().as_ref().to_vec()).ok()?;
        let mut attributes = Vec::new();
        for attribute in start.attributes() {
            let attribute = attribute.ok()?;
            let key = String::from_utf8(attribute.key.as_ref().to_vec()).ok()?;
            let value = attribute.unescape_value().ok()?.into_owned();
            attributes.push((key, value));
        }
        Some(Element {
            name,
            attributes,
            text: String::new(),
            children: Vec::new(),
        })
    }

    /// The element's value, by the conversion table.
    fn close(self) -> (String, Value) {
        let text = self.text.trim();
        if self.attributes.is_empty() && self.children.is_empty() {
            let value = if text.is_empty() {
                Value::Null
            } else {
                Value::string(text.to_string())
            };
            return (self.name, value);
        }
        let mut entries: Vec<(Str, Value)> = self
            .attributes
            .into_iter()
            .map(|(k, v)| (Str::from(format!("@{k}")), Value::string(v)))
            .collect();
        if !text.is_empty() {
            entries.push((Str::Static("#text"), Value::string(text.to_string())));
        }
        let mut groups: Vec<(String, Vec<Value>)> = Vec::new();
        for (name, value) in self.children {
            match groups.iter_mut().find(|(n, _)| *n == name) {
                Some((_, values)) => values.push(value),
                None => groups.push((name, vec![value])),
            }
        }
        for (name, mut values) in groups {
            let value = if values.len() == 1 {
                values.pop().unwrap_or_default()
            } else {
                Value::array(values)
            };
            entries.push((Str::from(name), value));
        }
        (self.name, Value::bag(entries))
    }
}

/// `parse_xml(xml)`: see the module documentation.
pub fn parse_xml(xml: &Value) -> Value {
    match xml {
        Value::String(s) if s.as_str().len() <= MAX_XML_BYTES => {
            convert(s.as_str()).unwrap_or(Value::Null)
        }
        _ => Value::Null,
    }
}

fn convert(xml: &str) -> Option<Value> {
    let mut reader = Reader::from_str(xml);
    reader.config_mut().check_end_names = true;
    let mut open: Vec<Element> = Vec::new();
    let mut root: Option<(String, Value)> = None;
    loop {
        match reader.read_event().ok()? {
            Event::Start(start) => {
                if root.is_some() && open.is_empty() {
                    return None;
                }
                open.push(Element::open(&start)?);
            }
            Event::Empty(start) => {
                if root.is_some() && open.is_empty() {
                    return None;
                }
                let closed = Element::open(&start)?.close();
                match open.last_mut() {
                    Some(parent) => parent.children.push(closed),
                    None => root = Some(closed),
                }
            }
            Event::End(_) => {
                let closed = open.pop()?.close();
                match open.last_mut() {
                    Some(parent) => parent.children.push(closed),
                    None => root = Some(closed),
                }
            }
            Event::Text(text) => {
                let text = text.xml10_content().ok()?;
                match open.last_mut() {
                    Some(element) => element.text.push_str(&text),
                    None if text.trim().is_empty() => {}
                    None => return None,
                }
            }
            Event::GeneralRef(reference) => {
                let resolved = match reference.resolve_char_ref().ok()? {
                    Some(c) => c.to_string(),
                    None => {
                        let name = reference.decode().ok()?;
                        quick_xml::escape::resolve_xml_entity(&name)?.to_string()
                    }
                };
                open.last_mut()?.text.push_str(&resolved);
            }
            Event::CData(_)
            | Event::Comment(_)
            | Event::Decl(_)
            | Event::PI(_)
            | Event::DocType(_) => {}
            Event::Eof => break,
        }
    }
    if !open.is_empty() {
        return None;
    }
    let (name, value) = root?;
    Some(Value::bag(vec![(Str::from(name), value)]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::to_text;

    fn xml(text: &'static str) -> String {
        to_text(&parse_xml(&Value::from_static(text))).into_owned()
    }

    #[test]
    fn the_conversion_table() {
        assert_eq!(xml("<e/>"), r#"{"e":null}"#);
        assert_eq!(xml("<e>text</e>"), r#"{"e":"text"}"#);
        assert_eq!(xml(r#"<e name="value" />"#), r#"{"e":{"@name":"value"}}"#);
        assert_eq!(
            xml(r#"<e name="value">text</e>"#),
            r##"{"e":{"@name":"value","#text":"text"}}"##
        );
        assert_eq!(
            xml("<e> <a>text</a> <a>more</a> </e>"),
            r#"{"e":{"a":["text","more"]}}"#
        );
        assert_eq!(
            xml("<e> text <a>x</a> </e>"),
            r##"{"e":{"#text":"text","a":"x"}}"##
        );
    }

    #[test]
    fn invalid_documents_give_null() {
        for bad in [
            "",
            "text",
            "<a>",
            "<a></b>",
            "<a/><b/>",
            "<a/>tail",
            "<a>&nope;</a>",
        ] {
            assert_eq!(parse_xml(&Value::from_static(bad)), Value::Null, "{bad}");
        }
    }
}
