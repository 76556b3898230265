CREATE TABLE IF NOT EXISTS requests (
    id           TEXT PRIMARY KEY,
    platform     TEXT NOT NULL,
    workspace    TEXT NOT NULL,
    channel      TEXT NOT NULL,
    thread       TEXT NOT NULL,
    message_id   TEXT NOT NULL,
    "user"       TEXT NOT NULL,
    user_name    TEXT,
    text         TEXT NOT NULL,
    is_dm        INTEGER NOT NULL,
    kind         TEXT NOT NULL DEFAULT 'received',
    state        TEXT NOT NULL,
    decision     TEXT,
    question     TEXT,
    parent_id    TEXT REFERENCES requests(id),
    round        INTEGER NOT NULL DEFAULT 0,
    created_at   REAL NOT NULL,
    finished_at  REAL
);
CREATE INDEX IF NOT EXISTS requests_by_thread
    ON requests(platform, workspace, channel, thread, created_at);
CREATE INDEX IF NOT EXISTS requests_by_user ON requests("user", state);
CREATE INDEX IF NOT EXISTS requests_by_user_time ON requests("user", created_at);
CREATE INDEX IF NOT EXISTS requests_finished ON requests(finished_at) WHERE state = 'done';
CREATE INDEX IF NOT EXISTS requests_open ON requests(state) WHERE state IN ('running', 'clarifying');

CREATE TABLE IF NOT EXISTS sessions (
    id           TEXT PRIMARY KEY,
    agent        TEXT NOT NULL,
    kind         TEXT NOT NULL,
    context_id   TEXT,
    created_at   REAL NOT NULL,
    last_used_at REAL,
    discarded_at REAL,
    scope        TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX IF NOT EXISTS sessions_scoped ON sessions(agent, scope) WHERE kind = 'persistent';

CREATE TABLE IF NOT EXISTS tasks (
    id             TEXT PRIMARY KEY,
    request_id     TEXT NOT NULL REFERENCES requests(id),
    spec_id        TEXT NOT NULL,
    seq            INTEGER NOT NULL,
    agent          TEXT NOT NULL,
    session_kind   TEXT NOT NULL,
    session_id     TEXT REFERENCES sessions(id),
    summary        TEXT NOT NULL,
    brief          TEXT NOT NULL,
    state          TEXT NOT NULL,
    remote_task_id TEXT,
    question       TEXT,
    result         TEXT,
    files          TEXT,
    error          TEXT,
    created_at     REAL NOT NULL,
    started_at     REAL,
    finished_at    REAL,
    deadline       REAL,
    attempt        INTEGER NOT NULL DEFAULT 0,
    session_key    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS tasks_by_request ON tasks(request_id);
CREATE INDEX IF NOT EXISTS tasks_active ON tasks(state, seq)
    WHERE state IN ('waiting', 'queued', 'running', 'input_required');
CREATE INDEX IF NOT EXISTS tasks_by_agent ON tasks(agent, state);
-- The web board's "done, failed and timed out today" per agent.
CREATE UNIQUE INDEX IF NOT EXISTS tasks_by_seq ON tasks(seq);
CREATE INDEX IF NOT EXISTS tasks_queue ON tasks(session_kind, agent, seq) WHERE state = 'queued';


CREATE TABLE IF NOT EXISTS task_deps (
    task_id    TEXT NOT NULL REFERENCES tasks(id),
    depends_on TEXT NOT NULL REFERENCES tasks(id),
    PRIMARY KEY (task_id, depends_on)
);
CREATE INDEX IF NOT EXISTS task_deps_reverse ON task_deps(depends_on);

CREATE TABLE IF NOT EXISTS processed_messages (
    key TEXT PRIMARY KEY,
    at  REAL NOT NULL
);

CREATE TABLE IF NOT EXISTS history (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    platform  TEXT NOT NULL,
    workspace TEXT NOT NULL,
    channel   TEXT NOT NULL,
    thread    TEXT NOT NULL,
    author    TEXT NOT NULL,
    role      TEXT NOT NULL,
    text      TEXT NOT NULL,
    at        REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS history_by_thread ON history(platform, workspace, channel, thread, id);

CREATE TABLE IF NOT EXISTS outbox (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id TEXT NOT NULL REFERENCES requests(id),
    task_id    TEXT REFERENCES tasks(id),
    kind       TEXT NOT NULL,
    thread     TEXT NOT NULL DEFAULT '',
    dedupe     TEXT UNIQUE,
    payload    TEXT NOT NULL,
    state      TEXT NOT NULL DEFAULT 'pending',
    attempts   INTEGER NOT NULL DEFAULT 0,
    next_at    REAL NOT NULL DEFAULT 0,
    last_error TEXT,
    ref        TEXT,
    created_at REAL NOT NULL,
    sent_at    REAL
);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox(state, next_at) WHERE state = 'pending';
CREATE INDEX IF NOT EXISTS outbox_by_request ON outbox(request_id, kind);
CREATE INDEX IF NOT EXISTS outbox_heads ON outbox(thread, id) WHERE state = 'pending';

CREATE TABLE IF NOT EXISTS agent_cards (
    agent      TEXT PRIMARY KEY,
    card       TEXT,
    fetched_at REAL,
    available  INTEGER NOT NULL DEFAULT 1,
    reason     TEXT
);

CREATE TABLE IF NOT EXISTS lessons (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    text       TEXT NOT NULL,
    agent      TEXT NOT NULL,
    wrong      TEXT,
    "user"     TEXT,
    created_at REAL NOT NULL,
    platform   TEXT,
    workspace  TEXT,
    shared     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS lessons_by_user ON lessons("user", id);

CREATE TABLE IF NOT EXISTS plans (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id      TEXT,
    planner         TEXT NOT NULL,
    model           TEXT,
    fallback_reason TEXT,
    repaired        INTEGER NOT NULL DEFAULT 0,
    input_tokens    INTEGER NOT NULL DEFAULT 0,
    output_tokens   INTEGER NOT NULL DEFAULT 0,
    latency_ms      REAL NOT NULL DEFAULT 0,
    created_at      REAL NOT NULL
);

CREATE TABLE IF NOT EXISTS boards (
    request_id TEXT PRIMARY KEY REFERENCES requests(id),
    ref        TEXT,
    version    INTEGER NOT NULL DEFAULT 0,
    shown      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS boards_stale ON boards(request_id) WHERE version > shown;
