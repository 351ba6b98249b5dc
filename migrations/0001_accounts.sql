-- One schema for SQLite and Postgres, run through sqlx's `any` driver. That driver knows only
-- TEXT, BIGINT and floats, so: ids are TEXT, flags are BIGINT 0/1, times are BIGINT unix seconds.
-- Columns ending in _enc hold values sealed by src/crypto.rs ("v1:" + base64), never clear text.

-- A connected CRM account (a "connection" in RetailCRM's modules).
CREATE TABLE account (
    account_id      TEXT PRIMARY KEY,
    -- sha256 fingerprint of the clientId, for look-ups; the id itself is only kept sealed.
    client_id_hash  TEXT NOT NULL UNIQUE,
    client_id_enc   TEXT NOT NULL,
    -- normalised origin of the CRM (https://acme.retailcrm.ru); one row per CRM account.
    crm_url         TEXT NOT NULL UNIQUE,
    api_key_enc     TEXT NOT NULL,
    -- info.mgTransport from the integration-modules/{code}/edit answer.
    mg_endpoint_url TEXT NOT NULL,
    mg_token_enc    TEXT NOT NULL,
    -- what the CRM's activity callback last said; the account works while active = 1 and frozen = 0.
    active          BIGINT NOT NULL DEFAULT 1,
    frozen          BIGINT NOT NULL DEFAULT 0,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
