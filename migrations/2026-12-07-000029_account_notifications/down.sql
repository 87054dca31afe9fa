DROP TRIGGER service_clients_account_deleted ON service_clients;
DROP TRIGGER service_clients_account_changed ON service_clients;
DROP TRIGGER users_account_deleted ON users;
DROP TRIGGER users_account_changed ON users;
DROP FUNCTION notify_account_changed();
