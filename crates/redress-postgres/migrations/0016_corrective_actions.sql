-- Corrective actions across cases (issue 14, item 5; SPEC §3 and
-- `GET /actions`): one row per action, derived from the case's decision
-- and written in the same transaction as the case row, so that the list of
-- open, overdue and done actions is an index range and never opens a case
-- document. `tracking_no` and `department` are copied from the case for
-- the same reason. Cases decided before this table existed are filled in
-- once at start-up (setting `corrective_actions_indexed`).
CREATE TABLE corrective_actions (
    case_id     uuid NOT NULL,
    action_id   text NOT NULL,
    tracking_no text NOT NULL,
    department  text,
    description text NOT NULL,
    owner       text NOT NULL,
    due_at      timestamptz NOT NULL,
    done_at     timestamptz,
    done_by     text,
    PRIMARY KEY (case_id, action_id)
);
CREATE INDEX corrective_actions_open ON corrective_actions (due_at) WHERE done_at IS NULL;
CREATE INDEX corrective_actions_open_department ON corrective_actions (department, due_at)
    WHERE done_at IS NULL;
CREATE INDEX corrective_actions_owner ON corrective_actions (owner, due_at);
CREATE INDEX corrective_actions_done ON corrective_actions (done_at) WHERE done_at IS NOT NULL;
