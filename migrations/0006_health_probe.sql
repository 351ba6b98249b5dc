-- Readiness (web/health.rs) proves that the database takes writes, not only reads: a failed
-- write (a full disk, a file-size limit, a read-only replica) must turn the probe red. One row,
-- rewritten at most about once a second per process. Same portability rules as 0001.
CREATE TABLE health_probe (
    id          BIGINT PRIMARY KEY,
    -- Unix ms of the last probe that wrote it.
    checked_at  BIGINT NOT NULL
);

INSERT INTO health_probe (id, checked_at) VALUES (1, 0);
