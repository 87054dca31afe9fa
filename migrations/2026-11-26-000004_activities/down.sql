DROP TABLE evidence;
DROP TABLE activity_attendees;
DROP TABLE activity_items;
DROP TABLE activities;
