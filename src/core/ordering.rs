//! Dense 0-based ordering of tasks within a list. Pure functions over the list's task
//! ids in order; the core applies their result to the store.

use crate::proto::v1::TaskPosition;

/// Where `position` lands in a list that has `len` tasks: negative values are rejected
/// by validation before this, anything past the end clamps to the end, and no position
/// at all appends.
pub fn clamp(position: Option<i32>, len: usize) -> usize {
    match position {
        Some(p) => usize::try_from(p).unwrap_or(0).min(len),
        None => len,
    }
}

/// Every task of `after` whose index differs from its index in `before` (or that is new
/// to the list), except `skip`: the siblings a change shifted, at their new places.
pub fn shifted(list_id: &str, before: &[String], after: &[String], skip: &str) -> Vec<TaskPosition> {
    after
        .iter()
        .enumerate()
        .filter(|(i, id)| id.as_str() != skip && before.get(*i) != Some(*id))
        .map(|(i, id)| TaskPosition {
            task_id: id.clone(),
            list_id: list_id.to_owned(),
            position: position_of(i),
        })
        .collect()
}

/// List positions are bounded by the number of tasks in a list, far below `i32::MAX`.
pub fn position_of(index: usize) -> i32 {
    i32::try_from(index).expect("list longer than i32::MAX")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(s: &[&str]) -> Vec<String> {
        s.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn clamp_appends_and_clamps_past_the_end() {
        assert_eq!(clamp(None, 3), 3);
        assert_eq!(clamp(Some(0), 3), 0);
        assert_eq!(clamp(Some(2), 3), 2);
        assert_eq!(clamp(Some(99), 3), 3);
        assert_eq!(clamp(Some(-1), 3), 0);
    }

    #[test]
    fn shifted_reports_only_moved_siblings() {
        let before = ids(&["a", "b", "c", "d"]);
        // move d to the front
        let after = ids(&["d", "a", "b", "c"]);
        let s = shifted("l", &before, &after, "d");
        let got: Vec<_> = s.iter().map(|p| (p.task_id.as_str(), p.position)).collect();
        assert_eq!(got, vec![("a", 1), ("b", 2), ("c", 3)]);
    }

    #[test]
    fn shifted_after_removal_closes_the_gap() {
        let before = ids(&["a", "b", "c"]);
        let after = ids(&["a", "c"]);
        let s = shifted("l", &before, &after, "b");
        assert_eq!(s.len(), 1);
        assert_eq!((s[0].task_id.as_str(), s[0].position), ("c", 1));
    }

    #[test]
    fn shifted_is_empty_when_nothing_moves() {
        let before = ids(&["a", "b"]);
        assert!(shifted("l", &before, &before, "x").is_empty());
        let appended = ids(&["a", "b", "x"]);
        assert!(shifted("l", &before, &appended, "x").is_empty());
    }
}
