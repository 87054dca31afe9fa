// @generated automatically by Diesel CLI.

diesel::table! {
    audit_events (id) {
        id -> Uuid,
        occurred_at -> Timestamptz,
        actor_kind -> Text,
        actor_id -> Nullable<Uuid>,
        actor_name -> Nullable<Text>,
        organization_id -> Nullable<Uuid>,
        action -> Text,
        entity_type -> Text,
        entity_id -> Nullable<Uuid>,
        changes -> Jsonb,
        request_id -> Nullable<Text>,
        client_addr -> Nullable<Text>,
    }
}

diesel::table! {
    departments (id) {
        id -> Uuid,
        organization_id -> Uuid,
        code -> Text,
        name -> Text,
        name_en -> Nullable<Text>,
        version -> Int4,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        deleted_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    idempotency_keys (principal_id, key) {
        principal_id -> Uuid,
        key -> Text,
        request_hash -> Bytea,
        state -> Text,
        response_status -> Nullable<Int2>,
        response_headers -> Nullable<Jsonb>,
        response_body -> Nullable<Bytea>,
        created_at -> Timestamptz,
        locked_at -> Timestamptz,
    }
}

diesel::table! {
    login_throttle (subject) {
        subject -> Text,
        failures -> Int4,
        window_started_at -> Timestamptz,
        locked_until -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    organizations (id) {
        id -> Uuid,
        code -> Text,
        name -> Text,
        name_en -> Nullable<Text>,
        parent_id -> Nullable<Uuid>,
        website -> Nullable<Text>,
        version -> Int4,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        deleted_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    service_clients (id) {
        id -> Uuid,
        organization_id -> Uuid,
        name -> Text,
        description -> Nullable<Text>,
        scopes -> Array<Nullable<Text>>,
        active -> Bool,
        secret_hash -> Text,
        secret_rotated_at -> Timestamptz,
        version -> Int4,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        deleted_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    users (id) {
        id -> Uuid,
        organization_id -> Nullable<Uuid>,
        department_id -> Nullable<Uuid>,
        username -> Text,
        full_name -> Text,
        email -> Nullable<Text>,
        role -> Text,
        active -> Bool,
        password_hash -> Text,
        password_changed_at -> Timestamptz,
        version -> Int4,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        deleted_at -> Nullable<Timestamptz>,
    }
}

diesel::joinable!(departments -> organizations (organization_id));
diesel::joinable!(service_clients -> organizations (organization_id));
diesel::joinable!(users -> departments (department_id));
diesel::joinable!(users -> organizations (organization_id));

diesel::allow_tables_to_appear_in_same_query!(
    audit_events,
    departments,
    idempotency_keys,
    login_throttle,
    organizations,
    service_clients,
    users,
);
