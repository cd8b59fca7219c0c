//! The example service (`examples/service`) over real HTTP on 127.0.0.1:
//! register, send, accept and query; the outbox relay's deliveries; a
//! restart on the same file; two instances on one file; error answers.

#![cfg(feature = "sqlite")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../examples/service/app.rs"]
mod app;
mod support;

use pronet::EventId;
use serde_json::{Value, json};
use std::path::Path;
use std::time::Duration;
use support::TempDb;
use tokio::runtime::Runtime;
use tokio::sync::oneshot;

/// One running instance of the service.
struct Server {
    base: String,
    stop: oneshot::Sender<()>,
    done: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Server {
    /// Opens the file and serves it on a free port.
    fn start(rt: &Runtime, db: &Path, relay: bool) -> Self {
        let net = app::open(db).unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        listener.set_nonblocking(true).unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let done = rt.spawn(async move {
            let listener = tokio::net::TcpListener::from_std(listener)?;
            let shutdown = async move {
                let _ = stopped.await;
            };
            app::serve(listener, app::App::new(net, false), relay, shutdown).await
        });
        Self { base, stop, done }
    }

    /// Stops gracefully and waits until everything it held is dropped.
    fn stop(self, rt: &Runtime) {
        self.stop.send(()).unwrap();
        rt.block_on(self.done).unwrap().unwrap();
    }

    fn get(&self, path: &str) -> (u16, Value) {
        answer(agent().get(format!("{}{path}", self.base)).call())
    }

    fn post(&self, path: &str, body: Value) -> (u16, Value) {
        answer(agent().post(format!("{}{path}", self.base)).send_json(body))
    }

    /// `post`, which must succeed: its body.
    fn ok(&self, path: &str, body: Value) -> Value {
        let (status, body) = self.post(path, body);
        assert!((200..300).contains(&status), "POST {path}: {status} {body}");
        body
    }

    /// Sends `body` to `/invitations`, which must answer with a new
    /// invitation: the whole answer and the invitation's id.
    fn invite(&self, body: Value) -> (Value, u64) {
        let sent = self.ok("/invitations", body);
        let invitation = sent["outcome"]["invitation"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        (sent, invitation)
    }

    fn degree(&self, viewer: u64, other: u64) -> String {
        let (status, body) = self.get(&format!("/members/{viewer}/degree/{other}"));
        assert_eq!(status, 200, "{body}");
        body["degree"].as_str().unwrap().to_owned()
    }

    /// The relay's deliveries, once at least `count` arrived. The relay
    /// runs on its own task: poll, with a bound on attempts, not on time.
    fn delivered(&self, count: usize) -> Vec<Value> {
        for _ in 0..1_000 {
            let (status, body) = self.get("/events");
            assert_eq!(status, 200);
            let events = body["events"].as_array().unwrap().clone();
            if events.len() >= count {
                return events;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("the relay did not deliver {count} events");
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into()
}

fn answer(response: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> (u16, Value) {
    let mut response = response.unwrap();
    let status = response.status().as_u16();
    let body = response.body_mut().read_json().unwrap_or(Value::Null);
    (status, body)
}

/// Checks an error answer's status and code.
#[track_caller]
fn assert_error((status, body): (u16, Value), expected: u16, code: &str) {
    assert_eq!(
        (status, body["code"].as_str()),
        (expected, Some(code)),
        "{body}"
    );
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Each delivered event's kind (its wire `type`), in delivery order.
fn kinds(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| e["event"]["type"].as_str().unwrap().to_owned())
        .collect()
}

fn ids(events: &[Value]) -> Vec<EventId> {
    events
        .iter()
        .map(|e| e["id"].as_str().unwrap().parse().unwrap())
        .collect()
}

#[test]
fn the_service_answers_over_http_across_restarts_and_instances() {
    let rt = runtime();
    let db = TempDb::new("service");
    let server = Server::start(&rt, db.path(), true);

    for (id, name) in [(1, "Ana"), (2, "Bo"), (3, "Cy")] {
        let email = format!("{}@example.com", name.to_lowercase());
        let body = server.ok(
            "/members",
            json!({ "id": id, "name": name, "email": email }),
        );
        assert_eq!(body["events"][0]["type"], "member_registered");
        assert_eq!(body["events"][0]["member"], id.to_string());
    }

    // Ana knows Bo's address, so she may invite him, with a note.
    let (sent, invitation) = server.invite(
        json!({ "sender": 1, "recipient": 2, "note": "Hi Bo!", "email": "bo@example.com" }),
    );
    assert_eq!(sent["outcome"]["type"], "sent");
    let (status, inbox) = server.get("/members/2/inbox");
    assert_eq!(status, 200);
    let items = inbox["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["invitation"], invitation.to_string());
    assert_eq!(items[0]["other"], "1");
    assert_eq!(items[0]["note"], "Hi Bo!");
    let (status, counts) = server.get("/members/2/counts");
    assert_eq!(status, 200);
    assert_eq!(
        counts,
        json!({ "inbox": 1, "held": 0, "sent": 0, "unseen": 1 })
    );
    let (status, profile) = server.get("/members/2/profiles/1");
    assert_eq!(status, 200);
    assert_eq!(profile["profile"]["display_name"], "Ana");
    assert!(profile.get("emails").is_none(), "{profile}");
    let (_, own) = server.get("/members/2/profiles/2");
    assert_eq!(own["emails"][0]["email"], "bo@example.com");
    assert_error(server.get("/members/2/profiles/99"), 404, "unknown_member");

    // Bo is shown his own events only (InvitationAccepted is Ana's).
    let accepted = server.ok(
        &format!("/invitations/{invitation}/accept"),
        json!({ "actor": 2 }),
    );
    let shown: Vec<&str> = accepted["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(shown, ["connection_created"]);
    assert_eq!(server.degree(1, 2), "first");
    assert_eq!(server.degree(1, 3), "out_of_network");
    let (_, inbox) = server.get("/members/2/inbox");
    assert_eq!(inbox["items"], json!([]));
    let (status, connections) = server.get("/members/3/connections/1");
    assert_eq!(status, 200);
    assert_eq!(connections["items"], json!(["2"]));

    // Error answers: a stable code for each refusal.
    assert_error(server.get("/members/99/degree/1"), 404, "unknown_member");
    assert_error(
        server.post(
            &format!("/invitations/{invitation}/reject"),
            json!({ "actor": 2 }),
        ),
        409,
        "not_pending",
    );
    assert_error(
        server.post(
            &format!("/invitations/{invitation}/accept"),
            json!({ "actor": 3 }),
        ),
        404,
        "invitation_not_found",
    );
    // Accepting again is a repeat, not an error: it changes nothing.
    let again = server.ok(
        &format!("/invitations/{invitation}/accept"),
        json!({ "actor": 2 }),
    );
    assert_eq!(again["events"], json!([]));
    assert_error(
        server.post("/invitations", json!({ "sender": 1, "recipient": 3 })),
        403,
        "not_eligible",
    );
    assert_error(
        server.post("/members", json!({ "id": 1, "name": "Ana again" })),
        409,
        "member_exists",
    );
    assert_error(
        server.post("/members", json!({ "id": 4 })),
        422,
        "bad_request",
    );
    assert_error(server.get("/members/ana/inbox"), 400, "bad_request");
    assert_error(
        server.post("/invitations/1/forward", json!({ "actor": 2 })),
        404,
        "no_such_action",
    );

    // The relay delivered every committed event from the outbox, in commit
    // order; the refused operations committed none.
    let events = server.delivered(7);
    assert_eq!(
        kinds(&events),
        [
            "member_registered",
            "member_registered",
            "member_registered",
            "invitation_sent",
            "invitation_received",
            "invitation_accepted",
            "connection_created",
        ]
    );
    let before = ids(&events);
    assert!(before.windows(2).all(|w| w[0] < w[1]), "{before:?}");

    // Restart on the same file: the same answers.
    server.stop(&rt);
    let server = Server::start(&rt, db.path(), true);
    assert_eq!(server.degree(1, 2), "first");
    assert_eq!(server.degree(1, 3), "out_of_network");
    let (_, connections) = server.get("/members/3/connections/1");
    assert_eq!(connections["items"], json!(["2"]));

    // Two instances on one file (the relay on the first): an invitation sent
    // through one is accepted through the other, and both answer alike at
    // once, without waiting for anything.
    let other = Server::start(&rt, db.path(), false);
    let (_, invitation) =
        server.invite(json!({ "sender": 2, "recipient": 3, "email": "cy@example.com" }));
    let (_, inbox) = other.get("/members/3/inbox");
    assert_eq!(inbox["items"][0]["invitation"], invitation.to_string());
    other.ok(
        &format!("/invitations/{invitation}/accept"),
        json!({ "actor": 3 }),
    );
    for instance in [&server, &other] {
        assert_eq!(instance.degree(2, 3), "first");
        assert_eq!(instance.degree(1, 3), "second");
    }

    // The restarted relay delivers the new events, including those committed
    // through the other instance, and none it acknowledged before the stop.
    let events = server.delivered(4);
    assert_eq!(
        kinds(&events),
        [
            "invitation_sent",
            "invitation_received",
            "invitation_accepted",
            "connection_created",
        ]
    );
    let after = ids(&events);
    assert!(after[0] > *before.last().unwrap(), "{before:?} {after:?}");
    let (_, body) = other.get("/events");
    assert_eq!(
        body["events"],
        json!([]),
        "only one instance runs the relay"
    );

    // A withdrawn invitation cannot be sent again at once: 429, and when.
    let (_, invitation) =
        other.invite(json!({ "sender": 1, "recipient": 3, "email": "cy@example.com" }));
    server.ok(
        &format!("/invitations/{invitation}/withdraw"),
        json!({ "actor": 1 }),
    );
    let (status, body) = server.post(
        "/invitations",
        json!({ "sender": 1, "recipient": 3, "email": "cy@example.com" }),
    );
    assert_error((status, body.clone()), 429, "resend_too_soon");
    let retry_at = body["retry_at"].as_str().unwrap();
    assert!(
        retry_at.parse::<chrono::DateTime<chrono::Utc>>().is_ok(),
        "{retry_at}"
    );

    other.stop(&rt);
    server.stop(&rt);
}
