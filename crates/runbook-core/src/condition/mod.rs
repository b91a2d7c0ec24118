//! The condition language: `tier == "1-tier" and (version >= "2.5" or not aad_premium)`.
//!
//! Conditions are parsed with spans, resolved against the declared facts (so an unknown fact
//! or value is an error at its place), and evaluated three-valued: a fact the profile does not
//! give leaves the part of the condition that depends on it standing, for display.

use std::cmp::Ordering;
use std::collections::BTreeSet;
use std::fmt;
use std::ops::Range;

use serde::{Deserialize, Serialize};

use crate::facts::{FactKind, FactValues, Value, Version, Vocabulary};

mod parse;
pub use parse::{parse, parse_in_file};

/// Deeper nesting than this is refused rather than risking the stack.
const MAX_DEPTH: usize = 100;

/// A parse or resolution error, with its byte range in the condition text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConditionError {
    pub message: String,
    pub span: Range<usize>,
    pub label: String,
    pub help: Option<String>,
    /// It names what the facts file failed to define, which is reported there.
    pub follows_from_facts_file: bool,
}

impl ConditionError {
    fn new(message: impl Into<String>, span: Range<usize>) -> Self {
        ConditionError {
            message: message.into(),
            span,
            label: String::new(),
            help: None,
            follows_from_facts_file: false,
        }
    }

    fn label(mut self, label: impl Into<String>) -> Self {
        self.label = label.into();
        self
    }

    fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Op {
    fn symbol(self) -> &'static str {
        match self {
            Op::Eq => "==",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
        }
    }

    fn holds(self, ord: Ordering) -> bool {
        match self {
            Op::Eq => ord == Ordering::Equal,
            Op::Ne => ord != Ordering::Equal,
            Op::Lt => ord == Ordering::Less,
            Op::Le => ord != Ordering::Greater,
            Op::Gt => ord == Ordering::Greater,
            Op::Ge => ord != Ordering::Less,
        }
    }
}

/// A test of one fact.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Test {
    /// A bare bool fact.
    IsTrue,
    Cmp(Op, Value),
    In(Vec<Value>),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Atom {
    pub fact: String,
    pub test: Test,
    /// Where the atom stands in the condition text.
    #[serde(skip)]
    pub span: Range<usize>,
}

// The same test of the same fact, wherever it was written: a section's `tier == "1-tier"`
// and its step's are one atom.
impl PartialEq for Atom {
    fn eq(&self, other: &Self) -> bool {
        self.fact == other.fact && self.test == other.test
    }
}

impl Eq for Atom {}

impl std::hash::Hash for Atom {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.fact.hash(state);
        self.test.hash(state);
    }
}

impl Atom {
    pub fn holds(&self, value: &Value) -> bool {
        match &self.test {
            Test::IsTrue => *value == Value::Bool(true),
            Test::Cmp(op, expected) => op.holds(value.cmp(expected)),
            Test::In(values) => values.contains(value),
        }
    }
}

/// A resolved condition.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Expr {
    Const(bool),
    Atom(Atom),
    Not(Box<Expr>),
    And(Vec<Expr>),
    Or(Vec<Expr>),
}

/// Three-valued truth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tri {
    True,
    False,
    Unknown,
}

impl Expr {
    pub fn and(items: Vec<Expr>) -> Expr {
        fold_and(items)
    }

    /// Replaces every atom the oracle can decide with a constant and folds the result, so
    /// what is left mentions only undecided facts.
    pub fn partial(&self, decide: &impl Fn(&Atom) -> Option<bool>) -> Expr {
        match self {
            Expr::Const(b) => Expr::Const(*b),
            Expr::Atom(a) => match decide(a) {
                Some(b) => Expr::Const(b),
                None => Expr::Atom(a.clone()),
            },
            Expr::Not(e) => match e.partial(decide) {
                Expr::Const(b) => Expr::Const(!b),
                other => Expr::Not(Box::new(other)),
            },
            Expr::And(items) => fold_and(items.iter().map(|e| e.partial(decide)).collect()),
            Expr::Or(items) => fold_or(items.iter().map(|e| e.partial(decide)).collect()),
        }
    }

    /// What remains of the condition once the known facts are put in.
    pub fn residual(&self, facts: &FactValues) -> Expr {
        self.partial(&|atom: &Atom| facts.get(&atom.fact).map(|v| atom.holds(v)))
    }

    pub fn eval(&self, facts: &FactValues) -> Tri {
        match self.residual(facts) {
            Expr::Const(true) => Tri::True,
            Expr::Const(false) => Tri::False,
            _ => Tri::Unknown,
        }
    }

    pub fn is_true(&self) -> bool {
        *self == Expr::Const(true)
    }

    /// Every atom, in order.
    pub fn atoms(&self) -> Vec<&Atom> {
        let mut out = Vec::new();
        self.collect_atoms(&mut out);
        out
    }

    fn collect_atoms<'a>(&'a self, out: &mut Vec<&'a Atom>) {
        match self {
            Expr::Const(_) => {}
            Expr::Atom(a) => out.push(a),
            Expr::Not(e) => e.collect_atoms(out),
            Expr::And(items) | Expr::Or(items) => items.iter().for_each(|e| e.collect_atoms(out)),
        }
    }

    /// The facts the condition mentions, sorted.
    pub fn facts(&self) -> BTreeSet<String> {
        self.atoms().into_iter().map(|a| a.fact.clone()).collect()
    }

    /// Whether some assignment within the facts' domains makes the condition true, given that
    /// the fact `version_fact` lies in `versions`. `None` when too many facts are involved to
    /// enumerate.
    pub fn satisfiable(
        &self,
        vocab: &Vocabulary,
        version_fact: &str,
        versions: &VersionRange,
    ) -> Option<bool> {
        self.witness(vocab, version_fact, versions)
            .map(|w| w.is_some())
    }

    /// As `satisfiable`, with a customer that makes the condition true, in words (one entry
    /// per fact the condition tests: "Region is EU", "Product version below 3.5").
    pub fn witness(
        &self,
        vocab: &Vocabulary,
        version_fact: &str,
        versions: &VersionRange,
    ) -> Option<Option<Vec<String>>> {
        let facts: Vec<String> = self.facts().into_iter().collect();
        let mut candidates: Vec<Vec<Candidate>> = Vec::new();
        let mut total: usize = 1;
        for fact in &facts {
            let def = vocab.facts.get(fact)?;
            let atoms: Vec<&Atom> = self
                .atoms()
                .into_iter()
                .filter(|a| &a.fact == fact)
                .collect();
            let values = match &def.kind {
                FactKind::Enum(_) | FactKind::Bool => {
                    def.domain()?.into_iter().map(Candidate::Exact).collect()
                }
                FactKind::Str => {
                    let mut v: Vec<Candidate> =
                        literals(&atoms).into_iter().map(Candidate::Exact).collect();
                    v.push(Candidate::OtherString);
                    v
                }
                FactKind::Version => {
                    let mut points = literals(&atoms);
                    if fact == version_fact {
                        points.extend(
                            versions
                                .since
                                .iter()
                                .chain(&versions.before)
                                .cloned()
                                .map(Value::Version),
                        );
                    }
                    let mut v = Vec::new();
                    for p in points {
                        if let Value::Version(p) = p {
                            for side in [Ordering::Less, Ordering::Equal, Ordering::Greater] {
                                v.push(Candidate::Around(p.clone(), side));
                            }
                        }
                    }
                    // Last, so that a witness names the versions the conditions do.
                    v.push(Candidate::Around(
                        Version(semver::Version::new(0, 0, 0)),
                        Ordering::Equal,
                    ));
                    if fact == version_fact {
                        v.retain(|c| versions.holds(c));
                    }
                    v
                }
            };
            total = total.checked_mul(values.len().max(1))?;
            if total > 100_000 {
                return None;
            }
            candidates.push(values);
        }
        let mut index = vec![0usize; facts.len()];
        loop {
            let decide = |atom: &Atom| {
                let i = facts.iter().position(|f| *f == atom.fact)?;
                Some(candidates[i].get(index[i])?.satisfies(atom))
            };
            if self.partial(&decide) == Expr::Const(true) {
                let said = facts
                    .iter()
                    .zip(&index)
                    .zip(&candidates)
                    .filter_map(|((fact, &i), values)| {
                        let def = vocab.facts.get(fact)?;
                        Some(values.get(i)?.describe(def))
                    })
                    .collect();
                return Some(Some(said));
            }
            // Next assignment, odometer style.
            let mut k = 0;
            loop {
                if k == facts.len() {
                    return Some(None);
                }
                index[k] += 1;
                if index[k] < candidates[k].len() {
                    break;
                }
                index[k] = 0;
                k += 1;
            }
        }
    }

    /// The condition in the language's own syntax, with only the parentheses it needs.
    pub fn to_source(&self) -> String {
        self.to_string()
    }

    /// The condition in words for people, with fact names and value labels.
    pub fn describe(&self, vocab: &Vocabulary) -> String {
        self.describe_at(vocab, 0)
    }

    fn describe_at(&self, vocab: &Vocabulary, parent: u8) -> String {
        let level = self.precedence();
        let text = match self {
            Expr::Const(b) => if *b { "always" } else { "never" }.to_string(),
            Expr::Atom(a) => describe_atom(a, vocab, false),
            Expr::Not(e) => match e.as_ref() {
                Expr::Atom(a) => describe_atom(a, vocab, true),
                other => format!("not {}", other.describe_at(vocab, level)),
            },
            Expr::And(items) => join(items.iter().map(|e| e.describe_at(vocab, level)), " and "),
            // In words, `a or b and c` reads either way: an `and` inside an `or` gets
            // parentheses (as if it stood under a `not`, level 3).
            Expr::Or(items) => join(items.iter().map(|e| e.describe_at(vocab, 3)), " or "),
        };
        if level < parent {
            format!("({text})")
        } else {
            text
        }
    }

    fn precedence(&self) -> u8 {
        match self {
            Expr::Or(_) => 1,
            Expr::And(_) => 2,
            Expr::Not(_) => 3,
            Expr::Const(_) | Expr::Atom(_) => 4,
        }
    }

    fn fmt_at(&self, f: &mut fmt::Formatter<'_>, parent: u8) -> fmt::Result {
        let level = self.precedence();
        if level < parent {
            f.write_str("(")?;
        }
        match self {
            Expr::Const(b) => write!(f, "{b}")?,
            Expr::Atom(a) => fmt_atom(a, f)?,
            Expr::Not(e) => {
                f.write_str("not ")?;
                e.fmt_at(f, level)?;
            }
            Expr::And(items) | Expr::Or(items) => {
                let sep = if matches!(self, Expr::And(_)) {
                    " and "
                } else {
                    " or "
                };
                for (i, e) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(sep)?;
                    }
                    e.fmt_at(f, level + 1)?;
                }
            }
        }
        if level < parent {
            f.write_str(")")?;
        }
        Ok(())
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.fmt_at(f, 0)
    }
}

fn join(parts: impl Iterator<Item = String>, sep: &str) -> String {
    parts.collect::<Vec<_>>().join(sep)
}

fn literal(v: &Value) -> String {
    match v {
        Value::Bool(b) => b.to_string(),
        other => format!("\"{other}\""),
    }
}

fn fmt_atom(a: &Atom, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match &a.test {
        Test::IsTrue => f.write_str(&a.fact),
        Test::Cmp(op, v) => write!(f, "{} {} {}", a.fact, op.symbol(), literal(v)),
        Test::In(vs) => write!(f, "{} in [{}]", a.fact, join(vs.iter().map(literal), ", ")),
    }
}

fn negate_op(op: Op) -> Op {
    match op {
        Op::Eq => Op::Ne,
        Op::Ne => Op::Eq,
        Op::Lt => Op::Ge,
        Op::Le => Op::Gt,
        Op::Gt => Op::Le,
        Op::Ge => Op::Lt,
    }
}

fn describe_atom(a: &Atom, vocab: &Vocabulary, negated: bool) -> String {
    let Some(fact) = vocab.facts.get(&a.fact) else {
        return a.fact.clone();
    };
    let name = &fact.name;
    let value = |v: &Value| fact.describe_value(v);
    let not = if negated { "not " } else { "" };
    match &a.test {
        Test::IsTrue => format!("{not}{name}"),
        Test::Cmp(op @ (Op::Eq | Op::Ne), Value::Bool(b)) => {
            let holds = (*op == Op::Eq) == *b;
            if holds != negated {
                name.clone()
            } else {
                format!("not {name}")
            }
        }
        Test::Cmp(op, v) => match if negated { negate_op(*op) } else { *op } {
            Op::Eq => format!("{name} is {}", value(v)),
            Op::Ne => format!("{name} is not {}", value(v)),
            op => format!("{name} {} {}", op.symbol(), value(v)),
        },
        Test::In(vs) => format!("{name} is {not}one of {}", join(vs.iter().map(value), ", ")),
    }
}

fn fold_and(items: Vec<Expr>) -> Expr {
    let mut out = Vec::new();
    for e in items {
        match e {
            Expr::Const(true) => {}
            Expr::Const(false) => return Expr::Const(false),
            Expr::And(inner) => out.extend(inner),
            other => {
                if !out.contains(&other) {
                    out.push(other);
                }
            }
        }
    }
    match out.len() {
        0 => Expr::Const(true),
        1 => out.pop().unwrap_or(Expr::Const(true)),
        _ => Expr::And(out),
    }
}

fn fold_or(items: Vec<Expr>) -> Expr {
    let mut out = Vec::new();
    for e in items {
        match e {
            Expr::Const(false) => {}
            Expr::Const(true) => return Expr::Const(true),
            Expr::Or(inner) => out.extend(inner),
            other => {
                if !out.contains(&other) {
                    out.push(other);
                }
            }
        }
    }
    match out.len() {
        0 => Expr::Const(false),
        1 => out.pop().unwrap_or(Expr::Const(false)),
        _ => Expr::Or(out),
    }
}

fn literals(atoms: &[&Atom]) -> Vec<Value> {
    let mut out = Vec::new();
    for a in atoms {
        match &a.test {
            Test::IsTrue => {}
            Test::Cmp(_, v) => out.push(v.clone()),
            Test::In(vs) => out.extend(vs.iter().cloned()),
        }
    }
    out
}

/// A representative value for satisfiability: an exact value, a string no condition names,
/// or a version point just below, at, or just above a version the conditions name.
enum Candidate {
    Exact(Value),
    OtherString,
    Around(Version, Ordering),
}

impl Candidate {
    fn describe(&self, fact: &crate::facts::Fact) -> String {
        let name = &fact.name;
        match self {
            Candidate::Exact(v) => format!("{name} is {}", fact.describe_value(v)),
            Candidate::OtherString => format!("{name} is a value no condition names"),
            Candidate::Around(p, Ordering::Less) => format!("{name} below {p}"),
            Candidate::Around(p, Ordering::Equal) => format!("{name} {p}"),
            Candidate::Around(p, Ordering::Greater) => format!("{name} above {p}"),
        }
    }

    fn satisfies(&self, atom: &Atom) -> bool {
        match self {
            Candidate::Exact(v) => atom.holds(v),
            Candidate::OtherString => matches!(&atom.test, Test::Cmp(Op::Ne, _)),
            Candidate::Around(point, side) => {
                let cmp = |c: &Value| match c {
                    Value::Version(c) => point.cmp(c).then(*side),
                    _ => Ordering::Less,
                };
                match &atom.test {
                    Test::IsTrue => false,
                    Test::Cmp(op, c) => op.holds(cmp(c)),
                    Test::In(vs) => vs.iter().any(|c| cmp(c) == Ordering::Equal),
                }
            }
        }
    }
}

/// The product versions a revision covers: `since` inclusive, `before` exclusive.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionRange {
    pub since: Option<Version>,
    pub before: Option<Version>,
}

impl VersionRange {
    pub fn contains(&self, v: &Version) -> bool {
        self.since.as_ref().is_none_or(|s| v >= s) && self.before.as_ref().is_none_or(|b| v < b)
    }

    fn holds(&self, c: &Candidate) -> bool {
        let Candidate::Around(point, side) = c else {
            return true;
        };
        let at = |bound: &Version| point.cmp(bound).then(*side);
        self.since.as_ref().is_none_or(|s| at(s) != Ordering::Less)
            && self.before.as_ref().is_none_or(|b| at(b) == Ordering::Less)
    }

    pub fn overlaps(&self, other: &VersionRange) -> bool {
        let starts_before_end = |a: &VersionRange, b: &VersionRange| match (&a.since, &b.before) {
            (Some(s), Some(e)) => s < e,
            _ => true,
        };
        starts_before_end(self, other) && starts_before_end(other, self)
    }

    pub fn is_empty(&self) -> bool {
        matches!((&self.since, &self.before), (Some(s), Some(b)) if s >= b)
    }
}

impl fmt::Display for VersionRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.since, &self.before) {
            (None, None) => f.write_str("all versions"),
            (Some(s), None) => write!(f, "{s} and later"),
            (None, Some(b)) => write!(f, "before {b}"),
            (Some(s), Some(b)) => write!(f, "{s} up to (not including) {b}"),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::diagnostics::{Diagnostics, SourceFile};

    pub(crate) fn vocab() -> Vocabulary {
        let text = r#"
[facts.tier]
type = "enum"
name = "Partner tier"
question = "q"
description = "d"
values = { "1-tier" = "1-Tier (Direct Bill)", "2-tier" = "2-Tier" }
[facts.region]
type = "enum"
name = "Region"
question = "q"
description = "d"
values = { us = "US", eu = "EU" }
[facts.version]
type = "version"
name = "Work 365 version"
question = "q"
description = "d"
[facts.aad_premium]
type = "bool"
name = "Azure AD Premium"
question = "q"
description = "d"
[facts.domain]
type = "string"
name = "Domain"
question = "q"
description = "d"
"#;
        let f = SourceFile::new("facts.toml", "facts.toml", text.into());
        let mut d = Diagnostics::default();
        let v = Vocabulary::load(&f, &mut d);
        assert!(!d.has_errors(), "{d}");
        v
    }

    fn p(src: &str) -> Expr {
        parse(src, &vocab()).unwrap_or_else(|e| panic!("{src}: {e:?}"))
    }

    fn err(src: &str) -> ConditionError {
        parse(src, &vocab()).unwrap_err()
    }

    fn facts(pairs: &[(&str, &str)]) -> FactValues {
        let v = vocab();
        pairs
            .iter()
            .map(|(k, val)| (k.to_string(), v.facts[*k].parse_value(val).unwrap()))
            .collect()
    }

    #[test]
    fn precedence_and_binds_tighter_than_or() {
        let e = p(r#"tier == "1-tier" or region == "eu" and aad_premium"#);
        assert_eq!(
            e.to_string(),
            r#"tier == "1-tier" or region == "eu" and aad_premium"#
        );
        assert!(matches!(e, Expr::Or(ref items) if items.len() == 2));
        let e = p(r#"(tier == "1-tier" or region == "eu") and aad_premium"#);
        assert_eq!(
            e.to_string(),
            r#"(tier == "1-tier" or region == "eu") and aad_premium"#
        );
        assert_eq!(
            p("not aad_premium and aad_premium").to_string(),
            "not aad_premium and aad_premium"
        );
    }

    #[test]
    fn versions_order_as_semver() {
        let e = p(r#"version >= "2.5""#);
        assert_eq!(e.eval(&facts(&[("version", "2.10")])), Tri::True);
        assert_eq!(e.eval(&facts(&[("version", "2.4.9")])), Tri::False);
        assert_eq!(e.eval(&facts(&[("version", "2.5.0")])), Tri::True);
        assert_eq!(
            p("version < 3.5").eval(&facts(&[("version", "3.4")])),
            Tri::True
        );
    }

    #[test]
    fn three_valued_evaluation_keeps_the_unknown_part() {
        let e = p(r#"tier == "1-tier" and region in ["eu"]"#);
        let known = facts(&[("region", "eu")]);
        assert_eq!(e.eval(&known), Tri::Unknown);
        assert_eq!(e.residual(&known).to_string(), r#"tier == "1-tier""#);
        assert_eq!(e.eval(&facts(&[("region", "us")])), Tri::False);
        // false and unknown is false; true or unknown is true.
        assert_eq!(
            p(r#"region == "us" or tier == "2-tier""#).eval(&facts(&[("region", "us")])),
            Tri::True
        );
        assert_eq!(
            p(r#"not (region == "us")"#).eval(&FactValues::new()),
            Tri::Unknown
        );
    }

    #[test]
    fn describes_in_words() {
        let v = vocab();
        let e = p(r#"tier == "1-tier" and not aad_premium and region not in ["eu"]"#);
        assert_eq!(
            e.describe(&v),
            "Partner tier is 1-Tier (Direct Bill) and not Azure AD Premium and Region is not one of EU"
        );
        // An `and` inside an `or` keeps its parentheses in words, though not in the language.
        let e = p(r#"tier == "1-tier" or (aad_premium and region == "eu")"#);
        assert_eq!(
            e.describe(&v),
            "Partner tier is 1-Tier (Direct Bill) or (Azure AD Premium and Region is EU)"
        );
        assert_eq!(
            e.to_source(),
            r#"tier == "1-tier" or aad_premium and region == "eu""#
        );
    }

    #[test]
    fn unknown_values_suggest_the_intended_one() {
        let e = err(r#"tier == "1tier""#);
        assert_eq!(e.span, 8..15);
        assert_eq!(e.message, "`1tier` is not a value of fact `tier`");
        assert_eq!(
            e.help.as_deref(),
            Some("did you mean \"1-tier\"? (allowed values: \"1-tier\", \"2-tier\")")
        );
        let e = err(r#"teir == "1-tier""#);
        assert_eq!(e.span, 0..4);
        assert_eq!(e.help.as_deref(), Some("did you mean \"tier\"?"));
    }

    #[test]
    fn syntax_errors_point_at_the_place() {
        assert_eq!(err(r#"tier = "1-tier""#).span, 5..6);
        assert_eq!(
            err(r#"(tier == "1-tier""#).message,
            "expected `)`, found the end of the condition"
        );
        assert_eq!(
            err(r#"tier > "1-tier""#).message,
            "`>` orders values, but `tier` is an enum fact"
        );
        assert_eq!(
            err("region").message,
            "`region` is an enum fact and cannot stand alone"
        );
        assert_eq!(err("aad_premium aad_premium").span, 12..23);
        assert_eq!(err("").message, "empty condition");
        assert_eq!(err("tier == 'x").message, "unterminated string");
        assert_eq!(
            err("aad_premium && aad_premium").help.as_deref(),
            Some("write `and` and `or`")
        );
    }

    #[test]
    fn deep_nesting_is_refused_not_a_crash() {
        let src = format!("{}aad_premium{}", "(".repeat(20_000), ")".repeat(20_000));
        assert!(err(&src).message.contains("nested more than"));
        let src = format!("{}aad_premium", "not ".repeat(20_000));
        assert!(err(&src).message.contains("nested more than"));
    }

    #[test]
    fn satisfiability_within_domains_and_ranges() {
        let v = vocab();
        let all = VersionRange::default();
        let sat = |src: &str, r: &VersionRange| p(src).satisfiable(&v, "version", r).unwrap();
        assert!(!sat(r#"tier == "1-tier" and tier == "2-tier""#, &all));
        assert!(!sat(r#"tier != "1-tier" and tier != "2-tier""#, &all));
        assert!(sat(r#"tier == "1-tier" or tier == "2-tier""#, &all));
        assert!(!sat(r#"version < "2.5" and version >= "2.5""#, &all));
        assert!(sat(r#"version > "2.5" and version < "2.6""#, &all));
        let from_35 = VersionRange {
            since: Some(Version::parse("3.5").unwrap()),
            before: None,
        };
        assert!(!sat(r#"version < "3.5""#, &from_35));
        assert!(sat(r#"version >= "3.5""#, &from_35));
        assert!(!sat(r#"not (version >= "3.5")"#, &from_35));
        assert!(!sat(r#"domain == "a" and domain == "b""#, &all));
        assert!(sat(r#"domain != "a" and domain != "b""#, &all));
        assert!(!sat("aad_premium and not aad_premium", &all));
    }

    #[test]
    fn ranges() {
        let r = |s: Option<&str>, b: Option<&str>| VersionRange {
            since: s.map(|s| Version::parse(s).unwrap()),
            before: b.map(|b| Version::parse(b).unwrap()),
        };
        assert!(!r(None, Some("2.5")).overlaps(&r(Some("2.5"), None)));
        assert!(r(None, Some("2.6")).overlaps(&r(Some("2.5"), None)));
        assert!(r(None, None).overlaps(&r(Some("2.5"), Some("3"))));
        assert_eq!(r(Some("2.5"), None).to_string(), "2.5 and later");
        assert!(r(Some("3"), Some("2")).is_empty());
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        const VERSIONS: [&str; 6] = ["2.4", "2.5", "3.0", "3.5", "3.6", "10.0"];

        fn atom() -> impl Strategy<Value = String> {
            prop_oneof![
                prop::sample::select(vec!["1-tier", "2-tier"])
                    .prop_map(|v| format!("tier == \"{v}\"")),
                prop::sample::select(vec!["1-tier", "2-tier"])
                    .prop_map(|v| format!("tier != \"{v}\"")),
                prop::sample::select(vec!["us", "eu"]).prop_map(|v| format!("region in [\"{v}\"]")),
                (
                    prop::sample::select(vec!["<", "<=", ">", ">=", "==", "!="]),
                    prop::sample::select(VERSIONS.to_vec())
                )
                    .prop_map(|(op, v)| format!("version {op} \"{v}\"")),
                Just("aad_premium".to_string()),
            ]
        }

        /// Random condition source text, up to a few levels deep.
        fn condition() -> impl Strategy<Value = String> {
            atom().prop_recursive(4, 24, 3, |inner| {
                prop_oneof![
                    inner.clone().prop_map(|e| format!("not ({e})")),
                    (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}) and ({b})")),
                    (inner.clone(), inner).prop_map(|(a, b)| format!("({a}) or ({b})")),
                ]
            })
        }

        /// Every full assignment of the facts the generated conditions use.
        fn completions() -> Vec<FactValues> {
            let v = vocab();
            let mut out = Vec::new();
            for tier in ["1-tier", "2-tier"] {
                for region in ["us", "eu"] {
                    for aad in ["true", "false"] {
                        for version in VERSIONS {
                            let pairs = [
                                ("tier", tier),
                                ("region", region),
                                ("aad_premium", aad),
                                ("version", version),
                            ];
                            out.push(
                                pairs
                                    .iter()
                                    .map(|(k, val)| {
                                        (k.to_string(), v.facts[*k].parse_value(val).unwrap())
                                    })
                                    .collect(),
                            );
                        }
                    }
                }
            }
            out
        }

        fn full(e: &Expr, facts: &FactValues) -> bool {
            match e.eval(facts) {
                Tri::True => true,
                Tri::False => false,
                Tri::Unknown => panic!("{e} is unknown under a full assignment"),
            }
        }

        proptest! {
            #[test]
            fn three_valued_agrees_with_every_completion(src in condition(), keep in prop::collection::vec(any::<bool>(), 4)) {
                let e = parse(&src, &vocab()).unwrap();
                for complete in completions() {
                    let partial: FactValues = complete
                        .iter()
                        .zip(&keep)
                        .filter(|(_, k)| **k)
                        .map(|((id, v), _)| (id.clone(), v.clone()))
                        .collect();
                    let whole = full(&e, &complete);
                    match e.eval(&partial) {
                        Tri::True => prop_assert!(whole),
                        Tri::False => prop_assert!(!whole),
                        Tri::Unknown => {}
                    }
                    // What remains, evaluated on the rest, is the whole condition.
                    prop_assert_eq!(full(&e.residual(&partial), &complete), whole);
                }
            }

            #[test]
            fn not_and_de_morgan_hold(a in condition(), b in condition()) {
                let v = vocab();
                let (ea, eb) = (parse(&a, &v).unwrap(), parse(&b, &v).unwrap());
                let not = |e: Expr| Expr::Not(Box::new(e));
                for facts in completions() {
                    prop_assert_eq!(full(&not(ea.clone()), &facts), !full(&ea, &facts));
                    prop_assert_eq!(
                        full(&not(Expr::And(vec![ea.clone(), eb.clone()])), &facts),
                        full(&Expr::Or(vec![not(ea.clone()), not(eb.clone())]), &facts)
                    );
                    prop_assert_eq!(
                        full(&not(Expr::Or(vec![ea.clone(), eb.clone()])), &facts),
                        full(&Expr::And(vec![not(ea.clone()), not(eb.clone())]), &facts)
                    );
                }
            }

            #[test]
            fn printing_and_parsing_agree(src in condition()) {
                let v = vocab();
                let e = parse(&src, &v).unwrap();
                let again = parse(&e.to_string(), &v).unwrap();
                for facts in completions() {
                    prop_assert_eq!(full(&e, &facts), full(&again, &facts));
                }
            }

            #[test]
            fn version_order_is_semver(a in (0u64..20, 0u64..20, 0u64..20), b in (0u64..20, 0u64..20, 0u64..20)) {
                let text = |(x, y, z): (u64, u64, u64)| if z == 0 { format!("{x}.{y}") } else { format!("{x}.{y}.{z}") };
                let (va, vb) = (Version::parse(&text(a)).unwrap(), Version::parse(&text(b)).unwrap());
                let (sa, sb) = (semver::Version::new(a.0, a.1, a.2), semver::Version::new(b.0, b.1, b.2));
                prop_assert_eq!(va.cmp(&vb), sa.cmp(&sb));
                prop_assert_eq!(va.to_string(), text(a));
            }

            #[test]
            fn satisfiable_means_some_completion_is_true(src in condition()) {
                let v = vocab();
                let e = parse(&src, &v).unwrap();
                let any = completions().iter().any(|f| full(&e, f));
                // The version points tried by `satisfiable` include those between the ones
                // named, so it may find a witness the fixed completions miss, never the reverse.
                let sat = e.satisfiable(&v, "version", &VersionRange::default()).unwrap();
                prop_assert!(sat || !any);
            }
        }
    }
}
