-- Authorised proxies: the people a resident allows to collect their parcels ("Sam Lee
-- (partner)"), offered at pickup. A short bounded list that lives and dies with the resident,
-- so it is a column of `recipients` rather than a table: it inherits the row's facility, RLS
-- policy and grants, is locked and changed with the row, and needs no keys of its own.
-- The bounds are checked here as well as in the application (at most 5 names, each 1-80
-- characters), so no writer can store a longer list.

CREATE FUNCTION authorised_proxies_ok(names text[]) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
        SELECT coalesce(cardinality(names), 0) <= 5
           AND NOT EXISTS (SELECT 1 FROM unnest(names) n
                           WHERE n IS NULL OR char_length(n) NOT BETWEEN 1 AND 80)
    $$;

ALTER TABLE recipients
    ADD COLUMN authorised_proxies text[] NOT NULL DEFAULT '{}'
        CHECK (authorised_proxies_ok(authorised_proxies));
