//! The literal prefilter: skip input lines that cannot match, before
//! parsing them.
//!
//! The compiler derives, from a rule's leading `where` clauses, byte strings
//! that every line producing a result must contain, combined by the
//! clauses' `and`/`or` structure ([`Prefilter`]). A detector scans each line
//! once for the needles of all its rules ([`PrefilterSet`], one
//! Aho-Corasick automaton) and parses the line only for the rules whose
//! formula can be true.
//!
//! Exactness: a needle counts as present not only when its bytes occur, but
//! also whenever the line could spell it in a way a byte search misses — a
//! JSON `\u` escape anywhere in the line, `\/` when the needle has a `/`, and,
//! for case-insensitive needles, any non-ASCII byte (Unicode case folding
//! can map non-ASCII letters to ASCII ones, such as the Kelvin sign to `k`).
//! The compiler only emits needles free of JSON structure and number
//! spellings (see `kqlc::plan::prefilter`).
//!
//! Native formats. The compiler's needles hold for lines shaped as rows of
//! the rule's table, whose columns hold the values verbatim. A native event
//! (`k8s`, `eks`, `aks`) is normalized into such a row, so a needle holds
//! in its text only when it comes from a column the normalizer copies from
//! a native string (`OperationName` from `verb`), or from a *member* of
//! `RawEventData` (whose top-level keys are renamed, but whose members'
//! values are the event's own). [`PrefilterSet::for_format`] keeps, per
//! rule, only needles that are known to hold in the native text (see
//! [`native_formula`]).

use crate::formats::tables::DerivedTable;
use crate::formats::{self, InputFormat};
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
pub use kql_runtime::prefilter::Prefilter;
use kql_runtime::query::{Access, ColumnType, Table};

/// A prefilter formula owned by the detector: a rule's [`Prefilter`], or
/// the part of it that holds for a native format ([`native_formula`]).
#[derive(Clone, Debug, PartialEq)]
pub enum Formula {
    /// Every line may match.
    Always,
    /// The line contains this text (ASCII-case-insensitively when the flag
    /// is set).
    Needle(&'static str, bool),
    /// Every condition holds.
    All(Vec<Formula>),
    /// Some condition holds.
    Any(Vec<Formula>),
}

impl Formula {
    /// The formula of a rule's prefilter, as it is.
    pub fn of(filter: &'static Prefilter) -> Formula {
        match filter {
            Prefilter::Always => Formula::Always,
            Prefilter::Needle(text, ci) => Formula::Needle(text, *ci),
            Prefilter::All(items) => Formula::All(items.iter().map(Formula::of).collect()),
            Prefilter::Any(items) => Formula::Any(items.iter().map(Formula::of).collect()),
        }
    }

    /// The formula with each needle `keep` rejects replaced by `Always`,
    /// simplified (an `or` with an `Always` branch is `Always`).
    fn restrict(&self, keep: &dyn Fn(&str, bool) -> bool) -> Formula {
        match self {
            Formula::Always => Formula::Always,
            Formula::Needle(text, ci) if keep(text, *ci) => Formula::Needle(text, *ci),
            Formula::Needle(..) => Formula::Always,
            Formula::All(items) => {
                let mut kept: Vec<Formula> = items
                    .iter()
                    .map(|f| f.restrict(keep))
                    .filter(|f| *f != Formula::Always)
                    .collect();
                match kept.len() {
                    0 => Formula::Always,
                    1 => kept.remove(0),
                    _ => Formula::All(kept),
                }
            }
            Formula::Any(items) => {
                let mut kept: Vec<Formula> = items.iter().map(|f| f.restrict(keep)).collect();
                if kept.is_empty() || kept.contains(&Formula::Always) {
                    return Formula::Always;
                }
                match kept.len() {
                    1 => kept.remove(0),
                    _ => Formula::Any(kept),
                }
            }
        }
    }
}

/// What a column of `CloudAuditEvents` holds for an event of a native
/// format, as far as needles are concerned.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Source {
    /// A native string, or a part of one, as it is: its needles hold.
    Verbatim,
    /// One of these texts: a needle found in none of them cannot come from
    /// this column (the rule's test on it is then false), one found in any
    /// may not be in the native text.
    Constant(&'static [&'static str]),
    /// A bag whose keys the normalizer names but whose members' values are
    /// native values as they are (`RawEventData`, `AdditionalFields`):
    /// its needles hold when the rule reads it only through members.
    Members,
    /// Computed in a way no needle survives (or not known): a rule that
    /// reads it gets no needle.
    Computed,
}

/// `ActionType`'s values (`k8s::action_type`).
const ACTION_TYPES: &[&str] = &["Create", "Read", "Update", "Delete", "Other", "Unknown"];

/// Where column `name` of a normalized event of `format` comes from (see
/// `docs/input-formats.md`, "Prefilter of native formats"). Only `k8s`,
/// `eks` and `aks` are described; any other format, and any other column,
/// is [`Source::Computed`].
fn source(format: InputFormat, name: &str) -> Source {
    let data_source: &'static [&'static str] = match format {
        InputFormat::K8s => &[formats::DATA_SOURCE_KUBERNETES],
        InputFormat::Eks => &[formats::DATA_SOURCE_EKS],
        InputFormat::Aks => &[formats::DATA_SOURCE_AKS],
        _ => return Source::Computed,
    };
    match name {
        // `verb`, `auditID`, `sourceIPs[0]`, `userAgent` of the event.
        "OperationName" | "ReportId" | "IPAddress" | "UserAgent" => Source::Verbatim,
        "DataSource" => Source::Constant(data_source),
        "ActionType" => Source::Constant(ACTION_TYPES),
        // Defender's enrichment: always empty.
        "CountryCode" | "City" | "Isp" => Source::Constant(&[""]),
        // `k8s`: no cluster id; `aks`: the record's `resourceId`; `eks`:
        // an ARN the normalizer writes from the payload's owner and log
        // group (`arn:aws:eks::...`).
        "ResourceId" | "AzureResourceId" => match format {
            InputFormat::K8s => Source::Constant(&[""]),
            InputFormat::Aks => Source::Verbatim,
            _ => Source::Computed,
        },
        // The event with its top-level keys renamed; the envelope's
        // strings (or, for `ClusterName`, a segment of one) under names the
        // normalizer chose.
        "RawEventData" | "AdditionalFields" => Source::Members,
        _ => Source::Computed,
    }
}

/// The part of a rule's `formula` that holds for every event of native
/// `format` the rule (reading `table`) could produce a row from: needles
/// that may come from a column the normalizer computes become `Always`.
///
/// The rule's [`Access`] says which columns it can observe at all (and
/// whether only through members): a needle comes from a test on one of
/// them. So a rule reading a computed (`Source::Computed`) column, or reading
/// `RawEventData` whole (its keys are not the native ones), keeps no
/// needle; a needle found in a constant (`Source::Constant`) column's texts is
/// dropped (it may come from there); the others are kept. Derived tables
/// (`AKSAudit`, ...) and formats other than `k8s`, `eks` and `aks` keep
/// none.
pub fn native_formula(
    formula: &Formula,
    table: Option<&'static Table>,
    format: InputFormat,
) -> Formula {
    let Some(table) = table else {
        return Formula::Always;
    };
    if !matches!(
        format,
        InputFormat::K8s | InputFormat::Eks | InputFormat::Aks
    ) || DerivedTable::of_table(table.name).is_some()
    {
        return Formula::Always;
    }
    let mut constants: Vec<&'static str> = Vec::new();
    for (i, (name, ty)) in table.columns.iter().enumerate() {
        // The compiler takes needles from string and dynamic columns only.
        if !matches!(ty, ColumnType::String | ColumnType::Dynamic) {
            continue;
        }
        let access = table.access.get(i).unwrap_or(&Access::Whole);
        if matches!(access, Access::Unread) {
            continue;
        }
        match source(format, name) {
            Source::Verbatim => {}
            Source::Constant(texts) => constants.extend_from_slice(texts),
            Source::Members if matches!(access, Access::Members(_)) => {}
            Source::Members | Source::Computed => return Formula::Always,
        }
    }
    formula.restrict(&|needle, ci| {
        !constants.iter().any(|text| match ci {
            true => text
                .to_ascii_lowercase()
                .contains(&needle.to_ascii_lowercase()),
            false => text.contains(needle),
        })
    })
}

/// A needle and how to look for it.
#[derive(Clone, Debug)]
struct Needle {
    text: &'static str,
    case_insensitive: bool,
    search: Search,
    /// Lines searched and lines found in, to order the checks.
    checks: u64,
    hits: u64,
}

#[derive(Clone, Debug)]
enum Search {
    /// SIMD substring search.
    Exact(Box<memchr::memmem::Finder<'static>>),
    /// ASCII-case-insensitive search (one-pattern automaton with a
    /// rare-byte prefilter).
    Folded(AhoCorasick),
}

/// A formula node, flattened: children are indices into the node list.
#[derive(Clone, Debug)]
enum Node {
    Always,
    Needle(usize),
    All(Vec<usize>),
    Any(Vec<usize>),
}

/// How many lines between re-orderings of the checks.
const REORDER_EVERY: u64 = 4096;

/// The prefilters of every rule of a detector.
///
/// Each needle is searched at most once per line, and only when a formula
/// needs it: conditions of `and` are tried cheapest-to-fail first (the
/// order adapts to the needles' observed frequency), so a typical line
/// costs one or two SIMD substring searches whatever the number of rules.
///
/// The adaptive order changes only the speed, never a result: whether a
/// needle may be present depends on the line alone, and an `and` or `or`
/// has the same value whatever order its operands are tried in. So copies
/// of a set that have seen different lines (one per worker thread, see
/// [`crate::parallel`]) answer alike.
#[derive(Clone, Debug)]
pub struct PrefilterSet {
    needles: Vec<Needle>,
    nodes: Vec<Node>,
    roots: Vec<usize>,
    /// Per line: 0 not searched yet, 1 absent, 2 present.
    memo: Vec<u8>,
    lines: u64,
    /// Finders for `\u` and `\/` (built once: one-shot searches rebuild them).
    unicode_escape: memchr::memmem::Finder<'static>,
    slash_escape: memchr::memmem::Finder<'static>,
    /// The rules' formulas and tables, for [`PrefilterSet::for_format`].
    rules: Vec<(Formula, Option<&'static Table>)>,
}

impl PrefilterSet {
    /// The set for these rules' filters, in rule order.
    pub fn new(filters: Vec<&'static Prefilter>) -> PrefilterSet {
        PrefilterSet::of_formulas(
            filters
                .into_iter()
                .map(|f| (Formula::of(f), None))
                .collect(),
        )
    }

    /// The set for these rules' filters and the tables they read, in rule
    /// order: it can give the set for a native format
    /// ([`PrefilterSet::for_format`]).
    pub fn with_tables(filters: Vec<(&'static Prefilter, Option<&'static Table>)>) -> PrefilterSet {
        PrefilterSet::of_formulas(
            filters
                .into_iter()
                .map(|(f, table)| (Formula::of(f), table))
                .collect(),
        )
    }

    /// The set for the lines of native `format` (`k8s`, `eks`, `aks`):
    /// each rule's formula reduced to what holds in such an event's text
    /// ([`native_formula`]). `None` when no rule keeps a needle (or the
    /// set was made without tables).
    pub fn for_format(&self, format: InputFormat) -> Option<PrefilterSet> {
        let rules = self
            .rules
            .iter()
            .map(|(formula, table)| (native_formula(formula, *table, format), *table))
            .collect();
        Some(PrefilterSet::of_formulas(rules)).filter(|set| !set.is_trivial())
    }

    /// The formulas of the set, in rule order.
    pub fn formulas(&self) -> impl Iterator<Item = &Formula> {
        self.rules.iter().map(|(formula, _)| formula)
    }

    fn of_formulas(rules: Vec<(Formula, Option<&'static Table>)>) -> PrefilterSet {
        let mut set = PrefilterSet {
            needles: Vec::new(),
            nodes: Vec::new(),
            roots: Vec::new(),
            memo: Vec::new(),
            lines: 0,
            unicode_escape: memchr::memmem::Finder::new(b"\\u"),
            slash_escape: memchr::memmem::Finder::new(b"\\/"),
            rules: Vec::new(),
        };
        for (formula, _) in &rules {
            let root = set.add(formula);
            set.roots.push(root);
        }
        set.rules = rules;
        set.memo = vec![0; set.needles.len()];
        set
    }

    fn add(&mut self, filter: &Formula) -> usize {
        let node = match filter {
            Formula::Always => Node::Always,
            Formula::Needle(text, ci) => {
                let index = match self
                    .needles
                    .iter()
                    .position(|n| n.text == *text && n.case_insensitive == *ci)
                {
                    Some(i) => i,
                    None => {
                        let search = if *ci {
                            match AhoCorasickBuilder::new()
                                .ascii_case_insensitive(true)
                                .match_kind(MatchKind::LeftmostFirst)
                                .build([text.as_bytes()])
                            {
                                Ok(automaton) => Search::Folded(automaton),
                                // Cannot happen for one short needle; never skip then.
                                Err(_) => return self.push(Node::Always),
                            }
                        } else {
                            Search::Exact(Box::new(memchr::memmem::Finder::new(text.as_bytes())))
                        };
                        self.needles.push(Needle {
                            text,
                            case_insensitive: *ci,
                            search,
                            checks: 0,
                            hits: 0,
                        });
                        self.needles.len() - 1
                    }
                };
                Node::Needle(index)
            }
            Formula::All(items) => Node::All(items.iter().map(|i| self.add(i)).collect()),
            Formula::Any(items) => Node::Any(items.iter().map(|i| self.add(i)).collect()),
        };
        self.push(node)
    }

    fn push(&mut self, node: Node) -> usize {
        self.nodes.push(node);
        self.nodes.len() - 1
    }

    /// A gate for the set: for each rule, the needles of which a matching
    /// line must hold one (in an `and`, the operand seen in the fewest of
    /// the `sample` lines; in an `or`, all operands), plus the escapes that
    /// make a needle count as present (`\\u`, and `\\/` when a needle has a
    /// `/`). `None` when some rule may match a line without any needle.
    ///
    /// A line without any of the gate's strings (and, when a needle is
    /// case-insensitive, ASCII) is one [`PrefilterSet::scan`] rejects: every
    /// rule's formula is false on it. The sample only steers which operand
    /// of an `and` is used, so it changes the speed, never a result.
    pub fn gate(&self, sample: &[&[u8]]) -> Option<Gate> {
        let seen: Vec<usize> = self
            .needles
            .iter()
            .map(|needle| {
                sample
                    .iter()
                    .filter(|line| match &needle.search {
                        Search::Exact(finder) => finder.find(line).is_some(),
                        Search::Folded(automaton) => automaton.is_match(line),
                    })
                    .count()
            })
            .collect();
        let mut chosen = Vec::new();
        for &root in &self.roots {
            chosen.extend(self.gate_needles(root, &seen)?);
        }
        chosen.sort_unstable();
        chosen.dedup();
        let mut searches: Vec<Search> = chosen
            .iter()
            .map(|&i| self.needles[i].search.clone())
            .collect();
        searches.push(Search::Exact(Box::new(
            memchr::memmem::Finder::new(b"\\u").into_owned(),
        )));
        if chosen.iter().any(|&i| self.needles[i].text.contains('/')) {
            searches.push(Search::Exact(Box::new(
                memchr::memmem::Finder::new(b"\\/").into_owned(),
            )));
        }
        let ascii_only = chosen.iter().any(|&i| self.needles[i].case_insensitive);
        Some(Gate {
            searches,
            ascii_only,
        })
    }

    /// The needles of which a line must hold one for `node` to hold, with
    /// their counts in the sample (see [`PrefilterSet::gate`]).
    fn gate_needles(&self, node: usize, seen: &[usize]) -> Option<Vec<usize>> {
        match &self.nodes[node] {
            Node::Always => None,
            Node::Needle(i) => Some(vec![*i]),
            Node::Any(children) => {
                let mut all = Vec::new();
                for &child in children {
                    all.extend(self.gate_needles(child, seen)?);
                }
                Some(all)
            }
            Node::All(children) => children
                .iter()
                .filter_map(|&child| self.gate_needles(child, seen))
                // Fewest sample lines, then the longest needles (rarer and
                // faster to search).
                .min_by_key(|needles| {
                    let count: usize = needles.iter().map(|&i| seen[i]).sum();
                    let shortest = needles
                        .iter()
                        .map(|&i| self.needles[i].text.len())
                        .min()
                        .unwrap_or(0);
                    (count, usize::MAX - shortest)
                }),
        }
    }

    /// True when no rule has a needle: scanning would be wasted work. (With
    /// some rules always matching, lines are never skipped, but the other
    /// rules are still spared lines they cannot match.)
    pub fn is_trivial(&self) -> bool {
        self.needles.is_empty()
    }

    /// Which rules may match `line`: `out[i]` for rule `i`. Returns true
    /// when any may.
    pub fn scan(&mut self, line: &[u8], out: &mut Vec<bool>) -> bool {
        out.clear();
        self.lines += 1;
        if self.lines % REORDER_EVERY == 0 {
            self.reorder();
        }
        self.memo.iter_mut().for_each(|m| *m = 0);
        let mut escapes = Escapes::default();
        let mut any = false;
        for r in 0..self.roots.len() {
            let may = self.eval(self.roots[r], line, &mut escapes);
            any |= may;
            out.push(may);
        }
        any
    }

    fn eval(&mut self, node: usize, line: &[u8], escapes: &mut Escapes) -> bool {
        match &self.nodes[node] {
            Node::Always => true,
            Node::Needle(i) => self.present(*i, line, escapes),
            Node::All(children) => {
                // Indices are cloned out so evaluation can update counters.
                let children = children.clone();
                children.into_iter().all(|c| self.eval(c, line, escapes))
            }
            Node::Any(children) => {
                let children = children.clone();
                children.into_iter().any(|c| self.eval(c, line, escapes))
            }
        }
    }

    fn present(&mut self, i: usize, line: &[u8], escapes: &mut Escapes) -> bool {
        match self.memo[i] {
            1 => return false,
            2 => return true,
            _ => {}
        }
        let needle = &mut self.needles[i];
        let found = match &needle.search {
            Search::Exact(finder) => finder.find(line).is_some(),
            Search::Folded(automaton) => automaton.is_match(line),
        };
        needle.checks += 1;
        needle.hits += u64::from(found);
        // Spellings a byte search misses: see the module documentation.
        let maybe = found
            || escapes.unicode(line, &self.unicode_escape)
            || (needle.text.contains('/') && escapes.slash(line, &self.slash_escape))
            || (needle.case_insensitive && escapes.non_ascii(line));
        self.memo[i] = if maybe { 2 } else { 1 };
        maybe
    }

    /// Orders the conditions of every `and` so the one most likely to fail
    /// is tried first, and of every `or` so the most likely to hold is.
    fn reorder(&mut self) {
        let probability: Vec<f64> = self
            .needles
            .iter()
            .map(|n| (n.hits as f64 + 1.0) / (n.checks as f64 + 2.0))
            .collect();
        fn estimate(nodes: &[Node], p: &[f64], node: usize) -> f64 {
            match &nodes[node] {
                Node::Always => 1.0,
                Node::Needle(i) => p[*i],
                Node::All(c) => c.iter().map(|&c| estimate(nodes, p, c)).product(),
                Node::Any(c) => {
                    1.0 - c
                        .iter()
                        .map(|&c| 1.0 - estimate(nodes, p, c))
                        .product::<f64>()
                }
            }
        }
        for n in 0..self.nodes.len() {
            let keyed: Option<(bool, Vec<(f64, usize)>)> = match &self.nodes[n] {
                Node::All(c) => Some((
                    true,
                    c.iter()
                        .map(|&c| (estimate(&self.nodes, &probability, c), c))
                        .collect(),
                )),
                Node::Any(c) => Some((
                    false,
                    c.iter()
                        .map(|&c| (estimate(&self.nodes, &probability, c), c))
                        .collect(),
                )),
                _ => None,
            };
            if let Some((ascending, mut keyed)) = keyed {
                keyed.sort_by(|a, b| {
                    let order = a.0.partial_cmp(&b.0).unwrap_or(std::cmp::Ordering::Equal);
                    if ascending {
                        order
                    } else {
                        order.reverse()
                    }
                });
                let order: Vec<usize> = keyed.into_iter().map(|(_, c)| c).collect();
                match &mut self.nodes[n] {
                    Node::All(c) | Node::Any(c) => *c = order,
                    _ => {}
                }
            }
        }
    }
}

/// Byte strings of which a line must hold at least one for any rule to
/// match it: a run of lines without any is skipped with one search over the
/// run instead of a scan per line ([`PrefilterSet::gate`]). Each string is
/// searched on its own (SIMD substring search), its next occurrence
/// remembered in a [`GateCursor`], so a haystack is read about once per
/// string.
#[derive(Clone, Debug)]
pub struct Gate {
    searches: Vec<Search>,
    /// Some needle is case-insensitive: a non-ASCII line may spell it
    /// (Unicode case folding), so only ASCII runs may be skipped.
    ascii_only: bool,
}

/// Where each of a [`Gate`]'s strings next occurs in one haystack.
#[derive(Clone, Debug, Default)]
pub struct GateCursor {
    /// Per string: searched from this offset, found at this one (`None`:
    /// not at all after it). `None` before the first search.
    next: Vec<Option<(usize, Option<usize>)>>,
}

impl Gate {
    /// A cursor for a new haystack.
    pub fn cursor(&self) -> GateCursor {
        GateCursor {
            next: vec![None; self.searches.len()],
        }
    }

    /// Where the first occurrence of any of the gate's strings at or after
    /// `from` starts in `haystack` (always the same haystack for a cursor,
    /// with `from` never decreasing).
    pub fn find(&self, cursor: &mut GateCursor, haystack: &[u8], from: usize) -> Option<usize> {
        let mut first: Option<usize> = None;
        for (search, next) in self.searches.iter().zip(&mut cursor.next) {
            let known = match *next {
                Some((_, None)) => None,
                Some((_, Some(at))) if at >= from => Some(at),
                _ => {
                    let rest = haystack.get(from..).unwrap_or_default();
                    let found = match search {
                        Search::Exact(finder) => finder.find(rest),
                        Search::Folded(automaton) => automaton.find(rest).map(|m| m.start()),
                    }
                    .map(|i| from + i);
                    *next = Some((from, found));
                    found
                }
            };
            if let Some(at) = known {
                first = Some(first.map_or(at, |f| f.min(at)));
            }
        }
        first
    }

    /// Whether a run of lines that holds none of the strings may be skipped
    /// whatever its bytes (otherwise it must be ASCII).
    pub fn ascii_only(&self) -> bool {
        self.ascii_only
    }
}

#[derive(Default)]
struct Escapes {
    unicode: Option<bool>,
    slash: Option<bool>,
    non_ascii: Option<bool>,
}

impl Escapes {
    fn unicode(&mut self, line: &[u8], finder: &memchr::memmem::Finder<'_>) -> bool {
        *self
            .unicode
            .get_or_insert_with(|| finder.find(line).is_some())
    }

    fn slash(&mut self, line: &[u8], finder: &memchr::memmem::Finder<'_>) -> bool {
        *self
            .slash
            .get_or_insert_with(|| finder.find(line).is_some())
    }

    fn non_ascii(&mut self, line: &[u8]) -> bool {
        *self.non_ascii.get_or_insert_with(|| !line.is_ascii())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static CLUSTER_ADMIN: Prefilter = Prefilter::All(&[
        Prefilter::Needle("clusterrolebindings", false),
        Prefilter::Needle("cluster-admin", false),
    ]);
    static EXEC: Prefilter = Prefilter::Any(&[
        Prefilter::Needle("kube-system", true),
        Prefilter::Needle("exec", false),
    ]);

    fn scan(line: &str) -> Vec<bool> {
        let mut set = PrefilterSet::new(vec![&CLUSTER_ADMIN, &EXEC]);
        let mut out = Vec::new();
        set.scan(line.as_bytes(), &mut out);
        out
    }

    #[test]
    fn lines_without_the_needles_are_skipped() {
        assert_eq!(
            scan(r#"{"verb":"get","resource":"configmaps"}"#),
            [false, false]
        );
        assert_eq!(
            scan(r#"{"resource":"clusterrolebindings","name":"cluster-admin"}"#),
            [true, false]
        );
        assert_eq!(
            scan(r#"{"resource":"clusterrolebindings"}"#),
            [false, false]
        );
        assert_eq!(scan(r#"{"ns":"KUBE-SYSTEM"}"#), [false, true]);
        assert_eq!(
            scan(r#"{"sub":"EXEC"}"#),
            [false, false],
            "exec is case-sensitive"
        );
    }

    #[test]
    fn escapes_and_non_ascii_never_cause_a_wrong_skip() {
        // `\u0063` is `c`: the line may spell a needle with escapes.
        assert_eq!(
            scan(r#"{"resource":"\u0063lusterrolebindings","n":"cluster-admin"}"#),
            [true, true]
        );
        // The Kelvin sign folds to `k`: case-insensitive needles may be present.
        assert_eq!(scan("{\"ns\":\"\u{212A}ube-system\"}"), [false, true]);
    }

    #[test]
    fn the_gate_finds_every_line_a_rule_could_match() {
        static CREATE_EXEC: Prefilter = Prefilter::All(&[
            Prefilter::Needle("create", false),
            Prefilter::Needle("exec", false),
        ]);
        static NAMESPACE: Prefilter = Prefilter::Needle("Kube-System", true);
        // In the sample "create" is common and "exec" rare: the gate
        // searches for "exec" (and the escapes), whichever rule it serves.
        let sample: Vec<&[u8]> = vec![b"create a", b"create b", b"create exec"];
        let set = PrefilterSet::new(vec![&CREATE_EXEC]);
        let gate = set.gate(&sample).expect("a gate");
        assert!(!gate.ascii_only());
        let text = b"create x\ncreate y\nan exec\nesc \\u0065xec\n";
        let mut cursor = gate.cursor();
        assert_eq!(gate.find(&mut cursor, text, 0), Some(21));
        assert_eq!(gate.find(&mut cursor, text, 22), Some(30));
        assert_eq!(gate.find(&mut cursor, text, 31), None);
        // A case-insensitive needle: only ASCII runs may be skipped.
        let set = PrefilterSet::new(vec![&CREATE_EXEC, &NAMESPACE]);
        let gate = set.gate(&sample).expect("a gate");
        assert!(gate.ascii_only());
        let mut cursor = gate.cursor();
        assert_eq!(gate.find(&mut cursor, b"in KUBE-SYSTEM", 0), Some(3));
        // A rule that may match any line leaves no gate.
        let set = PrefilterSet::new(vec![&CREATE_EXEC, &Prefilter::Always]);
        assert!(set.gate(&sample).is_none());
    }

    static COLUMNS: [(&str, ColumnType); 5] = [
        ("Timestamp", ColumnType::DateTime),
        ("DataSource", ColumnType::String),
        ("OperationName", ColumnType::String),
        ("ResourceId", ColumnType::String),
        ("RawEventData", ColumnType::Dynamic),
    ];
    static MEMBERS: [(&str, Access); 1] = [("ObjectRef", Access::Whole)];

    fn table(access: &'static [Access]) -> Option<&'static Table> {
        Some(Box::leak(Box::new(Table {
            name: "CloudAuditEvents",
            columns: &COLUMNS,
            used: &[],
            access,
        })))
    }

    static VERB_AND_RESOURCE: Prefilter = Prefilter::All(&[
        Prefilter::Needle("create", false),
        Prefilter::Needle("pods", false),
        Prefilter::Needle("kubernetes", true),
        Prefilter::Needle("Elastic", false),
    ]);

    fn native(access: &'static [Access], format: InputFormat) -> Formula {
        native_formula(&Formula::of(&VERB_AND_RESOURCE), table(access), format)
    }

    #[test]
    fn native_formats_keep_needles_of_verbatim_columns_and_members() {
        use Access::{Members, Unread, Whole};
        let n = |text, ci| Formula::Needle(text, ci);
        // DataSource read: a needle found in its value ("Kubernetes Audit"
        // for k8s) may come from it; "Elastic" cannot (the rule's test on
        // it is false for every k8s event), so it stays; for eks
        // ("Amazon Elastic Kubernetes Service") both go.
        let members: &'static [Access] =
            Box::leak(Box::new([Unread, Whole, Whole, Unread, Members(&MEMBERS)]));
        assert_eq!(
            native(members, InputFormat::K8s),
            Formula::All(vec![
                n("create", false),
                n("pods", false),
                n("Elastic", false)
            ])
        );
        assert_eq!(
            native(members, InputFormat::Eks),
            Formula::All(vec![n("create", false), n("pods", false)])
        );
        // RawEventData read whole: its keys are not the native ones.
        let whole: &'static [Access] = Box::leak(Box::new([Unread, Whole, Whole, Unread, Whole]));
        assert_eq!(native(whole, InputFormat::K8s), Formula::Always);
        // ResourceId: empty for k8s, the record's for aks, computed for eks.
        let ids: &'static [Access] =
            Box::leak(Box::new([Unread, Unread, Whole, Whole, Members(&MEMBERS)]));
        assert_ne!(native(ids, InputFormat::K8s), Formula::Always);
        assert_ne!(native(ids, InputFormat::Aks), Formula::Always);
        assert_eq!(native(ids, InputFormat::Eks), Formula::Always);
        // Other formats and derived tables: nothing.
        for format in [
            InputFormat::Gke,
            InputFormat::Arm,
            InputFormat::Auto,
            InputFormat::CloudAudit,
        ] {
            assert_eq!(native(members, format), Formula::Always, "{format}");
        }
        let aks_audit = Box::leak(Box::new(Table {
            name: "AKSAudit",
            columns: &COLUMNS,
            used: &[],
            access: members,
        }));
        assert_eq!(
            native_formula(
                &Formula::of(&VERB_AND_RESOURCE),
                Some(aks_audit),
                InputFormat::Aks
            ),
            Formula::Always
        );
    }

    #[test]
    fn a_set_for_a_native_format_skips_only_what_its_formulas_rule_out() {
        use Access::{Members, Unread, Whole};
        let members: &'static [Access] =
            Box::leak(Box::new([Unread, Whole, Whole, Unread, Members(&MEMBERS)]));
        let set = PrefilterSet::with_tables(vec![(&VERB_AND_RESOURCE, table(members))]);
        let mut native = set.for_format(InputFormat::K8s).expect("needles kept");
        let mut out = Vec::new();
        assert!(!native.scan(
            br#"{"verb":"get","objectRef":{"resource":"pods"}}"#,
            &mut out
        ));
        assert!(native.scan(
            br#"{"verb":"create","objectRef":{"resource":"pods"},"x":"Elastic"}"#,
            &mut out
        ));
        assert!(set.for_format(InputFormat::Gke).is_none());
        assert!(PrefilterSet::new(vec![&VERB_AND_RESOURCE])
            .for_format(InputFormat::K8s)
            .is_none());
    }

    #[test]
    fn always_filters_make_the_set_trivial() {
        static ALWAYS: Prefilter = Prefilter::Always;
        assert!(ALWAYS.is_always());
        assert!(!CLUSTER_ADMIN.is_always());
        assert!(PrefilterSet::new(vec![&ALWAYS]).is_trivial());
        assert!(!PrefilterSet::new(vec![&CLUSTER_ADMIN, &ALWAYS]).is_trivial());
        let mut mixed = PrefilterSet::new(vec![&CLUSTER_ADMIN, &ALWAYS]);
        let mut out = Vec::new();
        assert!(
            mixed.scan(b"{}", &mut out),
            "a rule that always matches keeps every line"
        );
        assert_eq!(out, [false, true], "but the other rule is spared it");
    }
}
