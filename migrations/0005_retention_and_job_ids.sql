-- Job ids count from 2025-01-01 instead of the unix epoch (store/queue.rs, `next_job_id`): the
-- old ids, unix microseconds shifted left 12 bits, overflow a BIGINT in 2041. Same portability
-- rules as 0001.

-- Stored ids move by the same constant, 2025-01-01 in unix microseconds shifted left 12 bits
-- (1735689600000000 << 12), so their order and uniqueness stay and each becomes exactly the id
-- the new scheme gives for the same time. No updated id can meet a not-yet-updated one (the unique
-- check runs row by row on Postgres and SQLite alike): the new values are all below 2^63 minus
-- the constant, about 2.1e18, and old ids that small date from before 1987. Every replica must
-- be stopped for this upgrade, as for 0004: an old binary's new ids would sort after all of these.
UPDATE job SET job_id = job_id - 7109384601600000000;
UPDATE lane SET head_job_id = head_job_id - 7109384601600000000 WHERE head_job_id IS NOT NULL;

-- The janitor deletes sent parts older than queue.keep_done_hours (store/sent.rs): by time.
CREATE INDEX sent_part_created ON sent_part (created_at);
