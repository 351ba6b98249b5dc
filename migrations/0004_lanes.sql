-- Fair delivery (store/queue.rs): each lane's head and state in a row of its own, and each
-- account's next due time, so that finding work walks short index ranges instead of the backlog.
-- Same portability rules as 0001.

-- One row per lane (a chat of a channel, in one direction), kept while the lane has jobs and for
-- a while after (its `customer_at` marks a chat as warm).
CREATE TABLE lane (
    lane         TEXT PRIMARY KEY,
    account_id   TEXT NOT NULL REFERENCES account (account_id),
    -- Which comes first inside an account: 0 = to MG (a customer's message); 1 = to the
    -- messenger, into a chat whose customer wrote within queue.warm_chat_minutes; 2 = any other
    -- send to the messenger (a mailing).
    class        BIGINT NOT NULL,
    -- The lane's oldest queued job, the only one that may run; NULL when the lane is empty.
    head_job_id  BIGINT,
    -- Unix ms from which the head may be claimed: when it was queued or is to be retried, or,
    -- while a worker holds it, the end of that worker's lease (an expired lease is due again).
    run_at       BIGINT NOT NULL DEFAULT 0,
    -- The replica holding the head, for its heartbeat.
    lease_owner  TEXT,
    -- For replies (to the messenger): when the customer of this chat last wrote (unix ms).
    customer_at  BIGINT NOT NULL DEFAULT 0
);

-- The claim: an account's due heads, class by class, oldest due first (ties in acceptance order:
-- a whole batch of jobs shares one run_at).
CREATE INDEX lane_next ON lane (account_id, class, run_at, head_job_id) WHERE head_job_id IS NOT NULL;
CREATE INDEX lane_held ON lane (lease_owner) WHERE lease_owner IS NOT NULL;

-- One row per account that has had jobs: when its next lane may be due (never later than the
-- truth; a claim that finds nothing sets it exactly), and which replica delivers it (the lease
-- of 0003's account_lease, which this table replaces).
CREATE TABLE account_queue (
    account_id  TEXT PRIMARY KEY REFERENCES account (account_id),
    due_at      BIGINT,
    owner       TEXT,
    lease_until BIGINT NOT NULL DEFAULT 0
);

CREATE INDEX account_queue_due ON account_queue (due_at) WHERE due_at IS NOT NULL;
CREATE INDEX account_queue_owner ON account_queue (owner) WHERE owner IS NOT NULL;

-- Jobs queued before this migration: their lanes and heads (the head is the smallest queued
-- job_id of its lane, as before). Leases are not carried over: the replicas were stopped for the
-- upgrade, so every head is due.
INSERT INTO lane (lane, account_id, class, head_job_id, run_at)
SELECT j.lane, j.account_id, CASE WHEN j.kind = 'telegram' THEN 0 ELSE 2 END, j.job_id, j.run_at
FROM job j
WHERE j.state = 'queued'
  AND NOT EXISTS (SELECT 1 FROM job e WHERE e.lane = j.lane AND e.state = 'queued' AND e.job_id < j.job_id);

INSERT INTO account_queue (account_id, due_at)
SELECT account_id, MIN(run_at) FROM lane WHERE head_job_id IS NOT NULL GROUP BY account_id;

UPDATE job SET lease_owner = NULL, lease_until = 0 WHERE state = 'queued' AND lease_owner IS NOT NULL;

DROP TABLE account_lease;
