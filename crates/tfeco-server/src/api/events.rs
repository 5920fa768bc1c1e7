//! Handlers of the event log: `GET /v1/events` (server-sent events: the backlog from the index, then live,
//! without gap or repeat) and `GET /v1/accounts/{key}/events` (an account's history, newest first).

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State as AxumState;
use axum::http::{HeaderMap, Uri};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use tfeco_api::events::{
    history_path, AccountEventsPage, AccountEventsQuery, EventEntry, DEFAULT_HISTORY_LIMIT, KEEP_ALIVE_S,
    MAX_HISTORY_LIMIT, STREAM_EVENT,
};
use tfeco_api::ErrorCode;
use tfeco_core::AccountKey;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{broadcast, OwnedSemaphorePermit};

use crate::api::error::ApiError;
use crate::api::extract::{check_range, PathParam, Query};
use crate::app::AppState;
use crate::events::{EventLog, Filter, IndexedEntry, StreamQuery, MAX_STREAMS};

/// Entries read from the index per step of the backlog.
const BACKLOG_PAGE: usize = 256;

fn index_failed(error: &impl std::fmt::Display) -> ApiError {
    tracing::error!(%error, "reading the event index failed");
    ApiError::new(ErrorCode::Unavailable, "the event index cannot be read now")
}

/// `GET /v1/events`.
pub async fn stream(
    AxumState(app): AxumState<AppState>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, ApiError> {
    let query = StreamQuery::parse(uri.query().unwrap_or(""))
        .map_err(|error| ApiError::invalid_query(&error.param, error.reason))?;
    let last_event_id = match headers.get("last-event-id") {
        None => None,
        Some(value) => {
            Some(value.to_str().ok().and_then(|v| v.trim().parse::<u64>().ok()).ok_or_else(|| {
                ApiError::new(
                    ErrorCode::InvalidRequest,
                    "Last-Event-ID: expected the journal seq of the last message",
                )
            })?)
        }
    };
    let head = app.replica.read().head_seq();
    let after = last_event_id.or(query.from.map(|from| from.saturating_sub(1))).unwrap_or(head);
    let permit = app.events.streams.clone().try_acquire_owned().map_err(|_| {
        let message = format!("the node serves its maximum of {MAX_STREAMS} event streams; retry later");
        ApiError::new(ErrorCode::Unavailable, message)
    })?;
    let cursor = Cursor {
        live: app.events.subscribe(),
        log: app.events.clone(),
        filter: Arc::new(query.filter),
        after,
        stop_at: (!query.follow).then_some(head),
        phase: Phase::Backlog,
        ready: VecDeque::new(),
        _permit: permit,
    };
    let messages = futures_util::stream::unfold(cursor, Cursor::next);
    let keep_alive = KeepAlive::new().interval(Duration::from_secs(KEEP_ALIVE_S)).text("keep-alive");
    Ok(Sse::new(messages).keep_alive(keep_alive).into_response())
}

enum Phase {
    /// Reading from the index.
    Backlog,
    /// Following the live channel; `caught_up` once a live entry was received.
    Live { caught_up: bool },
}

/// One stream's position: every entry up to `after` has been considered.
struct Cursor {
    live: broadcast::Receiver<Arc<IndexedEntry>>,
    log: EventLog,
    filter: Arc<Filter>,
    after: u64,
    stop_at: Option<u64>,
    phase: Phase,
    ready: VecDeque<EventEntry>,
    _permit: OwnedSemaphorePermit,
}

impl Cursor {
    /// The next message, or `None` to close: at `stop_at`, when the log stops, or when the client fell
    /// behind the live channel after catching up (it resumes with `Last-Event-ID`).
    async fn next(mut self) -> Option<(Result<SseEvent, Infallible>, Self)> {
        loop {
            if let Some(entry) = self.ready.pop_front() {
                return Some((Ok(message(&entry)), self));
            }
            if self.stop_at.is_some_and(|stop| self.after >= stop) {
                return None;
            }
            match self.phase {
                Phase::Backlog => self.read_backlog().await?,
                Phase::Live { caught_up } => match self.live.recv().await {
                    Ok(entry) => {
                        self.phase = Phase::Live { caught_up: true };
                        if entry.seq > self.after && self.stop_at.is_none_or(|stop| entry.seq <= stop) {
                            self.after = entry.seq;
                            self.ready.extend(entry.view(&self.filter));
                        }
                    }
                    Err(RecvError::Lagged(_)) if !caught_up => self.phase = Phase::Backlog,
                    Err(RecvError::Lagged(_) | RecvError::Closed) => return None,
                },
            }
        }
    }

    /// One page of the backlog; at its end, the live phase. `None` when the index cannot be read.
    async fn read_backlog(&mut self) -> Option<()> {
        let (store, filter, after) = (self.log.store.clone(), self.filter.clone(), self.after);
        let upto = self.stop_at.unwrap_or(u64::MAX);
        let read = tokio::task::spawn_blocking(move || store.page_after(after, upto, &filter, BACKLOG_PAGE));
        let (entries, head) = match read.await {
            Ok(Ok(page)) => page,
            Ok(Err(error)) => {
                index_failed(&error);
                return None;
            }
            Err(_) => return None,
        };
        let full = entries.len() == BACKLOG_PAGE;
        for entry in &entries {
            self.after = entry.seq;
            self.ready.extend(entry.view(&self.filter));
        }
        if !full {
            self.after = self.after.max(head.min(upto));
            self.phase = Phase::Live { caught_up: false };
        }
        Some(())
    }
}

fn message(entry: &EventEntry) -> SseEvent {
    let data = serde_json::to_string(entry).expect("events serialize");
    SseEvent::default().id(entry.seq.to_string()).event(STREAM_EVENT).data(data)
}

/// `GET /v1/accounts/{key}/events`.
pub async fn account_events(
    AxumState(app): AxumState<AppState>,
    key: PathParam,
    Query(query): Query<AccountEventsQuery>,
) -> Result<Json<AccountEventsPage>, ApiError> {
    let account: AccountKey = key.0.parse()?;
    let limit = check_range("limit", query.limit, 1, MAX_HISTORY_LIMIT)?.unwrap_or(DEFAULT_HISTORY_LIMIT);
    let before = query.before.unwrap_or(u64::MAX);
    let filter = Filter::account(&account);
    let store = app.events.store.clone();
    let read_filter = filter.clone();
    let (entries, head) =
        tokio::task::spawn_blocking(move || store.page_before(before, &read_filter, limit as usize + 1))
            .await
            .map_err(|error| index_failed(&error))?
            .map_err(|error| index_failed(&error))?;
    let more = entries.len() > limit as usize;
    let entries: Vec<EventEntry> =
        entries.iter().take(limit as usize).filter_map(|e| e.view(&filter)).collect();
    let next_before = more.then(|| entries.last().map(|e| e.seq)).flatten();
    Ok(Json(AccountEventsPage {
        account,
        next_page: next_before.map(|before| history_path(&account, before, limit)),
        next_before,
        entries,
        indexed_through: head,
    }))
}
