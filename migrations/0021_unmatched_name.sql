-- The name on an unmatched parcel (issue 16): when intake finds no recipient and the clerk
-- records the parcel as unknown (Ctrl-U), the name typed in the search box is kept with it,
-- shown in the package detail and the unmatched list, so that someone can match it later.
-- NULL: matched at intake, or nothing was typed. The application cleans the text (no control
-- or bidi characters, one line, trimmed: domain::AddressedTo) and cuts it to 80 characters
-- (ADDRESSED_TO_MAX); the check is the second wall for the bound and for control characters,
-- which would reach every terminal that shows the row. `packages` keeps its row level
-- security and grants: a new column of a table the runtime role may already SELECT, INSERT
-- and UPDATE.
ALTER TABLE packages ADD COLUMN addressed_to text
    CHECK (addressed_to IS NULL
           OR (char_length(addressed_to) BETWEEN 1 AND 80
               AND addressed_to !~ '[\x01-\x1f\x7f-\x9f]'));
