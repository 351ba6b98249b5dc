-- The messenger seam: a channel names its messenger, and the messenger's ids are text (a MAX
-- bot, a Telegram Business connection), in channels and in the parts sent of operators'
-- messages. SQLite cannot change a column's type, so both tables are rebuilt and their rows
-- copied; the same statements run on Postgres. Every existing row is a Telegram bot's.

CREATE TABLE channel_new (
    channel_id         TEXT PRIMARY KEY,
    account_id         TEXT NOT NULL REFERENCES account (account_id),
    -- `domain::MessengerKind::as_str`: 'telegram'.
    messenger          TEXT NOT NULL,
    -- The messenger's id of the bot (Telegram: the digits before the token's colon).
    bot_id             TEXT NOT NULL,
    bot_username       TEXT NOT NULL,
    bot_token_enc      TEXT NOT NULL,
    -- Random path segment of the bot's webhook, never the token.
    webhook_key        TEXT NOT NULL UNIQUE,
    -- The secret the messenger sends back with every webhook.
    webhook_secret_enc TEXT NOT NULL,
    mg_channel_id      BIGINT NOT NULL,
    -- sha256 of the channel settings last sent to MG; start-up compares it with the code's.
    settings_hash      TEXT NOT NULL,
    active             BIGINT NOT NULL DEFAULT 1,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL,
    -- Adding a bot again updates its row (and re-activates its MG channel).
    UNIQUE (account_id, messenger, bot_id)
);

INSERT INTO channel_new (channel_id, account_id, messenger, bot_id, bot_username, bot_token_enc,
    webhook_key, webhook_secret_enc, mg_channel_id, settings_hash, active, created_at, updated_at)
SELECT channel_id, account_id, 'telegram', CAST(bot_id AS TEXT), bot_username, bot_token_enc,
    webhook_key, webhook_secret_enc, mg_channel_id, settings_hash, active, created_at, updated_at
FROM channel;

CREATE TABLE sent_part_new (
    channel_id     TEXT NOT NULL REFERENCES channel_new (channel_id),
    mg_message_id  BIGINT NOT NULL,
    part           BIGINT NOT NULL,
    -- The messenger's ids of the chat and of the message that carries this part.
    chat_id        TEXT NOT NULL,
    message_id     TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    PRIMARY KEY (channel_id, mg_message_id, part)
);

INSERT INTO sent_part_new (channel_id, mg_message_id, part, chat_id, message_id, created_at)
SELECT channel_id, mg_message_id, part, CAST(chat_id AS TEXT), CAST(tg_message_id AS TEXT),
    created_at
FROM sent_part;

DROP TABLE sent_part;
DROP TABLE channel;
-- SQLite (3.26+) rewrites sent_part_new's reference to the renamed table; Postgres keeps it
-- by the table's identity.
ALTER TABLE channel_new RENAME TO channel;
ALTER TABLE sent_part_new RENAME TO sent_part;

-- A bot has one webhook, so it can serve one account at a time.
CREATE UNIQUE INDEX channel_active_bot ON channel (messenger, bot_id) WHERE active = 1;
CREATE INDEX sent_part_by_message ON sent_part (channel_id, chat_id, message_id);
CREATE INDEX sent_part_created ON sent_part (created_at);

-- Jobs name their direction, not a messenger (`domain::Direction`; the old names still read).
UPDATE job SET kind = 'to_mg' WHERE kind = 'telegram';
UPDATE job SET kind = 'to_messenger' WHERE kind = 'mg';
