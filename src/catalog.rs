//! The runbook catalogue: `runbook list` and `runbook show`.

use std::fmt::Write;

use indexmap::IndexMap;
use serde::Serialize;

use crate::body::{Fill, Template};
use crate::condition::Tri;
use crate::diagnostics::Diagnostic;
use crate::facts::{FactValues, Value};
use crate::profile::Profile;
use crate::project::Project;
use crate::runbook::{Runbook, ShownSource, VERSION_FACT};

#[derive(Debug, Serialize)]
pub struct Entry {
    pub id: String,
    pub title: String,
    pub summary: String,
    pub when: Option<String>,
    pub after: Vec<String>,
    pub revisions: Vec<RevisionEntry>,
}

#[derive(Debug, Serialize)]
pub struct RevisionEntry {
    /// The range in words ("2.5 and later").
    pub versions: String,
    pub since: Option<String>,
    pub before: Option<String>,
    pub date: Option<String>,
    /// Its date, else its id, else "undated".
    pub name: String,
    pub supersedes: Option<String>,
    /// Whether this is the revision used for the newest versions.
    pub current: bool,
    /// The name (date or id) of the revision that replaces this one, if any.
    pub superseded_by: Option<String>,
    pub sections: usize,
    pub steps: usize,
    /// Every source, each with its condition.
    pub sources: Vec<ShownSource>,
}

pub fn entries(project: &Project) -> Vec<Entry> {
    project
        .runbooks
        .iter()
        .map(|rb| entry(project, rb))
        .collect()
}

fn entry(project: &Project, rb: &Runbook) -> Entry {
    let current = rb.revision_index(None);
    Entry {
        id: rb.id.clone(),
        title: rb.title.clone(),
        summary: rb.summary.clone(),
        when: rb.when.as_ref().map(|c| c.expr.to_source()),
        after: rb.after.iter().map(|(a, _)| a.clone()).collect(),
        revisions: rb
            .revisions
            .iter()
            .enumerate()
            .map(|(i, r)| RevisionEntry {
                versions: r.range.to_string(),
                since: r.range.since.as_ref().map(ToString::to_string),
                before: r.range.before.as_ref().map(ToString::to_string),
                date: r.date.clone(),
                name: r.name().to_string(),
                supersedes: r.supersedes.clone(),
                current: current == Some(i),
                superseded_by: rb
                    .revisions
                    .iter()
                    .find(|later| later.supersedes(r))
                    .map(|later| later.name().to_string()),
                sections: r.sections.len(),
                steps: r.steps().count(),
                sources: r.sources_for(&FactValues::new(), &project.vocab),
            })
            .collect(),
    }
}

/// `runbook list` as text: one block per runbook, a line per revision.
pub fn list_text(project: &Project) -> String {
    let mut out = String::new();
    let width = project
        .runbooks
        .iter()
        .map(|r| r.id.len())
        .max()
        .unwrap_or(0);
    let entries = entries(project);
    // Dates are 10 wide; an id may be longer.
    let names = entries
        .iter()
        .flat_map(|e| &e.revisions)
        .map(|r| r.name.chars().count())
        .max()
        .unwrap_or(0)
        .max(10);
    for e in entries {
        let _ = writeln!(out, "{:width$}  {}", e.id, e.title);
        for r in &e.revisions {
            let line = format!(
                "{:width$}    {:<28} {:<names$} {:>3} {}{}",
                "",
                r.versions,
                r.name,
                r.steps,
                if r.steps == 1 { "step " } else { "steps" },
                match (&r.superseded_by, r.current) {
                    (_, true) => "  (current)".to_string(),
                    (Some(by), _) => format!("  (superseded by {by})"),
                    (None, false) => String::new(),
                }
            );
            let _ = writeln!(out, "{}", line.trim_end());
        }
    }
    out
}

/// `runbook show`: one runbook, at the revision for the given facts (or its current one, or
/// the one dated `revision`), with each step's remaining condition.
pub fn show_text(
    project: &Project,
    id: &str,
    profile: &Profile,
    revision: Option<&str>,
) -> Result<String, Diagnostic> {
    let facts = &profile.facts;
    // Step text filled in as conditions are shown: for the facts given, none assumed.
    let bodies = Template::as_given(&project.vocab, &profile.customer, facts);
    let rb = project.find(id)?;
    let vocab = &project.vocab;
    let index = match (revision, facts.get(VERSION_FACT)) {
        (Some(name), _) => rb
            .revisions
            .iter()
            .position(|r| r.is_named(name))
            .ok_or_else(|| {
                let names: Vec<&str> = rb.revisions.iter().map(|r| r.name()).collect();
                Diagnostic::error(format!(
                    "runbook `{id}` has no revision dated or named {name}"
                ))
                .help(format!("its revisions: {}", names.join(", ")))
            })?,
        (None, Some(Value::Version(v))) => rb.revision_index(Some(v)).ok_or_else(|| {
            Diagnostic::error(format!(
                "version {v} is not covered by runbook `{id}`: its revisions cover {}",
                rb.coverage()
            ))
        })?,
        _ => rb
            .revision_index(None)
            .ok_or_else(|| Diagnostic::error(format!("runbook `{id}` has no revisions")))?,
    };
    let rev = &rb.revisions[index];
    let mut out = String::new();
    let _ = writeln!(out, "{} — {}", rb.id, rb.title);
    let _ = writeln!(out, "{}", rb.summary);
    if !rb.audience.is_empty() {
        let _ = writeln!(out, "Audience: {}", rb.audience);
    }
    if let Some(when) = &rb.when {
        let _ = match when.expr.eval(facts) {
            Tri::False => writeln!(
                out,
                "Does not apply to these facts: it applies only if {}",
                when.expr.describe(vocab)
            ),
            _ => writeln!(
                out,
                "Applies only if {}",
                when.expr.residual(facts).describe(vocab)
            ),
        };
    }
    if !rb.after.is_empty() {
        let after: Vec<&str> = rb.after.iter().map(|(a, _)| a.as_str()).collect();
        let _ = writeln!(out, "After: {}", after.join(", "));
    }
    let _ = match rb.revisions.iter().find(|later| later.supersedes(rev)) {
        Some(later) => writeln!(
            out,
            "Revision: {}, superseded by {}",
            rev.label(),
            later.name()
        ),
        None => writeln!(out, "Revision: {}", rev.label()),
    };
    if let Some(e) = rev.estimate {
        let _ = writeln!(out, "Estimated time: {e}");
    }
    for s in rev.sources_for(facts, vocab) {
        let dates = [
            s.published.as_deref().map(|d| format!("published {d}")),
            s.updated.as_deref().map(|d| format!("updated {d}")),
        ];
        let dates: Vec<String> = dates.into_iter().flatten().collect();
        let _ = writeln!(
            out,
            "Source: {} ({}{}{}){}",
            s.title,
            s.place(),
            if dates.is_empty() { "" } else { ", " },
            dates.join(", "),
            s.condition
                .map(|c| format!(", {}", c.text))
                .unwrap_or_default()
        );
    }
    let others: Vec<String> = rb
        .revisions
        .iter()
        .enumerate()
        .filter(|&(i, _)| i != index)
        .map(|(_, r)| r.label())
        .collect();
    if !others.is_empty() {
        let _ = writeln!(out, "Other revisions: {}", others.join("; "));
    }
    for (i, section) in rev.sections.iter().enumerate() {
        let section_when = section.condition();
        if section_when.eval(facts) == Tri::False {
            continue;
        }
        let _ = writeln!(out, "\n{}. {}", i + 1, section.title);
        if let Some(intro) = &section.intro {
            let _ = writeln!(out, "{}", indent(&bodies.fill(intro), 3));
        }
        for (j, step) in section.steps.iter().enumerate() {
            let when = section.condition_of(step);
            if when.eval(facts) == Tri::False {
                continue;
            }
            let _ = write!(out, "   {}.{} {}", i + 1, j + 1, step.title);
            let _ = write!(out, "  [{}#{}]", rb.id, step.id);
            let _ = writeln!(out);
            let mut meta = vec![step.kind.to_string()];
            if let Some(role) = step
                .role
                .as_ref()
                .and_then(|r| vocab.roles.get(vocab.performer(r, facts)))
            {
                meta.push(role.title.clone());
            }
            if let Some(e) = step.estimate {
                meta.push(format!("estimate {e}"));
            }
            let _ = writeln!(out, "       {}", meta.join(" · "));
            let residual = when.residual(facts);
            if !residual.is_true() {
                let _ = writeln!(out, "       only if {}", residual.describe(vocab));
            }
            if !step.body.is_empty() {
                let _ = writeln!(out, "{}", indent(&bodies.fill(&step.body), 7));
            }
            if let Some(w) = &step.wait {
                let _ = writeln!(out, "       Wait {}: {}", w.time, w.note);
            }
            if let Some(x) = &step.expires {
                let _ = writeln!(out, "       Expires after {}: {}", x.time, x.note);
            }
            for p in rev.provenance(step, facts, vocab) {
                let only = p.condition.map(|c| format!(", {}", c.text));
                let _ = writeln!(
                    out,
                    "       From: {}, {}{}",
                    p.title,
                    p.part,
                    only.unwrap_or_default()
                );
            }
        }
    }
    Ok(out)
}

/// `runbook show RUNBOOK --sources`: for each source the runbook's revisions cite, the
/// parts of it that steps encode, with those steps; then the steps that cite nothing. A
/// writer sees what an article still lacks.
pub fn sources_text(project: &Project, id: &str) -> Result<String, Diagnostic> {
    let rb = project.find(id)?;
    // Source (title and place) → part → the steps citing it, each in its revisions.
    let mut by_source: IndexMap<String, IndexMap<String, Vec<String>>> = IndexMap::new();
    let mut uncited: Vec<String> = Vec::new();
    for rev in &rb.revisions {
        for (_, step) in rev.steps() {
            let at = format!("{}#{} ({})", rb.id, step.id, rev.label());
            let cited = rev.provenance(step, &FactValues::new(), &project.vocab);
            if cited.is_empty() && !uncited.contains(&at) {
                uncited.push(at.clone());
            }
            for p in cited {
                let place = [p.article.as_deref(), p.url.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(", ");
                let only = p.condition.map(|c| format!(", {}", c.text));
                let steps = by_source
                    .entry(format!("{} ({place}){}", p.title, only.unwrap_or_default()))
                    .or_default()
                    .entry(p.part)
                    .or_default();
                if !steps.contains(&at) {
                    steps.push(at.clone());
                }
            }
        }
    }
    let mut out = String::new();
    let _ = writeln!(out, "{} — {}: sources of its steps", rb.id, rb.title);
    for (source, parts) in &by_source {
        let _ = writeln!(out, "\n{source}");
        for (part, steps) in parts {
            let _ = writeln!(out, "  {part}");
            for step in steps {
                let _ = writeln!(out, "    {step}");
            }
        }
    }
    if !uncited.is_empty() {
        let _ = writeln!(out, "\nSteps that cite no part of a source");
        for step in &uncited {
            let _ = writeln!(out, "    {step}");
        }
    }
    Ok(out)
}

fn indent(text: &str, n: usize) -> String {
    let pad = " ".repeat(n);
    text.lines()
        .map(|l| {
            if l.is_empty() {
                String::new()
            } else {
                format!("{pad}{l}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}
