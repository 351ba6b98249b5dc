-- Chats whose customer stopped or blocked the bot (MAX `bot_stopped`; Telegram's `kicked`
-- later): an operator's message to one is reported `access_restricted` at once, not retried
-- against a messenger that will refuse it. The row goes when the customer starts the bot again.
CREATE TABLE blocked_chat (
    channel_id TEXT NOT NULL,
    chat_id TEXT NOT NULL,
    blocked_at BIGINT NOT NULL,
    PRIMARY KEY (channel_id, chat_id)
);
