//! Fitting a notification into a provider's size limit (4096 bytes for APNs and FCM) by
//! shortening the human text, never by dropping ids. Pure functions.

/// The payload limit of APNs alerts and FCM messages, in bytes.
pub const MAX_PAYLOAD_BYTES: usize = 4096;

const ELLIPSIS: char = '…';

/// The payload could not be made to fit even with an empty body and a one-character title.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TooLarge {
    pub bytes: usize,
}

/// Builds a payload with `build(title, body)` and shortens the body (then the title) until
/// it serializes to at most `limit` bytes. Returns the bytes and whether text was shortened.
pub(crate) fn fit(
    limit: usize,
    title: &str,
    body: &str,
    build: impl Fn(&str, &str) -> Vec<u8>,
) -> Result<(Vec<u8>, bool), TooLarge> {
    let full = build(title, body);
    if full.len() <= limit {
        return Ok((full, false));
    }
    if let Some(bytes) = shorten(body, |short| build(title, short), limit) {
        return Ok((bytes, true));
    }
    if let Some(bytes) = shorten(title, |short| build(short, ""), limit) {
        return Ok((bytes, true));
    }
    Err(TooLarge {
        bytes: build("", "").len(),
    })
}

/// The longest shortening of `text` (by whole characters, ending in "…") whose payload fits.
fn shorten(text: &str, build: impl Fn(&str) -> Vec<u8>, limit: usize) -> Option<Vec<u8>> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    // Binary search over how many characters to keep: the payload grows with the count.
    let (mut low, mut high) = (0usize, chars.len());
    let mut best = None;
    while low <= high {
        let keep = low + (high - low) / 2;
        let candidate = build(&truncated(text, &chars, keep));
        if candidate.len() <= limit {
            best = Some(keep);
            low = keep + 1;
        } else if keep == 0 {
            break;
        } else {
            high = keep - 1;
        }
    }
    best.map(|keep| build(&truncated(text, &chars, keep)))
}

/// The first `keep` characters of `text`, cut back to a word boundary when one is close,
/// followed by an ellipsis.
fn truncated(text: &str, chars: &[(usize, char)], keep: usize) -> String {
    if keep == 0 {
        return String::new();
    }
    let end = chars.get(keep).map_or(text.len(), |(at, _)| *at);
    let mut head = &text[..end];
    if let Some(space) = head.rfind(char::is_whitespace)
        && head.len() - space <= 24
        && space > 0
    {
        head = &head[..space];
    }
    let mut out = head.trim_end().to_owned();
    out.push(ELLIPSIS);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(title: &str, body: &str) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({"t": title, "b": body})).unwrap_or_default()
    }

    #[test]
    fn short_payloads_are_untouched() {
        let (bytes, shortened) = fit(100, "Title", "Body", build).unwrap();
        assert_eq!(bytes, build("Title", "Body"));
        assert!(!shortened);
    }

    #[test]
    fn a_long_body_is_cut_at_a_word_with_an_ellipsis_and_fits_exactly_under_the_limit() {
        let body = "fridge temperature overdue ".repeat(50);
        let (bytes, shortened) = fit(200, "Title", &body, build).unwrap();
        assert!(shortened);
        assert!(bytes.len() <= 200);
        let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        let cut = value["b"].as_str().unwrap();
        assert!(
            cut.ends_with("overdue…") || cut.ends_with("fridge…") || cut.ends_with("temperature…"),
            "{cut}"
        );
    }

    #[test]
    fn multibyte_and_escaped_text_never_exceeds_the_limit() {
        let body = "é\"\\— ".repeat(1000);
        for limit in [60, 61, 97, 128, 513] {
            let (bytes, _) = fit(limit, "T", &body, build).unwrap();
            assert!(bytes.len() <= limit, "{} > {limit}", bytes.len());
            assert!(std::str::from_utf8(&bytes).is_ok());
        }
    }

    #[test]
    fn a_huge_title_is_shortened_after_the_body_is_gone() {
        let title = "x".repeat(500);
        let (bytes, shortened) = fit(100, &title, "body", build).unwrap();
        assert!(shortened && bytes.len() <= 100);
    }

    #[test]
    fn a_payload_whose_fixed_part_is_too_large_is_refused() {
        assert_eq!(
            fit(5, "T", "B", build),
            Err(TooLarge {
                bytes: build("", "").len()
            })
        );
    }
}
