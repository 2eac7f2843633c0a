//! sacrebleu's `13a` tokenizer (mteval-v13a) and Python's `str.split()` whitespace,
//! reproduced code point for code point.
//!
//! Both BLEU and chrF split text the way Python's argument-less `str.split()` does.
//! Python's whitespace set is Rust's [`char::is_whitespace`] plus U+001C–U+001F, so
//! `str::split_whitespace` is *not* a substitute; use the helpers here.

/// Whether Python's `str.split()` / `str.rstrip()` treat `c` as whitespace.
///
/// That is Unicode `White_Space` (what [`char::is_whitespace`] tests) plus the four
/// information separators U+001C–U+001F. Zero-width space (U+200B), ZWJ (U+200D) and
/// U+FEFF are not whitespace.
pub fn is_python_whitespace(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Python's argument-less `s.split()`: the non-empty pieces between runs of
/// [Python whitespace](is_python_whitespace).
///
/// ```
/// use cairn_client::eval::tokenize_13a::split_python_whitespace;
/// let words: Vec<&str> = split_python_whitespace(" a\u{1f}b\u{a0} c ").collect();
/// assert_eq!(words, ["a", "b", "c"]);
/// ```
pub fn split_python_whitespace(s: &str) -> impl Iterator<Item = &str> {
    s.split(is_python_whitespace)
        .filter(|piece| !piece.is_empty())
}

/// Python's argument-less `s.rstrip()`: `s` without trailing
/// [Python whitespace](is_python_whitespace).
pub fn rstrip_python_whitespace(s: &str) -> &str {
    s.trim_end_matches(is_python_whitespace)
}

/// Tokenizes one line with sacrebleu's `13a` tokenizer and returns the tokens joined
/// by single spaces (sacrebleu's own output form).
///
/// Steps: delete `<skipped>`; join `-` + LF; LF → space; decode `&quot;`, `&amp;`,
/// `&lt;`, `&gt;` (in that order, only those four); isolate ASCII symbols; split `.`
/// and `,` next to anything but an ASCII digit; split `-` after an ASCII digit;
/// collapse Python whitespace. Apostrophes, hyphens between letters and every
/// non-ASCII character stay inside their token.
///
/// This does not rstrip or lowercase: BLEU does that before calling the tokenizer.
///
/// ```
/// use cairn_client::eval::tokenize_13a::tokenize_13a;
/// assert_eq!(tokenize_13a("It costs $1,000.50 today."), "It costs $ 1,000.50 today .");
/// ```
pub fn tokenize_13a(line: &str) -> String {
    let mut text = line
        .replace("<skipped>", "")
        .replace("-\n", "")
        .replace('\n', " ");
    if text.contains('&') {
        text = text
            .replace("&quot;", "\"")
            .replace("&amp;", "&")
            .replace("&lt;", "<")
            .replace("&gt;", ">");
    }

    let mut chars: Vec<char> = Vec::with_capacity(text.len() + 2);
    chars.push(' ');
    chars.extend(text.chars());
    chars.push(' ');

    let mut isolated = Vec::with_capacity(chars.len() * 2);
    for &c in &chars {
        if is_isolated_symbol(c) {
            isolated.extend([' ', c, ' ']);
        } else {
            isolated.push(c);
        }
    }
    let pass2 = replace_windows(
        &isolated,
        |x, p| !is_digit(x) && is_period_or_comma(p),
        |x, p| [x, ' ', p, ' '],
    );
    let pass3 = replace_windows(
        &pass2,
        |p, y| is_period_or_comma(p) && !is_digit(y),
        |p, y| [' ', p, ' ', y],
    );
    let pass4 = replace_windows(
        &pass3,
        |d, h| is_digit(d) && h == '-',
        |d, h| [d, ' ', h, ' '],
    );

    let spaced: String = pass4.into_iter().collect();
    split_python_whitespace(&spaced)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The symbols pass 1 surrounds with spaces: ASCII punctuation except `'`, `-`, `.`
/// and `,`, plus the space itself (regex class ``[{-~[-` -&(-+:-@/]``).
fn is_isolated_symbol(c: char) -> bool {
    matches!(c, '{'..='~' | '['..='`' | ' '..='&' | '('..='+' | ':'..='@' | '/')
}

/// The 13a regexes say `[0-9]`: ASCII digits only, never `５` or `٣`.
fn is_digit(c: char) -> bool {
    c.is_ascii_digit()
}

fn is_period_or_comma(c: char) -> bool {
    c == '.' || c == ','
}

/// A regex `replace_all` for a two-code-point pattern: leftmost, non-overlapping
/// matches, scanning resumes after each match and never re-examines its output.
fn replace_windows(
    input: &[char],
    matches: impl Fn(char, char) -> bool,
    replacement: impl Fn(char, char) -> [char; 4],
) -> Vec<char> {
    let mut out = Vec::with_capacity(input.len() + input.len() / 2);
    let mut i = 0;
    while i < input.len() {
        if i + 1 < input.len() && matches(input[i], input[i + 1]) {
            out.extend(replacement(input[i], input[i + 1]));
            i += 2;
        } else {
            out.push(input[i]);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_tokenizes(input: &str, expected: &str) {
        assert_eq!(tokenize_13a(input), expected, "input {input:?}");
    }

    #[test]
    fn punctuation_is_split_off_words() {
        assert_tokenizes("Hello, world!", "Hello , world !");
        assert_tokenizes("e.g. U.S.A. Mr. Smith", "e . g . U . S . A . Mr . Smith");
    }

    #[test]
    fn periods_and_commas_between_ascii_digits_stay() {
        assert_tokenizes("It costs $1,000.50 today.", "It costs $ 1,000.50 today .");
        assert_tokenizes("In 2020.", "In 2020 .");
        assert_tokenizes("3.14 vs 3 .14 and 1,2,3", "3.14 vs 3 . 14 and 1,2,3");
        assert_tokenizes("1.000,50€", "1.000,50€");
    }

    #[test]
    fn period_comma_windows_never_overlap() {
        assert_tokenizes("a.,b", "a . , b");
        assert_tokenizes("x.,5", "x . ,5");
        assert_tokenizes("5.,6", "5 . , 6");
        assert_tokenizes("x.5 5.x ..5", "x . 5 5 . x . .5");
    }

    #[test]
    fn hyphens_split_only_after_a_digit() {
        assert_tokenizes("don't stop-believing", "don't stop-believing");
        assert_tokenizes("COVID-19 in 2019-2020", "COVID-19 in 2019 - 2020");
        assert_tokenizes("-5 and 5-", "-5 and 5 -");
    }

    #[test]
    fn urls_are_cut_at_ascii_symbols() {
        assert_tokenizes(
            "https://example.com/a-b?x=1&y=2#f",
            "https : / / example . com / a-b ? x = 1 & y = 2 # f",
        );
    }

    #[test]
    fn only_four_entities_are_decoded_in_order() {
        assert_tokenizes(
            "&amp;lt; &amp;quot; &quot;hi&quot; AT&amp;T &#39;",
            "< & quot ; \" hi \" AT & T & # 39 ;",
        );
    }

    #[test]
    fn line_breaks_and_skipped_markers_are_removed() {
        assert_tokenizes("exam-\nple\nnext", "example next");
        assert_tokenizes("foo<skipped>bar", "foobar");
    }

    #[test]
    fn non_ascii_digits_are_not_digits() {
        assert_tokenizes("Ｆｕｌｌ１.５ ٣.٥", "Ｆｕｌｌ１ . ５ ٣ . ٥");
    }

    #[test]
    fn python_whitespace_includes_information_separators_but_not_zero_width_space() {
        assert_tokenizes("a\u{1f}b\u{a0}c\u{3000}d\u{200b}e", "a b c d\u{200b}e");
        assert_tokenizes("…—–“”‘’", "…—–“”‘’");
    }

    #[test]
    fn rstrip_removes_trailing_python_whitespace_only() {
        assert_eq!(rstrip_python_whitespace(" line-\n\u{1c}"), " line-");
    }
}
