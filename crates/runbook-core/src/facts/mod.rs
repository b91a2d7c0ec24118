//! Facts: the typed variables that conditions test, the lookups they choose, and the roles
//! that perform steps. Declared once in `runbooks/facts.toml`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::diagnostics::{Diagnostic, Diagnostics, SourceFile, Span, did_you_mean};
use crate::toml_file;

mod lookup;
use lookup::RawLookup;
pub use lookup::{Choice, Lookup, LookupCase};

/// A product version, compared as semver; `2.5` means `2.5.0`, so `2.10 > 2.5`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct Version(pub semver::Version);

impl From<Version> for String {
    fn from(v: Version) -> String {
        v.to_string()
    }
}

impl TryFrom<String> for Version {
    type Error = String;
    fn try_from(text: String) -> Result<Version, String> {
        Version::parse(&text)
    }
}

impl Version {
    pub fn parse(text: &str) -> Result<Version, String> {
        let t = text.trim();
        let t = t.strip_prefix('v').unwrap_or(t);
        // Accept the short forms people write ("2", "2.5") by padding them to three parts.
        let (core, rest) = match t.find(['-', '+']) {
            Some(i) => t.split_at(i),
            None => (t, ""),
        };
        let parts = core.split('.').count();
        let padded = match parts {
            1 => format!("{core}.0.0{rest}"),
            2 => format!("{core}.0{rest}"),
            _ => t.to_string(),
        };
        semver::Version::parse(&padded)
            .map(Version)
            .map_err(|e| format!("`{text}` is not a version ({e}); write it like `2.5` or `3.5.1`"))
    }
}

impl fmt::Display for Version {
    /// Drops a trailing `.0` patch so that versions read as they were written (`2.5`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = &self.0;
        if v.patch == 0 && v.pre.is_empty() && v.build.is_empty() {
            write!(f, "{}.{}", v.major, v.minor)
        } else {
            write!(f, "{v}")
        }
    }
}

/// The value a fact has for one customer.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Value {
    Enum(String),
    Version(Version),
    Bool(bool),
    Str(String),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Enum(s) | Value::Str(s) => f.write_str(s),
            Value::Version(v) => v.fmt(f),
            Value::Bool(b) => b.fmt(f),
        }
    }
}

/// The facts known about one customer: fact id → value. Absent means unknown.
pub type FactValues = BTreeMap<String, Value>;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum FactKind {
    /// Allowed values, each with the label shown to people.
    Enum(IndexMap<String, String>),
    Version,
    Bool,
    Str,
}

impl FactKind {
    /// The type with its article, for messages ("an enum fact").
    pub fn a_type(&self) -> &'static str {
        match self {
            FactKind::Enum(_) => "an enum",
            FactKind::Version => "a version",
            FactKind::Bool => "a bool",
            FactKind::Str => "a string",
        }
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            FactKind::Enum(_) => "enum",
            FactKind::Version => "version",
            FactKind::Bool => "bool",
            FactKind::Str => "string",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Fact {
    pub id: String,
    /// A short name for people ("Partner tier").
    pub name: String,
    pub kind: FactKind,
    pub question: String,
    pub description: String,
    /// For a version fact: the oldest version a customer may be on. Older revisions stay
    /// readable as history, but no checklist is made for a version below it.
    pub minimum: Option<Version>,
    /// The value a profile that does not give this fact is assumed to have.
    pub default: Option<Value>,
    #[serde(skip)]
    pub span: Span,
}

impl Fact {
    /// Parses a value as written by a person (`--set`, a profile, a condition literal).
    pub fn parse_value(&self, text: &str) -> Result<Value, ValueError> {
        match &self.kind {
            FactKind::Enum(values) => {
                if values.contains_key(text) {
                    Ok(Value::Enum(text.to_string()))
                } else {
                    Err(ValueError {
                        message: format!("`{text}` is not a value of fact `{}`", self.id),
                        help: Some(self.allowed_help(text)),
                    })
                }
            }
            FactKind::Version => Version::parse(text)
                .map(Value::Version)
                .map_err(|m| ValueError {
                    message: m,
                    help: None,
                }),
            FactKind::Bool => match text {
                "true" | "yes" => Ok(Value::Bool(true)),
                "false" | "no" => Ok(Value::Bool(false)),
                _ => Err(ValueError {
                    message: format!("`{text}` is not a value of fact `{}`", self.id),
                    help: Some(bool_help(text)),
                }),
            },
            FactKind::Str => Ok(Value::Str(text.to_string())),
        }
    }

    /// Refuses a customer's value below the fact's `minimum`. Only what a customer is on is
    /// checked: a condition or a revision range may name older versions.
    pub fn check_supported(&self, value: &Value) -> Result<(), ValueError> {
        match (&self.minimum, value) {
            (Some(minimum), Value::Version(v)) if v < minimum => Err(ValueError {
                message: format!(
                    "{} {v} is not supported: the minimum is {minimum}",
                    self.name
                ),
                help: Some(format!(
                    "checklists start at {} {minimum}; older revisions stay readable as \
                     history (`runbook list`, `runbook show RUNBOOK --revision DATE`)",
                    self.name
                )),
            }),
            _ => Ok(()),
        }
    }

    fn allowed_help(&self, text: &str) -> String {
        let FactKind::Enum(values) = &self.kind else {
            return String::new();
        };
        let allowed = values
            .keys()
            .map(|v| format!("\"{v}\""))
            .collect::<Vec<_>>()
            .join(", ");
        match did_you_mean(text, values.keys().map(String::as_str)) {
            Some(close) => format!("did you mean \"{close}\"? (allowed values: {allowed})"),
            None => format!("allowed values: {allowed}"),
        }
    }

    /// How a value reads to a person: the enum label where there is one.
    pub fn describe_value(&self, value: &Value) -> String {
        match (&self.kind, value) {
            (FactKind::Enum(labels), Value::Enum(v)) => {
                labels.get(v).cloned().unwrap_or_else(|| v.clone())
            }
            (_, Value::Bool(true)) => "yes".into(),
            (_, Value::Bool(false)) => "no".into(),
            (_, v) => v.to_string(),
        }
    }

    /// The finite set of values, for facts that have one.
    pub fn domain(&self) -> Option<Vec<Value>> {
        match &self.kind {
            FactKind::Enum(values) => Some(values.keys().map(|v| Value::Enum(v.clone())).collect()),
            FactKind::Bool => Some(vec![Value::Bool(false), Value::Bool(true)]),
            _ => None,
        }
    }

    /// The value as a lookup key (`us`, `true`).
    pub fn key_of(value: &Value) -> String {
        value.to_string()
    }
}

/// The help for a bool written another way: `y`, `Yes`, `on`, `1`...
fn bool_help(text: &str) -> String {
    let close = match text.trim().to_ascii_lowercase().as_str() {
        "y" | "yes" => Some("yes"),
        "n" | "no" => Some("no"),
        "t" | "true" | "1" | "on" => Some("true"),
        "f" | "false" | "0" | "off" => Some("false"),
        _ => None,
    };
    match close {
        Some(close) => format!("did you mean \"{close}\"? (allowed values: true, false, yes, no)"),
        None => "allowed values: true, false".into(),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueError {
    pub message: String,
    pub help: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Role {
    pub id: String,
    pub title: String,
    pub description: String,
    /// Who this role is, case by case (the account that runs an upgrade may be one of two):
    /// the first case whose condition holds names the role that performs.
    pub cases: Vec<RoleCase>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RoleCase {
    pub when: crate::condition::Expr,
    pub role: String,
}

impl Vocabulary {
    /// The facts known about a customer once every fact the profile leaves out takes its
    /// default, with the ids of those assumed.
    pub fn with_defaults(&self, given: &FactValues) -> (FactValues, Vec<String>) {
        let mut facts = given.clone();
        let mut assumed = Vec::new();
        for fact in self.facts.values() {
            if let (Some(default), false) = (&fact.default, given.contains_key(&fact.id)) {
                facts.insert(fact.id.clone(), default.clone());
                assumed.push(fact.id.clone());
            }
        }
        (facts, assumed)
    }
}

/// Everything declared in the facts file.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Vocabulary {
    pub facts: IndexMap<String, Fact>,
    pub lookups: IndexMap<String, Lookup>,
    pub roles: IndexMap<String, Role>,
    /// Facts, lookups and roles whose definitions are broken: they are left out, and what
    /// uses them is not reported as well.
    #[serde(skip)]
    pub broken: BTreeSet<String>,
    /// Whether the file could not be read at all, so that any name may be one of its.
    #[serde(skip)]
    pub unreadable: bool,
}

impl Vocabulary {
    /// Whether `name` may be a fact, lookup or role the facts file failed to define.
    pub fn is_broken(&self, name: &str) -> bool {
        self.unreadable || self.broken.contains(name)
    }
}

#[derive(Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(with = "IndexMap<String, RawFact>"))]
    facts: IndexMap<String, Spanned<RawFact>>,
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(with = "IndexMap<String, RawLookup>"))]
    lookups: IndexMap<String, Spanned<RawLookup>>,
    #[serde(default)]
    roles: IndexMap<String, RawRole>,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
struct RawFact {
    #[serde(rename = "type")]
    #[cfg_attr(feature = "schema", schemars(with = "String"))]
    kind: Spanned<String>,
    name: String,
    question: String,
    description: String,
    #[cfg_attr(
        feature = "schema",
        schemars(with = "Option<IndexMap<String, String>>")
    )]
    values: Option<Spanned<IndexMap<String, String>>>,
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>"))]
    minimum: Option<Spanned<String>>,
    #[cfg_attr(feature = "schema", schemars(with = "Option<serde_json::Value>"))]
    default: Option<Spanned<toml::Value>>,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
struct RawRole {
    title: String,
    description: String,
    #[serde(default)]
    cases: Vec<RawRoleCase>,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
struct RawRoleCase {
    #[cfg_attr(feature = "schema", schemars(with = "String"))]
    when: Spanned<String>,
    #[cfg_attr(feature = "schema", schemars(with = "String"))]
    role: Spanned<String>,
}

impl Vocabulary {
    /// Loads the facts file, reporting every problem found in it.
    pub fn load(file: &Arc<SourceFile>, diags: &mut Diagnostics) -> Vocabulary {
        let Some((raw, left_out)) = toml_file::parse_salvaging::<RawFile>(file, diags) else {
            return Vocabulary {
                unreadable: true,
                ..Vocabulary::default()
            };
        };
        // A top-level key that does not fit may be any table misnamed (`[fact.tier]`).
        let mut vocab = Vocabulary {
            unreadable: left_out.iter().any(|(table, _)| table.is_empty()),
            broken: left_out.into_iter().map(|(_, name)| name).collect(),
            ..Vocabulary::default()
        };
        for (id, raw_fact) in raw.facts {
            let span = toml_file::span_of(file, &raw_fact);
            let raw_fact = raw_fact.into_inner();
            let kind = match (raw_fact.kind.get_ref().as_str(), raw_fact.values) {
                ("enum", Some(values)) if !values.get_ref().is_empty() => {
                    FactKind::Enum(values.into_inner())
                }
                ("enum", _) => {
                    diags.push(
                        Diagnostic::error(format!("enum fact `{id}` needs a non-empty `values` table"))
                            .at(&toml_file::span_of(file, &raw_fact.kind))
                            .help("list each allowed value with its label: values = { \"a\" = \"Label A\" }"),
                    );
                    vocab.broken.insert(id);
                    continue;
                }
                (other, Some(values)) if matches!(other, "version" | "bool" | "string") => {
                    diags.push(
                        Diagnostic::error(format!(
                            "only enum facts take `values`; `{id}` is a {other}"
                        ))
                        .at(&toml_file::span_of(file, &values)),
                    );
                    vocab.broken.insert(id);
                    continue;
                }
                ("version", None) => FactKind::Version,
                ("bool", None) => FactKind::Bool,
                ("string", None) => FactKind::Str,
                (other, _) => {
                    let mut d = Diagnostic::error(format!("unknown fact type `{other}`"))
                        .at(&toml_file::span_of(file, &raw_fact.kind))
                        .label("expected enum, version, bool or string");
                    if let Some(close) = did_you_mean(other, ["enum", "version", "bool", "string"])
                    {
                        d = d.help(format!("did you mean \"{close}\"?"));
                    }
                    diags.push(d);
                    vocab.broken.insert(id);
                    continue;
                }
            };
            // A bad minimum is reported; the fact is kept (without it), so that what uses the
            // fact is not reported as well.
            let minimum = match raw_fact.minimum {
                None => None,
                Some(minimum) if kind != FactKind::Version => {
                    diags.push(
                        Diagnostic::error(format!(
                            "only version facts take `minimum`; `{id}` is {} fact",
                            kind.a_type()
                        ))
                        .at(&toml_file::span_of(file, &minimum)),
                    );
                    None
                }
                Some(minimum) => match Version::parse(minimum.get_ref()) {
                    Ok(v) => Some(v),
                    Err(message) => {
                        diags.push(
                            Diagnostic::error(format!("`minimum` of fact `{id}`: {message}"))
                                .at(&toml_file::span_of(file, &minimum)),
                        );
                        None
                    }
                },
            };
            let mut fact = Fact {
                id: id.clone(),
                name: raw_fact.name,
                kind,
                question: raw_fact.question,
                description: raw_fact.description,
                minimum,
                default: None,
                span,
            };
            // As with `minimum`: a bad default is reported and the fact kept without it.
            if let Some(raw) = raw_fact.default {
                let at = toml_file::span_of(file, &raw);
                let text = match raw.get_ref() {
                    toml::Value::String(s) => Ok(s.clone()),
                    toml::Value::Boolean(b) => Ok(b.to_string()),
                    other => Err(format!("a {}", other.type_str())),
                };
                let value = text
                    .map_err(|t| ValueError {
                        message: format!(
                            "`default` of fact `{id}` needs a string or a bool, not {t}"
                        ),
                        help: None,
                    })
                    .and_then(|t| fact.parse_value(&t))
                    .and_then(|v| fact.check_supported(&v).map(|()| v));
                match value {
                    Ok(v) => fact.default = Some(v),
                    Err(e) => {
                        let mut d = Diagnostic::error(e.message).at(&at);
                        if let Some(h) = e.help {
                            d = d.help(h);
                        }
                        diags.push(d);
                    }
                }
            }
            vocab.facts.insert(id, fact);
        }
        for (id, raw_lookup) in raw.lookups {
            match lookup::load(&vocab, file, id.clone(), raw_lookup, diags) {
                Some(lookup) => {
                    vocab.lookups.insert(lookup.id.clone(), lookup);
                }
                None => {
                    vocab.broken.insert(id);
                }
            }
        }
        let plain: Vec<String> = raw
            .roles
            .iter()
            .filter(|(_, r)| r.cases.is_empty())
            .map(|(id, _)| id.clone())
            .collect();
        let mut roles = IndexMap::new();
        for (id, role) in raw.roles {
            let mut cases = Vec::new();
            for case in role.cases {
                let when = crate::condition::parse_in_file(file, &case.when, &vocab, diags);
                let target = case.role.get_ref();
                if !plain.contains(target) {
                    let mut d = Diagnostic::error(format!(
                        "role `{id}`: a case names `{target}`, which is not a role without cases"
                    ))
                    .at(&toml_file::span_of(file, &case.role));
                    if let Some(close) = did_you_mean(target, plain.iter().map(String::as_str)) {
                        d = d.help(format!("did you mean \"{close}\"?"));
                    }
                    diags.push(d);
                } else if let Some((when, _)) = when {
                    cases.push(RoleCase {
                        when,
                        role: target.clone(),
                    });
                }
            }
            roles.insert(
                id.clone(),
                Role {
                    id,
                    title: role.title,
                    description: role.description,
                    cases,
                },
            );
        }
        vocab.roles = roles;
        vocab
    }

    /// The role that performs a step given as `id`, for these facts: a role with cases is
    /// the first case whose condition holds; while an earlier case is undecided, it stays
    /// itself (its title says who it may be).
    pub fn performer<'a>(&'a self, id: &'a str, facts: &FactValues) -> &'a str {
        let Some(role) = self.roles.get(id) else {
            return id;
        };
        for case in &role.cases {
            match case.when.eval(facts) {
                crate::condition::Tri::True => return &case.role,
                crate::condition::Tri::Unknown => return id,
                crate::condition::Tri::False => {}
            }
        }
        id
    }

    /// The fact with this id, or a diagnostic with a did-you-mean.
    pub fn fact(&self, id: &str) -> Result<&Fact, ValueError> {
        self.facts.get(id).ok_or_else(|| ValueError {
            message: format!("unknown fact `{id}`"),
            help: Some(
                match did_you_mean(id, self.facts.keys().map(String::as_str)) {
                    Some(close) => format!("did you mean \"{close}\"?"),
                    None if self.facts.is_empty() => {
                        "no facts are declared in runbooks/facts.toml".into()
                    }
                    None => format!(
                        "known facts: {}",
                        self.facts.keys().cloned().collect::<Vec<_>>().join(", ")
                    ),
                },
            ),
        })
    }
}

/// The JSON Schema of the facts file.
#[cfg(feature = "schema")]
pub fn schema() -> schemars::Schema {
    schemars::schema_for!(RawFile)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_as_semver() {
        let v = |s| Version::parse(s).unwrap();
        assert!(v("2.10") > v("2.5"));
        assert_eq!(v("2.5"), v("2.5.0"));
        assert!(v("3.5") > v("3.5.0-rc.1"));
        assert_eq!(v("2.5").to_string(), "2.5");
        assert_eq!(v("3.5.1").to_string(), "3.5.1");
        assert!(Version::parse("two").is_err());
    }

    fn vocab(text: &str) -> (Vocabulary, Diagnostics) {
        let f = SourceFile::new("facts.toml", "facts.toml", text.into());
        let mut d = Diagnostics::default();
        (Vocabulary::load(&f, &mut d), d)
    }

    const TIER: &str = r#"
[facts.tier]
type = "enum"
name = "Partner tier"
question = "Which tier?"
description = "d"
values = { "1-tier" = "1-Tier (Direct Bill)", "2-tier" = "2-Tier" }
"#;

    #[test]
    fn enum_values_suggest_the_close_one() {
        let (v, d) = vocab(TIER);
        assert!(!d.has_errors(), "{d}");
        let err = v.facts["tier"].parse_value("1tier").unwrap_err();
        assert_eq!(
            err.help.unwrap(),
            "did you mean \"1-tier\"? (allowed values: \"1-tier\", \"2-tier\")"
        );
    }

    #[test]
    fn lookups_must_cover_every_value() {
        let text = format!(
            "{TIER}\n[lookups.x]\nfact = \"tier\"\ndescription = \"d\"\nvalues = {{ \"1-tier\" = \"a\" }}\n"
        );
        let (_, d) = vocab(&text);
        assert_eq!(d.error_count(), 1);
        assert!(
            d.to_string()
                .contains("lookup `x` has no value for tier = \"2-tier\""),
            "{d}"
        );
    }
}
