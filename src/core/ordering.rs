//! Dense 0-based ordering of tasks within a list. Pure functions over the list's task
//! ids in order; the core applies their result to the store.

use super::validate::Position;
use crate::proto::v1::TaskPosition;

/// Where `position` lands in a list that has `len` tasks: anything past the end clamps
/// to the end, and no position at all appends.
pub fn clamp(position: Option<Position>, len: usize) -> usize {
    position.map_or(len, |p| p.index().min(len))
}

/// Puts `id` at `position` in a list whose order is `before` (taking it out first if
/// it is there): its new index, and the siblings that shifted.
pub fn place(list_id: &str, before: &[String], id: &str, position: Option<Position>) -> (usize, Vec<TaskPosition>) {
    let mut after: Vec<String> = before.iter().filter(|t| *t != id).cloned().collect();
    let index = clamp(position, after.len());
    after.insert(index, id.to_owned());
    (index, shifted(list_id, before, &after, id))
}

/// Takes `id` out of a list whose order is `before`: the siblings that closed the gap.
pub fn remove(list_id: &str, before: &[String], id: &str) -> Vec<TaskPosition> {
    let after: Vec<String> = before.iter().filter(|t| *t != id).cloned().collect();
    shifted(list_id, before, &after, id)
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
        s.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn clamp_appends_and_clamps_past_the_end() {
        let at = |p| Position::parse(Some(p)).unwrap();
        assert_eq!(clamp(None, 3), 3);
        assert_eq!(clamp(at(0), 3), 0);
        assert_eq!(clamp(at(2), 3), 2);
        assert_eq!(clamp(at(99), 3), 3);
    }

    #[test]
    fn place_inserts_or_reorders_and_reports_shifted_siblings() {
        let at = |p| Position::parse(Some(p)).unwrap();
        let before = ids(&["a", "b", "c"]);
        // a newcomer at the front shifts everyone
        let (index, s) = place("l", &before, "x", at(0));
        assert_eq!(index, 0);
        let got: Vec<_> = s.iter().map(|p| (p.task_id.as_str(), p.position)).collect();
        assert_eq!(got, vec![("a", 1), ("b", 2), ("c", 3)]);
        // moving c to the front within the list
        let (index, s) = place("l", &before, "c", at(0));
        assert_eq!(index, 0);
        let got: Vec<_> = s.iter().map(|p| (p.task_id.as_str(), p.position)).collect();
        assert_eq!(got, vec![("a", 1), ("b", 2)]);
        // a position past the end of the list without the task clamps to its end
        let (index, s) = place("l", &before, "a", at(9));
        assert_eq!(index, 2);
        assert_eq!(s.len(), 2);
    }

    #[test]
    fn remove_closes_the_gap() {
        let s = remove("l", &ids(&["a", "b", "c"]), "a");
        let got: Vec<_> = s.iter().map(|p| (p.task_id.as_str(), p.position)).collect();
        assert_eq!(got, vec![("b", 0), ("c", 1)]);
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
