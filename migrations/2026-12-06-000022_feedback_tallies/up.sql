-- The units' feedback figures of the province's roll-up, kept as they change instead of
-- counted from every record on each request (a million records took 0.5 s): per
-- organisation, day received and deadline, the counts the roll-up shows. Kept by
-- statement triggers in the transaction of every write to feedback, so they can never
-- disagree with the records; "overdue" is the open count of the days whose deadline has
-- passed, so it needs no daily job either.
CREATE TABLE feedback_tallies (
    organization_id uuid NOT NULL REFERENCES organizations (id),
    received_on date NOT NULL,
    deadline_on date NOT NULL,
    received bigint NOT NULL DEFAULT 0,
    answered bigint NOT NULL DEFAULT 0,
    answered_on_time bigint NOT NULL DEFAULT 0,
    open bigint NOT NULL DEFAULT 0,
    rated bigint NOT NULL DEFAULT 0,
    satisfied bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (organization_id, received_on, deadline_on)
);

-- What one record adds to its tally row (nothing once deleted).
CREATE FUNCTION feedback_tally_of(f feedback, sign int,
    OUT organization_id uuid, OUT received_on date, OUT deadline_on date, OUT received bigint,
    OUT answered bigint, OUT answered_on_time bigint, OUT open bigint, OUT rated bigint, OUT satisfied bigint)
LANGUAGE sql STABLE AS $$
    SELECT f.organization_id, (f.received_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date, f.deadline_on,
           sign, sign * (f.answered_at IS NOT NULL)::int,
           sign * coalesce((f.answered_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date <= f.deadline_on, false)::int,
           sign * (f.status IN ('received', 'accepted', 'in_progress'))::int,
           sign * (f.satisfaction IS NOT NULL)::int, sign * coalesce(f.satisfaction = 'satisfied', false)::int
$$;

-- Adds the deltas of a statement's rows (a transition table exists only for the
-- operations that have it, so the source is chosen before the query is planned). Rows
-- whose old and new values cancel, as most updates' do, touch no tally row; tally rows
-- are locked in key order, so concurrent statements cannot deadlock on them.
CREATE FUNCTION feedback_tallies_apply() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    source text := CASE TG_OP
        WHEN 'INSERT' THEN 'SELECT (feedback_tally_of(n, 1)).* FROM new_rows n WHERE n.deleted_at IS NULL'
        WHEN 'DELETE' THEN 'SELECT (feedback_tally_of(o, -1)).* FROM old_rows o WHERE o.deleted_at IS NULL'
        ELSE 'SELECT (feedback_tally_of(n, 1)).* FROM new_rows n WHERE n.deleted_at IS NULL
              UNION ALL SELECT (feedback_tally_of(o, -1)).* FROM old_rows o WHERE o.deleted_at IS NULL'
    END;
BEGIN
    EXECUTE format(
        'INSERT INTO feedback_tallies AS t
             (organization_id, received_on, deadline_on, received, answered, answered_on_time, open, rated, satisfied)
         SELECT d.organization_id, d.received_on, d.deadline_on, sum(d.received), sum(d.answered),
                sum(d.answered_on_time), sum(d.open), sum(d.rated), sum(d.satisfied)
         FROM (%s) d
         GROUP BY d.organization_id, d.received_on, d.deadline_on
         HAVING sum(d.received) <> 0 OR sum(d.answered) <> 0 OR sum(d.answered_on_time) <> 0
             OR sum(d.open) <> 0 OR sum(d.rated) <> 0 OR sum(d.satisfied) <> 0
         ORDER BY 1, 2, 3
         ON CONFLICT (organization_id, received_on, deadline_on) DO UPDATE SET
             received = t.received + excluded.received,
             answered = t.answered + excluded.answered,
             answered_on_time = t.answered_on_time + excluded.answered_on_time,
             open = t.open + excluded.open,
             rated = t.rated + excluded.rated,
             satisfied = t.satisfied + excluded.satisfied', source);
    RETURN NULL;
END $$;

CREATE TRIGGER feedback_tallies_insert AFTER INSERT ON feedback
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION feedback_tallies_apply();
CREATE TRIGGER feedback_tallies_update AFTER UPDATE ON feedback
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION feedback_tallies_apply();
CREATE TRIGGER feedback_tallies_delete AFTER DELETE ON feedback
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION feedback_tallies_apply();

-- The records already there, counted once; the triggers above already hold the table
-- against concurrent writers until this transaction commits.
INSERT INTO feedback_tallies
SELECT d.organization_id, d.received_on, d.deadline_on, sum(d.received), sum(d.answered),
       sum(d.answered_on_time), sum(d.open), sum(d.rated), sum(d.satisfied)
FROM (SELECT (feedback_tally_of(f, 1)).* FROM feedback f WHERE f.deleted_at IS NULL) d
GROUP BY d.organization_id, d.received_on, d.deadline_on;
