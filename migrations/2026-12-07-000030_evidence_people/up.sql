-- Activity evidence that shows a person (a photo of a meeting, a recording) follows the
-- retention rule of citizens' data (Decree 13/2023): marked when uploaded, and its file
-- erased once the organisation's retention has run out since the activity was held.
-- The row stays (the activity's evidence is counted as before), its name and caption
-- emptied and `erased_at` set.
ALTER TABLE evidence
    ADD COLUMN shows_person boolean NOT NULL DEFAULT false,
    ADD COLUMN erased_at timestamptz;
CREATE INDEX evidence_people_idx ON evidence (organization_id, activity_id)
    WHERE shows_person AND erased_at IS NULL;
