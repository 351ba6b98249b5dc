-- Failed deliveries the merchant can see and repair (store/failures.rs). Same portability rules
-- as 0001.

-- Why a failed job failed, as a word the pages translate ('refused_by_mg', 'gave_up', …; see
-- bridge::failures), beside `last_error`, the other side's own words.
ALTER TABLE job ADD COLUMN failure_reason TEXT;
-- When the merchant or an operator last sent a failed job back to its lane: its age limit
-- (queue.max_age_hours) counts from here, not from when it was accepted.
ALTER TABLE job ADD COLUMN retried_at BIGINT;

-- Each attempt that did not deliver: when, and how it ended ('retry' or 'failed'), with the
-- error. A retried job's history follows it to its new job_id. Rows go with their job.
CREATE TABLE delivery_attempt (
    job_id   BIGINT NOT NULL,
    attempt  BIGINT NOT NULL,
    -- Unix milliseconds, like job.finished_at.
    at       BIGINT NOT NULL,
    outcome  TEXT NOT NULL,
    error    TEXT NOT NULL
);

CREATE INDEX delivery_attempt_job ON delivery_attempt (job_id, at);
-- The settings page's list: an account's failed jobs, newest first.
CREATE INDEX job_failed_by_account ON job (account_id, finished_at) WHERE state = 'failed';
