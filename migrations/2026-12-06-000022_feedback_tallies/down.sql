DROP TRIGGER feedback_tallies_delete ON feedback;
DROP TRIGGER feedback_tallies_update ON feedback;
DROP TRIGGER feedback_tallies_insert ON feedback;
DROP FUNCTION feedback_tallies_apply();
DROP FUNCTION feedback_tally_of(feedback, int);
DROP TABLE feedback_tallies;
