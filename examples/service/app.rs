//! The service: an HTTP JSON API over one `Network`, and the outbox relay.
//!
//! `Network` is synchronous: every call may read or write SQLite, so a
//! handler never calls it on an async worker thread. It hands the call to
//! tokio's blocking pool with `spawn_blocking`, sharing the network through
//! an `Arc` (all its methods take `&self` and are safe from many threads).
//!
//! ```text
//! POST /members                              {"id", "name", "email"?}                 201 {"outcome", "events"}
//! POST /invitations                          {"sender", "recipient", "note"?, "email"?} 201 {"outcome", "events"}
//! POST /invitations/{id}/accept|reject|withdraw  {"actor"}                           200 {"outcome", "events"}
//! GET  /members/{viewer}/degree/{other}                                              200 {"degree"}
//! GET  /members/{member}/inbox                                                       200 {"items", "next"}
//! GET  /members/{member}/counts                                                      200 {"inbox", "held", "sent", "unseen"}
//! GET  /members/{viewer}/profiles/{id}                                               200 {"id", "kind", "profile", "degree", ...}
//! GET  /members/{viewer}/connections/{member}                                        200 {"items", "next"}
//! GET  /events                               what the relay delivered                200 {"events", "last"}
//! errors                                     4xx/5xx {"code", "message", "retry_at"?, ...}
//! ```
//!
//! Answers use pronet's wire format (`pronet::wire`, see the README's "Wire
//! format"): ids as strings, RFC 3339 instants, events tagged
//! `{"type": "invitation_sent", ...}`, errors coded by `Error::code` with
//! the status of `Error::http_status`.
//!
//! `tests/service.rs` includes this file with `#[path]`, so everything the
//! test needs is `pub` here and `main.rs` only parses arguments.

use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use pronet::wire::ToWire;
use pronet::{
    ChangeCursor, Committed, Email, Error, Event, EventId, InvitationId, Member, MemberId, Network,
    PageSize, Policy, Profile, Published, Refusal, SendRequest, SqliteStore, SystemClock,
};
use serde::Deserialize;
use serde_json::{Value, json};
use std::future::Future;
use std::path::Path as FilePath;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};

/// The network as the service holds it.
pub type Net = Network<SqliteStore, SystemClock>;

/// The relay's page size: changes per `events_since` call.
const RELAY_PAGE: usize = 100;
/// How long an idle relay waits before looking again. Commits through this
/// instance wake it at once; commits by other instances (processes) on the
/// same file are seen within this interval.
const RELAY_IDLE: Duration = Duration::from_millis(100);

/// Opens the network over the SQLite file at `path` (created if absent).
/// Each instance opens its own `SqliteStore` and `Network`, as separate
/// processes would: they share nothing but the file.
///
/// # Errors
/// When the file cannot be opened or its records cannot be read.
pub fn open(path: &FilePath) -> Result<Arc<Net>, Box<dyn std::error::Error + Send + Sync>> {
    let store = SqliteStore::open(path)?;
    // The default freshness (`Freshness::Current`) follows the store's feed
    // before every read, so instances on one file answer alike after every
    // operation of either.
    Ok(Arc::new(Network::open(
        store,
        SystemClock,
        Policy::default(),
    )?))
}

/// What the relay delivered, in delivery order: a stand-in for a message
/// queue and its consumer, served at `GET /events` so that the demo and the
/// test can see it. A real consumer keeps `last` durably, with what it did.
#[derive(Default)]
pub struct Delivered {
    /// The greatest id delivered: delivery is at least once (a relay that
    /// stops between delivering and acknowledging delivers again), and
    /// event ids grow with commit order, so a consumer drops every event
    /// whose id is not above the last it handled.
    last: Option<EventId>,
    events: Vec<Published>,
}

impl Delivered {
    /// Delivers `event` unless it is a repeat; answers whether it was new.
    fn deliver(&mut self, event: Published) -> bool {
        if self.last.is_some_and(|last| event.id <= last) {
            return false;
        }
        self.last = Some(event.id);
        self.events.push(event);
        true
    }
}

/// The state the handlers share.
#[derive(Clone)]
pub struct App {
    net: Arc<Net>,
    delivered: Arc<Mutex<Delivered>>,
    /// Poked after each commit through this instance, so that the relay
    /// (if this instance runs it) delivers without waiting.
    committed: Arc<Notify>,
    /// Whether delivered events are printed to stdout.
    print: bool,
}

impl App {
    /// The state of a service over `net`.
    #[must_use]
    pub fn new(net: Arc<Net>, print: bool) -> Self {
        Self {
            net,
            delivered: Arc::default(),
            committed: Arc::new(Notify::new()),
            print,
        }
    }

    /// Runs `op` on the network in tokio's blocking pool.
    async fn call<T: Send + 'static>(
        &self,
        op: impl FnOnce(&Net) -> Result<T, Error> + Send + 'static,
    ) -> Result<T, ApiError> {
        let net = Arc::clone(&self.net);
        tokio::task::spawn_blocking(move || op(&net))
            .await
            .map_err(|e| ApiError::internal(&e))?
            .map_err(ApiError::from)
    }

    /// Like [`call`](Self::call), for an operation that commits: wakes the
    /// relay afterwards (a refused operation committed nothing).
    async fn commit<T: Send + 'static>(
        &self,
        op: impl FnOnce(&Net) -> Result<T, Error> + Send + 'static,
    ) -> Result<T, ApiError> {
        let answer = self.call(op).await;
        if answer.is_ok() {
            self.committed.notify_one();
        }
        answer
    }
}

/// The routes (JSON in, JSON out).
pub fn router(app: App) -> Router {
    Router::new()
        .route("/members", post(register))
        .route("/invitations", post(send))
        .route("/invitations/{id}/{action}", post(answer))
        .route("/members/{viewer}/degree/{other}", get(degree))
        .route("/members/{member}/inbox", get(inbox))
        .route("/members/{member}/counts", get(counts))
        .route("/members/{viewer}/profiles/{id}", get(profile))
        .route("/members/{viewer}/connections/{member}", get(connections))
        .route("/events", get(events))
        .with_state(app)
}

/// Serves `app` on `listener` until `shutdown` completes, then finishes the
/// requests in flight and stops the relay, if `relay` asked this instance to
/// run it.
///
/// Run one relay per deployment (any instance may run it): the outbox is
/// the store's, shared by every instance, and two relays would deliver each
/// event twice and race to acknowledge.
///
/// # Errors
/// When serving fails.
pub async fn serve(
    listener: TcpListener,
    app: App,
    relay: bool,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (stop, stopped) = watch::channel(false);
    let relay = relay.then(|| tokio::spawn(run_relay(app.clone(), stopped)));
    let served = axum::serve(listener, router(app))
        .with_graceful_shutdown(shutdown)
        .await;
    if let Some(relay) = relay {
        // The relay stops between pages, after acknowledging what it
        // delivered.
        stop.send_replace(true);
        if let Err(e) = relay.await {
            eprintln!("relay: {e}");
        }
    }
    served
}

/// The outbox relay: reads committed events in commit order, delivers them,
/// acknowledges them (which trims them from the store), and waits when
/// there are none. It keeps no cursor between runs: acknowledged events are
/// gone, so it starts from `ChangeCursor::START` and delivers, again, only
/// what was never acknowledged.
async fn run_relay(app: App, mut stop: watch::Receiver<bool>) {
    while !*stop.borrow() {
        match relay_page(&app).await {
            // There may be more: look again at once.
            Ok(true) => continue,
            Ok(false) => {}
            // A store failure loses nothing: the same events come again.
            Err(e) => eprintln!("relay: {} ({})", e.code, e.message),
        }
        tokio::select! {
            _ = stop.changed() => {}
            () = app.committed.notified() => {}
            () = tokio::time::sleep(RELAY_IDLE) => {}
        }
    }
}

/// Delivers and acknowledges one page; answers whether it was not empty.
async fn relay_page(app: &App) -> Result<bool, ApiError> {
    let page = app
        .call(|net| net.events_since(ChangeCursor::START, RELAY_PAGE))
        .await?;
    if page.cursor == ChangeCursor::START {
        return Ok(false);
    }
    {
        let mut delivered = app.delivered.lock().unwrap_or_else(PoisonError::into_inner);
        for event in page.events {
            let line = format!("relay: {} {:?}", event.id, event.event);
            if delivered.deliver(event) && app.print {
                println!("{line}");
            }
        }
    }
    // Only after delivering: a crash before this line delivers them again.
    app.call(move |net| net.acknowledge(page.cursor)).await?;
    Ok(true)
}

// ---------------------------------------------------------------- handlers

#[derive(Deserialize)]
struct Registration {
    id: u64,
    name: String,
    email: Option<String>,
}

/// `POST /members {"id", "name", "email"?}`: 201 and the member's events.
async fn register(
    State(app): State<App>,
    body: Result<Json<Registration>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(r) = body?;
    let mut member = Member::person(MemberId::new(r.id), Profile::named(r.name));
    if let Some(email) = r.email {
        member = member.with_email(parse_email(&email)?, true);
    }
    let done = app.commit(move |net| net.register(member)).await?;
    let shown = visible(done, MemberId::new(r.id));
    Ok((StatusCode::CREATED, Json(json!(shown))).into_response())
}

#[derive(Deserialize)]
struct Invite {
    sender: u64,
    recipient: u64,
    note: Option<String>,
    /// The recipient's address, as proof that the sender knows them.
    email: Option<String>,
}

/// `POST /invitations {"sender", "recipient", "note"?, "email"?}`: 201 and
/// `{"outcome": {"type": "sent", "invitation"} | {"type": "connected",
/// "accepted"}, "events"}`.
async fn send(
    State(app): State<App>,
    body: Result<Json<Invite>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(i) = body?;
    let proof = i.email.as_deref().map(parse_email).transpose()?;
    let (sender, recipient) = (MemberId::new(i.sender), MemberId::new(i.recipient));
    let done = app
        .commit(move |net| {
            net.send(
                SendRequest::new(sender, recipient)
                    .maybe_note(i.note.as_deref())
                    .maybe_proof(proof.as_ref()),
            )
        })
        .await?;
    // `Connected`: the recipient had invited the sender, and that
    // invitation was accepted.
    let shown = visible(done, sender);
    Ok((StatusCode::CREATED, Json(json!(shown))).into_response())
}

#[derive(Deserialize)]
struct Actor {
    actor: u64,
}

/// `POST /invitations/{id}/{accept|reject|withdraw} {"actor"}`: the actor's
/// events (an empty list when it repeats an answer already given).
async fn answer(
    State(app): State<App>,
    path: Result<Path<(u64, String)>, PathRejection>,
    body: Result<Json<Actor>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let (Path((id, action)), Json(a)) = (path?, body?);
    let (actor, id) = (MemberId::new(a.actor), InvitationId::new(id));
    let op: fn(&Net, MemberId, InvitationId) -> Result<Committed<()>, Error> = match action.as_str()
    {
        "accept" => Net::accept,
        "reject" => Net::reject,
        "withdraw" => Net::withdraw,
        _ => {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "no_such_action",
                action,
            ));
        }
    };
    let done = app.commit(move |net| op(net, actor, id)).await?;
    Ok(Json(json!(visible(done, actor))))
}

/// `GET /members/{viewer}/degree/{other}`: `{"degree": "first" | ...}`.
async fn degree(
    State(app): State<App>,
    path: Result<Path<(u64, u64)>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let Path((viewer, other)) = path?;
    let (viewer, other) = (MemberId::new(viewer), MemberId::new(other));
    let degree = app.call(move |net| net.degree(viewer, other)).await?;
    Ok(Json(json!({ "degree": degree.to_wire() })))
}

/// `GET /members/{member}/inbox`: the first page of pending invitations.
async fn inbox(
    State(app): State<App>,
    path: Result<Path<u64>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let Path(member) = path?;
    let member = MemberId::new(member);
    let page = app
        .call(move |net| net.inbox(member, None, PageSize::default()))
        .await?;
    Ok(Json(json!(page.to_wire())))
}

/// `GET /members/{member}/counts`: `{"inbox", "held", "sent", "unseen"}`,
/// each the length of its list (`unseen`: the bell icon's number).
async fn counts(
    State(app): State<App>,
    path: Result<Path<u64>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let Path(member) = path?;
    let member = MemberId::new(member);
    let counts = app.call(move |net| net.invitation_counts(member)).await?;
    Ok(Json(json!(counts.to_wire())))
}

/// `GET /members/{viewer}/profiles/{id}`: `id`'s profile as `viewer` may
/// see it (emails only in one's own); 404 `unknown_member` when `id` is
/// hidden from the viewer, exactly as for an id nobody has.
async fn profile(
    State(app): State<App>,
    path: Result<Path<(u64, u64)>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let Path((viewer, id)) = path?;
    let (viewer, id) = (MemberId::new(viewer), MemberId::new(id));
    match app.call(move |net| net.member(viewer, id)).await? {
        Some(view) => Ok(Json(json!(view.to_wire()))),
        None => Err(Error::Refused(Refusal::UnknownMember(id)).into()),
    }
}

/// `GET /members/{viewer}/connections/{member}`: the first page of
/// `member`'s connections as `viewer` may see them.
async fn connections(
    State(app): State<App>,
    path: Result<Path<(u64, u64)>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let Path((viewer, member)) = path?;
    let (viewer, member) = (MemberId::new(viewer), MemberId::new(member));
    let page = app
        .call(move |net| net.connections(viewer, member, None, PageSize::default()))
        .await?;
    Ok(Json(json!(page.to_wire())))
}

/// `GET /events`: what this instance's relay delivered since it started
/// (empty on an instance that runs no relay). For operators and the demo:
/// it holds every member's events and the mailer's.
async fn events(State(app): State<App>) -> Json<Value> {
    let delivered = app.delivered.lock().unwrap_or_else(PoisonError::into_inner);
    Json(json!({ "events": delivered.events.to_wire(), "last": delivered.last.to_wire() }))
}

/// The answer `member` may be shown: the outcome, and the events whose
/// audience includes them. The relay delivers every event from the outbox,
/// each to its audience; an answer shows the caller only theirs
/// (`Committed::mail`, for the mailer, is never shown to a member, and its
/// wire form leaves it out).
fn visible<O>(mut done: Committed<O>, member: MemberId) -> Committed<O> {
    done.events
        .retain(|e: &Event| e.audience().includes(member));
    done
}

fn parse_email(text: &str) -> Result<Email, ApiError> {
    Email::parse(text)
        .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_email", e))
}

// ------------------------------------------------------------------ errors

/// An error answer: `{"code": "<code>", "message": "...", ...}`. The code
/// is stable, for programs; the message is for people. A pronet error
/// answers in pronet's wire form, with its fields (`retry_at`, RFC 3339,
/// says when a limit that lifts at an instant, a 429, lifts).
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    /// The body, when pronet wrote it.
    body: Option<Value>,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl ToString) -> Self {
        Self {
            status,
            code,
            message: message.to_string(),
            body: None,
        }
    }

    /// A failure to report to the operator, not to the caller.
    fn internal(detail: &dyn std::fmt::Display) -> Self {
        eprintln!("internal error: {detail}");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error",
        )
    }
}

// Malformed requests answer in the same shape as refusals (axum's own
// rejections are plain text).
impl From<JsonRejection> for ApiError {
    fn from(e: JsonRejection) -> Self {
        Self::new(e.status(), "bad_request", e.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(e: PathRejection) -> Self {
        Self::new(e.status(), "bad_request", e.body_text())
    }
}

impl From<Error> for ApiError {
    /// The code and status come from pronet's table (`Error::code`,
    /// `Error::http_status`): a rule added in a later pronet arrives with
    /// its own code.
    fn from(e: Error) -> Self {
        let status =
            StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        // A refusal never says more than the refused member may know, so
        // its wire form is safe to show; so is an import error's. The
        // operator's errors (503: store failures, contention and a clock
        // skew, where a retry decides again from fresh facts, so it never
        // applies twice; 500: a bug) carry a fixed message on the wire;
        // their `Display` names records and backends: for the log only.
        if !e.is_caller_error() {
            eprintln!("{}: {e}", e.code());
        }
        let message = if e.is_caller_error() {
            e.to_string()
        } else {
            "internal error".to_owned()
        };
        Self {
            body: serde_json::to_value(&e).ok(),
            ..Self::new(status, e.code(), message)
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = self
            .body
            .unwrap_or_else(|| json!({ "code": self.code, "message": self.message }));
        (self.status, Json(body)).into_response()
    }
}
