//! Sets of ports as sorted, disjoint, inclusive intervals: the one representation that
//! firewall evaluation, the rule space and the checks share.

/// Sorted, disjoint, inclusive intervals.
pub type Intervals = Vec<(u32, u32)>;

/// Sorts intervals and merges those that overlap or touch.
pub fn merge(items: impl IntoIterator<Item = (u32, u32)>) -> Intervals {
    let mut items: Vec<(u32, u32)> = items.into_iter().collect();
    items.sort_unstable();
    let mut merged: Intervals = Vec::with_capacity(items.len());
    for (a, b) in items {
        match merged.last_mut() {
            Some(last) if a <= last.1.saturating_add(1) => last.1 = last.1.max(b),
            _ => merged.push((a, b)),
        }
    }
    merged
}

/// Whether two interval sets share a value.
pub fn overlap(a: &[(u32, u32)], b: &[(u32, u32)]) -> bool {
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if a[i].1 < b[j].0 {
            i += 1;
        } else if b[j].1 < a[i].0 {
            j += 1;
        } else {
            return true;
        }
    }
    false
}

/// `a ∩ b` and `a \ b`, both in the order of `a`.
pub fn split(a: &[(u32, u32)], b: &[(u32, u32)]) -> (Intervals, Intervals) {
    let mut inside = Vec::new();
    let mut outside = Vec::new();
    for &(lo, hi) in a {
        let mut cur = lo;
        for &(x, y) in b {
            if y < cur {
                continue;
            }
            if x > hi {
                break;
            }
            if x > cur {
                outside.push((cur, x - 1));
            }
            let end = y.min(hi);
            inside.push((x.max(cur), end));
            cur = end + 1;
            if cur > hi {
                break;
            }
        }
        if cur <= hi {
            outside.push((cur, hi));
        }
    }
    (inside, outside)
}

/// How many values the intervals hold.
pub fn count(a: &[(u32, u32)]) -> u32 {
    a.iter().map(|&(x, y)| y - x + 1).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_and_merge() {
        assert_eq!(
            split(&[(1, 10), (20, 30)], &[(5, 25)]),
            (vec![(5, 10), (20, 25)], vec![(1, 4), (26, 30)])
        );
        assert_eq!(
            merge([(20, 30), (1, 10), (11, 12), (25, 40)]),
            [(1, 12), (20, 40)]
        );
        assert!(overlap(&[(1, 5)], &[(5, 9)]) && !overlap(&[(1, 5)], &[(6, 9)]));
        assert_eq!(count(&[(1, 10), (20, 20)]), 11);
    }
}
