//! Checks over runbooks as a whole: ids, order, revision ranges, conditions that can never
//! (or always) hold where they stand, and variables in step text.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};

use super::{Condition, Revision, Runbook, Section, Step, VERSION_FACT, load};
use crate::condition::{Expr, VersionRange};
use crate::diagnostics::{Diagnostic, Diagnostics, Span, did_you_mean};
use crate::facts::{FactValues, Vocabulary};

/// Fields of the customer a step body may use as `{{ customer.<field> }}`.
pub const CUSTOMER_FIELDS: [&str; 3] = ["name", "domain", "timezone"];

pub fn validate(runbooks: &[Runbook], vocab: &Vocabulary, diags: &mut Diagnostics) {
    let mut seen: HashMap<&str, &Span> = HashMap::new();
    for rb in runbooks {
        if let Some(first) = seen.insert(&rb.id, &rb.id_span) {
            diags.push(
                Diagnostic::error(format!("duplicate runbook id `{}`", rb.id))
                    .at(&rb.id_span)
                    .label("defined again here")
                    .note(format!("first defined at {}", first.location())),
            );
        }
        if !load::valid_id(&rb.id) {
            diags.push(
                Diagnostic::error(format!("`{}` is not a valid id", rb.id))
                    .at(&rb.id_span)
                    .help("use lowercase letters, digits and dashes, like `service-account`"),
            );
        }
        revisions(rb, vocab, diags);
        for rev in &rb.revisions {
            ids(rev, diags);
            conditions(rb, rev, vocab, diags);
            variables(rev, vocab, diags);
        }
    }
    citations(runbooks, vocab, diags);
    if let Err(d) = order(runbooks) {
        diags.extend(d);
    }
}

/// Every `from` names a source some revision lists; a step that cites sources cites at least
/// one its own revision lists (a shared step may cite the articles of each place it is
/// included in, and each place shows its own); a citation of a source with a condition can
/// be shown somewhere the step is.
fn citations(runbooks: &[Runbook], vocab: &Vocabulary, diags: &mut Diagnostics) {
    let known: Vec<&str> = runbooks
        .iter()
        .flat_map(|rb| &rb.revisions)
        .flat_map(|r| &r.sources)
        .filter_map(|s| s.id.as_deref())
        .collect();
    let mut reported = HashSet::new();
    for rb in runbooks {
        for rev in &rb.revisions {
            for (section, step) in rev.steps() {
                never_shown(rb, rev, section, step, vocab, diags);
                for cited in &step.from {
                    if known.contains(&cited.source.as_str())
                        || !reported.insert(cited.span.location())
                    {
                        continue;
                    }
                    let mut d = Diagnostic::error(format!(
                        "`from` names source `{}`, which no revision lists",
                        cited.source
                    ))
                    .at(&cited.span)
                    .label("no [[revision.source]] has this id");
                    if let Some(close) = did_you_mean(&cited.source, known.iter().copied()) {
                        d = d.help(format!("did you mean \"{close}\"?"));
                    }
                    diags.push(d);
                }
                let cites_known = step.from.iter().any(|c| known.contains(&c.source.as_str()));
                if cites_known
                    && rev.provenance(step, &FactValues::new(), vocab).is_empty()
                    && reported.insert(format!("{}#{}@{}", rb.id, step.id, rev.label()))
                {
                    diags.push(
                        Diagnostic::error(format!(
                            "step `{}#{}` cites no source of its revision {}",
                            rb.id,
                            step.id,
                            rev.label()
                        ))
                        .at(&step.from[0].span)
                        .help(format!(
                            "list the article under [[revision.source]] with an `id` at {}, or cite one it lists",
                            rev.span.location()
                        )),
                    );
                }
            }
        }
    }
}

/// Warns of a step's citation of a source whose condition excludes every profile the step
/// applies to: a checklist would never show it.
fn never_shown(
    rb: &Runbook,
    rev: &Revision,
    section: &Section,
    step: &Step,
    vocab: &Vocabulary,
    diags: &mut Diagnostics,
) {
    for cited in &step.from {
        let Some(when) = rev
            .sources
            .iter()
            .find(|s| s.id.as_deref() == Some(&cited.source))
            .and_then(|s| s.when.as_ref())
        else {
            continue;
        };
        let both = Expr::and(vec![rb.condition_of(section, step), when.expr.clone()]);
        if both.satisfiable(vocab, VERSION_FACT, &rev.range) == Some(false) {
            diags.push(
                Diagnostic::warning(format!(
                    "step `{}#{}` cites source `{}`, which never applies where the step does",
                    rb.id, step.id, cited.source
                ))
                .at(&cited.span)
                .label("never shown")
                .note(format!(
                    "the source applies only if {}",
                    when.expr.describe(vocab)
                ))
                .help("cite a source that applies to the step, or widen the source's `when`"),
            );
        }
    }
}

fn revisions(rb: &Runbook, vocab: &Vocabulary, diags: &mut Diagnostics) {
    let names: Vec<&str> = rb
        .revisions
        .iter()
        .filter_map(|r| r.id.as_deref())
        .collect();
    for (i, r) in rb.revisions.iter().enumerate() {
        if let Some(id) = &r.id
            && names.iter().filter(|n| **n == id).count() > 1
            && rb.revisions[..i].iter().all(|e| e.id.as_ref() != Some(id))
        {
            diags.push(
                Diagnostic::error(format!("two revisions of `{}` have the id `{id}`", rb.id))
                    .at(&r.span)
                    .help("give each revision an id of its own"),
            );
        }
        let (Some(name), Some(at)) = (&r.supersedes, &r.supersedes_span) else {
            continue;
        };
        let others = || rb.revisions.iter().enumerate().filter(|&(j, _)| j != i);
        if !others().any(|(_, o)| o.is_named(name)) {
            let known: Vec<&str> = others()
                .flat_map(|(_, o)| o.date.iter().chain(&o.id))
                .map(String::as_str)
                .collect();
            let mut d = Diagnostic::error(format!(
                "`supersedes` names no other revision of `{}`: `{name}`",
                rb.id
            ))
            .at(at)
            .label("not the date or id of a revision");
            d = match did_you_mean(name, known.iter().copied()) {
                Some(close) => d.help(format!("did you mean \"{close}\"?")),
                None if known.is_empty() => d.help("it is the runbook's only revision"),
                None => d.help(format!("its other revisions: {}", known.join(", "))),
            };
            diags.push(d);
        }
    }
    // Ranges were left open where the version fact is broken: comparing them says nothing.
    if vocab.is_broken(VERSION_FACT) {
        return;
    }
    for (i, a) in rb.revisions.iter().enumerate() {
        for b in &rb.revisions[i + 1..] {
            if !a.range.overlaps(&b.range) {
                continue;
            }
            // One may replace the other where their ranges meet.
            if a.supersedes(b) || b.supersedes(a) {
                continue;
            }
            let (older, newer) = if a.date <= b.date { (a, b) } else { (b, a) };
            diags.push(
                Diagnostic::error(format!(
                    "revisions of `{}` overlap: {} and {}",
                    rb.id,
                    a.label(),
                    b.label()
                ))
                .at(&newer.span)
                .note(format!("the other revision starts at {}", older.span.location()))
                .help(match (&older.date, &older.id) {
                    (Some(date), _) => format!(
                        "give them disjoint `since`/`before` ranges, or mark the later-dated one `supersedes = {date}`"
                    ),
                    (None, Some(id)) => format!(
                        "give them disjoint `since`/`before` ranges, or mark the one that replaces the other `supersedes = \"{id}\"`"
                    ),
                    (None, None) => "give them disjoint `since`/`before` ranges, or give the older an `id` and mark the one that replaces it `supersedes = \"ID\"`".into(),
                }),
            );
        }
    }
    // Gaps between consecutive ranges leave versions with no procedure.
    let mut ranges: Vec<&VersionRange> = rb.revisions.iter().map(|r| &r.range).collect();
    ranges.sort_by(|a, b| a.since.cmp(&b.since));
    for pair in ranges.windows(2) {
        if let (Some(end), Some(next)) = (&pair[0].before, &pair[1].since)
            && end < next
            && !ranges.iter().any(|r| {
                r.overlaps(&VersionRange {
                    since: Some(end.clone()),
                    before: Some(next.clone()),
                })
            })
        {
            let at = rb
                .revisions
                .iter()
                .find(|r| r.range.since.as_ref() == Some(next))
                .map_or(&rb.id_span, |r| &r.span);
            diags.push(
                Diagnostic::warning(format!(
                    "no revision of `{}` covers versions from {end} up to {next}",
                    rb.id
                ))
                .at(at),
            );
        }
    }
}

fn ids(rev: &Revision, diags: &mut Diagnostics) {
    // A shared section or step is named by where it is included, and where it is written.
    // (Places are put in words only for a duplicate: that scans the file.)
    fn said(span: &Span, site: Option<&Span>) -> String {
        match site {
            Some(site) => format!(
                "{} (the shared one at {})",
                site.location(),
                span.location()
            ),
            None => span.location(),
        }
    }
    let mut sections: HashMap<&str, (&Span, Option<&Span>)> = HashMap::new();
    let mut steps: HashMap<&str, (&Span, Option<&Span>)> = HashMap::new();
    for section in &rev.sections {
        let here = (&section.span, section.site.as_ref());
        if let Some(first) = sections.insert(&section.id, here) {
            diags.push(
                Diagnostic::error(format!(
                    "duplicate section id `{}` in this revision",
                    section.id
                ))
                .at(here.1.unwrap_or(here.0))
                .label("used again here")
                .note(format!("first used at {}", said(first.0, first.1)))
                .help("give one of them another id: an include site may set `id`"),
            );
        }
        for step in &section.steps {
            let here = (&step.span, step.site.as_ref());
            if let Some(first) = steps.insert(&step.id, here) {
                diags.push(
                    Diagnostic::error(format!("duplicate step id `{}` in this revision", step.id))
                        .at(here.1.unwrap_or(here.0))
                        .label("used again here")
                        .note(format!("first used at {}", said(first.0, first.1)))
                        .help(format!(
                            "step ids must be unique within a runbook revision; they make `runbook#step` addresses{}",
                            if step.site.is_some() { " (an include site may set `id`)" } else { "" }
                        )),
                );
            }
        }
    }
}

fn conditions(rb: &Runbook, rev: &Revision, vocab: &Vocabulary, diags: &mut Diagnostics) {
    let base: Vec<Expr> = rb.when.iter().map(|c| c.expr.clone()).collect();
    let mut reported = HashSet::new();
    // Problems in the form of conditional text, reported after its conditions are checked.
    let mut malformed = Diagnostics::default();
    let mut check = |c: &Condition, context: &[Expr], what: &str| {
        check(c, context, &rev.range, what, vocab, diags, &mut reported);
    };
    if let Some(when) = &rb.when {
        check(when, &[], "the runbook");
    }
    for source in &rev.sources {
        if let Some(when) = &source.when {
            check(when, &base, "the source");
        }
    }
    for section in &rev.sections {
        let mut context = base.clone();
        for c in &section.when {
            check(c, &context, "the section");
            context.push(c.expr.clone());
        }
        for step in &section.steps {
            let mut context = context.clone();
            for c in &step.when {
                check(c, &context, "the step");
                context.push(c.expr.clone());
            }
            for c in text_conditions(step, vocab, &mut malformed) {
                check(&c, &context, "the text");
            }
        }
    }
    diags.extend(malformed);
}

/// The conditions of a step's conditional text, resolved, with their places; what is not
/// well formed is reported.
fn text_conditions(step: &Step, vocab: &Vocabulary, diags: &mut Diagnostics) -> Vec<Condition> {
    let at = step.body_span.as_ref().unwrap_or(&step.span);
    // Offsets in the text are offsets in the file when the string has no escapes.
    let place = |range: std::ops::Range<usize>| match &step.body_span {
        Some(body) if body.text().starts_with(&step.body) => Span::new(
            &body.file,
            body.range.start + range.start..body.range.start + range.end,
        ),
        _ => at.clone(),
    };
    let parts = match crate::body::parts::parse(&step.body) {
        Ok(parts) => parts,
        Err(errors) => {
            for e in errors {
                diags.push(
                    Diagnostic::error(format!("step `{}`: {}", step.id, e.message))
                        .at(&place(e.range))
                        .help(e.help),
                );
            }
            return Vec::new();
        }
    };
    let mut out = Vec::new();
    for part in parts {
        let text = &step.body[part.cond.clone()];
        match crate::condition::parse(text, vocab) {
            Ok(expr) => out.push(Condition {
                expr,
                span: place(part.cond),
            }),
            Err(e) => {
                let start = part.cond.start;
                let mut d = Diagnostic::error(e.message)
                    .at(&place(start + e.span.start..start + e.span.end))
                    .label(e.label);
                if let Some(help) = e.help {
                    d = d.help(help);
                }
                diags.push(d);
            }
        }
    }
    out
}

/// Errors when `c` can never hold given its context; warns when it always does. A condition
/// in a shared file is checked once per place it is reported at. `what` is what it keeps
/// out of checklists.
fn check(
    c: &Condition,
    context: &[Expr],
    range: &VersionRange,
    what: &str,
    vocab: &Vocabulary,
    diags: &mut Diagnostics,
    reported: &mut HashSet<(String, usize)>,
) {
    let key = (c.span.file.name.clone(), c.span.range.start);
    if reported.contains(&key) {
        return;
    }
    let with = |e: Expr| Expr::and(context.iter().cloned().chain([e]).collect());
    let where_ = if context.is_empty() && range == &VersionRange::default() {
        String::new()
    } else {
        format!(
            " where it stands (versions: {range}{})",
            if context.is_empty() {
                ""
            } else {
                ", inside the enclosing conditions"
            }
        )
    };
    if with(c.expr.clone()).satisfiable(vocab, VERSION_FACT, range) == Some(false) {
        reported.insert(key);
        diags.push(
            Diagnostic::error(format!("condition can never be true{where_}"))
                .at(&c.span)
                .label("no value of the facts makes this true")
                .help(format!(
                    "{what} would never appear in any checklist; fix or remove the condition"
                )),
        );
    } else if with(Expr::Not(Box::new(c.expr.clone()))).satisfiable(vocab, VERSION_FACT, range)
        == Some(false)
    {
        reported.insert(key);
        diags.push(
            Diagnostic::warning(format!("condition is always true{where_}"))
                .at(&c.span)
                .label("this never excludes anything")
                .help("remove it, or check that it says what was meant"),
        );
    }
}

fn variables(rev: &Revision, vocab: &Vocabulary, diags: &mut Diagnostics) {
    for (_, step) in rev.steps() {
        let at = step.body_span.as_ref().unwrap_or(&step.span);
        let logic = crate::body::logic(&step.body);
        for (range, written) in &logic {
            // The place is underlined; the message quotes only its start.
            let written: String = match written.char_indices().nth(40) {
                Some((end, _)) => format!("{}…", &written[..end]),
                None => (*written).to_string(),
            };
            let place = match &step.body_span {
                Some(body) => Span::new(
                    &body.file,
                    body.range.start + range.start..body.range.start + range.end,
                ),
                None => at.clone(),
            };
            diags.push(
                Diagnostic::error(format!(
                    "step `{}`: step text only fills in values, and `{written}` does more",
                    step.id
                ))
                .at(&place)
                .label("not evaluated against the customer's facts")
                .note(
                    "a fact in step text is what people read (its label), so a test of it \
                     would compare labels, and versions as text",
                )
                .help(
                    "for text that depends on the facts write conditional text, \
                     `{% when region == \"eu\" %}…{% else %}…{% end %}`; for a value that \
                     facts choose, a lookup",
                ),
            );
        }
        // Conditional text that is not well formed is reported with its conditions.
        if !logic.is_empty() || crate::body::parts::parse(&step.body).is_err() {
            continue;
        }
        match crate::body::variables(&step.body) {
            Ok(vars) => {
                let mut vars: Vec<String> = vars.into_iter().collect();
                vars.sort();
                for var in vars {
                    if known_variable(&var, vocab) {
                        continue;
                    }
                    let candidates: Vec<String> = vocab
                        .facts
                        .keys()
                        .chain(vocab.lookups.keys())
                        .cloned()
                        .chain(CUSTOMER_FIELDS.iter().map(|f| format!("customer.{f}")))
                        .collect();
                    let mut d = Diagnostic::error(format!(
                        "step `{}` uses undefined variable `{var}`",
                        step.id
                    ))
                    .at(&variable_span(at, &var))
                    .label("not a fact, lookup or customer field");
                    if let Some(close) = did_you_mean(&var, candidates.iter().map(String::as_str)) {
                        d = d.help(format!("did you mean \"{close}\"?"));
                    }
                    diags.push(d);
                }
            }
            Err((message, line)) => {
                let mut d = Diagnostic::error(format!(
                    "step `{}`: template error in body: {message}",
                    step.id
                ))
                .at(at);
                if let Some(line) = line {
                    d = d.note(format!("at line {line} of the body"));
                }
                diags.push(d);
            }
        }
    }
}

fn known_variable(var: &str, vocab: &Vocabulary) -> bool {
    match var.split_once('.') {
        Some(("customer", field)) => CUSTOMER_FIELDS.contains(&field),
        Some(_) => false,
        None => {
            vocab.facts.contains_key(var) || vocab.lookups.contains_key(var) || vocab.is_broken(var)
        }
    }
}

/// The span of the first use of a variable in a body, or the whole body.
fn variable_span(body: &Span, var: &str) -> Span {
    match body.text().find(var.split('.').next().unwrap_or(var)) {
        Some(i) if !body.text().is_empty() => Span::new(
            &body.file,
            body.range.start + i..body.range.start + i + var.len(),
        ),
        _ => body.clone(),
    }
}

/// The runbooks in an order that respects every `after`, ties kept in their given order.
pub fn order(runbooks: &[Runbook]) -> Result<Vec<usize>, Diagnostics> {
    let index: HashMap<&str, usize> = runbooks
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.as_str(), i))
        .collect();
    let mut diags = Diagnostics::default();
    let mut deps: Vec<Vec<usize>> = vec![Vec::new(); runbooks.len()];
    for (i, rb) in runbooks.iter().enumerate() {
        for (after, span) in &rb.after {
            match index.get(after.as_str()) {
                Some(&j) => deps[i].push(j),
                None => {
                    let mut d =
                        Diagnostic::error(format!("`after` names unknown runbook `{after}`"))
                            .at(span);
                    if let Some(close) = did_you_mean(after, index.keys().copied()) {
                        d = d.help(format!("did you mean \"{close}\"?"));
                    }
                    diags.push(d);
                }
            }
        }
    }
    // Kahn's algorithm; the ready runbook that comes first in the given order goes first.
    let mut waiting: Vec<usize> = deps.iter().map(Vec::len).collect();
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); runbooks.len()];
    for (i, ds) in deps.iter().enumerate() {
        for &j in ds {
            dependents[j].push(i);
        }
    }
    let mut ready: BinaryHeap<Reverse<usize>> = (0..runbooks.len())
        .filter(|&i| waiting[i] == 0)
        .map(Reverse)
        .collect();
    let mut done = vec![false; runbooks.len()];
    let mut out = Vec::new();
    while out.len() < runbooks.len() {
        match ready.pop() {
            Some(Reverse(i)) => {
                done[i] = true;
                out.push(i);
                for &k in &dependents[i] {
                    waiting[k] -= 1;
                    if waiting[k] == 0 {
                        ready.push(Reverse(k));
                    }
                }
            }
            None => {
                // Whatever is left waits on itself through some chain: report that chain.
                let start = (0..runbooks.len()).find(|&i| !done[i]).unwrap_or(0);
                let mut chain = vec![start];
                let mut at = start;
                while let Some(&next) = deps[at].iter().find(|&&j| !done[j]) {
                    if let Some(pos) = chain.iter().position(|&c| c == next) {
                        chain.drain(..pos);
                        chain.push(next);
                        break;
                    }
                    chain.push(next);
                    at = next;
                }
                let names: Vec<&str> = chain.iter().map(|&i| runbooks[i].id.as_str()).collect();
                let rb = &runbooks[chain[0]];
                let span = rb
                    .after
                    .iter()
                    .find(|(a, _)| Some(a.as_str()) == names.get(1).copied())
                    .map_or(&rb.id_span, |(_, s)| s);
                diags.push(
                    Diagnostic::error(format!(
                        "`after` cycle: {}",
                        names.join(" must come after ")
                    ))
                    .at(span),
                );
                return Err(diags);
            }
        }
    }
    if diags.has_errors() {
        Err(diags)
    } else {
        Ok(out)
    }
}
