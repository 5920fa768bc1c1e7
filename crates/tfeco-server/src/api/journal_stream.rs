//! `GET /v1/journal/stream`: the journal as a stream of entries for followers (`tfeco follow`), a signed
//! read by a guardian or the operator (the journal holds sealed bids and orders), as `GET /v1/journal`.
//!
//! The answer is NDJSON (`application/x-ndjson`): one [`JournalStreamItem`] per line, the entries from
//! `from` in order (each verified as replay verifies it: checksum, chain, hash), a `head` line after each
//! page read and every [`JOURNAL_STREAM_HEARTBEAT_S`] while idle. It reads the journal itself at the
//! client's pace (a page of at most [`PAGE`] entries when the body wants more), so a slow reader holds no
//! buffer and cannot fall behind a channel: it is simply further back in the journal. While caught up it
//! looks at the journal head every [`POLL`]. With `follow=false` it ends at the head of the request. Each
//! stream holds one of the node's stream permits (shared with `/v1/events`, [`crate::events::MAX_STREAMS`]).

use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::State as AxumState;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use tfeco_api::checkpoints::{
    JournalEntryView, JournalStreamItem, JournalStreamQuery, JOURNAL_PAGE_MAX, JOURNAL_STREAM_HEARTBEAT_S,
};
use tfeco_api::ErrorCode;
use tfeco_core::AccountKey;
use tfeco_journal::{Entry, Head};
use tokio::sync::OwnedSemaphorePermit;

use crate::api::error::ApiError;
use crate::api::extract::{check_range, Query};
use crate::api::signed_read::SignedReader;
use crate::app::AppState;
use crate::events::MAX_STREAMS;

/// The content type of the stream.
pub const CONTENT_TYPE: &str = "application/x-ndjson";
/// Entries read from the journal per step.
pub const PAGE: usize = JOURNAL_PAGE_MAX as usize;
/// How often a caught-up stream looks at the journal head.
pub const POLL: Duration = Duration::from_millis(10);

/// Refuses a reader that is neither a guardian nor the operator (403 `signed_read_forbidden`).
fn authorize(app: &AppState, reader: &AccountKey) -> Result<(), ApiError> {
    let replica = app.replica.read();
    let params = replica.state().params();
    if *reader != params.operator && !params.is_guardian(reader) {
        return Err(ApiError::new(
            ErrorCode::SignedReadForbidden,
            "the journal holds sealed bids and orders: only guardians and the operator read it",
        ));
    }
    Ok(())
}

/// `GET /v1/journal/stream`.
pub async fn stream(
    AxumState(app): AxumState<AppState>,
    SignedReader(reader): SignedReader,
    Query(query): Query<JournalStreamQuery>,
) -> Result<Response, ApiError> {
    authorize(&app, &reader)?;
    let from = check_range("from", query.from, 1, u64::MAX)?.unwrap_or(1);
    let permit = app.events.streams.clone().try_acquire_owned().map_err(|_| {
        let message = format!("the node serves its maximum of {MAX_STREAMS} streams; retry later");
        ApiError::new(ErrorCode::Unavailable, message)
    })?;
    let head = app.replica.read().head();
    let cursor = Cursor {
        app,
        next: from,
        stop_at: (!query.follow.unwrap_or(true)).then_some(head.seq),
        ready: VecDeque::new(),
        last_line: Instant::now(),
        sent_head: None,
        done: false,
        _permit: permit,
    };
    let lines = futures_util::stream::unfold(cursor, Cursor::next);
    Ok(([(header::CONTENT_TYPE, CONTENT_TYPE)], Body::from_stream(lines)).into_response())
}

/// One stream's position: `next` is the first seq not sent yet.
struct Cursor {
    app: AppState,
    next: u64,
    /// The last seq to send (`follow=false`), else `None`.
    stop_at: Option<u64>,
    ready: VecDeque<Bytes>,
    /// When the last line was queued (heartbeats while idle).
    last_line: Instant,
    /// The head last announced.
    sent_head: Option<u64>,
    done: bool,
    _permit: OwnedSemaphorePermit,
}

/// One line of the stream.
fn line(item: &JournalStreamItem) -> Bytes {
    let mut text = serde_json::to_vec(item).expect("stream items serialize");
    text.push(b'\n');
    Bytes::from(text)
}

fn entry_view(e: &Entry) -> JournalEntryView {
    JournalEntryView {
        seq: e.seq,
        timestamp_ms: e.timestamp_ms,
        signer: hex::encode(e.signer),
        payload: hex::encode(&e.payload),
        signature: hex::encode(&e.signature),
        prev_hash: hex::encode(e.prev_hash),
        hash: hex::encode(e.hash),
    }
}

impl Cursor {
    /// The next line, or `None` to close: after the `head` line at `stop_at`, when the node stops or fails,
    /// or when the journal cannot be read (the client resumes from its last seq + 1).
    async fn next(mut self) -> Option<(Result<Bytes, Infallible>, Self)> {
        loop {
            if let Some(line) = self.ready.pop_front() {
                self.last_line = Instant::now();
                return Some((Ok(line), self));
            }
            if self.done || self.app.replica.read().has_failed() {
                return None;
            }
            let head = self.app.replica.read().head();
            let upto = self.stop_at.map_or(head.seq, |stop| stop.min(head.seq));
            if self.next <= upto {
                self.read_page(upto).await?;
                continue;
            }
            if self.stop_at.is_some() {
                // The last page already said where the head is; a stream with no entry says it once.
                if self.sent_head.is_none() {
                    self.queue_head(head);
                }
                self.done = true;
                continue;
            }
            let idle = self.last_line.elapsed() >= Duration::from_secs(JOURNAL_STREAM_HEARTBEAT_S);
            if idle || self.sent_head != Some(head.seq) {
                self.queue_head(head);
                continue;
            }
            tokio::time::sleep(POLL).await;
        }
    }

    fn queue_head(&mut self, head: Head) {
        self.sent_head = Some(head.seq);
        let item = JournalStreamItem::Head { head_seq: head.seq, timestamp_ms: head.timestamp_ms };
        self.ready.push_back(line(&item));
    }

    /// Reads entries `next ..= upto` (at most [`PAGE`]) and queues them with the head; `None` when the
    /// journal cannot be read (logged).
    async fn read_page(&mut self, upto: u64) -> Option<()> {
        let (app, from) = (self.app.clone(), self.next);
        let limit = usize::try_from(upto - from + 1).unwrap_or(PAGE).min(PAGE);
        let read = tokio::task::spawn_blocking(move || {
            let replica = app.replica.read();
            replica.read_entries(from, limit).map(|entries| (entries, replica.head()))
        });
        let (entries, head) = match read.await {
            Ok(Ok(page)) => page,
            Ok(Err(error)) => {
                tracing::error!(%error, "reading the journal for a stream failed");
                return None;
            }
            Err(_) => return None,
        };
        if entries.is_empty() {
            return None;
        }
        for entry in &entries {
            self.ready.push_back(line(&JournalStreamItem::Entry(entry_view(entry))));
        }
        self.next = entries.last().map_or(self.next, |e| e.seq + 1);
        self.queue_head(head);
        Some(())
    }
}
