//! Publishes this process's commits of each board in seq order.
//!
//! Writes that commit together (SQLite's group commit: docs/ARCHITECTURE.md) wake
//! together, and their tasks run in whatever order the runtime picks: left alone,
//! seq 8 could reach the bus before seq 7. The bus hands 8 out and drops the late 7
//! ([`crate::bus::Bus::publish`]), so every subscriber reads 7 from the log: correct,
//! but ten thousand subscribers meant ten thousand log reads for one overtaken event,
//! and 8 concurrent writers made the fan-out ~5× as costly per delivery (issue 13).
//!
//! So each seq takes its [`Turn`] when it is appended, under the board's write lock
//! (seqs are taken in order there), and is published only when no lower seq of the
//! board is still between append and publish. A turn that ends without publishing (a
//! rollback, a failed commit) lets the ones after it go. No timer: every turn ends,
//! by a publish or by a drop.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use crate::bus::Bus;
use crate::proto::v1::BoardEvent;

/// Each board's seqs between append and publish, and the bus they are published to.
pub(crate) struct Sequencer {
    bus: Arc<Bus>,
    boards: Mutex<HashMap<String, Board>>,
}

#[derive(Default)]
struct Board {
    /// Appended, not yet published or given up.
    waiting: BTreeSet<u64>,
    /// Committed, held for a lower seq still waiting.
    held: BTreeMap<u64, BoardEvent>,
}

/// One appended seq's place in its board's order.
pub(crate) struct Turn {
    sequencer: Arc<Sequencer>,
    board_id: String,
    seq: u64,
    /// `false` once published.
    open: bool,
}

impl Sequencer {
    pub(crate) fn new(bus: Arc<Bus>) -> Self {
        Sequencer {
            bus,
            boards: Mutex::default(),
        }
    }

    /// Takes `seq`'s turn; called under the board's write lock, right after the append.
    pub(crate) fn turn(self: &Arc<Self>, board_id: &str, seq: u64) -> Turn {
        let mut boards = self.boards.lock().expect("sequencer lock");
        boards.entry(board_id.to_owned()).or_default().waiting.insert(seq);
        Turn {
            sequencer: self.clone(),
            board_id: board_id.to_owned(),
            seq,
            open: true,
        }
    }

    /// Ends `seq`'s turn, holding `event` (its commit's) if one is given, and publishes
    /// every held event that now has no lower seq waiting, in order. The publishes
    /// happen under the lock so that two ends cannot interleave theirs.
    fn end(&self, board_id: &str, seq: u64, event: Option<BoardEvent>) {
        let mut boards = self.boards.lock().expect("sequencer lock");
        let Some(board) = boards.get_mut(board_id) else {
            return;
        };
        board.waiting.remove(&seq);
        if let Some(event) = event {
            board.held.insert(seq, event);
        }
        let lowest_waiting = board.waiting.first().copied().unwrap_or(u64::MAX);
        while let Some(entry) = board.held.first_entry() {
            if *entry.key() > lowest_waiting {
                break;
            }
            self.bus.publish(entry.remove());
        }
        if board.waiting.is_empty() && board.held.is_empty() {
            boards.remove(board_id);
        }
    }
}

impl Turn {
    /// The commit went through: publish its event when its turn comes (at once, unless
    /// a lower seq of the board is still on its way).
    pub(crate) fn publish(mut self, event: BoardEvent) {
        self.open = false;
        self.sequencer.end(&self.board_id, self.seq, Some(event));
    }
}

impl Drop for Turn {
    /// Ended without a publish (rolled back, the commit failed): the seqs after it no
    /// longer wait for it.
    fn drop(&mut self) {
        if self.open {
            self.sequencer.end(&self.board_id, self.seq, None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bus::{drained, event};

    #[tokio::test]
    async fn commits_that_finish_out_of_order_are_published_in_seq_order() {
        let bus = Arc::new(Bus::new(64));
        let mut rx = bus.subscribe("b1");
        let sequencer = Arc::new(Sequencer::new(bus.clone()));
        let [one, two, three, four] = [1, 2, 3, 4].map(|seq| sequencer.turn("b1", seq));
        // 3 and 2 commit first: held for 1.
        three.publish(event("b1", 3));
        two.publish(event("b1", 2));
        assert_eq!(drained(&bus, &mut rx).await, Vec::<u64>::new());
        one.publish(event("b1", 1));
        assert_eq!(drained(&bus, &mut rx).await, [1, 2, 3]);
        four.publish(event("b1", 4));
        assert_eq!(drained(&bus, &mut rx).await, [4]);
        assert!(sequencer.boards.lock().unwrap().is_empty(), "nothing left behind");
    }

    #[tokio::test]
    async fn a_turn_dropped_without_a_publish_lets_the_later_ones_go() {
        let bus = Arc::new(Bus::new(64));
        let mut rx = bus.subscribe("b1");
        let sequencer = Arc::new(Sequencer::new(bus.clone()));
        let five = sequencer.turn("b1", 5);
        let six = sequencer.turn("b1", 6);
        six.publish(event("b1", 6));
        assert_eq!(drained(&bus, &mut rx).await, Vec::<u64>::new());
        // 5 rolled back (its seq will be taken again by the next write).
        drop(five);
        assert_eq!(drained(&bus, &mut rx).await, [6]);
        assert!(sequencer.boards.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn boards_do_not_wait_for_each_other() {
        let bus = Arc::new(Bus::new(64));
        let mut rx = bus.subscribe("b2");
        let sequencer = Arc::new(Sequencer::new(bus.clone()));
        let _waiting_on_b1 = sequencer.turn("b1", 1);
        sequencer.turn("b2", 1).publish(event("b2", 1));
        assert_eq!(drained(&bus, &mut rx).await, [1]);
    }
}
