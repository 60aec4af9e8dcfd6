//! Scalar expressions: a Pratt loop over binary operators whose
//! precedence lives in one table ([`precedence`]), unary and postfix forms,
//! primaries (names, calls, parenthesized and tabular operands), and the
//! rebalancing of long flat `and`/`or`/arithmetic chains.

use super::{is_keyword_not_name, Parser};
use crate::diag::{Code, Diagnostic};
use crate::syntax::ast::{
    BinaryOp, Expr, ExprKind, Ident, ListOp, Span, StringOp, StringOpKind, UnaryOp, Unimplemented,
};
use crate::syntax::lexer::{Keyword, PResult, TokenKind};

/// How many `and`/`or` operators of one chain keep the left-leaning shape
/// (and count as nesting); a longer chain is rebalanced.
pub(super) const FLAT_LOGIC_CHAIN: usize = 32;

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

impl Parser {
    /// A scalar expression.
    pub(super) fn parse_expr(&mut self) -> PResult<Expr> {
        self.parse_binary(Precedence::Lowest)
    }

    /// The Pratt loop: an operand, then infix operators binding at least as
    /// strongly as `min`.
    ///
    /// This and the other functions on the recursive path keep their stack
    /// frames small: the work that does not recurse through them (applying
    /// an operator, reading `.name`, building errors and literals) lives in
    /// helper functions, so that [`MAX_DEPTH`](super::MAX_DEPTH) levels fit in a test thread's
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
                        binds: Vec::new(),
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
    pub(super) fn expect_closing_paren(&mut self) -> PResult<Span> {
        if self.at(&TokenKind::Pipe) {
            return Err(self.tabular_argument_unsupported().into());
        }
        self.expect(&TokenKind::RParen, "`,` or `)`")
    }

    /// A name, or a call when `(` follows it.
    /// `COL: VALUE` in a `search` predicate, after the name: `COL has
    /// VALUE` (search-operator.md).
    #[inline(never)]
    fn parse_search_column_term(&mut self, column: Ident) -> PResult<Expr> {
        self.advance(); // `:`
        let value = self.parse_unary()?;
        let span = column.span.to(value.span);
        let column_span = column.span;
        Ok(Expr {
            kind: ExprKind::Binary {
                op: BinaryOp::Str(StringOp {
                    kind: StringOpKind::Has,
                    negated: false,
                    case_sensitive: false,
                }),
                lhs: Box::new(Expr {
                    kind: ExprKind::Name(column),
                    span: column_span,
                }),
                rhs: Box::new(value),
            },
            span,
        })
    }

    fn parse_name_or_call(&mut self) -> PResult<Expr> {
        let name = self.parse_name("an expression")?;
        if self.search_predicate && self.at(&TokenKind::Colon) {
            return self.parse_search_column_term(name);
        }
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
                kind: ExprKind::Unimplemented(Unimplemented {
                    what,
                    text,
                    span,
                    binds: Vec::new(),
                }),
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
    pub(super) fn parse_named_argument(&mut self) -> PResult<Expr> {
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
