//! Pure validation rules for keys, ids and names, with MLflow's messages.

use crate::error::ApiError;
use crate::limits::MAX_KEY_LENGTH;

/// Checks a metric, param or tag key: MLflow's character set, a normalised
/// relative path, at most 250 characters. `what` names the key in messages
/// (`Metric name`, `Param key`, `Tag key`).
pub fn key(what: &str, key: &str) -> Result<(), ApiError> {
    if key.is_empty() {
        return Err(ApiError::missing("key"));
    }
    if key.chars().count() > MAX_KEY_LENGTH {
        return Err(ApiError::invalid(format!(
            "'{what}' exceeds the maximum length of {MAX_KEY_LENGTH} characters"
        )));
    }
    let allowed = |c: char| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ' ' | '/' | ':');
    if !key.chars().all(allowed) {
        return Err(ApiError::invalid(format!(
            "Invalid value {} for parameter 'key' supplied: Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), colon(:) and slashes (/).",
            quoted(key)
        )));
    }
    // As MLflow's `normpath` test: nothing that resolves elsewhere or starts with `..`;
    // and no segment of only dots and spaces, which Windows trims to `.` or `..`.
    let normalised = key.starts_with('/')
        || key.starts_with("..")
        || key
            .split('/')
            .any(|seg| seg.contains('.') && seg.chars().all(|c| c == '.' || c == ' '))
        || key.contains("//")
        || (key.ends_with('/') && key.len() > 1);
    if normalised {
        return Err(ApiError::invalid(format!(
            "Invalid value {} for parameter 'key' supplied: Names may be treated as files in certain cases, and must not resolve to other names when treated as such.",
            quoted(key)
        )));
    }
    Ok(())
}

/// Whether an id has the shape MLflow's ids have: `^[a-zA-Z0-9][\w\-]{0,255}$`.
fn id_shaped(id: &str) -> bool {
    let mut chars = id.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphanumeric())
        && id.len() <= 256
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Checks a run id's shape: `^[a-zA-Z0-9][\w\-]{0,255}$`. Anything else (`../../etc`) is a 400.
pub fn run_id(id: &str) -> Result<(), ApiError> {
    if id_shaped(id) {
        Ok(())
    } else {
        Err(ApiError::invalid(format!(
            "Invalid value {} for parameter 'run_id' supplied.",
            quoted(id)
        )))
    }
}

/// Checks a logged model's id (`m-<hex>`) for the shape of any MLflow id, as run ids
/// are checked: a reference to a model may name one this server never saw, but never
/// `../x` or a control character.
pub fn model_id(id: &str) -> Result<(), ApiError> {
    if id_shaped(id) {
        Ok(())
    } else {
        Err(ApiError::invalid(format!(
            "Invalid value {} for parameter 'model_id' supplied.",
            quoted(id)
        )))
    }
}

/// Characters no name may hold: C0 and C1 controls and DEL, the Unicode line and
/// paragraph separators, and the bidi embeddings, overrides and isolates that reorder
/// how a name displays.
pub fn is_control(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Parses an experiment id: a non-negative integer rendered as a string.
pub fn experiment_id(id: &str) -> Result<i64, ApiError> {
    id.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
        ApiError::invalid(format!(
            "Invalid experiment ID {}. Experiment ID must be a valid integer.",
            quoted_single(id)
        ))
    })
}

/// Truncates `value` to at most `max` characters, as MLflow does for long param and tag values.
pub fn truncate(value: &str, max: usize) -> String {
    match value.char_indices().nth(max) {
        Some((at, _)) => value[..at].to_owned(),
        None => value.to_owned(),
    }
}

/// Renders a user value for a message: JSON-quoted and shortened, so that no raw
/// control characters or megabytes of input are echoed back.
pub fn quoted(v: &str) -> String {
    let short = truncate(v, 100);
    let mut s = serde_json::to_string(&short).unwrap_or_default();
    if short.len() < v.len() {
        s.insert_str(s.len() - 1, "...");
    }
    s
}

fn quoted_single(v: &str) -> String {
    let q = quoted(v);
    format!("'{}'", &q[1..q.len() - 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_keys_pass() {
        for k in ["loss", "eval/bleu", "a.b-c_d e:f", "ünïcode"] {
            assert!(key("Metric name", k).is_ok(), "{k}");
        }
    }

    #[test]
    fn keys_that_act_as_paths_are_rejected() {
        for k in [
            "/abs", "../x", "a/../b", "a//b", "./a", "a/", ".../x", ".. /x", "a/. /b", "..a",
        ] {
            assert!(key("Metric name", k).is_err(), "{k}");
        }
    }

    #[test]
    fn keys_with_other_characters_or_too_long_are_rejected() {
        assert!(key("Metric name", "bad*key").is_err());
        assert!(key("Metric name", &"m".repeat(251)).is_err());
        assert!(key("Metric name", &"m".repeat(250)).is_ok());
    }

    #[test]
    fn run_ids_must_look_like_ids() {
        assert!(run_id("fb243102860d4076857f2770e0746216").is_ok());
        for bad in ["../../etc", "", "-a", "a b", "a/b", "a\0"] {
            assert!(run_id(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn model_ids_are_shaped_like_run_ids() {
        assert!(model_id("m-0123456789abcdef0123456789abcdef").is_ok());
        for bad in ["m-1\n", "../m-1", "m 1", "", "m-1\0"] {
            assert!(model_id(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn controls_separators_and_bidi_overrides_are_controls() {
        for c in ['\0', '\r', '\n', '\u{7f}', '\u{85}', '\u{2028}', '\u{202e}'] {
            assert!(is_control(c), "{c:?}");
        }
        assert!(!is_control('a') && !is_control(' ') && !is_control('é'));
    }

    #[test]
    fn truncation_counts_characters_not_bytes() {
        assert_eq!(truncate("äöü", 2), "äö");
        assert_eq!(truncate("ab", 5), "ab");
    }

    #[test]
    fn experiment_ids_are_non_negative_integers() {
        assert_eq!(experiment_id("12").unwrap(), 12);
        assert!(experiment_id("abc").is_err());
        assert!(experiment_id("-1").is_err());
    }
}
