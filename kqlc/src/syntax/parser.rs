//! The parser: tokens → [`Query`].
//!
//! Recursive descent over statements and tabular operators, with a Pratt loop
//! for binary operators whose precedence lives in one table ([`precedence`]).
//! Before parsing, [`check_delimiters`] pairs every bracket, so an unbalanced
//! one is reported where it is rather than where parsing gets lost. Nesting
//! (brackets, operands, operator chains) is limited to [`MAX_DEPTH`], so deep
//! input gives [`Code::NestingTooDeep`] instead of overflowing the stack, and
//! every later stage can walk the tree recursively.

use super::ast::{
    self, BinaryOp, Datatable, DynamicLiteral, Expr, ExprKind, Ident, Join, JoinKey, JoinKind, Let,
    LetValue, ListOp, Literal, MakeSeries, MvExpand, MvExpandItem, NamedExpr, Operator,
    OperatorKind, Query, Range, SeriesAggregate, SeriesRange, SortExpr, Source, Span, Statement,
    StringOp, StringOpKind, TabularExpr, UnaryOp, Unimplemented,
};
use super::lexer::{self, Keyword, PResult, Token, TokenKind};
use crate::diag::{closest_name, Code, Diagnostic};
use crate::types::ScalarType;

/// How deep brackets and expressions may nest. Each bracket, each operand
/// and each operator of a chain (`a + b + c`) counts one level.
pub(crate) const MAX_DEPTH: usize = 128;

/// How many `and`/`or` operators of one chain keep the left-leaning shape
/// (and count as nesting); a longer chain is rebalanced.
const FLAT_LOGIC_CHAIN: usize = 32;

/// A left-leaning chain `a or b or c ...` (all one operator) as a balanced
/// tree of the same operands in the same order. Flattened by a loop, so a
/// chain of any length neither recurses nor drops recursively.
fn rebalance_logic_chain(chain: Expr) -> Expr {
    let ExprKind::Binary { op, .. } = &chain.kind else {
        return chain;
    };
    let op = *op;
    let mut operands = Vec::new();
    let mut node = chain;
    loop {
        match node.kind {
            ExprKind::Binary { op: o, lhs, rhs } if o == op => {
                operands.push(*rhs);
                node = *lhs;
            }
            kind => {
                operands.push(Expr {
                    kind,
                    span: node.span,
                });
                break;
            }
        }
    }
    operands.reverse();
    balanced(op, operands)
}

/// The last `run` operators of the left spine of `expr` (a run of one
/// arithmetic precedence level, just parsed) as one flat
/// [`ExprKind::Chain`], when the run is longer than [`FLAT_LOGIC_CHAIN`];
/// a shorter run stays nested. Walks the spine by a loop.
fn flatten_arithmetic_run(expr: Expr, run: usize) -> Expr {
    if run <= FLAT_LOGIC_CHAIN {
        return expr;
    }
    let mut rest = Vec::with_capacity(run);
    let mut node = expr;
    while rest.len() < run {
        match node.kind {
            ExprKind::Binary { op, lhs, rhs } => {
                rest.push((op, *rhs));
                node = *lhs;
            }
            kind => {
                // Not reached: the parser built `run` binary nodes.
                node = Expr {
                    kind,
                    span: node.span,
                };
                break;
            }
        }
    }
    rest.reverse();
    let span = match rest.last() {
        Some((_, last)) => node.span.to(last.span),
        None => return node,
    };
    Expr {
        kind: ExprKind::Chain {
            first: Box::new(node),
            rest,
        },
        span,
    }
}

/// `items` joined by `op` as a balanced tree (`items` is not empty).
fn balanced(op: BinaryOp, mut items: Vec<Expr>) -> Expr {
    if items.len() == 1 {
        return items.pop().expect("one item");
    }
    let right = items.split_off(items.len() / 2);
    let (lhs, rhs) = (balanced(op, items), balanced(op, right));
    let span = Span::new(lhs.span.start, rhs.span.end);
    Expr {
        kind: ExprKind::Binary {
            op,
            lhs: Box::new(lhs),
            rhs: Box::new(rhs),
        },
        span,
    }
}

/// What the parser does with a tabular operator name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum OperatorName {
    Where,
    Extend,
    Project,
    ProjectAway,
    ProjectRename,
    MvExpand,
    Take,
    Count,
    Summarize,
    Sort,
    Top,
    Distinct,
    ProjectKeep,
    ProjectReorder,
    Join,
    Lookup,
    Union,
    Parse,
    ParseWhere,
    As,
    Invoke,
    MvApply,
    Sample,
    Serialize,
    MakeSeries,
    TopNested,
    TopHitters,
    GetSchema,
    Render,
    Partition,
    /// A KQL operator kqlc does not implement yet.
    NotYetSupported,
}

/// The tabular operator table: every operator name KQL has after a `|`.
/// Hyphenated names are the tokens `word - word` written without spaces; the
/// parser glues them together before looking them up here.
const TABULAR_OPERATORS: &[(&str, OperatorName)] = {
    use OperatorName::*;
    &[
        ("where", Where),
        ("filter", Where),
        ("extend", Extend),
        ("project", Project),
        ("project-away", ProjectAway),
        ("project-rename", ProjectRename),
        ("mv-expand", MvExpand),
        ("mvexpand", MvExpand),
        ("take", Take),
        ("limit", Take),
        ("count", Count),
        ("as", As),
        ("assert-schema", NotYetSupported),
        ("consume", NotYetSupported),
        ("distinct", Distinct),
        ("evaluate", NotYetSupported),
        ("execute-and-cache", NotYetSupported),
        ("facet", NotYetSupported),
        ("fork", NotYetSupported),
        ("getschema", GetSchema),
        ("graph-mark-components", NotYetSupported),
        ("graph-match", NotYetSupported),
        ("graph-shortest-paths", NotYetSupported),
        ("graph-to-table", NotYetSupported),
        ("invoke", Invoke),
        ("join", Join),
        ("lookup", Lookup),
        ("macro-expand", NotYetSupported),
        ("make-graph", NotYetSupported),
        ("make-series", MakeSeries),
        ("mv-apply", MvApply),
        ("mvapply", MvApply),
        ("order", Sort),
        ("parse", Parse),
        ("parse-kv", NotYetSupported),
        ("parse-where", ParseWhere),
        ("partition", Partition),
        ("project-keep", ProjectKeep),
        ("project-reorder", ProjectReorder),
        ("reduce", NotYetSupported),
        ("render", Render),
        ("sample", Sample),
        ("sample-distinct", NotYetSupported),
        ("scan", NotYetSupported),
        ("search", NotYetSupported),
        ("serialize", Serialize),
        ("sort", Sort),
        ("summarize", Summarize),
        ("top", Top),
        ("top-hitters", TopHitters),
        ("top-nested", TopNested),
        ("union", Union),
    ]
};

/// Words that start a tabular expression kqlc does not implement yet
/// (`union T1, T2`, `range x from 1 to 3 step 1`, ...).
const UNSUPPORTED_SOURCES: &[&str] = &["find", "search", "evaluate"];

/// Words that start a statement kqlc does not implement yet (`set x = 1;`).
const UNSUPPORTED_STATEMENTS: &[&str] = &["declare", "set", "alias", "pattern", "restrict"];

/// True if `word` has a meaning somewhere in the grammar, so printing it as a
/// name must bracket it (`['where']`) to be read back as a name.
pub(crate) fn is_reserved_word(word: &str) -> bool {
    Keyword::from_word(word).is_some()
        || lexer::is_typed_literal_keyword(word)
        || ScalarType::from_name(word).is_some()
        || TABULAR_OPERATORS.iter().any(|(name, _)| *name == word)
        || UNSUPPORTED_SOURCES.contains(&word)
        || UNSUPPORTED_STATEMENTS.contains(&word)
        || matches!(word, "externaldata" | "external_data")
}

/// An infix operator, as the Pratt loop sees it.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Infix {
    Binary(BinaryOp),
    List(ListOp),
    Between { negated: bool },
}

/// Binding strength, weakest first. The levels follow Microsoft's reference
/// parser (Kusto.Language's `QueryParser`): relational operators bind tighter
/// than equality, and the string operators (`has`, `contains`, `=~`, ...)
/// bind tighter than arithmetic, so `a + b has c` is `a + (b has c)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Precedence {
    Lowest,
    Or,
    And,
    /// `==`, `!=`, `<>`, `in` and the other list operators, `between`.
    Equality,
    /// `<`, `<=`, `>`, `>=`.
    Relational,
    Additive,
    Multiplicative,
    /// `=~`, `!~`, `has`, `contains`, `startswith`, `matches regex`, ...
    StringOp,
    /// Above every infix operator: the right operand of a `has` is a single
    /// (prefix or postfix) operand.
    Prefix,
}

impl Precedence {
    /// The next stronger level: the right operand of a left-associative
    /// operator binds at least this strongly.
    fn tighter(self) -> Precedence {
        match self {
            Precedence::Lowest => Precedence::Or,
            Precedence::Or => Precedence::And,
            Precedence::And => Precedence::Equality,
            Precedence::Equality => Precedence::Relational,
            Precedence::Relational => Precedence::Additive,
            Precedence::Additive => Precedence::Multiplicative,
            Precedence::Multiplicative => Precedence::StringOp,
            Precedence::StringOp | Precedence::Prefix => Precedence::Prefix,
        }
    }

    /// Operators of these levels do not chain: `a == b == c`, `a < b < c`
    /// and `a has b has c` are errors, as in Kusto.
    fn is_non_associative(self) -> bool {
        matches!(
            self,
            Precedence::Equality | Precedence::Relational | Precedence::StringOp
        )
    }
}

/// The precedence table: the one place operator strength is decided.
/// (`not` is a function in KQL, so it needs no level; unary `-` and `+` and
/// the postfix forms bind tighter than all of these.)
fn precedence(op: Infix) -> Precedence {
    match op {
        Infix::Binary(BinaryOp::Or) => Precedence::Or,
        Infix::Binary(BinaryOp::And) => Precedence::And,
        Infix::Binary(BinaryOp::Eq | BinaryOp::NotEq) | Infix::List(_) | Infix::Between { .. } => {
            Precedence::Equality
        }
        Infix::Binary(BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge) => {
            Precedence::Relational
        }
        Infix::Binary(BinaryOp::Add | BinaryOp::Sub) => Precedence::Additive,
        Infix::Binary(BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod) => Precedence::Multiplicative,
        Infix::Binary(BinaryOp::EqCi | BinaryOp::NotEqCi | BinaryOp::Str(_)) => {
            Precedence::StringOp
        }
    }
}

const MATCHES_REGEX: StringOp = StringOp {
    kind: StringOpKind::MatchesRegex,
    negated: false,
    case_sensitive: true,
};

/// A recursive-descent parser over the tokens of one query.
pub(crate) struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    /// Where the last consumed token ends, for node spans.
    last_end: usize,
    /// Current nesting, checked against [`MAX_DEPTH`].
    depth: usize,
    /// Returned when peeking past the end.
    eof: Token,
    /// The query text (option values are copied from it).
    source: String,
}

impl Parser {
    /// Lexes `source` and checks its brackets pair up.
    // The diagnostic is returned by value: that is `syntax::parse`'s API.
    #[allow(clippy::result_large_err)]
    pub(crate) fn new(source: &str) -> Result<Parser, Diagnostic> {
        let tokens = lexer::tokenize(source).map_err(|diagnostic| *diagnostic)?;
        check_delimiters(&tokens).map_err(|diagnostic| *diagnostic)?;
        let end = source.len();
        Ok(Parser {
            source: source.to_string(),
            tokens,
            pos: 0,
            last_end: 0,
            depth: 0,
            eof: Token {
                kind: TokenKind::Eof,
                span: Span::new(end, end),
            },
        })
    }

    // --- token helpers -----------------------------------------------------

    fn peek(&self) -> &Token {
        self.peek_at(0)
    }

    fn peek_at(&self, offset: usize) -> &Token {
        self.tokens.get(self.pos + offset).unwrap_or(&self.eof)
    }

    fn kind_at(&self, offset: usize) -> &TokenKind {
        &self.peek_at(offset).kind
    }

    fn at(&self, kind: &TokenKind) -> bool {
        self.kind_at(0) == kind
    }

    /// Consumes the next token; returns its span.
    fn advance(&mut self) -> Span {
        let span = self.peek().span;
        if self.pos < self.tokens.len() {
            self.pos += 1;
            self.last_end = span.end;
        }
        span
    }

    fn eat(&mut self, kind: &TokenKind) -> Option<Span> {
        if self.at(kind) {
            Some(self.advance())
        } else {
            None
        }
    }

    /// Consumes a `kind` token or reports "expected {expected}, found ...".
    fn expect(&mut self, kind: &TokenKind, expected: &str) -> PResult<Span> {
        self.eat(kind)
            .ok_or_else(|| self.unexpected(expected).into())
    }

    /// The keyword a word token stands for, if any.
    fn keyword_at(&self, offset: usize) -> Option<Keyword> {
        match self.kind_at(offset) {
            TokenKind::Ident(word) => Keyword::from_word(word),
            TokenKind::Keyword(keyword) => Some(*keyword),
            _ => None,
        }
    }

    fn eat_keyword(&mut self, keyword: Keyword) -> Option<Span> {
        if self.keyword_at(0) == Some(keyword) {
            Some(self.advance())
        } else {
            None
        }
    }

    fn word_at(&self, offset: usize) -> Option<&str> {
        match self.kind_at(offset) {
            TokenKind::Ident(word) => Some(word),
            _ => None,
        }
    }

    /// True if a name starts at `offset`: a word or `['bracketed']`.
    fn starts_name(&self, offset: usize) -> bool {
        match self.kind_at(offset) {
            TokenKind::Ident(_) => true,
            TokenKind::LBracket => {
                matches!(self.kind_at(offset + 1), TokenKind::String(_))
                    && *self.kind_at(offset + 2) == TokenKind::RBracket
            }
            _ => false,
        }
    }

    /// Length in tokens of the name at `offset` (see [`Self::starts_name`]).
    fn name_length(&self, offset: usize) -> usize {
        if *self.kind_at(offset) == TokenKind::LBracket {
            3
        } else {
            1
        }
    }

    /// "expected {expected}, found ..." at the next token.
    #[cold]
    #[inline(never)]
    fn unexpected(&self, expected: &str) -> Diagnostic {
        let token = self.peek();
        let diagnostic = Diagnostic::new(
            Code::UnexpectedToken,
            format!("expected {expected}, found {}", token.kind.describe()),
            token.span,
        )
        .with_label(format!("expected {expected}"));
        match token.kind {
            TokenKind::Bang => diagnostic.with_help("KQL negates a condition with not(...)"),
            _ => diagnostic,
        }
    }

    /// Enters one nesting level; `span` is blamed if that is one too many.
    fn enter(&mut self, span: Span) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(too_deep(span).into());
        }
        Ok(())
    }

    // --- statements --------------------------------------------------------

    /// Parses the whole query: statements separated by `;` (a trailing `;`
    /// is allowed), up to the end of input.
    // The diagnostic is returned by value: that is `syntax::parse`'s API.
    #[allow(clippy::result_large_err)]
    pub(crate) fn parse_query(&mut self) -> Result<Query, Diagnostic> {
        self.parse_statements().map_err(|diagnostic| *diagnostic)
    }

    fn parse_statements(&mut self) -> PResult<Query> {
        let mut statements = Vec::new();
        while !self.at(&TokenKind::Eof) {
            if let Some(lets) = self.parse_query_parameters()? {
                statements.extend(lets);
                if self.eat(&TokenKind::Semicolon).is_none() && !self.at(&TokenKind::Eof) {
                    return Err(self.unexpected("`;` or end of input").into());
                }
                continue;
            }
            let statement = self.parse_statement()?;
            let tabular = matches!(
                statement,
                Statement::Tabular(_)
                    | Statement::Let(Let {
                        value: LetValue::Tabular(_),
                        ..
                    })
            );
            statements.push(statement);
            if self.eat(&TokenKind::Semicolon).is_none() && !self.at(&TokenKind::Eof) {
                return Err(self
                    .unexpected(if tabular {
                        "`|`, `;` or end of input"
                    } else {
                        "`;` or end of input"
                    })
                    .into());
            }
        }
        Ok(Query {
            statements,
            span: Span::new(0, self.eof.span.end),
        })
    }

    /// `declare query_parameters(NAME: TYPE = DEFAULT, ...)`: values a
    /// client may pass with the query. A detector has no client, so each
    /// takes its default: the statement is the `let`s it amounts to. With a
    /// parameter without a default, `None` (it stays unimplemented).
    fn parse_query_parameters(&mut self) -> PResult<Option<Vec<Statement>>> {
        if !(self.word_at(0) == Some("declare")
            && self.word_at(1) == Some("query_parameters")
            && *self.kind_at(2) == TokenKind::LParen)
        {
            return Ok(None);
        }
        let (pos, last_end) = (self.pos, self.last_end);
        let start = self.advance();
        self.advance();
        self.advance();
        let mut lets = Vec::new();
        if !self.at(&TokenKind::RParen) {
            loop {
                let param = self.parse_param()?;
                match param.kind {
                    ast::ParamKind::Scalar {
                        default: Some(value),
                        ..
                    } => lets.push(Statement::Let(Let {
                        name: param.name,
                        value: LetValue::Scalar(value),
                        span: Span::new(start.start, self.last_end),
                    })),
                    _ => {
                        (self.pos, self.last_end) = (pos, last_end);
                        return Ok(None);
                    }
                }
                if self.eat(&TokenKind::Comma).is_none() {
                    break;
                }
            }
        }
        self.expect(&TokenKind::RParen, "`,` or `)`")?;
        Ok(Some(lets))
    }

    /// A statement; one kqlc refuses while parsing (a `let` function with
    /// a `decimal` parameter, ...) is kept opaque up to its `;`.
    fn parse_statement(&mut self) -> PResult<Statement> {
        let saved = (self.pos, self.last_end, self.depth);
        match self.parse_statement_inner() {
            Err(diagnostic) if diagnostic.code == Code::Unsupported => {
                (self.pos, self.last_end, self.depth) = saved;
                let opaque = self.skip_unimplemented(unsupported_what(&diagnostic), true);
                Ok(Statement::Unimplemented(opaque))
            }
            other => other,
        }
    }

    fn parse_statement_inner(&mut self) -> PResult<Statement> {
        if self.keyword_at(0) == Some(Keyword::Let) && self.starts_name(1) {
            return self.parse_let().map(Statement::Let);
        }
        if let Some(word) = self.word_at(0) {
            if UNSUPPORTED_STATEMENTS.contains(&word) && self.starts_name(1) {
                let what = format!("the '{word}' statement");
                return Ok(Statement::Unimplemented(
                    self.skip_unimplemented(what, true),
                ));
            }
        }
        self.parse_tabular().map(Statement::Tabular)
    }

    fn parse_let(&mut self) -> PResult<Let> {
        let start = self.advance();
        let name = self.parse_name("a name after `let`")?;
        self.expect(&TokenKind::Assign, "`=`")?;
        if self.at_function_definition() {
            let function = self.parse_function()?;
            return Ok(Let {
                name,
                value: LetValue::Function(function),
                span: Span::new(start.start, self.last_end),
            });
        }
        let value = if self.starts_tabular_value() {
            LetValue::Tabular(Box::new(self.parse_tabular()?))
        } else {
            LetValue::Scalar(self.parse_expr()?)
        };
        Ok(Let {
            name,
            value,
            span: Span::new(start.start, self.last_end),
        })
    }

    /// `(a: long, b: string) { EXPR }`.
    /// A user-defined function after `let NAME =`:
    /// `[view] (PARAM, ...) { [let ...;] BODY }`.
    fn parse_function(&mut self) -> PResult<ast::Function> {
        if self.word_at(0) == Some("view") {
            self.advance();
        }
        self.expect(&TokenKind::LParen, "`(`")?;
        let mut params = Vec::new();
        if !self.at(&TokenKind::RParen) {
            loop {
                params.push(self.parse_param()?);
                if self.eat(&TokenKind::Comma).is_none() {
                    break;
                }
            }
        }
        self.expect(&TokenKind::RParen, "`,` or `)`")?;
        self.expect(&TokenKind::LBrace, "`{`")?;
        let mut lets = Vec::new();
        while self.keyword_at(0) == Some(Keyword::Let) && self.starts_name(1) {
            lets.push(self.parse_let()?);
            self.expect(
                &TokenKind::Semicolon,
                "`;` after a `let` in a function body",
            )?;
            while self.eat(&TokenKind::Semicolon).is_some() {}
        }
        let body = if self.tabular_ahead(|kind| matches!(kind, TokenKind::RBrace)) {
            ast::FunctionBody::Tabular(Box::new(self.parse_tabular()?))
        } else {
            ast::FunctionBody::Scalar(self.parse_expr()?)
        };
        self.eat(&TokenKind::Semicolon);
        self.expect(&TokenKind::RBrace, "`}`")?;
        Ok(ast::Function { params, lets, body })
    }

    /// `NAME: TYPE [= DEFAULT]`, `NAME: (*)` or `NAME: (COL: TYPE, ...)`.
    fn parse_param(&mut self) -> PResult<ast::Param> {
        let name = self.parse_name("a parameter name")?;
        self.expect(&TokenKind::Colon, "`:`")?;
        if self.eat(&TokenKind::LParen).is_some() {
            let columns = if self.eat(&TokenKind::Star).is_some() {
                None
            } else {
                let mut columns = Vec::new();
                loop {
                    let column = self.parse_name("a column name")?;
                    self.expect(&TokenKind::Colon, "`:`")?;
                    columns.push((column, self.parse_type()?));
                    if self.eat(&TokenKind::Comma).is_none() {
                        break;
                    }
                }
                Some(columns)
            };
            self.expect(&TokenKind::RParen, "`)`")?;
            return Ok(ast::Param {
                name,
                kind: ast::ParamKind::Tabular(columns),
            });
        }
        let ty = self.parse_type()?;
        let default = if self.eat(&TokenKind::Assign).is_some() {
            Some(self.parse_expr()?)
        } else {
            None
        };
        Ok(ast::Param {
            name,
            kind: ast::ParamKind::Scalar { ty, default },
        })
    }

    /// Whether the tokens from here to the first `stop` token outside
    /// brackets form a tabular expression: they start with a tabular source
    /// keyword, or hold a `|` outside brackets (or inside one leading
    /// parenthesis: `(T | take 1)`).
    fn tabular_ahead(&self, stop: impl Fn(&TokenKind) -> bool) -> bool {
        match self.keyword_at(0) {
            Some(Keyword::Print) => return true,
            Some(Keyword::Datatable) if *self.kind_at(1) == TokenKind::LParen => return true,
            _ => {}
        }
        if self.at_unsupported_source()
            || self.at_external_data()
            || (self.word_at(0) == Some("materialize") && *self.kind_at(1) == TokenKind::LParen)
            || (self.word_at(0) == Some("range") && self.starts_name(1))
            || (self.word_at(0) == Some("union") && !matches!(self.kind_at(1), TokenKind::LParen))
        {
            return true;
        }
        let pipe_depth = usize::from(*self.kind_at(0) == TokenKind::LParen);
        let mut depth = 0usize;
        for token in self.tokens.get(self.pos..).unwrap_or_default() {
            match token.kind {
                ref kind if depth == 0 && stop(kind) => return false,
                TokenKind::LParen | TokenKind::LBracket | TokenKind::LBrace => depth += 1,
                TokenKind::RParen | TokenKind::RBracket | TokenKind::RBrace => {
                    if depth == 0 {
                        return false;
                    }
                    depth -= 1;
                }
                TokenKind::Pipe if depth <= pipe_depth => return true,
                TokenKind::Semicolon | TokenKind::Eof => return false,
                _ => {}
            }
        }
        false
    }

    /// Whether a `|` outside brackets comes before the first `stop` token.
    fn pipe_ahead(&self, stop: impl Fn(&TokenKind) -> bool) -> bool {
        let mut depth = 0usize;
        for token in self.tokens.get(self.pos..).unwrap_or_default() {
            match token.kind {
                ref kind if depth == 0 && stop(kind) => return false,
                TokenKind::LParen | TokenKind::LBracket | TokenKind::LBrace => depth += 1,
                TokenKind::RParen | TokenKind::RBracket | TokenKind::RBrace => {
                    if depth == 0 {
                        return false;
                    }
                    depth -= 1;
                }
                TokenKind::Pipe if depth == 0 => return true,
                TokenKind::Semicolon | TokenKind::Eof => return false,
                _ => {}
            }
        }
        false
    }

    /// `f(ARG, ...)` after the function's name: each argument is tabular or
    /// scalar as `tabular_ahead` says.
    fn parse_call(&mut self, name: Ident) -> PResult<ast::Call> {
        self.expect(&TokenKind::LParen, "`(`")?;
        let mut args = Vec::new();
        if !self.at(&TokenKind::RParen) {
            loop {
                // A piped argument is parenthesized: `f((T | take 1))`.
                let tabular = !self
                    .pipe_ahead(|kind| matches!(kind, TokenKind::Comma | TokenKind::RParen))
                    && self
                        .tabular_ahead(|kind| matches!(kind, TokenKind::Comma | TokenKind::RParen));
                args.push(if tabular {
                    ast::Argument::Tabular(self.parse_tabular()?)
                } else if self.at_name_then_assign() {
                    ast::Argument::Scalar(self.parse_named_argument()?)
                } else {
                    ast::Argument::Scalar(self.parse_expr()?)
                });
                if self.eat(&TokenKind::Comma).is_none() {
                    break;
                }
            }
        }
        self.expect(&TokenKind::RParen, "`,` or `)`")?;
        Ok(ast::Call {
            span: name.span.to(Span::new(self.last_end, self.last_end)),
            name,
            args,
        })
    }

    /// `(` followed by `)` or `name:` starts a function's parameter list,
    /// optionally after `view`.
    fn at_function_definition(&self) -> bool {
        let offset = usize::from(self.word_at(0) == Some("view"));
        *self.kind_at(offset) == TokenKind::LParen
            && (*self.kind_at(offset + 1) == TokenKind::RParen
                || (self.starts_name(offset + 1)
                    && *self.kind_at(offset + 1 + self.name_length(offset + 1))
                        == TokenKind::Colon))
    }

    /// A `let` value is tabular if it starts with a tabular source keyword or
    /// has a `|` outside brackets before the end of the statement.
    fn starts_tabular_value(&self) -> bool {
        match self.keyword_at(0) {
            Some(Keyword::Print) => return true,
            Some(Keyword::Datatable) if *self.kind_at(1) == TokenKind::LParen => return true,
            _ => {}
        }
        if self.at_unsupported_source()
            || self.at_external_data()
            || self.word_at(0) == Some("materialize")
            || (self.word_at(0) == Some("range") && self.starts_name(1))
        {
            return true;
        }
        if *self.kind_at(0) == TokenKind::LParen
            && self
                .word_at(1)
                .is_some_and(|w| UNSUPPORTED_SOURCES.contains(&w) || w == "externaldata")
        {
            return true;
        }
        // `(T | where ...)` is a tabular expression in parentheses (which
        // parse_source reports as unsupported), so a pipe directly inside a
        // leading parenthesis counts too.
        let parenthesized = *self.kind_at(0) == TokenKind::LParen;
        let pipe_depth = usize::from(parenthesized);
        let mut depth = 0usize;
        for token in self.tokens.get(self.pos..).unwrap_or_default() {
            match token.kind {
                TokenKind::LParen | TokenKind::LBracket | TokenKind::LBrace => depth += 1,
                TokenKind::RParen | TokenKind::RBracket | TokenKind::RBrace => {
                    depth = depth.saturating_sub(1)
                }
                TokenKind::Pipe if depth <= pipe_depth => return true,
                TokenKind::Semicolon if depth == 0 => return false,
                _ => {}
            }
        }
        false
    }

    fn at_unsupported_source(&self) -> bool {
        self.word_at(0)
            .is_some_and(|word| UNSUPPORTED_SOURCES.contains(&word))
            && !matches!(
                self.kind_at(1),
                TokenKind::Pipe | TokenKind::Semicolon | TokenKind::Eof
            )
    }

    // --- tabular expressions -------------------------------------------------

    fn parse_tabular(&mut self) -> PResult<TabularExpr> {
        let start = self.peek().span.start;
        let source = self.parse_source()?;
        let mut operators = Vec::new();
        while self.eat(&TokenKind::Pipe).is_some() {
            operators.push(self.parse_operator()?);
        }
        Ok(TabularExpr {
            source,
            operators,
            span: Span::new(start, self.last_end),
        })
    }

    /// A tabular source; as with operators, one kqlc refuses while
    /// parsing is kept opaque.
    fn parse_source(&mut self) -> PResult<Source> {
        let saved = (self.pos, self.last_end, self.depth);
        match self.parse_source_inner() {
            Err(diagnostic) if diagnostic.code == Code::Unsupported => {
                (self.pos, self.last_end, self.depth) = saved;
                let opaque = self.skip_unimplemented(unsupported_what(&diagnostic), false);
                Ok(Source::Unimplemented(opaque))
            }
            other => other,
        }
    }

    fn parse_source_inner(&mut self) -> PResult<Source> {
        match self.keyword_at(0) {
            Some(Keyword::Print) => {
                let start = self.advance();
                let items = self.parse_named_list()?;
                return Ok(Source::Print(items, Span::new(start.start, self.last_end)));
            }
            Some(Keyword::Datatable) if *self.kind_at(1) == TokenKind::LParen => {
                return self.parse_datatable().map(Source::Datatable);
            }
            _ => {}
        }
        if self.at_external_data() {
            return self.parse_external_data().map(Source::ExternalData);
        }
        if self.at_unsupported_source() {
            let word = self.word_at(0).unwrap_or_default();
            let what = format!("the '{word}' tabular source");
            return Ok(Source::Unimplemented(self.skip_unimplemented(what, false)));
        }
        if self.at(&TokenKind::LParen) {
            return Ok(Source::Nested(Box::new(self.parse_tabular_operand()?)));
        }
        if self.word_at(0) == Some("range") && self.starts_name(1) {
            self.advance();
            let name = self.parse_name("the range's column name")?;
            self.expect_word("from")?;
            let from = self.parse_expr()?;
            if self.eat_keyword(Keyword::To).is_none() {
                return Err(self.unexpected("`to`").into());
            }
            let to = self.parse_expr()?;
            self.expect_word("step")?;
            let step = self.parse_expr()?;
            return Ok(Source::Range(Box::new(Range {
                name,
                from,
                to,
                step,
            })));
        }
        if self.word_at(0) == Some("materialize") && *self.kind_at(1) == TokenKind::LParen {
            // `materialize` caches a result; evaluating it again gives the same rows.
            self.advance();
            return Ok(Source::Nested(Box::new(self.parse_tabular_operand()?)));
        }
        if self.word_at(0) == Some("union") {
            let start = self.advance();
            return Ok(match self.parse_union()? {
                Ok(union) => Source::Union(union, Span::new(start.start, self.last_end)),
                Err(what) => {
                    let mut opaque = self.skip_unimplemented(what, false);
                    opaque.span = start.to(opaque.span);
                    opaque.text = format!("union {}", opaque.text);
                    Source::Unimplemented(opaque)
                }
            });
        }
        if let Some(word) = self.word_at(0) {
            let is_operator = TABULAR_OPERATORS.iter().any(|(name, _)| *name == word);
            if is_operator
                && !matches!(
                    self.kind_at(1),
                    TokenKind::Pipe | TokenKind::Semicolon | TokenKind::Eof
                )
            {
                return Err(self
                    .unexpected("a table name, `print` or `datatable`")
                    .with_help("tabular operators come after a `|`, as in `TableName | where ...`")
                    .into());
            }
        }
        let keyword = self.word_at(0).is_some_and(is_keyword_not_name);
        if !self.starts_name(0) || keyword {
            return Err(self
                .unexpected("a tabular expression (a table name, `print` or `datatable`)")
                .into());
        }
        let name = self.parse_name("a table name")?;
        if self.at(&TokenKind::Dot) {
            // `db.T`: a table of another database, kept opaque.
            let what = "a qualified table name (`database.table`)".to_string();
            return Ok(Source::Unimplemented(self.skip_reference(name.span, what)));
        }
        if self.at(&TokenKind::LParen) {
            let (pos, last_end, depth) = (self.pos, self.last_end, self.depth);
            let call = self.parse_call(name.clone());
            if call.is_ok() && !self.at(&TokenKind::Dot) {
                return call.map(Source::Call);
            }
            // `cluster("c").database("d").T`, `arg("").T`: references to
            // other data sources, kept opaque.
            (self.pos, self.last_end, self.depth) = (pos, last_end, depth);
            let what = format!("the reference to another data source '{}(...)'", name.name);
            return Ok(Source::Unimplemented(self.skip_reference(name.span, what)));
        }
        Ok(Source::Named(name))
    }

    /// The rest of a reference to another data source after its first
    /// name (`start`): `.name` and balanced `(...)` parts, kept as text.
    fn skip_reference(&mut self, start: Span, what: String) -> Unimplemented {
        loop {
            match self.kind_at(0) {
                TokenKind::Dot if self.starts_name(1) => {
                    self.advance();
                    self.parse_name("a name").ok();
                }
                TokenKind::LParen => {
                    let mut depth = 0usize;
                    loop {
                        match self.kind_at(0) {
                            TokenKind::LParen => depth += 1,
                            TokenKind::RParen => depth -= 1,
                            TokenKind::Eof => break,
                            _ => {}
                        }
                        self.advance();
                        if depth == 0 {
                            break;
                        }
                    }
                }
                _ => break,
            }
        }
        let span = start.to(Span::new(self.last_end, self.last_end));
        Unimplemented {
            what,
            text: self
                .source
                .get(span.start..span.end)
                .unwrap_or_default()
                .to_string(),
            span,
        }
    }

    /// `externaldata` or `external_data` followed by `(`.
    fn at_external_data(&self) -> bool {
        matches!(self.word_at(0), Some("externaldata" | "external_data"))
            && *self.kind_at(1) == TokenKind::LParen
    }

    fn parse_external_data(&mut self) -> PResult<ast::ExternalData> {
        let start = self.advance();
        self.expect(&TokenKind::LParen, "`(`")?;
        let mut columns = Vec::new();
        loop {
            let name = self.parse_name("a column name")?;
            self.expect(&TokenKind::Colon, "`:`")?;
            columns.push((name, self.parse_type()?));
            if self.eat(&TokenKind::Comma).is_none() {
                break;
            }
        }
        self.expect(&TokenKind::RParen, "`,` or `)`")?;
        self.expect(&TokenKind::LBracket, "`[` and the files to read")?;
        let mut uris = Vec::new();
        while !self.at(&TokenKind::RBracket) {
            uris.push(self.parse_expr()?);
            if self.eat(&TokenKind::Comma).is_none() {
                break;
            }
        }
        self.expect(&TokenKind::RBracket, "`,` or `]`")?;
        let mut options = Vec::new();
        if self.word_at(0) == Some("with") && *self.kind_at(1) == TokenKind::LParen {
            self.advance();
            self.advance();
            while !self.at(&TokenKind::RParen) {
                let name = self.parse_name("an option name")?;
                self.expect(&TokenKind::Assign, "`=`")?;
                options.push((name, self.parse_expr()?));
                if self.eat(&TokenKind::Comma).is_none() {
                    break;
                }
            }
            self.expect(&TokenKind::RParen, "`,` or `)`")?;
        }
        Ok(ast::ExternalData {
            columns,
            uris,
            options,
            span: Span::new(start.start, self.last_end),
        })
    }

    fn parse_datatable(&mut self) -> PResult<Datatable> {
        let start = self.advance();
        self.expect(&TokenKind::LParen, "`(`")?;
        let mut columns = Vec::new();
        loop {
            let name = self.parse_name("a column name")?;
            self.expect(&TokenKind::Colon, "`:`")?;
            let column_type = self.parse_type()?;
            columns.push((name, column_type));
            if self.eat(&TokenKind::Comma).is_none() {
                break;
            }
        }
        self.expect(&TokenKind::RParen, "`,` or `)`")?;
        self.expect(&TokenKind::LBracket, "`[`")?;
        let mut values = Vec::new();
        // Kusto allows a trailing comma after the last value.
        while !self.at(&TokenKind::RBracket) {
            values.push(self.parse_expr()?);
            if self.eat(&TokenKind::Comma).is_none() {
                break;
            }
        }
        self.expect(&TokenKind::RBracket, "`,` or `]`")?;
        Ok(Datatable {
            columns,
            values,
            span: Span::new(start.start, self.last_end),
        })
    }

    fn parse_type(&mut self) -> PResult<ScalarType> {
        if let Some(word) = self.word_at(0) {
            if let Some(scalar_type) = ScalarType::from_name(word) {
                self.advance();
                return Ok(scalar_type);
            }
            if lexer::is_typed_literal_keyword(word) {
                return Err(Diagnostic::new(
                    Code::Unsupported,
                    format!("the {word} type is not supported yet"),
                    self.peek().span,
                )
                .into());
            }
        }
        Err(self
            .unexpected(
                "a type (bool, int, long, real, string, datetime, timespan, guid or dynamic)",
            )
            .into())
    }

    // --- tabular operators ---------------------------------------------------

    /// An operator; one that is valid syntax but uses something kqlc
    /// refuses while parsing (the `decimal` type, ...) is kept opaque, so
    /// the checker reports it and `--syntax-only` accepts it.
    fn parse_operator(&mut self) -> PResult<Operator> {
        let saved = (self.pos, self.last_end, self.depth);
        match self.parse_operator_inner() {
            Err(diagnostic) if diagnostic.code == Code::Unsupported => {
                (self.pos, self.last_end, self.depth) = saved;
                let opaque = self.skip_unimplemented(unsupported_what(&diagnostic), false);
                Ok(Operator {
                    span: opaque.span,
                    kind: OperatorKind::Unimplemented(opaque),
                })
            }
            other => other,
        }
    }

    fn parse_operator_inner(&mut self) -> PResult<Operator> {
        let (name, name_span) = self.operator_name()?;
        let known = TABULAR_OPERATORS
            .iter()
            .find(|(spelling, _)| *spelling == name)
            .map(|(_, operator)| *operator);
        let kind = match known {
            // `where NAME = VALUE` parses in Kusto (the checker refuses it).
            Some(OperatorName::Where) if self.at_name_then_assign() => {
                OperatorKind::Where(self.parse_named_argument()?)
            }
            Some(OperatorName::Where) => OperatorKind::Where(self.parse_expr()?),
            // `extend (a, b) = f(x)`: several names for the columns of a
            // function that gives several (`series_stats`).
            Some(OperatorName::Extend) => OperatorKind::Extend(self.parse_aggregate_list()?),
            Some(OperatorName::Project) => OperatorKind::Project(self.parse_aggregate_list()?),
            Some(OperatorName::ProjectAway) => {
                OperatorKind::ProjectAway(self.parse_column_patterns()?)
            }
            Some(OperatorName::ProjectRename) => {
                OperatorKind::ProjectRename(self.parse_project_rename()?)
            }
            Some(OperatorName::MvExpand) => OperatorKind::MvExpand(self.parse_mv_expand()?),
            Some(OperatorName::Take) => OperatorKind::Take(self.parse_expr()?),
            Some(OperatorName::Sample) => OperatorKind::Sample(self.parse_expr()?),
            Some(OperatorName::Serialize) => {
                if matches!(
                    self.kind_at(0),
                    TokenKind::Pipe | TokenKind::Eof | TokenKind::Semicolon | TokenKind::RParen
                ) {
                    OperatorKind::Serialize(Vec::new())
                } else {
                    OperatorKind::Serialize(self.parse_named_list()?)
                }
            }
            Some(OperatorName::Count) => OperatorKind::Count,
            Some(OperatorName::Summarize) => {
                self.skip_hints()?;
                self.parse_summarize()?
            }
            Some(OperatorName::MakeSeries) => {
                OperatorKind::MakeSeries(Box::new(self.parse_make_series()?))
            }
            Some(OperatorName::Sort) => {
                self.expect_word("by")?;
                let mut keys = vec![self.parse_sort_expr()?];
                while self.eat(&TokenKind::Comma).is_some() {
                    keys.push(self.parse_sort_expr()?);
                }
                OperatorKind::Sort(keys)
            }
            Some(OperatorName::Top) => {
                let count = self.parse_expr()?;
                self.expect_word("by")?;
                OperatorKind::Top {
                    count,
                    by: self.parse_sort_expr()?,
                }
            }
            Some(OperatorName::Distinct) => {
                self.skip_hints()?;
                if self.eat(&TokenKind::Star).is_some() {
                    OperatorKind::Distinct(Vec::new())
                } else {
                    OperatorKind::Distinct(self.parse_named_list()?)
                }
            }
            Some(OperatorName::ProjectKeep) => {
                OperatorKind::ProjectKeep(self.parse_column_patterns()?)
            }
            Some(OperatorName::Join | OperatorName::Lookup) => {
                let lookup = known == Some(OperatorName::Lookup);
                let default_kind = if lookup {
                    JoinKind::LeftOuter
                } else {
                    JoinKind::InnerUnique
                };
                match self.parse_join(default_kind)? {
                    Ok(join) if lookup => OperatorKind::Lookup(join),
                    Ok(join) => OperatorKind::Join(join),
                    Err(what) => {
                        let mut opaque = self.skip_unimplemented(what, false);
                        opaque.span = name_span.to(opaque.span);
                        opaque.text = format!("{name} {}", opaque.text);
                        OperatorKind::Unimplemented(opaque)
                    }
                }
            }
            Some(OperatorName::Parse | OperatorName::ParseWhere) => {
                let drop_unmatched = known == Some(OperatorName::ParseWhere);
                match self.parse_parse(drop_unmatched)? {
                    Ok(parse) => OperatorKind::Parse(parse),
                    Err(what) => {
                        let mut opaque = self.skip_unimplemented(what, false);
                        opaque.span = name_span.to(opaque.span);
                        opaque.text = format!("{name} {}", opaque.text);
                        OperatorKind::Unimplemented(opaque)
                    }
                }
            }
            Some(OperatorName::Union) => match self.parse_union()? {
                Ok(union) => OperatorKind::Union(union),
                Err(what) => {
                    let mut opaque = self.skip_unimplemented(what, false);
                    opaque.span = name_span.to(opaque.span);
                    opaque.text = format!("{name} {}", opaque.text);
                    OperatorKind::Unimplemented(opaque)
                }
            },
            Some(OperatorName::ProjectReorder) => {
                OperatorKind::ProjectReorder(self.parse_reorder_list()?)
            }
            Some(OperatorName::As) => {
                for (option, _, span) in self.parse_options()? {
                    if !option.starts_with("hint.") {
                        return Err(Diagnostic::new(
                            Code::Unsupported,
                            format!("`as` option '{option}' is not supported"),
                            span,
                        )
                        .into());
                    }
                }
                OperatorKind::As(self.parse_name("a name after `as`")?)
            }
            Some(OperatorName::MvApply) => {
                let expand = self.parse_mv_expand()?;
                self.expect_word("on")?;
                self.expect(&TokenKind::LParen, "`(` and the subquery")?;
                let mut subquery = vec![self.parse_operator()?];
                while self.eat(&TokenKind::Pipe).is_some() {
                    subquery.push(self.parse_operator()?);
                }
                self.expect(&TokenKind::RParen, "`|` or `)`")?;
                OperatorKind::MvApply(ast::MvApply { expand, subquery })
            }
            Some(OperatorName::Invoke) => {
                let function = self.parse_name("a function name after `invoke`")?;
                OperatorKind::Invoke(self.parse_call(function)?)
            }
            Some(OperatorName::TopNested) => OperatorKind::TopNested(self.parse_top_nested()?),
            Some(OperatorName::TopHitters) => {
                let count = self.parse_expr()?;
                self.expect_word("of")?;
                let of = self.parse_expr()?;
                let by = if self.at_word("by") {
                    self.advance();
                    Some(self.parse_expr()?)
                } else {
                    None
                };
                OperatorKind::TopHitters { count, of, by }
            }
            Some(OperatorName::GetSchema) => OperatorKind::GetSchema,
            Some(OperatorName::Render) => OperatorKind::Render(self.parse_render()?),
            Some(OperatorName::Partition) => OperatorKind::Partition(self.parse_partition()?),
            Some(OperatorName::NotYetSupported) => {
                let what = format!("operator '{name}'");
                let mut opaque = self.skip_unimplemented(what, false);
                opaque.span = name_span.to(opaque.span);
                opaque.text = format!("{name} {}", opaque.text).trim_end().to_string();
                OperatorKind::Unimplemented(opaque)
            }
            None => {
                let diagnostic = Diagnostic::new(
                    Code::UnexpectedToken,
                    format!("expected a tabular operator, found `{name}`"),
                    name_span,
                )
                .with_label("unknown operator");
                let suggestion = closest_name(
                    &name,
                    TABULAR_OPERATORS.iter().map(|(spelling, _)| *spelling),
                );
                return Err(match suggestion {
                    Some(suggestion) => {
                        diagnostic.with_help(format!("did you mean `{suggestion}`?"))
                    }
                    None => diagnostic,
                }
                .into());
            }
        };
        Ok(Operator {
            kind,
            span: Span::new(name_span.start, self.last_end),
        })
    }

    /// The clauses of `top-nested` after the first operator name:
    /// `[N] of [NAME =] EXPR [with others = VALUE] by [NAME =] AGGREGATE
    /// [asc|desc]`, then `, top-nested ...` for each further level.
    fn parse_top_nested(&mut self) -> PResult<Vec<ast::TopNestedLevel>> {
        let mut levels = Vec::new();
        loop {
            let count = if self.at_word("of") {
                None
            } else {
                Some(self.parse_expr()?)
            };
            self.expect_word("of")?;
            let of = self.parse_named_expr()?;
            let others = if self.at_word("with") {
                self.advance();
                self.expect_word("others")?;
                self.expect(&TokenKind::Assign, "`=`")?;
                Some(self.parse_expr()?)
            } else {
                None
            };
            self.expect_word("by")?;
            let by = self.parse_named_expr()?;
            let descending = if self.at_word("asc") {
                self.advance();
                false
            } else {
                if self.at_word("desc") {
                    self.advance();
                }
                true
            };
            levels.push(ast::TopNestedLevel {
                count,
                of,
                others,
                by,
                descending,
            });
            if self.eat(&TokenKind::Comma).is_none() {
                return Ok(levels);
            }
            let (name, span) = self.operator_name()?;
            if name != "top-nested" {
                return Err(Diagnostic::new(
                    Code::UnexpectedToken,
                    format!("expected `top-nested`, found `{name}`"),
                    span,
                )
                .with_label("each level of `top-nested` starts with `top-nested`")
                .into());
            }
        }
    }

    /// `[NAME =] EXPR`.
    fn parse_named_expr(&mut self) -> PResult<NamedExpr> {
        let name = if self.at_name_then_assign() {
            let name = self.parse_name("a column name")?;
            self.advance();
            Some(name)
        } else {
            None
        };
        Ok(NamedExpr {
            name,
            more_names: Vec::new(),
            expr: self.parse_expr()?,
        })
    }

    /// `render VISUALIZATION [with (NAME = VALUE [, VALUE ...], ...)]`.
    /// A form kqlc does not know (an older property syntax) is kept
    /// opaque, as not supported.
    fn parse_render(&mut self) -> PResult<ast::Render> {
        let visualization = self.parse_name("a visualization after `render`")?;
        let mut properties: Vec<(Ident, Vec<Expr>)> = Vec::new();
        if self.at_word("with") {
            self.advance();
            self.expect(&TokenKind::LParen, "`(`")?;
            loop {
                if self.at_name_then_assign() || properties.is_empty() {
                    let name = self.parse_name("a property name")?;
                    self.expect(&TokenKind::Assign, "`=`")?;
                    properties.push((name, vec![self.parse_expr()?]));
                } else if let Some((_, values)) = properties.last_mut() {
                    // `ycolumns=a, b`: more columns of the same property.
                    values.push(self.parse_expr()?);
                }
                if self.eat(&TokenKind::Comma).is_none() {
                    break;
                }
            }
            self.expect(&TokenKind::RParen, "`,` or `)`")?;
        }
        if !matches!(
            self.kind_at(0),
            TokenKind::Pipe | TokenKind::Eof | TokenKind::Semicolon | TokenKind::RParen
        ) {
            return Err(Diagnostic::new(
                Code::Unsupported,
                "this form of `render` is not supported yet",
                self.peek().span,
            )
            .into());
        }
        Ok(ast::Render {
            visualization,
            properties,
        })
    }

    /// `partition [hint.NAME = VALUE ...] by COL (SUBQUERY)`; the legacy
    /// form with a source in braces is kept opaque, as not supported.
    fn parse_partition(&mut self) -> PResult<ast::Partition> {
        let mut hints = Vec::new();
        for (name, value, span) in self.parse_options()? {
            if !name.starts_with("hint.") {
                return Err(Diagnostic::new(
                    Code::UnexpectedToken,
                    format!("`partition` has no option '{name}'"),
                    span,
                )
                .with_label("only `hint.*` options")
                .into());
            }
            hints.push((name, value));
        }
        self.expect_word("by")?;
        let by = self.parse_name("the partition column")?;
        if self.at(&TokenKind::LBrace) {
            return Err(Diagnostic::new(
                Code::Unsupported,
                "`partition ... { subquery with a source }` is not supported yet",
                self.peek().span,
            )
            .into());
        }
        self.expect(&TokenKind::LParen, "`(` and the subquery")?;
        let mut subquery = vec![self.parse_operator()?];
        while self.eat(&TokenKind::Pipe).is_some() {
            subquery.push(self.parse_operator()?);
        }
        self.expect(&TokenKind::RParen, "`|` or `)`")?;
        Ok(ast::Partition {
            hints,
            by,
            subquery,
        })
    }

    /// The operator name after `|`, gluing hyphenated names (`mv-expand`)
    /// from their `word - word` tokens when no space separates them.
    fn operator_name(&mut self) -> PResult<(String, Span)> {
        let Some(first) = self.word_at(0) else {
            return Err(self.unexpected("a tabular operator after `|`").into());
        };
        let mut name = first.to_string();
        let mut span = self.advance();
        loop {
            let (minus, word) = (self.peek_at(0), self.peek_at(1));
            let glued = minus.kind == TokenKind::Minus
                && minus.span.start == span.end
                && word.span.start == minus.span.end;
            match &word.kind {
                TokenKind::Ident(part) if glued => {
                    name.push('-');
                    name.push_str(part);
                    span = span.to(word.span);
                    self.advance();
                    self.advance();
                }
                _ => break,
            }
        }
        Ok((name, span))
    }

    /// `COL, ...` of `project-away` and `project-keep`: names or patterns.
    fn parse_column_patterns(&mut self) -> PResult<Vec<ast::ColumnPattern>> {
        let mut patterns = vec![self.parse_column_pattern()?];
        while self.eat(&TokenKind::Comma).is_some() {
            patterns.push(self.parse_column_pattern()?);
        }
        Ok(patterns)
    }

    /// A column name, or a pattern: words and `*` written together
    /// (`Dns*`, `*Id*`).
    fn parse_column_pattern(&mut self) -> PResult<ast::ColumnPattern> {
        let glued_star = matches!(self.kind_at(0), TokenKind::Ident(_))
            && *self.kind_at(1) == TokenKind::Star
            && self.peek_at(1).span.start == self.peek().span.end;
        if !self.at(&TokenKind::Star) && !glued_star {
            return Ok(ast::ColumnPattern {
                name: self.parse_name("a column name or pattern")?,
                wildcard: false,
            });
        }
        let start = self.peek().span;
        let mut text = String::new();
        let mut end = start;
        loop {
            let token = self.peek();
            if !text.is_empty() && token.span.start != end.end {
                break;
            }
            match &token.kind {
                TokenKind::Star => text.push('*'),
                TokenKind::Ident(word) => text.push_str(word),
                TokenKind::Long(_) if !text.is_empty() => {
                    text.push_str(&self.token_text(0));
                }
                _ => break,
            }
            end = self.advance();
        }
        Ok(ast::ColumnPattern {
            name: Ident {
                name: text,
                span: start.to(end),
            },
            wildcard: true,
        })
    }

    /// `COL [asc|desc|granny-asc|granny-desc], ...` of `project-reorder`.
    fn parse_reorder_list(
        &mut self,
    ) -> PResult<Vec<(ast::ColumnPattern, Option<ast::ReorderOrder>)>> {
        let mut items = Vec::new();
        loop {
            let pattern = self.parse_column_pattern()?;
            let order = match self.word_at(0) {
                Some("asc") => Some(ast::ReorderOrder::Asc),
                Some("desc") => Some(ast::ReorderOrder::Desc),
                Some("granny") if *self.kind_at(1) == TokenKind::Minus => match self.word_at(2) {
                    Some("asc") => Some(ast::ReorderOrder::GrannyAsc),
                    Some("desc") => Some(ast::ReorderOrder::GrannyDesc),
                    _ => None,
                },
                _ => None,
            };
            if let Some(order) = order {
                let tokens = if order.spelling().starts_with("granny") {
                    3
                } else {
                    1
                };
                for _ in 0..tokens {
                    self.advance();
                }
            }
            items.push((pattern, order));
            if self.eat(&TokenKind::Comma).is_none() {
                return Ok(items);
            }
        }
    }

    fn parse_project_rename(&mut self) -> PResult<Vec<(Ident, Ident)>> {
        let mut pairs = Vec::new();
        loop {
            let new_name = self.parse_name("a new column name")?;
            self.expect(&TokenKind::Assign, "`=`")?;
            let old_name = self.parse_name("the column to rename")?;
            pairs.push((new_name, old_name));
            if self.eat(&TokenKind::Comma).is_none() {
                return Ok(pairs);
            }
        }
    }

    /// `mv-expand [kind=bag] [NAME =] EXPR [to typeof(TYPE)], ... [limit N]`.
    fn parse_mv_expand(&mut self) -> PResult<MvExpand> {
        // Options come first: `kind=bag|array` (or `bagexpansion=`) and
        // `with_itemindex=NAME`.
        let mut bag_as_array = false;
        let mut item_index = None;
        while *self.kind_at(1) == TokenKind::Assign {
            match self.keyword_at(0) {
                Some(Keyword::Kind | Keyword::BagExpansion) => {
                    self.advance();
                    self.advance();
                    match self.word_at(0) {
                        Some("bag") => bag_as_array = false,
                        Some("array") => bag_as_array = true,
                        _ => return Err(self.unexpected("`bag` or `array`").into()),
                    }
                    self.advance();
                }
                Some(Keyword::WithItemIndex) => {
                    self.advance();
                    self.advance();
                    item_index = Some(self.parse_name("a column name for the item index")?);
                }
                _ => break,
            }
        }
        let mut items = Vec::new();
        loop {
            let name = if self.at_name_then_assign() {
                let name = self.parse_name("a column name")?;
                self.advance();
                Some(name)
            } else {
                None
            };
            let expr = self.parse_expr()?;
            let to_type = if self.eat_keyword(Keyword::To).is_some() {
                if self.eat_keyword(Keyword::Typeof).is_none() {
                    return Err(self.unexpected("`typeof`").into());
                }
                self.expect(&TokenKind::LParen, "`(`")?;
                let to_type = self.parse_type()?;
                self.expect(&TokenKind::RParen, "`)`")?;
                Some(to_type)
            } else {
                None
            };
            items.push(MvExpandItem {
                name,
                expr,
                to_type,
            });
            if self.eat(&TokenKind::Comma).is_none() {
                break;
            }
        }
        let limit = if self.eat_keyword(Keyword::Limit).is_some() {
            Some(self.parse_expr()?)
        } else {
            None
        };
        Ok(MvExpand {
            items,
            limit,
            item_index,
            bag_as_array,
        })
    }

    /// Skips a construct kqlc does not implement, up to the end of its
    /// statement (`;`) or, unless `statement`, of its operator (a `|` or a
    /// closing `)` outside brackets), and keeps its text.
    fn skip_unimplemented(&mut self, what: String, statement: bool) -> Unimplemented {
        let start = self.peek().span.start;
        let mut depth = 0usize;
        loop {
            match self.kind_at(0) {
                TokenKind::Eof => break,
                TokenKind::Semicolon if depth == 0 => break,
                TokenKind::Pipe if depth == 0 && !statement => break,
                TokenKind::RParen | TokenKind::RBracket | TokenKind::RBrace if depth == 0 => break,
                TokenKind::LParen | TokenKind::LBracket | TokenKind::LBrace => depth += 1,
                TokenKind::RParen | TokenKind::RBracket | TokenKind::RBrace => depth -= 1,
                _ => {}
            }
            self.advance();
        }
        let end = self.last_end.max(start);
        Unimplemented {
            what,
            text: self
                .source
                .get(start..end)
                .unwrap_or_default()
                .trim()
                .to_string(),
            span: Span::new(start, end),
        }
    }

    /// True when the next token is the word `word` (operator words such as
    /// `by` and `asc` are not reserved: they are names elsewhere).
    fn at_word(&self, word: &str) -> bool {
        self.word_at(0) == Some(word)
    }

    fn expect_word(&mut self, word: &str) -> PResult<Span> {
        if self.at_word(word) {
            Ok(self.advance())
        } else {
            Err(self.unexpected(&format!("`{word}`")).into())
        }
    }

    /// Options of the form `name=value` before an operator's operands
    /// (`kind=inner`, `hint.strategy=shuffle`, `withsource=T`): returns
    /// them as text; hints are accepted and ignored, as they do not change
    /// results.
    fn parse_options(&mut self) -> PResult<Vec<(String, String, Span)>> {
        let mut options = Vec::new();
        loop {
            // `name=` or `hint.name=`.
            let dotted = self.word_at(0).is_some()
                && *self.kind_at(1) == TokenKind::Dot
                && self.word_at(2).is_some()
                && *self.kind_at(3) == TokenKind::Assign;
            let plain = (self.word_at(0).is_some() || self.keyword_at(0).is_some())
                && *self.kind_at(1) == TokenKind::Assign
                && !matches!(self.kind_at(2), TokenKind::LParen);
            if !(dotted || plain) {
                return Ok(options);
            }
            let start = self.peek().span;
            let mut name = self.token_text(0);
            self.advance();
            if dotted {
                self.advance();
                name.push('.');
                name.push_str(&self.token_text(0));
                self.advance();
            }
            self.advance(); // `=`
            let value = self.token_text(0);
            let end = self.advance();
            options.push((name, value, start.to(end)));
        }
    }

    /// `hint.NAME = VALUE ...` before the operands of `summarize` and
    /// `distinct`: execution hints, which do not change results, skipped.
    fn skip_hints(&mut self) -> PResult<()> {
        while self.word_at(0) == Some("hint")
            && *self.kind_at(1) == TokenKind::Dot
            && self.word_at(2).is_some()
            && *self.kind_at(3) == TokenKind::Assign
        {
            for _ in 0..4 {
                self.advance();
            }
            if matches!(
                self.kind_at(0),
                TokenKind::Pipe | TokenKind::Semicolon | TokenKind::Eof | TokenKind::Comma
            ) {
                return Err(self.unexpected("the hint's value").into());
            }
            self.advance();
        }
        Ok(())
    }

    /// The source text of token `offset`, for option values.
    fn token_text(&self, offset: usize) -> String {
        let span = self.peek_at(offset).span;
        self.source
            .get(span.start..span.end)
            .unwrap_or_default()
            .to_string()
    }

    /// `join`/`lookup` after the operator name: options, the right side,
    /// `on` keys.
    /// Or, with a valid option kqlc does not implement (`withsource=`),
    /// what to report, the position back before the options.
    fn parse_join(&mut self, default_kind: JoinKind) -> PResult<Result<Join, String>> {
        let (pos, last_end) = (self.pos, self.last_end);
        let mut kind = default_kind;
        for (name, value, _) in self.parse_options()? {
            if name == "kind" {
                match JoinKind::from_name(&value) {
                    Some(known) => kind = known,
                    // Kusto's grammar takes any kind; the checker refuses it.
                    None => {
                        (self.pos, self.last_end) = (pos, last_end);
                        return Ok(Err(format!("join kind '{value}'")));
                    }
                }
            } else if !name.starts_with("hint.") {
                (self.pos, self.last_end) = (pos, last_end);
                return Ok(Err(format!("join option '{name}'")));
            }
        }
        let right = self.parse_tabular_operand()?;
        self.expect_word("on")?;
        let mut on = Vec::new();
        loop {
            if self.word_at(0) == Some("$left") {
                self.advance();
                self.expect(&TokenKind::Dot, "`.`")?;
                let left = self.parse_name("a column of the left side")?;
                self.expect(&TokenKind::EqEq, "`==`")?;
                if self.word_at(0) != Some("$right") {
                    return Err(self.unexpected("`$right`").into());
                }
                self.advance();
                self.expect(&TokenKind::Dot, "`.`")?;
                let right = self.parse_name("a column of the right side")?;
                on.push(JoinKey::Pair(left, right));
            } else {
                on.push(JoinKey::Same(self.parse_name("a key column")?));
            }
            if self.eat(&TokenKind::Comma).is_none() && self.eat_keyword(Keyword::And).is_none() {
                break;
            }
        }
        Ok(Ok(Join {
            kind,
            right: Box::new(right),
            on,
        }))
    }

    /// `parse` after its name: `[kind=K] [flags=F] EXPR with PATTERN`.
    /// Or, with an option kqlc does not implement, what to report, the
    /// position back before the options.
    fn parse_parse(&mut self, drop_unmatched: bool) -> PResult<Result<ast::Parse, String>> {
        let (pos, last_end) = (self.pos, self.last_end);
        let mut kind = ast::ParseKind::Simple;
        let mut flags = None;
        for (name, value, _) in self.parse_options()? {
            match (name.as_str(), value.as_str()) {
                ("kind", "simple") => kind = ast::ParseKind::Simple,
                ("kind", "regex") => kind = ast::ParseKind::Regex,
                ("kind", "relaxed") => kind = ast::ParseKind::Relaxed,
                ("flags", _) => {
                    flags = Some(value.trim_matches(|c| c == '"' || c == '\'').to_string())
                }
                _ => {
                    (self.pos, self.last_end) = (pos, last_end);
                    return Ok(Err(format!("parse option '{name}={value}'")));
                }
            }
        }
        let expr = self.parse_expr()?;
        self.expect_word("with")?;
        let mut pattern = Vec::new();
        loop {
            match self.kind_at(0) {
                TokenKind::Star => {
                    self.advance();
                    pattern.push(ast::ParsePart::Any);
                }
                TokenKind::String(_) => {
                    let Expr {
                        kind: ExprKind::Literal(Literal::String(text)),
                        span,
                    } = self.parse_strings()
                    else {
                        return Err(self.unexpected("a string").into());
                    };
                    pattern.push(ast::ParsePart::Text(text, span));
                }
                _ if self.starts_name(0) => {
                    let name = self.parse_name("a column name")?;
                    let ty = if self.eat(&TokenKind::Colon).is_some() {
                        Some(self.parse_type()?)
                    } else {
                        None
                    };
                    pattern.push(ast::ParsePart::Column(name, ty));
                }
                _ => break,
            }
            self.eat(&TokenKind::Comma);
        }
        if !pattern
            .iter()
            .any(|p| matches!(p, ast::ParsePart::Column(..)))
        {
            return Err(self.unexpected("a column name in the parse pattern").into());
        }
        Ok(Ok(ast::Parse {
            drop_unmatched,
            kind,
            flags,
            expr,
            pattern,
        }))
    }

    /// A tabular operand: `(TABULAR)` or a table name.
    /// A table of `union`: a tabular operand, or a wildcard pattern of
    /// table names (`*`, `Sign*`), which kqlc does not implement yet.
    fn parse_union_operand(&mut self) -> PResult<TabularExpr> {
        let glued_star = matches!(self.kind_at(0), TokenKind::Ident(_))
            && *self.kind_at(1) == TokenKind::Star
            && self.peek_at(1).span.start == self.peek().span.end;
        if self.at(&TokenKind::Star) || glued_star {
            // `union *`, `union Sign*`: the tables whose names match.
            let pattern = self.parse_column_pattern()?;
            let span = pattern.name.span;
            return Ok(TabularExpr {
                source: Source::Unimplemented(Unimplemented {
                    what: format!("a wildcard table reference '{}'", pattern.name.name),
                    text: pattern.name.name,
                    span,
                }),
                operators: Vec::new(),
                span,
            });
        }
        self.parse_tabular_operand()
    }

    fn parse_tabular_operand(&mut self) -> PResult<TabularExpr> {
        if self.at(&TokenKind::LParen) {
            self.advance();
            let inner = self.parse_tabular()?;
            self.expect_closing_paren()?;
            return Ok(inner);
        }
        if self.starts_name(0) && *self.kind_at(self.name_length(0)) == TokenKind::LParen {
            // `F(x)`: a function that returns a table (or a reference to
            // another data source, which parse_source keeps opaque).
            let start = self.peek().span.start;
            let source = self.parse_source()?;
            return Ok(TabularExpr {
                source,
                operators: Vec::new(),
                span: Span::new(start, self.last_end),
            });
        }
        let name = self.parse_name("a table name or `(`")?;
        let span = name.span;
        Ok(TabularExpr {
            source: Source::Named(name),
            operators: Vec::new(),
            span,
        })
    }

    /// `union` after its name: options, then the tables; or, with a valid
    /// option kqlc does not implement (`kind=left`, `withsource=['a b']`),
    /// what to report, the position back before the options.
    fn parse_union(&mut self) -> PResult<Result<ast::Union, String>> {
        let (pos, last_end) = (self.pos, self.last_end);
        let mut union = ast::Union {
            inner: false,
            with_source: None,
            fuzzy: false,
            tables: Vec::new(),
        };
        for (name, value, span) in self.parse_options()? {
            match (name.as_str(), value.as_str()) {
                ("kind", "inner") => union.inner = true,
                ("kind", "outer") => union.inner = false,
                ("isfuzzy", "true") => union.fuzzy = true,
                ("isfuzzy", "false") => union.fuzzy = false,
                ("withsource", _) if lexer::is_identifier(&value) => {
                    let name_span = Span::new(span.end - value.len(), span.end);
                    union.with_source = Some(Ident {
                        name: value,
                        span: name_span,
                    });
                }
                _ if name.starts_with("hint.") => {}
                ("kind" | "isfuzzy" | "withsource", _) => {
                    (self.pos, self.last_end) = (pos, last_end);
                    return Ok(Err(format!("union option '{name}={value}'")));
                }
                _ => {
                    return Err(Diagnostic::new(
                        Code::UnexpectedToken,
                        format!("unknown union option '{name}={value}'"),
                        span,
                    )
                    .with_help(
                        "options: kind=inner|outer, withsource=NAME, isfuzzy=true|false, hint.*",
                    )
                    .into())
                }
            }
        }
        union.tables.push(self.parse_union_operand()?);
        while self.eat(&TokenKind::Comma).is_some() {
            union.tables.push(self.parse_union_operand()?);
        }
        Ok(Ok(union))
    }

    /// `summarize [AGGREGATES] [by GROUPS]`.
    fn parse_summarize(&mut self) -> PResult<OperatorKind> {
        let aggregates = if self.at_word("by") && self.starts_name(1) {
            Vec::new()
        } else {
            self.parse_aggregate_list()?
        };
        let by = if self.at_word("by") {
            self.advance();
            self.parse_named_list()?
        } else {
            Vec::new()
        };
        Ok(OperatorKind::Summarize { aggregates, by })
    }

    /// `make-series` after the operator name: options, aggregates with
    /// their defaults, the axis and its range, `by` groups.
    fn parse_make_series(&mut self) -> PResult<MakeSeries> {
        let mut nonempty = false;
        loop {
            if self.keyword_at(0) == Some(Keyword::Kind)
                && *self.kind_at(1) == TokenKind::Assign
                && *self.kind_at(3) != TokenKind::LParen
            {
                self.advance();
                self.advance();
                match self.word_at(0) {
                    Some("nonempty") => nonempty = true,
                    _ => return Err(self.unexpected("`nonempty`").into()),
                }
                self.advance();
            } else if self.word_at(0) == Some("hint") && *self.kind_at(1) == TokenKind::Dot {
                let before = self.pos;
                self.skip_hints()?;
                if self.pos == before {
                    break;
                }
            } else {
                break;
            }
        }
        let mut aggregates = Vec::new();
        loop {
            let name = if self.at_name_then_assign() {
                let name = self.parse_name("a column name")?;
                self.advance();
                Some(name)
            } else {
                None
            };
            let expr = self.parse_expr()?;
            let default = if self.at_word("default") && *self.kind_at(1) == TokenKind::Assign {
                self.advance();
                self.advance();
                Some(self.parse_expr()?)
            } else {
                None
            };
            aggregates.push(SeriesAggregate {
                item: NamedExpr {
                    name,
                    more_names: Vec::new(),
                    expr,
                },
                default,
            });
            if self.eat(&TokenKind::Comma).is_none() {
                break;
            }
        }
        self.expect_word("on")?;
        let range_form = self.starts_name(0)
            && self.keyword_at(self.name_length(0)) == Some(Keyword::In)
            && self.word_at(self.name_length(0) + 1) == Some("range")
            && *self.kind_at(self.name_length(0) + 2) == TokenKind::LParen;
        let (axis, range) = if range_form {
            let name = self.parse_name("the axis column")?;
            let axis = Expr {
                span: name.span,
                kind: ExprKind::Name(name),
            };
            self.advance(); // `in`
            self.advance(); // `range`
            self.advance(); // `(`
            let start = self.parse_expr()?;
            self.expect(&TokenKind::Comma, "`,`")?;
            let stop = self.parse_expr()?;
            self.expect(&TokenKind::Comma, "`,`")?;
            let step = self.parse_expr()?;
            self.expect(&TokenKind::RParen, "`)`")?;
            (axis, SeriesRange::InRange { start, stop, step })
        } else {
            let axis = self.parse_expr()?;
            let from = if self.at_word("from") {
                self.advance();
                Some(self.parse_expr()?)
            } else {
                None
            };
            let to = if self.eat_keyword(Keyword::To).is_some() {
                Some(self.parse_expr()?)
            } else {
                None
            };
            self.expect_word("step")?;
            let step = self.parse_expr()?;
            (axis, SeriesRange::Step { from, to, step })
        };
        let by = if self.at_word("by") {
            self.advance();
            self.parse_named_list()?
        } else {
            Vec::new()
        };
        Ok(MakeSeries {
            nonempty,
            aggregates,
            axis,
            range,
            by,
        })
    }

    /// `EXPR [asc|desc] [nulls first|last]`.
    fn parse_sort_expr(&mut self) -> PResult<SortExpr> {
        let expr = self.parse_expr()?;
        let descending = if self.at_word("asc") {
            self.advance();
            false
        } else {
            if self.at_word("desc") {
                self.advance();
            }
            true
        };
        let nulls_first = if self.at_word("nulls") {
            self.advance();
            if self.at_word("first") {
                self.advance();
                Some(true)
            } else {
                self.expect_word("last")?;
                Some(false)
            }
        } else {
            None
        };
        Ok(SortExpr {
            expr,
            descending,
            nulls_first,
        })
    }

    /// `[NAME =] EXPR, ...`, at least one.
    fn parse_named_list(&mut self) -> PResult<Vec<NamedExpr>> {
        let mut items = Vec::new();
        loop {
            let name = if self.at_name_then_assign() {
                let name = self.parse_name("a column name")?;
                self.advance();
                Some(name)
            } else {
                None
            };
            let expr = self.parse_expr()?;
            items.push(NamedExpr {
                name,
                more_names: Vec::new(),
                expr,
            });
            if self.eat(&TokenKind::Comma).is_none() {
                return Ok(items);
            }
        }
    }

    /// The aggregates of `summarize`: `[NAME =] EXPR` or
    /// `(NAME, ...) = EXPR`, at least one.
    fn parse_aggregate_list(&mut self) -> PResult<Vec<NamedExpr>> {
        let mut items = Vec::new();
        loop {
            if self.at_parenthesized_names_then_assign() {
                self.advance();
                let mut names = vec![self.parse_name("a column name")?];
                while self.eat(&TokenKind::Comma).is_some() {
                    names.push(self.parse_name("a column name")?);
                }
                self.expect(&TokenKind::RParen, "`,` or `)`")?;
                self.expect(&TokenKind::Assign, "`=`")?;
                let expr = self.parse_expr()?;
                let more_names = names.split_off(1);
                items.push(NamedExpr {
                    name: names.pop(),
                    more_names,
                    expr,
                });
            } else {
                let name = if self.at_name_then_assign() {
                    let name = self.parse_name("a column name")?;
                    self.advance();
                    Some(name)
                } else {
                    None
                };
                let expr = self.parse_expr()?;
                items.push(NamedExpr {
                    name,
                    more_names: Vec::new(),
                    expr,
                });
            }
            if self.eat(&TokenKind::Comma).is_none() {
                return Ok(items);
            }
        }
    }

    /// True at `(NAME, ...) =`.
    fn at_parenthesized_names_then_assign(&self) -> bool {
        if *self.kind_at(0) != TokenKind::LParen {
            return false;
        }
        let mut offset = 1;
        loop {
            if !self.starts_name(offset) {
                return false;
            }
            offset += self.name_length(offset);
            match self.kind_at(offset) {
                TokenKind::Comma => offset += 1,
                TokenKind::RParen => return *self.kind_at(offset + 1) == TokenKind::Assign,
                _ => return false,
            }
        }
    }

    /// True at `NAME =` (a single `=`, not `==`).
    fn at_name_then_assign(&self) -> bool {
        self.starts_name(0) && *self.kind_at(self.name_length(0)) == TokenKind::Assign
    }

    /// A name: a word (keywords included: KQL keywords are names where a
    /// name is expected) or a bracketed name `['name']`.
    fn parse_name(&mut self, expected: &str) -> PResult<Ident> {
        match self.kind_at(0) {
            TokenKind::Ident(name) => {
                let name = name.clone();
                let span = self.advance();
                Ok(Ident { name, span })
            }
            TokenKind::LBracket if self.starts_name(0) => {
                let TokenKind::String(name) = self.kind_at(1) else {
                    return Err(self.unexpected(expected).into());
                };
                let name = name.clone();
                let open = self.advance();
                self.advance();
                let close = self.advance();
                Ok(Ident {
                    name,
                    span: open.to(close),
                })
            }
            _ => Err(self.unexpected(expected).into()),
        }
    }

    // --- scalar expressions --------------------------------------------------

    /// A scalar expression.
    fn parse_expr(&mut self) -> PResult<Expr> {
        self.parse_binary(Precedence::Lowest)
    }

    /// The Pratt loop: an operand, then infix operators binding at least as
    /// strongly as `min`.
    ///
    /// This and the other functions on the recursive path keep their stack
    /// frames small: the work that does not recurse through them (applying
    /// an operator, reading `.name`, building errors and literals) lives in
    /// helper functions, so that [`MAX_DEPTH`] levels fit in a test thread's
    /// stack even in debug builds, where every temporary gets its own slot.
    fn parse_binary(&mut self, min: Precedence) -> PResult<Expr> {
        let saved_depth = self.depth;
        self.enter(self.peek().span)?;
        let lhs = self.parse_unary()?;
        let expr = self.parse_infix_chain(lhs, min)?;
        self.depth = saved_depth;
        Ok(expr)
    }

    /// The operators after the first operand of [`Self::parse_binary`].
    #[inline(never)]
    fn parse_infix_chain(&mut self, mut lhs: Expr, min: Precedence) -> PResult<Expr> {
        let mut previous: Option<Precedence> = None;
        // `and`/`or` operators of this chain (one precedence level holds
        // one of them). Past FLAT_LOGIC_CHAIN they no longer count as
        // nesting: the chain is rebalanced below, so later stages see a
        // tree of logarithmic depth (both are associative, with or without
        // nulls), and an allow-list of a thousand `or`s is not refused.
        let mut logic_ops = 0usize;
        // The current run of arithmetic operators of one precedence level
        // (`a + b - c`): past FLAT_LOGIC_CHAIN they no longer count as
        // nesting either, and the run becomes one flat `Chain` node (not
        // rebalanced: `+` on reals is not associative, so the order of a
        // left fold is kept).
        let mut arithmetic: Option<(Precedence, usize)> = None;
        while let Some((op, length)) = self.peek_infix() {
            let strength = precedence(op);
            if strength < min {
                break;
            }
            let is_arithmetic =
                matches!(strength, Precedence::Additive | Precedence::Multiplicative);
            arithmetic = match arithmetic {
                Some((level, run)) if is_arithmetic && level == strength => Some((level, run + 1)),
                previous => {
                    if let Some((_, run)) = previous {
                        lhs = flatten_arithmetic_run(lhs, run);
                    }
                    is_arithmetic.then_some((strength, 1))
                }
            };
            let long_run = matches!(arithmetic, Some((_, run)) if run > FLAT_LOGIC_CHAIN);
            let op_span = self.peek().span.to(self.peek_at(length - 1).span);
            if strength.is_non_associative() && previous == Some(strength) {
                return Err(chained_comparison(op_span).into());
            }
            previous = Some(strength);
            let logic = matches!(op, Infix::Binary(BinaryOp::And | BinaryOp::Or));
            // Each operator of a chain deepens the (left-leaning) tree.
            if !(logic && logic_ops >= FLAT_LOGIC_CHAIN || long_run) {
                self.enter(op_span)?;
            }
            logic_ops += usize::from(logic);
            for _ in 0..length {
                self.advance();
            }
            let kind = match op {
                Infix::Binary(op) => {
                    let rhs = self.parse_binary(strength.tighter())?;
                    ExprKind::Binary {
                        op,
                        lhs: Box::new(lhs),
                        rhs: Box::new(rhs),
                    }
                }
                Infix::List(op) => {
                    let items = self.parse_list_operand(op)?;
                    ExprKind::List {
                        op,
                        expr: Box::new(lhs),
                        items,
                    }
                }
                Infix::Between { negated } => {
                    let (low, high) = self.parse_between_operand()?;
                    ExprKind::Between {
                        negated,
                        expr: Box::new(lhs),
                        low: Box::new(low),
                        high: Box::new(high),
                    }
                }
            };
            lhs = self.finish(kind, op_span);
        }
        if let Some((_, run)) = arithmetic {
            lhs = flatten_arithmetic_run(lhs, run);
        }
        if logic_ops > FLAT_LOGIC_CHAIN {
            lhs = rebalance_logic_chain(lhs);
        }
        Ok(lhs)
    }

    /// A node spanning from its first child (or `fallback`) to the last
    /// consumed token.
    fn finish(&self, kind: ExprKind, fallback: Span) -> Expr {
        let start = match &kind {
            ExprKind::Binary { lhs, .. } => lhs.span.start,
            ExprKind::List { expr, .. } | ExprKind::Between { expr, .. } => expr.span.start,
            ExprKind::Member { target, .. } | ExprKind::Index { target, .. } => target.span.start,
            _ => fallback.start,
        };
        Expr {
            kind,
            span: Span::new(start.min(fallback.start), self.last_end),
        }
    }

    /// The infix operator at the next token, and how many tokens it takes.
    fn peek_infix(&self) -> Option<(Infix, usize)> {
        let op = match self.kind_at(0) {
            TokenKind::EqEq => Infix::Binary(BinaryOp::Eq),
            TokenKind::NotEq => Infix::Binary(BinaryOp::NotEq),
            TokenKind::EqTilde => Infix::Binary(BinaryOp::EqCi),
            TokenKind::BangTilde => Infix::Binary(BinaryOp::NotEqCi),
            TokenKind::Lt => Infix::Binary(BinaryOp::Lt),
            TokenKind::Le => Infix::Binary(BinaryOp::Le),
            TokenKind::Gt => Infix::Binary(BinaryOp::Gt),
            TokenKind::Ge => Infix::Binary(BinaryOp::Ge),
            TokenKind::Plus => Infix::Binary(BinaryOp::Add),
            TokenKind::Minus => Infix::Binary(BinaryOp::Sub),
            TokenKind::Star => Infix::Binary(BinaryOp::Mul),
            TokenKind::Slash => Infix::Binary(BinaryOp::Div),
            TokenKind::Percent => Infix::Binary(BinaryOp::Mod),
            TokenKind::Ident(_) | TokenKind::Keyword(_) => match self.keyword_at(0)? {
                Keyword::And => Infix::Binary(BinaryOp::And),
                Keyword::Or => Infix::Binary(BinaryOp::Or),
                Keyword::StringOp(op) => Infix::Binary(BinaryOp::Str(op)),
                Keyword::Matches if self.keyword_at(1) == Some(Keyword::Regex) => {
                    return Some((Infix::Binary(BinaryOp::Str(MATCHES_REGEX)), 2));
                }
                Keyword::In => Infix::List(ListOp::In),
                Keyword::NotIn => Infix::List(ListOp::NotIn),
                Keyword::InCi => Infix::List(ListOp::InCi),
                Keyword::NotInCi => Infix::List(ListOp::NotInCi),
                Keyword::HasAny => Infix::List(ListOp::HasAny),
                Keyword::HasAll => Infix::List(ListOp::HasAll),
                Keyword::Between => Infix::Between { negated: false },
                Keyword::NotBetween => Infix::Between { negated: true },
                _ => return None,
            },
            _ => return None,
        };
        Some((op, 1))
    }

    /// `(A, B, ...)` after `in` and the other list operators.
    fn parse_list_operand(&mut self, op: ListOp) -> PResult<Vec<Expr>> {
        self.expect(
            &TokenKind::LParen,
            &format!("`(` after `{}`", op.spelling()),
        )?;
        // `x in (T | project y)`, `x in (datatable(...)[...])`: a table's
        // first column.
        if self.tabular_ahead(|kind| matches!(kind, TokenKind::RParen | TokenKind::Comma)) {
            let start = self.peek().span.start;
            let tabular = self.parse_tabular()?;
            self.expect(&TokenKind::RParen, "`)`")?;
            return Ok(vec![Expr {
                kind: ExprKind::Tabular(Box::new(tabular)),
                span: Span::new(start, self.last_end),
            }]);
        }
        let mut items = Vec::new();
        loop {
            items.push(self.parse_expr()?);
            if self.eat(&TokenKind::Comma).is_none() {
                break;
            }
        }
        self.expect_closing_paren()?;
        Ok(items)
    }

    /// True when a `|` comes before the `)` that closes the current
    /// parenthesis (the parenthesis holds a tabular expression).
    fn pipe_before_closing_paren(&self) -> bool {
        let mut depth = 0usize;
        for token in self.tokens.get(self.pos..).unwrap_or_default() {
            match token.kind {
                TokenKind::LParen | TokenKind::LBracket | TokenKind::LBrace => depth += 1,
                TokenKind::RParen | TokenKind::RBracket | TokenKind::RBrace if depth == 0 => {
                    return false
                }
                TokenKind::RParen | TokenKind::RBracket | TokenKind::RBrace => depth -= 1,
                TokenKind::Pipe if depth == 0 => return true,
                TokenKind::Semicolon | TokenKind::Eof => return false,
                _ => {}
            }
        }
        false
    }

    /// `(LOW .. HIGH)` after `between`.
    fn parse_between_operand(&mut self) -> PResult<(Expr, Expr)> {
        self.expect(&TokenKind::LParen, "`(` after `between`")?;
        let low = self.parse_expr()?;
        self.expect(&TokenKind::DotDot, "`..`")?;
        let high = self.parse_expr()?;
        self.expect(&TokenKind::RParen, "`)`")?;
        Ok((low, high))
    }

    #[cold]
    #[inline(never)]
    fn tabular_argument_unsupported(&self) -> Diagnostic {
        Diagnostic::new(
            Code::Unsupported,
            "tabular expressions inside scalar expressions are not supported yet",
            self.peek().span,
        )
        .with_label("a pipe inside a scalar expression")
    }

    /// `-x`, `+x`, or a postfix expression.
    fn parse_unary(&mut self) -> PResult<Expr> {
        match self.kind_at(0) {
            TokenKind::Minus | TokenKind::Plus => self.parse_prefixed(),
            _ => self.parse_postfix(),
        }
    }

    /// `-x` or `+x`.
    #[inline(never)]
    fn parse_prefixed(&mut self) -> PResult<Expr> {
        let op = match self.kind_at(0) {
            TokenKind::Plus => UnaryOp::Plus,
            _ => UnaryOp::Neg,
        };
        let start = self.advance();
        self.enter(start)?;
        let operand = self.parse_unary()?;
        self.depth -= 1;
        let span = start.to(operand.span);
        Ok(Expr {
            kind: ExprKind::Unary {
                op,
                operand: Box::new(operand),
            },
            span,
        })
    }

    /// A primary expression followed by `.name`, `.['name']` and `[index]`.
    fn parse_postfix(&mut self) -> PResult<Expr> {
        let expr = self.parse_primary()?;
        self.parse_postfix_chain(expr)
    }

    /// The `.name` and `[index]` suffixes after a primary expression.
    #[inline(never)]
    fn parse_postfix_chain(&mut self, mut expr: Expr) -> PResult<Expr> {
        let saved_depth = self.depth;
        loop {
            let span = self.peek().span;
            let kind = match self.kind_at(0) {
                // `x.f(...)`: valid syntax; kqlc does not implement it.
                TokenKind::Dot
                    if self.starts_name(1)
                        && *self.kind_at(1 + self.name_length(1)) == TokenKind::LParen =>
                {
                    self.enter(span)?;
                    self.advance();
                    let method = self.parse_name("a property name after `.`")?;
                    self.skip_balanced_parentheses();
                    let whole = expr.span.to(Span::new(self.last_end, self.last_end));
                    ExprKind::Unimplemented(Unimplemented {
                        what: format!("the method-style call `.{}(...)`", method.name),
                        text: self
                            .source
                            .get(whole.start..whole.end)
                            .unwrap_or_default()
                            .to_string(),
                        span: whole,
                    })
                }
                TokenKind::Dot => {
                    self.enter(span)?;
                    self.advance();
                    let name = self.parse_member_name()?;
                    ExprKind::Member {
                        target: Box::new(expr),
                        name,
                    }
                }
                TokenKind::LBracket => {
                    self.enter(span)?;
                    self.advance();
                    let index = self.parse_expr()?;
                    self.expect(&TokenKind::RBracket, "`]`")?;
                    ExprKind::Index {
                        target: Box::new(expr),
                        index: Box::new(index),
                    }
                }
                _ => break,
            };
            expr = self.finish(kind, span);
        }
        self.depth = saved_depth;
        Ok(expr)
    }

    /// Skips `(...)`, nested brackets included.
    fn skip_balanced_parentheses(&mut self) {
        let mut depth = 0usize;
        loop {
            match self.kind_at(0) {
                TokenKind::LParen | TokenKind::LBracket | TokenKind::LBrace => depth += 1,
                TokenKind::RParen | TokenKind::RBracket | TokenKind::RBrace => {
                    depth = depth.saturating_sub(1)
                }
                TokenKind::Eof => return,
                _ => {}
            }
            self.advance();
            if depth == 0 {
                return;
            }
        }
    }

    /// The name after `.`.
    #[inline(never)]
    fn parse_member_name(&mut self) -> PResult<Ident> {
        if let Some(word) = self.word_at(0).filter(|word| is_keyword_not_name(word)) {
            let help = format!("to use `{word}` as a property name, write .['{word}']");
            return Err(self
                .unexpected("a property name after `.`")
                .with_help(help)
                .into());
        }
        let name = self.parse_name("a property name after `.`")?;
        if self.at(&TokenKind::LParen) {
            return Err(Diagnostic::new(
                Code::Unsupported,
                "method-style calls (`x.f(...)`) are not supported",
                name.span,
            )
            .with_help(format!(
                "call the function directly: `{}(x, ...)`",
                name.name
            ))
            .into());
        }
        Ok(name)
    }

    /// True at `*` followed by the operators Kusto lets test every column:
    /// `==`, `=~` and the string operators (`has`, `!contains`, `matches
    /// regex`, ...).
    fn column_wildcard_test_ahead(&self) -> bool {
        match self.kind_at(1) {
            TokenKind::EqEq | TokenKind::EqTilde => true,
            TokenKind::Ident(_) | TokenKind::Keyword(_) => match self.keyword_at(1) {
                Some(Keyword::StringOp(_)) => true,
                Some(Keyword::Matches) => self.keyword_at(2) == Some(Keyword::Regex),
                _ => false,
            },
            _ => false,
        }
    }

    fn parse_primary(&mut self) -> PResult<Expr> {
        match self.primary_kind()? {
            Primary::TypeOf => {
                let start = self.advance();
                self.expect(&TokenKind::LParen, "`(`")?;
                let ty = self.parse_type()?;
                let close = self.expect(&TokenKind::RParen, "`)`")?;
                Ok(Expr {
                    kind: ExprKind::TypeOf(ty),
                    span: start.to(close),
                })
            }
            Primary::Star => {
                let span = self.advance();
                Ok(Expr {
                    kind: ExprKind::Star,
                    span,
                })
            }
            Primary::Parenthesized => self.parse_parenthesized(),
            Primary::NameOrCall => self.parse_name_or_call(),
            Primary::Dynamic => self.parse_dynamic(),
            Primary::Literal => self.parse_literal(),
        }
    }

    /// What kind of primary expression starts at the next token, or why none
    /// can.
    #[inline(never)]
    fn primary_kind(&self) -> PResult<Primary> {
        let token = self.peek();
        Ok(match &token.kind {
            TokenKind::Long(_)
            | TokenKind::Real(_)
            | TokenKind::TimeSpan(_)
            | TokenKind::String(_)
            | TokenKind::TypedLiteral { .. } => Primary::Literal,
            TokenKind::LParen => Primary::Parenthesized,
            TokenKind::LBracket if self.starts_name(0) => Primary::NameOrCall,
            TokenKind::LBracket => {
                return Err(self
                    .unexpected("an expression")
                    .with_help(
                        "a bracketed name is written ['name']; an array is written dynamic([...])",
                    )
                    .into())
            }
            // `* has "x"`: a test of every column.
            TokenKind::Star if self.column_wildcard_test_ahead() => Primary::Star,
            TokenKind::Ident(word) => match Keyword::from_word(word) {
                Some(Keyword::True | Keyword::False) => Primary::Literal,
                Some(Keyword::Dynamic) if *self.kind_at(1) == TokenKind::LParen => Primary::Dynamic,
                Some(Keyword::Typeof) if *self.kind_at(1) == TokenKind::LParen => Primary::TypeOf,
                _ if is_keyword_not_name(word) => {
                    return Err(self
                        .unexpected("an expression")
                        .with_help(format!("to use `{word}` as a name, write ['{word}']"))
                        .into())
                }
                _ => Primary::NameOrCall,
            },
            _ => return Err(self.unexpected("an expression").into()),
        })
    }

    /// A literal token (or adjacent strings, or `true`/`false`).
    #[inline(never)]
    fn parse_literal(&mut self) -> PResult<Expr> {
        let token = self.peek();
        let span = token.span;
        let literal = match &token.kind {
            TokenKind::Long(value) => Literal::Long(*value),
            TokenKind::Real(value) => Literal::Real(*value),
            TokenKind::TimeSpan(ticks) => Literal::TimeSpan(*ticks),
            TokenKind::String(_) => return Ok(self.parse_strings()),
            TokenKind::TypedLiteral {
                type_name, content, ..
            } => {
                let (type_name, content) = (type_name.clone(), content.clone());
                self.advance();
                if ScalarType::from_name(&type_name) == Some(ScalarType::DateTime)
                    && content.trim().is_empty()
                {
                    // `datetime()` is the current time (datetime.md).
                    let name = Ident {
                        name: "now".to_string(),
                        span,
                    };
                    return Ok(Expr {
                        kind: ExprKind::Call { name, args: vec![] },
                        span,
                    });
                }
                let kind = match lexer::decode_typed_literal(&type_name, &content, span) {
                    Ok(literal) => ExprKind::Literal(literal),
                    Err(diagnostic) => ExprKind::InvalidLiteral {
                        text: self
                            .source
                            .get(span.start..span.end)
                            .unwrap_or_default()
                            .to_string(),
                        diagnostic,
                    },
                };
                return Ok(Expr { kind, span });
            }
            TokenKind::Ident(word) if Keyword::from_word(word) == Some(Keyword::True) => {
                Literal::Bool(true)
            }
            TokenKind::Ident(word) if Keyword::from_word(word) == Some(Keyword::False) => {
                Literal::Bool(false)
            }
            _ => return Err(self.unexpected("a literal").into()),
        };
        self.advance();
        Ok(Expr {
            kind: ExprKind::Literal(literal),
            span,
        })
    }

    /// Adjacent string literals are one string: `"a" 'b'` is `"ab"`.
    fn parse_strings(&mut self) -> Expr {
        let start = self.peek().span;
        let mut text = String::new();
        while let TokenKind::String(part) = self.kind_at(0) {
            text.push_str(part);
            self.advance();
        }
        Expr {
            kind: ExprKind::Literal(Literal::String(text)),
            span: Span::new(start.start, self.last_end),
        }
    }

    fn parse_parenthesized(&mut self) -> PResult<Expr> {
        let open = self.advance();
        let mut expr = self.parse_expr()?;
        let close = self.expect_closing_paren()?;
        // The span takes in the parentheses, so errors about it show them.
        expr.span = open.to(close);
        Ok(expr)
    }

    /// The `)` ending a parenthesized list; a `|` there means a tabular
    /// expression where a scalar was expected.
    #[inline(never)]
    fn expect_closing_paren(&mut self) -> PResult<Span> {
        if self.at(&TokenKind::Pipe) {
            return Err(self.tabular_argument_unsupported().into());
        }
        self.expect(&TokenKind::RParen, "`,` or `)`")
    }

    /// A name, or a call when `(` follows it.
    fn parse_name_or_call(&mut self) -> PResult<Expr> {
        let name = self.parse_name("an expression")?;
        if !self.at(&TokenKind::LParen) {
            let span = name.span;
            return Ok(Expr {
                kind: ExprKind::Name(name),
                span,
            });
        }
        self.advance();
        if name.name == "toscalar"
            && self.tabular_ahead(|kind| matches!(kind, TokenKind::RParen | TokenKind::Comma))
        {
            let start = self.peek().span.start;
            let tabular = self.parse_tabular()?;
            let arg = Expr {
                kind: ExprKind::Tabular(Box::new(tabular)),
                span: Span::new(start, self.last_end),
            };
            let close = self.expect(&TokenKind::RParen, "`)`")?;
            let span = name.span.to(close);
            return Ok(Expr {
                kind: ExprKind::Call {
                    name,
                    args: vec![arg],
                },
                span,
            });
        }
        if self.pipe_before_closing_paren() {
            // `f(T | summarize ...)`: a tabular argument, not implemented.
            let what = format!("'{}' of a tabular expression", name.name);
            self.skip_unimplemented(what.clone(), true);
            let close = self.expect_closing_paren()?;
            let span = name.span.to(close);
            let text = self
                .source
                .get(span.start..span.end)
                .unwrap_or_default()
                .to_string();
            return Ok(Expr {
                kind: ExprKind::Unimplemented(Unimplemented { what, text, span }),
                span,
            });
        }
        let mut args = Vec::new();
        if !self.at(&TokenKind::RParen) {
            loop {
                // `*` alone as an argument (`arg_max(x, *)`, `count(*)`).
                if self.at(&TokenKind::Star)
                    && matches!(self.kind_at(1), TokenKind::Comma | TokenKind::RParen)
                {
                    let span = self.advance();
                    args.push(Expr {
                        kind: ExprKind::Star,
                        span,
                    });
                } else if self.at_name_then_assign() {
                    args.push(self.parse_named_argument()?);
                } else {
                    args.push(self.parse_expr()?);
                }
                if self.eat(&TokenKind::Comma).is_none() {
                    break;
                }
            }
        }
        let close = self.expect_closing_paren()?;
        let span = name.span.to(close);
        Ok(Expr {
            kind: ExprKind::Call { name, args },
            span,
        })
    }

    /// `NAME = VALUE` as a call argument.
    fn parse_named_argument(&mut self) -> PResult<Expr> {
        let name = self.parse_name("an argument name")?;
        self.expect(&TokenKind::Assign, "`=`")?;
        let value = self.parse_expr()?;
        let span = name.span.to(value.span);
        Ok(Expr {
            kind: ExprKind::NamedArgument {
                name,
                value: Box::new(value),
            },
            span,
        })
    }

    // --- dynamic literals ----------------------------------------------------

    /// `dynamic(VALUE)`; `dynamic(null)` is the typed null.
    fn parse_dynamic(&mut self) -> PResult<Expr> {
        let start = self.advance();
        self.expect(&TokenKind::LParen, "`(`")?;
        let value = self.parse_dynamic_value()?;
        let close = self.expect(&TokenKind::RParen, "`)`")?;
        let literal = match value {
            DynamicLiteral::Null => Literal::Null(ScalarType::Dynamic),
            value => Literal::Dynamic(value),
        };
        Ok(Expr {
            kind: ExprKind::Literal(literal),
            span: start.to(close),
        })
    }

    /// One JSON-like value: null, true, false, a number, a timespan, a
    /// string, a typed literal, an array, a property bag, or a nested
    /// `dynamic(...)`.
    fn parse_dynamic_value(&mut self) -> PResult<DynamicLiteral> {
        self.enter(self.peek().span)?;
        let value = match self.kind_at(0) {
            TokenKind::LBracket => self.parse_dynamic_array(),
            TokenKind::LBrace => self.parse_dynamic_bag(),
            TokenKind::Ident(word)
                if Keyword::from_word(word) == Some(Keyword::Dynamic)
                    && *self.kind_at(1) == TokenKind::LParen =>
            {
                self.parse_nested_dynamic()
            }
            _ => self.parse_dynamic_scalar(),
        };
        self.depth -= 1;
        value
    }

    /// `dynamic(VALUE)` inside a dynamic value is just the value.
    fn parse_nested_dynamic(&mut self) -> PResult<DynamicLiteral> {
        self.advance();
        self.advance();
        let value = self.parse_dynamic_value()?;
        self.expect(&TokenKind::RParen, "`)`")?;
        Ok(value)
    }

    fn parse_dynamic_array(&mut self) -> PResult<DynamicLiteral> {
        self.advance();
        let mut items = Vec::new();
        if self.eat(&TokenKind::RBracket).is_some() {
            return Ok(DynamicLiteral::Array(items));
        }
        loop {
            items.push(self.parse_dynamic_value()?);
            if self.eat(&TokenKind::Comma).is_none() {
                break;
            }
        }
        self.expect(&TokenKind::RBracket, "`,` or `]`")?;
        Ok(DynamicLiteral::Array(items))
    }

    fn parse_dynamic_bag(&mut self) -> PResult<DynamicLiteral> {
        self.advance();
        let mut pairs = Vec::new();
        if self.eat(&TokenKind::RBrace).is_some() {
            return Ok(DynamicLiteral::Bag(pairs));
        }
        loop {
            let key = self.parse_dynamic_key()?;
            pairs.push((key, self.parse_dynamic_value()?));
            if self.eat(&TokenKind::Comma).is_none() {
                break;
            }
        }
        self.expect(&TokenKind::RBrace, "`,` or `}`")?;
        Ok(DynamicLiteral::Bag(pairs))
    }

    /// `"key":` in a property bag.
    #[inline(never)]
    fn parse_dynamic_key(&mut self) -> PResult<String> {
        let TokenKind::String(key) = self.kind_at(0).clone() else {
            return Err(self.unexpected("a property name in quotes").into());
        };
        self.advance();
        self.expect(&TokenKind::Colon, "`:`")?;
        Ok(key)
    }

    /// A scalar inside `dynamic(...)`: null, true, false, a (negative)
    /// number, a timespan, strings or a typed literal.
    #[inline(never)]
    fn parse_dynamic_scalar(&mut self) -> PResult<DynamicLiteral> {
        let token = self.peek();
        let span = token.span;
        let literal = match &token.kind {
            TokenKind::Minus => {
                self.advance();
                let literal = match self.kind_at(0) {
                    TokenKind::Long(value) => Literal::Long(-value),
                    TokenKind::Real(value) => Literal::Real(-value),
                    _ => return Err(self.unexpected("a number after `-`").into()),
                };
                self.advance();
                literal
            }
            TokenKind::Long(value) => {
                let literal = Literal::Long(*value);
                self.advance();
                literal
            }
            TokenKind::Real(value) => {
                let literal = Literal::Real(*value);
                self.advance();
                literal
            }
            TokenKind::TimeSpan(ticks) => {
                let literal = Literal::TimeSpan(*ticks);
                self.advance();
                literal
            }
            TokenKind::String(_) => match self.parse_strings().kind {
                ExprKind::Literal(literal) => literal,
                _ => return Err(self.unexpected("a string").into()),
            },
            TokenKind::TypedLiteral {
                type_name, content, ..
            } => {
                let literal = lexer::decode_typed_literal(type_name, content, span)?;
                self.advance();
                // Inside a dynamic value a typed null is JSON's null.
                if let Literal::Null(_) = literal {
                    return Ok(DynamicLiteral::Null);
                }
                literal
            }
            TokenKind::Ident(word) => {
                let literal = match Keyword::from_word(word) {
                    Some(Keyword::Null) => {
                        self.advance();
                        return Ok(DynamicLiteral::Null);
                    }
                    Some(Keyword::True) => Literal::Bool(true),
                    Some(Keyword::False) => Literal::Bool(false),
                    _ => return Err(self.dynamic_value_expected().into()),
                };
                self.advance();
                literal
            }
            _ => return Err(self.dynamic_value_expected().into()),
        };
        Ok(DynamicLiteral::Scalar(Box::new(literal)))
    }

    fn dynamic_value_expected(&self) -> Diagnostic {
        self.unexpected("a dynamic value (null, true, false, a number, a string, [...] or {...})")
            .with_note("dynamic(...) holds literal values only; use pack_array() or bag_pack() to build values from columns")
    }
}

/// The kinds of primary expression, decided before parsing one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Primary {
    Literal,
    Parenthesized,
    NameOrCall,
    Dynamic,
    Star,
    TypeOf,
}

/// What an unsupported-construct diagnostic of the parser is about, for
/// the checker's "... is not supported yet".
fn unsupported_what(diagnostic: &Diagnostic) -> String {
    let message = diagnostic.message.as_str();
    message
        .strip_suffix(" is not supported yet")
        .or_else(|| message.strip_suffix(" are not supported yet"))
        .or_else(|| message.strip_suffix(" is not supported"))
        .or_else(|| message.strip_suffix(" are not supported"))
        .unwrap_or(message)
        .to_string()
}

#[cold]
#[inline(never)]
fn too_deep(span: Span) -> Diagnostic {
    Diagnostic::new(
        Code::NestingTooDeep,
        format!("expression nested more than {MAX_DEPTH} levels deep"),
        span,
    )
    .with_label("too deep here")
    .with_help("split the expression with `let` statements")
}

#[cold]
#[inline(never)]
fn chained_comparison(span: Span) -> Diagnostic {
    Diagnostic::new(
        Code::UnexpectedToken,
        "comparison operators cannot be chained",
        span,
    )
    .with_label("second comparison")
    .with_help("add parentheses, as in `(a == b) == c`, or join the tests with `and`")
}

/// Keywords Kusto never reads as a bare name in an expression, a table name
/// or a property name (they must be bracketed there, as in `['long']`): the
/// operator words, a few tabular keywords, and the type names other than
/// `bool` and `guid`.
fn is_keyword_not_name(word: &str) -> bool {
    match Keyword::from_word(word) {
        Some(
            Keyword::And
            | Keyword::Or
            | Keyword::Between
            | Keyword::NotBetween
            | Keyword::In
            | Keyword::NotIn
            | Keyword::InCi
            | Keyword::NotInCi
            | Keyword::HasAny
            | Keyword::HasAll
            | Keyword::StringOp(_)
            | Keyword::Print
            | Keyword::Datatable
            | Keyword::Dynamic
            | Keyword::To
            | Keyword::BagExpansion
            | Keyword::WithItemIndex,
        ) => true,
        Some(_) => false,
        None => {
            (ScalarType::from_name(word).is_some() || lexer::is_typed_literal_keyword(word))
                && !matches!(word, "bool" | "guid")
        }
    }
}

/// Pairs every `(`, `[` and `{` with its closer before parsing, so that an
/// unbalanced one is reported at the bracket itself, and limits how deep
/// brackets nest.
fn check_delimiters(tokens: &[Token]) -> PResult<()> {
    let mut open: Vec<&Token> = Vec::new();
    for token in tokens {
        let closer = match token.kind {
            TokenKind::LParen | TokenKind::LBracket | TokenKind::LBrace => {
                open.push(token);
                if open.len() > MAX_DEPTH {
                    return Err(Diagnostic::new(
                        Code::NestingTooDeep,
                        format!("brackets nested more than {MAX_DEPTH} levels deep"),
                        token.span,
                    )
                    .with_label("too deep here")
                    .into());
                }
                continue;
            }
            TokenKind::RParen => TokenKind::LParen,
            TokenKind::RBracket => TokenKind::LBracket,
            TokenKind::RBrace => TokenKind::LBrace,
            _ => continue,
        };
        match open.pop() {
            None => {
                return Err(Diagnostic::new(
                    Code::UnbalancedDelimiter,
                    format!("unexpected closing delimiter {}", token.kind.describe()),
                    token.span,
                )
                .with_label("unexpected closing delimiter")
                .into())
            }
            Some(opener) if opener.kind != closer => {
                return Err(Diagnostic::new(
                    Code::UnbalancedDelimiter,
                    format!("mismatched closing delimiter {}", token.kind.describe()),
                    token.span,
                )
                .with_label("mismatched closing delimiter")
                .with_secondary(opener.span, "unclosed delimiter")
                .into())
            }
            Some(_) => {}
        }
    }
    match open.last() {
        Some(opener) => Err(Diagnostic::new(
            Code::UnbalancedDelimiter,
            format!("unclosed delimiter {}", opener.kind.describe()),
            opener.span,
        )
        .with_label("unclosed delimiter")
        .into()),
        None => Ok(()),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::syntax::parse;

    /// A span-free rendering of an expression, for precedence tests.
    fn sexpr(expr: &Expr) -> String {
        match &expr.kind {
            ExprKind::Literal(literal) => format!("{literal}"),
            ExprKind::Name(ident) => ident.name.clone(),
            ExprKind::Star => "*".to_string(),
            ExprKind::NamedArgument { name, value } => format!("{} = {}", name.name, sexpr(value)),
            ExprKind::TypeOf(ty) => format!("typeof({ty})"),
            ExprKind::InvalidLiteral { text, .. } => text.clone(),
            ExprKind::Unimplemented(opaque) => opaque.text.clone(),
            ExprKind::Tabular(tabular) => format!("({tabular})"),
            ExprKind::Member { target, name } => format!("{}.{}", sexpr(target), name.name),
            ExprKind::Index { target, index } => format!("{}[{}]", sexpr(target), sexpr(index)),
            ExprKind::Call { name, args } => {
                let args: Vec<String> = args.iter().map(sexpr).collect();
                format!("{}({})", name.name, args.join(", "))
            }
            ExprKind::Unary { op, operand } => format!("({op} {})", sexpr(operand)),
            ExprKind::Binary { op, lhs, rhs } => format!("({op} {} {})", sexpr(lhs), sexpr(rhs)),
            // As the nested form it folds like.
            ExprKind::Chain { first, rest } => rest.iter().fold(sexpr(first), |so_far, (op, e)| {
                format!("({op} {so_far} {})", sexpr(e))
            }),
            ExprKind::List { op, expr, items } => {
                let items: Vec<String> = items.iter().map(sexpr).collect();
                format!("({} {} [{}])", op.spelling(), sexpr(expr), items.join(", "))
            }
            ExprKind::Between {
                negated,
                expr,
                low,
                high,
            } => format!(
                "({} {} {} {})",
                if *negated { "!between" } else { "between" },
                sexpr(expr),
                sexpr(low),
                sexpr(high)
            ),
        }
    }

    /// Parses `print EXPR` and returns the expression.
    fn expr(source: &str) -> Expr {
        let query = parse(&format!("print {source}")).unwrap_or_else(|d| panic!("{source}: {d}"));
        match query.statements.into_iter().next() {
            Some(Statement::Tabular(TabularExpr {
                source: Source::Print(mut items, _),
                ..
            })) => items.remove(0).expr,
            other => panic!("unexpected statement {other:?}"),
        }
    }

    fn literal(source: &str) -> Literal {
        match expr(source).kind {
            ExprKind::Literal(literal) => literal,
            other => panic!("{source}: not a literal: {other:?}"),
        }
    }

    fn error(source: &str) -> Diagnostic {
        match parse(source) {
            Ok(query) => panic!("{source:?} parsed: {query:?}"),
            Err(diagnostic) => diagnostic,
        }
    }

    /// The primary span as `(start, end)`.
    fn at(diagnostic: &Diagnostic) -> (usize, usize) {
        (diagnostic.primary.span.start, diagnostic.primary.span.end)
    }

    fn operators(source: &str) -> Vec<OperatorKind> {
        let query = parse(source).unwrap_or_else(|d| panic!("{source}: {d}"));
        match query.statements.into_iter().last() {
            Some(Statement::Tabular(tabular)) => {
                tabular.operators.into_iter().map(|op| op.kind).collect()
            }
            other => panic!("unexpected statement {other:?}"),
        }
    }

    fn name(text: &str) -> Ident {
        Ident {
            name: text.to_string(),
            span: Span::default(),
        }
    }

    #[test]
    fn and_binds_tighter_than_or() {
        assert_eq!(sexpr(&expr("a or b and c")), "(or a (and b c))");
        assert_eq!(sexpr(&expr("a and b or c")), "(or (and a b) c)");
    }

    #[test]
    fn multiplication_binds_tighter_than_addition() {
        assert_eq!(sexpr(&expr("a + b * c")), "(+ a (* b c))");
        assert_eq!(sexpr(&expr("a - b - c")), "(- (- a b) c)");
        assert_eq!(sexpr(&expr("a * b % c / d")), "(/ (% (* a b) c) d)");
    }

    #[test]
    fn comparisons_bind_tighter_than_and() {
        assert_eq!(
            sexpr(&expr("x == 1 and y startswith \"z\"")),
            "(and (== x 1) (startswith y \"z\"))"
        );
        assert_eq!(sexpr(&expr("a + 1 > b * 2")), "(> (+ a 1) (* b 2))");
        assert_eq!(
            sexpr(&expr("a has b or c in (1) and not(d)")),
            "(or (has a b) (and (in c [1]) not(d)))"
        );
    }

    /// These follow Microsoft's reference parser (checked with its oracle).
    #[test]
    fn precedence_levels_match_the_reference_parser() {
        assert_eq!(sexpr(&expr("a == b < c")), "(== a (< b c))");
        assert_eq!(sexpr(&expr("a < b == c")), "(== (< a b) c)");
        assert_eq!(
            sexpr(&expr("a == b startswith c")),
            "(== a (startswith b c))"
        );
        assert_eq!(sexpr(&expr("a =~ b == c")), "(== (=~ a b) c)");
        assert_eq!(sexpr(&expr("a + b has c")), "(+ a (has b c))");
        assert_eq!(sexpr(&expr("a has b * c")), "(* (has a b) c)");
        assert_eq!(sexpr(&expr("a * b in (c)")), "(in (* a b) [c])");
        assert_eq!(sexpr(&expr("a has b in (c)")), "(in (has a b) [c])");
        assert_eq!(sexpr(&expr("-a has b")), "(has (- a) b)");
        assert_eq!(
            sexpr(&expr("a * b matches regex c")),
            "(* a (matches regex b c))"
        );
    }

    #[test]
    fn unary_minus_binds_tighter_than_binary_and_looser_than_member_access() {
        assert_eq!(sexpr(&expr("-a.b * 2")), "(* (- a.b) 2)");
        assert_eq!(sexpr(&expr("1 - -1")), "(- 1 (- 1))");
        assert_eq!(sexpr(&expr("+a")), "(+ a)");
    }

    #[test]
    fn postfix_chains_read_left_to_right() {
        assert_eq!(
            sexpr(&expr("a.b.c[0][\"x\"].['y z']")),
            "a.b.c[0][\"x\"].y z"
        );
        assert_eq!(sexpr(&expr("Subject[\"kind\"]")), "Subject[\"kind\"]");
        assert_eq!(sexpr(&expr("f(1, g(x))")), "f(1, g(x))");
        assert_eq!(sexpr(&expr("now()")), "now()");
    }

    #[test]
    fn comparisons_do_not_chain() {
        let diagnostic = error("print a == b == c");
        assert_eq!(diagnostic.code, Code::UnexpectedToken);
        assert_eq!(at(&diagnostic), (13, 15));
        for source in [
            "print a != b == c",
            "print a < b < c",
            "print a has b contains c",
            "print a =~ b has c",
            "print a == b in (c)",
            "print a in (b) in (c)",
            "print a between (1 .. 2) == b",
        ] {
            assert_eq!(error(source).code, Code::UnexpectedToken, "{source}");
        }
        assert_eq!(sexpr(&expr("(a == b) == c")), "(== (== a b) c)");
    }

    #[test]
    fn every_string_operator_parses() {
        let kinds = [
            ("contains", StringOpKind::Contains),
            ("has", StringOpKind::Has),
            ("hasprefix", StringOpKind::HasPrefix),
            ("hassuffix", StringOpKind::HasSuffix),
            ("startswith", StringOpKind::StartsWith),
            ("endswith", StringOpKind::EndsWith),
        ];
        for (base, kind) in kinds {
            for negated in [false, true] {
                for case_sensitive in [false, true] {
                    let spelling = format!(
                        "{}{base}{}",
                        if negated { "!" } else { "" },
                        if case_sensitive { "_cs" } else { "" }
                    );
                    let parsed = expr(&format!("a {spelling} \"x\""));
                    let expected = StringOp {
                        kind,
                        negated,
                        case_sensitive,
                    };
                    match parsed.kind {
                        ExprKind::Binary {
                            op: BinaryOp::Str(op),
                            ..
                        } => {
                            assert_eq!(op, expected, "{spelling}");
                            assert_eq!(op.spelling(), spelling);
                        }
                        other => panic!("{spelling}: {other:?}"),
                    }
                }
            }
        }
        assert_eq!(
            sexpr(&expr("a matches regex \"b.*k\"")),
            "(matches regex a \"b.*k\")"
        );
        // Legacy spellings Kusto still accepts.
        assert_eq!(sexpr(&expr("a containscs \"x\"")), "(contains_cs a \"x\")");
        assert_eq!(sexpr(&expr("a notcontains \"x\"")), "(!contains a \"x\")");
        assert_eq!(
            sexpr(&expr("a notcontainscs \"x\"")),
            "(!contains_cs a \"x\")"
        );
    }

    #[test]
    fn equality_operators_parse() {
        assert_eq!(sexpr(&expr("a == b")), "(== a b)");
        assert_eq!(sexpr(&expr("a != b")), "(!= a b)");
        assert_eq!(sexpr(&expr("a <> b")), "(!= a b)");
        assert_eq!(sexpr(&expr("a =~ b")), "(=~ a b)");
        assert_eq!(sexpr(&expr("a !~ b")), "(!~ a b)");
        assert_eq!(sexpr(&expr("a <= b")), "(<= a b)");
        assert_eq!(sexpr(&expr("a >= b")), "(>= a b)");
    }

    #[test]
    fn list_operators_take_a_parenthesized_list() {
        assert_eq!(sexpr(&expr("x in (\"a\", \"b\")")), "(in x [\"a\", \"b\"])");
        assert_eq!(sexpr(&expr("x !in (1)")), "(!in x [1])");
        assert_eq!(sexpr(&expr("x in~ (\"A\")")), "(in~ x [\"A\"])");
        assert_eq!(
            sexpr(&expr("x !in~ (\"A\", 'b')")),
            "(!in~ x [\"A\", \"b\"])"
        );
        assert_eq!(
            sexpr(&expr("x has_any (\"a\", \"b\")")),
            "(has_any x [\"a\", \"b\"])"
        );
        assert_eq!(sexpr(&expr("x has_all(\"a\")")), "(has_all x [\"a\"])");
        assert_eq!(sexpr(&expr("x + 1 in (2)")), "(in (+ x 1) [2])");
        assert_eq!(error("print x in 1").code, Code::UnexpectedToken);
        assert!(matches!(
            &expr("x in (T | take 1)").kind,
            ExprKind::List { items, .. } if matches!(items[..], [Expr { kind: ExprKind::Tabular(_), .. }])
        ));
        assert_unsupported(
            "print x in (CloudAuditEvents | take 1)",
            "a sub-query of `in` or `toscalar` that reads an input table",
        );
    }

    #[test]
    fn between_takes_a_range() {
        assert_eq!(sexpr(&expr("x between (1 .. 5)")), "(between x 1 5)");
        assert_eq!(sexpr(&expr("x between(1..5)")), "(between x 1 5)");
        assert_eq!(
            sexpr(&expr("x !between (a - 1 .. b)")),
            "(!between x (- a 1) b)"
        );
        assert_eq!(
            sexpr(&expr("x between (1.5 .. 2.5) and y")),
            "(and (between x 1.5 2.5) y)"
        );
        assert_eq!(error("print x between (1, 5)").code, Code::UnexpectedToken);
    }

    #[test]
    fn literals_of_every_form() {
        let day = lexer::DAY as i64;
        let cases = [
            ("true", Literal::Bool(true)),
            ("false", Literal::Bool(false)),
            ("TRUE", Literal::Bool(true)),
            ("5", Literal::Long(5)),
            ("0x1F", Literal::Long(31)),
            ("1.5", Literal::Real(1.5)),
            ("1e3", Literal::Real(1000.0)),
            ("int(5)", Literal::Int(5)),
            ("long(5)", Literal::Long(5)),
            ("long(-5)", Literal::Long(-5)),
            ("real(1.5)", Literal::Real(1.5)),
            ("real(+inf)", Literal::Real(f64::INFINITY)),
            ("real(-inf)", Literal::Real(f64::NEG_INFINITY)),
            ("bool(true)", Literal::Bool(true)),
            (
                "datetime(2024-05-28T10:00:00Z)",
                Literal::DateTime(19_871 * day + 10 * lexer::HOUR as i64),
            ),
            (
                "datetime(2024-05-28 10:00)",
                Literal::DateTime(19_871 * day + 10 * lexer::HOUR as i64),
            ),
            ("datetime(2024-05-28)", Literal::DateTime(19_871 * day)),
            ("date(2024-05-28)", Literal::DateTime(19_871 * day)),
            ("timespan(1d)", Literal::TimeSpan(day)),
            (
                "timespan(1.02:03:04.5)",
                Literal::TimeSpan(day + 73_845_000_000),
            ),
            ("time(00:01:00)", Literal::TimeSpan(lexer::MINUTE as i64)),
            ("1d", Literal::TimeSpan(day)),
            ("1.5h", Literal::TimeSpan(54_000_000_000)),
            ("30m", Literal::TimeSpan(18_000_000_000)),
            ("10s", Literal::TimeSpan(100_000_000)),
            ("100ms", Literal::TimeSpan(1_000_000)),
            (
                "guid(74be27de-1e4e-49d9-b579-fe0b331d3642)",
                Literal::Guid("74be27de-1e4e-49d9-b579-fe0b331d3642".to_string()),
            ),
            ("\"text\"", Literal::String("text".to_string())),
        ];
        for (source, expected) in cases {
            assert_eq!(literal(source), expected, "{source}");
        }
        assert!(matches!(literal("real(nan)"), Literal::Real(value) if value.is_nan()));
    }

    #[test]
    fn typed_nulls_of_every_type() {
        let cases = [
            ("long(null)", ScalarType::Long),
            ("int(null)", ScalarType::Int),
            ("real(null)", ScalarType::Real),
            ("bool(null)", ScalarType::Bool),
            ("guid(null)", ScalarType::Guid),
            ("timespan(null)", ScalarType::TimeSpan),
            ("datetime(null)", ScalarType::DateTime),
            ("dynamic(null)", ScalarType::Dynamic),
        ];
        for (source, scalar_type) in cases {
            assert_eq!(literal(source), Literal::Null(scalar_type), "{source}");
        }
    }

    #[test]
    fn dynamic_literals_hold_json_like_values() {
        let scalar = |literal: Literal| DynamicLiteral::Scalar(Box::new(literal));
        assert_eq!(
            literal(
                r#"dynamic({"a": [1, -2, 2.5, "x", null, true, 1d, datetime(1970-01-01), long(null)], "b": {}})"#
            ),
            Literal::Dynamic(DynamicLiteral::Bag(vec![
                (
                    "a".to_string(),
                    DynamicLiteral::Array(vec![
                        scalar(Literal::Long(1)),
                        scalar(Literal::Long(-2)),
                        scalar(Literal::Real(2.5)),
                        scalar(Literal::String("x".to_string())),
                        DynamicLiteral::Null,
                        scalar(Literal::Bool(true)),
                        scalar(Literal::TimeSpan(lexer::DAY as i64)),
                        scalar(Literal::DateTime(0)),
                        DynamicLiteral::Null,
                    ])
                ),
                ("b".to_string(), DynamicLiteral::Bag(vec![])),
            ]))
        );
        assert_eq!(
            literal("dynamic([])"),
            Literal::Dynamic(DynamicLiteral::Array(vec![]))
        );
        assert_eq!(
            literal("dynamic(-1)"),
            Literal::Dynamic(scalar(Literal::Long(-1)))
        );
        assert_eq!(
            literal("dynamic(\"a\")"),
            Literal::Dynamic(scalar(Literal::String("a".to_string())))
        );
        assert_eq!(error("print dynamic(x)").code, Code::UnexpectedToken);
        assert_eq!(error("print dynamic({a: 1})").code, Code::UnexpectedToken);
        assert_eq!(error("print dynamic([1,])").code, Code::UnexpectedToken);
    }

    #[test]
    fn string_escapes_verbatim_and_concatenation() {
        assert_eq!(
            literal(r#""a\"b\\c\n""#),
            Literal::String("a\"b\\c\n".to_string())
        );
        assert_eq!(literal(r#"'it\'s'"#), Literal::String("it's".to_string()));
        assert_eq!(
            literal(r#"@"C:\dir\""#),
            Literal::String("C:\\dir\\".to_string())
        );
        assert_eq!(
            literal(r#"@'say ''hi'''"#),
            Literal::String("say 'hi'".to_string())
        );
        assert_eq!(
            literal(r#""a" "b" 'c' @"d" h"e""#),
            Literal::String("abcde".to_string())
        );
        assert_eq!(
            literal("```multi\nline```"),
            Literal::String("multi\nline".to_string())
        );
    }

    #[test]
    fn comments_and_trailing_whitespace_are_ignored() {
        let query =
            parse("// leading comment\nT // after the table\n| where x == 1 // why\n  \n\t")
                .expect("parses");
        assert_eq!(query.statements.len(), 1);
        assert_eq!(
            operators("T | take 5   \n\n"),
            vec![OperatorKind::Take(expr("5"))]
        );
        assert_eq!(parse("").expect("empty query parses").statements, vec![]);
        assert_eq!(
            parse("// only a comment").expect("parses").statements,
            vec![]
        );
    }

    #[test]
    fn bracketed_names_are_names_and_bracketed_strings_after_an_expression_index_it() {
        assert_eq!(sexpr(&expr("['where'] + [\"x y\"]")), "(+ where x y)");
        match expr("x[\"kind\"]").kind {
            ExprKind::Index { index, .. } => {
                assert_eq!(
                    index.kind,
                    ExprKind::Literal(Literal::String("kind".to_string()))
                )
            }
            other => panic!("{other:?}"),
        }
        match expr("x.['kind']").kind {
            ExprKind::Member { name: member, .. } => assert_eq!(member, name("kind")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn summarize_sort_top_distinct_and_projections_parse_and_print_back() {
        for source in [
            "T | join (U) on x",
            "T | join kind=leftanti hint.strategy=shuffle (U | where y > 1) on $left.a == $right.b, c",
            "T | lookup kind=inner U on k",
            "T | parse Msg with * \"user=\" User \" id=\" Id: long *",
            "T | parse-where kind=relaxed Msg with \"a\" X: real",
            "union T, (U | take 1) | count",
            "T | union U, (datatable (a: long) [1])",
            "T | summarize count(), c = countif(x > 1), arg_max(t, *) by k, bin(t, 1h)",
            "T | summarize by k",
            "T | make-series kind=nonempty n = count() default = -1, avg(x) on t from 0 to 10 step 2 by k",
            "T | make-series hint.shufflekey=k max(x) on t step 1h",
            "T | make-series sum(x) on t in range(1, 5, 1)",
            "T | make-series sum(x) on bin(t, 1) to 5 step 1",
            "T | sort by a asc nulls last, b desc",
            "T | order by a",
            "T | top 3 by n asc nulls first",
            "T | distinct a, b",
            "T | distinct *",
            "T | project-keep a, b | project-reorder b",
        ] {
            let query = parse(source).unwrap_or_else(|d| panic!("{source}: {d}"));
            let printed = query.to_string();
            assert_eq!(
                parse(&printed).unwrap(),
                query,
                "{source} printed as {printed}"
            );
        }
        let ops = operators("T | top 3 by n");
        let OperatorKind::Top { by, .. } = &ops[0] else {
            panic!("not top: {ops:?}")
        };
        assert!(by.descending && !by.nulls_first());
    }

    #[test]
    fn tabular_operators_parse() {
        let ops = operators(
            "T | where a > 1 | filter b | extend c = a + 1, d | project e = c, a \
             | project-away x, ['y z'] | project-rename n1 = o1, n2 = o2 | take 5 | limit 6 | count",
        );
        assert_eq!(ops.len(), 9);
        assert!(matches!(ops[0], OperatorKind::Where(_)));
        assert!(matches!(ops[1], OperatorKind::Where(_)));
        match &ops[2] {
            OperatorKind::Extend(items) => {
                assert_eq!(items[0].name, Some(name("c")));
                assert_eq!(items[1].name, None);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(&ops[3], OperatorKind::Project(items) if items.len() == 2));
        assert_eq!(
            ops[4],
            OperatorKind::ProjectAway(vec![
                ast::ColumnPattern {
                    name: name("x"),
                    wildcard: false
                },
                ast::ColumnPattern {
                    name: name("y z"),
                    wildcard: false
                }
            ])
        );
        assert_eq!(
            ops[5],
            OperatorKind::ProjectRename(vec![(name("n1"), name("o1")), (name("n2"), name("o2"))])
        );
        assert_eq!(ops[6], OperatorKind::Take(expr("5")));
        assert_eq!(ops[7], OperatorKind::Take(expr("6")));
        assert_eq!(ops[8], OperatorKind::Count);
    }

    #[test]
    fn mv_expand_with_names_types_and_limit() {
        let ops = operators(
            "T | mv-expand Subject = RawEventData.RequestObject.subjects | mvexpand a, b = c to typeof(long) limit 5 \
             | mv-expand kind=bag x | mv-expand bagexpansion = bag y",
        );
        assert_eq!(
            ops[0],
            OperatorKind::MvExpand(MvExpand {
                items: vec![MvExpandItem {
                    name: Some(name("Subject")),
                    expr: expr("RawEventData.RequestObject.subjects"),
                    to_type: None,
                }],
                limit: None,
                item_index: None,
                bag_as_array: false,
            })
        );
        assert_eq!(
            ops[1],
            OperatorKind::MvExpand(MvExpand {
                items: vec![
                    MvExpandItem {
                        name: None,
                        expr: expr("a"),
                        to_type: None
                    },
                    MvExpandItem {
                        name: Some(name("b")),
                        expr: expr("c"),
                        to_type: Some(ScalarType::Long)
                    },
                ],
                limit: Some(expr("5")),
                item_index: None,
                bag_as_array: false,
            })
        );
        assert_eq!(ops.len(), 4);
        let OperatorKind::MvExpand(expand) =
            &operators("T | mv-expand kind=array with_itemindex=i x")[0]
        else {
            panic!("not mv-expand")
        };
        assert!(expand.bag_as_array);
        assert_eq!(expand.item_index, Some(name("i")));
    }

    #[test]
    fn let_statements_are_scalar_or_tabular() {
        let query = parse("let x = 5; let T = print a = 1; let U = T | where a > x; let V = T; U")
            .expect("parses");
        assert_eq!(query.statements.len(), 5);
        let values: Vec<&LetValue> = query.statements[..4]
            .iter()
            .map(|statement| match statement {
                Statement::Let(binding) => &binding.value,
                other => panic!("{other:?}"),
            })
            .collect();
        assert!(matches!(values[0], LetValue::Scalar(_)));
        assert!(matches!(values[1], LetValue::Tabular(_)));
        assert!(matches!(values[2], LetValue::Tabular(_)));
        assert!(matches!(
            values[3],
            LetValue::Scalar(Expr {
                kind: ExprKind::Name(_),
                ..
            })
        ));
        // A pipe inside parentheses does not make the value tabular.
        assert!(parse("let x = datatable (a: long) [1, 2, ]; x").is_ok());
        assert!(parse("let x = 1;").is_ok());
        assert_eq!(error("let x = 1;; print x").code, Code::UnexpectedToken);
        assert!(matches!(
            parse("let f = (a: long) { a + 1 }; print x = f(1)")
                .expect("parses")
                .statements[0],
            Statement::Let(Let {
                value: LetValue::Function(_),
                ..
            })
        ));
        let function = |source: &str| match parse(source).expect("parses").statements.remove(0) {
            Statement::Let(Let {
                value: LetValue::Function(function),
                ..
            }) => function,
            other => panic!("{source}: not a function: {other:?}"),
        };
        let f = function("let f = (a: long) { print y = a }; f(1)");
        assert!(matches!(f.body, ast::FunctionBody::Tabular(_)));
        let f = function("let f = (T: (x: long), n: long = 3) { let m = n * 2; T | take m }; f(U)");
        assert_eq!(f.lets.len(), 1);
        assert!(matches!(f.params[0].kind, ast::ParamKind::Tabular(Some(_))));
        assert!(matches!(
            f.params[1].kind,
            ast::ParamKind::Scalar {
                default: Some(_),
                ..
            }
        ));
        let f = function("let f = view () { T }; f()");
        assert!(matches!(f.body, ast::FunctionBody::Scalar(_)));
        // A piped argument needs parentheses, as in Kusto.
        let schema = crate::sema::Schema::builtin();
        assert!(crate::compile("let f = (T: (*)) { T }; f(U | take 1)", &schema).is_err());
        assert!(parse("let f = (T: (*)) { T }; f((U | take 1))").is_ok());
        assert!(matches!(
            parse("let T = (externaldata(a: string) [@\"x\"] | where a != \"\"); T")
                .expect("parses")
                .statements[0],
            Statement::Let(Let {
                value: LetValue::Tabular(_),
                ..
            })
        ));
        assert!(matches!(
            parse("let T = (U | take 1); T").expect("parses").statements[0],
            Statement::Let(Let {
                value: LetValue::Tabular(_),
                ..
            })
        ));
        assert!(matches!(
            parse("let x = (1 + f(2)); print x")
                .expect("parses")
                .statements[0],
            Statement::Let(Let {
                value: LetValue::Scalar(_),
                ..
            })
        ));
    }

    #[test]
    fn datatable_and_print_sources() {
        let query =
            parse("datatable (a: long, ['b c']: dynamic) [1, dynamic([1]), 2, dynamic(null)]")
                .expect("parses");
        match &query.statements[0] {
            Statement::Tabular(TabularExpr {
                source: Source::Datatable(table),
                ..
            }) => {
                assert_eq!(
                    table.columns,
                    vec![
                        (name("a"), ScalarType::Long),
                        (name("b c"), ScalarType::Dynamic)
                    ]
                );
                assert_eq!(table.values.len(), 4);
            }
            other => panic!("{other:?}"),
        }
        assert!(parse("print x = 1, 2, y = \"a\"").is_ok());
        assert_eq!(error("print").code, Code::UnexpectedToken);
    }

    #[test]
    fn unsupported_operators_parse_and_the_checker_locates_them() {
        let diagnostic = assert_unsupported(
            "CloudAuditEvents | evaluate bag_unpack(x)",
            "operator 'evaluate' is not supported yet",
        );
        assert_eq!(diagnostic.primary.span.start, 19);
        let diagnostic = assert_unsupported(
            "CloudAuditEvents\n| parse-kv Message as (a: string) with (pair_delimiter=',')",
            "operator 'parse-kv' is not supported yet",
        );
        assert_eq!(diagnostic.primary.span.start, 19);
        for (source, what) in [
            (
                "CloudAuditEvents | sample-distinct 10 of OperationName",
                "operator 'sample-distinct'",
            ),
            ("set x = 1; CloudAuditEvents", "the 'set' statement"),
            (
                "CloudAuditEvents | extend (a, b) = strlen(City)",
                "assigning several names",
            ),
            (
                "print x = toscalar(CloudAuditEvents | count)",
                "a sub-query of `in` or `toscalar` that reads an input table",
            ),
            (
                "print x = strlen(CloudAuditEvents | count)",
                "'strlen' of a tabular expression",
            ),
        ] {
            assert_unsupported(source, what);
        }
        // Still syntax errors, not opaque.
        for (source, what) in [
            (
                "CloudAuditEvents | where * !has \"x\"",
                "negated test of every column",
            ),
            (
                "print x = 1 | union kind=left (print y = 1)",
                "union option 'kind=left'",
            ),
            (
                "CloudAuditEvents | project-reorder City granny-asc",
                "granny-asc",
            ),
        ] {
            assert_unsupported(source, what);
        }
        assert_unsupported("db.T | take 1", "a qualified table name");
    }

    /// Asserts that `source` parses, and that checking it reports an
    /// unsupported construct whose message contains `what`.
    fn assert_unsupported(source: &str, what: &str) -> Diagnostic {
        parse(source).unwrap_or_else(|d| panic!("{source} should parse: {d}"));
        let diagnostics =
            crate::compile(source, &crate::sema::Schema::builtin()).expect_err(source);
        diagnostics
            .into_iter()
            .find(|d| d.code == Code::Unsupported && d.message.contains(what))
            .unwrap_or_else(|| panic!("{source}: no unsupported-construct error mentioning {what}"))
    }

    #[test]
    fn unknown_operators_suggest_a_known_one() {
        let diagnostic = error("T | wher x");
        assert_eq!(diagnostic.code, Code::UnexpectedToken);
        assert_eq!(at(&diagnostic), (4, 8));
        assert_eq!(diagnostic.help.as_deref(), Some("did you mean `where`?"));
        // A space splits a hyphenated name.
        assert_eq!(error("T | mv - expand x").code, Code::UnexpectedToken);
    }

    #[test]
    fn unbalanced_delimiters_point_at_the_culprit() {
        let diagnostic = error("T | where (a == 1");
        assert_eq!(diagnostic.code, Code::UnbalancedDelimiter);
        assert_eq!(at(&diagnostic), (10, 11));
        assert_eq!(diagnostic.primary.message, "unclosed delimiter");
        let diagnostic = error("T | where a == 1)");
        assert_eq!(diagnostic.code, Code::UnbalancedDelimiter);
        assert_eq!(at(&diagnostic), (16, 17));
        let diagnostic = error("print f(x]");
        assert_eq!(diagnostic.code, Code::UnbalancedDelimiter);
        assert_eq!(at(&diagnostic), (9, 10));
        assert_eq!(diagnostic.secondary[0].span.start, 7);
        assert_eq!(
            error("print dynamic({\"a\": [1}").code,
            Code::UnbalancedDelimiter
        );
    }

    #[test]
    fn unterminated_string_is_reported_at_its_quote() {
        let diagnostic = error("T | where a == \"abc");
        assert_eq!(diagnostic.code, Code::UnterminatedString);
        assert_eq!(at(&diagnostic), (15, 19));
    }

    #[test]
    fn bad_literals_are_invalid() {
        // Kusto's grammar takes any content in a typed literal, so these
        // parse; the checker refuses them, located.
        for (source, at_span) in [
            ("print datetime(2024-13-45)", (6, 26)),
            ("print int(3000000000)", (6, 21)),
            ("print timespan(zz)", (6, 18)),
            ("print guid(nope)", (6, 16)),
            ("print bool(maybe)", (6, 17)),
        ] {
            let query = parse(source).unwrap_or_else(|d| panic!("{source}: {d}"));
            assert_eq!(query.to_string(), source);
            let diagnostics =
                crate::compile(source, &crate::sema::Schema::builtin()).expect_err(source);
            assert_eq!(diagnostics[0].code, Code::InvalidLiteral, "{source}");
            assert_eq!(at(&diagnostics[0]), at_span, "{source}");
        }
        for source in ["print 1zz", "print 99999999999999999999"] {
            assert_eq!(error(source).code, Code::InvalidLiteral, "{source}");
        }
    }

    #[test]
    fn unexpected_tokens_say_what_was_expected() {
        let diagnostic = error("T | where");
        assert_eq!(diagnostic.code, Code::UnexpectedToken);
        assert_eq!(
            diagnostic.message,
            "expected an expression, found end of input"
        );
        assert_eq!(at(&diagnostic), (9, 9));
        let diagnostic = error("T | where a b");
        assert_eq!(
            diagnostic.message,
            "expected `|`, `;` or end of input, found `b`"
        );
        assert_eq!(at(&diagnostic), (12, 13));
        let diagnostic = error("T | where !isnull(a)");
        assert_eq!(diagnostic.message, "expected an expression, found `!`");
        assert!(diagnostic.help.is_some());
        assert_eq!(error("T | extend x = and").code, Code::UnexpectedToken);
        // Type names and some keywords are names only when bracketed, as in Kusto.
        for source in [
            "print x = long",
            "datatable | take 1",
            "print x.string",
            "print to",
            "print x = dynamic",
        ] {
            assert_eq!(error(source).code, Code::UnexpectedToken, "{source}");
        }
        assert!(parse(
            "print x = ['long'] + bool + guid + typeof + kind, y = z.kind, ['long'] = 1"
        )
        .is_ok());
        assert_eq!(error("| where x").code, Code::UnexpectedToken);
        assert_eq!(
            error("where x > 1").help.as_deref(),
            Some("tabular operators come after a `|`, as in `TableName | where ...`")
        );
        assert_eq!(error("T | project a, ").code, Code::UnexpectedToken);
        assert_eq!(error("print a.").code, Code::UnexpectedToken);
    }

    #[test]
    fn nesting_too_deep_is_an_error_not_a_stack_overflow() {
        let open = "(".repeat(10_000);
        let diagnostic = error(&format!("print {open}"));
        assert_eq!(diagnostic.code, Code::NestingTooDeep);
        assert_eq!(at(&diagnostic), (6 + MAX_DEPTH, 7 + MAX_DEPTH));

        let balanced = format!("print {}1{}", "(".repeat(10_000), ")".repeat(10_000));
        assert_eq!(error(&balanced).code, Code::NestingTooDeep);
        let unary = format!("print {}1", "-".repeat(10_000));
        assert_eq!(error(&unary).code, Code::NestingTooDeep);
        let members = format!("print a{}", ".b".repeat(10_000));
        assert_eq!(error(&members).code, Code::NestingTooDeep);
        let calls = format!("print {}1{}", "f(".repeat(10_000), ")".repeat(10_000));
        assert_eq!(error(&calls).code, Code::NestingTooDeep);
        let arrays = format!(
            "print dynamic({}{})",
            "[".repeat(10_000),
            "]".repeat(10_000)
        );
        assert_eq!(error(&arrays).code, Code::NestingTooDeep);
    }

    #[test]
    fn a_long_flat_arithmetic_chain_is_one_node_in_order_not_nesting() {
        let terms: String = (0..10_000)
            .map(|i| if i % 2 == 0 { " + 2.5" } else { " - x" })
            .collect();
        let chain = expr(&format!("1{terms}"));
        let ExprKind::Chain { first, rest } = &chain.kind else {
            panic!("not a chain: {chain:?}");
        };
        assert!(matches!(first.kind, ExprKind::Literal(Literal::Long(1))));
        assert_eq!(rest.len(), 10_000);
        assert_eq!((rest[0].0, rest[1].0), (BinaryOp::Add, BinaryOp::Sub));
        // Printed flat, and parsed back to the same tree.
        assert_eq!(expr(&chain.to_string()), chain);
        // A short chain keeps the nested form.
        assert!(matches!(
            expr(&format!("1{}", " + 1".repeat(FLAT_LOGIC_CHAIN))).kind,
            ExprKind::Binary { .. }
        ));
        // Two long runs of different levels around a comparison: each its
        // own chain, precedence kept.
        let compared = expr(&format!(
            "1{} > 2{}",
            " * 3".repeat(100),
            " - 4 / 5".repeat(100)
        ));
        let ExprKind::Binary {
            op: BinaryOp::Gt,
            lhs,
            rhs,
        } = &compared.kind
        else {
            panic!("{compared:?}");
        };
        assert!(matches!(&lhs.kind, ExprKind::Chain { rest, .. } if rest.len() == 100));
        let ExprKind::Chain { rest, .. } = &rhs.kind else {
            panic!("{rhs:?}");
        };
        assert_eq!(rest.len(), 100);
        assert!(matches!(
            rest[0].1.kind,
            ExprKind::Binary {
                op: BinaryOp::Div,
                ..
            }
        ));
        // A long chain after a parenthesized one keeps it as its first operand.
        let inner = format!("(1{})", " + 1".repeat(40));
        let outer = expr(&format!("{inner}{}", " - 2".repeat(40)));
        let ExprKind::Chain { first, rest } = &outer.kind else {
            panic!("{outer:?}");
        };
        assert!(matches!(&first.kind, ExprKind::Chain { rest, .. } if rest.len() == 40));
        assert!(rest.iter().all(|(op, _)| *op == BinaryOp::Sub));
    }

    #[test]
    fn nesting_up_to_the_limit_is_fine() {
        // Just under the limit, in a debug build on a test thread's 2 MiB
        // stack: the limit must trip before the stack would.
        let depth = MAX_DEPTH - 2;
        assert!(parse(&format!(
            "print {}1{}",
            "(".repeat(depth),
            ")".repeat(depth)
        ))
        .is_ok());
        assert!(parse(&format!(
            "print {}1{}",
            "f(".repeat(depth),
            ")".repeat(depth)
        ))
        .is_ok());
        assert!(parse(&format!("print {}1", "-".repeat(depth))).is_ok());
        assert!(parse(&format!("print x{}", " or x".repeat(depth))).is_ok());
        assert!(parse(&format!(
            "print dynamic({}{})",
            "[".repeat(depth),
            "]".repeat(depth)
        ))
        .is_ok());
        assert!(parse(&format!(
            "print {}1{}",
            "(-".repeat(depth / 2),
            ")".repeat(depth / 2)
        ))
        .is_ok());
        assert!(parse(&format!("print a{}", "[0]".repeat(depth / 2))).is_ok());
        assert!(parse(&format!(
            "print {}1{}",
            "x[".repeat(depth / 2),
            "]".repeat(depth / 2)
        ))
        .is_ok());
    }

    /// The reference queries, read from the shared folder, or `None` (with a
    /// message) when it is missing.
    pub(crate) fn seed_queries() -> Option<Vec<(String, String)>> {
        let folder =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/seed-queries");
        let Ok(entries) = std::fs::read_dir(&folder) else {
            assert!(
                std::env::var_os("CI").is_none(),
                "no seed queries at {} and CI is set",
                folder.display()
            );
            eprintln!("skipping: no seed queries at {}", folder.display());
            return None;
        };
        let mut queries: Vec<(String, String)> = entries
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "kql"))
            .filter_map(|path| {
                let text = std::fs::read_to_string(&path).ok()?;
                Some((path.display().to_string(), text))
            })
            .collect();
        queries.sort();
        Some(queries)
    }

    #[test]
    fn seed_queries_parse_unmodified() {
        let Some(queries) = seed_queries() else {
            return;
        };
        assert!(!queries.is_empty());
        for (path, text) in queries {
            let query = parse(&text)
                .unwrap_or_else(|d| panic!("{path}: {}", d.render(&path, &text, false)));
            assert_eq!(query.statements.len(), 1, "{path}");
        }
    }

    /// A tiny deterministic PRNG (xorshift64*), so the property test needs no
    /// new dependency and fails the same way every run.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n.max(1) as u64) as usize
        }
    }

    /// Fragments that tend to reach unusual lexer and parser paths.
    const FRAGMENTS: &[&str] = &[
        "(",
        ")",
        "[",
        "]",
        "{",
        "}",
        "\"",
        "'",
        "@\"",
        "```",
        "~~~",
        "|",
        "!",
        "!in~",
        "..",
        ".",
        "datetime(",
        "dynamic(",
        "timespan(",
        "long(",
        "real(",
        "guid(",
        "int(",
        "1e",
        "0x",
        "\\",
        "//",
        "\n",
        "1d",
        "1.5h",
        " and ",
        " or ",
        " in (",
        " between (",
        " matches regex ",
        "h'",
        "ä",
        "€",
        "\u{1F600}",
        "-",
        "+",
        "*",
        "=",
        "==",
        "=~",
        ";",
        ",",
        "let x = ",
        "print ",
        "| mv-expand ",
        "| project-away ",
        "['x']",
        "99999999999999999999",
        "\u{0}",
        "\r",
    ];

    #[test]
    fn mutated_inputs_never_panic_and_what_parses_round_trips() {
        let mut seeds: Vec<String> = seed_queries()
            .unwrap_or_default()
            .into_iter()
            .map(|(_, text)| text)
            .collect();
        seeds.push(
            "let x = 5; datatable (a: long, b: string) [1, \"x\"] | where a in (1, 2) and b !has 'y' \
             | extend c = dynamic({\"k\": [1, 2.5, null]}), d = datetime(2024-05-28 10:00) + 1h \
             | mv-expand c to typeof(long) limit 2 | project-rename e = c | take 3"
                .to_string(),
        );
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let mut parsed = 0;
        for round in 0..4000 {
            let seed = &seeds[round % seeds.len()];
            let mut bytes = seed.as_bytes().to_vec();
            for _ in 0..1 + rng.below(4) {
                let at = rng.below(bytes.len() + 1);
                match rng.below(5) {
                    0 => bytes.truncate(at),
                    1 if at < bytes.len() => {
                        bytes.remove(at);
                    }
                    2 if at < bytes.len() => bytes[at] = (rng.next() & 0xFF) as u8,
                    _ => {
                        let fragment = FRAGMENTS[rng.below(FRAGMENTS.len())];
                        bytes.splice(at..at, fragment.bytes());
                    }
                }
            }
            let text = String::from_utf8_lossy(&bytes).into_owned();
            if let Ok(query) = parse(&text) {
                parsed += 1;
                let printed = query.to_string();
                let reparsed = parse(&printed).unwrap_or_else(|d| {
                    panic!("printed query does not parse: {d}\ninput: {text:?}\nprinted: {printed}")
                });
                if printed.contains("nan") {
                    // NaN is not equal to itself; compare the text instead.
                    assert_eq!(reparsed.to_string(), printed, "input: {text:?}");
                } else {
                    assert_eq!(reparsed, query, "input: {text:?}\nprinted: {printed}");
                }
            }
        }
        // Enough mutations keep the query valid for the round trip to be tested.
        assert!(parsed > 100, "only {parsed} mutated inputs parsed");
    }
}
