//! Rewriting of parsed gotmpl trees (see the `engine` module doc for why), plus the parse-time checks Go's
//! parser makes: unknown functions and undefined variables.

use super::error::TemplateError;
use super::gobuiltins::GO_BUILTINS;
use super::values::exec_err;
use crate::text::gofmt;
use gotmpl::parse::{
    BranchNode, CommandNode, Expr, ListNode, Node, Number, PipeNode, Pos, SmolStr,
};

/// Error context baked into rewritten calls: Go's `name:line:col`, the executing template, the node text.
#[derive(Clone)]
pub(crate) struct Ctx {
    pub(crate) location: String,
    pub(crate) executing: String,
    pub(crate) node: String,
}

impl Ctx {
    pub(crate) fn encode(&self) -> String {
        format!("{}\u{0}{}\u{0}{}", self.location, self.executing, self.node)
    }
    pub(crate) fn decode(s: &str) -> Ctx {
        let mut it = s.splitn(3, '\u{0}');
        Ctx {
            location: it.next().unwrap_or_default().to_string(),
            executing: it.next().unwrap_or_default().to_string(),
            node: it.next().unwrap_or_default().to_string(),
        }
    }
    /// Go's `state.errorf` after `state.at(node)`: `template: loc: executing "name" at <node>: msg`.
    pub(crate) fn error(&self, msg: &str) -> gotmpl::TemplateError {
        let node = if self.node.chars().count() > 20 {
            format!("{}...", self.node.chars().take(20).collect::<String>())
        } else {
            self.node.clone()
        };
        exec_err(format!(
            "template: {}: executing \"{}\" at <{}>: {}",
            self.location, self.executing, node, msg
        ))
    }
}

/// Walks parsed trees, checks function names and rewrites nodes (see the module doc).
pub(crate) struct Rewriter<'a> {
    /// The engine's own functions (Go's builtins are [`GO_BUILTINS`]).
    pub(crate) funcs: &'a gotmpl::FuncMap,
    pub(crate) src: &'a str,
    pub(crate) parse_name: &'a str,
}

fn ident(pos: Pos, name: &str) -> Expr {
    Expr::Identifier(pos, SmolStr::new(name))
}

fn string_lit(pos: Pos, s: &str) -> Expr {
    Expr::String(pos, s.into())
}

fn pipe_expr(pos: Pos, args: Vec<Expr>) -> Expr {
    Expr::Pipe(
        pos,
        PipeNode {
            pos,
            decl: Vec::new(),
            commands: vec![CommandNode { pos, args }],
            is_assign: false,
        },
    )
}

impl Rewriter<'_> {
    /// Go's `ErrorContext` location: `name:line:col`, col a 0-based byte offset in the line.
    fn location(&self, pos: Pos) -> String {
        let off = pos.offset.min(self.src.len());
        // gotmpl offsets are token starts; `get` keeps a bad one from panicking.
        let before = self.src.get(..off).unwrap_or(self.src);
        let line = before.matches('\n').count() + 1;
        let col = match before.rfind('\n') {
            Some(i) => off.saturating_sub(i + 1),
            None => off,
        };
        format!("{}:{}:{}", self.parse_name, line, col)
    }

    fn ctx(&self, pos: Pos, exec: &str, node: String) -> Expr {
        string_lit(
            pos,
            &Ctx {
                location: self.location(pos),
                executing: exec.to_string(),
                node,
            }
            .encode(),
        )
    }

    pub(crate) fn check_funcs(&self, list: &ListNode) -> Result<(), TemplateError> {
        let mut err = None;
        visit_list(list, &mut |e| {
            if let Expr::Identifier(pos, name) = e {
                if err.is_none()
                    && !(self.funcs.contains_key(name.as_str())
                        || GO_BUILTINS.contains(&name.as_str()))
                {
                    let (line, col) = line_col(self.src, pos.offset);
                    err = Some(TemplateError::Parse {
                        message: format!(
                            "template: {}:{}: function \"{}\" not defined",
                            self.parse_name, line, name
                        ),
                        line,
                        col,
                    });
                }
            }
        });
        match err {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn undefined_var(&self, pos: Pos, name: &str) -> TemplateError {
        let (line, col) = line_col(self.src, pos.offset);
        TemplateError::Parse {
            message: format!(
                "template: {}:{}: undefined variable \"{}\"",
                self.parse_name, line, name
            ),
            line,
            col,
        }
    }

    /// Go's parser rejects variables not declared in an enclosing scope; gotmpl only notices at run time.
    /// A declaration is visible from its action to the `{{end}}` of the enclosing control structure.
    pub(crate) fn check_vars(
        &self,
        l: &ListNode,
        scope: &mut Vec<String>,
    ) -> Result<(), TemplateError> {
        for n in &l.nodes {
            match n {
                Node::Action(a) => self.check_pipe_vars(&a.pipe, scope)?,
                Node::If(b) | Node::Range(b) | Node::With(b) => {
                    let depth = scope.len();
                    self.check_pipe_vars(&b.pipe, scope)?;
                    self.check_vars(&b.body, scope)?;
                    if let Some(e) = &b.else_body {
                        self.check_vars(e, scope)?;
                    }
                    scope.truncate(depth);
                }
                Node::Template(t) => {
                    if let Some(p) = &t.pipe {
                        self.check_pipe_vars(p, scope)?;
                    }
                }
                Node::List(inner) => self.check_vars(inner, scope)?,
                _ => {}
            }
        }
        Ok(())
    }

    fn check_pipe_vars(&self, p: &PipeNode, scope: &mut Vec<String>) -> Result<(), TemplateError> {
        for d in &p.decl {
            if p.is_assign {
                if !scope.iter().any(|v| v == d.as_str()) {
                    return Err(self.undefined_var(p.pos, d));
                }
            } else {
                scope.push(d.to_string());
            }
        }
        let mut err = None;
        for c in &p.commands {
            for a in &c.args {
                visit_expr(a, &mut |e| {
                    if let Expr::Variable(pos, name, _) = e {
                        if err.is_none() && !scope.iter().any(|v| v == name.as_str()) {
                            err = Some(self.undefined_var(*pos, name));
                        }
                    }
                });
            }
        }
        match err {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    pub(crate) fn list(&self, l: &ListNode, exec: &str) -> ListNode {
        ListNode {
            pos: l.pos,
            nodes: l.nodes.iter().map(|n| self.node(n, exec)).collect(),
        }
    }

    fn branch(&self, b: &BranchNode, exec: &str) -> BranchNode {
        BranchNode {
            pos: b.pos,
            pipe: self.pipe(&b.pipe, exec),
            body: self.list(&b.body, exec),
            else_body: b.else_body.as_ref().map(|e| self.list(e, exec)),
        }
    }

    fn node(&self, n: &Node, exec: &str) -> Node {
        match n {
            Node::Action(a) => {
                let mut pipe = self.pipe(&a.pipe, exec);
                if pipe.decl.is_empty() {
                    pipe.commands.push(CommandNode {
                        pos: a.pos,
                        args: vec![ident(a.pos, "__print")],
                    });
                }
                Node::Action(gotmpl::parse::ActionNode { pos: a.pos, pipe })
            }
            Node::If(b) => Node::If(self.branch(b, exec)),
            Node::Range(b) => {
                // Our structs are maps underneath; Go refuses to range over a struct, so must we.
                let mut br = self.branch(b, exec);
                br.pipe.commands.push(CommandNode {
                    pos: b.pos,
                    args: vec![ident(b.pos, "__rangeable")],
                });
                Node::Range(br)
            }
            Node::With(b) => Node::With(self.branch(b, exec)),
            Node::Template(t) => Node::Template(gotmpl::parse::TemplateNode {
                pos: t.pos,
                name: t.name.clone(),
                pipe: t.pipe.as_ref().map(|p| self.pipe(p, exec)),
            }),
            Node::List(l) => Node::List(self.list(l, exec)),
            other => other.clone(),
        }
    }

    fn pipe(&self, p: &PipeNode, exec: &str) -> PipeNode {
        PipeNode {
            pos: p.pos,
            decl: p.decl.clone(),
            commands: p
                .commands
                .iter()
                .enumerate()
                .map(|(i, c)| self.command(c, exec, i > 0))
                .collect(),
            is_assign: p.is_assign,
        }
    }

    fn command(&self, c: &CommandNode, exec: &str, piped: bool) -> CommandNode {
        let text = command_text(c);
        let pos = c.pos;
        match c.args.first() {
            Some(Expr::Identifier(_, name)) if self.funcs.contains_key(name.as_str()) => {
                let mut args = vec![
                    ident(pos, "__fn"),
                    self.ctx(pos, exec, text),
                    string_lit(pos, name),
                ];
                args.extend(c.args[1..].iter().map(|a| self.expr(a, exec)));
                CommandNode { pos, args }
            }
            Some(first) if (c.args.len() > 1 || piped) && split_chain(first).is_some() => {
                let (recv, last) = split_chain(first).unwrap_or((Expr::Dot(pos), SmolStr::new("")));
                let mut args = vec![
                    ident(pos, "__method"),
                    self.ctx(pos, exec, text),
                    self.expr(&recv, exec),
                    string_lit(pos, &last),
                ];
                args.extend(c.args[1..].iter().map(|a| self.expr(a, exec)));
                CommandNode { pos, args }
            }
            _ => CommandNode {
                pos,
                args: c.args.iter().map(|a| self.expr(a, exec)).collect(),
            },
        }
    }

    fn expr(&self, e: &Expr, exec: &str) -> Expr {
        match e {
            Expr::Field(pos, chain) => {
                self.field_chain(*pos, Expr::Dot(*pos), chain, exec, expr_text(e))
            }
            Expr::Variable(pos, v, chain) if !chain.is_empty() => self.field_chain(
                *pos,
                Expr::Variable(*pos, v.clone(), Vec::new()),
                chain,
                exec,
                expr_text(e),
            ),
            Expr::Chain(pos, inner, chain) => {
                let base = self.expr(inner, exec);
                self.field_chain(*pos, base, chain, exec, expr_text(e))
            }
            Expr::Pipe(pos, p) => Expr::Pipe(*pos, self.pipe(p, exec)),
            other => other.clone(),
        }
    }

    fn field_chain(
        &self,
        pos: Pos,
        base: Expr,
        chain: &[SmolStr],
        exec: &str,
        text: String,
    ) -> Expr {
        let mut args = vec![ident(pos, "__field"), self.ctx(pos, exec, text), base];
        args.extend(chain.iter().map(|n| string_lit(pos, n)));
        pipe_expr(pos, args)
    }
}

/// Split `.A.B` into (`.A`, `B`), `$x.A` into (`$x`, `A`); None for anything that is not a field chain.
fn split_chain(e: &Expr) -> Option<(Expr, SmolStr)> {
    match e {
        Expr::Field(pos, chain) if !chain.is_empty() => {
            let last = chain.last()?.clone();
            let rest = chain[..chain.len() - 1].to_vec();
            let recv = if rest.is_empty() {
                Expr::Dot(*pos)
            } else {
                Expr::Field(*pos, rest)
            };
            Some((recv, last))
        }
        Expr::Variable(pos, v, chain) if !chain.is_empty() => {
            let last = chain.last()?.clone();
            Some((
                Expr::Variable(*pos, v.clone(), chain[..chain.len() - 1].to_vec()),
                last,
            ))
        }
        Expr::Chain(pos, inner, chain) if !chain.is_empty() => {
            let last = chain.last()?.clone();
            let rest = chain[..chain.len() - 1].to_vec();
            let recv = if rest.is_empty() {
                (**inner).clone()
            } else {
                Expr::Chain(*pos, inner.clone(), rest)
            };
            Some((recv, last))
        }
        _ => None,
    }
}

fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let off = offset.min(src.len());
    let before = src.get(..off).unwrap_or(src);
    let line = before.matches('\n').count() + 1;
    let col = match before.rfind('\n') {
        Some(i) => before[i + 1..].chars().count() + 1,
        None => before.chars().count() + 1,
    };
    (line, col)
}

/// Go's `Node.String()` for the error context.
fn command_text(c: &CommandNode) -> String {
    c.args.iter().map(expr_text).collect::<Vec<_>>().join(" ")
}

fn expr_text(e: &Expr) -> String {
    match e {
        Expr::Dot(_) => ".".into(),
        Expr::Field(_, chain) => chain.iter().map(|c| format!(".{c}")).collect(),
        Expr::Variable(_, v, chain) => {
            let mut s = v.to_string();
            for c in chain {
                s.push('.');
                s.push_str(c);
            }
            s
        }
        Expr::Identifier(_, n) => n.to_string(),
        Expr::String(_, s) => gofmt::go_quote(s),
        Expr::Number(_, n) => match n {
            Number::Int(i) => i.to_string(),
            Number::Uint(u) => u.to_string(),
            Number::Float(f) => gofmt::format_float_v(*f),
        },
        Expr::Bool(_, b) => b.to_string(),
        Expr::Nil(_) => "nil".into(),
        Expr::Pipe(_, p) => {
            let cmds: Vec<String> = p.commands.iter().map(command_text).collect();
            format!("({})", cmds.join(" | "))
        }
        Expr::Chain(_, inner, chain) => {
            let mut s = expr_text(inner);
            for c in chain {
                s.push('.');
                s.push_str(c);
            }
            s
        }
    }
}

fn visit_list(l: &ListNode, f: &mut dyn FnMut(&Expr)) {
    for n in &l.nodes {
        match n {
            Node::Action(a) => visit_pipe(&a.pipe, f),
            Node::If(b) | Node::Range(b) | Node::With(b) => {
                visit_pipe(&b.pipe, f);
                visit_list(&b.body, f);
                if let Some(e) = &b.else_body {
                    visit_list(e, f);
                }
            }
            Node::Template(t) => {
                if let Some(p) = &t.pipe {
                    visit_pipe(p, f);
                }
            }
            Node::List(l) => visit_list(l, f),
            _ => {}
        }
    }
}

fn visit_pipe(p: &PipeNode, f: &mut dyn FnMut(&Expr)) {
    for c in &p.commands {
        for a in &c.args {
            visit_expr(a, f);
        }
    }
}

fn visit_expr(e: &Expr, f: &mut dyn FnMut(&Expr)) {
    f(e);
    match e {
        Expr::Pipe(_, p) => visit_pipe(p, f),
        Expr::Chain(_, inner, _) => visit_expr(inner, f),
        _ => {}
    }
}
