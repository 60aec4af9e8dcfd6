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

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
pub use kql_runtime::prefilter::Prefilter;

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
}

impl PrefilterSet {
    /// The set for these rules' filters, in rule order.
    pub fn new(filters: Vec<&'static Prefilter>) -> PrefilterSet {
        let mut set = PrefilterSet {
            needles: Vec::new(),
            nodes: Vec::new(),
            roots: Vec::new(),
            memo: Vec::new(),
            lines: 0,
            unicode_escape: memchr::memmem::Finder::new(b"\\u"),
            slash_escape: memchr::memmem::Finder::new(b"\\/"),
        };
        for filter in filters {
            let root = set.add(filter);
            set.roots.push(root);
        }
        set.memo = vec![0; set.needles.len()];
        set
    }

    fn add(&mut self, filter: &'static Prefilter) -> usize {
        let node = match filter {
            Prefilter::Always => Node::Always,
            Prefilter::Needle(text, ci) => {
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
            Prefilter::All(items) => Node::All(items.iter().map(|i| self.add(i)).collect()),
            Prefilter::Any(items) => Node::Any(items.iter().map(|i| self.add(i)).collect()),
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
