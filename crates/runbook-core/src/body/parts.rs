//! Conditional text inside a step: `{% when COND %}…{% else %}…{% end %}` around a sentence,
//! a list item or a paragraph, shown only where its condition holds (the `{% else %}` text
//! where it does not). Where the facts that decide are not known, both texts are shown, each
//! marked with its condition. A tag alone on its line takes the line with it, so a part can be
//! written around whole lines:
//!
//! ```text
//! {% when region == "eu" %}
//! - Choose **EU Data Center**.
//! {% end %}
//! ```
//!
//! A part stays inside one block (no blank line, no second list item), so that dropping it
//! leaves the Markdown, and the HTML rendered from it, well formed.

use std::ops::Range;

/// One conditional part of a text, as byte ranges into it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// The condition as written.
    pub cond: Range<usize>,
    /// What the part replaces: its tags and texts, and its line(s) when it fills them.
    pub whole: Range<usize>,
    /// Kept around the text shown, for a part that fills its line: the indentation and list
    /// marker before it, the line's end after it. Empty otherwise.
    pub prefix: Range<usize>,
    pub suffix: Range<usize>,
    /// The text shown where the condition holds.
    pub then: Range<usize>,
    /// The text shown where it does not (`{% else %}`).
    pub otherwise: Option<Range<usize>>,
}

/// A part that is not well formed: what is wrong, where, and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartError {
    pub message: String,
    pub range: Range<usize>,
    pub help: String,
}

/// How one text of a part is shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shown {
    Keep,
    Drop,
    /// Shown with what it needs, in words ("Region is EU").
    Mark(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    When,
    Else,
    End,
}

struct Tag {
    kind: Kind,
    /// The tag itself.
    at: Range<usize>,
    /// What it takes: its whole line when it stands alone there, else itself.
    takes: Range<usize>,
    /// For `when`: the condition.
    cond: Range<usize>,
}

fn tags(text: &str) -> Vec<Tag> {
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(start) = text[at..].find("{%").map(|i| at + i) {
        let Some(len) = text[start + 2..].find("%}").map(|j| j + 4) else {
            break;
        };
        let end = start + len;
        let inner_start = start + 2;
        let inner = &text[inner_start..end - 2];
        let lead = inner.len() - inner.trim_start().len();
        let word_at = inner_start + lead;
        let trimmed = inner.trim();
        let word = trimmed.split_whitespace().next().unwrap_or("");
        let kind = match word {
            "when" => Some(Kind::When),
            "else" if trimmed == "else" => Some(Kind::Else),
            "end" if trimmed == "end" => Some(Kind::End),
            _ => None,
        };
        if let Some(kind) = kind {
            let cond_text = trimmed["when".len().min(trimmed.len())..].trim_start();
            let cond_start = word_at + (trimmed.len() - cond_text.len());
            let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
            let line_end = text[end..].find('\n').map_or(text.len(), |i| end + i + 1);
            let alone =
                text[line_start..start].trim().is_empty() && text[end..line_end].trim().is_empty();
            out.push(Tag {
                kind,
                at: start..end,
                takes: if alone {
                    line_start..line_end
                } else {
                    start..end
                },
                cond: if kind == Kind::When {
                    cond_start..cond_start + cond_text.len()
                } else {
                    end..end
                },
            });
        }
        at = end;
    }
    out
}

/// The length of a line's indentation and list marker (`- `, `* `, `+ `, `1. `, `1) `), with
/// the spaces after it; 0 where the line starts no list item.
fn list_marker(line: &str) -> usize {
    let indent = line.len() - line.trim_start_matches([' ', '\t']).len();
    let rest = &line[indent..];
    let marker = if rest.starts_with(['-', '*', '+']) {
        1
    } else {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if (1..=9).contains(&digits) && rest[digits..].starts_with(['.', ')']) {
            digits + 1
        } else {
            return 0;
        }
    };
    let after = &rest[marker..];
    if !(after.is_empty() || after.starts_with([' ', '\t'])) {
        return 0;
    }
    indent + marker + (after.len() - after.trim_start_matches([' ', '\t']).len())
}

/// Where a part's text begins, past its indentation and list marker: where a mark goes.
pub fn content_start(text: &str) -> usize {
    let first = text.split('\n').next().unwrap_or("");
    match list_marker(first) {
        0 => first.len() - first.trim_start_matches([' ', '\t']).len(),
        n => n,
    }
}

/// The conditional parts of a text, in order, or what is wrong with them.
pub fn parse(text: &str) -> Result<Vec<Part>, Vec<PartError>> {
    if !text.contains("{%") {
        return Ok(Vec::new());
    }
    let mut parts = Vec::new();
    let mut errors = Vec::new();
    let mut open: Option<(Tag, Option<Tag>)> = None;
    for tag in tags(text) {
        match (tag.kind, open.take()) {
            (Kind::When, None) => open = Some((tag, None)),
            (Kind::When, Some(o)) => {
                errors.push(PartError {
                    message: "conditional text cannot be nested".into(),
                    range: tag.at.clone(),
                    help: "combine the conditions with `and` in one `{% when %}`, or give each case a step of its own".into(),
                });
                open = Some(o);
            }
            (Kind::Else, Some((when, None))) => open = Some((when, Some(tag))),
            (Kind::Else, Some((when, Some(_)))) => {
                errors.push(PartError {
                    message: "a second `{% else %}` in one conditional text".into(),
                    range: tag.at.clone(),
                    help: "a `{% when %}` has one `{% else %}` at most; write another `{% when %}` for another case".into(),
                });
                open = Some((when, Some(tag)));
            }
            (Kind::Else | Kind::End, None) => errors.push(PartError {
                message: format!(
                    "`{}` with no `{{% when %}}` before it",
                    &text[tag.at.clone()]
                ),
                range: tag.at.clone(),
                help: "start the conditional text with `{% when CONDITION %}`".into(),
            }),
            (Kind::End, Some((when, otherwise))) => {
                match part(text, &when, otherwise.as_ref(), &tag) {
                    Ok(p) => parts.push(p),
                    Err(e) => errors.push(e),
                }
            }
        }
    }
    if let Some((when, _)) = open {
        errors.push(PartError {
            message: "`{% when %}` is not closed".into(),
            range: when.at,
            help: "end the conditional text with `{% end %}`".into(),
        });
    }
    if errors.is_empty() {
        Ok(parts)
    } else {
        Err(errors)
    }
}

fn part(text: &str, when: &Tag, otherwise: Option<&Tag>, end: &Tag) -> Result<Part, PartError> {
    let then_end = otherwise.map_or(end.takes.start, |e| e.takes.start);
    let then = when.takes.end.min(then_end)..then_end;
    let otherwise = otherwise.map(|e| e.takes.end..end.takes.start.max(e.takes.end));
    for range in std::iter::once(&then).chain(otherwise.as_ref()) {
        let lines: Vec<&str> = text[range.clone()].split('\n').collect();
        // The first piece ends the line of a tag; the last is what follows the final newline.
        let inner = &lines[1.min(lines.len())..lines.len().saturating_sub(1).max(1)];
        let blank = inner.iter().any(|l| l.trim().is_empty());
        if blank {
            return Err(PartError {
                message: "conditional text spans more than one paragraph".into(),
                range: when.at.start..end.at.end,
                help: "give each paragraph its own `{% when %}`, or make it a step with `when`"
                    .into(),
            });
        }
        if lines.iter().skip(1).any(|l| list_marker(l) > 0) {
            return Err(PartError {
                message: "conditional text spans more than one list item".into(),
                range: when.at.start..end.at.end,
                help: "give each list item its own `{% when %}`".into(),
            });
        }
    }
    let mut whole = when.takes.start..end.takes.end;
    let (mut prefix, mut suffix) = (whole.start..whole.start, whole.end..whole.end);
    // A part written inside its line that fills it (`- {% when … %}Do this.{% end %}`) takes
    // the line too, so that where it is dropped no empty list item is left.
    if when.takes == when.at && end.takes == end.at {
        let line_start = text[..when.at.start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = text[end.at.end..]
            .find('\n')
            .map_or(text.len(), |i| end.at.end + i + 1);
        let before = &text[line_start..when.at.start];
        if (before.trim().is_empty() || list_marker(before) == before.len())
            && text[end.at.end..line_end].trim().is_empty()
        {
            prefix = line_start..when.at.start;
            suffix = end.at.end..line_end;
            whole = line_start..line_end;
        }
    }
    Ok(Part {
        cond: when.cond.clone(),
        whole,
        prefix,
        suffix,
        then,
        otherwise,
    })
}

/// The text with each part resolved: `shown` says how its two texts are shown, `mark` gives
/// what goes before a text shown with its condition. A part that fills its lines and shows
/// nothing takes them with it.
pub fn resolve(
    text: &str,
    parts: &[Part],
    shown: impl Fn(&str) -> (Shown, Shown),
    mark: impl Fn(&str) -> String,
) -> String {
    let mut out = String::with_capacity(text.len());
    let mut done = 0;
    for p in parts {
        out.push_str(&text[done..p.whole.start]);
        done = p.whole.end;
        let (then, otherwise) = shown(&text[p.cond.clone()]);
        let mut body = String::new();
        let texts = [(Some(&p.then), then), (p.otherwise.as_ref(), otherwise)];
        for (range, shown) in texts {
            let Some(range) = range else { continue };
            let piece = &text[range.clone()];
            let piece = match &shown {
                Shown::Drop => continue,
                Shown::Keep => piece.to_string(),
                Shown::Mark(words) => {
                    let at = content_start(piece);
                    format!("{}{}{}", &piece[..at], mark(words), &piece[at..])
                }
            };
            if !body.is_empty() && !body.ends_with(['\n', ' ']) && !piece.starts_with(' ') {
                body.push(' ');
            }
            body.push_str(&piece);
        }
        let bytes = text.as_bytes();
        let fills_lines = (p.whole.start == 0 || bytes[p.whole.start - 1] == b'\n')
            && (p.whole.end == text.len() || bytes[p.whole.end - 1] == b'\n');
        if body.trim().is_empty() && fills_lines {
            continue;
        }
        out.push_str(&text[p.prefix.clone()]);
        out.push_str(&body);
        out.push_str(&text[p.suffix.clone()]);
    }
    out.push_str(&text[done..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(text: &str, truth: Option<bool>) -> String {
        let parts = parse(text).unwrap();
        resolve(
            text,
            &parts,
            |cond| match truth {
                Some(true) => (Shown::Keep, Shown::Drop),
                Some(false) => (Shown::Drop, Shown::Keep),
                None => (
                    Shown::Mark(cond.to_string()),
                    Shown::Mark(format!("not {cond}")),
                ),
            },
            |words| format!("*(only if {words})* "),
        )
    }

    #[test]
    fn a_sentence_is_kept_dropped_or_marked() {
        let text = "Open the portal.{% when eu %} Choose EU.{% end %} Sign in.";
        assert_eq!(
            show(text, Some(true)),
            "Open the portal. Choose EU. Sign in."
        );
        assert_eq!(show(text, Some(false)), "Open the portal. Sign in.");
        assert_eq!(
            show(text, None),
            "Open the portal. *(only if eu)* Choose EU. Sign in."
        );
    }

    #[test]
    fn else_gives_the_other_word() {
        let text = "Assign {% when v35 %}Owner{% else %}Contact{% end %}.";
        assert_eq!(show(text, Some(true)), "Assign Owner.");
        assert_eq!(show(text, Some(false)), "Assign Contact.");
        assert_eq!(
            show(text, None),
            "Assign *(only if v35)* Owner *(only if not v35)* Contact."
        );
    }

    #[test]
    fn a_list_item_dropped_leaves_no_empty_item() {
        let text = "1. First.\n2. {% when eu %}EU only.{% end %}\n3. Last.";
        assert_eq!(show(text, Some(false)), "1. First.\n3. Last.");
        assert_eq!(show(text, Some(true)), "1. First.\n2. EU only.\n3. Last.");
        assert_eq!(
            show(text, None),
            "1. First.\n2. *(only if eu)* EU only.\n3. Last."
        );
        let block =
            "- First.\n{% when eu %}\n- EU only.\n{% else %}\n- Elsewhere.\n{% end %}\n- Last.";
        assert_eq!(show(block, Some(true)), "- First.\n- EU only.\n- Last.");
        assert_eq!(show(block, Some(false)), "- First.\n- Elsewhere.\n- Last.");
        assert_eq!(
            show(block, None),
            "- First.\n- *(only if eu)* EU only.\n- *(only if not eu)* Elsewhere.\n- Last."
        );
    }

    #[test]
    fn a_paragraph_on_lines_of_its_own() {
        let text = "Intro.\n\n{% when eu %}\nEU paragraph.\n{% end %}\n\nOutro.";
        assert_eq!(show(text, Some(false)), "Intro.\n\n\nOutro.");
        assert_eq!(show(text, Some(true)), "Intro.\n\nEU paragraph.\n\nOutro.");
        let last = "Intro.\n\n{% when eu %}\nEU paragraph.\n{% end %}";
        assert_eq!(show(last, Some(false)), "Intro.\n\n");
    }

    #[test]
    fn malformed_parts_are_errors_with_their_place() {
        let errors = |text: &str| -> Vec<(String, String)> {
            parse(text)
                .unwrap_err()
                .into_iter()
                .map(|e| (e.message, text[e.range].to_string()))
                .collect()
        };
        assert_eq!(
            errors("a {% when x %}b"),
            [(
                "`{% when %}` is not closed".to_string(),
                "{% when x %}".to_string()
            )]
        );
        assert_eq!(
            errors("a {% end %}")[0].0,
            "`{% end %}` with no `{% when %}` before it"
        );
        assert_eq!(
            errors("{% when x %}a {% when y %}b{% end %}")[0].0,
            "conditional text cannot be nested"
        );
        assert_eq!(
            errors("{% when x %}\nPara one.\n\nPara two.\n{% end %}")[0].0,
            "conditional text spans more than one paragraph"
        );
        assert_eq!(
            errors("{% when x %}\n- one\n- two\n{% end %}")[0].0,
            "conditional text spans more than one list item"
        );
        assert!(parse("{% if x %}not ours{% endif %}").unwrap().is_empty());
    }

    #[test]
    fn the_condition_is_found_as_written() {
        let text = "x {%  when region == \"eu\"  %}y{% end %}";
        let p = &parse(text).unwrap()[0];
        assert_eq!(&text[p.cond.clone()], "region == \"eu\"");
    }
}
