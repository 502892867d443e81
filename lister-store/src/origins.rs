//! Reading what the store keeps of listings: origins, and the records of listing pages.

use chrono::NaiveDateTime;
use diesel::prelude::{ExpressionMethods, OptionalExtension, QueryDsl};
use diesel::sql_types::{BigInt, Nullable};
use diesel::{BoolExpressionMethods, Queryable, Selectable};

use crate::backend::columns;
use crate::schema::{listed_origins, page_validators};
use crate::store::Store;
use lister_core::store::{HeldOrigins, ListerRecord, PageRecord};
use lister_core::{Error, ListedOrigin, ListerKey, Origin, Result, Validators};

#[derive(Queryable, Selectable)]
#[diesel(table_name = listed_origins)]
struct StoredOrigin {
    url: String,
    visit_type: String,
    first_seen: NaiveDateTime,
    last_seen: NaiveDateTime,
    last_update: Option<NaiveDateTime>,
    enabled: bool,
    is_fork: Option<bool>,
    extra_loader_arguments: String,
}

impl Store {
    /// Whether the store remembers any listing page of this lister instance: a run that
    /// starts with none has no validators to look up, page after page.
    pub async fn has_page_records(&self, lister_id: i64) -> Result<bool> {
        let mut conn = self.connection().await?;
        let mine = page_validators::table.filter(page_validators::lister_id.eq(lister_id));
        let first: Option<String> = conn
            .first(mine.select(page_validators::url))
            .await
            .optional()
            .map_err(Error::query("looking for page validators"))?;
        Ok(first.is_some())
    }

    /// What the store remembers of the listing page at `url`, if anything: its validators,
    /// the cursor it led to, and how many origins it remembers of it ([`HeldOrigins::Held`],
    /// counted in the database: the origins themselves stay there).
    pub async fn page_record(&self, lister_id: i64, url: &str) -> Result<Option<PageRecord>> {
        let mut conn = self.connection().await?;
        type Row = (
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<i64>,
        );
        let held = diesel::dsl::sql::<Nullable<BigInt>>(conn.backend().remembered_origins());
        let record = page_validators::table.find((lister_id, url)).select((
            page_validators::etag,
            page_validators::last_modified,
            page_validators::next_url,
            page_validators::next_index,
            held,
        ));
        let row: Option<Row> = conn
            .first(record)
            .await
            .optional()
            .map_err(Error::query("reading page validators"))?;
        Ok(row.map(
            |(etag, last_modified, next_url, next_index, held)| PageRecord {
                url: url.to_owned(),
                validators: Validators {
                    etag,
                    last_modified,
                },
                next_url,
                next_index,
                origins: held.map_or(HeldOrigins::Unknown, |n| HeldOrigins::Held(n as usize)),
            },
        ))
    }

    /// Up to `limit` origins of a lister instance, ordered by (url, visit type), starting
    /// after `after`: repeated calls walk millions of rows in constant memory. A reader: it
    /// folds nothing, so sightings a run has not folded yet are not in it.
    pub async fn listed_origins_page(
        &self,
        lister: &ListerRecord,
        after: Option<(&str, &str)>,
        limit: i64,
    ) -> Result<Vec<ListedOrigin>> {
        let mut conn = self.connection().await?;
        let (after_url, after_type) = after.unwrap_or(("", ""));
        let page = listed_origins::table
            .filter(listed_origins::lister_id.eq(lister.id))
            // The key starts with the URL: this bound lets a page start where the last ended,
            // where the exact condition below would be checked from the first row.
            .filter(listed_origins::url.ge(after_url))
            .filter(
                listed_origins::url.gt(after_url).or(listed_origins::url
                    .eq(after_url)
                    .and(listed_origins::visit_type.gt(after_type))),
            )
            .order((listed_origins::url, listed_origins::visit_type))
            .limit(limit)
            .select(columns::<StoredOrigin>());
        let rows: Vec<StoredOrigin> = conn
            .load(page)
            .await
            .map_err(Error::query("reading origins"))?;
        let key = lister.key();
        rows.into_iter().map(|row| row.into_listed(&key)).collect()
    }

    /// Every origin of a lister instance (for tests and small listings; use
    /// [`listed_origins_page`](Self::listed_origins_page) for large ones).
    pub async fn listed_origins(&self, key: &ListerKey) -> Result<Vec<ListedOrigin>> {
        let Some(lister) = self.lister(key).await? else {
            return Ok(Vec::new());
        };
        let mut all = Vec::new();
        loop {
            let after = all
                .last()
                .map(|o: &ListedOrigin| (o.origin.url.clone(), o.origin.visit_type.clone()));
            let after = after.as_ref().map(|(u, t)| (u.as_str(), t.as_str()));
            let page = self.listed_origins_page(&lister, after, 10_000).await?;
            if page.is_empty() {
                return Ok(all);
            }
            all.extend(page);
        }
    }
}

impl StoredOrigin {
    fn into_listed(self, key: &ListerKey) -> Result<ListedOrigin> {
        let arguments =
            serde_json::from_str(&self.extra_loader_arguments).map_err(|source| Error::Decode {
                what: format!("loader arguments of {}", self.url),
                source,
            })?;
        Ok(ListedOrigin {
            lister: key.clone(),
            origin: Origin {
                url: self.url,
                visit_type: self.visit_type,
                last_update: self.last_update.map(|t| t.and_utc()),
                is_fork: self.is_fork,
                enabled: self.enabled,
                extra_loader_arguments: arguments,
            },
            first_seen: self.first_seen.and_utc(),
            last_seen: self.last_seen.and_utc(),
        })
    }
}
