//! Artifact paths: the one validator every client-supplied artifact path passes through, and the `ArtifactPath` type storage accepts.
//!
//! Architecture invariant: storage functions take an `ArtifactPath`, never a `&str`, and
//! `parse` is the only way to make one from outside input. MLflow has shipped a long run of
//! path-traversal CVEs because it checked strings at each call site and decoded them in
//! loops; here the checks live in one place and the result is a type, so a path that
//! reaches storage has been validated exactly once.
//!
//! The router percent-decodes the URL path (and query strings) once before `parse` sees
//! it. `parse` itself never decodes; it rejects anything that still looks like an escape,
//! so a double-encoded `%252e%252e` (which arrives as `%2e%2e`) can never become `..`.
//!
//! The rules are deliberately stricter than any one filesystem needs: a path that some
//! normaliser, decoder or operating system downstream could read as something else is
//! refused rather than interpreted.

use std::fmt;
use std::str::FromStr;

/// Longest accepted input, in UTF-8 bytes.
pub const MAX_PATH_BYTES: usize = 1024;
/// Longest accepted segment, in UTF-8 bytes (the usual `NAME_MAX`).
pub const MAX_SEGMENT_BYTES: usize = 255;

/// A validated, normalised, relative artifact path: '/'-separated non-empty segments; the empty path is the root.
///
/// Every segment is non-empty, is not `.` or `..` (nor any other run of only dots and
/// spaces), and holds no `/`, `\`, control character, URL metacharacter, percent escape
/// or Unicode lookalike of those; the first segment holds no `:`. Joining two such paths
/// keeps all of these properties, so `join` cannot produce a path that escapes its root.
/// The byte limits bound *input*: a joined path may be longer than `MAX_PATH_BYTES`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ArtifactPath(String);

/// Why an artifact path was refused. Displays as MLflow's message; `reason` is for logs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Invalid path")]
pub struct InvalidPath {
    /// The rule the path broke: one of the associated constants below.
    pub reason: &'static str,
}

impl InvalidPath {
    /// The whole path is longer than `MAX_PATH_BYTES`.
    pub const TOO_LONG: &'static str = "path longer than 1024 bytes";
    /// One segment is longer than `MAX_SEGMENT_BYTES`.
    pub const SEGMENT_TOO_LONG: &'static str = "segment longer than 255 bytes";
    /// A C0/C1 control, DEL, a Unicode line/paragraph separator or a bidi override.
    pub const CONTROL_CHARACTER: &'static str = "control character";
    /// `\`, a separator on Windows.
    pub const BACKSLASH: &'static str = "backslash";
    /// `#`, `?` or `;`, which end or parameterise a URL path.
    pub const URL_METACHARACTER: &'static str = "'#', '?' or ';'";
    /// A character some normaliser turns into `.`, `/`, `\`, `:`, `%`, `#`, `?` or `;`.
    pub const LOOKALIKE: &'static str = "Unicode lookalike of a path metacharacter";
    /// `%XX` or `%uXXXX` left after the router's single decode: double encoding.
    pub const PERCENT_ESCAPE: &'static str = "percent escape after decoding";
    /// A leading `/`.
    pub const ABSOLUTE: &'static str = "absolute path";
    /// `:` in the first segment: a URI scheme (`file:`, `s3:`) or a drive letter (`C:`).
    pub const SCHEME_OR_DRIVE: &'static str = "scheme or drive prefix";
    /// `a//b` or a trailing `/`.
    pub const EMPTY_SEGMENT: &'static str = "empty segment";
    /// A `.` segment.
    pub const DOT_SEGMENT: &'static str = "'.' segment";
    /// A `..` segment.
    pub const DOT_DOT_SEGMENT: &'static str = "'..' segment";
    /// A segment of only dots and spaces, such as `...` or `.. `, which Windows trims.
    pub const DOTS_AND_SPACES: &'static str = "segment of only dots and spaces";

    fn new(reason: &'static str) -> Self {
        InvalidPath { reason }
    }
}

impl ArtifactPath {
    /// Validates a path the router has already percent-decoded once; `""` is the root.
    pub fn parse(raw: &str) -> Result<ArtifactPath, InvalidPath> {
        if raw.is_empty() {
            return Ok(ArtifactPath::root());
        }
        if raw.len() > MAX_PATH_BYTES {
            return Err(InvalidPath::new(InvalidPath::TOO_LONG));
        }
        check_characters(raw)?;
        if has_percent_escape(raw) {
            return Err(InvalidPath::new(InvalidPath::PERCENT_ESCAPE));
        }
        if raw.starts_with('/') {
            return Err(InvalidPath::new(InvalidPath::ABSOLUTE));
        }
        for (index, segment) in raw.split('/').enumerate() {
            // Only the first segment can be read as `scheme:` or `C:`; later colons are
            // ordinary name characters (MLflow accepts them too).
            if index == 0 && segment.contains(':') {
                return Err(InvalidPath::new(InvalidPath::SCHEME_OR_DRIVE));
            }
            check_segment(segment)?;
        }
        Ok(ArtifactPath(raw.to_owned()))
    }

    /// Like `parse`, but tolerates one trailing `/`, as in a directory listing's `?path=model/`.
    pub fn parse_dir(raw: &str) -> Result<ArtifactPath, InvalidPath> {
        match raw.strip_suffix('/') {
            Some(trimmed) if !trimmed.is_empty() => ArtifactPath::parse(trimmed),
            _ => ArtifactPath::parse(raw),
        }
    }

    /// The empty path.
    pub fn root() -> ArtifactPath {
        ArtifactPath(String::new())
    }

    /// Whether this is the empty path.
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// The path as `/`-separated text, without leading or trailing `/`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The segments in order; none for the root.
    pub fn segments(&self) -> impl Iterator<Item = &str> {
        // Only the root splits into an empty piece: no other segment is empty.
        self.0.split('/').filter(|segment| !segment.is_empty())
    }

    /// `child` under `self`. Both are valid, so the result is too (see the type's doc).
    pub fn join(&self, child: &ArtifactPath) -> ArtifactPath {
        match (self.is_root(), child.is_root()) {
            (true, _) => child.clone(),
            (false, true) => self.clone(),
            (false, false) => ArtifactPath(format!("{}/{}", self.0, child.0)),
        }
    }

    /// The path without its last segment; `None` for the root.
    pub fn parent(&self) -> Option<ArtifactPath> {
        if self.is_root() {
            return None;
        }
        Some(match self.0.rfind('/') {
            Some(slash) => ArtifactPath(self.0[..slash].to_owned()),
            None => ArtifactPath::root(),
        })
    }

    /// The last segment; `None` for the root.
    pub fn file_name(&self) -> Option<&str> {
        if self.is_root() {
            return None;
        }
        Some(match self.0.rfind('/') {
            Some(slash) => &self.0[slash + 1..],
            None => &self.0,
        })
    }

    /// Whether `prefix` is a leading run of whole segments: `a/bc` does not start with `a/b`.
    pub fn starts_with(&self, prefix: &ArtifactPath) -> bool {
        self.strip_prefix(prefix).is_some()
    }

    /// The rest of the path after `prefix`, compared segment-wise; the root if they are equal.
    pub fn strip_prefix(&self, prefix: &ArtifactPath) -> Option<ArtifactPath> {
        if prefix.is_root() {
            return Some(self.clone());
        }
        let rest = self.0.strip_prefix(prefix.0.as_str())?;
        if rest.is_empty() {
            Some(ArtifactPath::root())
        } else {
            rest.strip_prefix('/')
                .map(|rest| ArtifactPath(rest.to_owned()))
        }
    }
}

impl fmt::Display for ArtifactPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for ArtifactPath {
    type Err = InvalidPath;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        ArtifactPath::parse(raw)
    }
}

impl AsRef<str> for ArtifactPath {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

fn check_characters(raw: &str) -> Result<(), InvalidPath> {
    for c in raw.chars() {
        let reason = match c {
            '\\' => InvalidPath::BACKSLASH,
            '#' | '?' | ';' => InvalidPath::URL_METACHARACTER,
            c if is_control(c) => InvalidPath::CONTROL_CHARACTER,
            c if is_lookalike(c) => InvalidPath::LOOKALIKE,
            _ => continue,
        };
        return Err(InvalidPath::new(reason));
    }
    Ok(())
}

/// Cc (C0, DEL, C1), plus the invisible characters that break a line in a log or header
/// (U+2028, U+2029) or reorder how a name displays (bidi embeddings, overrides, isolates).
fn is_control(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Characters that a normaliser downstream could turn into a character this module treats
/// as structural (`.`, `/`, `\`, `:`, `%`, `#`, `?`, `;`). Rejected anywhere in a path, not
/// only as whole segments: the rule is then simple to state and no combination of them can
/// assemble `..` or a separator; real file names almost never contain them.
///
/// The table is every code point whose NFKC form differs from it and contains one of those
/// characters (Unicode 14, computed with Python's `unicodedata`), plus the slashes Windows
/// "best fit" code-page conversion maps to `/` or `\`. Not included: U+00A5 YEN SIGN and
/// U+20A9 WON SIGN, which are `\` only in the Japanese and Korean ANSI code pages; Rust and
/// Python use the wide Windows APIs, where they stay themselves.
pub fn is_lookalike(c: char) -> bool {
    matches!(
        c,
        '\u{037E}'                     // GREEK QUESTION MARK -> ;
            | '\u{2024}'..='\u{2026}'  // ONE/TWO DOT LEADER, ELLIPSIS -> . .. ...
            | '\u{2044}'               // FRACTION SLASH (best fit -> /)
            | '\u{2047}'..='\u{2049}'  // ?? ?! !?
            | '\u{2100}' | '\u{2101}'  // a/c a/s
            | '\u{2105}' | '\u{2106}'  // c/o c/u
            | '\u{2215}' | '\u{2216}'  // DIVISION SLASH, SET MINUS (best fit -> / \)
            | '\u{2488}'..='\u{249B}'  // 1. .. 20.
            | '\u{29F5}'               // REVERSE SOLIDUS OPERATOR
            | '\u{29F8}' | '\u{29F9}'  // BIG SOLIDUS, BIG REVERSE SOLIDUS
            | '\u{2A74}'               // ::=
            | '\u{33C2}' | '\u{33C7}' | '\u{33D8}' // a.m. Co. p.m.
            | '\u{FE13}' | '\u{FE14}' | '\u{FE16}' // vertical : ; ?
            | '\u{FE19}' | '\u{FE30}'  // vertical ... ..
            | '\u{FE52}'               // SMALL FULL STOP
            | '\u{FE54}'..='\u{FE56}'  // small ; : ?
            | '\u{FE5F}' | '\u{FE68}' | '\u{FE6A}' // small # \ %
            | '\u{FF03}' | '\u{FF05}'  // fullwidth # %
            | '\u{FF0E}' | '\u{FF0F}'  // FULLWIDTH FULL STOP, FULLWIDTH SOLIDUS
            | '\u{FF1A}' | '\u{FF1B}'  // fullwidth : ;
            | '\u{FF1F}' | '\u{FF3C}'  // fullwidth ?, FULLWIDTH REVERSE SOLIDUS
            | '\u{1F100}' // 0.
    )
}

/// `%` followed by two hex digits, or IIS's `%u` followed by four. A `%` that starts
/// neither (`95%.png`) decodes to nothing and is an ordinary character.
fn has_percent_escape(raw: &str) -> bool {
    let bytes = raw.as_bytes();
    let hex = |from: usize, count: usize| {
        bytes
            .get(from..from + count)
            .is_some_and(|digits| digits.iter().all(u8::is_ascii_hexdigit))
    };
    bytes.iter().enumerate().any(|(i, &b)| {
        b == b'%'
            && (hex(i + 1, 2) || (matches!(bytes.get(i + 1), Some(b'u' | b'U')) && hex(i + 2, 4)))
    })
}

fn check_segment(segment: &str) -> Result<(), InvalidPath> {
    let reason = match segment {
        "" => InvalidPath::EMPTY_SEGMENT,
        "." => InvalidPath::DOT_SEGMENT,
        ".." => InvalidPath::DOT_DOT_SEGMENT,
        s if s.bytes().all(|b| b == b'.' || b == b' ') => InvalidPath::DOTS_AND_SPACES,
        s if s.len() > MAX_SEGMENT_BYTES => InvalidPath::SEGMENT_TOO_LONG,
        _ => return Ok(()),
    };
    Err(InvalidPath::new(reason))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::path::{Component, Path};

    fn path(raw: &str) -> ArtifactPath {
        ArtifactPath::parse(raw).unwrap_or_else(|e| panic!("{raw:?} rejected: {}", e.reason))
    }

    fn reason(raw: &str) -> &'static str {
        match ArtifactPath::parse(raw) {
            Ok(p) => panic!("{raw:?} accepted as {p:?}"),
            Err(e) => e.reason,
        }
    }

    #[test]
    fn ordinary_artifact_paths_are_accepted_unchanged() {
        for raw in [
            "1/0123abcd/artifacts/model/MLmodel",
            "docs/naïve résumé.txt",
            "my file.txt",
            ".hidden",
            "a.b/c..d/e...f",
            "a+b=c,d@e(f)'g-h_i",
            "1/r/artifacts/model:v1",
            "accuracy 95%.png",
            "100%zz",
            "日本語/données/Ελληνικά",
            "~/x",
        ] {
            assert_eq!(path(raw).as_str(), raw);
            assert_eq!(path(raw).to_string(), raw);
        }
    }

    #[test]
    fn the_empty_string_is_the_root() {
        let root = path("");
        assert!(root.is_root());
        assert_eq!(root, ArtifactPath::root());
        assert_eq!(root.segments().count(), 0);
        assert_eq!(root.parent(), None);
        assert_eq!(root.file_name(), None);
    }

    #[test]
    fn traversal_attempts_are_rejected() {
        assert_eq!(reason("../../etc/passwd"), InvalidPath::DOT_DOT_SEGMENT);
        assert_eq!(reason("a/../../x"), InvalidPath::DOT_DOT_SEGMENT);
        assert_eq!(reason(".."), InvalidPath::DOT_DOT_SEGMENT);
        assert_eq!(reason("a/.."), InvalidPath::DOT_DOT_SEGMENT);
        assert_eq!(reason("./a"), InvalidPath::DOT_SEGMENT);
        assert_eq!(reason("a/./b"), InvalidPath::DOT_SEGMENT);
        assert_eq!(reason("a/..."), InvalidPath::DOTS_AND_SPACES);
        assert_eq!(reason("a/.. /b"), InvalidPath::DOTS_AND_SPACES);
        assert_eq!(reason("a/ /b"), InvalidPath::DOTS_AND_SPACES);
    }

    #[test]
    fn absolute_paths_and_empty_segments_are_rejected() {
        assert_eq!(reason("/etc/passwd"), InvalidPath::ABSOLUTE);
        assert_eq!(reason("/"), InvalidPath::ABSOLUTE);
        assert_eq!(reason("//server/share"), InvalidPath::ABSOLUTE);
        assert_eq!(reason("a//b"), InvalidPath::EMPTY_SEGMENT);
        assert_eq!(reason("a/b/"), InvalidPath::EMPTY_SEGMENT);
    }

    #[test]
    fn schemes_drive_letters_and_backslashes_are_rejected() {
        assert_eq!(reason("file:///etc/passwd"), InvalidPath::SCHEME_OR_DRIVE);
        assert_eq!(reason("s3:bucket/key"), InvalidPath::SCHEME_OR_DRIVE);
        assert_eq!(reason("mlflow-artifacts:/x"), InvalidPath::SCHEME_OR_DRIVE);
        assert_eq!(reason("C:"), InvalidPath::SCHEME_OR_DRIVE);
        assert_eq!(reason("C:/Windows"), InvalidPath::SCHEME_OR_DRIVE);
        assert_eq!(reason("C:\\x"), InvalidPath::BACKSLASH);
        assert_eq!(reason("a\\..\\..\\x"), InvalidPath::BACKSLASH);
    }

    #[test]
    fn control_characters_are_rejected() {
        for raw in [
            "a\u{0}b",
            "a\nb",
            "a\rb",
            "a\tb",
            "a\u{7f}b",
            "a\u{85}b",
            "a\u{9b}b",
            "a\u{2028}b",
            "evil\u{202E}gnp.exe",
        ] {
            assert_eq!(reason(raw), InvalidPath::CONTROL_CHARACTER, "{raw:?}");
        }
    }

    #[test]
    fn url_metacharacters_are_rejected() {
        for raw in ["a#b", "a?b=c", "a;b", "a/b#/../../x"] {
            assert_eq!(reason(raw), InvalidPath::URL_METACHARACTER, "{raw:?}");
        }
    }

    #[test]
    fn escapes_left_after_the_routers_decode_are_rejected() {
        // `%252e%252e%252f` on the wire arrives here as `%2e%2e%2f`.
        for raw in [
            "%2e%2e%2f",
            "%2E%2E/x",
            "a%23/../../x",
            "a/%2fb",
            "%00",
            "%u002e%u002e",
            "x%5C",
        ] {
            assert_eq!(reason(raw), InvalidPath::PERCENT_ESCAPE, "{raw:?}");
        }
    }

    #[test]
    fn unicode_lookalikes_of_dots_and_slashes_are_rejected_anywhere() {
        for c in [
            '\u{2024}', '\u{2025}', '\u{FF0E}', '\u{2215}', '\u{2044}', '\u{FF0F}', '\u{FF3C}',
            '\u{FE52}', '\u{2100}', '\u{FF05}', '\u{FF1A}',
        ] {
            for raw in [format!("{c}"), format!("{c}{c}/x"), format!("a/b{c}c.txt")] {
                assert_eq!(reason(&raw), InvalidPath::LOOKALIKE, "{raw:?}");
            }
        }
    }

    #[test]
    fn limits_are_inclusive() {
        let segment = "s".repeat(MAX_SEGMENT_BYTES);
        path(&segment);
        assert_eq!(
            reason(&format!("{segment}s")),
            InvalidPath::SEGMENT_TOO_LONG
        );
        let longest = format!("{}xy", "s/".repeat(511));
        assert_eq!(longest.len(), MAX_PATH_BYTES);
        path(&longest);
        assert_eq!(reason(&format!("{longest}y")), InvalidPath::TOO_LONG);
    }

    #[test]
    fn every_reason_is_distinct() {
        let reasons = [
            InvalidPath::TOO_LONG,
            InvalidPath::SEGMENT_TOO_LONG,
            InvalidPath::CONTROL_CHARACTER,
            InvalidPath::BACKSLASH,
            InvalidPath::URL_METACHARACTER,
            InvalidPath::LOOKALIKE,
            InvalidPath::PERCENT_ESCAPE,
            InvalidPath::ABSOLUTE,
            InvalidPath::SCHEME_OR_DRIVE,
            InvalidPath::EMPTY_SEGMENT,
            InvalidPath::DOT_SEGMENT,
            InvalidPath::DOT_DOT_SEGMENT,
            InvalidPath::DOTS_AND_SPACES,
        ];
        let distinct: std::collections::HashSet<_> = reasons.iter().collect();
        assert_eq!(distinct.len(), reasons.len());
    }

    #[test]
    fn the_error_displays_as_mlflows_message() {
        assert_eq!(
            ArtifactPath::parse("../x").unwrap_err().to_string(),
            "Invalid path"
        );
    }

    #[test]
    fn a_directory_listing_may_end_in_one_slash() {
        assert_eq!(ArtifactPath::parse_dir("model/"), Ok(path("model")));
        assert_eq!(ArtifactPath::parse_dir("model"), Ok(path("model")));
        assert_eq!(ArtifactPath::parse_dir(""), Ok(ArtifactPath::root()));
        assert_eq!(
            ArtifactPath::parse_dir("/").unwrap_err().reason,
            InvalidPath::ABSOLUTE
        );
        assert_eq!(
            ArtifactPath::parse_dir("a//").unwrap_err().reason,
            InvalidPath::EMPTY_SEGMENT
        );
    }

    #[test]
    fn prefixes_are_compared_by_whole_segments() {
        let p = path("a/bc/d");
        assert!(p.starts_with(&path("a")));
        assert!(p.starts_with(&path("a/bc")));
        assert!(p.starts_with(&p));
        assert!(p.starts_with(&ArtifactPath::root()));
        assert!(!p.starts_with(&path("a/b")));
        assert!(!path("ab").starts_with(&path("a")));
        assert_eq!(p.strip_prefix(&path("a")), Some(path("bc/d")));
        assert_eq!(p.strip_prefix(&p), Some(ArtifactPath::root()));
        assert_eq!(p.strip_prefix(&path("a/b")), None);
    }

    #[test]
    fn join_parent_and_file_name_agree() {
        let run = path("1/abc/artifacts");
        let file = run.join(&path("docs/naïve résumé.txt"));
        assert_eq!(file.as_str(), "1/abc/artifacts/docs/naïve résumé.txt");
        assert_eq!(file.file_name(), Some("naïve résumé.txt"));
        assert_eq!(file.parent(), Some(path("1/abc/artifacts/docs")));
        assert_eq!(path("x").parent(), Some(ArtifactPath::root()));
        assert_eq!(ArtifactPath::root().join(&run), run);
        assert_eq!(run.join(&ArtifactPath::root()), run);
        assert_eq!(
            file.segments().collect::<Vec<_>>(),
            ["1", "abc", "artifacts", "docs", "naïve résumé.txt"]
        );
    }

    /// Strings built mostly from the pieces traversal tricks are made of.
    fn hostile() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            Just("."),
            Just(".."),
            Just("/"),
            Just("\\"),
            Just("%"),
            Just("2e"),
            Just("2f"),
            Just("5c"),
            Just("u"),
            Just(":"),
            Just("C"),
            Just("a"),
            Just("é"),
            Just(" "),
            Just("\u{0}"),
            Just("\n"),
            Just("\u{FF0E}"),
            Just("\u{2215}"),
            Just("#"),
            Just("~"),
        ];
        proptest::collection::vec(piece, 0..16).prop_map(|pieces| pieces.concat())
    }

    /// Valid paths of up to 6 short segments, so a join of two stays under the length limit.
    fn valid() -> impl Strategy<Value = ArtifactPath> {
        proptest::collection::vec("[a-zA-Z0-9 ._+=,@()'éß中-]{1,12}", 0..6)
            .prop_filter_map("a segment of only dots and spaces", |segments| {
                ArtifactPath::parse(&segments.join("/")).ok()
            })
    }

    proptest! {
        #[test]
        fn parse_never_panics(raw in any::<String>(), hostile in hostile()) {
            let _ = ArtifactPath::parse(&raw);
            let _ = ArtifactPath::parse_dir(&raw);
            let _ = ArtifactPath::parse(&hostile);
        }

        #[test]
        fn an_accepted_path_never_escapes_its_root(
            raw in prop_oneof![hostile(), any::<String>(), valid().prop_map(|p| p.0)],
        ) {
            if let Ok(p) = ArtifactPath::parse(&raw) {
                prop_assert!(!p.as_str().starts_with('/'));
                prop_assert!(!p.as_str().contains('\\'));
                for segment in p.segments() {
                    prop_assert!(!matches!(segment, "" | "." | ".."), "{:?}", segment);
                }
                let joined = Path::new("/root").join(p.as_str());
                let mut components = joined.components();
                prop_assert_eq!(components.next(), Some(Component::RootDir));
                prop_assert_eq!(components.next(), Some(Component::Normal("root".as_ref())));
                let rest: Vec<_> = components.collect();
                prop_assert!(rest.iter().all(|c| matches!(c, Component::Normal(_))), "{:?}", rest);
                prop_assert_eq!(rest.len(), p.segments().count());
            }
        }

        #[test]
        fn parsing_is_idempotent_and_join_round_trips(a in valid(), b in valid()) {
            prop_assert_eq!(ArtifactPath::parse(a.as_str()), Ok(a.clone()));
            let joined = a.join(&b);
            prop_assert_eq!(ArtifactPath::parse(joined.as_str()), Ok(joined.clone()));
            prop_assert!(joined.starts_with(&a));
            prop_assert_eq!(joined.strip_prefix(&a), Some(b.clone()));
            if let (Some(parent), Some(name)) = (joined.parent(), joined.file_name()) {
                prop_assert_eq!(parent.join(&path(name)), joined.clone());
            }
        }
    }
}
