//! [`PgCluster`]: this instance's part in a cluster of instances sharing one
//! PostgreSQL database. Hints and room signals travel over LISTEN/NOTIFY
//! ([`super::notify`], two connections of its own); leases and viewers are rows
//! ([`super::lease`], through the store's pool).

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgPool};
use sqlx::{Connection, PgConnection};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::lease::Leases;
use super::notify::{self, Announcer, Inbox};
use crate::proto::v1::Viewer;
use crate::store::Result;
use crate::store::cluster::{Cluster, Hint, RemoteViewer, RoomKind, RoomSignal};

pub struct PgCluster {
    instance_id: String,
    announcer: Arc<Announcer>,
    hints: Mutex<Option<mpsc::Receiver<Hint>>>,
    rooms: Mutex<Option<mpsc::Receiver<RoomSignal>>>,
    leases: Leases,
    /// The sending and the listening task; they end with the cluster.
    tasks: [JoinHandle<()>; 2],
}

/// What this instance's connections call themselves (`pg_stat_activity.application_name`),
/// so an operator can tell which instance holds which connection.
pub fn application_name(role: &str, instance_id: &str) -> String {
    format!("boardcast-{role}-{instance_id}")
}

impl PgCluster {
    /// Joins the cluster on the database `url` names: opens the listening connection
    /// (listening before this returns, so whatever is sent after it is heard) and the
    /// sending one. `pool` is for leases and viewers.
    pub async fn start(url: &str, pool: PgPool, metrics: Arc<crate::metrics::Metrics>) -> Result<Arc<PgCluster>> {
        let options: PgConnectOptions = url.parse()?;
        let instance_id = uuid::Uuid::new_v4().to_string();
        let listen_options = options
            .clone()
            .application_name(&application_name("listen", &instance_id));
        let notify_options = options.application_name(&application_name("notify", &instance_id));
        let listener = notify::open_listener(&listen_options).await?;
        let sender = PgConnection::connect_with(&notify_options).await?;
        let (hints_tx, hints) = mpsc::channel(notify::RECEIVED);
        let (rooms_tx, rooms) = mpsc::channel(notify::RECEIVED);
        let inbox = Inbox {
            instance_id: instance_id.clone(),
            hints: hints_tx,
            rooms: rooms_tx,
            metrics,
        };
        let announcer = Arc::new(Announcer::new(instance_id.clone()));
        let sending = {
            let announcer = announcer.clone();
            tokio::spawn(async move { announcer.run(notify_options, sender).await })
        };
        let listening = tokio::spawn(notify::listen(listen_options, listener, inbox));
        Ok(Arc::new(PgCluster {
            leases: Leases::new(pool, instance_id.clone()),
            instance_id,
            announcer,
            hints: Mutex::new(Some(hints)),
            rooms: Mutex::new(Some(rooms)),
            tasks: [sending, listening],
        }))
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

#[async_trait]
impl Cluster for PgCluster {
    fn instance_id(&self) -> &str {
        &self.instance_id
    }

    fn announce(&self, board_id: &str, seq: u64) {
        self.announcer.announce(board_id, seq);
    }

    fn send_room(&self, board_id: &str, kind: RoomKind) {
        self.announcer.send_room(board_id, &kind);
    }

    fn hints(&self) -> Option<mpsc::Receiver<Hint>> {
        self.hints.lock().expect("hints lock").take()
    }

    fn rooms(&self) -> Option<mpsc::Receiver<RoomSignal>> {
        self.rooms.lock().expect("rooms lock").take()
    }

    async fn renew(&self) -> Result<bool> {
        self.leases.renew().await
    }

    async fn add_viewer(&self, board_id: &str, viewer: &Viewer) -> Result<()> {
        self.leases.add_viewer(board_id, viewer).await
    }

    async fn remove_viewer(&self, board_id: &str, user_id: &str) -> Result<()> {
        self.leases.remove_viewer(board_id, user_id).await
    }

    async fn remote_viewers(&self, board_ids: &[String]) -> Result<Vec<RemoteViewer>> {
        self.leases.remote_viewers(board_ids).await
    }

    async fn leave(&self) -> Result<()> {
        self.leases.leave().await
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::time::Duration;

    use super::*;
    use crate::store::postgres::scratch::test_database;

    /// Two instances on one scratch database.
    async fn pair() -> Option<(String, PgPool, Arc<PgCluster>, Arc<PgCluster>)> {
        let url = test_database().await?;
        let pool = PgPool::connect(&url).await.unwrap();
        sqlx::migrate!("./migrations/postgres").run(&pool).await.unwrap();
        let a = PgCluster::start(&url, pool.clone(), Arc::default()).await.unwrap();
        let b = PgCluster::start(&url, pool.clone(), Arc::default()).await.unwrap();
        Some((url, pool, a, b))
    }

    async fn recv<T>(rx: &mut mpsc::Receiver<T>) -> T {
        tokio::time::timeout(Duration::from_secs(5), rx.recv())
            .await
            .expect("a message within 5 s")
            .expect("the channel is open")
    }

    /// Hints until every board in `want` reached its seq (at most 5 s).
    async fn until_seen(rx: &mut mpsc::Receiver<Hint>, want: &HashMap<String, u64>) -> (HashMap<String, u64>, usize) {
        let mut seen: HashMap<String, u64> = HashMap::new();
        let mut count = 0;
        while want.iter().any(|(b, s)| seen.get(b) < Some(s)) {
            match recv(rx).await {
                Hint::Seq { board_id, seq } => {
                    count += 1;
                    let known = seen.entry(board_id).or_default();
                    *known = (*known).max(seq);
                }
                Hint::Reconnected => panic!("unexpected Reconnected"),
            }
        }
        (seen, count)
    }

    /// How many notifications arrive on `channel` within `quiet` of each other.
    async fn count_notifications(listener: &mut sqlx::postgres::PgListener, quiet: Duration) -> usize {
        let mut n = 0;
        while let Ok(notification) = tokio::time::timeout(quiet, listener.recv()).await {
            notification.unwrap();
            n += 1;
        }
        n
    }

    #[tokio::test]
    async fn hints_reach_the_other_instance_coalesced_and_not_the_sender() {
        let Some((url, _pool, a, b)) = pair().await else { return };
        let (mut a_hints, mut b_hints) = (a.hints().unwrap(), b.hints().unwrap());
        assert!(a.hints().is_none(), "taken once");
        let mut raw = sqlx::postgres::PgListener::connect(&url).await.unwrap();
        raw.listen(notify::HINTS).await.unwrap();
        let mut want = HashMap::new();
        // Announced without yielding to the sender: all of it is one batch.
        for i in 0..1000u64 {
            let board = format!("board-{}", i % 50);
            a.announce(&board, i + 1);
            want.insert(board, i + 1);
        }
        let (seen, count) = until_seen(&mut b_hints, &want).await;
        assert_eq!(seen, want, "every board's max, and nothing else");
        assert_eq!(count, 50, "coalesced: one hint per board");
        let notifications = count_notifications(&mut raw, Duration::from_millis(300)).await;
        assert_eq!(notifications, 1, "50 short hints fit one payload");
        // b announces one board: a hears it, and nothing of its own came back to a.
        b.announce("from-b", 9);
        assert_eq!(
            recv(&mut a_hints).await,
            Hint::Seq {
                board_id: "from-b".into(),
                seq: 9
            }
        );
        assert!(a_hints.try_recv().is_err(), "a never hears its own 1000 hints");
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(b_hints.try_recv().is_err(), "b never hears its own hint");
    }

    #[tokio::test]
    async fn a_batch_larger_than_one_payload_is_split_and_arrives_whole() {
        let Some((url, _pool, a, b)) = pair().await else { return };
        let mut b_hints = b.hints().unwrap();
        let mut raw = sqlx::postgres::PgListener::connect(&url).await.unwrap();
        raw.listen(notify::HINTS).await.unwrap();
        // About 60 bytes a line: 600 boards are about 36 kB, five payloads or more.
        let want: HashMap<String, u64> = (0..600u64).map(|i| (format!("board-{i:0>50}"), i + 1)).collect();
        // Queued together, so they leave in one batch.
        for (board, seq) in &want {
            a.announce(board, *seq);
        }
        let (seen, count) = until_seen(&mut b_hints, &want).await;
        assert_eq!(seen, want);
        assert_eq!(count, 600, "one hint per board");
        let notifications = count_notifications(&mut raw, Duration::from_millis(300)).await;
        // 600 lines of about 60 bytes under a 37-byte header: about 130 lines a payload.
        assert_eq!(notifications, 5, "split into as few payloads as fit");
    }

    #[tokio::test]
    async fn room_signals_of_each_kind_round_trip() {
        let Some((_, _pool, a, b)) = pair().await else { return };
        let mut b_rooms = b.rooms().unwrap();
        let mut a_rooms = a.rooms().unwrap();
        let viewer = Viewer {
            user_id: "alice".into(),
            name: "Alice".into(),
            color: "#f00".into(),
        };
        let kinds = [
            RoomKind::Joined(viewer.clone()),
            RoomKind::Left {
                user_id: "alice".into(),
                name: "Alice".into(),
            },
            // The same signal twice in one batch: both arrive.
            RoomKind::Joined(viewer.clone()),
            RoomKind::Frame {
                except_user: Some("alice".into()),
                frame: bytes::Bytes::from_static(br#"{"type":"typing","userId":"alice"}"#),
            },
            RoomKind::Frame {
                except_user: None,
                frame: bytes::Bytes::from_static(br#"{"type":"cursor","x":1}"#),
            },
        ];
        for kind in &kinds {
            a.send_room("board-1", kind.clone());
        }
        // Too large for a notification: dropped, and the next one still arrives.
        a.send_room(
            "board-1",
            RoomKind::Frame {
                except_user: None,
                frame: "x".repeat(notify::MAX_PAYLOAD).into(),
            },
        );
        a.send_room(
            "board-2",
            RoomKind::Left {
                user_id: "bob".into(),
                name: "Bob".into(),
            },
        );
        for kind in kinds {
            let signal = recv(&mut b_rooms).await;
            assert_eq!(
                (signal.from.as_str(), signal.board_id.as_str()),
                (a.instance_id(), "board-1")
            );
            assert_eq!(signal.kind, kind);
        }
        let last = recv(&mut b_rooms).await;
        assert_eq!(last.board_id, "board-2", "the oversized frame was dropped");
        assert!(a_rooms.try_recv().is_err(), "a never hears its own signals");
    }

    #[tokio::test]
    async fn malformed_payloads_are_skipped_and_listening_goes_on() {
        let Some((_, pool, a, b)) = pair().await else { return };
        let (mut b_hints, mut b_rooms) = (b.hints().unwrap(), b.rooms().unwrap());
        for (channel, payload) in [
            (notify::HINTS, "someone\nboard-1 no tab"),
            (notify::HINTS, ""),
            (notify::ROOMS, "{not json"),
            (notify::ROOMS, r#"{"from":"x","n":1,"board":"b","kind":"unknown"}"#),
        ] {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(channel)
                .bind(payload)
                .execute(&pool)
                .await
                .unwrap();
        }
        a.announce("board-1", 1);
        a.send_room(
            "board-1",
            RoomKind::Left {
                user_id: "u".into(),
                name: "U".into(),
            },
        );
        assert_eq!(
            recv(&mut b_hints).await,
            Hint::Seq {
                board_id: "board-1".into(),
                seq: 1
            }
        );
        assert_eq!(recv(&mut b_rooms).await.from, a.instance_id());
    }

    async fn backend_pid(pool: &PgPool, role: &str, instance_id: &str) -> i32 {
        sqlx::query_scalar("SELECT pid FROM pg_stat_activity WHERE application_name = $1")
            .bind(application_name(role, instance_id))
            .fetch_one(pool)
            .await
            .unwrap()
    }

    async fn terminate(pool: &PgPool, pid: i32) {
        let done: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1)")
            .bind(pid)
            .fetch_one(pool)
            .await
            .unwrap();
        assert!(done, "backend {pid} terminated");
    }

    #[tokio::test]
    async fn a_killed_listening_connection_comes_back_and_says_so() {
        let Some((_, pool, a, b)) = pair().await else { return };
        let (mut b_hints, mut b_rooms) = (b.hints().unwrap(), b.rooms().unwrap());
        let pid = backend_pid(&pool, "listen", b.instance_id()).await;
        terminate(&pool, pid).await;
        assert_eq!(recv(&mut b_hints).await, Hint::Reconnected);
        let signal = recv(&mut b_rooms).await;
        assert_eq!((signal.kind, signal.board_id.as_str()), (RoomKind::Reconnected, ""));
        let again = backend_pid(&pool, "listen", b.instance_id()).await;
        assert_ne!(again, pid, "a new connection");
        a.announce("board-1", 5);
        assert_eq!(
            recv(&mut b_hints).await,
            Hint::Seq {
                board_id: "board-1".into(),
                seq: 5
            },
            "listening again on the new connection"
        );
    }

    #[tokio::test]
    async fn a_killed_sending_connection_is_opened_again_for_later_hints() {
        let Some((_, pool, a, b)) = pair().await else { return };
        let mut b_hints = b.hints().unwrap();
        let pid = backend_pid(&pool, "notify", a.instance_id()).await;
        terminate(&pool, pid).await;
        // The first batch after the kill may be lost with the connection; a later one
        // goes out on a new connection.
        let mut seq = 0;
        let got = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                seq += 1;
                a.announce("board-1", seq);
                if let Ok(Some(hint)) = tokio::time::timeout(Duration::from_millis(200), b_hints.recv()).await {
                    return hint;
                }
            }
        })
        .await
        .expect("a hint within 10 s of the kill");
        assert!(
            matches!(got, Hint::Seq { ref board_id, .. } if board_id == "board-1"),
            "{got:?}"
        );
        assert_ne!(backend_pid(&pool, "notify", a.instance_id()).await, pid);
    }
}
