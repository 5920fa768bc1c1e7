//! Handlers of guardian checkpoints and the journal read: `GET`/`POST /v1/checkpoints`,
//! `POST /v1/checkpoints/{seq}/signatures`, `GET /v1/journal` (a signed read by a guardian or the operator:
//! the journal holds sealed bids and orders) and `GET /v1/journal/genesis`.
//!
//! Locks are taken in the writer's order: the replica, then the checkpoint store.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State as AxumState;
use axum::Json;
use tfeco_api::checkpoints::{
    CheckpointSignatureRequest, CheckpointView, CheckpointsView, JournalEntryView, JournalGenesisView,
    JournalPage, JournalQuery, ProposedBy, JOURNAL_PAGE_MAX,
};
use tfeco_api::ErrorCode;
use tfeco_core::{AccountKey, Rejection, Role};

use crate::api::error::ApiError;
use crate::api::extract::{check_range, PathParam, Query};
use crate::api::signed_read::SignedReader;
use crate::app::AppState;
use crate::checkpoints::{self, CheckpointError, GuardianSet, SharedCheckpoints};

/// The store, or 404 `checkpoints_disabled`.
fn store(app: &AppState) -> Result<SharedCheckpoints, ApiError> {
    app.checkpoints.clone().ok_or_else(|| {
        ApiError::new(
            ErrorCode::CheckpointsDisabled,
            "this node runs without a data directory: no checkpoints",
        )
    })
}

/// The API error of a checkpoint operation.
fn checkpoint_error(error: CheckpointError) -> ApiError {
    let code = match &error {
        CheckpointError::NotFound(_) => ErrorCode::CheckpointNotFound,
        CheckpointError::NotGuardian(_) => {
            return ApiError::from_rejection(&Rejection::NotAuthorized { role: Role::Guardian })
        }
        CheckpointError::BadSignature { .. } => ErrorCode::BadSignature,
        CheckpointError::Duplicate { .. } => ErrorCode::DuplicateSignature,
        _ => ErrorCode::StorageFailed,
    };
    if code == ErrorCode::StorageFailed {
        tracing::error!(%error, "a checkpoint operation failed");
    }
    ApiError::new(code, error.to_string())
}

/// Runs blocking work (journal reads, file writes) off the async threads.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work)
        .await
        .unwrap_or_else(|_| Err(ApiError::new(ErrorCode::Unavailable, "the node is stopping")))
}

/// `GET /v1/checkpoints`.
pub async fn list(AxumState(app): AxumState<AppState>) -> Json<CheckpointsView> {
    let replica = app.replica.read();
    let set = GuardianSet::of(replica.state().params());
    let head_seq = replica.head().seq;
    Json(match &app.checkpoints {
        Some(store) => store.lock().view(&set, head_seq),
        None => {
            CheckpointsView { head_seq, threshold: set.threshold, latest_final: None, checkpoints: vec![] }
        }
    })
}

/// `POST /v1/checkpoints`: the operator proposes a checkpoint at the head (a signed request).
pub async fn propose(
    AxumState(app): AxumState<AppState>,
    SignedReader(reader): SignedReader,
) -> Result<Json<CheckpointView>, ApiError> {
    if reader != app.replica.read().state().params().operator {
        return Err(ApiError::new(ErrorCode::SignedReadForbidden, "only the operator proposes checkpoints"));
    }
    let store = store(&app)?;
    blocking(move || {
        let replica = app.replica.read();
        let set = GuardianSet::of(replica.state().params());
        let mut store = store.lock();
        match checkpoints::propose_at_head(&mut store, &replica, ProposedBy::Operator, crate::now_unix_ms()) {
            Ok(checkpoint) => Ok(Json(checkpoint.view(&set))),
            Err(CheckpointError::NotFound(0)) => {
                Err(ApiError::new(ErrorCode::InvalidRequest, "the journal is empty: nothing to checkpoint"))
            }
            Err(error) => Err(checkpoint_error(error)),
        }
    })
    .await
}

/// `POST /v1/checkpoints/{seq}/signatures`: a guardian's signature.
pub async fn sign(
    AxumState(app): AxumState<AppState>,
    seq: PathParam,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<CheckpointView>, ApiError> {
    let seq: u64 = seq.id(ErrorCode::InvalidId, "sequence number")?;
    let body = body.map_err(|rejection| {
        if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(ErrorCode::PayloadTooLarge, "the request body is larger than this node accepts")
        } else {
            ApiError::new(ErrorCode::InvalidRequest, rejection.body_text())
        }
    })?;
    let request: CheckpointSignatureRequest =
        serde_json::from_slice(&body).map_err(|e| ApiError::from_json_error(&e))?;
    let guardian: AccountKey = request.guardian.trim().parse()?;
    let signature = hex::decode(request.signature.trim())
        .map_err(|_| ApiError::new(ErrorCode::BadSignature, "the signature is not hex"))?;
    let store = store(&app)?;
    blocking(move || {
        let replica = app.replica.read();
        let set = GuardianSet::of(replica.state().params());
        let mut store = store.lock();
        let checkpoint = store.add_signature(seq, guardian, &signature, &set).map_err(checkpoint_error)?;
        Ok(Json(checkpoint.view(&set)))
    })
    .await
}

/// `GET /v1/journal`: a signed read by a guardian or the operator.
pub async fn journal(
    AxumState(app): AxumState<AppState>,
    SignedReader(reader): SignedReader,
    Query(query): Query<JournalQuery>,
) -> Result<Json<JournalPage>, ApiError> {
    {
        let replica = app.replica.read();
        let params = replica.state().params();
        if reader != params.operator && !params.is_guardian(&reader) {
            return Err(ApiError::new(
                ErrorCode::SignedReadForbidden,
                "the journal holds sealed bids and orders: only guardians and the operator read it",
            ));
        }
    }
    let from = check_range("from", query.from, 1, u64::MAX)?.unwrap_or(1);
    let limit = check_range("limit", query.limit, 1, JOURNAL_PAGE_MAX)?.unwrap_or(JOURNAL_PAGE_MAX);
    blocking(move || {
        let replica = app.replica.read();
        let head_seq = replica.head().seq;
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let entries = replica.read_entries(from, limit).map_err(|error| {
            tracing::error!(%error, "reading the journal failed");
            ApiError::new(ErrorCode::StorageFailed, format!("reading the journal failed: {error}"))
        })?;
        let next_from = entries.last().map(|e| e.seq.saturating_add(1)).filter(|next| *next <= head_seq);
        let entries = entries
            .iter()
            .map(|e| JournalEntryView {
                seq: e.seq,
                timestamp_ms: e.timestamp_ms,
                signer: hex::encode(e.signer),
                payload: hex::encode(&e.payload),
                signature: hex::encode(&e.signature),
                prev_hash: hex::encode(e.prev_hash),
                hash: hex::encode(e.hash),
            })
            .collect();
        Ok(Json(JournalPage { head_seq, entries, next_from }))
    })
    .await
}

/// `GET /v1/journal/genesis`.
pub async fn genesis(AxumState(app): AxumState<AppState>) -> Result<Json<JournalGenesisView>, ApiError> {
    blocking(move || {
        let bytes = app.replica.read().genesis_bytes().map_err(|error| {
            ApiError::new(ErrorCode::StorageFailed, format!("reading the genesis failed: {error}"))
        })?;
        let root_hash = hex::encode(checkpoints::chain_root(&bytes));
        Ok(Json(JournalGenesisView { genesis: hex::encode(bytes), root_hash }))
    })
    .await
}
