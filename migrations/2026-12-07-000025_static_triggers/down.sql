DROP TRIGGER feedback_tallies_insert ON feedback;
DROP TRIGGER feedback_tallies_update ON feedback;
DROP TRIGGER feedback_tallies_delete ON feedback;
DROP TRIGGER feedback_term_counts_insert ON feedback;
DROP TRIGGER feedback_term_counts_update ON feedback;
DROP TRIGGER feedback_term_counts_delete ON feedback;
DROP FUNCTION feedback_tallies_inserted();
DROP FUNCTION feedback_tallies_updated();
DROP FUNCTION feedback_tallies_deleted();
DROP FUNCTION feedback_term_counts_inserted();
DROP FUNCTION feedback_term_counts_updated();
DROP FUNCTION feedback_term_counts_deleted();

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

CREATE FUNCTION feedback_term_counts_apply() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    source text := CASE TG_OP
        WHEN 'INSERT' THEN 'SELECT n.organization_id, unnest(n.terms) AS term, 1 AS d FROM new_rows n WHERE n.deleted_at IS NULL'
        WHEN 'DELETE' THEN 'SELECT o.organization_id, unnest(o.terms) AS term, -1 AS d FROM old_rows o WHERE o.deleted_at IS NULL'
        ELSE 'SELECT n.organization_id, unnest(n.terms) AS term, 1 AS d FROM new_rows n WHERE n.deleted_at IS NULL
              UNION ALL SELECT o.organization_id, unnest(o.terms), -1 FROM old_rows o WHERE o.deleted_at IS NULL'
    END;
BEGIN
    EXECUTE format(
        'INSERT INTO feedback_term_counts AS t (organization_id, term, records)
         SELECT d.organization_id, d.term, sum(d.d) FROM (%s) d
         GROUP BY d.organization_id, d.term HAVING sum(d.d) <> 0
         ORDER BY 1, 2
         ON CONFLICT (organization_id, term) DO UPDATE SET records = t.records + excluded.records', source);
    RETURN NULL;
END $$;

CREATE TRIGGER feedback_term_counts_insert AFTER INSERT ON feedback
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION feedback_term_counts_apply();
CREATE TRIGGER feedback_term_counts_update AFTER UPDATE ON feedback
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION feedback_term_counts_apply();
CREATE TRIGGER feedback_term_counts_delete AFTER DELETE ON feedback
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION feedback_term_counts_apply();
