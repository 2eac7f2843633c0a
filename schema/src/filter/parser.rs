//! Recursive-descent parser: tokens -> `Expr` and `OrderKey`, each clause checked by `dialect`.

use super::dialect;
use super::lexer::{position, tokenize, Sym, Tok, Token, KEYWORDS};
use super::{Comparison, Dialect, Expr, FilterError, Op, OrderKey};

/// Deepest parenthesis nesting accepted; keeps recursion (and stack use) bounded.
const MAX_DEPTH: usize = 64;

/// Prefix of every syntax error, as in MLflow's messages.
const SYNTAX: &str = "Invalid clause(s) in filter string";

/// An identifier as written: entity prefix (if any) and key, quotes removed.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RawIdent {
    pub prefix: Option<String>,
    pub key: String,
}

/// A value as written, before the dialect decides whether it fits the field.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Raw {
    pub kind: RawKind,
    /// The source text, for messages (`'0.9'`, `(1, 2)`, `cnn`).
    pub text: String,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RawKind {
    Str {
        quote: char,
        text: String,
    },
    Num(f64),
    /// An unquoted word where a value belongs.
    Bare(String),
    List(Vec<Raw>),
}

pub(crate) fn parse_filter(dialect: Dialect, src: &str) -> Result<Option<Expr>, FilterError> {
    let toks = tokenize(src)?;
    if toks.is_empty() {
        return Ok(None);
    }
    let mut parser = Parser {
        src,
        toks,
        pos: 0,
        dialect,
        depth: 0,
        clause_start: 0,
    };
    let expr = parser.or_expr()?;
    match parser.peek() {
        None => Ok(Some(expr)),
        Some(t) if t.tok == Tok::RParen => Err(parser.syntax(format!(
            "unbalanced parentheses: ')' at position {} has no matching '('",
            position(src, t.start)
        ))),
        Some(t) => Err(parser.syntax(format!(
            "unexpected '{}' after '{}'; clauses must be joined with AND or OR",
            t.text(src),
            parser.clause_text()
        ))),
    }
}

pub(crate) fn parse_order_by(dialect: Dialect, clause: &str) -> Result<OrderKey, FilterError> {
    let fail = |why: &str| FilterError(format!("Invalid order_by clause '{clause}'. {why}"));
    let toks = tokenize(clause).map_err(|e| fail(&format!("{e}.")))?;
    let mut rest = toks.iter();
    let Some(first) = rest.next() else {
        return Err(fail("It is empty."));
    };
    let ident = match raw_ident(&first.tok) {
        Ok(Some(ident)) => ident,
        Ok(None) => {
            return Err(fail(&format!(
                "Could not be parsed: expected a field name but found '{}'.",
                first.text(clause)
            )))
        }
        Err(why) => return Err(fail(&format!("{why}."))),
    };
    let ascending = match rest.next() {
        None => true,
        Some(t) if t.is_keyword("ASC") => true,
        Some(t) if t.is_keyword("DESC") => false,
        Some(_) => {
            return Err(FilterError(format!(
                "Invalid ordering key in order_by clause '{clause}'."
            )))
        }
    };
    if rest.next().is_some() {
        return Err(fail(
            "Could not be parsed: expected a field name optionally followed by ASC or DESC.",
        ));
    }
    let (entity, key) = dialect::resolve_order_ident(dialect, &ident)?;
    Ok(OrderKey {
        entity,
        key,
        ascending,
    })
}

/// Reads an identifier token. `Ok(None)`: the token is not an identifier at all;
/// `Err`: it is one, but malformed (empty key).
fn raw_ident(tok: &Tok) -> Result<Option<RawIdent>, String> {
    let (prefix, key) = match tok {
        Tok::Word(w) if KEYWORDS.iter().any(|k| w.eq_ignore_ascii_case(k)) => return Ok(None),
        Tok::Word(w) => match w.split_once('.') {
            Some((prefix, key)) => (Some(prefix.to_string()), key.to_string()),
            None => (None, w.clone()),
        },
        Tok::Quoted {
            quote: '`' | '"',
            text,
        } => (None, text.clone()),
        Tok::PrefixedKey { prefix, key } => (Some(prefix.clone()), key.clone()),
        _ => return Ok(None),
    };
    if key.is_empty() {
        let shown = prefix.as_deref().map_or(String::new(), |p| format!("{p}."));
        return Err(format!("Invalid identifier '{shown}': the key is empty"));
    }
    Ok(Some(RawIdent { prefix, key }))
}

struct Parser<'a> {
    src: &'a str,
    toks: Vec<Token>,
    pos: usize,
    dialect: Dialect,
    depth: usize,
    /// Byte offset where the clause being parsed starts, for messages.
    clause_start: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.toks.get(self.pos)
    }

    fn bump(&mut self) -> Option<Token> {
        let token = self.toks.get(self.pos).cloned();
        if token.is_some() {
            self.pos += 1;
        }
        token
    }

    fn peek_keyword(&self, kw: &str) -> bool {
        self.peek().is_some_and(|t| t.is_keyword(kw))
    }

    fn syntax(&self, why: String) -> FilterError {
        FilterError(format!("{SYNTAX}: {why}"))
    }

    /// The source text from the start of the current clause to the last token read.
    fn clause_text(&self) -> &str {
        let end = self
            .pos
            .checked_sub(1)
            .and_then(|i| self.toks.get(i))
            .map_or(self.clause_start, |t| t.end);
        self.src.get(self.clause_start..end).unwrap_or("")
    }

    fn or_expr(&mut self) -> Result<Expr, FilterError> {
        let first = self.and_expr()?;
        if !self.peek_keyword("OR") {
            return Ok(first);
        }
        let mut children = vec![first];
        while self.peek_keyword("OR") {
            self.bump();
            children.push(self.and_expr()?);
        }
        Ok(Expr::Or(children))
    }

    fn and_expr(&mut self) -> Result<Expr, FilterError> {
        let first = self.primary()?;
        if !self.peek_keyword("AND") {
            return Ok(first);
        }
        let mut children = vec![first];
        while self.peek_keyword("AND") {
            self.bump();
            children.push(self.primary()?);
        }
        Ok(Expr::And(children))
    }

    fn primary(&mut self) -> Result<Expr, FilterError> {
        let Some(next) = self.peek().cloned() else {
            let previous = self.pos.checked_sub(1).and_then(|i| self.toks.get(i));
            let previous = previous.map_or("", |t| t.text(self.src));
            return Err(self.syntax(format!(
                "expected a clause after '{previous}' but the filter ended"
            )));
        };
        if next.tok != Tok::LParen {
            return self.comparison().map(Expr::Cmp);
        }
        self.bump();
        let open_at = position(self.src, next.start);
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.syntax(format!(
                "parentheses are nested more than {MAX_DEPTH} levels deep"
            )));
        }
        if self.peek().is_some_and(|t| t.tok == Tok::RParen) {
            return Err(self.syntax(format!("empty parentheses '()' at position {open_at}")));
        }
        let inner = self.or_expr()?;
        match self.bump() {
            Some(t) if t.tok == Tok::RParen => {}
            Some(t) => {
                return Err(self.syntax(format!(
                    "expected AND, OR or ')' after '{}' but found '{}'",
                    self.clause_text_before(&t),
                    t.text(self.src)
                )))
            }
            None => {
                return Err(self.syntax(format!(
                    "unbalanced parentheses: '(' at position {open_at} is never closed"
                )))
            }
        }
        self.depth -= 1;
        Ok(inner)
    }

    /// The current clause's text up to (not including) `t`, for "found X after Y".
    fn clause_text_before(&self, t: &Token) -> &str {
        let end = self
            .toks
            .iter()
            .take_while(|x| x.start < t.start)
            .last()
            .map_or(self.clause_start, |x| x.end);
        self.src.get(self.clause_start..end).unwrap_or("")
    }

    fn comparison(&mut self) -> Result<Comparison, FilterError> {
        let Some(first) = self.bump() else {
            return Err(self.syntax("expected a clause but the filter ended".into()));
        };
        self.clause_start = first.start;
        let ident = match raw_ident(&first.tok) {
            Ok(Some(ident)) => ident,
            Ok(None) => {
                return Err(self.syntax(format!(
                    "expected an identifier such as metrics.<key>, params.<key>, tags.<key> \
                     or an attribute name, but found '{}'",
                    first.text(self.src)
                )))
            }
            Err(why) => return Err(self.syntax(why)),
        };
        let (entity, key) = dialect::resolve_filter_ident(self.dialect, &ident)?;
        let src = self.src;
        let op = self.comparator(first.text(src))?;
        let value = match op {
            Op::IsNull | Op::IsNotNull => dialect::check_null(self.dialect, entity, &key)?,
            _ => {
                let raw = self.value(op)?;
                dialect::check_value(self.dialect, entity, &key, op, &raw)?
            }
        };
        Ok(Comparison {
            entity,
            key,
            op,
            value,
        })
    }

    /// Reads the comparator after the identifier `ident` (its source text).
    fn comparator(&mut self, ident: &str) -> Result<Op, FilterError> {
        let found = self.bump();
        let op = match found.as_ref().map(|t| &t.tok) {
            Some(Tok::Sym(sym)) => match sym {
                Sym::Eq => Op::Eq,
                Sym::Ne => Op::Ne,
                Sym::Lt => Op::Lt,
                Sym::Le => Op::Le,
                Sym::Gt => Op::Gt,
                Sym::Ge => Op::Ge,
            },
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("LIKE") => Op::Like,
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("ILIKE") => Op::ILike,
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("IN") => Op::In,
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("NOT") => {
                if !self.peek_keyword("IN") {
                    return Err(self.syntax(format!(
                        "expected IN after NOT in '{}' (only NOT IN and IS NOT NULL are supported)",
                        self.clause_text()
                    )));
                }
                self.bump();
                Op::NotIn
            }
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("IS") => {
                let negated = self.peek_keyword("NOT");
                if negated {
                    self.bump();
                }
                if !self.peek_keyword("NULL") {
                    return Err(self.syntax(format!(
                        "expected NULL or NOT NULL after '{}'",
                        self.clause_text()
                    )));
                }
                self.bump();
                if negated {
                    Op::IsNotNull
                } else {
                    Op::IsNull
                }
            }
            _ => {
                let found = found.map_or("the end of the filter".to_string(), |t| {
                    format!("'{}'", t.text(self.src))
                });
                return Err(self.syntax(format!(
                    "expected a comparator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN, NOT IN, IS NULL, \
                     IS NOT NULL) after '{ident}' but found {found}; keys with spaces, dashes or \
                     other special characters must be wrapped in backticks or double quotes"
                )));
            }
        };
        Ok(op)
    }

    fn value(&mut self, op: Op) -> Result<Raw, FilterError> {
        let Some(t) = self.bump() else {
            return Err(self.syntax(format!(
                "'{}' is missing a value after '{op}'",
                self.clause_text()
            )));
        };
        let text = t.text(self.src).to_string();
        let kind = match t.tok {
            Tok::Quoted { quote, text } => RawKind::Str { quote, text },
            Tok::Number(n) => RawKind::Num(n),
            Tok::Word(w) => RawKind::Bare(w),
            Tok::LParen => return self.list(&t),
            _ => {
                return Err(self.syntax(format!(
                    "'{}' is missing a value after '{op}'; found '{text}'",
                    self.clause_text_before(&t)
                )))
            }
        };
        Ok(Raw { kind, text })
    }

    /// A parenthesised, comma-separated list; `open` is the `(` already read.
    fn list(&mut self, open: &Token) -> Result<Raw, FilterError> {
        let open_at = position(self.src, open.start);
        if self.peek().is_some_and(|t| t.tok == Tok::RParen) {
            return Err(self.syntax(format!(
                "empty list '()' in '{}'; IN and NOT IN need at least one quoted value",
                self.clause_text_before(open)
            )));
        }
        let mut items = Vec::new();
        while let Some(t) = self.bump() {
            let text = t.text(self.src).to_string();
            let kind = match t.tok {
                Tok::Quoted { quote, text } => RawKind::Str { quote, text },
                Tok::Number(n) => RawKind::Num(n),
                Tok::Word(w) => RawKind::Bare(w),
                _ => {
                    return Err(self.syntax(format!(
                        "expected a quoted value in the list of '{}' but found '{text}'",
                        self.clause_text_before(open)
                    )))
                }
            };
            items.push(Raw { kind, text });
            match self.bump() {
                Some(t) if t.tok == Tok::Comma => continue,
                Some(t) if t.tok == Tok::RParen => {
                    let text = self.src.get(open.start..t.end).unwrap_or("").to_string();
                    let kind = RawKind::List(items);
                    return Ok(Raw { kind, text });
                }
                Some(t) => {
                    return Err(self.syntax(format!(
                        "expected ',' or ')' in the list of '{}' but found '{}'",
                        self.clause_text_before(open),
                        t.text(self.src)
                    )))
                }
                None => break,
            }
        }
        Err(self.syntax(format!(
            "unbalanced parentheses: the list opened at position {open_at} is never closed"
        )))
    }
}
