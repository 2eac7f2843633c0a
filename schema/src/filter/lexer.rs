//! Filter tokenizer: splits filter and order_by text into tokens with byte spans.
//!
//! Works on `char_indices`, so every span starts and ends on a char boundary and
//! any UTF-8 input is safe to slice.

use super::FilterError;

/// A comparator written with symbols.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sym {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// What a token is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    /// A bare word: a keyword, an attribute name or `prefix.key.with.dots`.
    Word(String),
    /// Text in `'`, `"` or `` ` ``, escapes resolved.
    Quoted {
        quote: char,
        text: String,
    },
    /// `prefix.` immediately followed by a backticked or double-quoted key.
    PrefixedKey {
        prefix: String,
        key: String,
    },
    /// An unquoted, finite number.
    Number(f64),
    Sym(Sym),
    LParen,
    RParen,
    Comma,
}

/// A token and where it came from (`src[start..end]`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub tok: Tok,
    pub start: usize,
    pub end: usize,
}

impl Token {
    /// The source text of the token.
    pub fn text<'a>(&self, src: &'a str) -> &'a str {
        src.get(self.start..self.end).unwrap_or("")
    }

    /// Whether the token is the keyword `kw` (case-insensitive).
    pub fn is_keyword(&self, kw: &str) -> bool {
        matches!(&self.tok, Tok::Word(w) if w.eq_ignore_ascii_case(kw))
    }
}

/// Reserved words: never identifiers.
pub(crate) const KEYWORDS: [&str; 8] = ["AND", "OR", "NOT", "IS", "NULL", "IN", "LIKE", "ILIKE"];

/// Whether `c` may start a bare word.
pub(crate) fn is_word_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

/// Whether `c` may continue a bare word (dots separate entity and key).
pub(crate) fn is_key_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '.'
}

/// Whether `s` can stand alone, unquoted, as an attribute name: one bare word
/// without dots that is not a keyword.
pub(crate) fn is_plain_word(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(is_word_start)
        && chars.all(|c| c != '.' && is_key_char(c))
        && !KEYWORDS.iter().any(|k| s.eq_ignore_ascii_case(k))
}

/// 1-based character position of byte offset `byte` in `src`, for messages.
pub(crate) fn position(src: &str, byte: usize) -> usize {
    src.get(..byte).map_or(0, |s| s.chars().count()) + 1
}

/// Splits `src` into tokens, or explains the first character that fits no token.
pub(crate) fn tokenize(src: &str) -> Result<Vec<Token>, FilterError> {
    let mut lexer = Lexer {
        src,
        chars: src.char_indices().collect(),
        i: 0,
    };
    let mut out = Vec::new();
    while let Some(token) = lexer.next_token()? {
        out.push(token);
    }
    Ok(out)
}

struct Lexer<'a> {
    src: &'a str,
    chars: Vec<(usize, char)>,
    /// Index into `chars` of the next unread char.
    i: usize,
}

impl Lexer<'_> {
    fn peek(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.i + ahead).map(|&(_, c)| c)
    }

    /// Byte offset of the next unread char.
    fn offset(&self) -> usize {
        self.chars.get(self.i).map_or(self.src.len(), |&(b, _)| b)
    }

    fn error(&self, byte: usize, what: impl std::fmt::Display) -> FilterError {
        FilterError(format!("{what} at position {}", position(self.src, byte)))
    }

    fn next_token(&mut self) -> Result<Option<Token>, FilterError> {
        while self.peek(0).is_some_and(char::is_whitespace) {
            self.i += 1;
        }
        let Some(c) = self.peek(0) else {
            return Ok(None);
        };
        let start = self.offset();
        let digit_at = |n: usize| self.peek(n).is_some_and(|c| c.is_ascii_digit());
        let starts_number = c.is_ascii_digit()
            || (c == '.' && digit_at(1))
            || (matches!(c, '-' | '+')
                && (digit_at(1) || (self.peek(1) == Some('.') && digit_at(2))));
        let (tok, width) = match c {
            '(' => (Tok::LParen, 1),
            ')' => (Tok::RParen, 1),
            ',' => (Tok::Comma, 1),
            '=' => (Tok::Sym(Sym::Eq), 1),
            '!' if self.peek(1) == Some('=') => (Tok::Sym(Sym::Ne), 2),
            '<' if self.peek(1) == Some('=') => (Tok::Sym(Sym::Le), 2),
            '<' => (Tok::Sym(Sym::Lt), 1),
            '>' if self.peek(1) == Some('=') => (Tok::Sym(Sym::Ge), 2),
            '>' => (Tok::Sym(Sym::Gt), 1),
            '\'' | '"' | '`' => {
                let text = self.quoted(c)?;
                (Tok::Quoted { quote: c, text }, 0)
            }
            _ if starts_number => (self.number()?, 0),
            _ if is_word_start(c) => (self.word()?, 0),
            _ => return Err(self.bad_char(c, start)),
        };
        self.i += width;
        Ok(Some(Token {
            tok,
            start,
            end: self.offset(),
        }))
    }

    fn bad_char(&self, c: char, at: usize) -> FilterError {
        match (c, self.peek(1)) {
            (';', _) => self.error(
                at,
                "Invalid character ';' (statement separators are not allowed)",
            ),
            ('-', Some('-')) | ('/', Some('*')) => self.error(
                at,
                format!(
                    "Invalid token '{c}{}' (comments are not allowed in a filter)",
                    if c == '-' { '-' } else { '*' }
                ),
            ),
            _ => self.error(
                at,
                format!(
                    "Invalid character '{}' (keys with spaces, dashes or other special characters \
                     must be wrapped in backticks or double quotes, and string values in single or \
                     double quotes)",
                    c.escape_debug()
                ),
            ),
        }
    }

    /// Reads a quoted run starting at the opening `q`. Inside, `qq` is a literal `q`,
    /// and `\'`, `\"`, `` \` `` and `\\` are escapes; any other backslash is literal.
    fn quoted(&mut self, q: char) -> Result<String, FilterError> {
        let open = self.offset();
        self.i += 1;
        let mut text = String::new();
        loop {
            match self.peek(0) {
                None => {
                    return Err(self.error(
                        open,
                        format!("Unterminated quoted string (missing closing {q}) starting"),
                    ))
                }
                Some('\\') => match self.peek(1) {
                    Some(e @ ('\'' | '"' | '`' | '\\')) => {
                        text.push(e);
                        self.i += 2;
                    }
                    _ => {
                        text.push('\\');
                        self.i += 1;
                    }
                },
                Some(c) if c == q => {
                    self.i += 1;
                    if self.peek(0) == Some(q) {
                        text.push(q);
                        self.i += 1;
                    } else {
                        return Ok(text);
                    }
                }
                Some(c) => {
                    text.push(c);
                    self.i += 1;
                }
            }
        }
    }

    /// `[+-] digits [. digits] [e [+-] digits]`, also `.5` and `1.`.
    fn number(&mut self) -> Result<Tok, FilterError> {
        let start = self.offset();
        let digits = |lx: &mut Self| {
            while lx.peek(0).is_some_and(|c| c.is_ascii_digit()) {
                lx.i += 1;
            }
        };
        if matches!(self.peek(0), Some('+' | '-')) {
            self.i += 1;
        }
        digits(self);
        if self.peek(0) == Some('.') {
            self.i += 1;
            digits(self);
        }
        if matches!(self.peek(0), Some('e' | 'E')) {
            let signed = matches!(self.peek(1), Some('+' | '-'));
            let after = if signed { 2 } else { 1 };
            if self.peek(after).is_some_and(|c| c.is_ascii_digit()) {
                self.i += after;
                digits(self);
            }
        }
        if self.peek(0).is_some_and(is_key_char) {
            while self.peek(0).is_some_and(is_key_char) {
                self.i += 1;
            }
            let text = self.src.get(start..self.offset()).unwrap_or("");
            return Err(self.error(start, format!("Invalid number '{text}'")));
        }
        let text = self.src.get(start..self.offset()).unwrap_or("");
        match text.parse::<f64>() {
            Ok(n) if n.is_finite() => Ok(Tok::Number(n)),
            Ok(_) => Err(self.error(start, format!("Number '{text}' is out of range"))),
            Err(_) => Err(self.error(start, format!("Invalid number '{text}'"))),
        }
    }

    /// A bare word; `prefix.` directly followed by a backtick or double quote
    /// becomes a `PrefixedKey` (``tags.`my tag` ``).
    fn word(&mut self) -> Result<Tok, FilterError> {
        let start = self.offset();
        while self.peek(0).is_some_and(is_key_char) {
            self.i += 1;
        }
        let text = self.src.get(start..self.offset()).unwrap_or("");
        if let Some(prefix) = text.strip_suffix('.') {
            if !prefix.contains('.') {
                if let Some(q @ ('`' | '"')) = self.peek(0) {
                    let prefix = prefix.to_string();
                    let key = self.quoted(q)?;
                    return Ok(Tok::PrefixedKey { prefix, key });
                }
            }
        }
        Ok(Tok::Word(text.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(src: &str) -> Vec<Tok> {
        tokenize(src).unwrap().into_iter().map(|t| t.tok).collect()
    }

    fn word(s: &str) -> Tok {
        Tok::Word(s.to_string())
    }

    #[test]
    fn a_simple_clause_is_three_tokens() {
        assert_eq!(
            toks("metrics.acc>=0.5"),
            vec![word("metrics.acc"), Tok::Sym(Sym::Ge), Tok::Number(0.5)]
        );
    }

    #[test]
    fn numbers_take_signs_decimals_and_exponents() {
        assert_eq!(
            toks("-1.5e3 +2 .5 1. 7E-2"),
            vec![
                Tok::Number(-1500.0),
                Tok::Number(2.0),
                Tok::Number(0.5),
                Tok::Number(1.0),
                Tok::Number(0.07)
            ]
        );
    }

    #[test]
    fn numbers_glued_to_letters_are_rejected() {
        assert!(tokenize("1abc")
            .unwrap_err()
            .0
            .contains("Invalid number '1abc'"));
        assert!(tokenize("1.2.3")
            .unwrap_err()
            .0
            .contains("Invalid number '1.2.3'"));
        assert!(tokenize("1e999").unwrap_err().0.contains("out of range"));
    }

    #[test]
    fn quotes_accept_doubling_and_backslash_escapes() {
        assert_eq!(
            toks(r#"'it''s' "a\"b" 'c\\d' 'e\_f' ''"#),
            vec![
                Tok::Quoted {
                    quote: '\'',
                    text: "it's".into()
                },
                Tok::Quoted {
                    quote: '"',
                    text: "a\"b".into()
                },
                Tok::Quoted {
                    quote: '\'',
                    text: "c\\d".into()
                },
                Tok::Quoted {
                    quote: '\'',
                    text: "e\\_f".into()
                },
                Tok::Quoted {
                    quote: '\'',
                    text: String::new()
                },
            ]
        );
    }

    #[test]
    fn a_prefix_glued_to_a_quoted_key_is_one_token() {
        assert_eq!(
            toks("tags.`my tag` params.\"a b\" tags. `x`"),
            vec![
                Tok::PrefixedKey {
                    prefix: "tags".into(),
                    key: "my tag".into()
                },
                Tok::PrefixedKey {
                    prefix: "params".into(),
                    key: "a b".into()
                },
                word("tags."),
                Tok::Quoted {
                    quote: '`',
                    text: "x".into()
                },
            ]
        );
    }

    #[test]
    fn unterminated_quotes_are_reported_with_their_position() {
        let err = tokenize("name = 'abc").unwrap_err().0;
        assert_eq!(
            err,
            "Unterminated quoted string (missing closing ') starting at position 8"
        );
    }

    #[test]
    fn statement_separators_and_comments_are_rejected() {
        assert!(tokenize("a = 'x'; b")
            .unwrap_err()
            .0
            .starts_with("Invalid character ';'"));
        assert!(tokenize("a -- b")
            .unwrap_err()
            .0
            .starts_with("Invalid token '--'"));
        assert!(tokenize("a /* b */")
            .unwrap_err()
            .0
            .starts_with("Invalid token '/*'"));
    }

    #[test]
    fn positions_count_characters_not_bytes() {
        let err = tokenize("tags.é = 'ü' $").unwrap_err().0;
        assert!(err.ends_with("at position 14"), "{err}");
    }

    #[test]
    fn spans_cover_the_source_text_of_each_token() {
        let src = "tags.`ключ` IN ('a', \"b\")";
        let spans: Vec<&str> = tokenize(src).unwrap().iter().map(|t| t.text(src)).collect();
        assert_eq!(
            spans,
            vec!["tags.`ключ`", "IN", "(", "'a'", ",", "\"b\"", ")"]
        );
    }
}
