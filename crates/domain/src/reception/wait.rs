//! A patient's place in line and how long they will probably wait.
//!
//! Position is derived, not stored: the line is the department's waiting visits ordered by
//! their queue order, and a patient's position is one plus the number of waiting orders
//! before theirs. One sorted list per department serves every watcher by binary search, so a
//! change costs one read however many patients watch.

/// Used while a department has no recent consultation to learn from.
pub const DEFAULT_CONSULTATION_SECS: u64 = 600;

/// The 1-based position of `order` among the sorted waiting `orders`, and the people ahead;
/// `None` if `order` is not waiting.
pub fn position_in(orders: &[i64], order: i64) -> Option<(u64, u64)> {
    let ahead = orders.partition_point(|o| *o < order);
    (orders.get(ahead) == Some(&order)).then_some((ahead as u64 + 1, ahead as u64))
}

/// The typical length of a consultation from recent ones (seconds): the median, which one
/// forgotten "complete" press (a five-hour consultation) cannot drag. Durations outside
/// 30 s … 3 h are ignored as mistakes; with none left, [`DEFAULT_CONSULTATION_SECS`].
pub fn typical_consultation_secs(recent: &[u64]) -> u64 {
    let mut plausible: Vec<u64> = recent
        .iter()
        .copied()
        .filter(|s| (30..=3 * 3600).contains(s))
        .collect();
    if plausible.is_empty() {
        return DEFAULT_CONSULTATION_SECS;
    }
    plausible.sort_unstable();
    plausible[plausible.len() / 2]
}

/// The estimated wait for someone with `ahead` people before them, `typical` seconds per
/// consultation and `doctors` doctors seeing this line (at least one).
pub fn estimate_wait_secs(ahead: u64, typical: u64, doctors: u64) -> u64 {
    ahead.saturating_mul(typical) / doctors.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn position_counts_the_waiting_orders_before_mine() {
        let orders = [3, 5, 9, 12];
        assert_eq!(position_in(&orders, 3), Some((1, 0)));
        assert_eq!(position_in(&orders, 9), Some((3, 2)));
        assert_eq!(position_in(&orders, 4), None, "not waiting");
        assert_eq!(position_in(&[], 1), None);
    }

    #[test]
    fn the_typical_consultation_is_the_median_of_plausible_ones() {
        assert_eq!(typical_consultation_secs(&[]), DEFAULT_CONSULTATION_SECS);
        assert_eq!(typical_consultation_secs(&[300, 600, 18_000, 420, 5]), 420);
        assert_eq!(estimate_wait_secs(4, 300, 2), 600);
        assert_eq!(estimate_wait_secs(4, 300, 0), 1200, "at least one doctor");
    }

    proptest! {
        #[test]
        fn positions_are_one_to_n_in_order(mut orders in proptest::collection::btree_set(1i64..10_000, 0..200)) {
            let sorted: Vec<i64> = std::mem::take(&mut orders).into_iter().collect();
            for (i, o) in sorted.iter().enumerate() {
                prop_assert_eq!(position_in(&sorted, *o), Some((i as u64 + 1, i as u64)));
            }
        }
    }
}
