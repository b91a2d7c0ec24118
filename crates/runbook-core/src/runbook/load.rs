//! Reading runbook and shared files, and resolving them into the model: conditions parsed,
//! includes expanded, durations and roles checked. Every problem becomes a diagnostic; what
//! can still be built is built, so that one run reports as much as it can.

use std::collections::HashMap;
use std::sync::Arc;

use indexmap::IndexMap;
use serde::Deserialize;
use toml::Spanned;
use toml::value::Datetime;

use super::{
    Cited, Condition, Kind, Revision, Runbook, Section, Source, Step, Timed, VERSION_FACT,
};
use crate::condition::{self, VersionRange};
use crate::diagnostics::{Diagnostic, Diagnostics, SourceFile, Span, did_you_mean};
use crate::duration;
use crate::facts::{FactKind, Version, Vocabulary};
use crate::toml_file::{self, span_of};

pub use super::library::Library;
use super::library::{Shared, add_shared};
use super::params::Params;

#[derive(Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RawRunbook {
    #[cfg_attr(feature = "schema", schemars(with = "String"))]
    id: Spanned<String>,
    title: String,
    summary: String,
    #[serde(default)]
    audience: String,
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>"))]
    when: Option<Spanned<String>>,
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(with = "Vec<String>"))]
    after: Vec<Spanned<String>>,
    #[serde(default, rename = "revision")]
    #[cfg_attr(feature = "schema", schemars(with = "Vec<RawRevision>"))]
    revisions: Vec<Spanned<RawRevision>>,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
struct RawRevision {
    /// How other revisions and the site's address name it, where a date cannot.
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>"))]
    id: Option<Spanned<String>>,
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>"))]
    date: Option<Spanned<Datetime>>,
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>"))]
    since: Option<Spanned<String>>,
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>"))]
    before: Option<Spanned<String>>,
    /// The revision it replaces where their versions meet: its date or its id.
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>"))]
    supersedes: Option<Spanned<RawRevisionName>>,
    note: Option<String>,
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>"))]
    estimate: Option<Spanned<String>>,
    #[serde(default, rename = "source")]
    sources: Vec<RawSource>,
    #[serde(default, rename = "section")]
    #[cfg_attr(feature = "schema", schemars(with = "Vec<RawSection>"))]
    sections: Vec<Spanned<RawSection>>,
}

/// A revision as another names it: by date (`supersedes = 2020-09-28`) or by id.
#[derive(Deserialize)]
#[serde(untagged)]
enum RawRevisionName {
    Date(Datetime),
    Id(String),
}

#[derive(Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
struct RawSource {
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>"))]
    id: Option<Spanned<String>>,
    #[cfg_attr(feature = "schema", schemars(with = "String"))]
    title: Spanned<String>,
    article: Option<String>,
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>"))]
    url: Option<Spanned<String>>,
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>"))]
    published: Option<Spanned<Datetime>>,
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>"))]
    updated: Option<Spanned<Datetime>>,
    /// The profiles it applies to, where only some.
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>"))]
    when: Option<Spanned<String>>,
}

#[derive(Deserialize, Clone)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub(super) struct RawSection {
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>"))]
    id: Option<Spanned<String>>,
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>"))]
    include: Option<Spanned<String>>,
    /// At an include site: values for the `{{ param.NAME }}` of the included text.
    #[cfg_attr(
        feature = "schema",
        schemars(with = "Option<IndexMap<String, String>>")
    )]
    with: Option<Spanned<IndexMap<String, String>>>,
    title: Option<String>,
    intro: Option<String>,
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>"))]
    role: Option<Spanned<String>>,
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>"))]
    when: Option<Spanned<String>>,
    #[serde(default, rename = "step")]
    #[cfg_attr(feature = "schema", schemars(with = "Vec<RawStep>"))]
    steps: Vec<Spanned<RawStep>>,
}

#[derive(Deserialize, Clone)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub(super) struct RawStep {
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>"))]
    id: Option<Spanned<String>>,
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>"))]
    include: Option<Spanned<String>>,
    /// At an include site: values for the `{{ param.NAME }}` of the included text.
    #[cfg_attr(
        feature = "schema",
        schemars(with = "Option<IndexMap<String, String>>")
    )]
    with: Option<Spanned<IndexMap<String, String>>>,
    title: Option<String>,
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>"))]
    body: Option<Spanned<String>>,
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>"))]
    kind: Option<Spanned<String>>,
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>"))]
    role: Option<Spanned<String>>,
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>"))]
    when: Option<Spanned<String>>,
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>"))]
    estimate: Option<Spanned<String>>,
    wait: Option<RawTimed>,
    expires: Option<RawTimed>,
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(with = "Vec<String>"))]
    from: Vec<Spanned<String>>,
}

#[derive(Deserialize, Clone)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
struct RawTimed {
    #[cfg_attr(feature = "schema", schemars(with = "String"))]
    time: Spanned<String>,
    note: String,
}

/// A file of sections and steps written once and included where they recur.
#[derive(Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RawShared {
    #[serde(default, rename = "section")]
    #[cfg_attr(feature = "schema", schemars(with = "Vec<RawSection>"))]
    sections: Vec<Spanned<RawSection>>,
    #[serde(default, rename = "step")]
    #[cfg_attr(feature = "schema", schemars(with = "Vec<RawStep>"))]
    steps: Vec<Spanned<RawStep>>,
}

impl Shared for RawSection {
    const WHAT: &'static str = "shared section";
    fn id(&self) -> Option<&Spanned<String>> {
        self.id.as_ref()
    }
}

impl Shared for RawStep {
    const WHAT: &'static str = "shared step";
    fn id(&self) -> Option<&Spanned<String>> {
        self.id.as_ref()
    }
}

impl Library {
    pub fn add(&mut self, file: &Arc<SourceFile>, shared: RawShared, diags: &mut Diagnostics) {
        add_shared(&mut self.sections, file, shared.sections, diags);
        add_shared(&mut self.steps, file, shared.steps, diags);
    }
}

/// Resolves raw files into the model against the vocabulary and the library.
pub struct Resolver<'a> {
    pub vocab: &'a Vocabulary,
    pub library: &'a Library,
    pub diags: &'a mut Diagnostics,
}

/// The include chain being expanded, to catch cycles.
type Stack = Vec<String>;

impl Resolver<'_> {
    pub fn runbook(&mut self, file: &Arc<SourceFile>, raw: RawRunbook) -> Runbook {
        let when = raw.when.as_ref().and_then(|w| self.condition(file, w));
        let mut revisions = Vec::new();
        if raw.revisions.is_empty() {
            self.diags.push(
                Diagnostic::error(format!("runbook `{}` has no revisions", raw.id.get_ref()))
                    .at(&span_of(file, &raw.id))
                    .help("add at least one [[revision]] with its [[revision.section]]s"),
            );
        }
        for rev in &raw.revisions {
            revisions.push(self.revision(file, rev));
        }
        Runbook {
            id: raw.id.get_ref().clone(),
            id_span: span_of(file, &raw.id),
            title: raw.title,
            summary: raw.summary,
            audience: raw.audience,
            when,
            after: raw
                .after
                .iter()
                .map(|a| (a.get_ref().clone(), span_of(file, a)))
                .collect(),
            revisions,
            file: Arc::clone(file),
        }
    }

    fn revision(&mut self, file: &Arc<SourceFile>, raw: &Spanned<RawRevision>) -> Revision {
        let span = span_of(file, raw);
        let rev = raw.get_ref();
        let range = VersionRange {
            since: rev.since.as_ref().and_then(|v| self.version(file, v)),
            before: rev.before.as_ref().and_then(|v| self.version(file, v)),
        };
        if range.is_empty() {
            let at = rev
                .since
                .as_ref()
                .map_or(span.clone(), |s| span_of(file, s));
            self.diags.push(
                Diagnostic::error(format!(
                    "revision range is empty: `since` {} is not before `before` {}",
                    range
                        .since
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_default(),
                    range
                        .before
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_default()
                ))
                .at(&at),
            );
        }
        let mut sections = Vec::new();
        for section in &rev.sections {
            if let Some(s) = self.section(file, section, &mut Vec::new()) {
                sections.push(s);
            }
        }
        let sources: Vec<Source> = rev.sources.iter().map(|s| self.source(file, s)).collect();
        let supersedes_span = rev.supersedes.as_ref().map(|name| span_of(file, name));
        let supersedes = rev
            .supersedes
            .as_ref()
            .and_then(|name| match name.get_ref() {
                RawRevisionName::Date(d) => self.date(file, &Spanned::new(name.span(), *d)),
                RawRevisionName::Id(id) => Some(id.clone()),
            });
        Revision {
            id: rev.id.as_ref().and_then(|id| self.revision_id(file, id)),
            date: rev.date.as_ref().and_then(|d| self.date(file, d)),
            range,
            supersedes,
            supersedes_span,
            note: rev.note.clone(),
            estimate: rev.estimate.as_ref().and_then(|e| self.duration(file, e)),
            sources,
            sections,
            span,
        }
    }

    fn source(&mut self, file: &Arc<SourceFile>, raw: &RawSource) -> Source {
        if raw.article.is_none() && raw.url.is_none() {
            self.diags.push(
                Diagnostic::error("a source needs an `article` (a file name) or a `url`")
                    .at(&span_of(file, &raw.title)),
            );
        }
        if let Some(url) = &raw.url
            && let Err((problem, help)) = super::address(url.get_ref())
        {
            self.diags.push(
                Diagnostic::error(format!("`{}` is not an address: {problem}", url.get_ref()))
                    .at(&span_of(file, url))
                    .help(help),
            );
        }
        if let Some(id) = &raw.id
            && !valid_id(id.get_ref())
        {
            self.diags.push(
                Diagnostic::error(format!("`{}` is not a valid id", id.get_ref()))
                    .at(&span_of(file, id))
                    .help("use lowercase letters, digits and dashes, like `000` or `install-2019`"),
            );
        }
        Source {
            id: raw.id.as_ref().map(|i| i.get_ref().clone()),
            title: raw.title.get_ref().clone(),
            article: raw.article.clone(),
            url: raw.url.as_ref().map(|u| u.get_ref().clone()),
            published: raw.published.as_ref().and_then(|d| self.date(file, d)),
            updated: raw.updated.as_ref().and_then(|d| self.date(file, d)),
            when: raw.when.as_ref().and_then(|w| self.condition(file, w)),
        }
    }

    /// `from = ["000: Requirements, row 3"]`: a source id, a colon, and the part.
    fn cited(&mut self, file: &Arc<SourceFile>, raw: &Spanned<String>) -> Option<Cited> {
        let text = raw.get_ref();
        match text.split_once(':') {
            Some((source, part)) if !source.trim().is_empty() && !part.trim().is_empty() => {
                Some(Cited {
                    source: source.trim().to_string(),
                    part: part.trim().to_string(),
                    span: span_of(file, raw),
                })
            }
            _ => {
                self.diags.push(
                    Diagnostic::error(format!("`{text}` does not name a source and a part"))
                        .at(&span_of(file, raw))
                        .help("write the source's id, a colon and the part, like \"000: Requirements, row 3\""),
                );
                None
            }
        }
    }

    fn version(&mut self, file: &Arc<SourceFile>, v: &Spanned<String>) -> Option<Version> {
        let span = span_of(file, v);
        match self.vocab.facts.get(VERSION_FACT) {
            Some(f) if f.kind == FactKind::Version => {}
            None if self.vocab.is_broken(VERSION_FACT) => return None,
            _ => {
                self.diags.push(
                    Diagnostic::error(format!("revision ranges need a fact `{VERSION_FACT}` of type version"))
                        .at(&span)
                        .help(format!("declare [facts.{VERSION_FACT}] with type = \"version\" in runbooks/facts.toml")),
                );
                return None;
            }
        }
        Version::parse(v.get_ref())
            .map_err(|m| self.diags.push(Diagnostic::error(m).at(&span)))
            .ok()
    }

    fn date(&mut self, file: &Arc<SourceFile>, d: &Spanned<Datetime>) -> Option<String> {
        let dt = d.get_ref();
        match (&dt.date, &dt.time) {
            (Some(date), None) => Some(date.to_string()),
            _ => {
                self.diags.push(
                    Diagnostic::error(format!("`{dt}` is not a plain date"))
                        .at(&span_of(file, d))
                        .help("write the date alone, like 2020-09-28"),
                );
                None
            }
        }
    }

    fn revision_id(&mut self, file: &Arc<SourceFile>, id: &Spanned<String>) -> Option<String> {
        if valid_id(id.get_ref()) {
            return Some(id.get_ref().clone());
        }
        self.diags.push(
            Diagnostic::error(format!("`{}` is not a valid id", id.get_ref()))
                .at(&span_of(file, id))
                .help("use lowercase letters, digits and dashes, like `v3` or `tenant-admin`"),
        );
        None
    }

    fn condition(&mut self, file: &Arc<SourceFile>, text: &Spanned<String>) -> Option<Condition> {
        condition::parse_in_file(file, text, self.vocab, self.diags)
            .map(|(expr, span)| Condition { expr, span })
    }

    fn role(&mut self, file: &Arc<SourceFile>, role: &Spanned<String>) -> Option<String> {
        let id = role.get_ref();
        if self.vocab.roles.contains_key(id) {
            return Some(id.clone());
        }
        if self.vocab.is_broken(id) {
            return None;
        }
        let mut d = Diagnostic::error(format!("unknown role `{id}`"))
            .at(&span_of(file, role))
            .label("not declared under [roles] in the facts file");
        if let Some(close) = did_you_mean(id, self.vocab.roles.keys().map(String::as_str)) {
            d = d.help(format!("did you mean \"{close}\"?"));
        }
        self.diags.push(d);
        None
    }

    fn section(
        &mut self,
        file: &Arc<SourceFile>,
        raw: &Spanned<RawSection>,
        stack: &mut Stack,
    ) -> Option<Section> {
        let span = span_of(file, raw);
        let s = raw.get_ref();
        let mut when: Vec<Condition> = s
            .when
            .iter()
            .filter_map(|w| self.condition(file, w))
            .collect();
        let role = s.role.as_ref().and_then(|r| self.role(file, r));
        if let Some(include) = &s.include {
            if let Some(key) = s
                .title
                .as_ref()
                .map(|_| "title")
                .or(s.intro.as_ref().map(|_| "intro"))
                .or((!s.steps.is_empty()).then_some("step"))
            {
                self.diags.push(
                    Diagnostic::error(format!("a section with `include` cannot also have `{key}`"))
                        .at(&span_of(file, include))
                        .help("an include site may only set `id`, `when`, `role` and `with`; edit the shared section itself"),
                );
                return None;
            }
            let mut section = self.included(
                "section",
                file,
                include,
                stack,
                &self.library.sections,
                Self::section,
            )?;
            section.site = Some(span_of(file, include));
            let mut params = Params::new(s.with.as_ref());
            section.title = params.fill(&section.title);
            section.intro = section.intro.map(|i| params.fill(&i));
            for step in &mut section.steps {
                params.fill_step(step);
            }
            params.report(self, file, include, "section");
            section.when.extend(when);
            if let Some(id) = &s.id {
                section.id = id.get_ref().clone();
                section.span = span_of(file, id);
            }
            if let Some(role) = role {
                for step in &mut section.steps {
                    step.role = Some(role.clone());
                }
            }
            return Some(section);
        }
        if let Some(with) = &s.with {
            self.diags
                .push(Params::without_include(file, with, "section"));
        }
        let (Some(id), Some(title)) = (&s.id, &s.title) else {
            self.diags.push(
                Diagnostic::error("a section needs `id` and `title`, or `include`")
                    .at(&span)
                    .help("write id = \"...\" and title = \"...\", or include = \"<shared section id>\""),
            );
            return None;
        };
        let mut steps = Vec::new();
        for step in &s.steps {
            if let Some(mut st) = self.step(file, step, stack) {
                if st.role.is_none() {
                    st.role.clone_from(&role);
                }
                steps.push(st);
            }
        }
        if s.steps.is_empty() {
            self.diags.push(
                Diagnostic::error(format!("section `{}` has no steps", id.get_ref()))
                    .at(&span_of(file, id)),
            );
        }
        when.shrink_to_fit();
        Some(Section {
            id: id.get_ref().clone(),
            title: title.clone(),
            intro: s.intro.clone(),
            when,
            steps,
            span,
            site: None,
        })
    }

    fn step(
        &mut self,
        file: &Arc<SourceFile>,
        raw: &Spanned<RawStep>,
        stack: &mut Stack,
    ) -> Option<Step> {
        let span = span_of(file, raw);
        let s = raw.get_ref();
        let when: Vec<Condition> = s
            .when
            .iter()
            .filter_map(|w| self.condition(file, w))
            .collect();
        let role = s.role.as_ref().and_then(|r| self.role(file, r));
        if let Some(include) = &s.include {
            let extra = [
                s.title.as_ref().map(|_| "title"),
                s.body.as_ref().map(|_| "body"),
                s.kind.as_ref().map(|_| "kind"),
                s.estimate.as_ref().map(|_| "estimate"),
                s.wait.as_ref().map(|_| "wait"),
                s.expires.as_ref().map(|_| "expires"),
                (!s.from.is_empty()).then_some("from"),
            ];
            if let Some(key) = extra.into_iter().flatten().next() {
                self.diags.push(
                    Diagnostic::error(format!("a step with `include` cannot also have `{key}`"))
                        .at(&span_of(file, include))
                        .help("an include site may only set `id`, `when`, `role` and `with`; edit the shared step itself"),
                );
                return None;
            }
            let mut step = self.included(
                "step",
                file,
                include,
                stack,
                &self.library.steps,
                Self::step,
            )?;
            step.site = Some(span_of(file, include));
            let mut params = Params::new(s.with.as_ref());
            params.fill_step(&mut step);
            params.report(self, file, include, "step");
            step.when.extend(when);
            if let Some(id) = &s.id {
                step.id = id.get_ref().clone();
                step.span = span_of(file, id);
            }
            if role.is_some() {
                step.role = role;
            }
            // Included with other values, it is another step: listed apart in a checklist.
            let origin = match &s.with {
                Some(with) => {
                    let values: Vec<String> = with
                        .get_ref()
                        .iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect();
                    format!("{}({})", include.get_ref(), values.join(", "))
                }
                None => include.get_ref().clone(),
            };
            step.origin.get_or_insert(origin);
            return Some(step);
        }
        if let Some(with) = &s.with {
            self.diags.push(Params::without_include(file, with, "step"));
        }
        let (Some(id), Some(title)) = (&s.id, &s.title) else {
            self.diags.push(
                Diagnostic::error("a step needs `id` and `title`, or `include`")
                    .at(&span)
                    .help(
                        "write id = \"...\" and title = \"...\", or include = \"<shared step id>\"",
                    ),
            );
            return None;
        };
        if !valid_id(id.get_ref()) {
            self.diags.push(
                Diagnostic::error(format!("`{}` is not a valid id", id.get_ref()))
                    .at(&span_of(file, id))
                    .help("use lowercase letters, digits and dashes, like `register-mfa`"),
            );
        }
        let kind = match &s.kind {
            None => Kind::Action,
            Some(k) => match Kind::ALL.iter().find(|(name, _)| name == k.get_ref()) {
                Some((_, kind)) => *kind,
                None => {
                    let mut d = Diagnostic::error(format!("unknown step kind `{}`", k.get_ref()))
                        .at(&span_of(file, k))
                        .label("expected requirement, action, check, note or warning");
                    if let Some(close) =
                        did_you_mean(k.get_ref(), Kind::ALL.iter().map(|(n, _)| *n))
                    {
                        d = d.help(format!("did you mean \"{close}\"?"));
                    }
                    self.diags.push(d);
                    Kind::Action
                }
            },
        };
        let estimate = s.estimate.as_ref().and_then(|e| self.duration(file, e));
        let wait = s.wait.as_ref().and_then(|t| self.timed(file, t));
        let expires = s.expires.as_ref().and_then(|t| self.timed(file, t));
        let from = s.from.iter().filter_map(|c| self.cited(file, c)).collect();
        let body = s
            .body
            .as_ref()
            .map(|b| b.get_ref().trim_end().to_string())
            .unwrap_or_default();
        let body_span = s.body.as_ref().map(|b| {
            toml_file::string_contents(file, b)
                .map_or_else(|| span_of(file, b), |r| Span::new(file, r))
        });
        Some(Step {
            id: id.get_ref().clone(),
            title: title.clone(),
            body,
            kind,
            role,
            when,
            estimate,
            wait,
            expires,
            from,
            origin: None,
            span: span_of(file, id),
            body_span,
            site: None,
        })
    }

    fn duration(
        &mut self,
        file: &Arc<SourceFile>,
        text: &Spanned<String>,
    ) -> Option<duration::Span> {
        duration::Span::parse(text.get_ref())
            .map_err(|m| {
                self.diags
                    .push(Diagnostic::error(m).at(&span_of(file, text)))
            })
            .ok()
    }

    fn timed(&mut self, file: &Arc<SourceFile>, raw: &RawTimed) -> Option<Timed> {
        Some(Timed {
            time: self.duration(file, &raw.time)?,
            note: raw.note.clone(),
        })
    }

    /// What an include site names: the shared section or step, made by `make` (which
    /// expands its own includes in turn), or `None` once a missing target or a cycle is
    /// reported.
    fn included<R, T>(
        &mut self,
        what: &str,
        file: &Arc<SourceFile>,
        include: &Spanned<String>,
        stack: &mut Stack,
        shared: &'_ HashMap<String, (Arc<SourceFile>, Spanned<R>)>,
        make: fn(&mut Self, &Arc<SourceFile>, &Spanned<R>, &mut Stack) -> Option<T>,
    ) -> Option<T> {
        let target = include.get_ref();
        let Some((shared_file, raw)) = shared.get(target) else {
            self.missing_include(what, target, &span_of(file, include), shared.keys());
            return None;
        };
        if stack.contains(target) {
            self.cycle(stack, target, &span_of(file, include));
            return None;
        }
        stack.push(target.clone());
        let made = make(self, &Arc::clone(shared_file), raw, stack);
        stack.pop();
        made
    }

    fn missing_include<'k>(
        &mut self,
        what: &str,
        target: &str,
        span: &Span,
        known: impl Iterator<Item = &'k String>,
    ) {
        let known: Vec<&str> = known.map(String::as_str).collect();
        let mut d = Diagnostic::error(format!("no shared {what} `{target}` to include"))
            .at(span)
            .label("not defined in runbooks/shared/");
        if let Some(close) = did_you_mean(target, known.iter().copied()) {
            d = d.help(format!("did you mean \"{close}\"?"));
        }
        self.diags.push(d);
    }

    fn cycle(&mut self, stack: &Stack, target: &str, span: &Span) {
        let start = stack.iter().position(|s| s == target).unwrap_or(0);
        let chain: Vec<&str> = stack[start..]
            .iter()
            .map(String::as_str)
            .chain([target])
            .collect();
        self.diags.push(
            Diagnostic::error(format!("include cycle: {}", chain.join(" -> ")))
                .at(span)
                .label("includes itself through this"),
        );
    }
}

pub fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        && !id.starts_with('-')
}

/// The JSON Schemas of a runbook file and of a file of shared sections and steps.
#[cfg(feature = "schema")]
pub fn schemas() -> [(&'static str, schemars::Schema); 2] {
    [
        ("runbook", schemars::schema_for!(RawRunbook)),
        ("shared", schemars::schema_for!(RawShared)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        assert!(valid_id("register-mfa"));
        assert!(!valid_id("Register MFA"));
        assert!(!valid_id(""));
    }
}
