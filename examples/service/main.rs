//! An HTTP JSON service over pronet and SQLite: how to call a synchronous
//! `Network` from async code, run the outbox relay, and serve several
//! instances over one database file.
//!
//! ```text
//! cargo run --features sqlite --example service -- pronet.db 127.0.0.1:3000 --instances 2
//! curl -XPOST localhost:3000/members -H 'content-type: application/json' \
//!      -d '{"id": 1, "name": "Ana", "email": "ana@example.com"}'
//! ```
//!
//! With `--instances N`, instance `i` listens on the port plus `i`, with its
//! own `SqliteStore` and `Network` over the one file, as N processes would;
//! instance 0 runs the relay. Ctrl-C stops them all gracefully. `--smoke`
//! serves two instances on a temporary file, makes a few requests to them,
//! and stops (CI runs it).
//!
//! The routes, the relay and the error answers are in `app.rs`.

mod app;

use serde_json::{Value, json};
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

const USAGE: &str =
    "usage: service DATABASE [ADDRESS (127.0.0.1:3000)] [--instances N (1)] | service --smoke";

fn main() -> Result<(), BoxError> {
    let mut args = std::env::args().skip(1);
    let mut positional = Vec::new();
    let mut instances: u16 = 1;
    let mut smoke = false;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--instances" => instances = args.next().ok_or(USAGE)?.parse()?,
            "--smoke" => smoke = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            _ => positional.push(arg),
        }
    }
    let runtime = tokio::runtime::Runtime::new()?;
    if smoke {
        return runtime.block_on(smoke_test());
    }
    let [database, rest @ ..] = positional.as_slice() else {
        return Err(USAGE.into());
    };
    let address: SocketAddr = match rest {
        [] => "127.0.0.1:3000".parse()?,
        [address] => address.parse()?,
        _ => return Err(USAGE.into()),
    };
    if instances == 0 {
        return Err(USAGE.into());
    }
    runtime.block_on(async {
        let (stop, stopped) = watch::channel(false);
        let servers = start(Path::new(database), address, instances, &stopped, true).await?;
        tokio::signal::ctrl_c().await?;
        println!("stopping");
        stop.send_replace(true);
        for (_, server) in servers {
            server.await??;
        }
        Ok(())
    })
}

type Server = (SocketAddr, JoinHandle<std::io::Result<()>>);

/// Starts `instances` instances over `database`, each with its own store and
/// network, on consecutive ports from `address`'s (each on a free port if
/// that is 0); they stop when `stopped` turns true.
async fn start(
    database: &Path,
    address: SocketAddr,
    instances: u16,
    stopped: &watch::Receiver<bool>,
    print: bool,
) -> Result<Vec<Server>, BoxError> {
    let mut servers = Vec::new();
    for i in 0..instances {
        let port = match address.port() {
            0 => 0,
            port => port.checked_add(i).ok_or("port out of range")?,
        };
        let listener = TcpListener::bind(SocketAddr::new(address.ip(), port)).await?;
        let local = listener.local_addr()?;
        // Opening reads the whole graph: blocking work, off the async threads.
        let path = database.to_owned();
        let net = tokio::task::spawn_blocking(move || app::open(&path)).await??;
        println!("instance {i}: http://{local}");
        let mut stopped = stopped.clone();
        let shutdown = async move {
            // An error means the sender is gone: stop as well.
            let _ = stopped.wait_for(|&stop| stop).await;
        };
        // One relay per deployment: instance 0's.
        let relay = i == 0;
        let app = app::App::new(net, print);
        servers.push((
            local,
            tokio::spawn(app::serve(listener, app, relay, shutdown)),
        ));
    }
    Ok(servers)
}

/// `--smoke`: two instances on a fresh file, a few requests through each,
/// then a graceful stop; for CI, where nothing presses Ctrl-C.
async fn smoke_test() -> Result<(), BoxError> {
    let database = std::env::temp_dir().join(format!("pronet-smoke-{}.db", std::process::id()));
    let remove = || {
        for suffix in ["", "-wal", "-shm"] {
            let mut name = database.clone().into_os_string();
            name.push(suffix);
            let _ = std::fs::remove_file(name);
        }
    };
    remove();
    let (stop, stopped) = watch::channel(false);
    let address: SocketAddr = "127.0.0.1:0".parse()?;
    let result = async {
        let servers = start(&database, address, 2, &stopped, false).await?;
        let bases: Vec<String> = servers.iter().map(|(a, _)| format!("http://{a}")).collect();
        // ureq is a blocking client: it too runs off the async threads.
        let requests = tokio::task::spawn_blocking(move || requests(&bases[0], &bases[1])).await;
        stop.send_replace(true);
        for (_, server) in servers {
            server.await??;
        }
        requests?
    }
    .await;
    remove();
    result
}

/// Registers two members through `a`, invites through `a`, accepts through
/// `b`, checks that both answer "first" and that the relay (on `a`)
/// delivered the six events.
fn requests(a: &str, b: &str) -> Result<(), BoxError> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    let post = |url: String, body: Value| -> Result<Value, BoxError> {
        Ok(agent.post(url).send_json(body)?.body_mut().read_json()?)
    };
    let get = |url: String| -> Result<Value, BoxError> {
        Ok(agent.get(url).call()?.body_mut().read_json()?)
    };
    for (id, name) in [(1, "ana"), (2, "bo")] {
        let email = format!("{name}@example.com");
        post(
            format!("{a}/members"),
            json!({ "id": id, "name": name, "email": email }),
        )?;
    }
    let invite = json!({ "sender": 1, "recipient": 2, "note": "Hi Bo", "email": "bo@example.com" });
    let sent = post(format!("{a}/invitations"), invite)?;
    let invitation = sent["outcome"]["invitation"]
        .as_str()
        .ok_or("no invitation id")?;
    post(
        format!("{b}/invitations/{invitation}/accept"),
        json!({ "actor": 2 }),
    )?;
    for base in [a, b] {
        let degree = get(format!("{base}/members/1/degree/2"))?;
        if degree["degree"] != "first" {
            return Err(format!("{base}: {degree}").into());
        }
    }
    for _ in 0..500 {
        let delivered = get(format!("{a}/events"))?;
        let count = delivered["events"].as_array().map_or(0, Vec::len);
        if count >= 6 {
            println!("smoke: ok ({count} events relayed)");
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Err("the relay did not deliver the events".into())
}
