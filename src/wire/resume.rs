//! Resume positions as text: `board-1:5,board-2:3`, the SSE `id:` of a several-board
//! stream (sent back as `Last-Event-ID`) and the "last delivered" of a WebSocket that
//! is closed for being too slow.

use std::collections::HashMap;

use crate::proto::v1::BoardSeq;

/// `[board-1 at 5, board-2 at 3]` → `board-1:5,board-2:3`.
pub fn format(positions: &[BoardSeq]) -> String {
    let mut out = String::new();
    for (i, p) in positions.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&p.board_id);
        out.push(':');
        out.push_str(&p.seq.to_string());
    }
    out
}

/// `board-1:5,board-2:3` → {board-1: 5, board-2: 3}; the raw text when unreadable. A
/// board id may itself hold `:`, so the seq is what follows the last one. Spaces
/// around an id or a seq are not part of it (`board-1:5, board-2:3`, as a person
/// writes it and as `?boards=` is read): kept, ` board-2` would name no board, and
/// that board would go live without a word about what it missed.
pub fn parse(raw: Option<&str>) -> Result<HashMap<String, u64>, String> {
    let Some(raw) = raw else { return Ok(HashMap::new()) };
    raw.split(',')
        .map(|part| {
            let (board, seq) = part.rsplit_once(':').ok_or_else(|| raw.to_owned())?;
            Ok((board.trim().to_owned(), seq.trim().parse().map_err(|_| raw.to_owned())?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(board_id: &str, seq: u64) -> BoardSeq {
        BoardSeq {
            board_id: board_id.into(),
            seq,
        }
    }

    #[test]
    fn positions_format_as_board_colon_seq_lists() {
        assert_eq!(format(&[at("board-1", 5), at("board-2", 0)]), "board-1:5,board-2:0");
        assert_eq!(format(&[at("b", 1)]), "b:1");
        assert_eq!(format(&[]), "");
    }

    #[test]
    fn multi_board_ids_parse_and_reject_garbage() {
        let map = parse(Some("board-1:5,b:oard:3")).unwrap();
        assert_eq!(map["board-1"], 5);
        assert_eq!(map["b:oard"], 3);
        assert!(parse(Some("board-1")).is_err());
        assert!(parse(Some("board-1:x")).is_err());
        assert!(parse(None).unwrap().is_empty());
    }

    #[test]
    fn spaces_around_ids_and_seqs_are_not_part_of_them() {
        let map = parse(Some("board-1:5, board-2 : 3")).unwrap();
        assert_eq!((map["board-1"], map["board-2"], map.len()), (5, 3, 2));
    }

    #[test]
    fn formatted_positions_parse_back() {
        let text = format(&[at("board-1", 5), at("a:b", 7)]);
        let map = parse(Some(&text)).unwrap();
        assert_eq!((map["board-1"], map["a:b"]), (5, 7));
    }
}
