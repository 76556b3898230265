-- The W3C trace context of a request's span, so its tasks' spans join the trace after a restart.
ALTER TABLE requests ADD COLUMN traceparent TEXT;
