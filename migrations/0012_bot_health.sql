-- Bot health, alerts to the CRM's administrators, and response times (bridge/monitor.rs,
-- bridge/chat_clock.rs, web/bot_health.rs). Same portability rules as 0001; times here are
-- unix milliseconds, like the queue's.

-- What the last check of a bot found (Telegram getWebhookInfo, MAX subscriptions), so the
-- settings page shows it without calling the messenger, and every replica sees the same.
CREATE TABLE bot_health (
    channel_id        TEXT PRIMARY KEY,
    checked_at        BIGINT NOT NULL,
    -- 0 when the messenger answered 401: the token was revoked.
    token_ok          BIGINT NOT NULL,
    -- 1 when the webhook points at this service (MAX: our subscription is listed).
    webhook_ours      BIGINT NOT NULL,
    -- Telegram's last_error_message and last_error_date (ms), pending_update_count.
    webhook_error     TEXT,
    webhook_error_at  BIGINT,
    pending_updates   BIGINT NOT NULL DEFAULT 0,
    -- Why the last check itself failed (the messenger unreachable), if it did.
    check_error       TEXT
);

-- Open failure states. A row is opened once per failure; the CRM's administrators are told
-- once per row (notified_at); recovery deletes the row, so the next failure tells them again.
CREATE TABLE alert_state (
    account_id   TEXT NOT NULL,
    -- 'token_revoked', 'webhook_failing' (subject: the channel), 'mg_token_refused',
    -- 'delivery_failures' (subject: '').
    kind         TEXT NOT NULL,
    subject      TEXT NOT NULL,
    opened_at    BIGINT NOT NULL,
    notified_at  BIGINT,
    -- When to try the notification (again); attempts so far, for the backoff.
    next_try_at  BIGINT NOT NULL,
    attempts     BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, kind, subject)
);

CREATE INDEX alert_state_due ON alert_state (next_try_at) WHERE notified_at IS NULL;

-- Chats whose customer wrote and no operator has answered yet: since when (the customer's
-- message reached MG). No message text is kept. The first reply turns the row into a sample.
CREATE TABLE chat_wait (
    channel_id     TEXT NOT NULL,
    chat_id        TEXT NOT NULL,
    waiting_since  BIGINT NOT NULL,
    PRIMARY KEY (channel_id, chat_id)
);

CREATE INDEX chat_wait_since ON chat_wait (channel_id, waiting_since);

-- Time to first reply, one row per answered wait, kept 7 days.
CREATE TABLE reply_sample (
    channel_id  TEXT NOT NULL,
    replied_at  BIGINT NOT NULL,
    wait_ms     BIGINT NOT NULL
);

CREATE INDEX reply_sample_channel ON reply_sample (channel_id, replied_at);
CREATE INDEX reply_sample_replied ON reply_sample (replied_at);

-- When a bot last carried a customer's message in and an operator's message out.
CREATE TABLE channel_activity (
    channel_id    TEXT PRIMARY KEY,
    last_in_at    BIGINT NOT NULL DEFAULT 0,
    last_out_at   BIGINT NOT NULL DEFAULT 0
);

-- The settings page counts each bot's jobs finished in the last 24 h by the bot's lanes (a
-- range of `lane`), not by scanning every account's finished jobs.
CREATE INDEX job_lane_finished ON job (lane, finished_at) WHERE state <> 'queued';
