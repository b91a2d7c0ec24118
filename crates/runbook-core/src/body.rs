//! Step text filled in for one customer. The values are computed once, here: each fact's
//! description, each lookup's value, each customer field, or what stands for them when not
//! known. How they go into a text is a `Fill`: a template in Markdown (`Template`, for the
//! command line, search and the site), or tokens in text already rendered (`Tokens`, for the
//! checklist builder, which gets its bodies as HTML).

use std::collections::HashSet;

use indexmap::IndexMap;

use crate::facts::{FactValues, Vocabulary};
use crate::profile::Customer;

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
}

impl Values {
    pub fn new(vocab: &Vocabulary, customer: &Customer, given: &FactValues) -> Self {
        let (facts, _) = vocab.with_defaults(given);
        let mut texts = IndexMap::new();
        for fact in vocab.facts.values() {
            let text = match facts.get(&fact.id) {
                Some(v) => fact.describe_value(v),
                None => format!("[{}]", fact.name),
            };
            texts.insert(fact.id.clone(), text);
        }
        let mut unknown_lookups = IndexMap::new();
        for lookup in vocab.lookups.values() {
            let text = match lookup.value(&facts) {
                Some(value) => value,
                None => {
                    let open = lookup
                        .facts()
                        .into_iter()
                        .filter(|f| !facts.contains_key(f));
                    unknown_lookups.insert(lookup.id.clone(), open.collect());
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
}

/// How values go into a text.
pub trait Fill {
    fn values(&self) -> &Values;
    /// The text with its variables filled in.
    fn fill(&self, text: &str) -> String;
    /// The names of the variables a text uses.
    fn variables(&self, text: &str) -> Vec<String>;
}

/// Markdown step text as written: `{{ fact }}`, `{{ lookup }}`, `{{ customer.name }}`.
pub struct Template {
    values: Values,
    env: minijinja::Environment<'static>,
    context: minijinja::Value,
}

impl Template {
    /// Step text for these facts and customer, to be read as it is (in a terminal).
    pub fn new(vocab: &Vocabulary, customer: &Customer, facts: &FactValues) -> Self {
        Self::with(Values::new(vocab, customer, facts))
    }

    /// Step text for these facts and customer, to be rendered as Markdown, where a `<` in a
    /// value would start an HTML tag ("Contoso <Ltd>" would lose its "<Ltd>"): values go in
    /// escaped.
    pub fn markdown(vocab: &Vocabulary, customer: &Customer, facts: &FactValues) -> Self {
        Self::with(for_markdown(Values::new(vocab, customer, facts)))
    }

    pub fn with(values: Values) -> Self {
        let mut top: IndexMap<String, minijinja::Value> = IndexMap::new();
        let mut customer: Vec<(&str, minijinja::Value)> = Vec::new();
        for (name, text) in &values.texts {
            match name.strip_prefix("customer.") {
                Some(field) => {
                    customer.push((field, text.as_str().into()));
                }
                None => {
                    top.insert(name.clone(), text.as_str().into());
                }
            }
        }
        top.insert("customer".into(), minijinja::Value::from_pairs(customer));
        let mut env = minijinja::Environment::new();
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
        Template {
            context: minijinja::Value::from_pairs(top),
            values,
            env,
        }
    }
}

impl Fill for Template {
    fn values(&self) -> &Values {
        &self.values
    }

    fn fill(&self, text: &str) -> String {
        if !text.contains("{{") && !text.contains("{%") {
            return text.to_string();
        }
        // `runbook check` has validated every body, so rendering cannot fail on content.
        self.env
            .render_str(text, &self.context)
            .unwrap_or_else(|_| text.to_string())
    }

    fn variables(&self, text: &str) -> Vec<String> {
        variables(text).map(Vec::from_iter).unwrap_or_default()
    }
}

/// Values to go into Markdown, where a `<` would start an HTML tag: escaped.
fn for_markdown(mut values: Values) -> Values {
    for text in values.texts.values_mut() {
        if text.contains(['&', '<', '>']) {
            let mut escaped = String::with_capacity(text.len() + 8);
            for c in text.chars() {
                match c {
                    '&' => escaped.push_str("&amp;"),
                    '<' => escaped.push_str("&lt;"),
                    '>' => escaped.push_str("&gt;"),
                    _ => escaped.push(c),
                }
            }
            *text = escaped;
        }
    }
    values
}

/// The variables a template uses; an error says why it does not parse, and on which line.
pub fn variables(text: &str) -> Result<HashSet<String>, (String, Option<usize>)> {
    if !text.contains("{{") && !text.contains("{%") {
        return Ok(HashSet::new());
    }
    let env = minijinja::Environment::new();
    match env.template_from_str(text) {
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
/// `runbook check` refuses it. Byte ranges in the text, with what is written there.
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
        let plain = close == "}}"
            && !inner.is_empty()
            && inner.split('.').all(|part| {
                part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') && !part.is_empty()
            });
        if !plain {
            out.push((i..i + len, &text[i..i + len]));
        }
        at = i + len;
    }
    out
}

/// HTML in which each variable stands as a token (`token(i)` for the `i`-th value), so that it
/// can be rendered once and filled in for every customer.
pub struct Tokens {
    values: Values,
    /// Whether the text is HTML (values escaped as they go in) or Markdown (values escaped
    /// before, as `Template::markdown` has them).
    html: bool,
}

/// The token that stands for the `i`-th variable: letters and digits, which Markdown and
/// HTML sanitizing leave intact.
pub fn token(i: usize) -> String {
    format!("rbkv{i}q")
}

impl Tokens {
    pub fn new(values: Values) -> Self {
        Tokens { values, html: true }
    }

    /// For Markdown with tokens (the builder's copy of the step text a run pins): the same
    /// text as `Template::markdown` makes of the source.
    pub fn markdown(values: Values) -> Self {
        Tokens {
            values: for_markdown(values),
            html: false,
        }
    }

    /// Each token in `text`, with its byte range and variable index.
    fn tokens(text: &str) -> impl Iterator<Item = (std::ops::Range<usize>, usize)> + '_ {
        text.match_indices("rbkv").filter_map(move |(at, _)| {
            let digits = text[at + 4..]
                .bytes()
                .take_while(u8::is_ascii_digit)
                .count();
            let end = at + 4 + digits;
            let i = text[at + 4..end].parse().ok()?;
            (text[end..].starts_with('q')).then_some((at..end + 1, i))
        })
    }
}

impl Fill for Tokens {
    fn values(&self) -> &Values {
        &self.values
    }

    fn fill(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut done = 0;
        for (range, i) in Self::tokens(text) {
            let Some((_, value)) = self.values.texts.get_index(i) else {
                continue;
            };
            out.push_str(&text[done..range.start]);
            if self.html {
                escape_html(value, &mut out);
            } else {
                out.push_str(value);
            }
            done = range.end;
        }
        out.push_str(&text[done..]);
        out
    }

    fn variables(&self, text: &str) -> Vec<String> {
        Self::tokens(text)
            .filter_map(|(_, i)| self.values.texts.get_index(i).map(|(n, _)| n.clone()))
            .collect()
    }
}

fn escape_html(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values() -> Values {
        let mut texts = IndexMap::new();
        for i in 0..13 {
            texts.insert(format!("v{i}"), format!("<{i}>"));
        }
        Values {
            texts,
            unknown_lookups: IndexMap::new(),
        }
    }

    #[test]
    fn tokens_are_filled_escaped_and_never_inside_longer_ones() {
        let t = Tokens::new(values());
        assert_eq!(t.fill("a rbkv1q b rbkv12q c"), "a &lt;1&gt; b &lt;12&gt; c");
        assert_eq!(t.fill("rbkv99q rbkvq rbkv1"), "rbkv99q rbkvq rbkv1");
        assert_eq!(t.variables("rbkv12q rbkv0q"), ["v12", "v0"]);
    }

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
    }

    #[test]
    fn template_variables_are_found() {
        let vars = variables("Enter {{ app_id }} for {{ customer.name }}.").unwrap();
        assert!(vars.contains("app_id") && vars.contains("customer.name"));
        assert!(variables("Plain text").unwrap().is_empty());
        assert!(variables("{{ broken").is_err());
    }
}
