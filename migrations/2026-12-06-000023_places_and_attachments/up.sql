-- Places and citizens' attachments on feedback (issue 19).

-- Distances on the earth's surface with an index: cube and earthdistance ship with the
-- server (both trusted, so the database's owner may create them); PostGIS is not needed.
CREATE EXTENSION IF NOT EXISTS cube;
CREATE EXTENSION IF NOT EXISTS earthdistance;

-- ll_to_earth's body names the type `earth` unqualified, so an index on it cannot be
-- rebuilt by pg_restore (which runs with an empty search_path); this wrapper fixes its
-- own search_path to where the extensions live.
CREATE FUNCTION feedback_earth(lat double precision, long double precision) RETURNS earth
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    SET search_path FROM CURRENT
    AS 'SELECT ll_to_earth(lat, long)';

-- Where the matter is (not the sender's address, which stays with the sender): a point,
-- a written address, or both. Its own table because `feedback` is at diesel's 32 columns.
CREATE TABLE feedback_locations (
    feedback_id     uuid PRIMARY KEY REFERENCES feedback (id),
    organization_id uuid NOT NULL REFERENCES organizations (id),
    lat             double precision,
    long            double precision,
    address         text,
    CONSTRAINT feedback_locations_lat_check CHECK (lat BETWEEN -90 AND 90),
    CONSTRAINT feedback_locations_long_check CHECK (long BETWEEN -180 AND 180),
    CONSTRAINT feedback_locations_point_check CHECK ((lat IS NULL) = (long IS NULL)),
    CONSTRAINT feedback_locations_something_check CHECK (lat IS NOT NULL OR address IS NOT NULL)
);
CREATE INDEX feedback_locations_earth_idx ON feedback_locations USING gist (feedback_earth(lat, long))
    WHERE lat IS NOT NULL;

-- Files a citizen sent with a record (photos, PDFs): stored like evidence, by SHA-256,
-- with location metadata taken out of photos before they are stored. Public only once
-- the record's result is published, and only those the coordinator marks publishable.
CREATE TABLE feedback_attachments (
    id               uuid PRIMARY KEY,
    organization_id  uuid NOT NULL REFERENCES organizations (id),
    feedback_id      uuid NOT NULL REFERENCES feedback (id),
    sha256           text NOT NULL,
    size_bytes       bigint NOT NULL,
    content_type     text NOT NULL,
    file_name        text NOT NULL,
    -- Whether location metadata (EXIF GPS, XMP) was found in the file and taken out.
    location_removed boolean NOT NULL DEFAULT false,
    publishable      boolean NOT NULL DEFAULT false,
    uploaded_by      uuid,
    version          integer NOT NULL DEFAULT 1,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    deleted_at       timestamptz,
    CONSTRAINT feedback_attachments_sha256_check CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    CONSTRAINT feedback_attachments_size_check CHECK (size_bytes >= 0)
);
CREATE INDEX feedback_attachments_feedback_idx ON feedback_attachments (feedback_id, id);
CREATE INDEX feedback_attachments_sha256_idx ON feedback_attachments (sha256);
CREATE INDEX feedback_attachments_sync_idx ON feedback_attachments (organization_id, updated_at, id);
