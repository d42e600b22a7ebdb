//! The package list's query (status, text search, order) and, in the same statement, how
//! many packages match it: exact up to [`COUNT_CAP`], so a cut list can say "showing 500 of
//! 5,123" without counting a million rows.

use super::*;

/// The conditions of the package list, on `packages p` and `recipients r`: facility `$1`,
/// status `$2` (`None`: every one; `unmatched`: waiting without a recipient), search text
/// `$4` and its unit key `$5`.
macro_rules! list_filter {
    () => {
        "p.facility_id = $1 AND ($2::text IS NULL OR p.status = $2 \
                OR ($2 = 'unmatched' AND p.status = 'waiting' AND p.recipient_id IS NULL)) \
           AND ($4 = '' OR strpos(lower(p.tracking), $4) > 0 \
                OR strpos(lower(r.name), $4) > 0 OR strpos(lower(p.location), $4) > 0 \
                OR strpos(lower(r.unit), $4) > 0 OR strpos(lower(p.addressed_to), $4) > 0 \
                OR ($5 <> '' AND strpos(regexp_replace(lower(r.unit), '[^a-z0-9]', '', 'g'), \
                    $5) > 0)) "
    };
}

/// Newest first, or oldest first when `$6` (the overdue list).
macro_rules! list_order {
    ($p:literal) => {
        concat!(
            " ORDER BY CASE WHEN $6 THEN ",
            $p,
            ".received_at END, CASE WHEN $6 THEN ",
            $p,
            ".id END, ",
            $p,
            ".received_at DESC, ",
            $p,
            ".id DESC "
        )
    };
}

/// Packages of the facility, newest first, optionally by status.
pub async fn list(
    tx: &mut TenantTx<'_>,
    status: Option<&str>,
    limit: i64,
) -> Result<Vec<Package>, DbError> {
    find(
        tx,
        &ListQuery {
            status,
            limit,
            ..ListQuery::default()
        },
    )
    .await
}

/// What the package list asks for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ListQuery<'a> {
    /// `None`: every status; `unmatched`: waiting without a recipient.
    pub status: Option<&'a str>,
    /// Text the tracking number, recipient, unit, location or an unmatched parcel's
    /// addressed-to name contains (any case); a unit also matches without its punctuation
    /// ("a101" finds "A-101"). Empty: everything.
    pub search: &'a str,
    /// Oldest first (the overdue list: the longest waiting come first), else newest first.
    pub oldest_first: bool,
    pub limit: i64,
}

/// A unit as compared by search: lower case letters and digits only.
pub fn unit_key(text: &str) -> String {
    text.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Packages of the facility matching `q`. A search is a substring test per row (`strpos`,
/// so `%` and `_` are plain text); its cost follows the facility's rows, like the list's.
pub async fn find(tx: &mut TenantTx<'_>, q: &ListQuery<'_>) -> Result<Vec<Package>, DbError> {
    let search = q.search.trim().to_lowercase();
    Ok(sqlx::query_as(concat!(
        select_packages!(),
        "WHERE ",
        list_filter!(),
        list_order!("p"),
        "LIMIT $3"
    ))
    .bind(tx.facility().0)
    .bind(q.status)
    .bind(q.limit)
    .bind(&search)
    .bind(unit_key(&search))
    .bind(q.oldest_first)
    .fetch_all(tx.conn())
    .await?)
}

/// Matches counted beyond this are "more than": an index-only count of 100,000 rows is a
/// few milliseconds (docs/REPORTS.md), a facility's whole history can be millions.
pub const COUNT_CAP: i64 = 100_000;

/// How many packages match a list's query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Total {
    Exact(i64),
    /// More than this many (the count stopped at [`COUNT_CAP`]).
    Over(i64),
}

impl Total {
    /// Whether a list of `shown` rows has them all.
    pub fn complete(self, shown: usize) -> bool {
        match self {
            Total::Exact(n) => i64::try_from(shown).is_ok_and(|s| s >= n),
            Total::Over(_) => false,
        }
    }
}

/// A package row with the statement's count of all matches.
#[derive(sqlx::FromRow)]
struct Counted {
    #[sqlx(flatten)]
    package: Package,
    total: i64,
}

/// [`find`], with how many packages match `q` in all, counted in the same statement (one
/// snapshot: the total and the rows agree), exactly up to [`COUNT_CAP`].
pub async fn find_counted(
    tx: &mut TenantTx<'_>,
    q: &ListQuery<'_>,
) -> Result<(Vec<Package>, Total), DbError> {
    let search = q.search.trim().to_lowercase();
    let rows: Vec<Counted> = sqlx::query_as(concat!(
        "SELECT l.*, (SELECT count(*) FROM (SELECT 1 FROM packages p LEFT JOIN recipients r \
             ON r.facility_id = p.facility_id AND r.id = p.recipient_id WHERE ",
        list_filter!(),
        "LIMIT $7) c) AS total FROM (",
        select_packages!(),
        "WHERE ",
        list_filter!(),
        list_order!("p"),
        "LIMIT $3) l",
        list_order!("l"),
    ))
    .bind(tx.facility().0)
    .bind(q.status)
    .bind(q.limit)
    .bind(&search)
    .bind(unit_key(&search))
    .bind(q.oldest_first)
    .bind(COUNT_CAP + 1)
    .fetch_all(tx.conn())
    .await?;
    // No rows: nothing matches (the limit is at least 1).
    let n = rows.first().map_or(0, |r| r.total);
    let total = if n > COUNT_CAP {
        Total::Over(COUNT_CAP)
    } else {
        Total::Exact(n)
    };
    Ok((rows.into_iter().map(|r| r.package).collect(), total))
}
