-- Pickup codes are bearer secrets (whoever has one can collect the parcel at a kiosk). A
-- webhook receives them only when it was added with `--include-pickup-code`; every webhook
-- added before this migration stops receiving them (default off).
ALTER TABLE integrations
    ADD COLUMN include_pickup_code boolean NOT NULL DEFAULT false;
