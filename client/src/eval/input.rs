//! The input layout shared by BLEU and chrF: hypotheses plus reference *streams*,
//! and the errors a malformed layout produces.

/// One entry of a reference stream: a reference text, or no reference for that
/// segment in that stream (sacrebleu's `None`, JSON `null`).
///
/// Implemented for `&str`, `String` (always a reference) and their `Option`s, so
/// both `vec!["ref a", "ref b"]` and `vec![Some("ref a"), None]` are streams.
pub trait Reference {
    /// The reference text, or `None` when this stream has no reference here.
    fn text(&self) -> Option<&str>;
}

impl Reference for &str {
    fn text(&self) -> Option<&str> {
        Some(self)
    }
}

impl Reference for String {
    fn text(&self) -> Option<&str> {
        Some(self)
    }
}

impl Reference for Option<&str> {
    fn text(&self) -> Option<&str> {
        *self
    }
}

impl Reference for Option<String> {
    fn text(&self) -> Option<&str> {
        self.as_deref()
    }
}

/// Why a metric refused its input.
///
/// sacrebleu silently truncates mismatched streams; Cairn rejects them instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    /// The hypothesis list is empty.
    #[error("no hypotheses to score")]
    NoHypotheses,
    /// A reference stream does not have one entry per hypothesis.
    #[error(
        "reference stream {stream} has {found} segments, expected {expected} (one per hypothesis)"
    )]
    StreamLength {
        /// Index of the stream.
        stream: usize,
        /// Its number of entries.
        found: usize,
        /// The number of hypotheses.
        expected: usize,
    },
    /// Every stream is `None` for this segment (or there are no streams).
    #[error("segment {segment} has no reference in any stream")]
    NoReference {
        /// Index of the segment.
        segment: usize,
    },
}

/// Transposes `streams[j][i]` into the non-null references of each segment `i`, in
/// stream order.
pub(crate) fn references_by_segment<R: Reference>(
    hypothesis_count: usize,
    streams: &[Vec<R>],
) -> Result<Vec<Vec<&str>>, InputError> {
    if hypothesis_count == 0 {
        return Err(InputError::NoHypotheses);
    }
    for (stream, entries) in streams.iter().enumerate() {
        if entries.len() != hypothesis_count {
            return Err(InputError::StreamLength {
                stream,
                found: entries.len(),
                expected: hypothesis_count,
            });
        }
    }
    (0..hypothesis_count)
        .map(|segment| {
            let refs: Vec<&str> = streams.iter().filter_map(|s| s[segment].text()).collect();
            if refs.is_empty() {
                Err(InputError::NoReference { segment })
            } else {
                Ok(refs)
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_entries_are_dropped_per_segment() {
        let streams = vec![vec![Some("a"), Some("b")], vec![None, Some("c")]];
        let refs = references_by_segment(2, &streams).unwrap();
        assert_eq!(refs, vec![vec!["a"], vec!["b", "c"]]);
    }

    #[test]
    fn a_short_stream_is_rejected() {
        let streams = vec![vec!["a", "b"], vec!["c"]];
        let err = references_by_segment(2, &streams).unwrap_err();
        assert_eq!(
            err,
            InputError::StreamLength {
                stream: 1,
                found: 1,
                expected: 2
            }
        );
    }

    #[test]
    fn a_segment_without_any_reference_is_rejected() {
        let streams: Vec<Vec<Option<&str>>> = vec![vec![Some("a"), None]];
        let err = references_by_segment(2, &streams).unwrap_err();
        assert_eq!(err, InputError::NoReference { segment: 1 });
    }
}
