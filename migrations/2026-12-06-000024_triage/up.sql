-- Triage (issue 20): possible duplicates, merging, suggested categories and departments.

-- Words too common in feedback to tell two matters apart on their own (without marks):
-- function words, forms of address and the letter's boilerplate.
CREATE FUNCTION feedback_common_words() RETURNS text[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT ARRAY['va', 'cua', 'la', 'co', 'khong', 'duoc', 'da', 'dang', 'se', 'cho', 'voi', 'tai', 'trong', 'tren',
                 'den', 'tu', 'nay', 'do', 'thi', 'ma', 'nhung', 'cac', 'mot', 'nhu', 'de', 've', 'vi', 'neu', 'khi',
                 'con', 'rat', 'cung', 'lai', 'ra', 'vao', 'di', 'len', 'o', 'bi', 'boi', 'theo', 'qua', 'hay', 'hoac',
                 'nen', 'thuoc', 'toi', 'chung', 'ban', 'anh', 'chi', 'em', 'ong', 'ba', 'xin', 'kinh', 'gui', 'nguoi',
                 'dan', 'viec', 'so', 'ngay', 'thang', 'nam', 'nghi', 'xem', 'xet', 'phan', 'kien', 've', 'va', 'can',
                 'cho', 'gia', 'dinh', 'chung', 'minh', 'roi', 'van', 'chua', 'them', 'lam', 'sao', 'gi', 'nao', 'ai',
                 'duoc', 'hien', 'nay', 'vay', 'a', 'u', 'the', 'ky', 'tran', 'trong', 'cam', 'on']
$$;

-- What a record is about, for comparing it with others: its words and the pairs of
-- neighbouring words of its subject and content (Vietnamese words are mostly two
-- syllables), without marks or case, as hashes scoped to the organisation — so that an
-- index lookup finds only the organisation's records — leaving out common words (and
-- pairs of two), one-letter words and any token of five digits or more (phone and
-- identity numbers: nothing personal is hashed).
CREATE FUNCTION feedback_terms(org uuid, body text) RETURNS integer[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    WITH words AS (
        SELECT s.word, s.n, s.word = ANY (feedback_common_words()) AS common
        FROM unnest(regexp_split_to_array(lower(f_unaccent(body)), '[^a-z0-9]+')) WITH ORDINALITY AS s(word, n)
        WHERE s.word <> '' AND s.word !~ '[0-9]{5}'),
    pairs AS (
        SELECT word || ' ' || lead(word) OVER (ORDER BY n) AS term, common AND lead(common) OVER (ORDER BY n) AS common,
               lead(word) OVER (ORDER BY n) IS NULL AS last
        FROM words)
    SELECT coalesce(array_agg(DISTINCT hashtext(org::text || ' ' || t.term)), '{}')
    FROM (SELECT term FROM pairs WHERE NOT last AND NOT common
          UNION ALL
          SELECT word FROM words WHERE NOT common AND length(word) > 1) t
$$;

ALTER TABLE feedback ADD COLUMN terms integer[]
    GENERATED ALWAYS AS (feedback_terms(organization_id, subject || ' ' || content)) STORED;
CREATE INDEX feedback_terms_idx ON feedback USING gin (terms) WHERE deleted_at IS NULL;
-- The open records of an organisation by day received, where duplicates are looked for.
CREATE INDEX feedback_open_received_idx ON feedback (organization_id, received_at)
    WHERE deleted_at IS NULL AND status IN ('received', 'accepted', 'in_progress');

-- How many of an organisation's live records hold each term: a term's weight is its
-- rarity (inverse document frequency). Kept by statement triggers like the tallies.
CREATE TABLE feedback_term_counts (
    organization_id uuid NOT NULL,
    term            integer NOT NULL,
    records         bigint NOT NULL,
    PRIMARY KEY (organization_id, term)
);

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

INSERT INTO feedback_term_counts
SELECT organization_id, term, count(*) FROM feedback, unnest(terms) AS term
WHERE deleted_at IS NULL GROUP BY 1, 2;

-- The sender as a key: an HMAC (under a key the database never holds) of the
-- normalised phone and of the e-mail, so that records of one sender are found without
-- their contact leaving the protected sender table.
CREATE TABLE feedback_sender_keys (
    feedback_id     uuid NOT NULL REFERENCES feedback (id),
    organization_id uuid NOT NULL REFERENCES organizations (id),
    key             bytea NOT NULL,
    PRIMARY KEY (feedback_id, key)
);
CREATE INDEX feedback_sender_keys_idx ON feedback_sender_keys (organization_id, key);

-- Merged: a record about a matter another record already carries. Terminal; its
-- sender is kept and hears of the parent's answer; unmerging restores its status.
ALTER TABLE feedback DROP CONSTRAINT feedback_status_check;
ALTER TABLE feedback ADD CONSTRAINT feedback_status_check
    CHECK (status IN ('received', 'accepted', 'in_progress', 'answered', 'closed', 'rejected', 'forwarded', 'merged'));
CREATE TABLE feedback_merges (
    feedback_id     uuid PRIMARY KEY REFERENCES feedback (id),
    organization_id uuid NOT NULL REFERENCES organizations (id),
    parent_id       uuid NOT NULL REFERENCES feedback (id),
    status_before   text NOT NULL,
    merged_by       uuid,
    merged_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT feedback_merges_not_self CHECK (feedback_id <> parent_id)
);
CREATE INDEX feedback_merges_parent_idx ON feedback_merges (parent_id);

-- What was suggested for a record that came without a category or department, the
-- past records it came from, and what staff chose.
CREATE TABLE feedback_suggestions (
    feedback_id     uuid NOT NULL REFERENCES feedback (id),
    organization_id uuid NOT NULL REFERENCES organizations (id),
    kind            text NOT NULL CHECK (kind IN ('category', 'department')),
    rank            smallint NOT NULL CHECK (rank BETWEEN 1 AND 3),
    suggested_id    uuid NOT NULL,
    score           real NOT NULL,
    basis           jsonb NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (feedback_id, kind, rank)
);
CREATE TABLE feedback_triage (
    feedback_id            uuid PRIMARY KEY REFERENCES feedback (id),
    organization_id        uuid NOT NULL REFERENCES organizations (id),
    suggested_at           timestamptz NOT NULL,
    chosen_category_id     uuid,
    chosen_department_id   uuid,
    chosen_at              timestamptz,
    assigned_by_suggestion boolean NOT NULL DEFAULT false
);
CREATE INDEX feedback_triage_org_idx ON feedback_triage (organization_id, suggested_at);

-- Routing by suggestion is off unless an organisation turns it on with a minimum score.
ALTER TABLE organizations ADD COLUMN auto_assign_min_score real
    CHECK (auto_assign_min_score IS NULL OR auto_assign_min_score BETWEEN 0 AND 1);
