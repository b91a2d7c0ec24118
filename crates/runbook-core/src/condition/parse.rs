//! The condition language's lexer and parser: text to a resolved `Expr`, each atom checked
//! against the declared facts, with byte ranges for errors.

use std::ops::Range;
use std::sync::Arc;

use toml::Spanned;

use super::{Atom, ConditionError, Expr, MAX_DEPTH, Op, Test};
use crate::diagnostics::{Diagnostic, Diagnostics, SourceFile, Span};
use crate::facts::{FactKind, Value, Vocabulary};
use crate::toml_file;

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Num(String),
    Op(Op),
    And,
    Or,
    Not,
    In,
    True,
    False,
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
}

fn describe_tok(t: &Tok) -> String {
    match t {
        Tok::Ident(s) => format!("`{s}`"),
        Tok::Str(s) => format!("\"{s}\""),
        Tok::Num(s) => format!("`{s}`"),
        Tok::Op(op) => format!("`{}`", op.symbol()),
        Tok::And => "`and`".into(),
        Tok::Or => "`or`".into(),
        Tok::Not => "`not`".into(),
        Tok::In => "`in`".into(),
        Tok::True => "`true`".into(),
        Tok::False => "`false`".into(),
        Tok::LParen => "`(`".into(),
        Tok::RParen => "`)`".into(),
        Tok::LBracket => "`[`".into(),
        Tok::RBracket => "`]`".into(),
        Tok::Comma => "`,`".into(),
    }
}

fn lex(src: &str) -> Result<Vec<(Tok, Range<usize>)>, ConditionError> {
    let mut out = Vec::new();
    let bytes = src.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = src[i..].chars().next().unwrap_or(' ');
        let start = i;
        if c.is_whitespace() {
            i += c.len_utf8();
            continue;
        }
        let single = |t: Tok| (t, start..start + 1);
        let tok = match c {
            '(' => single(Tok::LParen),
            ')' => single(Tok::RParen),
            '[' => single(Tok::LBracket),
            ']' => single(Tok::RBracket),
            ',' => single(Tok::Comma),
            '=' | '!' | '<' | '>' => {
                let two = src.get(i..i + 2).unwrap_or("");
                let (op, len) = match (c, two) {
                    (_, "==") => (Op::Eq, 2),
                    (_, "!=") => (Op::Ne, 2),
                    (_, "<=") => (Op::Le, 2),
                    (_, ">=") => (Op::Ge, 2),
                    ('<', _) => (Op::Lt, 1),
                    ('>', _) => (Op::Gt, 1),
                    ('=', _) => {
                        return Err(ConditionError::new(
                            "`=` is not an operator",
                            start..start + 1,
                        )
                        .help("use `==` to compare"));
                    }
                    _ => {
                        return Err(ConditionError::new(
                            "`!` is not an operator",
                            start..start + 1,
                        )
                        .help("use `not` to negate, or `!=` to compare"));
                    }
                };
                (Tok::Op(op), start..start + len)
            }
            '"' | '\'' => {
                let quote = c;
                let body_start = i + 1;
                match src[body_start..].find(quote) {
                    Some(len) => (
                        Tok::Str(src[body_start..body_start + len].to_string()),
                        start..body_start + len + 1,
                    ),
                    None => {
                        return Err(ConditionError::new("unterminated string", start..src.len())
                            .help(format!("close it with {quote}")));
                    }
                }
            }
            c if c.is_ascii_digit() => {
                let len = src[i..]
                    .find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '.' || ch == '-'))
                    .unwrap_or(src.len() - i);
                (Tok::Num(src[i..i + len].to_string()), start..start + len)
            }
            c if c.is_alphabetic() || c == '_' => {
                let len = src[i..]
                    .find(|ch: char| !(ch.is_alphanumeric() || ch == '_' || ch == '-'))
                    .unwrap_or(src.len() - i);
                let word = &src[i..i + len];
                let tok = match word {
                    "and" => Tok::And,
                    "or" => Tok::Or,
                    "not" => Tok::Not,
                    "in" => Tok::In,
                    "true" => Tok::True,
                    "false" => Tok::False,
                    _ => Tok::Ident(word.to_string()),
                };
                (tok, start..start + len)
            }
            other => {
                let mut e = ConditionError::new(
                    format!("unexpected character `{other}`"),
                    start..start + other.len_utf8(),
                );
                if other == '&' || other == '|' {
                    e = e.help("write `and` and `or`");
                }
                return Err(e);
            }
        };
        i = tok.1.end;
        out.push(tok);
    }
    Ok(out)
}

/// A literal as written, before it is checked against its fact.
#[derive(Debug, Clone)]
enum Lit {
    Text(String),
    Bool(bool),
}

struct Parser<'a> {
    toks: Vec<(Tok, Range<usize>)>,
    pos: usize,
    src_len: usize,
    vocab: &'a Vocabulary,
    depth: usize,
}

/// Parses a condition written as a TOML string, with the place of its text in the file; or
/// reports a diagnostic pointing inside the string where its text maps one to one onto the
/// file, unless the condition names what the facts file failed to define.
pub fn parse_in_file(
    file: &Arc<SourceFile>,
    text: &Spanned<String>,
    vocab: &Vocabulary,
    diags: &mut Diagnostics,
) -> Option<(Expr, Span)> {
    let whole = toml_file::span_of(file, text);
    let contents = toml_file::string_contents(file, text);
    match parse(text.get_ref(), vocab) {
        Ok(expr) => Some((expr, contents.map_or(whole, |r| Span::new(file, r)))),
        Err(e) if e.follows_from_facts_file => None,
        Err(e) => {
            let span = match contents {
                Some(r) => Span::new(file, r.start + e.span.start..r.start + e.span.end),
                None => whole,
            };
            let mut d = Diagnostic::error(e.message).at(&span).label(e.label);
            if let Some(help) = e.help {
                d = d.help(help);
            }
            diags.push(d);
            None
        }
    }
}

/// Parses and resolves a condition against the vocabulary.
pub fn parse(src: &str, vocab: &Vocabulary) -> Result<Expr, ConditionError> {
    let toks = lex(src)?;
    if toks.is_empty() {
        return Err(ConditionError::new("empty condition", 0..src.len())
            .help("remove the key, or write a condition such as `tier == \"1-tier\"`"));
    }
    let mut p = Parser {
        toks,
        pos: 0,
        src_len: src.len(),
        vocab,
        depth: 0,
    };
    let e = p.or()?;
    if let Some((t, span)) = p.toks.get(p.pos) {
        return Err(
            ConditionError::new(format!("unexpected {}", describe_tok(t)), span.clone())
                .label("expected `and`, `or` or the end of the condition"),
        );
    }
    Ok(e)
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|(t, _)| t)
    }

    fn span(&self) -> Range<usize> {
        self.toks
            .get(self.pos)
            .map_or(self.src_len..self.src_len, |(_, s)| s.clone())
    }

    fn next(&mut self) -> Option<(Tok, Range<usize>)> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn expected(&self, what: &str) -> ConditionError {
        match self.toks.get(self.pos) {
            Some((t, span)) => ConditionError::new(
                format!("expected {what}, found {}", describe_tok(t)),
                span.clone(),
            ),
            None => ConditionError::new(
                format!("expected {what}, found the end of the condition"),
                self.span(),
            ),
        }
    }

    fn enter(&mut self) -> Result<(), ConditionError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(ConditionError::new(
                format!("condition is nested more than {MAX_DEPTH} levels deep"),
                self.span(),
            )
            .help("simplify the condition"));
        }
        Ok(())
    }

    fn or(&mut self) -> Result<Expr, ConditionError> {
        self.enter()?;
        let mut items = vec![self.and()?];
        while self.peek() == Some(&Tok::Or) {
            self.pos += 1;
            items.push(self.and()?);
        }
        self.depth -= 1;
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Expr::Or(items)
        })
    }

    fn and(&mut self) -> Result<Expr, ConditionError> {
        let mut items = vec![self.unary()?];
        while self.peek() == Some(&Tok::And) {
            self.pos += 1;
            items.push(self.unary()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Expr::And(items)
        })
    }

    fn unary(&mut self) -> Result<Expr, ConditionError> {
        if self.peek() == Some(&Tok::Not) {
            self.pos += 1;
            self.enter()?;
            let inner = self.unary()?;
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(inner)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, ConditionError> {
        match self.next() {
            Some((Tok::LParen, open)) => {
                let e = self.or()?;
                match self.next() {
                    Some((Tok::RParen, _)) => Ok(e),
                    _ => {
                        self.pos -= 1;
                        Err(self.expected("`)`").help(format!(
                            "the `(` at column {} is not closed",
                            open.start + 1
                        )))
                    }
                }
            }
            Some((Tok::True, _)) => Ok(Expr::Const(true)),
            Some((Tok::False, _)) => Ok(Expr::Const(false)),
            Some((Tok::Ident(name), span)) => self.test(name, span),
            _ => {
                self.pos -= 1;
                Err(self.expected("a fact, `not` or `(`"))
            }
        }
    }

    fn test(&mut self, name: String, name_span: Range<usize>) -> Result<Expr, ConditionError> {
        let fact = self.vocab.fact(&name).map_err(|e| {
            let mut err =
                ConditionError::new(e.message, name_span.clone()).label("not a declared fact");
            err.help = e.help;
            err.follows_from_facts_file = self.vocab.is_broken(&name);
            err
        })?;
        let start = name_span.start;
        match self.peek().cloned() {
            Some(Tok::Op(op)) => {
                let op_span = self.span();
                self.pos += 1;
                let (lit, lit_span) = self.literal()?;
                if !matches!(op, Op::Eq | Op::Ne) && fact.kind != FactKind::Version {
                    return Err(ConditionError::new(
                        format!("`{}` orders values, but `{name}` is {} fact", op.symbol(), fact.kind.a_type()),
                        op_span,
                    )
                    .help("only version facts can be compared with <, <=, > and >=; use == or != here"));
                }
                let value = self.value(fact, lit, lit_span.clone())?;
                Ok(Expr::Atom(Atom {
                    fact: name,
                    test: Test::Cmp(op, value),
                    span: start..lit_span.end,
                }))
            }
            Some(Tok::In) => {
                self.pos += 1;
                self.in_list(fact, name, start)
            }
            Some(Tok::Not) if matches!(self.toks.get(self.pos + 1), Some((Tok::In, _))) => {
                self.pos += 2;
                let e = self.in_list(fact, name, start)?;
                Ok(Expr::Not(Box::new(e)))
            }
            _ => {
                if fact.kind != FactKind::Bool {
                    return Err(ConditionError::new(
                        format!(
                            "`{name}` is {} fact and cannot stand alone",
                            fact.kind.a_type()
                        ),
                        name_span,
                    )
                    .help(format!("compare it: `{name} == \"...\"`")));
                }
                Ok(Expr::Atom(Atom {
                    fact: name,
                    test: Test::IsTrue,
                    span: name_span,
                }))
            }
        }
    }

    fn in_list(
        &mut self,
        fact: &crate::facts::Fact,
        name: String,
        start: usize,
    ) -> Result<Expr, ConditionError> {
        match self.next() {
            Some((Tok::LBracket, _)) => {}
            _ => {
                self.pos -= 1;
                return Err(self.expected("`[` after `in`"));
            }
        }
        let mut values = Vec::new();
        loop {
            if let Some((Tok::RBracket, end)) = self.toks.get(self.pos).cloned() {
                self.pos += 1;
                if values.is_empty() {
                    return Err(ConditionError::new("empty list after `in`", start..end.end)
                        .help("list at least one value"));
                }
                return Ok(Expr::Atom(Atom {
                    fact: name,
                    test: Test::In(values),
                    span: start..end.end,
                }));
            }
            let (lit, span) = self.literal()?;
            values.push(self.value(fact, lit, span)?);
            match self.peek() {
                Some(Tok::Comma) => self.pos += 1,
                Some(Tok::RBracket) => {}
                _ => return Err(self.expected("`,` or `]`")),
            }
        }
    }

    fn literal(&mut self) -> Result<(Lit, Range<usize>), ConditionError> {
        match self.next() {
            Some((Tok::Str(s) | Tok::Num(s), span)) => Ok((Lit::Text(s), span)),
            Some((Tok::True, span)) => Ok((Lit::Bool(true), span)),
            Some((Tok::False, span)) => Ok((Lit::Bool(false), span)),
            Some((Tok::Ident(word), span)) => Err(ConditionError::new(
                format!("expected a value, found `{word}`"),
                span,
            )
            .help(format!("values are quoted: \"{word}\""))),
            _ => {
                self.pos -= 1;
                Err(self.expected("a value"))
            }
        }
    }

    fn value(
        &self,
        fact: &crate::facts::Fact,
        lit: Lit,
        span: Range<usize>,
    ) -> Result<Value, ConditionError> {
        let text = match (&fact.kind, lit) {
            (FactKind::Bool, Lit::Bool(b)) => return Ok(Value::Bool(b)),
            (FactKind::Bool, Lit::Text(t)) => {
                return Err(ConditionError::new(
                    format!(
                        "`{}` is a bool fact; compare it with true or false, not \"{t}\"",
                        fact.id
                    ),
                    span,
                ));
            }
            (_, Lit::Bool(b)) => {
                return Err(ConditionError::new(
                    format!(
                        "`{}` is a {} fact, not a bool",
                        fact.id,
                        fact.kind.type_name()
                    ),
                    span,
                )
                .help(format!("did you mean \"{b}\"?")));
            }
            (_, Lit::Text(t)) => t,
        };
        fact.parse_value(&text).map_err(|e| {
            let mut err =
                ConditionError::new(e.message, span).label(format!("not a value of `{}`", fact.id));
            err.help = e.help;
            err
        })
    }
}
