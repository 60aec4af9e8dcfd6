//! The lexer: KQL source text → [`Token`]s, each with a byte [`Span`].
//!
//! Hand-written and single-pass. It never panics: positions only ever move
//! over whole characters (ASCII bytes are always character boundaries in
//! UTF-8, and other characters are stepped over with their UTF-8 length), and
//! every slice goes through [`str::get`]. The first problem ends lexing with a
//! [`Diagnostic`].
//!
//! Two tables live here because lexing needs them: the keyword table
//! ([`Keyword::from_word`]) and the timespan unit table. The decoders for the
//! text inside typed literals (`datetime(...)`, `timespan(...)`, `guid(...)`,
//! ...) live here too, next to the number and timespan rules they share.

use crate::diag::{Code, Diagnostic};
use crate::syntax::ast::{Literal, Span, StringOp, StringOpKind};
use crate::types::ScalarType;
use kql_literal::decimal::Decimal;
use kql_literal::{decimal_to_ticks, parse_timespan, split_sign, timespan_unit};
pub(crate) use kql_literal::{DAY, HOUR, MICROSECOND, MILLISECOND, MINUTE, SECOND};

/// Results of lexing and parsing. The diagnostic is boxed so that results
/// stay small: the parser is recursive, and every frame holds a few.
pub(crate) type PResult<T> = Result<T, Box<Diagnostic>>;

/// A token and where it was written.
#[derive(Clone, Debug, PartialEq)]
pub struct Token {
    /// What it is.
    pub kind: TokenKind,
    /// Where it is, in bytes.
    pub span: Span,
}

/// The kinds of tokens.
#[derive(Clone, Debug, PartialEq)]
pub enum TokenKind {
    /// A word: a name such as `Timestamp` or `$left`, or a keyword such as
    /// `where`. Most KQL keywords are names in other positions, so the parser
    /// decides by position, looking words up with `Keyword::from_word`.
    /// Bracketed names (`['where']`) are the tokens `[`, string, `]`, joined
    /// by the parser, because `x["kind"]` is an indexer with the same tokens.
    Ident(String),
    /// An operator word glued to punctuation, which can never be a name:
    /// `!contains`, `!has_cs`, `in~`, `!in`, `!in~`, `!between`.
    Keyword(Keyword),
    /// An integer literal: `5`, `0x1F`.
    Long(i64),
    /// A real literal: `1.5`, `1e3`, `2.`.
    Real(f64),
    /// A timespan literal such as `1d`, `1.5h` or `100ms`, in ticks (100 ns).
    TimeSpan(i64),
    /// A string literal in any quoting form, decoded.
    String(String),
    /// A typed literal: a type keyword glued to `(` (`datetime(2024-05-28
    /// 10:00)`, `long(null)`), with the raw text up to the first `)`. KQL reads
    /// that text as a value, not as tokens (see `decode_typed_literal`).
    TypedLiteral {
        /// The keyword as written, e.g. `datetime` or `date`.
        type_name: String,
        /// The text between the parentheses.
        content: String,
        /// Where the text between the parentheses is.
        content_span: Span,
    },
    /// `|`
    Pipe,
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// `[`
    LBracket,
    /// `]`
    RBracket,
    /// `{`
    LBrace,
    /// `}`
    RBrace,
    /// `,`
    Comma,
    /// `;`
    Semicolon,
    /// `:`
    Colon,
    /// `.`
    Dot,
    /// `..`
    DotDot,
    /// `=`
    Assign,
    /// `==`
    EqEq,
    /// `!=` or `<>`
    NotEq,
    /// `=~`
    EqTilde,
    /// `!~`
    BangTilde,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `+`
    Plus,
    /// `-`
    Minus,
    /// `*`
    Star,
    /// `/`
    Slash,
    /// `%`
    Percent,
    /// A `!` that is not part of `!=`, `!~` or a negated operator word.
    Bang,
    /// The end of the text.
    Eof,
}

impl TokenKind {
    /// How error messages name the token: "`where`", "end of input", ...
    pub fn describe(&self) -> String {
        let text = match self {
            TokenKind::Ident(word) => return format!("`{word}`"),
            TokenKind::Keyword(keyword) => return format!("`{}`", keyword.spelling()),
            TokenKind::Long(value) => return format!("number `{value}`"),
            TokenKind::Real(value) => return format!("number `{value:?}`"),
            TokenKind::TimeSpan(_) => return "timespan literal".to_string(),
            TokenKind::String(_) => return "string literal".to_string(),
            TokenKind::TypedLiteral { type_name, .. } => {
                return format!("`{type_name}(...)` literal")
            }
            TokenKind::Eof => return "end of input".to_string(),
            TokenKind::Pipe => "|",
            TokenKind::LParen => "(",
            TokenKind::RParen => ")",
            TokenKind::LBracket => "[",
            TokenKind::RBracket => "]",
            TokenKind::LBrace => "{",
            TokenKind::RBrace => "}",
            TokenKind::Comma => ",",
            TokenKind::Semicolon => ";",
            TokenKind::Colon => ":",
            TokenKind::Dot => ".",
            TokenKind::DotDot => "..",
            TokenKind::Assign => "=",
            TokenKind::EqEq => "==",
            TokenKind::NotEq => "!=",
            TokenKind::EqTilde => "=~",
            TokenKind::BangTilde => "!~",
            TokenKind::Lt => "<",
            TokenKind::Le => "<=",
            TokenKind::Gt => ">",
            TokenKind::Ge => ">=",
            TokenKind::Plus => "+",
            TokenKind::Minus => "-",
            TokenKind::Star => "*",
            TokenKind::Slash => "/",
            TokenKind::Percent => "%",
            TokenKind::Bang => "!",
        };
        format!("`{text}`")
    }
}

/// Words with a meaning in KQL's expression and operator grammar.
///
/// KQL keywords are contextual: `where` is an operator after `|` and may be a
/// column name elsewhere. The parser asks for the keyword of a word only where
/// one can appear. Tabular operator names (`where`, `mv-expand`, ...) have
/// their own table in the parser.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keyword {
    /// `and`
    And,
    /// `or`
    Or,
    /// `true` (also `True`, `TRUE`)
    True,
    /// `false` (also `False`, `FALSE`)
    False,
    /// `null`, inside `dynamic(...)`.
    Null,
    /// `let`
    Let,
    /// `print`
    Print,
    /// `datatable`
    Datatable,
    /// `dynamic`
    Dynamic,
    /// `typeof`
    Typeof,
    /// `to`, in `mv-expand ... to typeof(T)`.
    To,
    /// `limit`, in `mv-expand ... limit N`.
    Limit,
    /// `kind`, in `mv-expand kind=bag`.
    Kind,
    /// `bagexpansion`, in `mv-expand bagexpansion=bag`.
    BagExpansion,
    /// `with_itemindex`, in `mv-expand with_itemindex=Name`.
    WithItemIndex,
    /// `between`
    Between,
    /// `!between`
    NotBetween,
    /// `in`
    In,
    /// `!in`
    NotIn,
    /// `in~`
    InCi,
    /// `!in~`
    NotInCi,
    /// `has_any`
    HasAny,
    /// `has_all`
    HasAll,
    /// `matches`, the first word of `matches regex`.
    Matches,
    /// `regex`, the second word of `matches regex`.
    Regex,
    /// A string operator such as `has` or `!startswith_cs`.
    StringOp(StringOp),
}

const fn string_op(kind: StringOpKind, negated: bool, case_sensitive: bool) -> Keyword {
    Keyword::StringOp(StringOp {
        kind,
        negated,
        case_sensitive,
    })
}

/// The keyword table: every spelling of every keyword, canonical spelling
/// first (KQL keywords are case-sensitive). `containscs`, `notcontains` and
/// `notcontainscs` are the legacy spellings Kusto still accepts.
const KEYWORDS: &[(&str, Keyword)] = {
    use StringOpKind::*;
    &[
        ("and", Keyword::And),
        ("or", Keyword::Or),
        ("true", Keyword::True),
        ("True", Keyword::True),
        ("TRUE", Keyword::True),
        ("false", Keyword::False),
        ("False", Keyword::False),
        ("FALSE", Keyword::False),
        ("null", Keyword::Null),
        ("let", Keyword::Let),
        ("print", Keyword::Print),
        ("datatable", Keyword::Datatable),
        ("dynamic", Keyword::Dynamic),
        ("typeof", Keyword::Typeof),
        ("to", Keyword::To),
        ("limit", Keyword::Limit),
        ("kind", Keyword::Kind),
        ("bagexpansion", Keyword::BagExpansion),
        ("with_itemindex", Keyword::WithItemIndex),
        ("between", Keyword::Between),
        ("!between", Keyword::NotBetween),
        ("in", Keyword::In),
        ("!in", Keyword::NotIn),
        ("in~", Keyword::InCi),
        ("!in~", Keyword::NotInCi),
        ("has_any", Keyword::HasAny),
        ("has_all", Keyword::HasAll),
        ("matches", Keyword::Matches),
        ("regex", Keyword::Regex),
        ("contains", string_op(Contains, false, false)),
        ("!contains", string_op(Contains, true, false)),
        ("contains_cs", string_op(Contains, false, true)),
        ("!contains_cs", string_op(Contains, true, true)),
        ("containscs", string_op(Contains, false, true)),
        ("notcontains", string_op(Contains, true, false)),
        ("notcontainscs", string_op(Contains, true, true)),
        ("has", string_op(Has, false, false)),
        ("!has", string_op(Has, true, false)),
        ("has_cs", string_op(Has, false, true)),
        ("!has_cs", string_op(Has, true, true)),
        ("hasprefix", string_op(HasPrefix, false, false)),
        ("!hasprefix", string_op(HasPrefix, true, false)),
        ("hasprefix_cs", string_op(HasPrefix, false, true)),
        ("!hasprefix_cs", string_op(HasPrefix, true, true)),
        ("hassuffix", string_op(HasSuffix, false, false)),
        ("!hassuffix", string_op(HasSuffix, true, false)),
        ("hassuffix_cs", string_op(HasSuffix, false, true)),
        ("!hassuffix_cs", string_op(HasSuffix, true, true)),
        ("startswith", string_op(StartsWith, false, false)),
        ("!startswith", string_op(StartsWith, true, false)),
        ("startswith_cs", string_op(StartsWith, false, true)),
        ("!startswith_cs", string_op(StartsWith, true, true)),
        ("endswith", string_op(EndsWith, false, false)),
        ("!endswith", string_op(EndsWith, true, false)),
        ("endswith_cs", string_op(EndsWith, false, true)),
        ("!endswith_cs", string_op(EndsWith, true, true)),
    ]
};

impl Keyword {
    /// The keyword spelled `word`, if any.
    pub fn from_word(word: &str) -> Option<Keyword> {
        KEYWORDS
            .iter()
            .find(|(spelling, _)| *spelling == word)
            .map(|(_, keyword)| *keyword)
    }

    /// The canonical spelling.
    pub fn spelling(self) -> &'static str {
        KEYWORDS
            .iter()
            .find(|(_, keyword)| *keyword == self)
            .map_or("?", |(spelling, _)| spelling)
    }
}

/// Type keywords that start a typed literal when glued to `(`, as in Kusto's
/// lexer: `long(5)`, `datetime(2024-05-28)`, `guid(null)`. (`dynamic(...)`
/// holds tokens, not raw text, so the parser reads it.)
const TYPED_LITERAL_TYPES: &[&str] = &[
    "bool", "int", "int32", "long", "int64", "real", "double", "decimal", "datetime", "date",
    "time", "timespan", "guid",
];

/// True if `word` starts a typed literal when glued to `(`.
pub(crate) fn is_typed_literal_keyword(word: &str) -> bool {
    TYPED_LITERAL_TYPES.contains(&word)
}

/// True for characters that may start a name (`$` only starts one).
fn is_ident_start(c: char) -> bool {
    c.is_alphabetic() || c == '_' || c == '$'
}

/// True for characters that may continue a name.
fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// True if `name` lexes as one plain word (so it can be written unbracketed,
/// keywords aside).
pub(crate) fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) if is_ident_start(first) => chars.all(is_ident_char),
        _ => false,
    }
}

/// Lexes the whole text. The last token is always [`TokenKind::Eof`].
pub(crate) fn tokenize(source: &str) -> PResult<Vec<Token>> {
    let mut lexer = Lexer {
        src: source,
        pos: 0,
        tokens: Vec::new(),
    };
    lexer.run()?;
    Ok(lexer.tokens)
}

struct Lexer<'a> {
    src: &'a str,
    pos: usize,
    tokens: Vec<Token>,
}

impl Lexer<'_> {
    /// The byte at `at`, or 0 past the end (0 starts no token).
    fn byte(&self, at: usize) -> u8 {
        self.src.as_bytes().get(at).copied().unwrap_or(0)
    }

    fn char_at(&self, at: usize) -> Option<char> {
        self.src.get(at..)?.chars().next()
    }

    fn slice(&self, start: usize, end: usize) -> &str {
        self.src.get(start..end).unwrap_or("")
    }

    fn starts_with(&self, at: usize, text: &str) -> bool {
        self.src
            .get(at..)
            .is_some_and(|rest| rest.starts_with(text))
    }

    fn push(&mut self, kind: TokenKind, start: usize) {
        self.tokens.push(Token {
            kind,
            span: Span::new(start, self.pos),
        });
    }

    /// Pushes a punctuation token `len` bytes long.
    fn punct(&mut self, kind: TokenKind, len: usize) {
        let start = self.pos;
        self.pos += len;
        self.push(kind, start);
    }

    /// Advances over the identifier characters at `self.pos`.
    fn skip_ident_chars(&mut self) {
        while let Some(c) = self.char_at(self.pos) {
            if !is_ident_char(c) {
                break;
            }
            self.pos += c.len_utf8();
        }
    }

    fn skip_trivia(&mut self) {
        loop {
            match self.char_at(self.pos) {
                // A byte order mark counts as whitespace: files saved by some
                // editors start with one.
                Some(c) if c.is_whitespace() || c == '\u{feff}' => self.pos += c.len_utf8(),
                Some('/') if self.byte(self.pos + 1) == b'/' => {
                    // A comment runs to the end of the line.
                    let rest = self.src.get(self.pos..).unwrap_or("");
                    self.pos += rest.find('\n').unwrap_or(rest.len());
                }
                _ => return,
            }
        }
    }

    fn run(&mut self) -> PResult<()> {
        loop {
            self.skip_trivia();
            let start = self.pos;
            let Some(c) = self.char_at(start) else {
                self.push(TokenKind::Eof, start);
                return Ok(());
            };
            let next = self.byte(start + 1);
            match c {
                '|' => self.punct(TokenKind::Pipe, 1),
                '(' => self.punct(TokenKind::LParen, 1),
                ')' => self.punct(TokenKind::RParen, 1),
                '[' => self.punct(TokenKind::LBracket, 1),
                ']' => self.punct(TokenKind::RBracket, 1),
                '{' => self.punct(TokenKind::LBrace, 1),
                '}' => self.punct(TokenKind::RBrace, 1),
                ',' => self.punct(TokenKind::Comma, 1),
                ';' => self.punct(TokenKind::Semicolon, 1),
                ':' => self.punct(TokenKind::Colon, 1),
                '+' => self.punct(TokenKind::Plus, 1),
                '-' => self.punct(TokenKind::Minus, 1),
                '*' => self.punct(TokenKind::Star, 1),
                '/' => self.punct(TokenKind::Slash, 1),
                '%' => self.punct(TokenKind::Percent, 1),
                '.' if next == b'.' => self.punct(TokenKind::DotDot, 2),
                '.' => self.punct(TokenKind::Dot, 1),
                '=' if next == b'=' => self.punct(TokenKind::EqEq, 2),
                '=' if next == b'~' => self.punct(TokenKind::EqTilde, 2),
                '=' => self.punct(TokenKind::Assign, 1),
                '<' if next == b'=' => self.punct(TokenKind::Le, 2),
                '<' if next == b'>' => self.punct(TokenKind::NotEq, 2),
                '<' => self.punct(TokenKind::Lt, 1),
                '>' if next == b'=' => self.punct(TokenKind::Ge, 2),
                '>' => self.punct(TokenKind::Gt, 1),
                '!' if next == b'=' => self.punct(TokenKind::NotEq, 2),
                '!' if next == b'~' => self.punct(TokenKind::BangTilde, 2),
                '!' => self.lex_bang(),
                '"' | '\'' => self.lex_string(start, false)?,
                '`' | '~' if self.at_fence(start) => self.lex_string(start, false)?,
                '@' if self.starts_string(start + 1) => {
                    self.pos += 1;
                    self.lex_string(start, true)?;
                }
                '0'..='9' => self.lex_number()?,
                c if is_ident_start(c) => self.lex_word()?,
                other => {
                    let span = Span::new(start, start + other.len_utf8());
                    return Err(Diagnostic::new(
                        Code::UnexpectedCharacter,
                        format!("unexpected character `{}`", other.escape_debug()),
                        span,
                    )
                    .with_label("no KQL token starts with this character")
                    .into());
                }
            }
        }
    }

    /// True at a multi-line string fence: ```` ``` ```` or `~~~`.
    fn at_fence(&self, at: usize) -> bool {
        self.starts_with(at, "```") || self.starts_with(at, "~~~")
    }

    /// True if a quote or a fence is at `at`.
    fn starts_string(&self, at: usize) -> bool {
        matches!(self.byte(at), b'"' | b'\'') || self.at_fence(at)
    }

    /// `!` glued to a word is a negated operator when the table knows it
    /// (`!contains`, `!in~`); otherwise the `!` stands alone and the parser
    /// reports it.
    fn lex_bang(&mut self) {
        let start = self.pos;
        if self
            .char_at(start + 1)
            .is_some_and(|c| c.is_alphabetic() || c == '_')
        {
            self.pos = start + 1;
            self.skip_ident_chars();
            if self.slice(start, self.pos) == "!in" && self.byte(self.pos) == b'~' {
                self.pos += 1;
            }
            if let Some(keyword) = Keyword::from_word(self.slice(start, self.pos)) {
                self.push(TokenKind::Keyword(keyword), start);
                return;
            }
        }
        self.pos = start + 1;
        self.push(TokenKind::Bang, start);
    }

    fn lex_word(&mut self) -> PResult<()> {
        let start = self.pos;
        // The first character may be `$`, which cannot continue a name.
        if let Some(first) = self.char_at(start) {
            self.pos += first.len_utf8();
        }
        self.skip_ident_chars();
        let word = self.slice(start, self.pos).to_string();

        // `h"..."` and `H'...'` hide a string from logs; the value is the same.
        if (word == "h" || word == "H")
            && (self.starts_string(self.pos)
                || (self.byte(self.pos) == b'@' && self.starts_string(self.pos + 1)))
        {
            let verbatim = self.byte(self.pos) == b'@';
            if verbatim {
                self.pos += 1;
            }
            return self.lex_string(start, verbatim);
        }
        if word == "in" && self.byte(self.pos) == b'~' {
            self.pos += 1;
            self.push(TokenKind::Keyword(Keyword::InCi), start);
            return Ok(());
        }
        if self.byte(self.pos) == b'(' && is_typed_literal_keyword(&word) {
            return self.lex_typed_literal(start, word);
        }
        self.push(TokenKind::Ident(word), start);
        Ok(())
    }

    /// `datetime(...)` and friends: the text up to the first `)` on the line.
    fn lex_typed_literal(&mut self, start: usize, type_name: String) -> PResult<()> {
        let open = self.pos;
        let rest = self.src.get(open + 1..).unwrap_or("");
        let line = &rest[..rest.find(['\n', '\r']).unwrap_or(rest.len())];
        let Some(close) = line.find(')') else {
            return Err(Diagnostic::new(
                Code::UnbalancedDelimiter,
                format!("unclosed delimiter `(` of `{type_name}(...)`"),
                Span::new(open, open + 1),
            )
            .with_label("unclosed delimiter")
            .with_help(format!(
                "a `{type_name}(...)` literal ends at the first `)` on its line"
            ))
            .into());
        };
        let content_span = Span::new(open + 1, open + 1 + close);
        self.pos = content_span.end + 1;
        let content = line[..close].to_string();
        self.push(
            TokenKind::TypedLiteral {
                type_name,
                content,
                content_span,
            },
            start,
        );
        Ok(())
    }

    /// A string starting at `self.pos` (the quote or fence); `start` is the
    /// token start, before any `h` or `@` prefix.
    fn lex_string(&mut self, start: usize, verbatim: bool) -> PResult<()> {
        if self.at_fence(self.pos) {
            return self.lex_multiline_string(start);
        }
        let quote = self.byte(self.pos);
        self.pos += 1;
        let mut value = String::new();
        loop {
            let Some(c) = self.char_at(self.pos) else {
                return Err(self.unterminated(start, quote).into());
            };
            match c {
                '\n' | '\r' => return Err(self.unterminated(start, quote).into()),
                c if c as u32 == u32::from(quote) => {
                    // In a verbatim string a doubled quote is one quote.
                    if verbatim && self.byte(self.pos + 1) == quote {
                        value.push(c);
                        self.pos += 2;
                    } else {
                        self.pos += 1;
                        break;
                    }
                }
                '\\' if !verbatim => {
                    let decoded = self.lex_escape(start, quote)?;
                    value.push(decoded);
                }
                c => {
                    value.push(c);
                    self.pos += c.len_utf8();
                }
            }
        }
        self.push(TokenKind::String(value), start);
        Ok(())
    }

    fn unterminated(&self, start: usize, quote: u8) -> Diagnostic {
        let quote = char::from(quote);
        Diagnostic::new(
            Code::UnterminatedString,
            "unterminated string literal",
            Span::new(start, self.pos),
        )
        .with_label(format!("this string has no closing `{quote}`"))
        .with_help(
            "strings end on the line they start; use ```...``` for text spanning lines, \
             and write `\\n` for a line break",
        )
    }

    /// One escape sequence at `self.pos` (the backslash), decoded.
    fn lex_escape(&mut self, start: usize, quote: u8) -> PResult<char> {
        let escape_start = self.pos;
        self.pos += 1;
        let Some(c) = self.char_at(self.pos).filter(|c| !matches!(c, '\n' | '\r')) else {
            return Err(self.unterminated(start, quote).into());
        };
        self.pos += c.len_utf8();
        let simple = match c {
            '\\' | '\'' | '"' => Some(c),
            'a' => Some('\u{7}'),
            'b' => Some('\u{8}'),
            'f' => Some('\u{c}'),
            'n' => Some('\n'),
            'r' => Some('\r'),
            't' => Some('\t'),
            'v' => Some('\u{b}'),
            _ => None,
        };
        if let Some(decoded) = simple {
            return Ok(decoded);
        }
        let code = match c {
            'x' => self.hex_digits(2),
            'U' => self.hex_digits(8),
            'u' => self.hex_digits(4).and_then(|unit| self.utf16_escape(unit)),
            '0'..='7' => {
                // One to three octal digits; three only when the value fits a byte.
                let mut value = u32::from(c) - u32::from('0');
                let max_digits = if c <= '3' { 3 } else { 2 };
                for _ in 1..max_digits {
                    match self.byte(self.pos) {
                        digit @ b'0'..=b'7' => {
                            value = value * 8 + u32::from(digit - b'0');
                            self.pos += 1;
                        }
                        _ => break,
                    }
                }
                Some(value)
            }
            _ => None,
        };
        let span = Span::new(escape_start, self.pos);
        match code.and_then(char::from_u32) {
            Some(decoded) => Ok(decoded),
            None => Err(Diagnostic::new(
                Code::InvalidLiteral,
                format!(
                    "invalid escape sequence `{}`",
                    self.slice(escape_start, self.pos)
                ),
                span,
            )
            .with_label("not a valid escape")
            .with_help(
                "escapes are \\\\ \\' \\\" \\n \\r \\t \\a \\b \\f \\v \\xHH \\uHHHH \\UHHHHHHHH \
                 and octal \\NNN; a verbatim string @\"...\" takes backslashes literally",
            )
            .into()),
        }
    }

    /// `count` hex digits at `self.pos`, as a number.
    fn hex_digits(&mut self, count: usize) -> Option<u32> {
        let text = self.src.get(self.pos..self.pos + count)?;
        if !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        self.pos += count;
        u32::from_str_radix(text, 16).ok()
    }

    /// `\uXXXX` escapes are UTF-16 code units: a high surrogate must be
    /// followed by a `\uXXXX` low surrogate, which together make one character.
    fn utf16_escape(&mut self, unit: u32) -> Option<u32> {
        if !(0xD800..0xDC00).contains(&unit) {
            return Some(unit);
        }
        if !self.starts_with(self.pos, "\\u") {
            return None;
        }
        let saved = self.pos;
        self.pos += 2;
        match self.hex_digits(4) {
            Some(low @ 0xDC00..=0xDFFF) => Some(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)),
            _ => {
                self.pos = saved;
                None
            }
        }
    }

    /// ```` ```text``` ```` or `~~~text~~~`: raw text, line breaks allowed.
    fn lex_multiline_string(&mut self, start: usize) -> PResult<()> {
        let fence = if self.byte(self.pos) == b'`' {
            "```"
        } else {
            "~~~"
        };
        let body_start = self.pos + 3;
        let rest = self.src.get(body_start..).unwrap_or("");
        let Some(length) = rest.find(fence) else {
            self.pos = self.src.len();
            return Err(Diagnostic::new(
                Code::UnterminatedString,
                "unterminated multi-line string literal",
                Span::new(start, self.pos),
            )
            .with_label(format!("this string has no closing `{fence}`"))
            .into());
        };
        let value = rest[..length].to_string();
        self.pos = body_start + length + 3;
        self.push(TokenKind::String(value), start);
        Ok(())
    }

    /// Numbers: `5`, `0x1F`, `1.5`, `1.`, `1e3`, `2.5e-3`, and timespans, a
    /// number glued to a unit: `1d`, `1.5h`, `100ms`.
    fn lex_number(&mut self) -> PResult<()> {
        let start = self.pos;
        if self.byte(start) == b'0'
            && matches!(self.byte(start + 1), b'x' | b'X')
            && self.byte(start + 2).is_ascii_hexdigit()
        {
            self.pos = start + 2;
            while self.byte(self.pos).is_ascii_hexdigit() {
                self.pos += 1;
            }
            let digits_end = self.pos;
            self.skip_ident_chars();
            if self.pos != digits_end {
                return Err(self
                    .invalid_number(start, "not a hexadecimal number")
                    .into());
            }
            let digits = self.slice(start + 2, digits_end);
            let value = i64::from_str_radix(digits, 16)
                .map_err(|_| self.invalid_number(start, "does not fit in a long (64 bits)"))?;
            self.push(TokenKind::Long(value), start);
            return Ok(());
        }

        self.skip_digits();
        let mut is_real = false;
        let mut fraction_digits = 0;
        // `1..2` is a range, but `1...2` is the real `1.` and a range.
        if self.byte(self.pos) == b'.'
            && (self.byte(self.pos + 1) != b'.' || self.byte(self.pos + 2) == b'.')
        {
            is_real = true;
            self.pos += 1;
            fraction_digits = self.skip_digits();
        }
        let mut has_exponent = false;
        if matches!(self.byte(self.pos), b'e' | b'E') {
            let sign = usize::from(matches!(self.byte(self.pos + 1), b'+' | b'-'));
            if self.byte(self.pos + 1 + sign).is_ascii_digit() {
                has_exponent = true;
                is_real = true;
                self.pos += 1 + sign;
                self.skip_digits();
            }
        }
        let number_end = self.pos;
        let number = self.slice(start, number_end).to_string();

        self.skip_ident_chars();
        if self.pos != number_end {
            let suffix = self.slice(number_end, self.pos);
            let unit = timespan_unit(suffix);
            return match unit {
                Some((numerator, denominator))
                    if !has_exponent && (!is_real || fraction_digits > 0) =>
                {
                    let ticks = decimal_to_ticks(&number, numerator, denominator, false)
                        .ok_or_else(|| self.invalid_number(start, "timespan out of range"))?;
                    self.push(TokenKind::TimeSpan(ticks), start);
                    Ok(())
                }
                Some(_) => Err(self.invalid_number(
                    start,
                    "a timespan is digits, an optional fraction and a unit, as in `1.5h`",
                ).into()),
                None => Err(self.invalid_number(start, "unknown suffix").with_help(
                    "timespan units are d, h, m, s, ms, microsecond, tick (and their long forms \
                     such as days, hours, minutes); to use a name starting with digits, \
                     write ['name']",
                ).into()),
            };
        }

        if is_real {
            match parse_real_text(&number) {
                Some(value) => self.push(TokenKind::Real(value), start),
                None => return Err(self.invalid_number(start, "out of range for a real").into()),
            }
        } else {
            match number.parse::<i64>() {
                Ok(value) => self.push(TokenKind::Long(value), start),
                Err(_) => {
                    return Err(self
                        .invalid_number(start, "does not fit in a long (64 bits)")
                        .into())
                }
            }
        }
        Ok(())
    }

    /// Advances over ASCII digits; returns how many.
    fn skip_digits(&mut self) -> usize {
        let begin = self.pos;
        while self.byte(self.pos).is_ascii_digit() {
            self.pos += 1;
        }
        self.pos - begin
    }

    fn invalid_number(&self, start: usize, why: &str) -> Diagnostic {
        let text = self.slice(start, self.pos);
        Diagnostic::new(
            Code::InvalidLiteral,
            format!("invalid number literal `{text}`"),
            Span::new(start, self.pos),
        )
        .with_label(why)
    }
}

/// Parses real-number text already checked to be digits, an optional
/// fraction and an optional exponent. `None` when the value is infinite.
fn parse_real_text(text: &str) -> Option<f64> {
    text.parse::<f64>().ok().filter(|value| value.is_finite())
}

// ---------------------------------------------------------------------------
// Typed literal contents

/// Decodes the text of a typed literal (`TYPE(content)`) into a [`Literal`].
/// `span` is the whole literal, for diagnostics.
pub(crate) fn decode_typed_literal(type_name: &str, content: &str, span: Span) -> PResult<Literal> {
    let mut text = content.trim();
    let scalar_type = ScalarType::from_name(type_name);
    let Some(scalar_type) = scalar_type else {
        return Err(Diagnostic::new(
            Code::InvalidLiteral,
            format!("unknown literal type `{type_name}`"),
            span,
        )
        .into());
    };
    if text == "null" {
        return Ok(Literal::Null(scalar_type));
    }
    // Kusto also takes the value in quotes: `datetime("2024-05-28")`.
    if matches!(
        scalar_type,
        ScalarType::DateTime | ScalarType::TimeSpan | ScalarType::Guid
    ) {
        text = unquote(text).unwrap_or(text);
    }
    let invalid = |why: String| {
        Box::new(
            Diagnostic::new(
                Code::InvalidLiteral,
                format!(
                    "invalid {} literal `{type_name}({content})`",
                    scalar_type.name()
                ),
                span,
            )
            .with_label(why),
        )
    };
    let bad = |why: &str| Err(invalid(why.to_string()));
    let literal = match scalar_type {
        ScalarType::Bool => match text.to_ascii_lowercase().as_str() {
            "true" => Literal::Bool(true),
            "false" => Literal::Bool(false),
            _ => return bad("expected true, false or null"),
        },
        ScalarType::Long => match parse_integer(text) {
            Some(value) => Literal::Long(value),
            None => return bad("expected an integer that fits in 64 bits"),
        },
        ScalarType::Int => match parse_integer(text).and_then(|value| i32::try_from(value).ok()) {
            Some(value) => Literal::Int(value),
            None => return bad("expected an integer that fits in 32 bits"),
        },
        ScalarType::Real => match parse_real_content(text) {
            Some(value) => Literal::Real(value),
            None => return bad("expected a number, nan, +inf or -inf"),
        },
        ScalarType::Decimal => match Decimal::parse(text) {
            Some(value) => Literal::Decimal(value),
            None => {
                return bad("expected a number of at most 38 integer digits, such as 1.5 or 1e5")
            }
        },
        ScalarType::DateTime if text.is_empty() => {
            return Err(Box::new(
                Diagnostic::new(
                    Code::Unsupported,
                    "`datetime()` (the current time) is not supported",
                    span,
                )
                .with_help("use now()"),
            ))
        }
        ScalarType::DateTime => match parse_datetime(text) {
            Ok(ticks) => Literal::DateTime(ticks),
            Err(why) => {
                let note = "kqlc reads the forms of the reference's datetime page: ISO 8601 \
                            (2024-05-28T10:00:00Z), RFC 822 or 850 (Sat, 8 Nov 14 15:05:02 GMT) \
                            and month first (12-02-2022)";
                return Err(Box::new(invalid(why).with_note(note)));
            }
        },
        ScalarType::TimeSpan => match parse_timespan(text) {
            Ok(ticks) => Literal::TimeSpan(ticks),
            Err(why) => return Err(invalid(why)),
        },
        ScalarType::Guid => match parse_guid(text) {
            Some(guid) => Literal::Guid(guid),
            None => {
                return bad("expected 32 hex digits such as 74be27de-1e4e-49d9-b579-fe0b331d3642")
            }
        },
        ScalarType::String | ScalarType::Dynamic => return bad("not a typed literal"),
    };
    Ok(literal)
}

/// The inside of `"text"` or `'text'` (no escapes: the values quoted here
/// never need them).
fn unquote(text: &str) -> Option<&str> {
    ['"', '\''].into_iter().find_map(|quote| {
        let inner = text.strip_prefix(quote)?.strip_suffix(quote)?;
        (!inner.contains(quote) && !inner.contains('\\')).then_some(inner)
    })
}

/// `[+-]digits` or `[+-]0xHEX`, as an i64.
fn parse_integer(text: &str) -> Option<i64> {
    let (negative, digits) = split_sign(text);
    let magnitude: i128 = if let Some(hex) = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        if hex.is_empty() || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        i128::from_str_radix(hex, 16).ok()?
    } else {
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse::<i128>().ok()?
    };
    i64::try_from(if negative { -magnitude } else { magnitude }).ok()
}

/// The content of `real(...)`: a signed number, `nan`, `inf`, `+inf`, `-inf`.
fn parse_real_content(text: &str) -> Option<f64> {
    let (negative, body) = split_sign(text);
    let magnitude = match body {
        "nan" if !negative && !text.starts_with('+') => return Some(f64::NAN),
        "inf" => f64::INFINITY,
        _ if is_real_text(body) => parse_real_text(body)?,
        _ => return None,
    };
    Some(if negative { -magnitude } else { magnitude })
}

/// True for `digits[.digits][e[+-]digits]`, `.digits...` or `digits.`:
/// Rust's float parser also takes words such as `infinity`, which KQL doesn't.
fn is_real_text(text: &str) -> bool {
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(at) => (&text[..at], Some(&text[at + 1..])),
        None => (text, None),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let exponent_ok = match exponent {
        Some(e) => {
            let e = e.strip_prefix(['+', '-']).unwrap_or(e);
            !e.is_empty() && digits(e)
        }
        None => true,
    };
    !(whole.is_empty() && fraction.is_empty()) && digits(whole) && digits(fraction) && exponent_ok
}

/// Decodes the text of a `datetime(...)` literal into ticks since the Unix
/// epoch, with the decoder the runtime's `todatetime()` uses
/// ([`kql_literal::datetime::parse`]: ISO 8601, RFC 822/1123/850 and
/// month-first forms), so a literal and the same text in data agree. The
/// error is a short reason.
pub(crate) fn parse_datetime(text: &str) -> Result<i64, String> {
    kql_literal::datetime::parse(text)
        .ok_or_else(|| "not a valid date and time in years 1 to 9999".to_string())
}

/// A guid as 32 hex digits, with or without the usual dashes or braces, in
/// canonical lowercase form.
fn parse_guid(text: &str) -> Option<String> {
    let inner = text
        .strip_prefix('{')
        .and_then(|t| t.strip_suffix('}'))
        .unwrap_or(text);
    let hex: String = if inner.len() == 36 {
        let dashes_in_place = inner
            .char_indices()
            .all(|(i, c)| (c == '-') == matches!(i, 8 | 13 | 18 | 23));
        if !dashes_in_place {
            return None;
        }
        inner.chars().filter(|c| *c != '-').collect()
    } else {
        inner.to_string()
    };
    if hex.len() != 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let hex = hex.to_ascii_lowercase();
    Some(format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(source: &str) -> Vec<TokenKind> {
        tokenize(source)
            .expect("lexes")
            .into_iter()
            .map(|token| token.kind)
            .filter(|kind| *kind != TokenKind::Eof)
            .collect()
    }

    fn error(source: &str) -> Diagnostic {
        *tokenize(source).expect_err("should not lex")
    }

    fn ident(word: &str) -> TokenKind {
        TokenKind::Ident(word.to_string())
    }

    fn string(text: &str) -> TokenKind {
        TokenKind::String(text.to_string())
    }

    #[test]
    fn punctuation_and_operators_lex_longest_first() {
        use TokenKind::*;
        assert_eq!(
            kinds("| ( ) [ ] { } , ; . : = == != <> < <= > >= =~ !~ + - * / % .."),
            vec![
                Pipe, LParen, RParen, LBracket, RBracket, LBrace, RBrace, Comma, Semicolon, Dot,
                Colon, Assign, EqEq, NotEq, NotEq, Lt, Le, Gt, Ge, EqTilde, BangTilde, Plus, Minus,
                Star, Slash, Percent, DotDot
            ]
        );
    }

    #[test]
    fn words_include_dollar_names_and_unicode_letters() {
        assert_eq!(
            kinds("where $left.a Ünïcode _x1"),
            vec![
                ident("where"),
                ident("$left"),
                TokenKind::Dot,
                ident("a"),
                ident("Ünïcode"),
                ident("_x1")
            ]
        );
    }

    #[test]
    fn negated_operator_words_are_single_keywords() {
        let has_cs = Keyword::from_word("!has_cs").expect("in table");
        assert_eq!(
            kinds("!has_cs !in~ in~ !between !in"),
            vec![
                TokenKind::Keyword(has_cs),
                TokenKind::Keyword(Keyword::NotInCi),
                TokenKind::Keyword(Keyword::InCi),
                TokenKind::Keyword(Keyword::NotBetween),
                TokenKind::Keyword(Keyword::NotIn),
            ]
        );
        // Not a negatable word: the `!` stands alone for the parser to report.
        assert_eq!(kinds("!isnull"), vec![TokenKind::Bang, ident("isnull")]);
    }

    #[test]
    fn comments_and_whitespace_are_skipped() {
        assert_eq!(
            kinds("a // comment | where\n\t b  \r\n// last"),
            vec![ident("a"), ident("b")]
        );
        assert_eq!(kinds("   \n  "), vec![]);
        assert_eq!(kinds("\u{feff}a"), vec![ident("a")]);
    }

    #[test]
    fn numbers_lex_as_long_real_or_hex() {
        use TokenKind::*;
        assert_eq!(
            kinds("5 0x1F 1.5 1e3 2.5E-3 1. 9223372036854775807"),
            vec![
                Long(5),
                Long(31),
                Real(1.5),
                Real(1000.0),
                Real(0.0025),
                Real(1.0),
                Long(i64::MAX)
            ]
        );
    }

    #[test]
    fn a_range_after_an_integer_is_not_a_fraction() {
        use TokenKind::*;
        assert_eq!(kinds("1..5"), vec![Long(1), DotDot, Long(5)]);
    }

    #[test]
    fn timespan_literals_use_every_unit() {
        let cases = [
            ("2d", 2 * DAY),
            ("1.5h", 3 * HOUR / 2),
            ("30m", 30 * MINUTE),
            ("10s", 10 * SECOND),
            ("0.1s", SECOND / 10),
            ("100ms", 100 * MILLISECOND),
            ("10microsecond", 100),
            ("3microseconds", 30),
            ("1tick", 1),
            ("5ticks", 5),
            ("2days", 2 * DAY),
            ("1hour", HOUR),
            ("2hours", 2 * HOUR),
            ("1min", MINUTE),
            ("1minute", MINUTE),
            ("2minutes", 2 * MINUTE),
            ("1sec", SECOND),
            ("1second", SECOND),
            ("2seconds", 2 * SECOND),
            ("1millisecond", MILLISECOND),
            ("2milliseconds", 2 * MILLISECOND),
            ("300nanoseconds", 3),
            ("1hr", HOUR),
        ];
        for (text, ticks) in cases {
            assert_eq!(
                kinds(text),
                vec![TokenKind::TimeSpan(ticks as i64)],
                "{text}"
            );
        }
    }

    #[test]
    fn bad_numbers_are_invalid_literals() {
        for (text, span) in [
            ("1zz", (0, 3)),
            ("x 99999999999999999999", (2, 22)),
            ("0x1G", (0, 4)),
            ("1e3d", (0, 4)),
            ("1.d", (0, 3)),
            ("1e999", (0, 5)),
        ] {
            let diagnostic = error(text);
            assert_eq!(diagnostic.code, Code::InvalidLiteral, "{text}");
            assert_eq!(
                (diagnostic.primary.span.start, diagnostic.primary.span.end),
                span,
                "{text}"
            );
        }
    }

    #[test]
    fn strings_decode_escapes() {
        assert_eq!(
            kinds(r#""a\"b\\c\n\t\r" 'it\'s' "\u0041\x42\101\U0001F600" "\ud83d\ude00""#),
            vec![
                string("a\"b\\c\n\t\r"),
                string("it's"),
                string("ABA\u{1F600}"),
                string("\u{1F600}")
            ]
        );
    }

    #[test]
    fn verbatim_strings_take_backslashes_literally_and_double_quotes() {
        assert_eq!(
            kinds(r#"@"C:\dir\" @'it''s' @"say ""hi""""#),
            vec![string("C:\\dir\\"), string("it's"), string("say \"hi\"")]
        );
    }

    #[test]
    fn multiline_and_obfuscated_strings() {
        assert_eq!(
            kinds("```line 1\nline \"2\"``` ~~~x~~~ h\"secret\" H'x' h@'c:\\'"),
            vec![
                string("line 1\nline \"2\""),
                string("x"),
                string("secret"),
                string("x"),
                string("c:\\")
            ]
        );
    }

    #[test]
    fn unterminated_strings_point_at_the_opening_quote() {
        let diagnostic = error("print \"abc\nnext");
        assert_eq!(diagnostic.code, Code::UnterminatedString);
        assert_eq!(
            (diagnostic.primary.span.start, diagnostic.primary.span.end),
            (6, 10)
        );
        let diagnostic = error("x = @'abc");
        assert_eq!(diagnostic.code, Code::UnterminatedString);
        assert_eq!(diagnostic.primary.span.start, 4);
        let diagnostic = error("x = ```abc");
        assert_eq!(diagnostic.code, Code::UnterminatedString);
        assert_eq!(diagnostic.primary.span.start, 4);
        // A backslash before the end of input leaves the string open.
        assert_eq!(error("'abc\\").code, Code::UnterminatedString);
        let diagnostic = error("'abc\\\nx'");
        assert_eq!(diagnostic.code, Code::UnterminatedString);
        assert_eq!(
            (diagnostic.primary.span.start, diagnostic.primary.span.end),
            (0, 5)
        );
    }

    #[test]
    fn bad_escapes_are_invalid_literals() {
        let diagnostic = error(r#"x = "a\qb""#);
        assert_eq!(diagnostic.code, Code::InvalidLiteral);
        assert_eq!(
            (diagnostic.primary.span.start, diagnostic.primary.span.end),
            (6, 8)
        );
        assert_eq!(error(r#""\ud800""#).code, Code::InvalidLiteral);
        assert_eq!(error(r#""\u12""#).code, Code::InvalidLiteral);
    }

    #[test]
    fn unexpected_characters_are_reported_with_their_span() {
        let diagnostic = error("where x # y");
        assert_eq!(diagnostic.code, Code::UnexpectedCharacter);
        assert_eq!(
            (diagnostic.primary.span.start, diagnostic.primary.span.end),
            (8, 9)
        );
        let diagnostic = error("a €");
        assert_eq!(
            (diagnostic.primary.span.start, diagnostic.primary.span.end),
            (2, 5)
        );
        assert_eq!(error("`a`").code, Code::UnexpectedCharacter);
        assert_eq!(error("@x").code, Code::UnexpectedCharacter);
    }

    #[test]
    fn typed_literals_keep_their_raw_text() {
        let tokens = tokenize("datetime(2024-05-28 10:00) long (5)").expect("lexes");
        assert_eq!(
            tokens[0].kind,
            TokenKind::TypedLiteral {
                type_name: "datetime".to_string(),
                content: "2024-05-28 10:00".to_string(),
                content_span: Span::new(9, 25),
            }
        );
        assert_eq!((tokens[0].span.start, tokens[0].span.end), (0, 26));
        // With a space it is a word: Kusto wants the parenthesis glued on.
        assert_eq!(tokens[1].kind, ident("long"));
        let diagnostic = error("datetime(2024\n)");
        assert_eq!(diagnostic.code, Code::UnbalancedDelimiter);
        assert_eq!(
            (diagnostic.primary.span.start, diagnostic.primary.span.end),
            (8, 9)
        );
    }

    #[test]
    fn datetimes_parse_iso_8601_forms() {
        let day = (DAY) as i64;
        let base = 19_871 * day; // 2024-05-28
        let cases = [
            ("2024-05-28", base),
            ("2024-05-28T10:00:00Z", base + 10 * HOUR as i64),
            ("2024-05-28 10:00", base + 10 * HOUR as i64),
            (
                "2024-05-28T10:00:00.1234567Z",
                base + 10 * HOUR as i64 + 1_234_567,
            ),
            ("2024-05-28T10:00:00.5", base + 10 * HOUR as i64 + 5_000_000),
            ("2024-05-28T12:00:00+02:00", base + 10 * HOUR as i64),
            ("2024-05-28T08:00:00-0200", base + 10 * HOUR as i64),
            ("1970-01-01", 0),
            ("0001-01-01", kql_literal::datetime::MIN_TICKS),
            (
                "9999-12-31T23:59:59.9999999",
                kql_literal::datetime::MAX_TICKS,
            ),
            // Digits finer than a tick are dropped, as `todatetime` does.
            (
                "2024-01-01T10:00:00.12345678",
                19_723 * day + 10 * HOUR as i64 + 1_234_567,
            ),
            // Month first, as `todatetime('12-02-2022')` reads it.
            ("5-28-2024 10:00", base + 10 * HOUR as i64),
        ];
        for (text, ticks) in cases {
            assert_eq!(parse_datetime(text), Ok(ticks), "{text}");
        }
        for bad in [
            "2024-13-45",
            "2024-02-30",
            "24-01-01",
            "2024-01-01T25:00",
            "2024-01-01 10",
            "soon",
            "2024-01-01x",
        ] {
            assert!(parse_datetime(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn timespan_contents_parse_units_and_clock_forms() {
        let cases = [
            ("1d", DAY as i64),
            ("1.5h", (3 * HOUR / 2) as i64),
            ("15 seconds", (15 * SECOND) as i64),
            ("2", (2 * DAY) as i64),
            ("-1d", -(DAY as i64)),
            (
                "1.02:03:04.5",
                (DAY + 2 * HOUR + 3 * MINUTE + 4 * SECOND + SECOND / 2) as i64,
            ),
            ("00:01:00", MINUTE as i64),
            ("10:30", (10 * HOUR + 30 * MINUTE) as i64),
            ("-9223372036854775808tick", i64::MIN),
        ];
        for (text, ticks) in cases {
            assert_eq!(parse_timespan(text), Ok(ticks), "{text}");
        }
        for bad in [
            "zz",
            "1x",
            "1.",
            ".5h",
            "25:00",
            "1:2",
            "9223372036854775808tick",
            "1..2d",
        ] {
            assert!(parse_timespan(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn typed_literal_contents_decode() {
        let span = Span::default();
        let decode =
            |type_name: &str, content: &str| decode_typed_literal(type_name, content, span);
        assert_eq!(decode("long", "-5"), Ok(Literal::Long(-5)));
        assert_eq!(decode("long", "0x10"), Ok(Literal::Long(16)));
        assert_eq!(
            decode("int64", "-9223372036854775808"),
            Ok(Literal::Long(i64::MIN))
        );
        assert_eq!(decode("int", " 5 "), Ok(Literal::Int(5)));
        assert_eq!(decode("real", "+inf"), Ok(Literal::Real(f64::INFINITY)));
        assert_eq!(
            decode("double", "-inf"),
            Ok(Literal::Real(f64::NEG_INFINITY))
        );
        assert_eq!(decode("real", "1.5e3"), Ok(Literal::Real(1500.0)));
        assert!(matches!(decode("real", "nan"), Ok(Literal::Real(value)) if value.is_nan()));
        assert_eq!(decode("bool", "True"), Ok(Literal::Bool(true)));
        assert_eq!(
            decode("time", "null"),
            Ok(Literal::Null(ScalarType::TimeSpan))
        );
        assert_eq!(
            decode("datetime", "\"1970-01-01\""),
            Ok(Literal::DateTime(0))
        );
        assert_eq!(decode("timespan", "'1tick'"), Ok(Literal::TimeSpan(1)));
        assert_eq!(
            decode("date", "null"),
            Ok(Literal::Null(ScalarType::DateTime))
        );
        assert_eq!(
            decode("guid", "74BE27DE1E4E49D9B579FE0B331D3642"),
            Ok(Literal::Guid(
                "74be27de-1e4e-49d9-b579-fe0b331d3642".to_string()
            ))
        );
        for (type_name, content) in [
            ("int", "3000000000"),
            ("long", "5x"),
            ("real", "infinity"),
            ("bool", "yes"),
            ("guid", "zz"),
            ("datetime", "2024-13-45"),
            ("decimal", "abc"),
            ("decimal", "1e38"),
        ] {
            assert_eq!(
                decode(type_name, content).map_err(|d| d.code),
                Err(Code::InvalidLiteral),
                "{type_name}({content})"
            );
        }
        assert_eq!(
            decode("decimal", "1.50").map(|l| l.to_string()),
            Ok("decimal(1.5)".to_string())
        );
        assert_eq!(
            decode("decimal", "1e5").map(|l| l.to_string()),
            Ok("decimal(100000)".to_string())
        );
        assert_eq!(
            decode("decimal", "null"),
            Ok(Literal::Null(ScalarType::Decimal))
        );
        assert_eq!(
            decode("datetime", "").map_err(|d| d.code),
            Err(Code::Unsupported)
        );
    }

    #[test]
    fn identifiers_are_recognized_for_printing() {
        assert!(is_identifier("Timestamp"));
        assert!(is_identifier("$left"));
        assert!(!is_identifier("a b"));
        assert!(!is_identifier("1a"));
        assert!(!is_identifier(""));
        assert!(!is_identifier("a$"));
    }
}
