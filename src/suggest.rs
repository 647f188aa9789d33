//! Did-you-mean for misspelt keys, enum values and versions. nodeadm's decoder is
//! case-sensitive and silently drops what it does not know (docs §1.3), so the closest valid
//! spelling is the most useful thing a finding can say.

/// Levenshtein distance on characters, for did-you-mean.
pub fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The closest candidate, if it is close enough to be what the user meant. A case-only
/// difference always qualifies: nodeadm's decoder is case-sensitive.
pub fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let lower = word.to_lowercase();
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        if c.to_lowercase() == lower {
            return Some(c.to_string());
        }
        let d = distance(&lower, &c.to_lowercase());
        if best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    let (d, c) = best?;
    let limit = (word.chars().count() / 3).max(2);
    (d <= limit || c.to_lowercase().contains(&lower) && lower.len() >= 4).then(|| c.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_and_case_only_matches() {
        assert_eq!(did_you_mean("v1alpha", ["v1alpha1"]).as_deref(), Some("v1alpha1"));
        assert_eq!(did_you_mean("apiserverendpoint", ["name", "apiServerEndpoint"]).as_deref(), Some("apiServerEndpoint"));
        assert_eq!(did_you_mean("zzz", ["maxPods"]), None);
        assert_eq!(distance("kitten", "sitting"), 3);
    }
}
