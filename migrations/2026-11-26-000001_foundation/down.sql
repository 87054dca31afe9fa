DROP TABLE login_throttle;
DROP TABLE idempotency_keys;
DROP TRIGGER audit_events_no_change ON audit_events;
DROP FUNCTION audit_events_immutable();
DROP TABLE audit_events;
DROP TABLE service_clients;
DROP TABLE users;
DROP TABLE departments;
DROP TABLE organizations;
