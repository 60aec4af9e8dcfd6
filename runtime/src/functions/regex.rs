//! Regular-expression functions: `extract`, `extract_all`, and the compiled
//! pattern cache shared with the `matches regex` operator.
//!
//! KQL regular expressions use RE2 syntax (`regex.md`); the `regex` crate
//! implements the same syntax and guarantees linear-time matching.
//!
//! Patterns are usually constants, which the compiler checks before run
//! time; a pattern computed at run time that does not compile gives null.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use ::regex::Regex;

use crate::text::to_text;
use crate::value::Value;

/// Most patterns kept per thread; the cache is emptied when it is full
/// (queries use a handful of constant patterns, so this only bounds
/// pathological run-time patterns).
const CACHE_LIMIT: usize = 256;

thread_local! {
    /// Compiled patterns (or `None` for patterns that do not compile), by
    /// pattern text.
    static REGEX_CACHE: RefCell<HashMap<String, Option<Regex>>> = RefCell::new(HashMap::new());
}

/// The compiled form of `pattern`, from a per-thread cache; `None` when the
/// pattern is not a valid regular expression. `Regex` clones are cheap
/// (shared).
pub fn cached_regex(pattern: &str) -> Option<Regex> {
    REGEX_CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        if let Some(compiled) = cache.get(pattern) {
            return compiled.clone();
        }
        if cache.len() >= CACHE_LIMIT {
            cache.clear();
        }
        let compiled = Regex::new(pattern).ok();
        cache.insert(pattern.to_owned(), compiled.clone());
        compiled
    })
}

fn array(items: Vec<Value>) -> Value {
    Value::Array(Arc::new(items))
}

/// `extract(regex, captureGroup, source)` (`extract-function.md`): the text
/// matched by capture group `captureGroup` (0 = the whole match) in the first
/// match of `regex` in `source` (its `tostring`).
///
/// The reference says "no match → null"; the result type is `string`, which
/// has no null in KQL, so no match gives `""`. So does a group number that is
/// not an integer, is negative or beyond the pattern's groups, and a group
/// that did not take part in the match. An invalid pattern gives null. The
/// optional 4th argument (`typeof(T)`) is the compiler's business: it
/// converts the string (`toint("")` is null, as the reference wants).
pub fn extract(regex: &Value, group: &Value, text: &Value) -> Value {
    let Some(re) = cached_regex(&to_text(regex)) else {
        return Value::Null;
    };
    let group = match group {
        Value::Int(n) => i64::from(*n),
        Value::Long(n) => *n,
        _ => return Value::from_static(""),
    };
    let Ok(group) = usize::try_from(group) else {
        return Value::from_static("");
    };
    let text = to_text(text);
    let found = if group == 0 {
        re.find(&text).map(|m| m.as_str())
    } else {
        re.captures(&text)
            .and_then(|c| c.get(group))
            .map(|m| m.as_str())
    };
    Value::string(found.unwrap_or(""))
}

/// Collects, for each match of `re` in `text`, the texts of `groups`
/// (a group that did not take part gives `""`); one group gives a flat
/// array, several an array of arrays; no match gives null.
fn collect_groups(re: &Regex, groups: &[usize], text: &str) -> Value {
    let mut matches = Vec::new();
    for caps in re.captures_iter(text) {
        let texts = groups
            .iter()
            .map(|&g| Value::string(caps.get(g).map_or("", |m| m.as_str())));
        if groups.len() == 1 {
            matches.extend(texts);
        } else {
            matches.push(array(texts.collect()));
        }
    }
    if matches.is_empty() {
        Value::Null
    } else {
        array(matches)
    }
}

/// `extract_all(regex, source)` (`extract-all-function.md`): all matches of
/// `regex` in `source` (its `tostring`). With one capture group, an array of
/// that group's texts (`extract_all(@"(\d+)", "a 123, 567")` is
/// `["123","567"]`); with several, an array with one array of all group
/// texts per match. No match → null.
///
/// The reference requires 1 to 16 capture groups; a pattern without capture
/// groups, like an invalid pattern, gives null here (the compiler rejects
/// both for constant patterns). A group that did not take part in a match
/// gives `""`.
pub fn extract_all(regex: &Value, text: &Value) -> Value {
    let Some(re) = cached_regex(&to_text(regex)) else {
        return Value::Null;
    };
    let group_count = re.captures_len() - 1;
    if group_count == 0 {
        return Value::Null;
    }
    let groups: Vec<usize> = (1..=group_count).collect();
    collect_groups(&re, &groups, &to_text(text))
}

/// `extract_all(regex, captureGroups, source)`, the 3-argument form
/// (`extract-all-function.md`): as [`extract_all`], keeping only the groups
/// listed in the `dynamic` array `captureGroups`, by number (1-based) or by
/// name (`(?P<name>…)`), in the listed order. One listed group gives a flat
/// array, several an array of arrays.
///
/// `captureGroups` that is not a non-empty array, or lists a group the
/// pattern does not have, gives null (the reference is silent), as does an
/// invalid pattern.
pub fn extract_all_groups(regex: &Value, capture_groups: &Value, text: &Value) -> Value {
    let Some(re) = cached_regex(&to_text(regex)) else {
        return Value::Null;
    };
    let Value::Array(wanted) = capture_groups else {
        return Value::Null;
    };
    let group_count = re.captures_len() - 1;
    let mut groups = Vec::with_capacity(wanted.len());
    for g in wanted.iter() {
        let index = match g {
            Value::Int(n) => usize::try_from(*n).ok(),
            Value::Long(n) => usize::try_from(*n).ok(),
            Value::String(name) => re.capture_names().position(|n| n == Some(name.as_str())),
            _ => None,
        };
        match index {
            Some(i) if (1..=group_count).contains(&i) => groups.push(i),
            _ => return Value::Null,
        }
    }
    if groups.is_empty() {
        return Value::Null;
    }
    collect_groups(&re, &groups, &to_text(text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::parse_json_text;
    use crate::text::to_string;

    fn s(text: &'static str) -> Value {
        Value::from_static(text)
    }

    const GUID: &str = "82b8be2d-dfa7-4bd1-8f63-24ad26d31449";

    #[test]
    fn extract_takes_a_group_of_the_first_match() {
        assert_eq!(
            extract(&s(r"-(\d{2})-"), &Value::Long(1), &s("15-12-2024")),
            s("12")
        );
        assert_eq!(
            extract(
                &s("User: ([^,]+)"),
                &Value::Long(1),
                &s("User: JohnDoe, Email: x")
            ),
            s("JohnDoe")
        );
        assert_eq!(extract(&s(r"\d+"), &Value::Int(0), &s("ab 42 7")), s("42"));
    }

    #[test]
    fn extract_without_match_gives_empty_string() {
        assert_eq!(extract(&s(r"(\d+)"), &Value::Long(1), &s("none")), s(""));
        assert_eq!(extract(&s(r"(\d+)"), &Value::Long(2), &s("12")), s(""));
        assert_eq!(extract(&s(r"(\d+)"), &Value::Long(-1), &s("12")), s(""));
        assert_eq!(extract(&s(r"(\d+)"), &Value::Null, &s("12")), s(""));
        assert_eq!(extract(&s(r"(a)|(b)"), &Value::Long(1), &s("b")), s(""));
        assert_eq!(extract(&s(r"(\d+)"), &Value::Long(1), &Value::Null), s(""));
    }

    #[test]
    fn extract_with_invalid_pattern_gives_null() {
        assert_eq!(extract(&s("("), &Value::Long(1), &s("x")), Value::Null);
    }

    #[test]
    fn extract_all_with_one_group_is_flat() {
        let v = extract_all(&s(r"(\d+)"), &s("a set of numbers: 123, 567 and 789"));
        assert_eq!(to_string(&v), r#"["123","567","789"]"#);
        let v = extract_all(&s(r"([\da-f]{2})"), &s(GUID));
        assert_eq!(
            to_string(&v),
            r#"["82","b8","be","2d","df","a7","4b","d1","8f","63","24","ad","26","d3","14","49"]"#
        );
    }

    #[test]
    fn extract_all_with_several_groups_nests() {
        let v = extract_all(&s(r"(\w)(\w+)(\w)"), &s(GUID));
        assert_eq!(
            to_string(&v),
            r#"[["8","2b8be2","d"],["d","fa","7"],["4","bd","1"],["8","f6","3"],["2","4ad26d3144","9"]]"#
        );
    }

    #[test]
    fn extract_all_edge_cases() {
        assert_eq!(extract_all(&s(r"(\d+)"), &s("none")), Value::Null);
        assert_eq!(extract_all(&s(r"\d+"), &s("12")), Value::Null);
        assert_eq!(extract_all(&s("("), &s("12")), Value::Null);
        assert_eq!(
            to_string(&extract_all(&s("(a)|(b)"), &s("b"))),
            r#"[["","b"]]"#
        );
    }

    #[test]
    fn extract_all_groups_selects_by_number_and_name() {
        let groups = parse_json_text("[1,3]").unwrap_or_default();
        let v = extract_all_groups(&s(r"(\w)(\w+)(\w)"), &groups, &s(GUID));
        assert_eq!(
            to_string(&v),
            r#"[["8","d"],["d","7"],["4","1"],["8","3"],["2","9"]]"#
        );
        let groups = parse_json_text(r#"["first",2,"last"]"#).unwrap_or_default();
        let v = extract_all_groups(
            &s(r"(?P<first>\w)(?P<middle>\w+)(?P<last>\w)"),
            &groups,
            &s(GUID),
        );
        assert_eq!(
            to_string(&v),
            r#"[["8","2b8be2","d"],["d","fa","7"],["4","bd","1"],["8","f6","3"],["2","4ad26d3144","9"]]"#
        );
        let one = parse_json_text("[2]").unwrap_or_default();
        let v = extract_all_groups(&s(r"(\w)(\w+)(\w)"), &one, &s("abcd"));
        assert_eq!(to_string(&v), r#"["bc"]"#);
    }

    #[test]
    fn extract_all_groups_rejects_unknown_groups() {
        let re = s(r"(\w)(\w)");
        for groups in ["[0]", "[3]", r#"["nope"]"#, "[]", "[true]"] {
            let g = parse_json_text(groups).unwrap_or_default();
            assert_eq!(
                extract_all_groups(&re, &g, &s("ab")),
                Value::Null,
                "{groups}"
            );
        }
        assert_eq!(
            extract_all_groups(&re, &Value::Long(1), &s("ab")),
            Value::Null
        );
    }

    #[test]
    fn cache_returns_the_same_answer_and_survives_overflow() {
        for i in 0..(CACHE_LIMIT * 2) {
            assert!(cached_regex(&format!("a{i}")).is_some());
        }
        assert!(cached_regex("(").is_none());
        assert!(cached_regex("(").is_none());
        assert!(cached_regex("a+").is_some_and(|re| re.is_match("caab")));
    }
}
