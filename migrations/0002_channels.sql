-- Telegram bots connected to an account; each is one MessageGateway channel.
-- Same portability rules as 0001: TEXT ids, BIGINT flags and unix-second times.

-- Set when MG refused the account's token and the CRM could not give a working one: the
-- merchant must connect the CRM again. Cleared by a successful (re)connect.
ALTER TABLE account ADD COLUMN needs_reconnect BIGINT NOT NULL DEFAULT 0;

CREATE TABLE channel (
    channel_id         TEXT PRIMARY KEY,
    account_id         TEXT NOT NULL REFERENCES account (account_id),
    -- Telegram's id of the bot (the digits before the token's colon; 64-bit).
    bot_id             BIGINT NOT NULL,
    bot_username       TEXT NOT NULL,
    bot_token_enc      TEXT NOT NULL,
    -- Random path segment of the bot's webhook, /telegram/{webhook_key}: never the token.
    webhook_key        TEXT NOT NULL UNIQUE,
    -- The secret_token Telegram sends back in X-Telegram-Bot-Api-Secret-Token.
    webhook_secret_enc TEXT NOT NULL,
    mg_channel_id      BIGINT NOT NULL,
    -- sha256 of the channel settings last sent to MG; start-up compares it with the code's.
    settings_hash      TEXT NOT NULL,
    active             BIGINT NOT NULL DEFAULT 1,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL,
    -- Adding a bot again updates its row (and re-activates its MG channel).
    UNIQUE (account_id, bot_id)
);

-- A bot has one webhook, so it can serve one account at a time.
CREATE UNIQUE INDEX channel_active_bot ON channel (bot_id) WHERE active = 1;
