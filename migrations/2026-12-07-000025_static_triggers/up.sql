-- The tallies' and term counts' triggers with one function per operation and static
-- SQL, whose plans PostgreSQL keeps, instead of one function building its SQL each time:
-- they run inside every filing, while the organisation's counter row is held, so their
-- time is every concurrent filing's wait. The tally of a row is taken once (LATERAL),
-- not once per column as `(f(row)).*` would.
DROP TRIGGER feedback_tallies_insert ON feedback;
DROP TRIGGER feedback_tallies_update ON feedback;
DROP TRIGGER feedback_tallies_delete ON feedback;
DROP FUNCTION feedback_tallies_apply();
DROP TRIGGER feedback_term_counts_insert ON feedback;
DROP TRIGGER feedback_term_counts_update ON feedback;
DROP TRIGGER feedback_term_counts_delete ON feedback;
DROP FUNCTION feedback_term_counts_apply();

CREATE FUNCTION feedback_tallies_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO feedback_tallies AS t (organization_id, received_on, deadline_on, received, answered, answered_on_time, open, rated, satisfied)
    SELECT d.organization_id, d.received_on, d.deadline_on, sum(d.received), sum(d.answered),
           sum(d.answered_on_time), sum(d.open), sum(d.rated), sum(d.satisfied)
    FROM (SELECT t.* FROM new_rows n, LATERAL feedback_tally_of(n, 1) t WHERE n.deleted_at IS NULL) d
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
        satisfied = t.satisfied + excluded.satisfied;
    RETURN NULL;
END $$;

CREATE FUNCTION feedback_tallies_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO feedback_tallies AS t (organization_id, received_on, deadline_on, received, answered, answered_on_time, open, rated, satisfied)
    SELECT d.organization_id, d.received_on, d.deadline_on, sum(d.received), sum(d.answered),
           sum(d.answered_on_time), sum(d.open), sum(d.rated), sum(d.satisfied)
    FROM (SELECT t.* FROM new_rows n, LATERAL feedback_tally_of(n, 1) t WHERE n.deleted_at IS NULL
          UNION ALL SELECT t.* FROM old_rows o, LATERAL feedback_tally_of(o, -1) t WHERE o.deleted_at IS NULL) d
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
        satisfied = t.satisfied + excluded.satisfied;
    RETURN NULL;
END $$;

CREATE FUNCTION feedback_tallies_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO feedback_tallies AS t (organization_id, received_on, deadline_on, received, answered, answered_on_time, open, rated, satisfied)
    SELECT d.organization_id, d.received_on, d.deadline_on, sum(d.received), sum(d.answered),
           sum(d.answered_on_time), sum(d.open), sum(d.rated), sum(d.satisfied)
    FROM (SELECT t.* FROM old_rows o, LATERAL feedback_tally_of(o, -1) t WHERE o.deleted_at IS NULL) d
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
        satisfied = t.satisfied + excluded.satisfied;
    RETURN NULL;
END $$;

CREATE FUNCTION feedback_term_counts_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO feedback_term_counts AS t (organization_id, term, records)
    SELECT d.organization_id, d.term, sum(d.d) FROM (SELECT n.organization_id, unnest(n.terms) AS term, 1 AS d FROM new_rows n WHERE n.deleted_at IS NULL) d
    GROUP BY d.organization_id, d.term HAVING sum(d.d) <> 0
    ORDER BY 1, 2
    ON CONFLICT (organization_id, term) DO UPDATE SET records = t.records + excluded.records;
    RETURN NULL;
END $$;

CREATE FUNCTION feedback_term_counts_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Most updates change neither the text nor whether the record is live.
    IF NOT EXISTS (SELECT 1 FROM new_rows n JOIN old_rows o ON o.id = n.id
                   WHERE n.terms IS DISTINCT FROM o.terms OR (n.deleted_at IS NULL) <> (o.deleted_at IS NULL)) THEN
        RETURN NULL;
    END IF;
    INSERT INTO feedback_term_counts AS t (organization_id, term, records)
    SELECT d.organization_id, d.term, sum(d.d) FROM (SELECT n.organization_id, unnest(n.terms) AS term, 1 AS d FROM new_rows n WHERE n.deleted_at IS NULL
          UNION ALL SELECT o.organization_id, unnest(o.terms) AS term, -1 AS d FROM old_rows o WHERE o.deleted_at IS NULL) d
    GROUP BY d.organization_id, d.term HAVING sum(d.d) <> 0
    ORDER BY 1, 2
    ON CONFLICT (organization_id, term) DO UPDATE SET records = t.records + excluded.records;
    RETURN NULL;
END $$;

CREATE FUNCTION feedback_term_counts_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO feedback_term_counts AS t (organization_id, term, records)
    SELECT d.organization_id, d.term, sum(d.d) FROM (SELECT o.organization_id, unnest(o.terms) AS term, -1 AS d FROM old_rows o WHERE o.deleted_at IS NULL) d
    GROUP BY d.organization_id, d.term HAVING sum(d.d) <> 0
    ORDER BY 1, 2
    ON CONFLICT (organization_id, term) DO UPDATE SET records = t.records + excluded.records;
    RETURN NULL;
END $$;

CREATE TRIGGER feedback_tallies_insert AFTER INSERT ON feedback
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION feedback_tallies_inserted();
CREATE TRIGGER feedback_tallies_update AFTER UPDATE ON feedback
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION feedback_tallies_updated();
CREATE TRIGGER feedback_tallies_delete AFTER DELETE ON feedback
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION feedback_tallies_deleted();
CREATE TRIGGER feedback_term_counts_insert AFTER INSERT ON feedback
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION feedback_term_counts_inserted();
CREATE TRIGGER feedback_term_counts_update AFTER UPDATE ON feedback
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION feedback_term_counts_updated();
CREATE TRIGGER feedback_term_counts_delete AFTER DELETE ON feedback
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION feedback_term_counts_deleted();

-- Statistics of the terms column (added by the triage migration), so that the planner
-- knows how common what it is asked for is.
ANALYZE feedback;
