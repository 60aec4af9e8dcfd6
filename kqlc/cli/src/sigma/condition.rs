//! The Sigma condition grammar: kqlc's own small recursive-descent parser.
//!
//! ```text
//! expr    := and ("or" and)*
//! and     := not ("and" not)*
//! not     := "not" not | primary
//! primary := "(" expr ")" | quant "of" target | IDENT
//! quant   := "1" | "all"
//! target  := "them" | PATTERN          (IDENT with `*` wildcards)
//! ```
//!
//! Precedence, least to most binding, is the specification's: `or`, `and`,
//! `not`, `x of`, parentheses. Keywords are case-insensitive. The
//! deprecated aggregation pipe (`selection | count() > 5`) and `near` are
//! rejected: they describe correlations, not single events.

use std::fmt;

/// How deep parentheses and `not`s may nest before the parser gives up
/// (an error, not a stack overflow).
const MAX_DEPTH: usize = 64;

/// A parsed condition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Condition {
    /// A search identifier by name.
    Search(String),
    /// Both hold.
    And(Box<Condition>, Box<Condition>),
    /// Either holds.
    Or(Box<Condition>, Box<Condition>),
    /// It does not hold.
    Not(Box<Condition>),
    /// `1 of TARGET`: at least one of the matching searches holds.
    OneOf(Target),
    /// `all of TARGET`: every matching search holds.
    AllOf(Target),
}

/// What `1 of` / `all of` ranges over.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// `them`: every search whose name does not start with `_`.
    Them,
    /// A name pattern where `*` stands for any run of characters.
    Pattern(String),
}

impl Target {
    /// Whether the search named `name` is one of this target's.
    pub fn matches(&self, name: &str) -> bool {
        match self {
            Target::Them => !name.starts_with('_'),
            Target::Pattern(pattern) => glob_matches(pattern, name),
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Them => f.write_str("them"),
            Target::Pattern(p) => f.write_str(p),
        }
    }
}

/// `*` matches any run of characters; everything else matches itself.
fn glob_matches(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == name;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !name.starts_with(first) || name.len() < first.len() + last.len() || !name.ends_with(last) {
        return false;
    }
    let mut rest = &name[first.len()..name.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(at) => rest = &rest[at + middle.len()..],
            None => return false,
        }
    }
    true
}

/// A condition that does not parse: the message and the byte offset in the
/// condition text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConditionError {
    /// Byte offset into the condition.
    pub offset: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ConditionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at column {})", self.message, self.offset + 1)
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Token<'a> {
    Word(&'a str),
    Open,
    Close,
    Pipe,
}

fn tokenize(text: &str) -> Result<Vec<(usize, Token<'_>)>, ConditionError> {
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some(&(at, c)) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' => {
                chars.next();
                tokens.push((at, Token::Open));
            }
            ')' => {
                chars.next();
                tokens.push((at, Token::Close));
            }
            '|' => {
                // What follows is an aggregation, which the parser rejects.
                tokens.push((at, Token::Pipe));
                break;
            }
            c if c.is_alphanumeric() || c == '_' || c == '*' || c == '-' || c == '.' => {
                let mut end = at;
                while let Some(&(i, c)) = chars.peek() {
                    if c.is_alphanumeric() || c == '_' || c == '*' || c == '-' || c == '.' {
                        end = i + c.len_utf8();
                        chars.next();
                    } else {
                        break;
                    }
                }
                tokens.push((at, Token::Word(&text[at..end])));
            }
            other => {
                return Err(ConditionError {
                    offset: at,
                    message: format!("unexpected character '{other}'"),
                })
            }
        }
    }
    Ok(tokens)
}

struct Parser<'a> {
    tokens: Vec<(usize, Token<'a>)>,
    at: usize,
    end: usize,
    depth: usize,
}

fn is_keyword(word: &str, keyword: &str) -> bool {
    word.eq_ignore_ascii_case(keyword)
}

/// Parses a condition.
pub fn parse(text: &str) -> Result<Condition, ConditionError> {
    let mut parser = Parser {
        tokens: tokenize(text)?,
        at: 0,
        end: text.len(),
        depth: 0,
    };
    if parser.tokens.is_empty() {
        return Err(ConditionError {
            offset: 0,
            message: "the condition is empty".into(),
        });
    }
    let condition = parser.or()?;
    match parser.tokens.get(parser.at) {
        None => Ok(condition),
        Some((offset, Token::Pipe)) => Err(ConditionError {
            offset: *offset,
            message: "aggregations after '|' (count(), near) are not supported: they correlate events; write a Sigma correlation rule or a KQL summarize".into(),
        }),
        Some((offset, token)) => Err(ConditionError {
            offset: *offset,
            message: format!("expected 'and', 'or' or the end, found {}", describe(token)),
        }),
    }
}

fn describe(token: &Token<'_>) -> String {
    match token {
        Token::Word(w) => format!("'{w}'"),
        Token::Open => "'('".into(),
        Token::Close => "')'".into(),
        Token::Pipe => "'|'".into(),
    }
}

impl<'a> Parser<'a> {
    fn peek_word(&self) -> Option<&'a str> {
        match self.tokens.get(self.at) {
            Some((_, Token::Word(w))) => Some(w),
            _ => None,
        }
    }

    fn offset(&self) -> usize {
        self.tokens.get(self.at).map_or(self.end, |(o, _)| *o)
    }

    fn error(&self, message: String) -> ConditionError {
        ConditionError {
            offset: self.offset(),
            message,
        }
    }

    fn enter(&mut self) -> Result<(), ConditionError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error(format!("nested more than {MAX_DEPTH} levels deep")));
        }
        Ok(())
    }

    fn or(&mut self) -> Result<Condition, ConditionError> {
        let mut left = self.and()?;
        while self.peek_word().is_some_and(|w| is_keyword(w, "or")) {
            self.at += 1;
            let right = self.and()?;
            left = Condition::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Condition, ConditionError> {
        let mut left = self.not()?;
        while self.peek_word().is_some_and(|w| is_keyword(w, "and")) {
            self.at += 1;
            let right = self.not()?;
            left = Condition::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Condition, ConditionError> {
        if self.peek_word().is_some_and(|w| is_keyword(w, "not")) {
            self.at += 1;
            self.enter()?;
            let inner = self.not()?;
            self.depth -= 1;
            return Ok(Condition::Not(Box::new(inner)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Condition, ConditionError> {
        match self.tokens.get(self.at).cloned() {
            None => {
                Err(self.error("expected a search identifier, '(' or 'not', found the end".into()))
            }
            Some((_, Token::Open)) => {
                self.at += 1;
                self.enter()?;
                let inner = self.or()?;
                self.depth -= 1;
                match self.tokens.get(self.at) {
                    Some((_, Token::Close)) => {
                        self.at += 1;
                        Ok(inner)
                    }
                    _ => Err(self.error("expected ')'".into())),
                }
            }
            Some((_, Token::Word(word))) => {
                let quantifier = if word == "1" {
                    Some(false)
                } else if is_keyword(word, "all") {
                    Some(true)
                } else {
                    None
                };
                if let Some(all) = quantifier {
                    self.at += 1;
                    if !self.peek_word().is_some_and(|w| is_keyword(w, "of")) {
                        return Err(self.error(format!("expected 'of' after '{word}'")));
                    }
                    self.at += 1;
                    let Some(target) = self.peek_word() else {
                        return Err(
                            self.error("expected 'them' or a search identifier pattern".into())
                        );
                    };
                    self.at += 1;
                    let target = if is_keyword(target, "them") {
                        Target::Them
                    } else {
                        Target::Pattern(target.to_string())
                    };
                    return Ok(if all {
                        Condition::AllOf(target)
                    } else {
                        Condition::OneOf(target)
                    });
                }
                if ["and", "or", "of", "them", "near"]
                    .iter()
                    .any(|k| is_keyword(word, k))
                    || word.chars().all(|c| c.is_ascii_digit())
                {
                    return Err(self.error(format!(
                        "expected a search identifier, found '{word}'{}",
                        if word.chars().all(|c| c.is_ascii_digit()) {
                            " (only '1 of' and 'all of' are quantifiers)"
                        } else {
                            ""
                        }
                    )));
                }
                if word.contains('*') {
                    return Err(self.error(format!(
                        "'{word}' is a pattern: write '1 of {word}' or 'all of {word}'"
                    )));
                }
                self.at += 1;
                Ok(Condition::Search(word.to_string()))
            }
            Some((_, token)) => Err(self.error(format!(
                "expected a search identifier, '(' or 'not', found {}",
                describe(&token)
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(name: &str) -> Box<Condition> {
        Box::new(Condition::Search(name.into()))
    }

    #[test]
    fn a_single_search_is_a_condition() {
        assert_eq!(
            parse("selection"),
            Ok(Condition::Search("selection".into()))
        );
    }

    #[test]
    fn and_binds_tighter_than_or() {
        assert_eq!(
            parse("a or b and c"),
            Ok(Condition::Or(
                s("a"),
                Box::new(Condition::And(s("b"), s("c")))
            ))
        );
    }

    #[test]
    fn not_binds_tighter_than_and() {
        assert_eq!(
            parse("a and not b"),
            Ok(Condition::And(s("a"), Box::new(Condition::Not(s("b")))))
        );
        assert_eq!(
            parse("not a or b"),
            Ok(Condition::Or(Box::new(Condition::Not(s("a"))), s("b")))
        );
    }

    #[test]
    fn parentheses_group() {
        assert_eq!(
            parse("(a or b) and c"),
            Ok(Condition::And(
                Box::new(Condition::Or(s("a"), s("b"))),
                s("c")
            ))
        );
    }

    #[test]
    fn quantifiers_take_patterns_and_them() {
        assert_eq!(
            parse("selection_status and 1 of selection_request_*"),
            Ok(Condition::And(
                s("selection_status"),
                Box::new(Condition::OneOf(Target::Pattern(
                    "selection_request_*".into()
                )))
            ))
        );
        assert_eq!(parse("all of them"), Ok(Condition::AllOf(Target::Them)));
        assert_eq!(
            parse("not 1 of filter*"),
            Ok(Condition::Not(Box::new(Condition::OneOf(Target::Pattern(
                "filter*".into()
            )))))
        );
    }

    #[test]
    fn keywords_are_case_insensitive() {
        assert_eq!(
            parse("a AND NOT b"),
            Ok(Condition::And(s("a"), Box::new(Condition::Not(s("b")))))
        );
    }

    #[test]
    fn errors_say_what_and_where() {
        let err = parse("a and").unwrap_err();
        assert_eq!(err.offset, 5);
        assert!(err.message.contains("found the end"), "{err}");
        let err = parse("(a or b").unwrap_err();
        assert!(err.message.contains("expected ')'"), "{err}");
        let err = parse("a b").unwrap_err();
        assert_eq!(err.offset, 2);
        let err = parse("selection | count() > 5").unwrap_err();
        assert!(err.message.contains("aggregations"), "{err}");
        let err = parse("2 of sel*").unwrap_err();
        assert!(err.message.contains("quantifiers"), "{err}");
        let err = parse("sel*").unwrap_err();
        assert!(err.message.contains("1 of sel*"), "{err}");
        let err = parse("a & b").unwrap_err();
        assert_eq!(err.offset, 2);
        assert!(parse("   ").is_err());
        assert!(parse("1 selection").is_err());
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let text = format!("{}a{}", "(".repeat(10_000), ")".repeat(10_000));
        assert!(parse(&text).unwrap_err().message.contains("nested"));
        let text = format!("{}a", "not ".repeat(10_000));
        assert!(parse(&text).is_err());
    }

    #[test]
    fn patterns_match_names_and_them_skips_underscores() {
        let p = Target::Pattern("selection_*".into());
        assert!(p.matches("selection_a"));
        assert!(p.matches("selection_"));
        assert!(!p.matches("filter_a"));
        assert!(Target::Pattern("*_a*b".into()).matches("x_a1b"));
        assert!(!Target::Pattern("*_a*b".into()).matches("x_a1c"));
        assert!(Target::Them.matches("selection"));
        assert!(!Target::Them.matches("_hidden"));
    }
}
