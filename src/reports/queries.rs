//! The reports' SQL, one statement each, and the fast path for time to pickup (a histogram
//! then one bucket, instead of sorting every wait).

use super::*;

/// The range as instants: local midnight of the first day (`lo`) up to local midnight after
/// the last (`hi`), in the facility's time zone. Computed first, then bound into the report
/// as `$4`/`$5`, so the planner sees real values and picks an index range scan for a few
/// weeks or a (parallel) sequential scan for most of the table.
pub const BOUNDS_SQL: &str = "\
    SELECT $2::date::timestamp AT TIME ZONE f.time_zone, \
           ($3::date + 1)::timestamp AT TIME ZONE f.time_zone \
    FROM facilities f WHERE f.id = $1";

/// One row per local day with the day's bounds; each count is an index range scan of that
/// day (no per-row time zone conversion, no grouping of a million rows).
pub(super) const DAILY_SQL: &str = "\
    WITH d AS (SELECT g::date AS day, \
                      g::date::timestamp AT TIME ZONE f.time_zone AS lo, \
                      (g::date + 1)::timestamp AT TIME ZONE f.time_zone AS hi \
               FROM facilities f, generate_series($2::date, $3::date, interval '1 day') AS g \
               WHERE f.id = $1) \
    SELECT d.day, \
           (SELECT count(*) FROM packages p WHERE p.facility_id = $1 \
                AND p.received_at >= d.lo AND p.received_at < d.hi) AS received, \
           (SELECT count(*) FROM packages p WHERE p.facility_id = $1 \
                AND p.picked_up_at >= d.lo AND p.picked_up_at < d.hi) AS picked_up \
    FROM d ORDER BY d.day";

pub(super) const AGING_SQL: &str = "\
    SELECT x.age, x.n \
    FROM (SELECT count(*) FILTER (WHERE a < interval '1 day') AS d0, \
                 count(*) FILTER (WHERE a >= interval '1 day' AND a < interval '3 days') AS d1, \
                 count(*) FILTER (WHERE a >= interval '3 days' AND a < interval '7 days') AS d3, \
                 count(*) FILTER (WHERE a >= interval '7 days' AND a < interval '14 days') AS d7, \
                 count(*) FILTER (WHERE a >= interval '14 days') AS d14 \
          FROM (SELECT now() - p.received_at AS a FROM packages p \
                WHERE p.facility_id = $1 AND p.status = 'waiting') w) c \
    CROSS JOIN LATERAL (VALUES (1, '<1d', c.d0), (2, '1-3d', c.d1), (3, '3-7d', c.d3), \
                               (4, '7-14d', c.d7), (5, '14d+', c.d14)) AS x(ord, age, n) \
    ORDER BY x.ord";

pub(super) const CARRIERS_SQL: &str = concat!(
    "SELECT coalesce(p.carrier, '(unknown)') AS carrier, count(*) AS received \
     FROM packages p WHERE",
    " p.facility_id = $1 AND p.received_at >= $4 AND p.received_at < $5 ",
    "GROUP BY p.carrier \
     ORDER BY count(*) DESC, p.carrier NULLS LAST"
);

pub const PICKUP_TIME_SQL: &str = concat!(
    "SELECT s.n AS picked_up, s.q[1] AS median_hours, s.q[2] AS p90_hours \
     FROM (SELECT count(*) AS n, \
                  percentile_cont(ARRAY[0.5, 0.9]::float8[]) WITHIN GROUP \
                  (ORDER BY extract(epoch FROM p.picked_up_at - p.received_at)::float8 / 3600.0) \
                  AS q \
           FROM packages p WHERE",
    " p.facility_id = $1 AND p.picked_up_at >= $4 AND p.picked_up_at < $5 ",
    ") s"
);

/// Pickup time, fast path (migrations/0009_pickup_rollup.sql): pickups per wait bucket in
/// the range — the rollup's counts for whole UTC days `[$2, $3)` and the packages' own for
/// the partial days at the edges, `[$4, $5)` and `[$6, $7)`.
pub const PICKUP_HISTOGRAM_SQL: &str = "\
    SELECT x.bucket, sum(x.n)::bigint FROM ( \
        SELECT r.bucket, r.n::bigint AS n FROM pickup_wait_rollup r \
        WHERE r.facility_id = $1 AND r.day >= $2 AND r.day < $3 \
        UNION ALL \
        SELECT pickup_wait_bucket(p.wait_secs), count(*) FROM packages p \
        WHERE p.facility_id = $1 AND ((p.picked_up_at >= $4 AND p.picked_up_at < $5) \
                                   OR (p.picked_up_at >= $6 AND p.picked_up_at < $7)) \
        GROUP BY 1) x \
    GROUP BY x.bucket ORDER BY x.bucket";

/// The waits of one bucket `$6` (seconds in `[$4, $5)`) picked up in `[$2, $3)`, in order:
/// an index range scan of `packages_wait`.
pub const PICKUP_BUCKET_SQL: &str = "\
    SELECT p.wait_secs FROM packages p \
    WHERE p.facility_id = $1 AND p.picked_up_at >= $2 AND p.picked_up_at < $3 \
      AND p.wait_secs >= $4 AND p.wait_secs < $5 AND pickup_wait_bucket(p.wait_secs) = $6 \
    ORDER BY p.wait_secs";

/// The seconds `[lo, hi)` of a wait bucket, as `pickup_wait_bucket` assigns them: hours
/// under two days, 8-hour steps up to 60 days, then everything longer (negative waits, from
/// clock skew, count as bucket 0).
pub fn wait_bucket_bounds(bucket: i32) -> (f64, f64) {
    const H: f64 = 3600.0;
    match bucket {
        i32::MIN..=0 => (f64::NEG_INFINITY, H),
        1..=47 => (f64::from(bucket) * H, f64::from(bucket + 1) * H),
        48..=221 => {
            let lo = 48.0 * H + f64::from(bucket - 48) * 8.0 * H;
            (lo, lo + 8.0 * H)
        }
        _ => (60.0 * 24.0 * H, f64::INFINITY),
    }
}

/// `percentile_cont(p)` of sorted values, as PostgreSQL computes it.
pub(super) fn lerp_rank(p: f64, n: i64) -> (i64, i64, f64) {
    let x = p * (n - 1) as f64;
    let first = x.floor();
    (first as i64, x.ceil() as i64, x - first)
}

/// Count, median and 90th percentile (hours) of the waits picked up in `[lo, hi)`: exact,
/// the same numbers as [`PICKUP_TIME_SQL`], without sorting the range. `None` when the
/// rollup does not match the packages in a bucket it reads (then the caller runs the exact
/// statement).
pub async fn pickup_time_fast(
    tx: &mut TenantTx<'_>,
    lo: DateTime<Utc>,
    hi: DateTime<Utc>,
) -> Result<Option<(i64, Option<f64>, Option<f64>)>, AppError> {
    let facility = tx.facility().0;
    let midnight = |d: NaiveDate| d.and_time(chrono::NaiveTime::MIN).and_utc();
    let lo_day = lo.date_naive();
    let d1 = if lo == midnight(lo_day) {
        lo_day
    } else {
        lo_day + chrono::Duration::days(1)
    };
    let d2 = hi.date_naive();
    let (full, edge1, edge2) = if d1 < d2 {
        ((d1, d2), (lo, midnight(d1)), (midnight(d2), hi))
    } else {
        ((d1, d1), (lo, hi), (hi, hi))
    };
    let hist: Vec<(i32, i64)> = sqlx::query_as(PICKUP_HISTOGRAM_SQL)
        .bind(facility)
        .bind(full.0)
        .bind(full.1)
        .bind(edge1.0)
        .bind(edge1.1)
        .bind(edge2.0)
        .bind(edge2.1)
        .fetch_all(tx.conn())
        .await?;
    let n: i64 = hist.iter().map(|(_, c)| *c).sum();
    if hist.iter().any(|(_, c)| *c < 0) {
        tracing::warn!(
            facility,
            "pickup wait rollup has negative counts; exact sort instead \
             (SELECT rebuild_pickup_wait_rollup() as the owner recounts it)"
        );
        return Ok(None);
    }
    if n == 0 {
        return Ok(Some((0, None, None)));
    }
    let percentiles = [lerp_rank(0.5, n), lerp_rank(0.9, n)];
    // The bucket of each rank needed, and the rank's place within it.
    let locate = |rank: i64| -> (i32, i64, i64) {
        let mut before = 0;
        for (b, c) in &hist {
            if rank < before + c {
                return (*b, rank - before, *c);
            }
            before += c;
        }
        let (b, c) = hist[hist.len() - 1];
        (b, c - 1, c)
    };
    let mut fetched: Vec<(i32, Vec<f64>)> = Vec::new();
    let mut value = Vec::new();
    for (first, second, _) in percentiles {
        for rank in [first, second] {
            let (bucket, at, expected) = locate(rank);
            if !fetched.iter().any(|(b, _)| *b == bucket) {
                let (blo, bhi) = wait_bucket_bounds(bucket);
                let waits: Vec<f64> = sqlx::query_scalar(PICKUP_BUCKET_SQL)
                    .bind(facility)
                    .bind(lo)
                    .bind(hi)
                    .bind(blo - 1.0)
                    .bind(bhi + 1.0)
                    .bind(bucket)
                    .fetch_all(tx.conn())
                    .await?;
                if i64::try_from(waits.len()).ok() != Some(expected) {
                    tracing::warn!(
                        facility,
                        bucket,
                        rollup = expected,
                        packages = waits.len(),
                        "pickup wait rollup does not match the packages; exact sort instead \
                         (SELECT rebuild_pickup_wait_rollup() as the owner recounts it)"
                    );
                    return Ok(None);
                }
                fetched.push((bucket, waits));
            }
            let waits = fetched
                .iter()
                .find(|(b, _)| *b == bucket)
                .map(|(_, w)| w)
                .ok_or(AppError::NotFound)?;
            let idx = usize::try_from(at).map_err(|_| AppError::NotFound)?;
            value.push(waits.get(idx).copied().ok_or(AppError::NotFound)? / 3600.0);
        }
    }
    let at = |i: usize, prop: f64| value[i] + prop * (value[i + 1] - value[i]);
    Ok(Some((
        n,
        Some(at(0, percentiles[0].2)),
        Some(at(2, percentiles[1].2)),
    )))
}

pub(super) const STAFF_SQL: &str = concat!(
    "WITH r AS (SELECT coalesce(p.received_by, 0) AS uid, count(*) AS n FROM packages p WHERE",
    " p.facility_id = $1 AND p.received_at >= $4 AND p.received_at < $5 ",
    "GROUP BY 1), \
       h AS (SELECT coalesce(p.picked_up_by, 0) AS uid, count(*) AS n FROM packages p WHERE",
    " p.facility_id = $1 AND p.picked_up_at >= $4 AND p.picked_up_at < $5 ",
    "GROUP BY 1) \
     SELECT coalesce(u.login, '(none)') AS login, coalesce(r.n, 0) AS received, \
            coalesce(h.n, 0) AS handed_over \
     FROM r FULL JOIN h USING (uid) LEFT JOIN users u ON u.id = uid \
     ORDER BY u.login IS NULL, u.login"
);

/// Transaction-local settings of a report run: a bound on its run time, room for the
/// percentile sort to stay in memory, and no JIT (compiling costs more than these
/// statements take to run), and a plan for the actual bounds every time (a cached generic
/// plan would guess the range's size). Public for the benchmark's EXPLAIN.
pub const SETTINGS_SQL: &str = "SELECT set_config('statement_timeout', '30s', true), \
     set_config('work_mem', '64MB', true), set_config('jit', 'off', true), \
     set_config('plan_cache_mode', 'force_custom_plan', true)";

/// A package received or picked up in `[$4, $5)`: the rows of the parcels report and of the
/// Reports screen's day list, so the screen and its CSV list the same parcels. Two index
/// range scans (`packages_received_range`, `packages_picked_up_range`) OR-ed as bitmaps.
macro_rules! parcels_where {
    () => {
        " p.facility_id = $1 AND ((p.received_at >= $4 AND p.received_at < $5) \
             OR (p.picked_up_at >= $4 AND p.picked_up_at < $5)) "
    };
}

/// When a listed parcel's event in the range happened: its intake when that is in the
/// range, else its pickup. The order of both lists (then by id).
macro_rules! parcels_at {
    () => {
        " CASE WHEN p.received_at >= $4 AND p.received_at < $5 THEN p.received_at \
             ELSE p.picked_up_at END "
    };
}

/// The parcels report: every package received or picked up in the range, in the order its
/// event happened, times local to the facility. Names and logins, no contact data.
pub const PARCELS_SQL: &str = concat!(
    "SELECT (p.received_at AT TIME ZONE f.time_zone) AS received_at, p.tracking, \
            coalesce(p.carrier, '') AS carrier, coalesce(r.name, '(unmatched)') AS recipient, \
            coalesce(r.unit, '') AS unit, p.status, p.location, \
            (p.picked_up_at AT TIME ZONE f.time_zone) AS picked_up_at, \
            coalesce(p.picked_up_name, '') AS collected_by, \
            CASE WHEN p.picked_up_at IS NULL THEN '' \
                 WHEN p.proxy_name IS NOT NULL THEN 'yes' ELSE 'no' END AS proxy, \
            coalesce(ru.login, '') AS received_by, coalesce(hu.login, '') AS handed_over_by \
     FROM packages p JOIN facilities f ON f.id = p.facility_id \
     LEFT JOIN recipients r ON r.facility_id = p.facility_id AND r.id = p.recipient_id \
     LEFT JOIN users ru ON ru.id = p.received_by \
     LEFT JOIN users hu ON hu.id = p.picked_up_by \
     WHERE",
    parcels_where!(),
    "ORDER BY",
    parcels_at!(),
    ", p.id"
);

/// One page of the day list (`LIMIT $6 OFFSET $7`) and the day's totals, in one statement
/// (one snapshot: the totals count exactly the rows paged through). The page is cut from the
/// day's rows first and only its rows are joined to names (a few hundred index lookups, not
/// a hash of every recipient). Always one row at least: the totals, with an empty page.
/// Public, like [`PARCELS_SQL`], for `examples/reports_day.rs`' EXPLAIN.
pub const DAY_PAGE_SQL: &str = concat!(
    "WITH d AS ( \
         SELECT p.id, p.tracking, p.carrier, p.recipient_id, p.status, p.location, \
                p.received_at, p.picked_up_at, p.picked_up_name, \
                p.proxy_name IS NOT NULL AS proxy, p.received_by, p.picked_up_by, \
                (p.received_at >= $4 AND p.received_at < $5) AS rin, \
                coalesce(p.picked_up_at >= $4 AND p.picked_up_at < $5, false) AS pin, ",
    parcels_at!(),
    " AS at FROM packages p WHERE",
    parcels_where!(),
    "), \
     t AS (SELECT count(*) AS listed, count(*) FILTER (WHERE rin) AS received, \
                  count(*) FILTER (WHERE pin) AS picked_up, \
                  count(*) FILTER (WHERE rin AND status = 'waiting') AS waiting FROM d) \
     SELECT t.listed, t.received, t.picked_up, t.waiting, x.id, x.tracking, x.carrier, \
            x.recipient_name, x.recipient_unit, x.status, x.location, x.received_at, \
            x.picked_up_at, x.picked_up_name, x.proxy, x.received_by, x.handed_over_by \
     FROM t LEFT JOIN LATERAL ( \
         SELECT g.id, g.tracking, g.carrier, r.name AS recipient_name, \
                r.unit AS recipient_unit, g.status, g.location, g.received_at, \
                g.picked_up_at, g.picked_up_name, g.proxy, ru.login AS received_by, \
                hu.login AS handed_over_by, g.at \
         FROM (SELECT * FROM d ORDER BY d.at, d.id LIMIT $6 OFFSET $7) g \
         LEFT JOIN recipients r ON r.facility_id = $1 AND r.id = g.recipient_id \
         LEFT JOIN users ru ON ru.id = g.received_by \
         LEFT JOIN users hu ON hu.id = g.picked_up_by) x ON true \
     ORDER BY x.at, x.id"
);
