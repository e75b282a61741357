//! Lexer and parser for Go `text/template` source: text, actions with `{{-`/`-}}` trimming,
//! comments, pipelines, `if`/`else if`/`range`/`with`/`define`/`template`/`block`. Positions
//! are byte offsets into the file the template came from.

use super::{Cause, Error, ErrorKind};
use serde_json::Value;

/// A literal or reference inside a command.
#[derive(Clone, Debug)]
pub(crate) enum Operand {
    /// `.` (the dot).
    Dot,
    /// `.a.b` on the dot.
    Field(Vec<String>),
    /// `$x.a.b` (`$` alone is the root data).
    Var(String, Vec<String>),
    /// A function name (called with the command's other operands as arguments).
    Func(String),
    /// A constant: string, number, bool or nil.
    Lit(Value),
    /// `(pipeline).a.b`.
    Sub(Box<Pipeline>, Vec<String>),
}

/// One operand with its position.
#[derive(Clone, Debug)]
pub(crate) struct Arg {
    /// What it is.
    pub op: Operand,
    /// Byte offset of its first character.
    pub pos: usize,
}

/// A pipeline: optional variable declaration, then commands joined by `|`.
#[derive(Clone, Debug)]
pub(crate) struct Pipeline {
    /// Variables declared (`$x :=`, `$k, $v :=`) or assigned (`$x =`).
    pub decl: Vec<String>,
    /// Whether `=` (assign) rather than `:=` (declare).
    pub assign: bool,
    /// Each command is a list of operands; the first may be a function.
    pub cmds: Vec<Vec<Arg>>,
    /// Byte offset of the pipeline.
    pub pos: usize,
}

/// A node of the parse tree.
#[derive(Clone, Debug)]
pub enum Node {
    /// Literal text.
    Text(String),
    /// `{{ pipeline }}`: printed unless it declares variables.
    Action(Pipeline),
    /// `if`/`with`: body when the pipeline is truthy, else `else`.
    If {
        /// `with` sets the dot to the value.
        with: bool,
        /// The condition.
        pipe: Pipeline,
        /// Branch taken when truthy.
        then: Vec<Node>,
        /// Branch taken otherwise (an `else if` is one nested `If`).
        els: Vec<Node>,
    },
    /// `range`: body per element, `else` when empty.
    Range {
        /// The collection (and its variables).
        pipe: Pipeline,
        /// Per element.
        body: Vec<Node>,
        /// When empty.
        els: Vec<Node>,
    },
    /// `template "name" pipeline`.
    Template {
        /// The named template.
        name: String,
        /// Its dot (`None`: nil).
        pipe: Option<Pipeline>,
        /// Byte offset.
        pos: usize,
    },
}

/// A parsed file: its top-level nodes and the `define`d templates it contains.
pub struct Parsed {
    /// The body outside any `define`.
    pub body: Vec<Node>,
    /// `define`/`block` templates, in order.
    pub defines: Vec<(String, Vec<Node>)>,
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Text(String),
    Open,
    Close,
    Field(String),
    Var(String),
    Ident(String),
    Str(String),
    Num(Value),
    LParen,
    RParen,
    Pipe,
    Declare,
    Assign,
    Comma,
    Dot,
}

struct Lexer<'a> {
    src: &'a str,
    file: &'a str,
    toks: Vec<(Tok, usize)>,
}

fn err(file: &str, pos: usize, kind: ErrorKind, message: String) -> Error {
    Error {
        kind,
        template: file.to_string(),
        offset: pos,
        message,
        cause: Cause::Other,
    }
}

impl<'a> Lexer<'a> {
    fn error(&self, pos: usize, message: impl Into<String>) -> Error {
        err(self.file, pos, ErrorKind::Parse, message.into())
    }

    fn run(mut self) -> Result<Vec<(Tok, usize)>, Error> {
        let src = self.src;
        let mut i = 0;
        let mut trim_next = false;
        while i <= src.len() {
            let open = src[i..].find("{{").map(|o| i + o);
            let end = open.unwrap_or(src.len());
            let mut text = &src[i..end];
            if trim_next {
                text = text.trim_start_matches(is_space);
            }
            let trim_left = open.is_some_and(|o| {
                src[o + 2..].starts_with('-') && src[o + 3..].starts_with(is_space)
            });
            if trim_left {
                text = text.trim_end_matches(is_space);
            }
            if !text.is_empty() {
                self.toks.push((Tok::Text(text.to_string()), i));
            }
            let Some(open) = open else { break };
            let mut j = open + 2 + if trim_left { 1 } else { 0 };
            // A comment: `{{/* ... */}}`, spaces allowed only next to trim markers.
            let after = src[j..].trim_start_matches(is_space);
            if after.starts_with("/*") {
                let c = src.len() - after.len();
                let Some(close) = src[c + 2..].find("*/").map(|o| c + 2 + o + 2) else {
                    return Err(self.error(open, "unclosed comment"));
                };
                let rest = &src[close..];
                let rest_trim = rest.trim_start_matches(is_space);
                if rest_trim.starts_with("-}}") && rest.len() > rest_trim.len() {
                    trim_next = true;
                    i = src.len() - rest_trim.len() + 3;
                } else if rest.starts_with("}}") {
                    trim_next = false;
                    i = close + 2;
                } else {
                    return Err(self.error(close, "comment ends before closing delimiter"));
                }
                continue;
            }
            self.toks.push((Tok::Open, open));
            trim_next = false;
            loop {
                let rest = &src[j..];
                let Some(c) = rest.chars().next() else {
                    return Err(self.error(open, "unclosed action"));
                };
                if is_space(c) {
                    if rest[c.len_utf8()..]
                        .trim_start_matches(is_space)
                        .starts_with("-}}")
                    {
                        let skipped = rest.len() - rest.trim_start_matches(is_space).len();
                        self.toks.push((Tok::Close, j + skipped));
                        trim_next = true;
                        j += skipped + 3;
                        break;
                    }
                    j += c.len_utf8();
                    continue;
                }
                if rest.starts_with("}}") {
                    self.toks.push((Tok::Close, j));
                    j += 2;
                    break;
                }
                let (tok, len) = self.token(j, rest)?;
                self.toks.push((tok, j));
                j += len;
            }
            i = j;
        }
        Ok(self.toks)
    }

    fn token(&self, pos: usize, rest: &str) -> Result<(Tok, usize), Error> {
        let bytes = rest.as_bytes();
        let c = bytes[0];
        let word_len = |from: usize| {
            rest[from..]
                .find(|ch: char| !(ch.is_alphanumeric() || ch == '_'))
                .map_or(rest.len(), |n| from + n)
        };
        Ok(match c {
            b'(' => (Tok::LParen, 1),
            b')' => (Tok::RParen, 1),
            b'|' => (Tok::Pipe, 1),
            b',' => (Tok::Comma, 1),
            b'=' => (Tok::Assign, 1),
            b':' if rest.starts_with(":=") => (Tok::Declare, 2),
            b'.' => {
                let n = word_len(1);
                if n == 1 {
                    if bytes.get(1).is_some_and(u8::is_ascii_digit) {
                        return self.number(pos, rest);
                    }
                    (Tok::Dot, 1)
                } else {
                    (Tok::Field(rest[1..n].to_string()), n)
                }
            }
            b'$' => {
                let n = word_len(1);
                (Tok::Var(rest[..n].to_string()), n)
            }
            b'"' => {
                let mut out = String::new();
                let mut chars = rest.char_indices().skip(1);
                loop {
                    let Some((k, ch)) = chars.next() else {
                        return Err(self.error(pos, "unterminated quoted string"));
                    };
                    match ch {
                        '"' => return Ok((Tok::Str(out), k + 1)),
                        '\n' => return Err(self.error(pos, "unterminated quoted string")),
                        '\\' => {
                            let Some((_, e)) = chars.next() else {
                                return Err(self.error(pos, "unterminated quoted string"));
                            };
                            out.push(match e {
                                'n' => '\n',
                                't' => '\t',
                                'r' => '\r',
                                '\\' => '\\',
                                '"' => '"',
                                '\'' => '\'',
                                '0' => '\0',
                                _ => {
                                    return Err(self.error(
                                        pos + k,
                                        format!("unsupported escape `\\{e}` in string"),
                                    ))
                                }
                            });
                        }
                        _ => out.push(ch),
                    }
                }
            }
            b'`' => match rest[1..].find('`') {
                Some(n) => (Tok::Str(rest[1..1 + n].to_string()), n + 2),
                None => return Err(self.error(pos, "unterminated raw quoted string")),
            },
            b'\'' => {
                let mut chars = rest[1..].chars();
                match (chars.next(), chars.next()) {
                    (Some(ch), Some('\'')) if ch != '\\' => {
                        (Tok::Num(Value::from(ch as u32)), 2 + ch.len_utf8())
                    }
                    _ => {
                        return Err(err(
                            self.file,
                            pos,
                            ErrorKind::Unsupported("character constant".into()),
                            "unsupported character constant".into(),
                        ))
                    }
                }
            }
            b'-' | b'+' | b'0'..=b'9' => return self.number(pos, rest),
            _ if (c as char).is_alphabetic() || c == b'_' || c >= 0x80 => {
                let n = word_len(0);
                if n == 0 {
                    return Err(self.error(pos, "unexpected character in action"));
                }
                (Tok::Ident(rest[..n].to_string()), n)
            }
            _ => {
                return Err(self.error(
                    pos,
                    format!(
                        "unexpected `{}` in action",
                        rest.chars().next().unwrap_or(' ')
                    ),
                ))
            }
        })
    }

    fn number(&self, pos: usize, rest: &str) -> Result<(Tok, usize), Error> {
        let n = rest
            .char_indices()
            .skip(1)
            .find(|&(_, ch)| {
                !(ch.is_ascii_alphanumeric() || ch == '.' || ch == '_' || ch == '+' || ch == '-')
            })
            .map_or(rest.len(), |(k, _)| k);
        let text = &rest[..n];
        let clean = text.replace('_', "");
        let parse_int = |s: &str| -> Option<i64> {
            let (neg, s) = match s.strip_prefix('-') {
                Some(r) => (true, r),
                None => (false, s.strip_prefix('+').unwrap_or(s)),
            };
            let v = if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
                i64::from_str_radix(h, 16).ok()?
            } else if let Some(o) = s.strip_prefix("0o").or_else(|| s.strip_prefix("0O")) {
                i64::from_str_radix(o, 8).ok()?
            } else if let Some(b) = s.strip_prefix("0b").or_else(|| s.strip_prefix("0B")) {
                i64::from_str_radix(b, 2).ok()?
            } else if s.len() > 1 && s.starts_with('0') {
                i64::from_str_radix(&s[1..], 8).ok()?
            } else {
                s.parse::<i64>().ok()?
            };
            Some(if neg { -v } else { v })
        };
        if let Some(i) = parse_int(&clean) {
            return Ok((Tok::Num(Value::from(i)), n));
        }
        match clean.parse::<f64>() {
            Ok(f) if f.is_finite() => Ok((
                Tok::Num(serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
                n,
            )),
            _ => Err(self.error(pos, format!("bad number syntax: `{text}`"))),
        }
    }
}

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// Parses one file's text.
pub fn parse(file: &str, src: &str) -> Result<Parsed, Error> {
    let toks = Lexer {
        src,
        file,
        toks: Vec::new(),
    }
    .run()?;
    let mut p = Parser {
        file,
        toks,
        at: 0,
        end: src.len(),
        defines: Vec::new(),
        depth: 0,
    };
    let (body, stop) = p.list(true)?;
    if let Some((word, pos)) = stop {
        return Err(p.error(pos, format!("unexpected `{{{{{word}}}}}`")));
    }
    Ok(Parsed {
        body,
        defines: p.defines,
    })
}

struct Parser<'a> {
    file: &'a str,
    toks: Vec<(Tok, usize)>,
    at: usize,
    end: usize,
    defines: Vec<(String, Vec<Node>)>,
    depth: usize,
}

/// Nesting deeper than this is refused, so hostile input cannot overflow the stack.
const MAX_DEPTH: usize = 64;

impl Parser<'_> {
    fn error(&self, pos: usize, message: impl Into<String>) -> Error {
        err(self.file, pos, ErrorKind::Parse, message.into())
    }

    fn unsupported(&self, pos: usize, construct: &str) -> Error {
        err(
            self.file,
            pos,
            ErrorKind::Unsupported(construct.to_string()),
            format!("`{construct}` is not supported"),
        )
    }

    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at).map(|t| &t.0)
    }

    fn pos(&self) -> usize {
        self.toks.get(self.at).map_or(self.end, |t| t.1)
    }

    fn next(&mut self) -> Option<(Tok, usize)> {
        let t = self.toks.get(self.at).cloned();
        self.at += 1;
        t
    }

    fn expect_close(&mut self, what: &str) -> Result<(), Error> {
        match self.next() {
            Some((Tok::Close, _)) => Ok(()),
            Some((_, pos)) => Err(self.error(pos, format!("unexpected token in {what}"))),
            None => Err(self.error(self.end, format!("unclosed action in {what}"))),
        }
    }

    /// Parses nodes until `{{end}}`/`{{else ...}}` (returned, not consumed past the keyword)
    /// or the end of input (only allowed at top level).
    #[allow(clippy::type_complexity)]
    fn list(&mut self, top: bool) -> Result<(Vec<Node>, Option<(String, usize)>), Error> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error(self.pos(), "template nested too deeply"));
        }
        let mut out = Vec::new();
        let result = loop {
            let Some((tok, pos)) = self.next() else {
                if top {
                    break (out, None);
                }
                return Err(self.error(self.end, "unexpected end of template: missing `{{end}}`"));
            };
            match tok {
                Tok::Text(t) => out.push(Node::Text(t)),
                Tok::Open => {
                    if let Some(Tok::Ident(word)) = self.peek().cloned() {
                        let kpos = self.pos();
                        match word.as_str() {
                            "end" | "else" => {
                                self.at += 1;
                                break (out, Some((word, kpos)));
                            }
                            "if" | "with" => {
                                self.at += 1;
                                out.push(self.branch(word == "with", kpos)?);
                                continue;
                            }
                            "range" => {
                                self.at += 1;
                                let pipe = self.pipeline(true, "range")?;
                                let (body, els) = self.body_else(kpos, "range")?;
                                out.push(Node::Range { pipe, body, els });
                                continue;
                            }
                            "define" | "block" => {
                                self.at += 1;
                                let name = match self.next() {
                                    Some((Tok::Str(s), _)) => s,
                                    _ => {
                                        return Err(
                                            self.error(kpos, format!("`{word}` needs a name"))
                                        )
                                    }
                                };
                                let pipe = if word == "block" {
                                    Some(self.pipeline(false, "block")?)
                                } else {
                                    self.expect_close("define")?;
                                    None
                                };
                                let (body, stop) = self.list(false)?;
                                match stop {
                                    Some((w, _)) if w == "end" => self.expect_close("end")?,
                                    Some((_, p)) => {
                                        return Err(self.error(p, format!("`else` inside `{word}`")))
                                    }
                                    None => {}
                                }
                                self.defines.push((name.clone(), body));
                                if let Some(pipe) = pipe {
                                    out.push(Node::Template {
                                        name,
                                        pipe: Some(pipe),
                                        pos: kpos,
                                    });
                                }
                                continue;
                            }
                            "template" => {
                                self.at += 1;
                                let name = match self.next() {
                                    Some((Tok::Str(s), _)) => s,
                                    _ => {
                                        return Err(
                                            self.error(kpos, "`template` needs a quoted name")
                                        )
                                    }
                                };
                                let pipe = if self.peek() == Some(&Tok::Close) {
                                    self.at += 1;
                                    None
                                } else {
                                    Some(self.pipeline(false, "template")?)
                                };
                                out.push(Node::Template {
                                    name,
                                    pipe,
                                    pos: kpos,
                                });
                                continue;
                            }
                            "break" | "continue" => return Err(self.unsupported(kpos, &word)),
                            _ => {}
                        }
                    }
                    out.push(Node::Action(self.pipeline(true, "command")?));
                }
                _ => return Err(self.error(pos, "unexpected token")),
            }
        };
        self.depth -= 1;
        Ok(result)
    }

    /// The body of a `range`/`with`/`if` and its `else` branch.
    fn body_else(&mut self, kpos: usize, what: &str) -> Result<(Vec<Node>, Vec<Node>), Error> {
        let (body, stop) = self.list(false)?;
        match stop {
            Some((w, _)) if w == "end" => {
                self.expect_close("end")?;
                Ok((body, Vec::new()))
            }
            Some((_, epos)) => {
                if self.peek() == Some(&Tok::Close) {
                    self.at += 1;
                    let (els, stop) = self.list(false)?;
                    match stop {
                        Some((w, _)) if w == "end" => self.expect_close("end")?,
                        _ => {
                            return Err(
                                self.error(epos, format!("expected `{{{{end}}}}` for {what}"))
                            )
                        }
                    }
                    Ok((body, els))
                } else {
                    Err(self.unsupported(epos, &format!("else {what}")))
                }
            }
            None => Err(self.error(kpos, format!("missing `{{{{end}}}}` for {what}"))),
        }
    }

    /// `if`/`with` with any chain of `else if`/`else with`.
    fn branch(&mut self, with: bool, kpos: usize) -> Result<Node, Error> {
        let what = if with { "with" } else { "if" };
        let pipe = self.pipeline(true, what)?;
        let (then, stop) = self.list(false)?;
        let els = match stop {
            Some((w, _)) if w == "end" => {
                self.expect_close("end")?;
                Vec::new()
            }
            Some((_, epos)) => match self.peek().cloned() {
                Some(Tok::Close) => {
                    self.at += 1;
                    let (els, stop) = self.list(false)?;
                    match stop {
                        Some((w, _)) if w == "end" => self.expect_close("end")?,
                        _ => {
                            return Err(
                                self.error(epos, format!("expected `{{{{end}}}}` for {what}"))
                            )
                        }
                    }
                    els
                }
                Some(Tok::Ident(w)) if w == "if" || w == "with" => {
                    let p = self.pos();
                    self.at += 1;
                    // `else if` shares the outer `end`.
                    vec![self.branch(w == "with", p)?]
                }
                _ => return Err(self.error(epos, "malformed `else`")),
            },
            None => return Err(self.error(kpos, format!("missing `{{{{end}}}}` for {what}"))),
        };
        Ok(Node::If {
            with,
            pipe,
            then,
            els,
        })
    }

    /// A pipeline up to the closing delimiter (consumed).
    fn pipeline(&mut self, allow_decl: bool, what: &str) -> Result<Pipeline, Error> {
        let pos = self.pos();
        let mut decl = Vec::new();
        let mut assign = false;
        if allow_decl {
            let save = self.at;
            let mut vars = Vec::new();
            while let Some(Tok::Var(v)) = self.peek().cloned() {
                self.at += 1;
                vars.push(v);
                match self.peek() {
                    Some(Tok::Comma) => self.at += 1,
                    Some(Tok::Declare) | Some(Tok::Assign) => break,
                    _ => {
                        vars.clear();
                        break;
                    }
                }
            }
            match self.peek() {
                Some(Tok::Declare) if !vars.is_empty() => {
                    self.at += 1;
                    decl = vars;
                }
                Some(Tok::Assign) if !vars.is_empty() => {
                    self.at += 1;
                    decl = vars;
                    assign = true;
                }
                _ => self.at = save,
            }
            if decl.len() > 2 || (decl.len() == 2 && what != "range") {
                return Err(self.error(pos, "too many declarations"));
            }
        }
        let cmds = self.commands(what, true)?;
        Ok(Pipeline {
            decl,
            assign,
            cmds,
            pos,
        })
    }

    /// Commands joined by `|`, up to `}}` (when `close`) or `)`.
    fn commands(&mut self, what: &str, close: bool) -> Result<Vec<Vec<Arg>>, Error> {
        let mut cmds = Vec::new();
        let mut cur: Vec<Arg> = Vec::new();
        loop {
            let pos = self.pos();
            let Some((tok, _)) = self.next() else {
                return Err(self.error(self.end, format!("unclosed {what}")));
            };
            let op = match tok {
                Tok::Close if close => break,
                Tok::RParen if !close => break,
                Tok::Pipe => {
                    if cur.is_empty() {
                        return Err(self.error(pos, "missing command before `|`"));
                    }
                    cmds.push(std::mem::take(&mut cur));
                    continue;
                }
                Tok::Dot => Operand::Dot,
                Tok::Field(f) => {
                    let mut chain = vec![f];
                    self.fields(&mut chain);
                    Operand::Field(chain)
                }
                Tok::Var(v) => {
                    let mut chain = Vec::new();
                    self.fields(&mut chain);
                    Operand::Var(v, chain)
                }
                Tok::Str(s) => Operand::Lit(Value::String(s)),
                Tok::Num(n) => Operand::Lit(n),
                Tok::LParen => {
                    self.depth += 1;
                    if self.depth > MAX_DEPTH {
                        return Err(self.error(pos, "template nested too deeply"));
                    }
                    let inner = self.commands("parenthesized pipeline", false)?;
                    self.depth -= 1;
                    if inner.is_empty() {
                        return Err(self.error(pos, "empty parenthesized pipeline"));
                    }
                    let mut chain = Vec::new();
                    self.fields(&mut chain);
                    Operand::Sub(
                        Box::new(Pipeline {
                            decl: Vec::new(),
                            assign: false,
                            cmds: inner,
                            pos,
                        }),
                        chain,
                    )
                }
                Tok::Ident(w) => match w.as_str() {
                    "true" => Operand::Lit(Value::Bool(true)),
                    "false" => Operand::Lit(Value::Bool(false)),
                    "nil" => Operand::Lit(Value::Null),
                    "break" | "continue" | "call" => return Err(self.unsupported(pos, &w)),
                    _ => Operand::Func(w),
                },
                Tok::Close | Tok::RParen => {
                    return Err(self.error(pos, format!("unexpected delimiter in {what}")))
                }
                _ => return Err(self.error(pos, format!("unexpected token in {what}"))),
            };
            cur.push(Arg { op, pos });
        }
        if cur.is_empty() {
            return Err(self.error(self.pos(), format!("missing value for {what}")));
        }
        cmds.push(cur);
        Ok(cmds)
    }

    /// Field accesses directly following an operand (`$x.a.b`, `(...).a`).
    fn fields(&mut self, chain: &mut Vec<String>) {
        while let Some(Tok::Field(f)) = self.peek().cloned() {
            // Only when adjacent: `$x .a` is two operands.
            let prev_end = self
                .at
                .checked_sub(1)
                .and_then(|i| self.toks.get(i))
                .map(|t| {
                    t.1 + match &t.0 {
                        Tok::Var(v) => v.len(),
                        Tok::Field(f) => f.len() + 1,
                        Tok::RParen => 1,
                        _ => usize::MAX / 2,
                    }
                });
            if prev_end != Some(self.pos()) {
                break;
            }
            self.at += 1;
            chain.push(f);
        }
    }
}

/// Names of functions a tree calls, with positions (checked against the function table).
pub fn functions(nodes: &[Node], out: &mut Vec<(String, usize)>) {
    fn pipe(p: &Pipeline, out: &mut Vec<(String, usize)>) {
        for cmd in &p.cmds {
            for arg in cmd {
                match &arg.op {
                    Operand::Func(f) => out.push((f.clone(), arg.pos)),
                    Operand::Sub(inner, _) => pipe(inner, out),
                    _ => {}
                }
            }
        }
    }
    for n in nodes {
        match n {
            Node::Text(_) => {}
            Node::Action(p) => pipe(p, out),
            Node::If {
                pipe: p, then, els, ..
            } => {
                pipe(p, out);
                functions(then, out);
                functions(els, out);
            }
            Node::Range { pipe: p, body, els } => {
                pipe(p, out);
                functions(body, out);
                functions(els, out);
            }
            Node::Template { pipe: p, .. } => {
                if let Some(p) = p {
                    pipe(p, out);
                }
            }
        }
    }
}
