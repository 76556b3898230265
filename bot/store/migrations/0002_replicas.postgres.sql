-- Task numbers come from a sequence: replicas insert tasks side by side.
CREATE SEQUENCE IF NOT EXISTS task_seq;
SELECT setval('task_seq', (SELECT COALESCE(MAX(seq), 0) + 1 FROM tasks), false);
