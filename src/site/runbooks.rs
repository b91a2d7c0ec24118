//! The runbooks as the site shows them: page models for the templates, the data the checklist
//! builder evaluates in the browser, and the records the search index holds.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde::Serialize;

use crate::body::{self, Fill, Template, Tokens, Values};
use crate::condition::{Expr, Test, Tri};
use crate::facts::{Fact, FactKind, FactValues, Value, Version, Vocabulary};
use crate::project::Project;
use crate::runbook::{Condition, Provenance, Revision, Runbook, ShownSource, Step};

/// Where runbook pages go, under the site root.
pub const DIR: &str = "runbooks";

// ---------------------------------------------------------------------------------------
// Step text: `{{ fact }}`, `{{ lookup }}` and `{{ customer.* }}` are filled in with tokens
// that stay intact through Markdown and sanitizing, then replaced: on the runbook pages with
// the text a checklist shows when nothing is known, in the checklist builder by the browser.

/// Step text as the site renders it: Markdown to sanitized HTML once, with a token where each
/// value goes (`body::token`), then filled in with the text a checklist shows when nothing is
/// known (runbook pages, search) or, in the builder, with the reader's answers.
pub struct Variables {
    template: Template,
    unknown: Tokens,
}

impl Variables {
    pub fn new(vocab: &Vocabulary) -> Self {
        let unknown = Values::general(vocab);
        let mut tokens = unknown.clone();
        for (i, text) in tokens.texts.values_mut().enumerate() {
            *text = body::token(i);
        }
        Variables {
            template: Template::tokenizing(tokens),
            unknown: Tokens::new(unknown),
        }
    }

    /// Markdown step text to sanitized HTML with tokens in place of variables.
    pub fn tokenized_html(&self, text: &str) -> String {
        crate::render::markdown_html(&self.template.fill(text))
    }

    /// Tokens replaced by the text shown when nothing is known (HTML-escaped).
    pub fn static_html(&self, tokenized: &str) -> String {
        self.unknown.fill(tokenized)
    }
}

// ---------------------------------------------------------------------------------------
// Page models.

#[derive(Debug, Clone, Serialize)]
pub struct CondView {
    /// "only if Partner tier is 1-Tier (Direct Bill)".
    pub text: String,
    /// In the condition language.
    pub expression: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct RoleView {
    pub id: String,
    pub title: String,
    pub description: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct TimedView {
    pub time: String,
    pub note: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct StepView {
    pub id: String,
    pub title: String,
    pub kind: &'static str,
    pub role: Option<RoleView>,
    pub conditions: Vec<CondView>,
    pub estimate: Option<String>,
    pub wait: Option<TimedView>,
    pub expires: Option<TimedView>,
    /// Sanitized HTML.
    pub body: String,
    /// The shared step it comes from.
    pub shared: Option<String>,
    /// The parts of the revision's sources it encodes.
    pub from: Vec<Provenance>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SectionView {
    pub id: String,
    pub title: String,
    pub intro: Option<String>,
    pub conditions: Vec<CondView>,
    pub steps: Vec<StepView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RevisionView {
    pub label: String,
    pub versions: String,
    pub since: Option<String>,
    pub before: Option<String>,
    pub id: Option<String>,
    pub date: Option<String>,
    pub supersedes: Option<String>,
    pub note: Option<String>,
    pub estimate: Option<String>,
    pub current: bool,
    /// Root-relative address of the page showing it.
    pub url: String,
    pub sources: Vec<ShownSource>,
    pub step_count: usize,
    pub sections: Vec<SectionView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LinkView {
    pub id: String,
    pub title: String,
    pub url: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct RunbookView {
    pub id: String,
    pub title: String,
    pub summary: String,
    pub audience: String,
    pub url: String,
    pub when: Option<CondView>,
    pub after: Vec<LinkView>,
    /// Every revision, the current one first, then the rest latest-dated first.
    pub revisions: Vec<RevisionView>,
}

/// One page to write: a runbook at one of its revisions.
#[derive(Debug, Clone, Serialize)]
pub struct RunbookPage {
    /// Root-relative address.
    pub address: String,
    pub runbook: RunbookView,
    pub revision: RevisionView,
    /// Index into `project.runbooks` and into that runbook's revisions.
    #[serde(skip)]
    pub source: (usize, usize),
}

pub fn runbook_url(id: &str) -> String {
    format!("{DIR}/{id}.html")
}

fn cond_views(conditions: &[Condition], vocab: &Vocabulary) -> Vec<CondView> {
    conditions
        .iter()
        .map(|c| cond_view(&c.expr, vocab))
        .collect()
}

fn cond_view(expr: &Expr, vocab: &Vocabulary) -> CondView {
    CondView {
        text: format!("only if {}", expr.describe(vocab)),
        expression: expr.to_source(),
    }
}

/// The revision addresses of a runbook: the current one at the runbook's own page, the
/// others under `runbooks/<id>/<date>.html`.
fn revision_urls(rb: &Runbook) -> Vec<String> {
    let current = rb.revision_index(None);
    let mut used: Vec<String> = Vec::new();
    rb.revisions
        .iter()
        .enumerate()
        .map(|(i, r)| {
            if Some(i) == current {
                return runbook_url(&rb.id);
            }
            let base = r.name().to_string();
            let mut slug = base.clone();
            let mut n = 2;
            while used.contains(&slug) {
                slug = format!("{base}-{n}");
                n += 1;
            }
            used.push(slug.clone());
            format!("{DIR}/{}/{slug}.html", rb.id)
        })
        .collect()
}

fn revision_view(
    vocab: &Vocabulary,
    r: &Revision,
    url: String,
    current: bool,
    detail: Option<&Variables>,
) -> RevisionView {
    let sections = match detail {
        None => Vec::new(),
        Some(vars) => r
            .sections
            .iter()
            .map(|s| SectionView {
                id: s.id.clone(),
                title: s.title.clone(),
                intro: s
                    .intro
                    .as_ref()
                    .map(|i| vars.static_html(&vars.tokenized_html(i))),
                conditions: cond_views(&s.when, vocab),
                steps: s
                    .steps
                    .iter()
                    .map(|st| step_view(r, st, vocab, vars))
                    .collect(),
            })
            .collect(),
    };
    RevisionView {
        label: r.label(),
        versions: r.range.to_string(),
        since: r.range.since.as_ref().map(ToString::to_string),
        before: r.range.before.as_ref().map(ToString::to_string),
        id: r.id.clone(),
        date: r.date.clone(),
        supersedes: r.supersedes.clone(),
        note: r.note.clone(),
        estimate: r.estimate.map(|e| e.to_string()),
        current,
        url,
        // A page is for every profile: each source with its condition.
        sources: r.sources_for(&FactValues::new(), vocab),
        step_count: r.steps().count(),
        sections,
    }
}

fn step_view(r: &Revision, st: &Step, vocab: &Vocabulary, vars: &Variables) -> StepView {
    StepView {
        id: st.id.clone(),
        title: st.title.clone(),
        kind: st.kind.name(),
        role: st.role.as_ref().map(|id| match vocab.roles.get(id) {
            Some(role) => RoleView {
                id: id.clone(),
                title: role.title.clone(),
                description: role.description.clone(),
            },
            None => RoleView {
                id: id.clone(),
                title: id.clone(),
                description: String::new(),
            },
        }),
        conditions: cond_views(&st.when, vocab),
        estimate: st.estimate.map(|e| e.to_string()),
        wait: st.wait.as_ref().map(|w| TimedView {
            time: w.time.to_string(),
            note: w.note.clone(),
        }),
        expires: st.expires.as_ref().map(|x| TimedView {
            time: x.time.to_string(),
            note: x.note.clone(),
        }),
        body: vars.static_html(&vars.tokenized_html(&st.body)),
        shared: st.origin.clone(),
        from: r.provenance(st, &FactValues::new(), vocab),
    }
}

/// The runbook's summary for lists: every revision, without their steps.
pub fn runbook_view(project: &Project, rb: &Runbook) -> RunbookView {
    let vocab = &project.vocab;
    let urls = revision_urls(rb);
    let current = rb.revision_index(None);
    let mut revisions: Vec<RevisionView> = rb
        .revisions
        .iter()
        .zip(&urls)
        .enumerate()
        .map(|(i, (r, url))| revision_view(vocab, r, url.clone(), Some(i) == current, None))
        .collect();
    // Current first, then latest-dated first.
    revisions.sort_by(|a, b| b.current.cmp(&a.current).then_with(|| b.date.cmp(&a.date)));
    RunbookView {
        id: rb.id.clone(),
        title: rb.title.clone(),
        summary: rb.summary.clone(),
        audience: rb.audience.clone(),
        url: runbook_url(&rb.id),
        when: rb.when.as_ref().map(|c| cond_view(&c.expr, vocab)),
        after: rb
            .after
            .iter()
            .map(|(id, _)| LinkView {
                id: id.clone(),
                title: project
                    .runbook(id)
                    .map_or_else(|| id.clone(), |r| r.title.clone()),
                url: runbook_url(id),
            })
            .collect(),
        revisions,
    }
}

/// Every runbook page: each runbook at its current revision, and each older revision.
pub fn pages(project: &Project, vars: &Variables) -> Vec<RunbookPage> {
    let mut out = Vec::new();
    for (ri, rb) in project.runbooks.iter().enumerate() {
        let view = runbook_view(project, rb);
        let urls = revision_urls(rb);
        let current = rb.revision_index(None);
        // The current revision's page first.
        let mut order: Vec<usize> = (0..rb.revisions.len()).collect();
        order.sort_by_key(|&i| Some(i) != current);
        for i in order {
            let r = &rb.revisions[i];
            let is_current = Some(i) == current;
            out.push(RunbookPage {
                address: urls[i].clone(),
                runbook: view.clone(),
                revision: revision_view(&project.vocab, r, urls[i].clone(), is_current, Some(vars)),
                source: (ri, i),
            });
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// The checklist builder's data: the resolved project, whose step text is HTML with tokens,
// for the engine the page runs as WebAssembly; the form's facts; the pages' addresses.

/// A fact as the builder's form asks it.
#[derive(Serialize)]
pub struct FactField {
    id: String,
    name: String,
    question: String,
    #[serde(rename = "type")]
    kind: &'static str,
    /// For enum and bool facts.
    values: Vec<FieldValue>,
    /// The default, as people read it.
    default: Option<String>,
}

#[derive(Serialize)]
pub struct FieldValue {
    value: String,
    label: String,
}

fn fact_field(f: &Fact) -> FactField {
    let value = |value: &str, label: &str| FieldValue {
        value: value.into(),
        label: label.into(),
    };
    let values = match &f.kind {
        FactKind::Enum(values) => values.iter().map(|(v, l)| value(v, l)).collect(),
        FactKind::Bool => vec![value("true", "yes"), value("false", "no")],
        FactKind::Version | FactKind::Str => Vec::new(),
    };
    FactField {
        id: f.id.clone(),
        name: f.name.clone(),
        question: f.question.clone(),
        kind: f.kind.type_name(),
        values,
        default: f.default.as_ref().map(|v| f.describe_value(v)),
    }
}

#[derive(Serialize)]
pub struct BuilderData {
    pub facts: Vec<FactField>,
    /// Suggestions for the version field.
    pub versions: Vec<String>,
    /// Runbook id → the address of each of its revisions, in the order written.
    pub urls: BTreeMap<String, Vec<String>>,
    /// What the engine's `load` reads (postcard, in base64; a binary format keeps the engine's
    /// reader small): the project with step text as tokenized HTML, and each step's text as
    /// written (Markdown) in the order of its steps, which a run pins filled in, as the command
    /// line does.
    pub load: String,
}

pub fn checklist_data(project: &Project, vars: &Variables) -> BuilderData {
    let mut shipped = runbook_core::project::Project {
        vocab: project.vocab.clone(),
        runbooks: project.runbooks.clone(),
    };
    let mut markdown = Vec::new();
    for rb in &mut shipped.runbooks {
        for r in &mut rb.revisions {
            for s in &mut r.sections {
                s.intro = s.intro.as_ref().map(|i| vars.tokenized_html(i));
                for st in &mut s.steps {
                    markdown.push(st.body.clone());
                    st.body = vars.tokenized_html(&st.body);
                }
            }
        }
    }
    BuilderData {
        facts: project.vocab.facts.values().map(fact_field).collect(),
        versions: known_versions(project),
        urls: project
            .runbooks
            .iter()
            .map(|rb| (rb.id.clone(), revision_urls(rb)))
            .collect(),
        load: base64::engine::general_purpose::STANDARD
            .encode(postcard::to_allocvec(&(shipped, markdown)).expect("a project serializes")),
    }
}

/// Versions the runbooks name (revision bounds and condition literals), sorted: suggestions
/// for the version field.
fn known_versions(project: &Project) -> Vec<String> {
    let mut versions: Vec<Version> = Vec::new();
    let add_expr = |e: &Expr, versions: &mut Vec<Version>| {
        for a in e.atoms() {
            match &a.test {
                Test::Cmp(_, Value::Version(v)) => versions.push(v.clone()),
                Test::In(vs) => versions.extend(vs.iter().filter_map(|v| match v {
                    Value::Version(v) => Some(v.clone()),
                    _ => None,
                })),
                _ => {}
            }
        }
    };
    for rb in &project.runbooks {
        if let Some(w) = &rb.when {
            add_expr(&w.expr, &mut versions);
        }
        for r in &rb.revisions {
            versions.extend(r.range.since.iter().cloned());
            versions.extend(r.range.before.iter().cloned());
            for (s, st) in r.steps() {
                for c in s.when.iter().chain(&st.when) {
                    add_expr(&c.expr, &mut versions);
                }
            }
        }
    }
    versions.sort();
    versions.dedup();
    versions.iter().map(ToString::to_string).collect()
}

// ---------------------------------------------------------------------------------------
// Search: facts become pagefind filters. A step carries, for each enum or bool fact, the
// values for which its condition (with its runbook's and section's) can still hold.

pub fn filter_facts(vocab: &Vocabulary) -> Vec<&Fact> {
    vocab
        .facts
        .values()
        .filter(|f| f.domain().is_some())
        .collect()
}

pub fn filters_for(expr: &Expr, vocab: &Vocabulary) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    for fact in filter_facts(vocab) {
        let values: Vec<String> = fact
            .domain()
            .unwrap_or_default()
            .into_iter()
            .filter(|v| {
                let mut known = FactValues::new();
                known.insert(fact.id.clone(), v.clone());
                expr.eval(&known) != Tri::False
            })
            .map(|v| Fact::key_of(&v))
            .collect();
        out.insert(fact.id.clone(), values);
    }
    out
}

/// Every value of every filter fact: for pages that apply to everyone.
pub fn all_filters(vocab: &Vocabulary) -> BTreeMap<String, Vec<String>> {
    filters_for(&Expr::Const(true), vocab)
}

#[derive(Clone, PartialEq)]
pub struct SearchRecord {
    pub url: String,
    pub title: String,
    pub content: String,
    pub meta: BTreeMap<String, String>,
    pub filters: BTreeMap<String, Vec<String>>,
}

/// A record per runbook and per step of its current revision.
pub fn search_records(project: &Project, vars: &Variables) -> Vec<SearchRecord> {
    let vocab = &project.vocab;
    let mut out = Vec::new();
    for rb in &project.runbooks {
        let rb_when = rb.condition();
        let url = runbook_url(&rb.id);
        let mut meta = BTreeMap::new();
        meta.insert("title".to_string(), rb.title.clone());
        meta.insert("kind".to_string(), "runbook".to_string());
        out.push(SearchRecord {
            url: url.clone(),
            title: rb.title.clone(),
            content: format!("{}. {} {}", rb.title, rb.summary, rb.audience),
            meta,
            filters: filters_for(&rb_when, vocab),
        });
        let Some(rev) = rb.current() else { continue };
        for (section, step) in rev.steps() {
            let full = rb.condition_of(section, step);
            let body =
                super::markdown::plain_text(&vars.static_html(&vars.tokenized_html(&step.body)));
            let role = step
                .role
                .as_ref()
                .and_then(|r| vocab.roles.get(r))
                .map(|r| r.title.clone())
                .unwrap_or_default();
            let mut meta = BTreeMap::new();
            meta.insert("title".to_string(), step.title.clone());
            meta.insert("runbook".to_string(), rb.title.clone());
            meta.insert("section".to_string(), section.title.clone());
            meta.insert("kind".to_string(), "step".to_string());
            if !role.is_empty() {
                meta.insert("role".to_string(), role.clone());
            }
            out.push(SearchRecord {
                url: format!("{url}#{}", step.id),
                title: step.title.clone(),
                content: format!("{}. {} {}", step.title, body, role),
                meta,
                filters: filters_for(&full, vocab),
            });
        }
    }
    out
}
