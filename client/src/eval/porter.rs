//! The Porter stemmer exactly as nltk's `PorterStemmer()` runs it by default (`NLTK_EXTENSIONS`).
//!
//! rouge-score stems with this variant, and no crate implements it (Porter2/Snowball and
//! Martin Porter's reference version each differ on 1.5–3 % of English words), so it is
//! ported here step by step. The rules follow nltk 3.10's `nltk/stem/porter.py`; see
//! `shared/reference/llm-metrics.md` section 5.

/// Words nltk maps by table before any rule runs.
const IRREGULAR: &[(&str, &str)] = &[
    ("skies", "sky"),
    ("sky", "sky"),
    ("dying", "die"),
    ("lying", "lie"),
    ("tying", "tie"),
    ("news", "news"),
    ("innings", "inning"),
    ("inning", "inning"),
    ("outings", "outing"),
    ("outing", "outing"),
    ("cannings", "canning"),
    ("canning", "canning"),
    ("howe", "howe"),
    ("proceed", "proceed"),
    ("exceed", "exceed"),
    ("succeed", "succeed"),
];

/// Stems one word the way nltk's `PorterStemmer().stem(word)` does.
///
/// The word is lowercased first (full Unicode lowercasing, like Python's `str.lower`).
/// Two nltk quirks are kept on purpose: the irregular-form table (`skies` → `sky`,
/// `dying` → `die`, `news` → `news`, …) is looked up with the word *as given*, and a
/// word of at most two characters is returned *as given* (not lowercased).
///
/// Letters other than `a e i o u` (and `y` after a vowel) count as consonants, digits
/// and non-ASCII characters included.
///
/// ```
/// use cairn_client::eval::porter::stem;
/// assert_eq!(stem("running"), "run");
/// assert_eq!(stem("studies"), "studi");
/// assert_eq!(stem("dying"), "die");
/// assert_eq!(stem("generously"), "gener");
/// ```
pub fn stem(word: &str) -> String {
    if let Some(&(_, irregular)) = IRREGULAR.iter().find(|(form, _)| *form == word) {
        return irregular.to_string();
    }
    if word.chars().count() <= 2 {
        return word.to_string();
    }
    let mut w: Vec<char> = word.to_lowercase().chars().collect();
    w = step1a(w);
    w = step1b(w);
    w = step1c(w);
    w = step2(w);
    w = step3(w);
    w = step4(w);
    w = step5a(w);
    w = step5b(w);
    w.into_iter().collect()
}

/// Consonant flag of every position. Position i only depends on `w[..=i]`, so the
/// flags of a prefix are a prefix of the flags.
fn consonants(w: &[char]) -> Vec<bool> {
    let mut flags: Vec<bool> = Vec::with_capacity(w.len());
    for (i, &c) in w.iter().enumerate() {
        let consonant = match c {
            'a' | 'e' | 'i' | 'o' | 'u' => false,
            // A `y` is a consonant at the start or after a vowel, a vowel after a consonant.
            'y' => i == 0 || !flags[i - 1],
            _ => true,
        };
        flags.push(consonant);
    }
    flags
}

/// Porter's m: the number of vowel→consonant transitions.
fn measure(w: &[char]) -> usize {
    consonants(w)
        .windows(2)
        .filter(|pair| !pair[0] && pair[1])
        .count()
}

fn contains_vowel(w: &[char]) -> bool {
    consonants(w).iter().any(|&c| !c)
}

/// `*d`: ends in a double consonant.
fn ends_double_consonant(w: &[char]) -> bool {
    let n = w.len();
    n >= 2 && w[n - 1] == w[n - 2] && consonants(w)[n - 1]
}

/// `*o`: consonant-vowel-consonant ending (last not w/x/y), or nltk's two-letter
/// vowel-consonant word.
fn ends_cvc(w: &[char]) -> bool {
    let n = w.len();
    let c = consonants(w);
    (n >= 3 && c[n - 3] && !c[n - 2] && c[n - 1] && !matches!(w[n - 1], 'w' | 'x' | 'y'))
        || (n == 2 && !c[0] && c[1])
}

fn ends_with(w: &[char], suffix: &str) -> bool {
    let n = suffix.chars().count();
    w.len() >= n && w[w.len() - n..].iter().copied().eq(suffix.chars())
}

/// `w` without its last `suffix_len` characters, followed by `replacement`.
fn replace_suffix(w: &[char], suffix_len: usize, replacement: &str) -> Vec<char> {
    let mut out = w[..w.len() - suffix_len].to_vec();
    out.extend(replacement.chars());
    out
}

/// nltk's `_apply_rule_list`: the first rule whose suffix matches decides; if its
/// condition (given the suffix and the stem before it) fails, the word is returned
/// unchanged and later rules are not tried.
fn apply_rules(
    w: Vec<char>,
    rules: &[(&str, &str)],
    condition: impl Fn(&str, &[char]) -> bool,
) -> Vec<char> {
    for &(suffix, replacement) in rules {
        if ends_with(&w, suffix) {
            let suffix_len = suffix.chars().count();
            let stem = &w[..w.len() - suffix_len];
            return if condition(suffix, stem) {
                replace_suffix(&w, suffix_len, replacement)
            } else {
                w
            };
        }
    }
    w
}

fn step1a(w: Vec<char>) -> Vec<char> {
    if w.len() == 4 && ends_with(&w, "ies") {
        return replace_suffix(&w, 3, "ie");
    }
    apply_rules(
        w,
        &[("sses", "ss"), ("ies", "i"), ("ss", "ss"), ("s", "")],
        |_, _| true,
    )
}

fn step1b(w: Vec<char>) -> Vec<char> {
    if ends_with(&w, "ied") {
        let replacement = if w.len() == 4 { "ie" } else { "i" };
        return replace_suffix(&w, 3, replacement);
    }
    if ends_with(&w, "eed") {
        return if measure(&w[..w.len() - 3]) > 0 {
            replace_suffix(&w, 3, "ee")
        } else {
            w
        };
    }
    let Some(mut s) = ["ed", "ing"].iter().find_map(|suffix| {
        let stem = &w[..w.len().saturating_sub(suffix.len())];
        (ends_with(&w, suffix) && contains_vowel(stem)).then(|| stem.to_vec())
    }) else {
        return w;
    };
    for (suffix, replacement) in [("at", "ate"), ("bl", "ble"), ("iz", "ize")] {
        if ends_with(&s, suffix) {
            return replace_suffix(&s, 2, replacement);
        }
    }
    if ends_double_consonant(&s) {
        if !matches!(s[s.len() - 1], 'l' | 's' | 'z') {
            s.pop();
        }
        return s;
    }
    if measure(&s) == 1 && ends_cvc(&s) {
        s.push('e');
    }
    s
}

fn step1c(w: Vec<char>) -> Vec<char> {
    apply_rules(w, &[("y", "i")], |_, stem| {
        stem.len() > 1 && consonants(stem)[stem.len() - 1]
    })
}

fn step2(w: Vec<char>) -> Vec<char> {
    // nltk applies `alli` -> `al` before the rule list and, when it fires, runs step 2
    // again on the result.
    if ends_with(&w, "alli") && measure(&w[..w.len() - 4]) > 0 {
        return step2(replace_suffix(&w, 4, "al"));
    }
    let rules = [
        ("ational", "ate"),
        ("tional", "tion"),
        ("enci", "ence"),
        ("anci", "ance"),
        ("izer", "ize"),
        ("bli", "ble"),
        ("alli", "al"),
        ("entli", "ent"),
        ("eli", "e"),
        ("ousli", "ous"),
        ("ization", "ize"),
        ("ation", "ate"),
        ("ator", "ate"),
        ("alism", "al"),
        ("iveness", "ive"),
        ("fulness", "ful"),
        ("ousness", "ous"),
        ("aliti", "al"),
        ("iviti", "ive"),
        ("biliti", "ble"),
        ("fulli", "ful"),
        ("logi", "log"),
    ];
    apply_rules(w, &rules, |suffix, stem| {
        if suffix == "logi" {
            // nltk keeps the `l` with the stem so that `geology` -> `geolog`.
            let mut with_l = stem.to_vec();
            with_l.push('l');
            measure(&with_l) > 0
        } else {
            measure(stem) > 0
        }
    })
}

fn step3(w: Vec<char>) -> Vec<char> {
    let rules = [
        ("icate", "ic"),
        ("ative", ""),
        ("alize", "al"),
        ("iciti", "ic"),
        ("ical", "ic"),
        ("ful", ""),
        ("ness", ""),
    ];
    apply_rules(w, &rules, |_, stem| measure(stem) > 0)
}

fn step4(w: Vec<char>) -> Vec<char> {
    let rules = [
        "al", "ance", "ence", "er", "ic", "able", "ible", "ant", "ement", "ment", "ent", "ion",
        "ou", "ism", "ate", "iti", "ous", "ive", "ize",
    ]
    .map(|suffix| (suffix, ""));
    apply_rules(w, &rules, |suffix, stem| {
        measure(stem) > 1 && (suffix != "ion" || matches!(stem.last(), Some('s' | 't')))
    })
}

fn step5a(w: Vec<char>) -> Vec<char> {
    if ends_with(&w, "e") {
        let stem = &w[..w.len() - 1];
        let m = measure(stem);
        if m > 1 || (m == 1 && !ends_cvc(stem)) {
            return stem.to_vec();
        }
    }
    w
}

fn step5b(w: Vec<char>) -> Vec<char> {
    if ends_with(&w, "ll") && measure(&w[..w.len() - 1]) > 1 {
        return replace_suffix(&w, 2, "l");
    }
    w
}

#[cfg(test)]
mod tests {
    use super::stem;

    #[test]
    fn irregular_forms_come_from_nltks_table() {
        for (word, expected) in [
            ("skies", "sky"),
            ("dying", "die"),
            ("news", "news"),
            ("innings", "inning"),
            ("proceed", "proceed"),
        ] {
            assert_eq!(stem(word), expected, "{word}");
        }
    }

    #[test]
    fn nltk_extensions_differ_from_the_original_algorithm() {
        for (word, expected) in [
            ("ties", "tie"),
            ("died", "die"),
            ("cried", "cri"),
            ("fly", "fli"),
            ("enjoy", "enjoy"),
            ("says", "say"),
            ("aged", "age"),
            ("hopefully", "hope"),
            ("conditionally", "condit"),
            ("geology", "geolog"),
            ("abundantly", "abundantli"),
            ("formative", "form"),
        ] {
            assert_eq!(stem(word), expected, "{word}");
        }
    }

    #[test]
    fn double_consonants_lose_a_letter_except_l_s_z() {
        assert_eq!(stem("hopping"), "hop");
        assert_eq!(stem("falling"), "fall");
        assert_eq!(stem("controlling"), "control");
        assert_eq!(stem("filing"), "file");
    }

    #[test]
    fn words_of_two_characters_are_returned_as_given() {
        assert_eq!(stem("is"), "is");
        assert_eq!(stem("AS"), "AS");
        assert_eq!(stem(""), "");
    }

    #[test]
    fn runs_of_y_alternate_between_consonant_and_vowel() {
        assert_eq!(super::measure(&['s', 'y', 'z', 'y', 'g', 'y']), 2);
        assert_eq!(super::measure(&['t', 'o', 'y']), 1);
    }
}
