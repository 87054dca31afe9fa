DROP TABLE feedback_attachments;
DROP TABLE feedback_locations;
DROP FUNCTION feedback_earth(double precision, double precision);
DROP EXTENSION earthdistance;
DROP EXTENSION cube;
