//! The pool's connections, each keeping its prepared statements: a
//! statement is parsed once per connection, not on every call (measured
//! with `perf` over the send+accept bench, parsing and planning took the
//! largest share of the server's time), and planned once too (generic
//! plans: see `Manager::connect`).

use super::*;
use postgres::types::ToSql;
use postgres::{Row, Statement};
use std::collections::HashMap;

/// Opens the pool's connections.
#[derive(Debug)]
pub(super) struct Manager {
    pub(super) config: Config,
}

/// A connection with the statements it prepared, by their SQL.
pub(super) struct Conn {
    pub(super) client: Client,
    prepared: HashMap<String, Statement>,
}

impl r2d2::ManageConnection for Manager {
    type Connection = Conn;
    type Error = postgres::Error;

    fn connect(&self) -> Result<Conn, postgres::Error> {
        // Every statement is planned once per connection: each is a lookup
        // by key, a range of an index in its order, or a call of
        // `pronet_apply` (schema step 3), whose statements each touch one
        // row by its key, so a generic plan is as good as a custom one. Left
        // to choose, PostgreSQL kept planning `key = ANY ($1)` for every
        // call (its generic estimate is of 10 keys), half of that read's
        // server time. A cached plan is made again when autovacuum
        // analyses its tables (auto_explain over a 16,000-pair bench: only
        // plans made while a table was nearly empty scanned it whole).
        let mut client = self.config.connect(NoTls)?;
        client.batch_execute("SET plan_cache_mode = force_generic_plan")?;
        Ok(Conn {
            client,
            prepared: HashMap::new(),
        })
    }

    fn is_valid(&self, conn: &mut Conn) -> Result<(), postgres::Error> {
        conn.client.simple_query("").map(|_| ())
    }

    fn has_broken(&self, conn: &mut Conn) -> bool {
        conn.client.is_closed()
    }
}

/// Parameters with their types, as `Client::query_typed` takes them.
type Params<'a> = [(&'a (dyn ToSql + Sync), Type)];

fn values<'a>(params: &'a Params<'a>) -> Vec<&'a (dyn ToSql + Sync)> {
    params.iter().map(|(v, _)| *v).collect()
}

impl Conn {
    /// The statement for `sql`, prepared on first use.
    fn prepared(&mut self, sql: &str, params: &Params<'_>) -> Result<Statement, postgres::Error> {
        if let Some(s) = self.prepared.get(sql) {
            return Ok(s.clone());
        }
        let types: Vec<Type> = params.iter().map(|(_, t)| t.clone()).collect();
        let s = self.client.prepare_typed(sql, &types)?;
        self.prepared.insert(sql.to_owned(), s.clone());
        Ok(s)
    }

    /// The rows of `sql`.
    pub(super) fn query_typed(
        &mut self,
        sql: &str,
        params: &Params<'_>,
    ) -> Result<Vec<Row>, postgres::Error> {
        let s = self.prepared(sql, params)?;
        self.client.query(&s, &values(params))
    }

    /// The one row of `sql`.
    pub(super) fn query_typed_one(
        &mut self,
        sql: &str,
        params: &Params<'_>,
    ) -> Result<Row, postgres::Error> {
        let s = self.prepared(sql, params)?;
        self.client.query_one(&s, &values(params))
    }

    /// The row of `sql`, if any.
    pub(super) fn query_typed_opt(
        &mut self,
        sql: &str,
        params: &Params<'_>,
    ) -> Result<Option<Row>, postgres::Error> {
        let s = self.prepared(sql, params)?;
        self.client.query_opt(&s, &values(params))
    }
}
