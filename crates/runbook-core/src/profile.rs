//! A customer profile: who the checklist is for, and the facts known about them, from a
//! profile file and `--set fact=value` overrides.

use std::sync::Arc;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::diagnostics::did_you_mean;
use crate::diagnostics::{Diagnostic, Diagnostics, SourceFile, Span};
use crate::facts::{FactKind, FactValues, Value, ValueError, Vocabulary};
use crate::toml_file::{self, span_of};

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Customer {
    pub name: Option<String>,
    pub domain: Option<String>,
    pub timezone: Option<String>,
}

impl Customer {
    /// The fields, as written in a profile and after `--set customer.`, with how they are
    /// asked for.
    pub const FIELDS: [(&'static str, &'static str); 3] = [
        ("name", "The customer's name (for example Contoso Ltd)"),
        ("domain", "The customer's domain (for example contoso.com)"),
        (
            "timezone",
            "The customer's time zone (for example America/New_York)",
        ),
    ];

    pub fn field(&self, name: &str) -> Option<&Option<String>> {
        match name {
            "name" => Some(&self.name),
            "domain" => Some(&self.domain),
            "timezone" => Some(&self.timezone),
            _ => None,
        }
    }

    pub fn field_mut(&mut self, name: &str) -> Option<&mut Option<String>> {
        match name {
            "name" => Some(&mut self.name),
            "domain" => Some(&mut self.domain),
            "timezone" => Some(&mut self.timezone),
            _ => None,
        }
    }
}

/// What one `--set` assigns: a fact, or a field of the customer (`customer.domain=...`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Assignment {
    Fact(String, Value),
    Customer(&'static str, String),
}

#[derive(Debug, Clone, Default)]
pub struct Profile {
    pub customer: Customer,
    pub facts: FactValues,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
struct RawProfile {
    #[serde(default)]
    customer: Customer,
    #[serde(default)]
    #[cfg_attr(
        feature = "schema",
        schemars(with = "IndexMap<String, serde_json::Value>")
    )]
    facts: IndexMap<Spanned<String>, Spanned<toml::Value>>,
}

impl Profile {
    /// Parses a profile file, checking every fact against the vocabulary.
    pub fn parse(file: &Arc<SourceFile>, vocab: &Vocabulary) -> Result<Profile, Diagnostics> {
        let raw: RawProfile = toml_file::parse(file)?;
        let mut diags = Diagnostics::default();
        let mut facts = FactValues::new();
        for (key, value) in raw.facts {
            let key_span = span_of(file, &key);
            let fact = match vocab.fact(key.get_ref()) {
                Ok(f) => f,
                Err(e) => {
                    let mut d = Diagnostic::error(e.message).at(&key_span);
                    if let Some(h) = e.help {
                        d = d.help(h);
                    }
                    diags.push(d);
                    continue;
                }
            };
            let text = match value.get_ref() {
                // TOML reads `3.10` as the number 3.1 and `3` as 3: a version written as a
                // number is not the version meant.
                toml::Value::Integer(_) | toml::Value::Float(_)
                    if fact.kind == FactKind::Version =>
                {
                    let span = span_of(file, &value);
                    let written = span.text().trim().to_string();
                    let read = match value.get_ref() {
                        toml::Value::Float(f) => f.to_string(),
                        other => other.to_string(),
                    };
                    diags.push(
                        Diagnostic::error(format!(
                            "fact `{}` needs a version in quotes, not a number",
                            fact.id
                        ))
                        .at(&span)
                        .label(format!("TOML reads this as the number {read}"))
                        .help(format!(
                            "write it in quotes: {} = \"{written}\"",
                            key.get_ref()
                        )),
                    );
                    continue;
                }
                toml::Value::String(s) => s.clone(),
                toml::Value::Boolean(b) => b.to_string(),
                toml::Value::Integer(i) => i.to_string(),
                toml::Value::Float(f) => f.to_string(),
                other => {
                    diags.push(
                        Diagnostic::error(format!(
                            "fact `{}` needs a string or a bool, not {}",
                            fact.id,
                            match other.type_str() {
                                t @ ("array" | "integer") => format!("an {t}"),
                                t => format!("a {t}"),
                            }
                        ))
                        .at(&span_of(file, &value)),
                    );
                    continue;
                }
            };
            let parsed = fact
                .parse_value(&text)
                .and_then(|v| fact.check_supported(&v).map(|()| v));
            match parsed {
                Ok(v) => {
                    facts.insert(fact.id.clone(), v);
                }
                Err(e) => diags.push(value_error(e, &span_of(file, &value))),
            }
        }
        if diags.has_errors() {
            return Err(diags);
        }
        Ok(Profile {
            customer: raw.customer,
            facts,
        })
    }

    /// The profile file, if any, with every `--set fact=value` applied over it.
    pub fn resolve(
        vocab: &Vocabulary,
        file: Option<&Arc<SourceFile>>,
        set: &[String],
    ) -> Result<Profile, Diagnostics> {
        let mut profile = match file {
            Some(file) => Profile::parse(file, vocab)?,
            None => Profile::default(),
        };
        let mut diags = Diagnostics::default();
        for assignment in set {
            if let Err(d) = profile.set(assignment, vocab) {
                diags.push(d);
            }
        }
        if diags.has_errors() {
            Err(diags)
        } else {
            Ok(profile)
        }
    }

    /// Applies one `--set fact=value` or `--set customer.field=value`.
    pub fn set(&mut self, assignment: &str, vocab: &Vocabulary) -> Result<(), Diagnostic> {
        match parse_set(assignment, vocab)? {
            Assignment::Fact(id, value) => {
                self.facts.insert(id, value);
            }
            Assignment::Customer(field, value) => {
                if let Some(slot) = self.customer.field_mut(field) {
                    *slot = Some(value);
                }
            }
        }
        Ok(())
    }
}

/// A profile as a TOML file, facts in the vocabulary's order.
pub fn to_toml(profile: &Profile, vocab: &Vocabulary) -> String {
    let mut customer = toml::Table::new();
    for (key, value) in [
        ("name", &profile.customer.name),
        ("domain", &profile.customer.domain),
        ("timezone", &profile.customer.timezone),
    ] {
        if let Some(v) = value {
            customer.insert(key.into(), v.clone().into());
        }
    }
    let mut facts = toml::Table::new();
    for fact in vocab.facts.values() {
        match profile.facts.get(&fact.id) {
            Some(Value::Bool(b)) => facts.insert(fact.id.clone(), (*b).into()),
            Some(v) => facts.insert(fact.id.clone(), v.to_string().into()),
            None => None,
        };
    }
    let mut doc = toml::Table::new();
    doc.insert("customer".into(), customer.into());
    doc.insert("facts".into(), facts.into());
    toml::to_string(&doc).unwrap_or_default()
}

fn value_error(e: ValueError, span: &Span) -> Diagnostic {
    let mut d = Diagnostic::error(e.message).at(span);
    if let Some(h) = e.help {
        d = d.help(h);
    }
    d
}

/// Parses `fact=value` (or `customer.field=value`) against the vocabulary; errors point into
/// the argument.
pub fn parse_set(assignment: &str, vocab: &Vocabulary) -> Result<Assignment, Diagnostic> {
    let text = format!("--set {assignment}");
    let file = SourceFile::command_line(text);
    let offset = "--set ".len();
    let Some((key, value)) = assignment.split_once('=') else {
        return Err(
            Diagnostic::error(format!("`--set {assignment}` needs the form fact=value"))
                .at(&Span::new(&file, offset..file.text.len()))
                .help("for example: --set tier=2-tier"),
        );
    };
    let key_trimmed = key.trim();
    let key_span = Span::new(&file, offset..offset + key.len());
    let value_span = Span::new(&file, offset + key.len() + 1..file.text.len());
    if let Some(field) = key_trimmed.strip_prefix("customer.") {
        let names = Customer::FIELDS.map(|(name, _)| name);
        let Some(field) = names.iter().find(|n| **n == field) else {
            let d = Diagnostic::error(format!("unknown customer field `{field}`")).at(&key_span);
            return Err(match did_you_mean(field, names) {
                Some(close) => d.help(format!("did you mean \"customer.{close}\"?")),
                None => d.help(format!(
                    "customer fields: {}",
                    names.map(|n| format!("customer.{n}")).join(", ")
                )),
            });
        };
        let value = value.trim();
        if value.is_empty() {
            return Err(
                Diagnostic::error(format!("`customer.{field}` needs a value")).at(&value_span),
            );
        }
        return Ok(Assignment::Customer(field, value.to_string()));
    }
    let fact = vocab.fact(key_trimmed).map_err(|mut e| {
        if Customer::FIELDS
            .iter()
            .any(|(name, _)| *name == key_trimmed)
        {
            e.help = Some(format!(
                "the customer's {key_trimmed} is set with --set customer.{key_trimmed}=VALUE"
            ));
        }
        value_error(e, &key_span)
    })?;
    let value = fact
        .parse_value(value.trim())
        .and_then(|v| fact.check_supported(&v).map(|()| v))
        .map_err(|e| value_error(e, &value_span))?;
    Ok(Assignment::Fact(fact.id.clone(), value))
}

/// The JSON Schema of a profile.
#[cfg(feature = "schema")]
pub fn schema() -> schemars::Schema {
    schemars::schema_for!(RawProfile)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_parses_and_points_at_the_value() {
        let v = crate::condition::tests::vocab();
        assert_eq!(
            parse_set("tier=2-tier", &v).unwrap(),
            Assignment::Fact("tier".into(), Value::Enum("2-tier".into()))
        );
        assert_eq!(
            parse_set("aad_premium=yes", &v).unwrap(),
            Assignment::Fact("aad_premium".into(), Value::Bool(true))
        );
        assert_eq!(
            parse_set("customer.domain=contoso.com", &v).unwrap(),
            Assignment::Customer("domain", "contoso.com".into())
        );
        let d = parse_set("tier=1tier", &v).unwrap_err().render(false);
        assert!(d.contains("--> <command line>:1:12"), "{d}");
        assert!(d.contains("did you mean \"1-tier\"?"), "{d}");
        let d = parse_set("teir=1-tier", &v).unwrap_err().render(false);
        assert!(
            d.contains("unknown fact `teir`") && d.contains("did you mean \"tier\"?"),
            "{d}"
        );
        assert!(
            parse_set("tier", &v)
                .unwrap_err()
                .message
                .contains("fact=value")
        );
    }
}
