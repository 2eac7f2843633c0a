//! rouge-score's default tokenizer: lowercase, keep only ASCII `[a-z0-9]` runs, optionally stem.

use super::porter;

/// Splits `text` into ROUGE tokens exactly like rouge-score 0.1.2's default tokenizer.
///
/// 1. Full Unicode lowercasing (so `İ` gives `i` + U+0307 and the Kelvin sign gives `k`).
/// 2. Every maximal run of characters that are not ASCII `a`–`z` or `0`–`9` separates
///    tokens: non-ASCII letters, digits and all punctuation split words (`café` → `caf`,
///    `don't` → `don`, `t`).
/// 3. With `use_stemmer`, tokens longer than three characters are replaced by their
///    nltk Porter stem ([`porter::stem`]).
///
/// ```
/// use cairn_client::eval::rouge_tokenize::tokenize;
/// assert_eq!(tokenize("Don't run, İstanbul!", false), ["don", "t", "run", "i", "stanbul"]);
/// assert_eq!(tokenize("The runners were running", true), ["the", "runner", "were", "run"]);
/// ```
pub fn tokenize(text: &str, use_stemmer: bool) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut current = String::new();
    // Per-character lowercasing equals Python's `str.lower` on every character that
    // lowercases to ASCII; the only context-dependent rule (final sigma) yields non-ASCII.
    for lowered in text.chars().flat_map(char::to_lowercase) {
        if lowered.is_ascii_lowercase() || lowered.is_ascii_digit() {
            current.push(lowered);
        } else if !current.is_empty() {
            tokens.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        tokens.push(current);
    }
    if use_stemmer {
        for token in &mut tokens {
            if token.len() > 3 {
                *token = porter::stem(token);
            }
        }
        // rouge-score drops anything that is not `[a-z0-9]+` after stemming; the
        // stemmer never produces such a token from this input, but keep the guard.
        tokens.retain(|t| {
            !t.is_empty()
                && t.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        });
    }
    tokens
}

#[cfg(test)]
mod tests {
    use super::tokenize;

    #[test]
    fn every_non_ascii_character_separates_tokens() {
        assert_eq!(
            tokenize("café naïve Straße", false),
            ["caf", "na", "ve", "stra", "e"]
        );
        assert!(tokenize("只有中文 ＡＢＣ１２３ 😀", false).is_empty());
    }

    #[test]
    fn unicode_lowercasing_keeps_dotted_i_and_kelvin_sign() {
        assert_eq!(
            tokenize("İstanbul 300\u{212A}", false),
            ["i", "stanbul", "300k"]
        );
    }

    #[test]
    fn only_tokens_longer_than_three_characters_are_stemmed() {
        assert_eq!(
            tokenize("was this uses dying", true),
            ["was", "thi", "use", "die"]
        );
    }
}
