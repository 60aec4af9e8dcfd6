//! A [`SigmaRule`] → KQL text over the table of its log source.
//!
//! Sigma string matching is case-insensitive unless `cased` is given, so
//! plain values become `=~`, `contains`, `startswith`, `endswith` (their
//! `_cs` forms, and `==`, with `cased`); values with wildcards inside
//! become anchored regexes (`(?i)` unless cased); `re` is case-sensitive
//! unless its `i` flag is given. Values that are numbers or booleans are
//! compared as text (`tostring(F) =~ "401"`), as the specification treats
//! all values as strings. See `docs/rules.md` for the field mapping and
//! `docs/semantics.md` for the choices the specification leaves open.

use super::condition::{self, Condition};
use super::{FieldItem, Search, SigmaError, SigmaRule, SigmaValue};
use std::path::Path;

/// Most `-`/`/` places a `windash` value may have: each has five
/// spellings, so four give 625 variants.
const MAX_WINDASH_PLACES: usize = 4;

/// The dash spellings `windash` permutes (the specification's list).
const WINDASHES: [char; 5] = ['-', '/', '\u{2013}', '\u{2014}', '\u{2015}'];

/// What a Sigma field name stands for in the table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Field {
    /// A `string` column (`OperationName`): absent is empty.
    Text(String),
    /// A path into a `dynamic` column (`RawEventData.ObjectRef.resource`):
    /// absent is null.
    Dynamic(String),
    /// A field the events do not have as such, only as "present
    /// somewhere": the KQL that holds when it is present. Only `'*'` and
    /// `exists` can be translated for it.
    Presence(String),
}

impl Field {
    fn expr(&self) -> &str {
        match self {
            Field::Text(e) | Field::Dynamic(e) | Field::Presence(e) => e,
        }
    }

    /// The field as a string, for functions that need one.
    fn as_string(&self) -> String {
        match self {
            Field::Text(e) => e.clone(),
            other => format!("tostring({})", other.expr()),
        }
    }
}

/// A log source kqlc translates: its table, the `DataSource` values of
/// its rows, and its field mapping.
struct Source {
    table: &'static str,
    data_sources: &'static [&'static str],
    /// Where keywords are searched: the event as JSON text.
    keyword_text: &'static str,
    map: fn(&str) -> Result<Field, String>,
}

/// The Kubernetes audit sources' `DataSource` values (the normalizers').
const K8S_SOURCES: [&str; 4] = [
    "Kubernetes Audit",
    "Azure Kubernetes Service",
    "Amazon Elastic Kubernetes Service",
    "Google Kubernetes Engine",
];

fn source_of(rule: &SigmaRule) -> Option<Source> {
    let product = rule.logsource.product.as_deref()?.to_ascii_lowercase();
    let service = rule.logsource.service.as_deref()?.to_ascii_lowercase();
    match (product.as_str(), service.as_str()) {
        ("kubernetes", "audit") => Some(Source {
            table: "CloudAuditEvents",
            data_sources: &K8S_SOURCES,
            keyword_text: "tostring(RawEventData)",
            map: kubernetes_field,
        }),
        ("azure", "activitylogs") => Some(Source {
            table: "CloudAuditEvents",
            data_sources: &["Azure Resource Manager"],
            keyword_text: "tostring(RawEventData)",
            map: azure_activity_field,
        }),
        ("gcp", "gcp.audit") => Some(Source {
            table: "CloudAuditEvents",
            data_sources: &["Google Kubernetes Engine"],
            keyword_text: "tostring(RawEventData)",
            map: gcp_audit_field,
        }),
        _ => None,
    }
}

/// A dotted path under a dynamic column; segments that are not plain
/// identifiers are written `["..."]`.
fn member_path(column: &str, segments: &[&str]) -> Result<String, String> {
    let mut out = column.to_string();
    for segment in segments {
        if segment.is_empty() {
            return Err("a field path has an empty part ('..' or a '.' at an end)".into());
        }
        let identifier = segment
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && segment
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_');
        if identifier {
            out.push('.');
            out.push_str(segment);
        } else {
            out.push('[');
            out.push_str(&kql_string(segment)?);
            out.push(']');
        }
    }
    Ok(out)
}

/// The top-level keys of an audit event as the normalizers write them in
/// `RawEventData` (`runtime/detector/src/formats/k8s.rs`, `pascal_case`).
fn pascal_case(key: &str) -> String {
    match key {
        "auditID" => "AuditId".into(),
        "requestURI" => "RequestURI".into(),
        "sourceIPs" => "SourceIPs".into(),
        _ => {
            let mut chars = key.chars();
            match chars.next() {
                Some(first) if first.is_lowercase() => {
                    first.to_uppercase().chain(chars).collect::<String>()
                }
                _ => key.to_string(),
            }
        }
    }
}

/// `product: kubernetes, service: audit`: fields are paths in the
/// upstream audit `Event`, which `RawEventData` holds (top-level keys in
/// PascalCase). Three names the SigmaHQ rules use that are not event
/// fields are mapped to what they mean (docs/rules.md).
fn kubernetes_field(name: &str) -> Result<Field, String> {
    match name {
        "apiGroup" => return Ok(Field::Dynamic("RawEventData.ObjectRef.apiGroup".into())),
        "hostPath" => {
            return Ok(Field::Presence(
                "tostring(RawEventData.RequestObject.spec.volumes) contains \"\\\"hostPath\\\"\""
                    .into(),
            ))
        }
        "capabilities" => {
            return Ok(Field::Presence(
                "tostring(RawEventData.RequestObject.spec) contains \"\\\"capabilities\\\"\""
                    .into(),
            ))
        }
        _ => {}
    }
    let segments: Vec<&str> = name.split('.').collect();
    let first = pascal_case(segments[0]);
    let mut path = vec![first.as_str()];
    path.extend(&segments[1..]);
    member_path("RawEventData", &path).map(Field::Dynamic)
}

/// `product: azure, service: activitylogs`: Activity Log record fields.
/// The ones both record shapes (diagnostic settings, REST) carry are the
/// normalized columns; others are read from the record as written.
fn azure_activity_field(name: &str) -> Result<Field, String> {
    Ok(match name {
        "operationName" | "OperationName" | "operationNameValue" | "OperationNameValue" => {
            Field::Text("OperationName".into())
        }
        "resourceId" | "ResourceId" | "_ResourceId" => Field::Text("AzureResourceId".into()),
        "callerIpAddress" | "CallerIpAddress" => Field::Text("IPAddress".into()),
        "caller" | "Caller" => Field::Dynamic("AdditionalFields.Caller".into()),
        "category" | "Category" => Field::Dynamic("AdditionalFields.Category".into()),
        "level" | "Level" => Field::Dynamic("AdditionalFields.Level".into()),
        "correlationId" | "CorrelationId" => {
            Field::Dynamic("AdditionalFields.CorrelationId".into())
        }
        _ => {
            let segments: Vec<&str> = name.split('.').collect();
            Field::Dynamic(member_path("RawEventData", &segments)?)
        }
    })
}

/// `product: gcp, service: gcp.audit`: the GKE entries' fields as Sigma
/// names them (Elastic's `gcp.audit.*`); the detector keeps GKE audit
/// entries of `k8s.io` only, rebuilt as audit events.
fn gcp_audit_field(name: &str) -> Result<Field, String> {
    Ok(match name {
        "gcp.audit.method_name" | "protoPayload.methodName" | "methodName" => {
            Field::Dynamic("AdditionalFields.MethodName".into())
        }
        "gcp.audit.principal_email" | "protoPayload.authenticationInfo.principalEmail" => {
            Field::Dynamic("RawEventData.User.username".into())
        }
        "gcp.audit.request_metadata.caller_ip" | "protoPayload.requestMetadata.callerIp" => {
            Field::Text("IPAddress".into())
        }
        "gcp.audit.request_metadata.caller_supplied_user_agent"
        | "protoPayload.requestMetadata.callerSuppliedUserAgent" => {
            Field::Text("UserAgent".into())
        }
        "logName" | "log.logger" => Field::Dynamic("AdditionalFields.LogName".into()),
        _ => return Err(format!(
            "the GKE audit entries kqlc reads have no field '{name}' (known: gcp.audit.method_name, gcp.audit.principal_email, gcp.audit.request_metadata.caller_ip, gcp.audit.request_metadata.caller_supplied_user_agent, logName)"
        )),
    })
}

/// A KQL string literal for `text`.
pub fn kql_string(text: &str) -> Result<String, String> {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    Ok(out)
}

/// One piece of a Sigma string value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Piece {
    /// A character matched as itself.
    Char(char),
    /// `*`: any run of characters.
    Star,
    /// `?`: one character.
    One,
}

/// Reads a Sigma string: `*` and `?` are wildcards; `\*`, `\?` and `\\`
/// are the plain characters; any other backslash is itself.
pub fn wildcard_pieces(text: &str) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' => pieces.push(Piece::Star),
            '?' => pieces.push(Piece::One),
            '\\' => match chars.peek() {
                Some(&next @ ('*' | '?' | '\\')) => {
                    chars.next();
                    pieces.push(Piece::Char(next));
                }
                _ => pieces.push(Piece::Char('\\')),
            },
            c => pieces.push(Piece::Char(c)),
        }
    }
    pieces
}

/// Pieces matched verbatim (an encoded value has no wildcards).
fn literal_pieces(text: &str) -> Vec<Piece> {
    text.chars().map(Piece::Char).collect()
}

fn regex_escape(c: char, out: &mut String) {
    if "\\.+*?()|[]{}^$#&-~".contains(c) {
        out.push('\\');
    }
    out.push(c);
}

/// The KQL test that `field` matches `pieces`.
fn match_pieces(field: &Field, pieces: &[Piece], cased: bool) -> Result<String, String> {
    // Runs of stars are one star.
    let mut merged: Vec<Piece> = Vec::with_capacity(pieces.len());
    for piece in pieces {
        if *piece == Piece::Star && merged.last() == Some(&Piece::Star) {
            continue;
        }
        merged.push(piece.clone());
    }
    if let Field::Presence(expr) = field {
        return if merged == [Piece::Star] {
            Ok(expr.clone())
        } else {
            Err(
                "this field is only known to be present or not: only '*' or 'exists' can test it"
                    .into(),
            )
        };
    }
    if merged == [Piece::Star] {
        return Ok(format!("isnotnull({})", field.expr()));
    }
    let leading = merged.first() == Some(&Piece::Star);
    let trailing = merged.len() > 1 && merged.last() == Some(&Piece::Star);
    let inner = &merged[usize::from(leading)..merged.len() - usize::from(trailing)];
    if inner.iter().all(|p| matches!(p, Piece::Char(_))) {
        let text: String = inner
            .iter()
            .map(|p| match p {
                Piece::Char(c) => *c,
                _ => ' ',
            })
            .collect();
        let literal = kql_string(&text)?;
        let cs = if cased { "_cs" } else { "" };
        let target = match field {
            Field::Text(e) | Field::Dynamic(e) => e.clone(),
            Field::Presence(_) => unreachable!("handled above"),
        };
        return Ok(match (leading, trailing) {
            (false, false) if cased => format!("{target} == {literal}"),
            (false, false) => format!("{target} =~ {literal}"),
            (true, true) => format!("{target} contains{cs} {literal}"),
            (false, true) => format!("{target} startswith{cs} {literal}"),
            (true, false) => format!("{target} endswith{cs} {literal}"),
        });
    }
    let mut regex = String::from(if cased { "(?s)^" } else { "(?is)^" });
    for piece in &merged {
        match piece {
            Piece::Char(c) => regex_escape(*c, &mut regex),
            Piece::Star => regex.push_str(".*"),
            Piece::One => regex.push('.'),
        }
    }
    regex.push('$');
    Ok(format!(
        "{} matches regex {}",
        field.as_string(),
        kql_string(&regex)?
    ))
}

/// Standard base64 of `bytes`, padded.
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The three `base64offset` forms of `bytes`: the part of its encoding
/// that does not depend on the bytes around it, at offsets 0, 1 and 2 (the
/// specification's and pySigma's construction).
pub fn base64_offsets(bytes: &[u8]) -> Vec<String> {
    const START: [usize; 3] = [0, 2, 3];
    const END_TRIM: [usize; 3] = [0, 3, 2];
    (0..3)
        .map(|shift| {
            let mut shifted = vec![b' '; shift];
            shifted.extend_from_slice(bytes);
            let encoded = base64(&shifted);
            let end = encoded.len() - END_TRIM[(bytes.len() + shift) % 3];
            encoded[START[shift].min(end)..end].to_string()
        })
        .collect()
}

/// All spellings of `text` with each dash replaced by every windash.
fn windash_variants(text: &str) -> Result<Vec<String>, String> {
    let places = text.chars().filter(|c| WINDASHES.contains(c)).count();
    if places > MAX_WINDASH_PLACES {
        return Err(format!(
            "windash with {places} dashes gives {} variants; kqlc allows {MAX_WINDASH_PLACES} dashes",
            5usize.saturating_pow(u32::try_from(places).unwrap_or(u32::MAX))
        ));
    }
    let mut variants = vec![String::new()];
    for c in text.chars() {
        if WINDASHES.contains(&c) {
            variants = variants
                .iter()
                .flat_map(|v| {
                    WINDASHES.iter().map(move |d| {
                        let mut v = v.clone();
                        v.push(*d);
                        v
                    })
                })
                .collect();
        } else {
            for v in &mut variants {
                v.push(c);
            }
        }
    }
    Ok(variants)
}

/// A value on its way through transformation modifiers.
enum Stage {
    Text(String),
    Bytes(Vec<u8>),
    Encoded(String),
}

/// Which comparison the modifiers ask for.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Equals,
    Contains,
    StartsWith,
    EndsWith,
    Regex,
    Cidr,
    Exists,
    Compare(&'static str),
}

/// The KQL test for one field item.
fn item_expr(item: &FieldItem, field: &Field) -> Result<String, String> {
    let mut kind = Kind::Equals;
    let mut all = false;
    let mut cased = false;
    let mut negate = false;
    let mut regex_flags = String::new();
    let mut transforms: Vec<&str> = Vec::new();
    let set_kind = |kind: &mut Kind, new: Kind, name: &str| -> Result<(), String> {
        if *kind != Kind::Equals {
            return Err(format!(
                "modifier '{name}' cannot be combined with another comparison ({kind:?})"
            ));
        }
        *kind = new;
        Ok(())
    };
    for modifier in &item.modifiers {
        let name = modifier.as_str();
        match name {
            "contains" => set_kind(&mut kind, Kind::Contains, name)?,
            "startswith" => set_kind(&mut kind, Kind::StartsWith, name)?,
            "endswith" => set_kind(&mut kind, Kind::EndsWith, name)?,
            "re" => set_kind(&mut kind, Kind::Regex, name)?,
            "cidr" => set_kind(&mut kind, Kind::Cidr, name)?,
            "exists" => set_kind(&mut kind, Kind::Exists, name)?,
            "lt" => set_kind(&mut kind, Kind::Compare("<"), name)?,
            "lte" => set_kind(&mut kind, Kind::Compare("<="), name)?,
            "gt" => set_kind(&mut kind, Kind::Compare(">"), name)?,
            "gte" => set_kind(&mut kind, Kind::Compare(">="), name)?,
            "i" | "m" | "s" if kind == Kind::Regex => regex_flags.push_str(name),
            "i" | "m" | "s" => return Err(format!("'{name}' is a flag of 're' and must follow it")),
            "all" => all = true,
            "cased" => cased = true,
            "neq" => negate = true,
            "fieldref" => {
                return Err("'fieldref' combines only with contains, startswith, endswith, cased, neq and all".into())
            }
            "base64" | "base64offset" | "utf16le" | "utf16be" | "wide" | "utf16" | "windash" => {
                transforms.push(name)
            }
            "expand" => {
                return Err(
                    "'expand' placeholders need values from a processing pipeline, which kqlc does not have"
                        .into(),
                )
            }
            "minute" | "hour" | "day" | "week" | "month" | "year" => {
                return Err(format!("the time modifier '{name}' is not supported"))
            }
            other => return Err(format!("unknown modifier '{other}'")),
        }
    }
    if all && item.values.len() < 2 {
        return Err(
            "'all' needs a list of values (the specification forbids it on one value)".into(),
        );
    }
    if matches!(field, Field::Presence(_)) && !matches!(kind, Kind::Equals | Kind::Exists) {
        return Err(
            "this field is only known to be present or not: only '*' or 'exists' can test it"
                .into(),
        );
    }
    let joiner = if all { " and " } else { " or " };
    let mut tests = Vec::new();
    for value in &item.values {
        let test = value_expr(field, value, kind, cased, &regex_flags, &transforms)?;
        tests.push(if negate { format!("not({test})") } else { test });
    }
    Ok(join(tests, joiner))
}

fn join(tests: Vec<String>, joiner: &str) -> String {
    if tests.len() == 1 {
        tests.into_iter().next().unwrap_or_default()
    } else {
        format!("({})", tests.join(joiner))
    }
}

/// The KQL test for one value of an item.
fn value_expr(
    field: &Field,
    value: &SigmaValue,
    kind: Kind,
    cased: bool,
    regex_flags: &str,
    transforms: &[&str],
) -> Result<String, String> {
    let text = match value {
        SigmaValue::Null => {
            if kind != Kind::Equals || !transforms.is_empty() {
                return Err("null takes no modifiers".into());
            }
            return Ok(match field {
                Field::Text(e) => format!("isempty({e})"),
                Field::Dynamic(e) => format!("isnull({e})"),
                Field::Presence(e) => format!("not({e})"),
            });
        }
        SigmaValue::Bool(b) if kind == Kind::Exists => {
            return Ok(match (field, b) {
                (Field::Text(e), true) => format!("isnotempty({e})"),
                (Field::Text(e), false) => format!("isempty({e})"),
                (Field::Dynamic(e), true) => format!("isnotnull({e})"),
                (Field::Dynamic(e), false) => format!("isnull({e})"),
                (Field::Presence(e), true) => e.clone(),
                (Field::Presence(e), false) => format!("not({e})"),
            });
        }
        _ if kind == Kind::Exists => return Err("'exists' takes true or false".into()),
        SigmaValue::Number(n) => {
            if let Kind::Compare(op) = kind {
                if n.parse::<f64>().is_err() {
                    return Err(format!("'{n}' is not a number"));
                }
                return Ok(format!("todouble({}) {op} {n}", field.expr()));
            }
            if kind != Kind::Equals || !transforms.is_empty() {
                // A number under contains & co. is its text.
                n.clone()
            } else {
                let op = if cased { "==" } else { "=~" };
                return Ok(format!(
                    "tostring({}) {op} {}",
                    field.expr(),
                    kql_string(n)?
                ));
            }
        }
        SigmaValue::Bool(b) => {
            if kind != Kind::Equals || !transforms.is_empty() {
                return Err("a boolean takes no modifiers".into());
            }
            return Ok(format!("tostring({}) =~ \"{b}\"", field.expr()));
        }
        SigmaValue::Text(t) => t.clone(),
    };
    if let Kind::Compare(_) = kind {
        return Err(format!(
            "'{text}' is not a number (lt, lte, gt, gte compare numbers)"
        ));
    }
    match kind {
        Kind::Regex => {
            if !transforms.is_empty() {
                return Err("'re' takes no encoding modifiers".into());
            }
            let flags = if regex_flags.is_empty() {
                String::new()
            } else {
                format!("(?{regex_flags})")
            };
            let pattern = format!("{flags}{text}");
            regex_syntax_check(&pattern)?;
            return Ok(format!(
                "{} matches regex {}",
                field.as_string(),
                kql_string(&pattern)?
            ));
        }
        Kind::Cidr => {
            if !transforms.is_empty() {
                return Err("'cidr' takes no encoding modifiers".into());
            }
            let (address, bits) = text
                .split_once('/')
                .ok_or_else(|| format!("'{text}' is not a CIDR range (address/bits)"))?;
            let bits: u8 = bits
                .parse()
                .map_err(|_| format!("'{text}' is not a CIDR range (address/bits)"))?;
            let function = match address.parse::<std::net::IpAddr>() {
                Ok(std::net::IpAddr::V4(_)) if bits <= 32 => "ipv4_is_in_range",
                Ok(std::net::IpAddr::V6(_)) if bits <= 128 => "ipv6_is_in_range",
                _ => return Err(format!("'{text}' is not a CIDR range (address/bits)")),
            };
            return Ok(format!(
                "{function}({}, {})",
                field.as_string(),
                kql_string(&text)?
            ));
        }
        _ => {}
    }
    // Transformations, in order.
    let mut stages = vec![Stage::Text(text)];
    for transform in transforms {
        let mut next = Vec::new();
        for stage in stages {
            match (*transform, stage) {
                ("windash", Stage::Text(t)) => {
                    next.extend(windash_variants(&t)?.into_iter().map(Stage::Text))
                }
                ("utf16le" | "wide", Stage::Text(t)) => next.push(Stage::Bytes(
                    t.encode_utf16().flat_map(u16::to_le_bytes).collect(),
                )),
                ("utf16be", Stage::Text(t)) => next.push(Stage::Bytes(
                    t.encode_utf16().flat_map(u16::to_be_bytes).collect(),
                )),
                ("utf16", Stage::Text(t)) => {
                    let mut bytes = vec![0xff, 0xfe];
                    bytes.extend(t.encode_utf16().flat_map(u16::to_le_bytes));
                    next.push(Stage::Bytes(bytes));
                }
                ("base64", Stage::Text(t)) => next.push(Stage::Encoded(base64(t.as_bytes()))),
                ("base64", Stage::Bytes(b)) => next.push(Stage::Encoded(base64(&b))),
                ("base64offset", Stage::Text(t)) => next.extend(
                    base64_offsets(t.as_bytes())
                        .into_iter()
                        .map(Stage::Encoded),
                ),
                ("base64offset", Stage::Bytes(b)) => {
                    next.extend(base64_offsets(&b).into_iter().map(Stage::Encoded))
                }
                (name, _) => {
                    return Err(format!(
                        "'{name}' cannot follow the modifiers before it (utf16 forms need base64 after them; windash works on text)"
                    ))
                }
            }
        }
        stages = next;
    }
    let mut tests = Vec::new();
    for stage in stages {
        let mut pieces = match stage {
            Stage::Text(t) => wildcard_pieces(&t),
            Stage::Encoded(e) => literal_pieces(&e),
            Stage::Bytes(_) => {
                return Err("a utf16 encoding must be followed by base64 or base64offset".into())
            }
        };
        if matches!(kind, Kind::Contains | Kind::EndsWith) {
            pieces.insert(0, Piece::Star);
        }
        if matches!(kind, Kind::Contains | Kind::StartsWith) {
            pieces.push(Piece::Star);
        }
        tests.push(match_pieces(field, &pieces, cased)?);
    }
    Ok(join(tests, " or "))
}

/// A regex the runtime's engine accepts (RE2 syntax, as KQL's).
fn regex_syntax_check(pattern: &str) -> Result<(), String> {
    regex::Regex::new(pattern)
        .map(|_| ())
        .map_err(|e| format!("not a regular expression kqlc accepts (RE2 syntax): {e}"))
}

/// A field item's test, with `fieldref` values resolved through the
/// source's mapping.
fn item_test(item: &FieldItem, source: &Source) -> Result<String, String> {
    let field = match &item.field {
        Some(name) => (source.map)(name)?,
        None => {
            if item.modifiers.iter().any(|m| {
                !matches!(
                    m.as_str(),
                    "all"
                        | "cased"
                        | "contains"
                        | "re"
                        | "i"
                        | "m"
                        | "s"
                        | "base64"
                        | "base64offset"
                        | "utf16le"
                        | "utf16be"
                        | "wide"
                        | "utf16"
                        | "windash"
                )
            }) {
                return Err(
                    "keywords take only all, cased, contains, re (with i, m, s) and encoding modifiers"
                        .into(),
                );
            }
            let mut keyword = item.clone();
            if !keyword
                .modifiers
                .iter()
                .any(|m| m == "re" || m == "contains")
            {
                keyword.modifiers.insert(0, "contains".into());
            }
            return item_expr(&keyword, &Field::Text(source.keyword_text.into()));
        }
    };
    if item.modifiers.iter().any(|m| m == "fieldref") {
        return fieldref_test(item, &field, source);
    }
    item_expr(item, &field)
}

/// `field|fieldref: other`: the field compared with another field of the
/// same event (as text).
fn fieldref_test(item: &FieldItem, field: &Field, source: &Source) -> Result<String, String> {
    let mut op = "=~";
    let mut negate = false;
    let mut cased = false;
    let mut all = false;
    for modifier in &item.modifiers {
        match modifier.as_str() {
            "fieldref" => {}
            "contains" => op = "contains",
            "startswith" => op = "startswith",
            "endswith" => op = "endswith",
            "cased" => cased = true,
            "neq" => negate = true,
            "all" => all = true,
            other => {
                return Err(format!(
                    "'fieldref' combines only with contains, startswith, endswith, cased, neq and all, not '{other}'"
                ))
            }
        }
    }
    let op = match (op, cased) {
        ("=~", true) => "==".to_string(),
        (op, true) => format!("{op}_cs"),
        (op, false) => op.to_string(),
    };
    let mut tests = Vec::new();
    for value in &item.values {
        let SigmaValue::Text(other) = value else {
            return Err("a 'fieldref' value names a field".into());
        };
        let other = (source.map)(other)?;
        if matches!(other, Field::Presence(_)) || matches!(field, Field::Presence(_)) {
            return Err("'fieldref' needs fields with values".into());
        }
        let test = format!("{} {op} {}", field.as_string(), other.as_string());
        tests.push(if negate { format!("not({test})") } else { test });
    }
    Ok(join(tests, if all { " and " } else { " or " }))
}

/// A search's test: its alternatives or-ed, each alternative's items
/// and-ed.
fn search_test(path: &Path, search: &Search, source: &Source) -> Result<String, SigmaError> {
    let mut alternatives = Vec::new();
    for group in &search.alternatives {
        let mut items = Vec::new();
        for item in group {
            let test = item_test(item, source).map_err(|message| SigmaError {
                path: path.to_path_buf(),
                line: item.line,
                field: if item.field.is_some() {
                    format!("detection.{}.{}", search.name, item.key)
                } else {
                    format!("detection.{}", search.name)
                },
                message,
            })?;
            items.push(test);
        }
        alternatives.push(join(items, " and "));
    }
    Ok(join(alternatives, " or "))
}

fn condition_expr(
    condition: &Condition,
    tests: &[(String, String)],
    at: &dyn Fn(String) -> SigmaError,
) -> Result<String, SigmaError> {
    Ok(match condition {
        Condition::Search(name) => match tests.iter().find(|(n, _)| n == name) {
            Some((_, test)) => test.clone(),
            None => return Err(at(format!("no search identifier is named '{name}'"))),
        },
        Condition::And(a, b) => format!(
            "({} and {})",
            condition_expr(a, tests, at)?,
            condition_expr(b, tests, at)?
        ),
        Condition::Or(a, b) => format!(
            "({} or {})",
            condition_expr(a, tests, at)?,
            condition_expr(b, tests, at)?
        ),
        Condition::Not(a) => format!("not({})", condition_expr(a, tests, at)?),
        Condition::OneOf(target) | Condition::AllOf(target) => {
            let matching: Vec<String> = tests
                .iter()
                .filter(|(n, _)| target.matches(n))
                .map(|(_, t)| t.clone())
                .collect();
            if matching.is_empty() {
                return Err(at(format!("'{target}' matches no search identifier")));
            }
            let joiner = if matches!(condition, Condition::AllOf(_)) {
                " and "
            } else {
                " or "
            };
            join(matching, joiner)
        }
    })
}

/// The rule as KQL: a comment naming its source, the table, the log
/// source's `DataSource` filter and the detection as one `where`.
pub fn to_kql(path: &Path, rule: &SigmaRule) -> Result<String, SigmaError> {
    let source = source_of(rule).ok_or_else(|| SigmaError {
        path: path.to_path_buf(),
        line: rule.logsource.line,
        field: "logsource".into(),
        message: format!(
            "kqlc translates Sigma rules of the log sources (product: kubernetes, service: audit), (product: azure, service: activitylogs) and (product: gcp, service: gcp.audit); this one is (product: {}, service: {})",
            rule.logsource.product.as_deref().unwrap_or("-"),
            rule.logsource.service.as_deref().unwrap_or("-"),
        ),
    })?;
    let mut tests = Vec::new();
    for search in &rule.searches {
        tests.push((search.name.clone(), search_test(path, search, &source)?));
    }
    let at = |message: String| SigmaError {
        path: path.to_path_buf(),
        line: rule.condition_line,
        field: "detection.condition".into(),
        message,
    };
    let mut conditions = Vec::new();
    for text in &rule.conditions {
        let parsed = condition::parse(text).map_err(|e| at(format!("'{text}': {e}")))?;
        conditions.push(condition_expr(&parsed, &tests, &at)?);
    }
    let mut kql = String::new();
    let title: String = rule
        .title
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    kql.push_str(&format!("// Sigma rule: {title}\n"));
    kql.push_str(&format!(
        "// Translated by kqlc from {} (logsource product: {}, service: {}); see docs/rules.md.\n",
        path.file_name()
            .map(|n| n.to_string_lossy().replace(['\n', '\r'], " "))
            .unwrap_or_default(),
        rule.logsource.product.as_deref().unwrap_or("-"),
        rule.logsource.service.as_deref().unwrap_or("-"),
    ));
    kql.push_str(source.table);
    kql.push('\n');
    let sources: Vec<String> = source
        .data_sources
        .iter()
        .map(|s| kql_string(s).unwrap_or_default())
        .collect();
    if sources.len() == 1 {
        kql.push_str(&format!("| where DataSource == {}\n", sources[0]));
    } else {
        kql.push_str(&format!("| where DataSource in ({})\n", sources.join(", ")));
    }
    kql.push_str(&format!("| where {}\n", join(conditions, " or ")));
    Ok(kql)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sigma::parse_rule;

    fn item(field: &str, modifiers: &[&str], values: &[SigmaValue]) -> FieldItem {
        FieldItem {
            field: Some(field.into()),
            modifiers: modifiers.iter().map(|m| m.to_string()).collect(),
            values: values.to_vec(),
            key: field.into(),
            line: 1,
        }
    }

    fn t(s: &str) -> SigmaValue {
        SigmaValue::Text(s.into())
    }

    fn k8s(field: &str, modifiers: &[&str], values: &[SigmaValue]) -> Result<String, String> {
        let source = Source {
            table: "CloudAuditEvents",
            data_sources: &K8S_SOURCES,
            keyword_text: "tostring(RawEventData)",
            map: kubernetes_field,
        };
        item_test(&item(field, modifiers, values), &source)
    }

    #[test]
    fn fields_map_into_raw_event_data_with_pascal_case_top_keys() {
        assert_eq!(
            k8s("objectRef.resource", &[], &[t("pods")]).unwrap(),
            r#"RawEventData.ObjectRef.resource =~ "pods""#
        );
        assert_eq!(
            k8s("requestURI", &[], &[t("/x")]).unwrap(),
            r#"RawEventData.RequestURI =~ "/x""#
        );
        assert_eq!(
            k8s("annotations.authorization-k8s", &[], &[t("a")]).unwrap(),
            r#"RawEventData.Annotations["authorization-k8s"] =~ "a""#
        );
        assert_eq!(
            k8s("apiGroup", &[], &[t("apps")]).unwrap(),
            r#"RawEventData.ObjectRef.apiGroup =~ "apps""#
        );
    }

    #[test]
    fn plain_values_are_case_insensitive_and_cased_makes_them_sensitive() {
        assert_eq!(
            k8s("verb", &["cased"], &[t("create")]).unwrap(),
            r#"RawEventData.Verb == "create""#
        );
        assert_eq!(
            k8s("verb", &[], &[t("create"), t("delete")]).unwrap(),
            r#"(RawEventData.Verb =~ "create" or RawEventData.Verb =~ "delete")"#
        );
    }

    #[test]
    fn contains_startswith_endswith_and_all() {
        assert_eq!(
            k8s("userAgent", &["contains"], &[t("a")]).unwrap(),
            r#"RawEventData.UserAgent contains "a""#
        );
        assert_eq!(
            k8s("userAgent", &["startswith"], &[t("a")]).unwrap(),
            r#"RawEventData.UserAgent startswith "a""#
        );
        assert_eq!(
            k8s("userAgent", &["endswith", "cased"], &[t("a")]).unwrap(),
            r#"RawEventData.UserAgent endswith_cs "a""#
        );
        assert_eq!(
            k8s("userAgent", &["contains", "all"], &[t("a"), t("b")]).unwrap(),
            r#"(RawEventData.UserAgent contains "a" and RawEventData.UserAgent contains "b")"#
        );
        assert!(k8s("userAgent", &["contains", "all"], &[t("a")]).is_err());
    }

    #[test]
    fn wildcards_become_contains_or_anchored_regexes_and_escapes_are_literal() {
        assert_eq!(
            k8s("verb", &[], &[t("*x*")]).unwrap(),
            r#"RawEventData.Verb contains "x""#
        );
        assert_eq!(
            k8s("verb", &[], &[t("x*")]).unwrap(),
            r#"RawEventData.Verb startswith "x""#
        );
        assert_eq!(
            k8s("verb", &[], &[t("*")]).unwrap(),
            "isnotnull(RawEventData.Verb)"
        );
        assert_eq!(
            k8s("verb", &[], &[t("io.v*.Job")]).unwrap(),
            r#"tostring(RawEventData.Verb) matches regex "(?is)^io\\.v.*\\.Job$""#
        );
        assert_eq!(
            k8s("verb", &["cased"], &[t("a?c")]).unwrap(),
            r#"tostring(RawEventData.Verb) matches regex "(?s)^a.c$""#
        );
        assert_eq!(
            k8s("verb", &[], &[t(r"a\*b")]).unwrap(),
            r#"RawEventData.Verb =~ "a*b""#
        );
        assert_eq!(wildcard_pieces(r"\\*"), [Piece::Char('\\'), Piece::Star]);
        assert_eq!(
            wildcard_pieces(r"a\b"),
            [Piece::Char('a'), Piece::Char('\\'), Piece::Char('b')]
        );
    }

    #[test]
    fn re_takes_its_flags_and_bad_regexes_are_errors() {
        assert_eq!(
            k8s("verb", &["re"], &[t("^cr.*")]).unwrap(),
            r#"tostring(RawEventData.Verb) matches regex "^cr.*""#
        );
        assert_eq!(
            k8s("verb", &["re", "i", "s"], &[t("^cr.*")]).unwrap(),
            r#"tostring(RawEventData.Verb) matches regex "(?is)^cr.*""#
        );
        assert!(k8s("verb", &["re"], &[t("(")])
            .unwrap_err()
            .contains("regular expression"));
        assert!(k8s("verb", &["i"], &[t("a")])
            .unwrap_err()
            .contains("flag of 're'"));
    }

    #[test]
    fn cidr_exists_and_numeric_comparisons() {
        assert_eq!(
            k8s("sourceIPs", &["cidr"], &[t("10.0.0.0/8")]).unwrap(),
            r#"ipv4_is_in_range(tostring(RawEventData.SourceIPs), "10.0.0.0/8")"#
        );
        assert!(k8s("x", &["cidr"], &[t("fd00::/8")])
            .unwrap()
            .starts_with("ipv6_is_in_range("));
        assert!(k8s("x", &["cidr"], &[t("10.0.0.0")]).is_err());
        assert_eq!(
            k8s("x", &["exists"], &[SigmaValue::Bool(true)]).unwrap(),
            "isnotnull(RawEventData.X)"
        );
        assert_eq!(
            k8s("x", &["exists"], &[SigmaValue::Bool(false)]).unwrap(),
            "isnull(RawEventData.X)"
        );
        assert!(k8s("x", &["exists"], &[t("yes")]).is_err());
        assert_eq!(
            k8s(
                "responseStatus.code",
                &["gte"],
                &[SigmaValue::Number("400".into())]
            )
            .unwrap(),
            "todouble(RawEventData.ResponseStatus.code) >= 400"
        );
        assert!(k8s("x", &["lt"], &[t("a")]).is_err());
        assert_eq!(
            k8s(
                "responseStatus.code",
                &[],
                &[SigmaValue::Number("401".into())]
            )
            .unwrap(),
            r#"tostring(RawEventData.ResponseStatus.code) =~ "401""#
        );
        assert_eq!(
            k8s("x", &[], &[SigmaValue::Null]).unwrap(),
            "isnull(RawEventData.X)"
        );
    }

    #[test]
    fn base64_and_base64offset_encode_the_value() {
        assert_eq!(base64(b"abc"), "YWJj");
        assert_eq!(base64(b"ab"), "YWI=");
        assert_eq!(base64(b"a"), "YQ==");
        // pySigma's documented forms for "/bin/sh".
        assert_eq!(
            base64_offsets(b"/bin/sh"),
            ["L2Jpbi9za", "9iaW4vc2", "vYmluL3No"]
        );
        assert_eq!(
            k8s("x", &["base64", "contains"], &[t("abc")]).unwrap(),
            r#"RawEventData.X contains "YWJj""#
        );
        assert_eq!(
            k8s("x", &["base64offset", "contains"], &[t("/bin/sh")]).unwrap(),
            r#"(RawEventData.X contains "L2Jpbi9za" or RawEventData.X contains "9iaW4vc2" or RawEventData.X contains "vYmluL3No")"#
        );
        assert_eq!(
            k8s("x", &["wide", "base64"], &[t("a")]).unwrap(),
            r#"RawEventData.X =~ "YQA=""#
        );
        assert!(k8s("x", &["wide"], &[t("a")]).is_err());
    }

    #[test]
    fn windash_permutes_dashes() {
        let test = k8s("x", &["windash", "contains"], &[t("-f")]).unwrap();
        for dash in WINDASHES {
            assert!(test.contains(&format!("contains \"{dash}f\"")), "{test}");
        }
        assert!(k8s("x", &["windash"], &[t("-a-b-c-d-e")]).is_err());
    }

    #[test]
    fn fieldref_compares_two_fields() {
        assert_eq!(
            k8s("user.username", &["fieldref"], &[t("objectRef.name")]).unwrap(),
            "tostring(RawEventData.User.username) =~ tostring(RawEventData.ObjectRef.name)"
        );
        assert_eq!(
            k8s("user.username", &["fieldref", "startswith", "neq"], &[t("objectRef.name")]).unwrap(),
            "not(tostring(RawEventData.User.username) startswith tostring(RawEventData.ObjectRef.name))"
        );
        assert!(k8s("a", &["fieldref", "re"], &[t("b")]).is_err());
    }

    #[test]
    fn presence_fields_take_only_star_and_exists() {
        assert!(k8s("hostPath", &[], &[t("*")])
            .unwrap()
            .contains("\\\"hostPath\\\""));
        assert!(k8s("hostPath", &[], &[t("/etc")]).is_err());
        assert!(k8s("capabilities", &["contains"], &[t("SYS")]).is_err());
        assert!(k8s("capabilities", &["exists"], &[SigmaValue::Bool(false)])
            .unwrap()
            .starts_with("not("));
    }

    #[test]
    fn unknown_and_unsupported_modifiers_are_errors() {
        assert!(k8s("x", &["expand"], &[t("%a%")])
            .unwrap_err()
            .contains("expand"));
        assert!(k8s("x", &["bogus"], &[t("a")])
            .unwrap_err()
            .contains("unknown modifier"));
        assert!(k8s("x", &["contains", "startswith"], &[t("a")]).is_err());
    }

    #[test]
    fn whole_rules_translate_with_conditions_and_keywords() {
        let rule = parse_rule(
            Path::new("r.yml"),
            "title: T\nlogsource:\n  product: kubernetes\n  service: audit\ndetection:\n  sel_a:\n    verb: create\n  sel_b:\n    verb: patch\n  keywords:\n    - evil\n  filter:\n    user.username: admin\n  condition: 1 of sel_* and not filter or keywords\n",
        )
        .unwrap();
        let kql = to_kql(Path::new("r.yml"), &rule).unwrap();
        assert!(
            kql.contains("| where DataSource in (\"Kubernetes Audit\", "),
            "{kql}"
        );
        assert!(
            kql.ends_with("| where (((RawEventData.Verb =~ \"create\" or RawEventData.Verb =~ \"patch\") and not(RawEventData.User.username =~ \"admin\")) or tostring(RawEventData) contains \"evil\")\n"),
            "{kql}"
        );
    }

    #[test]
    fn unknown_log_sources_identifiers_and_gcp_fields_are_located_errors() {
        let text = "title: T\nlogsource:\n  product: windows\n  service: security\ndetection:\n  sel:\n    a: b\n  condition: sel\n";
        let err = to_kql(
            Path::new("r.yml"),
            &parse_rule(Path::new("r.yml"), text).unwrap(),
        )
        .unwrap_err();
        assert_eq!(err.line, 2);
        assert_eq!(err.field, "logsource");
        let text = "title: T\nlogsource:\n  product: kubernetes\n  service: audit\ndetection:\n  sel:\n    a: b\n  condition: sel and filter\n";
        let err = to_kql(
            Path::new("r.yml"),
            &parse_rule(Path::new("r.yml"), text).unwrap(),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "r.yml:8: detection.condition: no search identifier is named 'filter'"
        );
        let text = "title: T\nlogsource:\n  product: gcp\n  service: gcp.audit\ndetection:\n  sel:\n    gcp.audit.status: b\n  condition: sel\n";
        let err = to_kql(
            Path::new("r.yml"),
            &parse_rule(Path::new("r.yml"), text).unwrap(),
        )
        .unwrap_err();
        assert_eq!(err.line, 7);
        assert_eq!(err.field, "detection.sel.gcp.audit.status");
    }
}
