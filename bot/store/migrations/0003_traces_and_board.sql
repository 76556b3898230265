-- The W3C trace context of a request's span, so its tasks' spans join the trace after a restart.
ALTER TABLE requests ADD COLUMN traceparent TEXT;
-- Today's finished tasks per agent, for the web board's lanes.
CREATE INDEX IF NOT EXISTS tasks_finished ON tasks(finished_at) WHERE finished_at IS NOT NULL;
