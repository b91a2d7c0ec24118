//! A checklist for one customer: the runbooks that apply, each at the revision for the
//! customer's version, with the steps whose conditions hold (or may hold, where facts are not
//! known). The structure here is both the JSON output and the templates' context.

use std::collections::{BTreeSet, HashMap};

use serde::Serialize;

use crate::body::Fill;
use crate::condition::{Expr, Tri};
use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::duration;
use crate::facts::{Fact, FactValues, Value, Vocabulary};
use crate::profile::{Customer, Profile};
use crate::project::Project;
pub use crate::runbook::ShownCondition;
use crate::runbook::{
    Kind, Provenance, Revision, Runbook, ShownSource, Step, Timed, VERSION_FACT, shown,
};

/// Version of the JSON schema; bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Serialize)]
pub struct Checklist {
    pub schema: u32,
    pub customer: Customer,
    pub facts: Vec<FactEntry>,
    pub notes: Vec<String>,
    pub runbooks: Vec<ChecklistRunbook>,
    pub totals: Totals,
    /// Facts not given that would change this checklist.
    pub open_facts: Vec<String>,
    /// Steps left out, with the clause that excluded them (filled with `explain`).
    pub excluded: Vec<Excluded>,
    /// Whether it was asked for with `explain`: the templates then show each step's sources.
    pub explained: bool,
}

impl Checklist {
    /// Its steps, by address.
    pub fn steps_by_address(&self) -> HashMap<&str, &ChecklistStep> {
        self.runbooks
            .iter()
            .flat_map(|r| &r.sections)
            .flat_map(|s| &s.steps)
            .map(|s| (s.address.as_str(), s))
            .collect()
    }
}

#[derive(Debug, Serialize)]
pub struct FactEntry {
    pub id: String,
    pub name: String,
    pub question: String,
    /// The value, or null when the profile does not give it.
    pub value: Option<String>,
    /// The value as people read it ("1-Tier (Direct Bill)").
    pub label: Option<String>,
    /// Whether the value is the fact's default, the profile not giving it.
    pub assumed: bool,
}

#[derive(Debug, Serialize)]
pub struct ChecklistRunbook {
    pub number: String,
    pub id: String,
    pub title: String,
    pub summary: String,
    pub revision: RevisionInfo,
    pub condition: Option<ShownCondition>,
    pub explain: Option<String>,
    pub sections: Vec<ChecklistSection>,
}

#[derive(Debug, Serialize)]
pub struct RevisionInfo {
    /// Which of the runbook's revisions (in the order written).
    pub index: usize,
    pub id: Option<String>,
    pub versions: String,
    pub date: Option<String>,
    /// The sources that apply for the facts (see `Revision::sources_for`).
    pub sources: Vec<ShownSource>,
    /// The time the whole procedure takes, as its article gives it.
    pub estimate: Option<Timing>,
}

#[derive(Debug, Serialize)]
pub struct ChecklistSection {
    pub number: String,
    pub id: String,
    pub title: String,
    pub intro: Option<String>,
    pub steps: Vec<ChecklistStep>,
}

#[derive(Debug, Serialize)]
pub struct ChecklistStep {
    pub number: String,
    /// `runbook#step`.
    pub address: String,
    pub id: String,
    pub title: String,
    pub kind: Kind,
    pub role: Option<RoleRef>,
    /// Markdown, with facts, lookups and customer fields filled in.
    pub body: String,
    pub estimate: Option<Timing>,
    pub wait: Option<TimedEntry>,
    pub expires: Option<TimedEntry>,
    /// What must still hold for the step to apply, when facts are missing.
    pub condition: Option<ShownCondition>,
    /// Why it applies (with `explain`), unless it applies to every profile.
    pub explain: Option<String>,
    /// The parts of the source articles it encodes.
    pub from: Vec<Provenance>,
}

#[derive(Debug, Serialize)]
pub struct RoleRef {
    pub id: String,
    pub title: String,
}

#[derive(Debug, Serialize, Clone, Copy)]
pub struct Timing {
    pub min_minutes: u64,
    pub max_minutes: u64,
    pub text: ShownSpan,
}

/// A duration already in words ("5–10 min"), serialized as a string.
#[derive(Debug, Clone, Copy)]
pub struct ShownSpan(pub duration::Span);

impl Serialize for ShownSpan {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

impl From<duration::Span> for Timing {
    fn from(d: duration::Span) -> Self {
        Timing {
            min_minutes: d.min_minutes,
            max_minutes: d.max_minutes,
            text: ShownSpan(d),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct TimedEntry {
    pub time: Timing,
    pub note: String,
}

impl From<&Timed> for TimedEntry {
    fn from(t: &Timed) -> Self {
        TimedEntry {
            time: t.time.into(),
            note: t.note.clone(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Totals {
    pub runbooks: usize,
    pub steps: usize,
    pub estimate: Option<Timing>,
    pub waits: Option<Timing>,
    /// Every wait and expiry, in checklist order, for the summary at the end.
    pub timed: Vec<TimedSummary>,
}

#[derive(Debug, Serialize)]
pub struct TimedSummary {
    pub step: String,
    pub title: String,
    pub what: &'static str,
    pub time: Timing,
    pub note: String,
}

#[derive(Debug, Serialize)]
pub struct Excluded {
    pub address: String,
    pub title: String,
    pub reason: String,
}

/// What to build a checklist for.
pub struct Request<'a> {
    pub profile: &'a Profile,
    /// Only these runbooks (by id), in checklist order; all when empty.
    pub only: &'a [String],
    pub explain: bool,
}

/// The checklist, with step text filled in by `fill` (whose values are the profile's).
pub fn build(project: &Project, req: &Request, fill: &dyn Fill) -> Result<Checklist, Diagnostics> {
    let vocab = &project.vocab;
    let (facts, assumed) = vocab.with_defaults(&req.profile.facts);
    let facts = &facts;
    let mut errors = Diagnostics::default();
    for id in req.only {
        if let Err(d) = project.find(id) {
            errors.push(d);
        }
    }
    if errors.has_errors() {
        return Err(errors);
    }
    let version = match facts.get(VERSION_FACT) {
        Some(Value::Version(v)) => Some(v),
        _ => None,
    };
    let mut notes = Vec::new();
    let mut runbooks = Vec::new();
    let mut excluded = Vec::new();
    // Shared step → where it was listed, and under what remaining condition.
    let mut listed: HashMap<String, Vec<(Expr, String)>> = HashMap::new();
    let mut timed = Vec::new();
    let mut steps_total = 0;
    let mut estimate = duration::Span::default();
    let mut waits = duration::Span::default();
    let mut lookup_facts = BTreeSet::new();
    let mut revisions_vary = false;
    // Step number → citations of the copies of it left out as already listed.
    let mut cited_again: Vec<(String, Vec<Provenance>)> = Vec::new();

    for rb in &project.runbooks {
        if !req.only.is_empty() && !req.only.contains(&rb.id) {
            continue;
        }
        // A runbook asked for by id that these facts leave out is said to be, with why.
        let asked = !req.only.is_empty();
        let when = rb.condition();
        if when.eval(facts) == Tri::False {
            if asked {
                notes.push(format!(
                    "{} (`{}`) does not apply: {}.",
                    rb.title,
                    rb.id,
                    explain_false(&when, facts)
                ));
            }
            if req.explain {
                excluded.push(Excluded {
                    address: rb.id.clone(),
                    title: format!("{} (whole runbook)", rb.title),
                    reason: explain_false(&when, facts),
                });
            }
            continue;
        }
        let index = match version {
            Some(v) => match rb.revision_index(Some(v)) {
                Some(i) => i,
                // A runbook that may not apply has no procedure for this version: it is left
                // out with a note rather than failing the whole checklist.
                None if when.eval(facts) == Tri::Unknown => {
                    notes.push(format!(
                        "{} is left out: it applies only if {}, and has no revision for version {v} (it covers {}).",
                        rb.title,
                        when.residual(facts).describe(vocab),
                        rb.coverage()
                    ));
                    continue;
                }
                None => {
                    errors.push(not_covered(rb, &v.to_string(), vocab));
                    continue;
                }
            },
            None => match rb.revision_index(None) {
                Some(i) => i,
                None => continue,
            },
        };
        let revision = &rb.revisions[index];
        revisions_vary |= rb
            .revisions
            .iter()
            .any(|r| r.range != rb.revisions[0].range);
        let number = (runbooks.len() + 1).to_string();
        let mut sections = Vec::new();
        for section in &revision.sections {
            let section_when = section.condition();
            if section_when.eval(facts) == Tri::False {
                if req.explain {
                    for step in &section.steps {
                        excluded.push(Excluded {
                            address: format!("{}#{}", rb.id, step.id),
                            title: step.title.clone(),
                            reason: explain_false(&section_when, facts),
                        });
                    }
                }
                continue;
            }
            let section_number = format!("{number}.{}", sections.len() + 1);
            let mut steps = Vec::new();
            for step in &section.steps {
                let address = format!("{}#{}", rb.id, step.id);
                let step_when = step.condition();
                if step_when.eval(facts) == Tri::False {
                    if req.explain {
                        excluded.push(Excluded {
                            address,
                            title: step.title.clone(),
                            reason: explain_false(&step_when, facts),
                        });
                    }
                    continue;
                }
                let full = rb.condition_of(section, step);
                let residual = full.residual(facts);
                if let Some(origin) = &step.origin {
                    let earlier = listed.entry(origin.clone()).or_default();
                    // Listed already wherever the earlier place holds: unconditionally, or
                    // under the same remaining condition.
                    let covering = earlier
                        .iter()
                        .find(|(cond, _)| implies(&residual, cond, vocab));
                    if let Some((_, first)) = covering {
                        // The copy left out may cite other articles: the step listed
                        // names them too.
                        cited_again.push((first.clone(), revision.provenance(step, facts, vocab)));
                        if req.explain {
                            excluded.push(Excluded {
                                address,
                                title: step.title.clone(),
                                reason: format!("already listed as step {first}"),
                            });
                        }
                        continue;
                    }
                    earlier.push((
                        residual.clone(),
                        format!("{section_number}.{}", steps.len() + 1),
                    ));
                }
                let step_number = format!("{section_number}.{}", steps.len() + 1);
                steps_total += 1;
                lookup_facts.extend(fill.open_facts(&step.body));
                if let Some(e) = step.estimate {
                    estimate = estimate + e;
                }
                if let Some(w) = &step.wait {
                    waits = waits + w.time;
                    timed.push(summary(&step_number, step, "wait", w));
                }
                if let Some(x) = &step.expires {
                    timed.push(summary(&step_number, step, "expires", x));
                }
                steps.push(ChecklistStep {
                    number: step_number,
                    address,
                    id: step.id.clone(),
                    title: step.title.clone(),
                    kind: step.kind,
                    role: step.role.as_ref().map(|r| {
                        let performer = vocab.performer(r, facts);
                        if let Some(role) = vocab.roles.get(performer) {
                            // A role still undecided leaves the facts that decide it open.
                            for case in &role.cases {
                                lookup_facts.extend(case.when.residual(facts).facts());
                            }
                        }
                        RoleRef {
                            id: performer.to_string(),
                            title: vocab
                                .roles
                                .get(performer)
                                .map_or_else(|| performer.to_string(), |role| role.title.clone()),
                        }
                    }),
                    body: fill.fill(&step.body),
                    estimate: step.estimate.map(Timing::from),
                    wait: step.wait.as_ref().map(TimedEntry::from),
                    expires: step.expires.as_ref().map(TimedEntry::from),
                    condition: shown(&section.condition_of(step).residual(facts), vocab),
                    explain: req
                        .explain
                        .then(|| explain_true(&section.condition_of(step), facts))
                        .flatten(),
                    from: revision.provenance(step, facts, vocab),
                });
            }
            if steps.is_empty() {
                continue;
            }
            sections.push(ChecklistSection {
                number: section_number,
                id: section.id.clone(),
                title: section.title.clone(),
                intro: section.intro.as_ref().map(|i| {
                    lookup_facts.extend(fill.open_facts(i));
                    fill.fill(i)
                }),
                steps,
            });
        }
        if sections.is_empty() {
            if asked {
                notes.push(format!(
                    "{} (`{}`) has no step that applies to these facts{}.",
                    rb.title,
                    rb.id,
                    if req.explain {
                        " (see the excluded steps)"
                    } else {
                        "; --explain says why for each"
                    }
                ));
            }
            continue;
        }
        if let Some(e) = revision.estimate {
            estimate = estimate + e;
        }
        runbooks.push(ChecklistRunbook {
            number,
            id: rb.id.clone(),
            title: rb.title.clone(),
            summary: rb.summary.clone(),
            revision: revision_info(revision, index, facts, vocab),
            condition: shown(&when.residual(facts), vocab),
            explain: req.explain.then(|| explain_true(&when, facts)).flatten(),
            sections,
        });
    }
    if errors.has_errors() {
        return Err(errors);
    }
    for (number, cited) in cited_again {
        let listed = runbooks
            .iter_mut()
            .flat_map(|r| &mut r.sections)
            .flat_map(|s| &mut s.steps)
            .find(|s| s.number == number);
        if let Some(step) = listed {
            for c in cited {
                if !step
                    .from
                    .iter()
                    .any(|f| f.title == c.title && f.part == c.part)
                {
                    step.from.push(c);
                }
            }
        }
    }
    if version.is_none() && vocab.facts.contains_key(VERSION_FACT) {
        notes.push(format!(
            "{} not given: each runbook is shown at its current revision.",
            vocab
                .facts
                .get(VERSION_FACT)
                .map_or("The version", |f| f.name.as_str())
        ));
    }
    if !assumed.is_empty() {
        let said: Vec<String> = vocab
            .facts
            .values()
            .filter(|f| assumed.contains(&f.id))
            .filter_map(|f| {
                Some(format!(
                    "{} is {}",
                    f.name,
                    f.describe_value(facts.get(&f.id)?)
                ))
            })
            .collect();
        notes.push(format!(
            "Assumed, as the profile does not say: {} (the default; set it to change this).",
            said.join(", ")
        ));
    }
    let mut open = condition_facts(&runbooks);
    open.extend(lookup_facts);
    if version.is_none() && revisions_vary {
        open.insert(VERSION_FACT.to_string());
    }
    if !open.is_empty() {
        let names: Vec<String> = vocab
            .facts
            .values()
            .filter(|f| open.contains(&f.id))
            .map(|f| f.name.clone())
            .collect();
        notes.push(format!(
            "Not given: {}. Steps that depend on them are kept and marked with their condition.",
            names.join(", ")
        ));
    }
    Ok(Checklist {
        schema: SCHEMA_VERSION,
        customer: req.profile.customer.clone(),
        facts: vocab
            .facts
            .values()
            .map(|f| FactEntry {
                id: f.id.clone(),
                name: f.name.clone(),
                question: f.question.clone(),
                value: facts.get(&f.id).map(ToString::to_string),
                label: facts.get(&f.id).map(|v| f.describe_value(v)),
                assumed: assumed.contains(&f.id),
            })
            .collect(),
        notes,
        totals: Totals {
            runbooks: runbooks.len(),
            steps: steps_total,
            estimate: (!estimate.is_zero()).then(|| estimate.into()),
            waits: (!waits.is_zero()).then(|| waits.into()),
            timed,
        },
        runbooks,
        open_facts: vocab
            .facts
            .keys()
            .filter(|id| open.contains(*id))
            .cloned()
            .collect(),
        excluded,
        explained: req.explain,
    })
}

/// The facts this checklist leaves open, with their questions: those its remaining
/// conditions mention, lookups in its text depend on, or that chose revisions.
pub fn open_facts<'v>(checklist: &Checklist, vocab: &'v Vocabulary) -> Vec<&'v Fact> {
    vocab
        .facts
        .values()
        .filter(|f| checklist.open_facts.contains(&f.id))
        .collect()
}

/// Whether wherever `a` holds, `b` holds too (so a step listed under `b` covers one under `a`).
fn implies(a: &Expr, b: &Expr, vocab: &Vocabulary) -> bool {
    if b.is_true() || a == b {
        return true;
    }
    let counterexample = Expr::and(vec![a.clone(), Expr::Not(Box::new(b.clone()))]);
    counterexample.satisfiable(vocab, VERSION_FACT, &Default::default()) == Some(false)
}

fn condition_facts(runbooks: &[ChecklistRunbook]) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    for rb in runbooks {
        let conditions = rb
            .condition
            .iter()
            .chain(
                rb.sections
                    .iter()
                    .flat_map(|s| s.steps.iter().filter_map(|st| st.condition.as_ref())),
            )
            // A source listed while it may not apply.
            .chain(
                rb.revision
                    .sources
                    .iter()
                    .filter_map(|s| s.condition.as_ref()),
            );
        for c in conditions {
            ids.extend(c.facts.iter().cloned());
        }
    }
    ids
}

fn not_covered(rb: &Runbook, version: &str, vocab: &Vocabulary) -> Diagnostic {
    let name = vocab
        .facts
        .get(VERSION_FACT)
        .map_or("version", |f| f.name.as_str());
    let mut d = Diagnostic::error(format!(
        "{name} {version} is not covered by runbook `{}` ({}): its revisions cover {}",
        rb.id,
        rb.title,
        rb.coverage()
    ))
    .at(&rb.id_span);
    if let Some(min) = rb
        .revisions
        .iter()
        .filter_map(|r| r.range.since.as_ref())
        .min()
    {
        d = d.help(format!(
            "the minimum version for this runbook is {min}; choose a version it covers"
        ));
    }
    d
}

fn revision_info(
    r: &Revision,
    index: usize,
    facts: &FactValues,
    vocab: &Vocabulary,
) -> RevisionInfo {
    RevisionInfo {
        index,
        id: r.id.clone(),
        versions: r.range.to_string(),
        date: r.date.clone(),
        sources: r.sources_for(facts, vocab),
        estimate: r.estimate.map(Timing::from),
    }
}

fn summary(number: &str, step: &Step, what: &'static str, t: &Timed) -> TimedSummary {
    TimedSummary {
        step: number.to_string(),
        title: step.title.clone(),
        what,
        time: t.time.into(),
        note: t.note.clone(),
    }
}

fn values_of(expr: &Expr, facts: &FactValues) -> String {
    expr.facts()
        .into_iter()
        .filter_map(|id| Some(format!("{id} = {}", facts.get(&id)?)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The clause that makes a false condition false: `tier == "1-tier" is false for tier = 2-tier`.
pub fn explain_false(expr: &Expr, facts: &FactValues) -> String {
    if let Expr::And(items) = expr
        && let Some(item) = items.iter().find(|e| e.eval(facts) == Tri::False)
    {
        return explain_false(item, facts);
    }
    format!("{expr} is false for {}", values_of(expr, facts))
}

/// Why an included step applies: the clauses that hold, or what is still open; `None` for
/// a step that applies to every profile.
pub fn explain_true(expr: &Expr, facts: &FactValues) -> Option<String> {
    Some(match expr.eval(facts) {
        _ if expr.is_true() => return None,
        Tri::True => {
            let clause = match expr {
                Expr::Or(items) => items
                    .iter()
                    .find(|e| e.eval(facts) == Tri::True)
                    .unwrap_or(expr),
                _ => expr,
            };
            format!("{clause} is true for {}", values_of(clause, facts))
        }
        _ => format!("kept because {} is not known", expr.residual(facts)),
    })
}
