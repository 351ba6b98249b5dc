-- Telegram Business: an account owner connects a bot to their account, and each connection is
-- a channel of its own (its own MG channel), answered with the bot's token and the
-- connection's id. Such a channel's `bot_id` is `business:{connection id}` (unique beside the
-- bot's own row) and it names the bot's channel as its parent.
ALTER TABLE channel ADD COLUMN business_connection_id TEXT;
ALTER TABLE channel ADD COLUMN parent_channel_id TEXT;

-- What the connection is: whose account, what the owner allowed, and whether it is on.
CREATE TABLE business_connection (
    channel_id       TEXT PRIMARY KEY,
    connection_id    TEXT NOT NULL,
    bot_channel_id   TEXT NOT NULL,
    owner_user_id    TEXT NOT NULL,
    owner_name       TEXT NOT NULL,
    can_reply        BIGINT NOT NULL,
    can_read         BIGINT NOT NULL,
    enabled          BIGINT NOT NULL,
    connected_at     BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    UNIQUE (bot_channel_id, connection_id)
);
