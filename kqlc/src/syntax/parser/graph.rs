//! The graph operators (`make-graph`, `graph-match`,
//! `graph-shortest-paths`, `graph-to-table`, `graph-mark-components`),
//! after their names, and the pattern notation of `graph-match`.

use super::Parser;
use crate::diag::{Code, Diagnostic};
use crate::syntax::ast::{self, Ident, OperatorKind, Span};
use crate::syntax::lexer::{PResult, TokenKind};
use crate::types::EdgeDirection;

impl Parser {
    /// `SOURCE --> TARGET [with T on ID [, T on ID] | with_node_id=NAME]`.
    pub(super) fn parse_make_graph(&mut self) -> PResult<OperatorKind> {
        let source = self.parse_name("the source node id column")?;
        if !(self.at(&TokenKind::Minus)
            && *self.kind_at(1) == TokenKind::Minus
            && *self.kind_at(2) == TokenKind::Gt)
        {
            return Err(self.unexpected("`-->`").into());
        }
        for _ in 0..3 {
            self.advance();
        }
        let target = self.parse_name("the target node id column")?;
        let mut graph = ast::MakeGraph {
            source,
            target,
            nodes: Vec::new(),
            node_id: None,
            partitioned_by: None,
        };
        if self.at_word("with_node_id") && *self.kind_at(1) == TokenKind::Assign {
            self.advance();
            self.advance();
            graph.node_id = Some(self.parse_name("a property name")?);
        } else if self.at_word("with") {
            self.advance();
            loop {
                let table = self.parse_tabular_operand()?;
                self.expect_word("on")?;
                let id = self.parse_name("the node id column")?;
                graph.nodes.push((table, id));
                if self.eat(&TokenKind::Comma).is_none() {
                    break;
                }
            }
        }
        if self.at_word("partitioned")
            && *self.kind_at(1) == TokenKind::Minus
            && self.word_at(2) == Some("by")
        {
            for _ in 0..3 {
                self.advance();
            }
            let column = self.parse_name("the partition column")?;
            self.expect(&TokenKind::LParen, "`(` and the graph operators")?;
            let mut operators = vec![self.parse_operator()?];
            while self.eat(&TokenKind::Pipe).is_some() {
                operators.push(self.parse_operator()?);
            }
            self.expect(&TokenKind::RParen, "`|` or `)`")?;
            graph.partitioned_by = Some((column, operators));
        }
        Ok(OperatorKind::MakeGraph(Box::new(graph)))
    }

    /// `[cycles=C | output=O] PATTERN [where PREDICATE] project ...` of
    /// `graph-match` (`shortest` false) and `graph-shortest-paths`.
    pub(super) fn parse_graph_match(&mut self, shortest: bool) -> PResult<OperatorKind> {
        let option = if shortest { "output" } else { "cycles" };
        let mut cycles = None;
        let mut all = false;
        if self.at_word(option) && *self.kind_at(1) == TokenKind::Assign {
            self.advance();
            self.advance();
            let value = self.parse_name(&format!("the `{option}` value"))?;
            if shortest {
                all = match value.name.as_str() {
                    "any" => false,
                    "all" => true,
                    _ => {
                        return Err(Diagnostic::new(
                            Code::UnexpectedToken,
                            format!("unknown output '{}'", value.name),
                            value.span,
                        )
                        .with_label("expected `any` or `all`")
                        .into())
                    }
                };
            } else {
                cycles = Some(value);
            }
        }
        let mut pattern = vec![self.parse_pattern_sequence()?];
        while self.eat(&TokenKind::Comma).is_some() {
            pattern.push(self.parse_pattern_sequence()?);
        }
        let predicate = if self.at_word("where") {
            self.advance();
            Some(self.parse_expr()?)
        } else {
            None
        };
        self.expect_word("project")?;
        let project = self.parse_named_list()?;
        Ok(OperatorKind::GraphMatch(Box::new(ast::GraphMatch {
            shortest: shortest.then_some(all),
            cycles,
            pattern,
            predicate,
            project,
        })))
    }

    /// `(a)-[e]->(b)<--(c)...`.
    fn parse_pattern_sequence(&mut self) -> PResult<ast::PatternSequence> {
        let first = self.parse_pattern_node()?;
        let mut steps = Vec::new();
        while matches!(self.kind_at(0), TokenKind::Minus | TokenKind::Lt) {
            let edge = self.parse_pattern_edge()?;
            steps.push((edge, self.parse_pattern_node()?));
        }
        if steps.is_empty() {
            return Err(self
                .unexpected("an edge (`-->`, `<--`, `--`, `-[e]->`)")
                .into());
        }
        Ok(ast::PatternSequence { first, steps })
    }

    /// `(NAME)` or `()`.
    fn parse_pattern_node(&mut self) -> PResult<ast::PatternNode> {
        let open = self.expect(&TokenKind::LParen, "`(` and a node")?;
        let name = if self.at(&TokenKind::RParen) {
            None
        } else {
            Some(self.parse_name("a node variable or `)`")?)
        };
        let close = self.expect(&TokenKind::RParen, "`)`")?;
        Ok(ast::PatternNode {
            name,
            span: open.to(close),
        })
    }

    /// `-->`, `<--`, `--`, or their bracketed forms `-[e*1..3]->`.
    fn parse_pattern_edge(&mut self) -> PResult<ast::PatternEdge> {
        let start = self.peek().span;
        let backward = self.eat(&TokenKind::Lt).is_some();
        self.expect(&TokenKind::Minus, "`-`")?;
        let mut name = None;
        let mut range = None;
        if self.eat(&TokenKind::LBracket).is_some() {
            if self.starts_name(0) {
                name = Some(self.parse_name("an edge variable")?);
            }
            if self.eat(&TokenKind::Star).is_some() {
                let min = self.pattern_bound()?;
                self.expect(&TokenKind::DotDot, "`..`")?;
                let max = self.pattern_bound()?;
                range = Some((min, max));
            }
            self.expect(&TokenKind::RBracket, "`]`")?;
        }
        self.expect(&TokenKind::Minus, "`-`")?;
        let forward =
            !backward && *self.kind_at(0) == TokenKind::Gt && self.eat(&TokenKind::Gt).is_some();
        let direction = match (backward, forward) {
            (true, _) => EdgeDirection::Backward,
            (false, true) => EdgeDirection::Forward,
            (false, false) => EdgeDirection::Any,
        };
        Ok(ast::PatternEdge {
            name,
            direction,
            range,
            span: start.to(Span::new(self.last_end, self.last_end)),
        })
    }

    /// A bound of `*MIN..MAX`: an integer literal.
    fn pattern_bound(&mut self) -> PResult<u32> {
        match self.kind_at(0) {
            TokenKind::Long(n) if u32::try_from(*n).is_ok() => {
                let n = *n as u32;
                self.advance();
                Ok(n)
            }
            _ => Err(self.unexpected("a non-negative integer").into()),
        }
    }

    /// `nodes [with_node_id=C] [as N]` or `edges [with_source_id=C]
    /// [with_target_id=C] [as N]`, or both tables (`nodes ..., edges ...`),
    /// which the checker refuses.
    pub(super) fn parse_graph_to_table(&mut self) -> PResult<OperatorKind> {
        let kind = self.parse_name("`nodes` or `edges`")?;
        let edges = match kind.name.as_str() {
            "nodes" => false,
            "edges" => true,
            _ => {
                return Err(Diagnostic::new(
                    Code::UnexpectedToken,
                    format!("expected `nodes` or `edges`, found `{}`", kind.name),
                    kind.span,
                )
                .with_label("expected `nodes` or `edges`")
                .into())
            }
        };
        let mut table = self.parse_graph_table_options(edges)?;
        if !edges && self.at(&TokenKind::Comma) {
            let comma = self.peek().span;
            self.advance();
            let kind = self.parse_name("`edges`")?;
            if kind.name != "edges" {
                return Err(Diagnostic::new(
                    Code::UnexpectedToken,
                    format!("expected `edges`, found `{}`", kind.name),
                    kind.span,
                )
                .with_label("expected `edges` after the nodes table")
                .into());
            }
            let edges_table = self.parse_graph_table_options(true)?;
            table.and_edges = Some((Box::new(edges_table), comma));
        }
        Ok(OperatorKind::GraphToTable(table))
    }

    /// The options of one `graph-to-table` table: `with_node_id=C`
    /// (nodes), `with_source_id=C`, `with_target_id=C` (edges), `as N`.
    fn parse_graph_table_options(&mut self, edges: bool) -> PResult<ast::GraphToTable> {
        let mut table = ast::GraphToTable {
            edges,
            first_id: None,
            target_id: None,
            name: None,
            and_edges: None,
        };
        loop {
            let option =
                |p: &Parser, word: &str| p.at_word(word) && *p.kind_at(1) == TokenKind::Assign;
            if option(self, "with_node_id") && !edges || option(self, "with_source_id") && edges {
                self.advance();
                self.advance();
                table.first_id = Some(self.parse_name("a column name")?);
            } else if option(self, "with_target_id") && edges {
                self.advance();
                self.advance();
                table.target_id = Some(self.parse_name("a column name")?);
            } else if self.at_word("as") {
                self.advance();
                table.name = Some(self.parse_name("a table name")?);
            } else {
                break;
            }
        }
        Ok(table)
    }

    /// `[kind=weak|strong] [with_component_id=NAME]`.
    pub(super) fn parse_graph_mark_components(&mut self) -> PResult<OperatorKind> {
        let mut strong = false;
        let mut property: Option<Ident> = None;
        loop {
            if self.at_word("kind") && *self.kind_at(1) == TokenKind::Assign {
                self.advance();
                self.advance();
                let kind = self.parse_name("`weak` or `strong`")?;
                strong = match kind.name.as_str() {
                    "weak" => false,
                    "strong" => true,
                    _ => {
                        return Err(Diagnostic::new(
                            Code::UnexpectedToken,
                            format!("unknown component kind '{}'", kind.name),
                            kind.span,
                        )
                        .with_label("expected `weak` or `strong`")
                        .into())
                    }
                };
            } else if self.at_word("with_component_id") && *self.kind_at(1) == TokenKind::Assign {
                self.advance();
                self.advance();
                property = Some(self.parse_name("a property name")?);
            } else {
                break;
            }
        }
        Ok(OperatorKind::GraphMarkComponents { strong, property })
    }
}
