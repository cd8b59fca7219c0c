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
//! instance 0 runs the relay. Ctrl-C stops them all gracefully.
//!
//! The routes, the relay and the error answers are in `app.rs`.

mod app;

use std::net::SocketAddr;
use std::path::PathBuf;
use tokio::net::TcpListener;
use tokio::sync::watch;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

const USAGE: &str = "usage: service DATABASE [ADDRESS (127.0.0.1:3000)] [--instances N (1)]";

fn main() -> Result<(), BoxError> {
    let mut args = std::env::args().skip(1);
    let mut positional = Vec::new();
    let mut instances: u16 = 1;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--instances" => {
                instances = args.next().ok_or(USAGE)?.parse()?;
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            _ => positional.push(arg),
        }
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
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(run(PathBuf::from(database), address, instances))
}

async fn run(database: PathBuf, address: SocketAddr, instances: u16) -> Result<(), BoxError> {
    let (stop, stopped) = watch::channel(false);
    let mut servers = Vec::new();
    for i in 0..instances {
        let port = address.port().checked_add(i).ok_or("port out of range")?;
        let listener = TcpListener::bind(SocketAddr::new(address.ip(), port)).await?;
        // Opening reads the whole graph: blocking work, off the async threads.
        let path = database.clone();
        let net = tokio::task::spawn_blocking(move || app::open(&path)).await??;
        println!("instance {i}: http://{}", listener.local_addr()?);
        let mut stopped = stopped.clone();
        let shutdown = async move {
            // An error means the sender is gone: stop as well.
            let _ = stopped.wait_for(|&stop| stop).await;
        };
        let relay = i == 0;
        servers.push(tokio::spawn(app::serve(
            listener,
            app::App::new(net, true),
            relay,
            shutdown,
        )));
    }
    tokio::signal::ctrl_c().await?;
    println!("stopping");
    stop.send_replace(true);
    for server in servers {
        server.await??;
    }
    Ok(())
}
