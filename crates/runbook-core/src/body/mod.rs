//! Step text filled in for one customer. The values are computed once, here: each fact's
//! description, each lookup's value, each customer field, or what stands for them when not
//! known; and how each conditional part (`parts`) is shown. How they go into a text is a
//! `Fill`: a template in Markdown (`Template`, for the command line, search and the site), or
//! tokens in text already rendered (`Tokens`, for the checklist builder, which gets its bodies
//! as HTML).

pub mod parts;
mod template;
mod tokens;

use std::collections::HashSet;

use indexmap::IndexMap;

use crate::condition::{self, Expr, Tri};
use crate::facts::{FactValues, Vocabulary};
use crate::profile::Customer;
pub use parts::Shown;
pub use template::{Template, escape as escape_markdown};
pub use tokens::{Tokens, escape_html, token};

/// The customer fields step text may use, as `customer.FIELD`, and how they read.
const CUSTOMER_FIELDS: [(&str, &str); 3] = [
    ("name", "name"),
    ("domain", "domain"),
    ("timezone", "time zone"),
];

/// Variable name (`tier`, `app_id`, `customer.name`) → its text for one customer, in a fixed
/// order: facts, lookups, customer fields.
#[derive(Debug, Clone)]
pub struct Values {
    pub texts: IndexMap<String, String>,
    /// Lookup id → the facts not known that its value depends on.
    pub unknown_lookups: IndexMap<String, Vec<String>>,
    /// Lookup id → each value a lookup not decided may still have, with what chooses it: a
    /// link to it is given once per value.
    pub alternatives: IndexMap<String, Vec<(String, String)>>,
    /// The facts known, defaults included: they decide conditional text.
    facts: FactValues,
    vocab: Vocabulary,
}

impl Values {
    /// The values for a customer: the facts given, and the defaults of those not given.
    pub fn new(vocab: &Vocabulary, customer: &Customer, given: &FactValues) -> Self {
        Self::known(vocab, customer, vocab.with_defaults(given).0)
    }

    /// The values for every customer, as a page about a runbook shows them: no fact known,
    /// and no default assumed, so that every conditional text and every value shows.
    pub fn general(vocab: &Vocabulary) -> Self {
        Self::known(vocab, &Customer::default(), FactValues::new())
    }

    /// The values for the facts given and no other: a runbook shown for some facts.
    pub fn as_given(vocab: &Vocabulary, customer: &Customer, given: &FactValues) -> Self {
        Self::known(vocab, customer, given.clone())
    }

    fn known(vocab: &Vocabulary, customer: &Customer, facts: FactValues) -> Self {
        let mut texts = IndexMap::new();
        for fact in vocab.facts.values() {
            let text = match facts.get(&fact.id) {
                Some(v) => fact.describe_value(v),
                None => format!("[{}]", fact.name),
            };
            texts.insert(fact.id.clone(), text);
        }
        let mut unknown_lookups = IndexMap::new();
        let mut alternatives = IndexMap::new();
        for lookup in vocab.lookups.values() {
            let text = match lookup.value(&facts) {
                Some(value) => value,
                None => {
                    let open = lookup
                        .facts()
                        .into_iter()
                        .filter(|f| !facts.contains_key(f));
                    unknown_lookups.insert(lookup.id.clone(), open.collect());
                    alternatives.insert(lookup.id.clone(), lookup.alternatives(vocab, &facts));
                    lookup.all_values(vocab, &facts)
                }
            };
            texts.insert(lookup.id.clone(), text);
        }
        for (field, shown) in CUSTOMER_FIELDS {
            let given = customer.field(field).cloned().flatten();
            let text = given.unwrap_or_else(|| format!("[customer {shown}]"));
            texts.insert(format!("customer.{field}"), text);
        }
        Values {
            texts,
            unknown_lookups,
            alternatives,
            facts,
            vocab: vocab.clone(),
        }
    }

    /// Values of a text's variables that a fact not known would change: those facts.
    pub fn unknown_facts_of(&self, variables: &[String]) -> Vec<String> {
        variables
            .iter()
            .filter_map(|v| self.unknown_lookups.get(v))
            .flatten()
            .cloned()
            .collect()
    }

    /// How a conditional part with this condition shows its two texts: where the condition
    /// holds, its text and not its `{% else %}` text; where it does not, the other way round;
    /// where facts it needs are not known, both, each with what it needs.
    pub fn shown(&self, cond: &Expr) -> (Shown, Shown) {
        match cond.eval(&self.facts) {
            Tri::True => (Shown::Keep, Shown::Drop),
            Tri::False => (Shown::Drop, Shown::Keep),
            Tri::Unknown => {
                let not = Expr::Not(Box::new(cond.clone()));
                let words = |e: &Expr| Shown::Mark(e.residual(&self.facts).describe(&self.vocab));
                (words(cond), words(&not))
            }
        }
    }

    /// A condition in step text, resolved against the facts (`runbook check` has validated
    /// every one; one that does not resolve holds for nobody).
    fn condition(&self, written: &str) -> Expr {
        condition::parse(written, &self.vocab).unwrap_or(Expr::Const(false))
    }
}

/// How values go into a text.
pub trait Fill {
    fn values(&self) -> &Values;
    /// The text with its variables filled in and its conditional parts decided.
    fn fill(&self, text: &str) -> String;
    /// The names of the variables a text uses.
    fn variables(&self, text: &str) -> Vec<String>;
    /// The conditions of a text's conditional parts.
    fn conditions(&self, text: &str) -> Vec<Expr>;
    /// The facts not known that would change a text.
    fn open_facts(&self, text: &str) -> Vec<String> {
        let values = self.values();
        let mut facts = values.unknown_facts_of(&self.variables(text));
        for cond in self.conditions(text) {
            facts.extend(cond.residual(&values.facts).facts());
        }
        facts
    }
}

/// The variables a template uses; an error says why it does not parse, and on which line.
pub fn variables(text: &str) -> Result<HashSet<String>, (String, Option<usize>)> {
    if !text.contains("{{") && !text.contains("{%") {
        return Ok(HashSet::new());
    }
    let text = template::without_parts(text);
    let env = minijinja::Environment::new();
    match env.template_from_str(&text) {
        Ok(t) => Ok(t.undeclared_variables(true)),
        Err(e) => Err((
            e.detail().unwrap_or("invalid template").to_string(),
            e.line(),
        )),
    }
}

/// The places where a text does more than fill in a value: a statement (`{% if … %}`) or an
/// expression (`{{ region == "eu" }}`, `{{ name | upper }}`). Step text is filled in with what
/// people read (a fact's label), so logic there would test labels, not the customer's facts:
/// `runbook check` refuses it, and points to conditional text (`{% when … %}`, which `parts`
/// reads). Byte ranges in the text, with what is written there.
pub fn logic(text: &str) -> Vec<(std::ops::Range<usize>, &str)> {
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(i) = text[at..].find('{').map(|i| at + i) {
        let rest = &text[i..];
        let close = if rest.starts_with("{%") {
            Some("%}")
        } else if rest.starts_with("{{") {
            Some("}}")
        } else {
            None
        };
        let Some(close) = close else {
            at = i + 1;
            continue;
        };
        let Some(len) = rest[2..].find(close).map(|j| j + 4) else {
            break;
        };
        let inner = rest[2..len - 2].trim_matches(|c: char| c.is_whitespace() || c == '-');
        let plain = match close {
            "}}" => {
                !inner.is_empty()
                    && inner.split('.').all(|part| {
                        part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                            && !part.is_empty()
                    })
            }
            _ => {
                let word = inner.split_whitespace().next().unwrap_or("");
                word == "when" || inner == "else" || inner == "end"
            }
        };
        if !plain {
            out.push((i..i + len, &text[i..i + len]));
        }
        at = i + len;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logic_in_step_text_is_found_with_its_place() {
        let text = "Use {{ app_id }} for {{ customer.name }}.\n{% if region == \"eu\" %}EU{% endif %} {{ tier | upper }} {{- x -}}";
        let found: Vec<&str> = logic(text).into_iter().map(|(_, t)| t).collect();
        assert_eq!(
            found,
            [
                "{% if region == \"eu\" %}",
                "{% endif %}",
                "{{ tier | upper }}"
            ]
        );
        let (range, _) = &logic(text)[0];
        assert_eq!(&text[range.clone()], "{% if region == \"eu\" %}");
        assert!(logic("Plain {text} and {{ a.b }}").is_empty());
        assert!(logic("{% when region == \"eu\" %}EU{% else %}US{% end %}").is_empty());
    }

    #[test]
    fn template_variables_are_found() {
        let vars = variables("Enter {{ app_id }} for {{ customer.name }}.").unwrap();
        assert!(vars.contains("app_id") && vars.contains("customer.name"));
        assert!(variables("Plain text").unwrap().is_empty());
        assert!(variables("{{ broken").is_err());
        let vars = variables("{% when region == \"eu\" %}{{ app_id }}{% end %}").unwrap();
        assert!(vars.contains("app_id"));
    }
}
