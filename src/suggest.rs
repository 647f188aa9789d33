//! Did-you-mean for misspelt keys, enum values and versions. nodeadm's decoder is
//! case-sensitive and silently drops what it does not know (docs §1.3), so the closest valid
//! spelling is the most useful thing a finding can say.

/// Levenshtein distance on characters.
pub fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    distance_chars(&a, &b, &mut Vec::new(), &mut Vec::new())
}

/// Two-row Levenshtein with caller-owned rows, so a search over many candidates allocates once.
fn distance_chars(a: &[char], b: &[char], prev: &mut Vec<usize>, cur: &mut Vec<usize>) -> usize {
    prev.clear();
    prev.extend(0..=b.len());
    for (i, ca) in a.iter().enumerate() {
        cur.clear();
        let mut left = i + 1;
        cur.push(left);
        for (cb, (diagonal, up)) in b.iter().zip(prev.iter().zip(prev.iter().skip(1))) {
            left = (diagonal + usize::from(ca != cb)).min(up + 1).min(left + 1);
            cur.push(left);
        }
        std::mem::swap(prev, cur);
    }
    // The last row has `b.len() + 1` cells; without one nothing is close.
    prev.get(b.len()).copied().unwrap_or(usize::MAX)
}

/// The closest candidate, if it is close enough to be what the user meant. A case-only
/// difference always qualifies: nodeadm's decoder is case-sensitive.
pub fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let lower: Vec<char> = word.to_lowercase().chars().collect();
    let limit = (lower.len() / 3).max(2);
    let (mut prev, mut cur, mut cand) = (Vec::new(), Vec::new(), Vec::new());
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        cand.clear();
        cand.extend(c.chars().flat_map(char::to_lowercase));
        if cand == lower {
            return Some(c.to_string());
        }
        // Substring match: `endpoint` for `apiServerEndpoint`.
        let contains = lower.len() >= 4 && cand.windows(lower.len()).any(|w| w == lower.as_slice());
        if !contains && cand.len().abs_diff(lower.len()) > limit {
            continue;
        }
        let d = if contains { 0 } else { distance_chars(&lower, &cand, &mut prev, &mut cur) };
        if d <= limit && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_and_case_only_matches() {
        assert_eq!(did_you_mean("v1alpha", ["v1alpha1"]).as_deref(), Some("v1alpha1"));
        assert_eq!(
            did_you_mean("apiserverendpoint", ["name", "apiServerEndpoint"]).as_deref(),
            Some("apiServerEndpoint")
        );
        assert_eq!(did_you_mean("zzz", ["maxPods"]), None);
        assert_eq!(distance("kitten", "sitting"), 3);
    }
}
