//! One small interface over the two SQL clients (rusqlite for SQLite, `postgres` for
//! PostgreSQL): statements with `$1, $2, ...` placeholders (SQLite reads them as numbered
//! parameters), values as [`V`], transactions as plain BEGIN/COMMIT.

use crate::error::{Error, Result};
use postgres::types::{FromSql, IsNull, Kind, ToSql, Type};

/// A value going into or coming out of a statement.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum V {
    Null,
    I(i64),
    F(f64),
    T(String),
    B(Vec<u8>),
}

impl V {
    pub(crate) fn int(&self) -> Option<i64> {
        match self {
            V::I(i) => Some(*i),
            V::F(f) => Some(*f as i64),
            _ => None,
        }
    }
    pub(crate) fn float(&self) -> Option<f64> {
        match self {
            V::I(i) => Some(*i as f64),
            V::F(f) => Some(*f),
            _ => None,
        }
    }
    pub(crate) fn text(&self) -> Option<&str> {
        match self {
            V::T(s) => Some(s),
            _ => None,
        }
    }
    pub(crate) fn into_bytes(self) -> Option<Vec<u8>> {
        match self {
            V::B(b) => Some(b),
            V::T(s) => Some(s.into_bytes()),
            _ => None,
        }
    }
}

/// Where a study lives, parsed from `--storage`.
#[derive(Debug, Clone)]
pub(crate) enum Url {
    /// `sqlite:///relative/or/absolute/path.db` (SQLAlchemy's spelling: three slashes, then
    /// the path; four for an absolute one).
    Sqlite(String),
    /// `postgresql://user:password@host:port/db` (also `postgres://`, `postgresql+driver://`).
    Postgres(String),
}

impl Url {
    pub(crate) fn parse(url: &str) -> Result<Url> {
        let allowed =
            "sqlite:///PATH (a file) or postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE";
        if let Some(path) = url.strip_prefix("sqlite:///") {
            if path.is_empty() || path == ":memory:" {
                return Err(Error::invalid(
                    "--storage",
                    url,
                    "a SQLite file that other workers can open (sqlite:///PATH)",
                ));
            }
            return Ok(Url::Sqlite(path.to_string()));
        }
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| Error::invalid("--storage", redact(url), allowed))?;
        let base = scheme.split('+').next().unwrap_or(scheme);
        if base == "postgresql" || base == "postgres" {
            return Ok(Url::Postgres(format!("postgresql://{rest}")));
        }
        Err(Error::invalid("--storage", redact(url), allowed))
    }

    /// The URL with any password hidden, for messages.
    pub(crate) fn shown(&self) -> String {
        match self {
            Url::Sqlite(p) => format!("sqlite:///{p}"),
            Url::Postgres(u) => redact(u),
        }
    }
}

/// `scheme://user:secret@host` -> `scheme://user:***@host`.
pub(crate) fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    match rest.split_once('@') {
        Some((cred, host)) => match cred.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

pub(crate) enum Db {
    Sqlite(rusqlite::Connection),
    Postgres(Box<Pg>),
}

/// A PostgreSQL connection and the statements it has prepared (one round trip each, once).
pub(crate) struct Pg {
    client: postgres::Client,
    statements: std::collections::HashMap<String, postgres::Statement>,
}

impl Pg {
    fn statement(&mut self, sql: &str) -> Result<postgres::Statement> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let s = self
            .client
            .prepare(sql)
            .map_err(|e| sql_err("postgresql", e))?;
        self.statements.insert(sql.to_string(), s.clone());
        Ok(s)
    }
}

fn sql_err(url: &str, e: impl std::fmt::Display) -> Error {
    Error::Io(format!("database {url}: {e}"))
}

impl Db {
    /// Connects (SQLite: opens or creates the file, waits up to a minute for other writers).
    pub(crate) fn open(url: &Url) -> Result<Db> {
        match url {
            Url::Sqlite(path) => {
                let c = rusqlite::Connection::open(path).map_err(|e| {
                    Error::Io(format!("cannot open --storage {}: {e}", url.shown()))
                })?;
                c.busy_timeout(std::time::Duration::from_secs(60))
                    .map_err(|e| sql_err(&url.shown(), e))?;
                // Readers never wait for the writer; workers on one machine share the file.
                // Switching a new file to WAL takes an exclusive lock for which SQLite does not
                // wait: workers that start together retry.
                let started = std::time::Instant::now();
                loop {
                    match c.query_row("PRAGMA journal_mode=WAL", [], |_| Ok(())) {
                        Ok(()) => break,
                        Err(rusqlite::Error::SqliteFailure(f, _))
                            if f.code == rusqlite::ErrorCode::DatabaseBusy
                                && started.elapsed().as_secs() < 60 =>
                        {
                            std::thread::sleep(std::time::Duration::from_millis(20));
                        }
                        Err(e) => {
                            return Err(Error::Io(format!(
                                "cannot use --storage {}: {e}",
                                url.shown()
                            )))
                        }
                    }
                }
                c.execute_batch("PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL;")
                    .map_err(|e| sql_err(&url.shown(), e))?;
                Ok(Db::Sqlite(c))
            }
            Url::Postgres(u) => {
                let mut config: postgres::Config = u.parse().map_err(|e| {
                    Error::invalid("--storage", redact(u), format!("a PostgreSQL URL ({e})"))
                })?;
                config.connect_timeout(std::time::Duration::from_secs(10));
                let client = config.connect(postgres::NoTls).map_err(|e| {
                    let why = match std::error::Error::source(&e) {
                        Some(s) => format!("{e}: {s}"),
                        None => e.to_string(),
                    };
                    Error::Io(format!(
                        "cannot connect to --storage {}: {why}",
                        url.shown()
                    ))
                })?;
                Ok(Db::Postgres(Box::new(Pg {
                    client,
                    statements: Default::default(),
                })))
            }
        }
    }

    pub(crate) fn is_postgres(&self) -> bool {
        matches!(self, Db::Postgres(_))
    }

    /// Runs several statements with no parameters.
    pub(crate) fn batch(&mut self, sql: &str) -> Result<()> {
        match self {
            Db::Sqlite(c) => c.execute_batch(sql).map_err(|e| sql_err("sqlite", e)),
            Db::Postgres(c) => c
                .client
                .batch_execute(sql)
                .map_err(|e| sql_err("postgresql", e)),
        }
    }

    /// One statement; the number of rows it changed.
    pub(crate) fn exec(&mut self, sql: &str, params: &[V]) -> Result<u64> {
        match self {
            Db::Sqlite(c) => {
                let p: Vec<rusqlite::types::Value> = params.iter().map(to_sqlite).collect();
                c.execute(sql, rusqlite::params_from_iter(p))
                    .map(|n| n as u64)
                    .map_err(|e| sql_err("sqlite", e))
            }
            Db::Postgres(c) => {
                let stmt = c.statement(sql)?;
                let p = pg_params(stmt.params(), params)?;
                let refs: Vec<&(dyn ToSql + Sync)> = p.iter().map(|b| b.as_ref()).collect();
                c.client
                    .execute(&stmt, &refs)
                    .map_err(|e| sql_err("postgresql", e))
            }
        }
    }

    /// Every row of a query.
    pub(crate) fn query(&mut self, sql: &str, params: &[V]) -> Result<Vec<Vec<V>>> {
        match self {
            Db::Sqlite(c) => {
                let p: Vec<rusqlite::types::Value> = params.iter().map(to_sqlite).collect();
                let mut stmt = c.prepare_cached(sql).map_err(|e| sql_err("sqlite", e))?;
                let n = stmt.column_count();
                let rows = stmt
                    .query_map(rusqlite::params_from_iter(p), |row| {
                        (0..n)
                            .map(|i| {
                                Ok(match row.get_ref(i)? {
                                    rusqlite::types::ValueRef::Null => V::Null,
                                    rusqlite::types::ValueRef::Integer(i) => V::I(i),
                                    rusqlite::types::ValueRef::Real(f) => V::F(f),
                                    rusqlite::types::ValueRef::Text(t) => {
                                        V::T(String::from_utf8_lossy(t).into_owned())
                                    }
                                    rusqlite::types::ValueRef::Blob(b) => V::B(b.to_vec()),
                                })
                            })
                            .collect::<rusqlite::Result<Vec<V>>>()
                    })
                    .map_err(|e| sql_err("sqlite", e))?;
                rows.collect::<rusqlite::Result<Vec<_>>>()
                    .map_err(|e| sql_err("sqlite", e))
            }
            Db::Postgres(c) => {
                let stmt = c.statement(sql)?;
                let p = pg_params(stmt.params(), params)?;
                let refs: Vec<&(dyn ToSql + Sync)> = p.iter().map(|b| b.as_ref()).collect();
                let rows = c
                    .client
                    .query(&stmt, &refs)
                    .map_err(|e| sql_err("postgresql", e))?;
                rows.iter()
                    .map(|r| (0..r.len()).map(|i| pg_value(r, i)).collect())
                    .collect()
            }
        }
    }

    /// The current time as the database stores it in `DATETIME` / `timestamp` columns
    /// (SQL text to put in a statement): UTC, as Optuna's readers parse it.
    pub(crate) fn now_sql(&self) -> String {
        match self {
            Db::Postgres(_) => "(now() AT TIME ZONE 'UTC')".to_string(),
            Db::Sqlite(_) => format!("'{}'", utc_now_text()),
        }
    }

    /// SQL for the age in seconds of a `DATETIME` / `timestamp` column written by `now_sql`.
    pub(crate) fn age_sql(&self, column: &str) -> String {
        match self {
            Db::Postgres(_) => format!(
                "CAST(EXTRACT(EPOCH FROM ((now() AT TIME ZONE 'UTC') - {column})) AS DOUBLE PRECISION)"
            ),
            Db::Sqlite(_) => format!("((julianday('now') - julianday({column})) * 86400.0)"),
        }
    }
}

/// `YYYY-MM-DD HH:MM:SS.ffffff` in UTC (SQLAlchemy's text form of a DATETIME on SQLite).
pub(crate) fn utc_now_text() -> String {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = d.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's days-to-civil.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}.{:06}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_micros()
    )
}

fn to_sqlite(v: &V) -> rusqlite::types::Value {
    use rusqlite::types::Value as S;
    match v {
        V::Null => S::Null,
        V::I(i) => S::Integer(*i),
        V::F(f) => S::Real(*f),
        V::T(t) => S::Text(t.clone()),
        V::B(b) => S::Blob(b.clone()),
    }
}

/// A label for a PostgreSQL enum column (Optuna's `trialstate`, `studydirection`, ...).
#[derive(Debug)]
struct EnumLabel(String);

impl ToSql for EnumLabel {
    fn to_sql(
        &self,
        _ty: &Type,
        out: &mut postgres::types::private::BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        out.extend_from_slice(self.0.as_bytes());
        Ok(IsNull::No)
    }
    fn accepts(ty: &Type) -> bool {
        matches!(ty.kind(), Kind::Enum(_))
    }
    postgres::types::to_sql_checked!();
}

impl<'a> FromSql<'a> for EnumLabel {
    fn from_sql(
        _ty: &Type,
        raw: &'a [u8],
    ) -> std::result::Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(EnumLabel(std::str::from_utf8(raw)?.to_string()))
    }
    fn accepts(ty: &Type) -> bool {
        matches!(ty.kind(), Kind::Enum(_))
    }
}

/// Each value converted to the type PostgreSQL inferred for its placeholder.
fn pg_params(types: &[Type], params: &[V]) -> Result<Vec<Box<dyn ToSql + Sync>>> {
    if types.len() != params.len() {
        return Err(Error::state(format!(
            "a statement takes {} parameters, {} given",
            types.len(),
            params.len()
        )));
    }
    types
        .iter()
        .zip(params)
        .map(|(ty, v)| -> Result<Box<dyn ToSql + Sync>> {
            let bad = || Error::state(format!("cannot pass {v:?} as PostgreSQL {ty}"));
            if let V::Null = v {
                return Ok(match *ty {
                    Type::INT2 => Box::new(None::<i16>),
                    Type::INT4 => Box::new(None::<i32>),
                    Type::INT8 => Box::new(None::<i64>),
                    Type::FLOAT4 => Box::new(None::<f32>),
                    Type::FLOAT8 => Box::new(None::<f64>),
                    Type::BYTEA => Box::new(None::<Vec<u8>>),
                    _ => Box::new(None::<String>),
                });
            }
            Ok(match *ty {
                Type::INT2 => Box::new(v.int().ok_or_else(bad)? as i16),
                Type::INT4 => Box::new(i32::try_from(v.int().ok_or_else(bad)?).map_err(|_| bad())?),
                Type::INT8 => Box::new(v.int().ok_or_else(bad)?),
                Type::FLOAT4 => Box::new(v.float().ok_or_else(bad)? as f32),
                Type::FLOAT8 => Box::new(v.float().ok_or_else(bad)?),
                Type::BYTEA => Box::new(v.clone().into_bytes().ok_or_else(bad)?),
                _ if matches!(ty.kind(), Kind::Enum(_)) => {
                    Box::new(EnumLabel(v.text().ok_or_else(bad)?.to_string()))
                }
                _ => Box::new(match v {
                    V::T(s) => s.clone(),
                    V::I(i) => i.to_string(),
                    V::F(f) => f.to_string(),
                    _ => return Err(bad()),
                }),
            })
        })
        .collect()
}

fn pg_value(row: &postgres::Row, i: usize) -> Result<V> {
    let ty = row.columns()[i].type_().clone();
    let e = |e: postgres::Error| sql_err("postgresql", e);
    Ok(match ty {
        Type::INT2 => row
            .try_get::<_, Option<i16>>(i)
            .map_err(e)?
            .map(|x| V::I(x as i64)),
        Type::INT4 => row
            .try_get::<_, Option<i32>>(i)
            .map_err(e)?
            .map(|x| V::I(x as i64)),
        Type::INT8 => row.try_get::<_, Option<i64>>(i).map_err(e)?.map(V::I),
        Type::FLOAT4 => row
            .try_get::<_, Option<f32>>(i)
            .map_err(e)?
            .map(|x| V::F(x as f64)),
        Type::FLOAT8 => row.try_get::<_, Option<f64>>(i).map_err(e)?.map(V::F),
        Type::BYTEA => row.try_get::<_, Option<Vec<u8>>>(i).map_err(e)?.map(V::B),
        Type::BOOL => row
            .try_get::<_, Option<bool>>(i)
            .map_err(e)?
            .map(|b| V::I(b as i64)),
        _ if matches!(ty.kind(), Kind::Enum(_)) => row
            .try_get::<_, Option<EnumLabel>>(i)
            .map_err(e)?
            .map(|l| V::T(l.0)),
        Type::VOID => None,
        _ => row.try_get::<_, Option<String>>(i).map_err(e)?.map(V::T),
    }
    .unwrap_or(V::Null))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert!(matches!(Url::parse("sqlite:///a/b.db"), Ok(Url::Sqlite(p)) if p == "a/b.db"));
        assert!(
            matches!(Url::parse("sqlite:////tmp/b.db"), Ok(Url::Sqlite(p)) if p == "/tmp/b.db")
        );
        assert!(matches!(
            Url::parse("postgresql+psycopg2://u@h/db"),
            Ok(Url::Postgres(p)) if p == "postgresql://u@h/db"
        ));
        let e = Url::parse("mysql://u:pw@h/db").unwrap_err().to_string();
        assert!(
            e.contains("--storage") && e.contains("u:***@h") && !e.contains("pw"),
            "{e}"
        );
        assert!(Url::parse("sqlite:///").is_err());
        assert_eq!(redact("postgresql://a:b@c/d"), "postgresql://a:***@c/d");
    }

    #[test]
    fn now_text_has_the_datetime_form() {
        let t = utc_now_text();
        assert_eq!(t.len(), 26, "{t}");
        assert_eq!(&t[4..5], "-");
        assert_eq!(&t[10..11], " ");
        assert_eq!(&t[19..20], ".");
        assert!(t.starts_with("20"), "{t}");
    }
}
