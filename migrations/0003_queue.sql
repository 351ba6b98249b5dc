-- The durable message queue and what delivery records. Same portability rules as 0001.

-- One job per accepted webhook: a Telegram update (kind 'telegram') or an MG webhook ('mg').
-- Jobs are never deleted when delivered, only marked done, so that a redelivered webhook
-- (Telegram repeats an update it thinks we missed, for up to 24 h) is recognised by its
-- dedupe_key; the janitor deletes done jobs after `queue.keep_done_hours`.
CREATE TABLE job (
    -- Acceptance order: microseconds since the epoch shifted left 12 bits, plus a random tag
    -- per process (see store/queue.rs); a job runs after every earlier job of its lane.
    job_id       BIGINT PRIMARY KEY,
    account_id   TEXT NOT NULL REFERENCES account (account_id),
    kind         TEXT NOT NULL,
    -- The ordering key: one chat of one channel. Jobs of a lane run one at a time, in job_id order.
    lane         TEXT NOT NULL,
    -- 'telegram:{channel}:{update_id}' or 'mg:{account}:{type}:{id}'; NULL when there is none.
    dedupe_key   TEXT UNIQUE,
    payload      TEXT NOT NULL,
    attempts     BIGINT NOT NULL DEFAULT 0,
    -- Unix milliseconds before which the job is not tried (backoff, retry_after).
    run_at       BIGINT NOT NULL,
    -- Which worker holds the job and until when (unix ms); an expired lease is free again, so
    -- a job held by a killed process is taken up after the lease runs out.
    lease_owner  TEXT,
    lease_until  BIGINT NOT NULL DEFAULT 0,
    -- 'queued', 'done' or 'failed' (reported, not retried).
    state        TEXT NOT NULL DEFAULT 'queued',
    last_error   TEXT,
    -- Unix milliseconds, like run_at.
    created_at   BIGINT NOT NULL,
    finished_at  BIGINT
);

-- The lane's head: the queued job with the smallest job_id in its lane.
CREATE INDEX job_queued_lane ON job (lane, job_id) WHERE state = 'queued';
CREATE INDEX job_queued_due ON job (run_at) WHERE state = 'queued';
CREATE INDEX job_finished ON job (finished_at) WHERE state <> 'queued';

-- Which replica delivers an account's jobs. One holder per account keeps the per-token
-- MG cap (30 req/s) and Telegram's per-bot and per-chat limits in one process's limiters.
CREATE TABLE account_lease (
    account_id  TEXT PRIMARY KEY REFERENCES account (account_id),
    owner       TEXT NOT NULL,
    lease_until BIGINT NOT NULL
);

-- Parts of an operator's message sent to Telegram (a long text is split, an album is several
-- messages). Written right after each send and before the ack to MG, so a job redelivered
-- after a crash skips the parts already sent.
CREATE TABLE sent_part (
    channel_id     TEXT NOT NULL REFERENCES channel (channel_id),
    mg_message_id  BIGINT NOT NULL,
    part           BIGINT NOT NULL,
    chat_id        BIGINT NOT NULL,
    tg_message_id  BIGINT NOT NULL,
    created_at     BIGINT NOT NULL,
    PRIMARY KEY (channel_id, mg_message_id, part)
);

CREATE INDEX sent_part_by_tg ON sent_part (channel_id, chat_id, tg_message_id);
