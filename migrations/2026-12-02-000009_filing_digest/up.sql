-- What a record filed with an `external_reference` was filed from (SHA-256 of the
-- request's fields), so that a resend with another body is refused rather than
-- answered with the record filed before. Records filed before this table have no row.
CREATE TABLE feedback_filings (
    feedback_id uuid PRIMARY KEY REFERENCES feedback (id) ON DELETE CASCADE,
    sha256      text NOT NULL
);
