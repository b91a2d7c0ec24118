//! Lookups: values for step text chosen by the customer's facts, by one enum or bool fact
//! (`fact` and `values`) or by conditions over any facts (`cases`).

use std::sync::Arc;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::{Fact, FactValues, Vocabulary};
use crate::diagnostics::{Diagnostic, Diagnostics, SourceFile, Span, did_you_mean};
use crate::toml_file;

/// A value chosen by the customer's facts, usable in step text as `{{ id }}`: by one enum or
/// bool fact (`fact` and `values`), or by conditions over any facts (`cases`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Lookup {
    pub id: String,
    pub description: String,
    pub choice: Choice,
    #[serde(skip)]
    pub span: Span,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Choice {
    /// fact value → text.
    ByFact {
        fact: String,
        values: IndexMap<String, String>,
    },
    /// The first case whose condition holds gives the value.
    ByCases(Vec<LookupCase>),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LookupCase {
    pub when: crate::condition::Expr,
    pub value: String,
}

impl Lookup {
    /// The value for these facts, or `None` while facts it depends on are not known.
    pub fn value(&self, facts: &FactValues) -> Option<String> {
        match &self.choice {
            Choice::ByFact { fact, values } => {
                Some(values.get(&Fact::key_of(facts.get(fact)?))?.clone())
            }
            Choice::ByCases(cases) => {
                for case in cases {
                    match case.when.eval(facts) {
                        crate::condition::Tri::True => return Some(case.value.clone()),
                        crate::condition::Tri::Unknown => return None,
                        crate::condition::Tri::False => {}
                    }
                }
                None
            }
        }
    }

    /// The facts that choose the value.
    pub fn facts(&self) -> Vec<String> {
        match &self.choice {
            Choice::ByFact { fact, .. } => vec![fact.clone()],
            Choice::ByCases(cases) => {
                let mut all = std::collections::BTreeSet::new();
                for case in cases {
                    all.extend(case.when.facts());
                }
                all.into_iter().collect()
            }
        }
    }

    /// Every value it may still have, with what chooses it, for when the facts that decide
    /// are not known: "e4b1… (US Data Center) or 5e56… (EU Data Center)", or for cases
    /// "Work 365 Service (if Product version >= 3.5) or …".
    pub fn all_values(&self, vocab: &Vocabulary, facts: &FactValues) -> String {
        self.alternatives(vocab, facts)
            .iter()
            .map(|(value, chosen)| format!("{value} ({chosen})"))
            .collect::<Vec<_>>()
            .join(" or ")
    }

    /// As `all_values`, each value apart with what chooses it ("EU Data Center", "if Product
    /// version >= 3.5"), so that a link can be given once per value.
    pub fn alternatives(&self, vocab: &Vocabulary, facts: &FactValues) -> Vec<(String, String)> {
        match &self.choice {
            Choice::ByFact { fact, values } => {
                let fact = vocab.facts.get(fact);
                values
                    .iter()
                    .map(|(key, value)| {
                        let label = fact
                            .and_then(|f| f.parse_value(key).ok().map(|v| f.describe_value(&v)))
                            .unwrap_or_else(|| key.clone());
                        (value.clone(), label)
                    })
                    .collect()
            }
            Choice::ByCases(cases) => cases
                .iter()
                .filter(|c| c.when.eval(facts) != crate::condition::Tri::False)
                .map(|c| {
                    let when = c.when.residual(facts).describe(vocab);
                    (c.value.clone(), format!("if {when}"))
                })
                .collect(),
        }
    }
}

#[derive(Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub(super) struct RawLookup {
    /// The enum or bool fact whose value chooses, with `values`; or give `cases` instead.
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>"))]
    fact: Option<Spanned<String>>,
    description: String,
    #[cfg_attr(
        feature = "schema",
        schemars(with = "Option<IndexMap<String, String>>")
    )]
    values: Option<Spanned<IndexMap<String, String>>>,
    /// Values chosen by conditions over any facts: the first case that holds.
    #[cfg_attr(feature = "schema", schemars(with = "Option<Vec<RawLookupCase>>"))]
    cases: Option<Spanned<Vec<RawLookupCase>>>,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
struct RawLookupCase {
    #[cfg_attr(feature = "schema", schemars(with = "String"))]
    when: Spanned<String>,
    value: String,
}

/// A lookup as the facts file declares it, checked against the facts.
pub(super) fn load(
    vocab: &Vocabulary,
    file: &Arc<SourceFile>,
    id: String,
    raw_lookup: Spanned<RawLookup>,
    diags: &mut Diagnostics,
) -> Option<Lookup> {
    let span = toml_file::span_of(file, &raw_lookup);
    let raw_lookup = raw_lookup.into_inner();
    let choice = match (raw_lookup.fact, raw_lookup.values, raw_lookup.cases) {
        (Some(fact), Some(values), None) => by_fact(vocab, file, &id, &fact, values, diags),
        (None, None, Some(cases)) => by_cases(vocab, file, &id, cases, diags),
        (_, _, Some(cases)) => {
            diags.push(
                Diagnostic::error(format!(
                    "lookup `{id}` has `cases`, and `fact` or `values` too"
                ))
                .at(&toml_file::span_of(file, &cases))
                .help("choose by one fact (`fact` and `values`) or by conditions (`cases`)"),
            );
            None
        }
        _ => {
            diags.push(
                Diagnostic::error(format!(
                    "lookup `{id}` needs `fact` and `values`, or `cases`"
                ))
                .at(&span)
                .help(
                    "fact = \"region\" and values = { us = \"…\", eu = \"…\" }, or \
                     cases = [{ when = '…', value = \"…\" }, …]",
                ),
            );
            None
        }
    };
    Some(Lookup {
        id,
        description: raw_lookup.description,
        choice: choice?,
        span,
    })
}

/// A lookup chosen by one enum or bool fact, which must give a value for each of its values.
fn by_fact(
    vocab: &Vocabulary,
    file: &Arc<SourceFile>,
    id: &str,
    fact: &Spanned<String>,
    values: Spanned<IndexMap<String, String>>,
    diags: &mut Diagnostics,
) -> Option<Choice> {
    let fact_span = toml_file::span_of(file, fact);
    let Some(def) = vocab.facts.get(fact.get_ref()) else {
        if vocab.is_broken(fact.get_ref()) {
            return None;
        }
        let mut d = Diagnostic::error(format!(
            "lookup `{id}` is chosen by unknown fact `{}`",
            fact.get_ref()
        ))
        .at(&fact_span);
        if let Some(close) = did_you_mean(fact.get_ref(), vocab.facts.keys().map(String::as_str)) {
            d = d.help(format!("did you mean \"{close}\"?"));
        }
        diags.push(d);
        return None;
    };
    let values_span = toml_file::span_of(file, &values);
    let Some(domain) = def.domain() else {
        diags.push(
            Diagnostic::error(format!(
                "lookup `{id}` is chosen by `{}`, {} fact; choose by conditions instead",
                def.id,
                def.kind.a_type()
            ))
            .at(&fact_span)
            .help("cases = [{ when = '…', value = \"…\" }, …] can test any fact"),
        );
        return None;
    };
    let values = values.into_inner();
    for key in values.keys() {
        if let Err(e) = def.parse_value(key) {
            let mut d = Diagnostic::error(format!("lookup `{id}`: {}", e.message)).at(&values_span);
            if let Some(help) = e.help {
                d = d.help(help);
            }
            diags.push(d);
        }
    }
    for value in &domain {
        let key = Fact::key_of(value);
        if !values.contains_key(&key) {
            diags.push(
                Diagnostic::error(format!(
                    "lookup `{id}` has no value for {} = \"{key}\"",
                    def.id
                ))
                .at(&values_span)
                .help(format!("add `{key} = \"...\"` to its values")),
            );
        }
    }
    Some(Choice::ByFact {
        fact: def.id.clone(),
        values,
    })
}

/// A lookup chosen by conditions: every customer must get a value from some case.
fn by_cases(
    vocab: &Vocabulary,
    file: &Arc<SourceFile>,
    id: &str,
    raw: Spanned<Vec<RawLookupCase>>,
    diags: &mut Diagnostics,
) -> Option<Choice> {
    let at = toml_file::span_of(file, &raw);
    let mut cases = Vec::new();
    let mut parsed = true;
    for case in raw.into_inner() {
        match crate::condition::parse_in_file(file, &case.when, vocab, diags) {
            Some((when, _)) => cases.push(LookupCase {
                when,
                value: case.value,
            }),
            None => parsed = false,
        }
    }
    if !parsed {
        return None;
    }
    let none = crate::condition::Expr::Not(Box::new(crate::condition::Expr::Or(
        cases.iter().map(|c| c.when.clone()).collect(),
    )));
    let versions = crate::condition::VersionRange::default();
    if let Some(Some(customer)) = none.witness(vocab, crate::runbook::VERSION_FACT, &versions) {
        diags.push(
            Diagnostic::error(format!(
                "lookup `{id}` has no value where none of its cases holds: {}",
                customer.join(", ")
            ))
            .at(&at)
            .help("add a case for it (the first case that holds gives the value)"),
        );
    }
    Some(Choice::ByCases(cases))
}
