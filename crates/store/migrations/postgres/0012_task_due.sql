-- The supervision worker reads the open tasks past their own due date.
CREATE INDEX tasks_due_open ON tasks(due_on) WHERE state IN ('open', 'claimed', 'proposed');
