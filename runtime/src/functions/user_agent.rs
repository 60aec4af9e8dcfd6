//! `parse_user_agent` (parse-user-agent-function.md): a user-agent string
//! read with the ua-parser project's regular expressions (uap-core), the
//! data Kusto's implementation is built on.
//!
//! The regexes of uap-core release [`UAP_CORE_VERSION`] are compiled into
//! every detector (`runtime/data/uap-core/regexes.json`, converted from the
//! release's `regexes.yaml`; nothing is read from disk or the network), and
//! matched by the `ua-parser` crate, the project's own Rust
//! implementation. They are compiled once, at the first call.

use crate::value::{Str, Value};
use std::sync::OnceLock;

/// The uap-core release whose `regexes.yaml` is compiled in.
pub const UAP_CORE_VERSION: &str = "0.18.0";

/// uap-core's `regexes.yaml` as JSON, entry for entry.
const REGEXES_JSON: &str = include_str!("../../data/uap-core/regexes.json");

/// The compiled parsers; `None` only if the compiled-in data did not load,
/// which a unit test rules out.
fn extractor() -> Option<&'static ua_parser::Extractor<'static>> {
    static EXTRACTOR: OnceLock<Option<ua_parser::Extractor<'static>>> = OnceLock::new();
    EXTRACTOR
        .get_or_init(|| {
            let regexes: ua_parser::Regexes<'static> = serde_json::from_str(REGEXES_JSON).ok()?;
            ua_parser::Extractor::try_from(regexes).ok()
        })
        .as_ref()
}

/// Which parts `lookFor` asks for.
#[derive(Clone, Copy, Default)]
struct Targets {
    browser: bool,
    os: bool,
    device: bool,
}

impl Targets {
    /// `"browser"`, `"os"` or `"device"` (ASCII case ignored), or a dynamic
    /// array of them; `None` for anything else, an unknown name among them,
    /// or an empty array.
    fn read(look_for: &Value) -> Option<Targets> {
        let mut targets = Targets::default();
        let mut add = |name: &Value| -> Option<()> {
            let Value::String(name) = name else {
                return None;
            };
            let name = name.as_str();
            if name.eq_ignore_ascii_case("browser") {
                targets.browser = true;
            } else if name.eq_ignore_ascii_case("os") {
                targets.os = true;
            } else if name.eq_ignore_ascii_case("device") {
                targets.device = true;
            } else {
                return None;
            }
            Some(())
        };
        match look_for {
            Value::Array(names) => {
                for name in names.iter() {
                    add(name)?;
                }
            }
            name => add(name)?,
        }
        (targets.browser || targets.os || targets.device).then_some(targets)
    }
}

fn text(s: Option<&str>) -> Value {
    Value::string(s.unwrap_or_default().to_string())
}

fn part(members: Vec<(&'static str, Value)>) -> Value {
    Value::bag(
        members
            .into_iter()
            .map(|(k, v)| (Str::Static(k), v))
            .collect(),
    )
}

/// `parse_user_agent(user_agent, look_for)`: a bag with a member per part
/// asked for, in the page's order whatever the order asked:
/// `Browser` {`Family`, `MajorVersion`, `MinorVersion`, `Patch`},
/// `OperatingSystem` {`Family`, `MajorVersion`, `MinorVersion`, `Patch`,
/// `PatchMinor`} and `Device` {`Family`, `Brand`, `Model`}, every member a
/// string. A part no regex recognises has the family `"Other"` (uap-core's
/// rule); a version part or brand or model the match does not give is
/// `""`, as the page's examples show. `look_for` is `"browser"`, `"os"` or
/// `"device"`, or a dynamic array of them. Null when the user agent is not
/// a string, and when `look_for` names nothing or something else
/// (**unsettled**: the page does not say).
pub fn parse_user_agent(user_agent: &Value, look_for: &Value) -> Value {
    let (Value::String(agent), Some(targets)) = (user_agent, Targets::read(look_for)) else {
        return Value::Null;
    };
    let Some(extractor) = extractor() else {
        return Value::Null;
    };
    let agent = agent.as_str();
    let mut members = Vec::with_capacity(3);
    if targets.browser {
        let browser = extractor.ua.extract(agent);
        let b = browser.as_ref();
        members.push((
            Str::Static("Browser"),
            part(vec![
                ("Family", text(Some(b.map_or("Other", |b| &*b.family)))),
                ("MajorVersion", text(b.and_then(|b| b.major))),
                ("MinorVersion", text(b.and_then(|b| b.minor))),
                ("Patch", text(b.and_then(|b| b.patch))),
            ]),
        ));
    }
    if targets.os {
        let os = extractor.os.extract(agent);
        let o = os.as_ref();
        members.push((
            Str::Static("OperatingSystem"),
            part(vec![
                ("Family", text(Some(o.map_or("Other", |o| &*o.os)))),
                ("MajorVersion", text(o.and_then(|o| o.major.as_deref()))),
                ("MinorVersion", text(o.and_then(|o| o.minor.as_deref()))),
                ("Patch", text(o.and_then(|o| o.patch.as_deref()))),
                ("PatchMinor", text(o.and_then(|o| o.patch_minor.as_deref()))),
            ]),
        ));
    }
    if targets.device {
        let device = extractor.dev.extract(agent);
        let d = device.as_ref();
        members.push((
            Str::Static("Device"),
            part(vec![
                ("Family", text(Some(d.map_or("Other", |d| &*d.device)))),
                ("Brand", text(d.and_then(|d| d.brand.as_deref()))),
                ("Model", text(d.and_then(|d| d.model.as_deref()))),
            ]),
        ));
    }
    Value::bag(members)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member<'v>(v: &'v Value, path: &[&str]) -> &'v Value {
        path.iter().fold(v, |v, key| match v {
            Value::Bag(bag) => bag.get(key).unwrap_or(&Value::Null),
            _ => &Value::Null,
        })
    }

    fn s(text: &'static str) -> Value {
        Value::from_static(text)
    }

    #[test]
    fn the_compiled_in_regexes_load() {
        assert!(extractor().is_some());
    }

    #[test]
    fn a_browser_is_read_with_its_version_parts() {
        let agent = s("Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0");
        let v = parse_user_agent(&agent, &s("browser"));
        assert_eq!(member(&v, &["Browser", "Family"]), &s("Firefox"));
        assert_eq!(member(&v, &["Browser", "MajorVersion"]), &s("120"));
        assert_eq!(member(&v, &["Browser", "MinorVersion"]), &s("0"));
        assert_eq!(member(&v, &["Browser", "Patch"]), &s(""));
        assert!(member(&v, &["OperatingSystem"]).is_null());
    }

    #[test]
    fn unknown_agents_are_other_and_bad_targets_are_null() {
        let v = parse_user_agent(&s("no agent at all"), &s("DEVICE"));
        assert_eq!(member(&v, &["Device", "Family"]), &s("Other"));
        assert_eq!(member(&v, &["Device", "Brand"]), &s(""));
        assert!(parse_user_agent(&s("x"), &s("cpu")).is_null());
        assert!(parse_user_agent(&s("x"), &Value::array(vec![])).is_null());
        assert!(parse_user_agent(&Value::Null, &s("os")).is_null());
    }
}
