-- Every change to what a token is checked against is announced on channel
-- cchc_accounts (the payload: the account's id), delivered to every listening
-- instance when the changing transaction commits (auth::accounts).
CREATE FUNCTION notify_account_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('cchc_accounts', (CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END)::text);
    RETURN NULL;
END
$$;

CREATE TRIGGER users_account_changed
    AFTER UPDATE ON users FOR EACH ROW
    WHEN (OLD.active IS DISTINCT FROM NEW.active
       OR OLD.deleted_at IS DISTINCT FROM NEW.deleted_at
       OR OLD.password_changed_at IS DISTINCT FROM NEW.password_changed_at
       OR OLD.role IS DISTINCT FROM NEW.role
       OR OLD.department_id IS DISTINCT FROM NEW.department_id
       OR OLD.organization_id IS DISTINCT FROM NEW.organization_id
       OR OLD.username IS DISTINCT FROM NEW.username)
    EXECUTE FUNCTION notify_account_changed();

CREATE TRIGGER users_account_deleted
    AFTER DELETE ON users FOR EACH ROW
    EXECUTE FUNCTION notify_account_changed();

CREATE TRIGGER service_clients_account_changed
    AFTER UPDATE ON service_clients FOR EACH ROW
    WHEN (OLD.active IS DISTINCT FROM NEW.active
       OR OLD.deleted_at IS DISTINCT FROM NEW.deleted_at
       OR OLD.secret_rotated_at IS DISTINCT FROM NEW.secret_rotated_at
       OR OLD.scopes IS DISTINCT FROM NEW.scopes
       OR OLD.organization_id IS DISTINCT FROM NEW.organization_id
       OR OLD.name IS DISTINCT FROM NEW.name)
    EXECUTE FUNCTION notify_account_changed();

CREATE TRIGGER service_clients_account_deleted
    AFTER DELETE ON service_clients FOR EACH ROW
    EXECUTE FUNCTION notify_account_changed();
