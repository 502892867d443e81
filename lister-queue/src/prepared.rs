//! Raw SQL that diesel prepares once per connection and then reuses.
//!
//! `diesel::sql_query` and diesel's `UPDATE` builder are never cached, so each run would be
//! parsed and planned again; the queue's statements run for every batch, so they go through
//! [`Prepared`] instead, which diesel caches by SQL text.

use diesel::backend::Backend;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::result::{Error as DieselError, QueryResult};
use diesel::sql_types::Untyped;

/// Pushes a statement's bind parameters, by number.
pub(crate) trait Binds<DB: Backend> {
    /// Pushes parameter `n` (from 1) where the SQL text names it.
    fn push<'b>(&'b self, n: usize, out: &mut AstPass<'_, 'b, DB>) -> QueryResult<()>;
}

/// SQL text naming its parameters `$1`, `$2`… (on either backend; each name may appear once
/// only), and their values.
pub(crate) struct Prepared<B> {
    sql: String,
    binds: B,
}

impl<B> Prepared<B> {
    pub(crate) fn new(sql: impl Into<String>, binds: B) -> Self {
        Prepared {
            sql: sql.into(),
            binds,
        }
    }
}

impl<DB: Backend, B: Binds<DB>> QueryFragment<DB> for Prepared<B> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        let mut rest = self.sql.as_str();
        while let Some(dollar) = rest.find('$') {
            out.push_sql(&rest[..dollar]);
            let digits = rest[dollar + 1..]
                .bytes()
                .take_while(u8::is_ascii_digit)
                .count();
            let name = &rest[dollar + 1..dollar + 1 + digits];
            let n = name.parse().map_err(|_| {
                DieselError::QueryBuilderError(
                    format!("a `$` without a number in {}", self.sql).into(),
                )
            })?;
            self.binds.push(n, &mut out)?;
            rest = &rest[dollar + 1 + digits..];
        }
        out.push_sql(rest);
        Ok(())
    }
}

impl<B> QueryId for Prepared<B> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<B> Query for Prepared<B> {
    type SqlType = Untyped;
}

// Gives it diesel's (and diesel-async's) `load`, `execute`…
impl<B> diesel::query_dsl::RunQueryDslSupport for Prepared<B> {}

/// The error for a parameter number a statement does not have.
pub(crate) fn no_parameter(n: usize) -> DieselError {
    DieselError::QueryBuilderError(format!("the statement has no parameter ${n}").into())
}
