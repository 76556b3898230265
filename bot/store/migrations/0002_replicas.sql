-- Replicas sharing one database: who is alive, which tasks each one drives, and which one
-- posts into a thread. SQLite has one process, which is always the only live replica.
CREATE TABLE IF NOT EXISTS replicas (
    id           TEXT PRIMARY KEY,
    host         TEXT NOT NULL,
    pid          INTEGER NOT NULL,
    started_at   REAL NOT NULL,
    heartbeat_at REAL NOT NULL,
    stopped_at   REAL,
    gateway      TEXT
);
ALTER TABLE tasks ADD COLUMN owner TEXT;
CREATE INDEX IF NOT EXISTS tasks_owned ON tasks(owner) WHERE state IN ('running', 'input_required');
CREATE TABLE IF NOT EXISTS thread_leases (
    thread     TEXT PRIMARY KEY,
    owner      TEXT NOT NULL,
    expires_at REAL NOT NULL
);
