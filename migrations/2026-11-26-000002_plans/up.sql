-- Plans: legal documents, plans issued by a decision, their tree of items, indicators
-- and measurements, and the files plans were imported from.

CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- unaccent() is only STABLE (it reads its dictionary); fixing the dictionary makes it
-- safe to use in generated columns and indexes.
CREATE FUNCTION f_unaccent(text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    AS $$ SELECT public.unaccent('public.unaccent'::regdictionary, $1) $$;

-- A legal text an organisation cites or implements, as recorded by that organisation.
CREATE TABLE documents (
    id               uuid PRIMARY KEY,
    organization_id  uuid NOT NULL REFERENCES organizations (id),
    number           text NOT NULL,
    issued_on        date,
    issuer           text NOT NULL,
    title            text NOT NULL,
    version          integer NOT NULL DEFAULT 1,
    created_by       uuid,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    deleted_at       timestamptz
);
CREATE UNIQUE INDEX documents_number_key ON documents (organization_id, lower(issuer), lower(number)) WHERE deleted_at IS NULL;
CREATE INDEX documents_org_idx ON documents (organization_id, id);
CREATE INDEX documents_sync_idx ON documents (organization_id, updated_at, id);

CREATE TABLE plans (
    id                      uuid PRIMARY KEY,
    organization_id         uuid NOT NULL REFERENCES organizations (id),
    code                    text NOT NULL,
    year                    integer NOT NULL,
    title                   text NOT NULL,
    status                  text NOT NULL DEFAULT 'draft',
    period_from             date,
    period_to               date,
    -- The issuing decision: number, date, place, title, signer, articles, recipients.
    decision                jsonb,
    parent_plan_id          uuid REFERENCES plans (id),
    implements_document_id  uuid REFERENCES documents (id),
    version                 integer NOT NULL DEFAULT 1,
    created_by              uuid,
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now(),
    deleted_at              timestamptz,
    search                  text GENERATED ALWAYS AS (lower(f_unaccent(code || ' ' || title))) STORED,
    CONSTRAINT plans_status_check CHECK (status IN ('draft', 'issued', 'in_progress', 'closed')),
    CONSTRAINT plans_year_check CHECK (year BETWEEN 2000 AND 2100),
    CONSTRAINT plans_period_check CHECK (period_from IS NULL OR period_to IS NULL OR period_from <= period_to),
    CONSTRAINT plans_not_own_parent CHECK (parent_plan_id IS DISTINCT FROM id)
);
CREATE UNIQUE INDEX plans_code_key ON plans (organization_id, lower(code)) WHERE deleted_at IS NULL;
CREATE INDEX plans_org_idx ON plans (organization_id, id);
CREATE INDEX plans_sync_idx ON plans (organization_id, updated_at, id);
CREATE INDEX plans_parent_idx ON plans (parent_plan_id);
CREATE INDEX plans_search_idx ON plans USING gin (search gin_trgm_ops);

-- The plan's legal bases (căn cứ), in the order the decision cites them.
CREATE TABLE plan_documents (
    plan_id      uuid NOT NULL REFERENCES plans (id),
    document_id  uuid NOT NULL REFERENCES documents (id),
    position     integer NOT NULL,
    PRIMARY KEY (plan_id, document_id)
);
CREATE INDEX plan_documents_document_idx ON plan_documents (document_id);

CREATE TABLE plan_items (
    id               uuid PRIMARY KEY,
    plan_id          uuid NOT NULL REFERENCES plans (id),
    organization_id  uuid NOT NULL REFERENCES organizations (id),
    parent_id        uuid REFERENCES plan_items (id),
    position         integer NOT NULL,
    reference        text NOT NULL,
    kind             text NOT NULL,
    audience         text,
    channel          text,
    title            text NOT NULL,
    body             text,
    due_on           date,
    version          integer NOT NULL DEFAULT 1,
    created_by       uuid,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    deleted_at       timestamptz,
    search           text GENERATED ALWAYS AS (lower(f_unaccent(reference || ' ' || title || ' ' || coalesce(body, '')))) STORED,
    CONSTRAINT plan_items_kind_check CHECK (kind IN ('part', 'section', 'objective', 'requirement', 'content', 'channel', 'task')),
    CONSTRAINT plan_items_audience_check CHECK (audience IN ('staff', 'public', 'all')),
    CONSTRAINT plan_items_not_own_parent CHECK (parent_id IS DISTINCT FROM id)
);
CREATE UNIQUE INDEX plan_items_reference_key ON plan_items (plan_id, reference) WHERE deleted_at IS NULL;
CREATE INDEX plan_items_plan_idx ON plan_items (plan_id, id);
CREATE INDEX plan_items_parent_idx ON plan_items (parent_id, position);
CREATE INDEX plan_items_sync_idx ON plan_items (plan_id, updated_at, id);
CREATE INDEX plan_items_search_idx ON plan_items USING gin (search gin_trgm_ops);

CREATE TABLE plan_item_documents (
    plan_item_id  uuid NOT NULL REFERENCES plan_items (id),
    document_id   uuid NOT NULL REFERENCES documents (id),
    position      integer NOT NULL,
    PRIMARY KEY (plan_item_id, document_id)
);
CREATE INDEX plan_item_documents_document_idx ON plan_item_documents (document_id);

CREATE TABLE indicators (
    id               uuid PRIMARY KEY,
    plan_id          uuid NOT NULL REFERENCES plans (id),
    organization_id  uuid NOT NULL REFERENCES organizations (id),
    plan_item_id     uuid REFERENCES plan_items (id),
    code             text NOT NULL,
    name             text NOT NULL,
    unit             text NOT NULL,
    comparator       text NOT NULL,
    target_value     double precision,
    baseline         double precision,
    scope            text NOT NULL DEFAULT 'organization',
    version          integer NOT NULL DEFAULT 1,
    created_by       uuid,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    deleted_at       timestamptz,
    CONSTRAINT indicators_unit_check CHECK (unit IN ('percent', 'count', 'rank', 'score', 'index', 'days', 'vnd', 'other')),
    CONSTRAINT indicators_comparator_check CHECK (comparator IN ('>=', '>', '<=', '<', '=', 'improves')),
    CONSTRAINT indicators_target_check CHECK (comparator = 'improves' OR target_value IS NOT NULL),
    CONSTRAINT indicators_scope_check CHECK (scope IN ('organization', 'province'))
);
CREATE UNIQUE INDEX indicators_code_key ON indicators (plan_id, lower(code)) WHERE deleted_at IS NULL;
CREATE INDEX indicators_plan_idx ON indicators (plan_id, id);
CREATE INDEX indicators_item_idx ON indicators (plan_item_id);
CREATE INDEX indicators_sync_idx ON indicators (plan_id, updated_at, id);

-- Measurements are facts as reported: never edited; a correction is a new one.
CREATE TABLE measurements (
    id               uuid PRIMARY KEY,
    indicator_id     uuid NOT NULL REFERENCES indicators (id),
    organization_id  uuid NOT NULL REFERENCES organizations (id),
    value            double precision NOT NULL,
    measured_on      date NOT NULL,
    period           text,
    source           text NOT NULL,
    citation         text,
    link             text,
    note             text,
    version          integer NOT NULL DEFAULT 1,
    created_by       uuid,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    deleted_at       timestamptz,
    CONSTRAINT measurements_source_check CHECK (source IN ('entered', 'computed')),
    CONSTRAINT measurements_citation_check CHECK (source = 'computed' OR citation IS NOT NULL OR link IS NOT NULL)
);
CREATE INDEX measurements_indicator_idx ON measurements (indicator_id, measured_on DESC, created_at DESC);
CREATE INDEX measurements_sync_idx ON measurements (indicator_id, updated_at, id);

-- Every imported file as it was received, so nothing in it is lost (the department
-- assignments it names are read again by the assignments feature).
CREATE TABLE plan_imports (
    id               uuid PRIMARY KEY,
    plan_id          uuid NOT NULL REFERENCES plans (id),
    organization_id  uuid NOT NULL REFERENCES organizations (id),
    format           text NOT NULL,
    content          jsonb NOT NULL,
    sha256           text NOT NULL,
    mode             text NOT NULL,
    imported_by      uuid,
    imported_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX plan_imports_plan_idx ON plan_imports (plan_id, imported_at);
