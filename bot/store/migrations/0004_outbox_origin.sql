-- The replica that queued a message: with replicas, it posts its own messages while it lives,
-- so two replicas do not race for the same thread (and for its request's rows).
ALTER TABLE outbox ADD COLUMN origin TEXT;
