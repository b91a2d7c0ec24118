//! Runbooks: one procedure each, in revisions by product version and document date, made of
//! sections and steps. `load` reads them from TOML; `validate` checks them as a whole.

mod library;
pub mod load;
mod params;
pub mod validate;

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::condition::{Expr, Tri, VersionRange};
use crate::diagnostics::{SourceFile, Span};
use crate::duration;
use crate::facts::{FactValues, Version, Vocabulary};

fn no_file() -> Arc<SourceFile> {
    Span::default().file
}

/// The fact that revision ranges (`since`, `before`) are about.
pub const VERSION_FACT: &str = "version";

/// A condition as written, resolved, with its place.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Condition {
    pub expr: Expr,
    #[serde(skip)]
    pub span: Span,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Runbook {
    pub id: String,
    pub title: String,
    pub summary: String,
    pub audience: String,
    pub when: Option<Condition>,
    /// Runbooks this one comes after: a loaded project is already in that order.
    #[serde(skip)]
    pub after: Vec<(String, Span)>,
    pub revisions: Vec<Revision>,
    #[serde(skip, default = "no_file")]
    pub file: Arc<SourceFile>,
    #[serde(skip)]
    pub id_span: Span,
}

impl Runbook {
    /// The revisions that hold for a version, latest-dated first.
    pub fn revisions_for(&self, version: &Version) -> Vec<&Revision> {
        let mut found: Vec<&Revision> = self
            .revisions
            .iter()
            .filter(|r| r.range.contains(version))
            .collect();
        found.sort_by(|a, b| b.date.cmp(&a.date));
        found
    }

    /// Which revision a checklist uses (see `revision_index`).
    pub fn revision_index(&self, version: Option<&Version>) -> Option<usize> {
        revision_index(&self.revisions, version)
    }

    /// The revision for a version: the latest-dated one whose range holds it.
    pub fn revision_for(&self, version: &Version) -> Option<&Revision> {
        self.revision_index(Some(version))
            .map(|i| &self.revisions[i])
    }

    /// The revision for the newest versions, used when the version is not known.
    pub fn current(&self) -> Option<&Revision> {
        self.revision_index(None).map(|i| &self.revisions[i])
    }

    /// Whether the revision at `index` is the current one.
    pub fn is_current(&self, index: usize) -> bool {
        self.revision_index(None) == Some(index)
    }

    /// What must hold for the runbook to apply.
    pub fn condition(&self) -> Expr {
        self.when
            .as_ref()
            .map_or(Expr::Const(true), |c| c.expr.clone())
    }

    /// What must hold for a step of one of its sections to apply: runbook, section and step.
    pub fn condition_of(&self, section: &Section, step: &Step) -> Expr {
        Expr::and(vec![self.condition(), section.condition_of(step)])
    }

    /// The versions some revision covers, for error messages ("2.5 and later").
    pub fn coverage(&self) -> String {
        let mut ranges: Vec<String> = self.revisions.iter().map(|r| r.range.to_string()).collect();
        ranges.dedup();
        ranges.join(", ")
    }
}

/// Which of a runbook's revisions a checklist uses: for a version, the latest-dated one whose
/// range holds it; with the version not known, the current one. An index into `revisions`.
pub fn revision_index(revisions: &[Revision], version: Option<&Version>) -> Option<usize> {
    // A revision another one replaces, where that one also holds, is not a candidate: so
    // undated articles are ordered by `supersedes` alone.
    let holds = |r: &Revision| version.is_none_or(|v| r.range.contains(v));
    let candidates = revisions.iter().enumerate().filter(|(_, r)| {
        !revisions
            .iter()
            .any(|s| s.supersedes(r) && holds(s) && s.range.overlaps(&r.range))
    });
    match version {
        Some(v) => candidates
            .filter(|(_, r)| r.range.contains(v))
            .max_by(|(i, a), (j, b)| a.date.cmp(&b.date).then(j.cmp(i)))
            .map(|(i, _)| i),
        None => candidates
            .max_by(|(_, a), (_, b)| {
                let open = |r: &Revision| r.range.before.is_none();
                open(a)
                    .cmp(&open(b))
                    .then_with(|| a.range.before.cmp(&b.range.before))
                    .then_with(|| a.range.since.cmp(&b.range.since))
                    .then_with(|| a.date.cmp(&b.date))
            })
            .map(|(i, _)| i),
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Revision {
    /// How other revisions and the site's addresses name it, where its date cannot.
    pub id: Option<String>,
    /// The document date, `YYYY-MM-DD`; `None` for an undated article.
    pub date: Option<String>,
    pub range: VersionRange,
    /// The revision it replaces where their versions meet: its date or its id.
    pub supersedes: Option<String>,
    #[serde(skip)]
    pub supersedes_span: Option<Span>,
    pub note: Option<String>,
    /// The time the whole procedure takes, where its article says so rather than per step.
    pub estimate: Option<duration::Span>,
    pub sources: Vec<Source>,
    pub sections: Vec<Section>,
    #[serde(skip)]
    pub span: Span,
}

impl Revision {
    pub fn label(&self) -> String {
        format!("{} ({})", self.range, self.name())
    }

    /// How people and other revisions name it: its date, else its id.
    pub fn name(&self) -> &str {
        self.date
            .as_deref()
            .or(self.id.as_deref())
            .unwrap_or("undated")
    }

    /// Whether `name` (a `supersedes`) names this revision: its date or its id.
    pub fn is_named(&self, name: &str) -> bool {
        self.date.as_deref() == Some(name) || self.id.as_deref() == Some(name)
    }

    /// Whether it replaces `other` where their versions meet.
    pub fn supersedes(&self, other: &Revision) -> bool {
        self.supersedes
            .as_deref()
            .is_some_and(|n| other.is_named(n))
    }

    pub fn steps(&self) -> impl Iterator<Item = (&Section, &Step)> {
        self.sections
            .iter()
            .flat_map(|s| s.steps.iter().map(move |st| (s, st)))
    }
}

/// A document a revision encodes: a file, an address, or both.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Source {
    /// How steps name it in `from`.
    pub id: Option<String>,
    pub title: String,
    pub article: Option<String>,
    pub url: Option<String>,
    pub published: Option<String>,
    pub updated: Option<String>,
    /// The profiles it applies to, where only some (an addendum for one region, say).
    pub when: Option<Condition>,
}

/// Whether a source's `url` can be linked as written: an absolute http(s) address, or a file
/// name relative to where it is shown. Else what is wrong, and how to write it.
pub(super) fn address(url: &str) -> Result<(), (&'static str, &'static str)> {
    const FULL: &str =
        "write the full address, like https://example.com/kb/7, or a relative file name";
    if url.is_empty() || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(("it is empty or has a space", "write a space as %20"));
    }
    let scheme = url.split_once(':').map(|(s, _)| s).filter(|s| {
        s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    });
    match scheme.map(str::to_ascii_lowercase).as_deref() {
        Some("http" | "https") => {
            let rest = url.split_once("://").map_or("", |(_, r)| r);
            let host = rest.split(['/', '?', '#']).next().unwrap_or("");
            let name = host.rsplit('@').next().unwrap_or("");
            if name.is_empty() || name.starts_with(':') {
                Err(("it names no host", FULL))
            } else {
                Ok(())
            }
        }
        Some(_) => Err(("only http and https addresses are linked", FULL)),
        None if url.starts_with(['/', '\\']) || url.contains('\\') => {
            Err(("a file name must be relative, with forward slashes", FULL))
        }
        // `example.com/kb/7` is an address missing its scheme, not a folder named with a dot.
        None if url.starts_with("www.")
            || url
                .split_once('/')
                .is_some_and(|(first, _)| first.contains('.')) =>
        {
            Err(("it has no https://", FULL))
        }
        None => Ok(()),
    }
}

/// A source as it is listed for some facts: with what must still hold for it to apply.
#[derive(Debug, Clone, Serialize)]
pub struct ShownSource {
    pub id: Option<String>,
    pub title: String,
    pub article: Option<String>,
    pub url: Option<String>,
    pub published: Option<String>,
    pub updated: Option<String>,
    /// Its condition as far as the facts leave it open; none where it applies.
    pub condition: Option<ShownCondition>,
}

impl ShownSource {
    /// Where the source is: its file, its address, or both.
    pub fn place(&self) -> String {
        [self.article.as_deref(), self.url.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A condition that is still open: in the language's syntax and in words.
#[derive(Debug, Clone, Serialize)]
pub struct ShownCondition {
    pub expression: String,
    pub text: String,
    pub facts: Vec<String>,
}

/// What of a condition the facts leave open, or `None` where they make it hold.
pub fn shown(residual: &Expr, vocab: &Vocabulary) -> Option<ShownCondition> {
    (!residual.is_true()).then(|| ShownCondition {
        expression: residual.to_source(),
        text: format!("only if {}", residual.describe(vocab)),
        facts: residual.facts().into_iter().collect(),
    })
}

/// The part of a source a step encodes: `from = ["000: Requirements, row 3"]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Cited {
    pub source: String,
    pub part: String,
    #[serde(skip)]
    pub span: Span,
}

/// A citation as shown: the source's title, file or address, and the part.
#[derive(Debug, Clone, Serialize)]
pub struct Provenance {
    pub title: String,
    pub article: Option<String>,
    pub url: Option<String>,
    pub part: String,
    /// The source's condition as far as the facts leave it open.
    pub condition: Option<ShownCondition>,
}

impl Revision {
    /// The sources that apply for these facts, in the order written, each with what must
    /// still hold for it to: those the facts rule out are left out, and with no facts every
    /// source is listed with its condition. Every output that lists sources or citations
    /// asks this, so that they agree.
    pub fn sources_for(&self, facts: &FactValues, vocab: &Vocabulary) -> Vec<ShownSource> {
        self.sources
            .iter()
            .filter_map(|s| {
                let when = s
                    .when
                    .as_ref()
                    .map_or(Expr::Const(true), |c| c.expr.clone());
                (when.eval(facts) != Tri::False).then(|| ShownSource {
                    id: s.id.clone(),
                    title: s.title.clone(),
                    article: s.article.clone(),
                    url: s.url.clone(),
                    published: s.published.clone(),
                    updated: s.updated.clone(),
                    condition: shown(&when.residual(facts), vocab),
                })
            })
            .collect()
    }

    /// The step's citations of sources that apply for these facts (see `sources_for`); those
    /// naming no source are reported by `runbook check` and left out.
    pub fn provenance(
        &self,
        step: &Step,
        facts: &FactValues,
        vocab: &Vocabulary,
    ) -> Vec<Provenance> {
        let sources = self.sources_for(facts, vocab);
        step.from
            .iter()
            .filter_map(|c| {
                let s = sources
                    .iter()
                    .find(|s| s.id.as_deref() == Some(&c.source))?;
                Some(Provenance {
                    title: s.title.clone(),
                    article: s.article.clone(),
                    url: s.url.clone(),
                    part: c.part.clone(),
                    condition: s.condition.clone(),
                })
            })
            .collect()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Section {
    pub id: String,
    pub title: String,
    pub intro: Option<String>,
    /// Every condition that must hold, its own and its include site's.
    pub when: Vec<Condition>,
    pub steps: Vec<Step>,
    #[serde(skip)]
    pub span: Span,
    /// The include site it came through (its `include = "…"`), for a shared section.
    #[serde(skip)]
    pub site: Option<Span>,
}

impl Section {
    /// What must hold for the section to apply (its runbook aside).
    pub fn condition(&self) -> Expr {
        all(&self.when)
    }

    /// What must hold for one of its steps to apply (its runbook aside).
    pub fn condition_of(&self, step: &Step) -> Expr {
        Expr::and(vec![self.condition(), step.condition()])
    }
}

fn all(conditions: &[Condition]) -> Expr {
    Expr::and(conditions.iter().map(|c| c.expr.clone()).collect())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Requirement,
    Action,
    Check,
    Note,
    Warning,
}

impl Kind {
    pub const ALL: [(&'static str, Kind); 5] = [
        ("requirement", Kind::Requirement),
        ("action", Kind::Action),
        ("check", Kind::Check),
        ("note", Kind::Note),
        ("warning", Kind::Warning),
    ];

    pub fn name(self) -> &'static str {
        Kind::ALL
            .iter()
            .find(|(_, k)| *k == self)
            .map_or("action", |(n, _)| n)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Something that takes time: a wait, or the time before something expires.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Timed {
    pub time: duration::Span,
    pub note: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Step {
    pub id: String,
    pub title: String,
    pub body: String,
    pub kind: Kind,
    pub role: Option<String>,
    pub when: Vec<Condition>,
    pub estimate: Option<duration::Span>,
    pub wait: Option<Timed>,
    pub expires: Option<Timed>,
    /// The parts of the revision's sources it encodes.
    pub from: Vec<Cited>,
    /// The shared step it was included from, so a checklist lists it once.
    pub origin: Option<String>,
    #[serde(skip)]
    pub span: Span,
    /// Where the body text starts in the file, when it maps one to one.
    #[serde(skip)]
    pub body_span: Option<Span>,
    /// The include site it came through (its `include = "…"`), for a shared step.
    #[serde(skip)]
    pub site: Option<Span>,
}

impl Step {
    /// What must hold for the step to apply (its section and runbook aside).
    pub fn condition(&self) -> Expr {
        all(&self.when)
    }
}

#[cfg(test)]
mod tests {
    use super::address;

    #[test]
    fn addresses_and_relative_file_names_are_linked() {
        for ok in [
            "https://example.com/kb/7",
            "http://example.com",
            "HTTPS://user@example.com:8443/a?b#c",
            "addenda/eu.html",
            "guide.pdf",
        ] {
            assert_eq!(address(ok), Ok(()), "{ok}");
        }
        for (bad, problem) in [
            (
                "ftp://example.com/a",
                "only http and https addresses are linked",
            ),
            ("https:///a", "it names no host"),
            ("https://:80/a", "it names no host"),
            ("a file.pdf", "it is empty or has a space"),
            ("", "it is empty or has a space"),
            (
                "/etc/guide.pdf",
                "a file name must be relative, with forward slashes",
            ),
            (
                "docs\\guide.pdf",
                "a file name must be relative, with forward slashes",
            ),
            ("example.com/kb/7", "it has no https://"),
            ("www.example.com", "it has no https://"),
        ] {
            assert_eq!(address(bad).map_err(|(p, _)| p), Err(problem), "{bad}");
        }
    }
}
