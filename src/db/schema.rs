// @generated automatically by Diesel CLI.

diesel::table! {
    activities (id) {
        id -> Uuid,
        organization_id -> Uuid,
        plan_id -> Uuid,
        assignment_id -> Nullable<Uuid>,
        department_id -> Uuid,
        title -> Text,
        description -> Nullable<Text>,
        channel -> Text,
        audience -> Text,
        held_from -> Timestamptz,
        held_to -> Nullable<Timestamptz>,
        place -> Nullable<Text>,
        participant_count -> Nullable<Int4>,
        links -> Array<Nullable<Text>>,
        status -> Text,
        return_reason -> Nullable<Text>,
        submitted_at -> Nullable<Timestamptz>,
        verified_by -> Nullable<Uuid>,
        verified_at -> Nullable<Timestamptz>,
        version -> Int4,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        deleted_at -> Nullable<Timestamptz>,
        search -> Nullable<Text>,
        document_id -> Nullable<Uuid>,
    }
}

diesel::table! {
    activity_attendees (activity_id, user_id) {
        activity_id -> Uuid,
        user_id -> Uuid,
    }
}

diesel::table! {
    activity_items (activity_id, plan_item_id) {
        activity_id -> Uuid,
        plan_item_id -> Uuid,
        position -> Int4,
    }
}

diesel::table! {
    assignments (id) {
        id -> Uuid,
        organization_id -> Uuid,
        plan_id -> Uuid,
        plan_item_id -> Nullable<Uuid>,
        department_id -> Uuid,
        role -> Text,
        duty -> Nullable<Text>,
        starts_on -> Nullable<Date>,
        due_on -> Nullable<Date>,
        reporting -> Text,
        status -> Text,
        version -> Int4,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        deleted_at -> Nullable<Timestamptz>,
    }
}

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
    budget_allocations (id) {
        id -> Uuid,
        organization_id -> Uuid,
        line_id -> Uuid,
        allocated_on -> Date,
        amount -> Int8,
        decision_number -> Text,
        note -> Nullable<Text>,
        version -> Int4,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        deleted_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    budget_lines (id) {
        id -> Uuid,
        organization_id -> Uuid,
        plan_id -> Uuid,
        plan_item_id -> Nullable<Uuid>,
        activity_id -> Nullable<Uuid>,
        department_id -> Nullable<Uuid>,
        basis_document_id -> Nullable<Uuid>,
        code -> Text,
        title -> Text,
        estimate -> Int8,
        allocated -> Int8,
        spent -> Int8,
        settled_on -> Nullable<Date>,
        settled_amount -> Nullable<Int8>,
        settlement_note -> Nullable<Text>,
        note -> Nullable<Text>,
        version -> Int4,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        deleted_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    budget_spendings (id) {
        id -> Uuid,
        organization_id -> Uuid,
        line_id -> Uuid,
        spent_on -> Date,
        amount -> Int8,
        payee_kind -> Text,
        description -> Text,
        receipt_sha256 -> Nullable<Text>,
        receipt_size_bytes -> Nullable<Int8>,
        receipt_content_type -> Nullable<Text>,
        receipt_file_name -> Nullable<Text>,
        version -> Int4,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        deleted_at -> Nullable<Timestamptz>,
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
    documents (id) {
        id -> Uuid,
        organization_id -> Uuid,
        number -> Text,
        issued_on -> Nullable<Date>,
        issuer -> Text,
        title -> Text,
        version -> Int4,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        deleted_at -> Nullable<Timestamptz>,
        post_required -> Bool,
    }
}

diesel::table! {
    evidence (id) {
        id -> Uuid,
        organization_id -> Uuid,
        activity_id -> Uuid,
        sha256 -> Text,
        size_bytes -> Int8,
        content_type -> Text,
        file_name -> Text,
        caption -> Nullable<Text>,
        uploaded_by -> Nullable<Uuid>,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        deleted_at -> Nullable<Timestamptz>,
        shows_person -> Bool,
        erased_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    feedback (id) {
        id -> Uuid,
        organization_id -> Uuid,
        code -> Text,
        received_at -> Timestamptz,
        channel -> Text,
        kind -> Text,
        sender_type -> Text,
        anonymous -> Bool,
        subject -> Text,
        content -> Text,
        category_id -> Nullable<Uuid>,
        plan_item_id -> Nullable<Uuid>,
        department_id -> Nullable<Uuid>,
        deadline_on -> Date,
        deadline_reason -> Nullable<Text>,
        external_reference -> Nullable<Text>,
        source_client_id -> Nullable<Uuid>,
        status -> Text,
        status_reason -> Nullable<Text>,
        forwarded_to -> Nullable<Text>,
        answered_at -> Nullable<Timestamptz>,
        closed_at -> Nullable<Timestamptz>,
        satisfaction -> Nullable<Text>,
        satisfaction_channel -> Nullable<Text>,
        satisfaction_at -> Nullable<Timestamptz>,
        internal_note -> Nullable<Text>,
        version -> Int4,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        deleted_at -> Nullable<Timestamptz>,
        escalated_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    feedback_answers (id) {
        id -> Uuid,
        feedback_id -> Uuid,
        organization_id -> Uuid,
        text -> Text,
        attachments -> Array<Nullable<Text>>,
        answered_by -> Nullable<Uuid>,
        answered_at -> Timestamptz,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        deleted_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    feedback_categories (id) {
        id -> Uuid,
        organization_id -> Uuid,
        code -> Text,
        name -> Text,
        default_department_id -> Nullable<Uuid>,
        deadline_days -> Int4,
        version -> Int4,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        deleted_at -> Nullable<Timestamptz>,
        retention_years -> Nullable<Int4>,
    }
}

diesel::table! {
    feedback_counters (organization_id, year) {
        organization_id -> Uuid,
        year -> Int4,
        last_number -> Int4,
    }
}

diesel::table! {
    feedback_filings (feedback_id) {
        feedback_id -> Uuid,
        sha256 -> Text,
    }
}

diesel::table! {
    feedback_history (id) {
        id -> Uuid,
        feedback_id -> Uuid,
        from_status -> Nullable<Text>,
        to_status -> Text,
        note -> Nullable<Text>,
        actor_kind -> Text,
        actor_id -> Nullable<Uuid>,
        actor_name -> Nullable<Text>,
        at -> Timestamptz,
    }
}

diesel::table! {
    feedback_publications (feedback_id) {
        feedback_id -> Uuid,
        organization_id -> Uuid,
        summary -> Text,
        published_by -> Nullable<Uuid>,
        published_at -> Timestamptz,
    }
}

diesel::table! {
    feedback_senders (feedback_id) {
        feedback_id -> Uuid,
        name -> Nullable<Text>,
        phone -> Nullable<Text>,
        email -> Nullable<Text>,
        address -> Nullable<Text>,
        notify_by -> Array<Text>,
        erased_at -> Nullable<Timestamptz>,
        restricted_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    holidays (id) {
        id -> Uuid,
        organization_id -> Uuid,
        day -> Date,
        name -> Text,
        version -> Int4,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        deleted_at -> Nullable<Timestamptz>,
        kind -> Text,
    }
}

diesel::table! {
    national_days (day) {
        day -> Date,
        kind -> Text,
        name -> Text,
        basis -> Text,
        source -> Text,
    }
}

diesel::table! {
    idempotency_keys (principal_id, key) {
        principal_id -> Uuid,
        key -> Text,
        request_hash -> Bytea,
        response_status -> Int2,
        response_headers -> Jsonb,
        response_body -> Bytea,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    indicators (id) {
        id -> Uuid,
        plan_id -> Uuid,
        organization_id -> Uuid,
        plan_item_id -> Nullable<Uuid>,
        code -> Text,
        name -> Text,
        unit -> Text,
        comparator -> Text,
        target_value -> Nullable<Float8>,
        baseline -> Nullable<Float8>,
        scope -> Text,
        version -> Int4,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        deleted_at -> Nullable<Timestamptz>,
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
    measurements (id) {
        id -> Uuid,
        indicator_id -> Uuid,
        organization_id -> Uuid,
        value -> Float8,
        measured_on -> Date,
        period -> Nullable<Text>,
        source -> Text,
        citation -> Nullable<Text>,
        link -> Nullable<Text>,
        note -> Nullable<Text>,
        version -> Int4,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        deleted_at -> Nullable<Timestamptz>,
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
        reporting_periods -> Text,
        auto_assign_min_score -> Nullable<Float4>,
        abbreviation -> Nullable<Text>,
        place_name -> Nullable<Text>,
        signer_name -> Nullable<Text>,
        signer_title -> Nullable<Text>,
        finance_department_id -> Nullable<Uuid>,
        publication_days -> Int4,
        retention_years -> Int4,
        privacy_notice_version -> Text,
    }
}

diesel::table! {
    plan_documents (plan_id, document_id) {
        plan_id -> Uuid,
        document_id -> Uuid,
        position -> Int4,
    }
}

diesel::table! {
    plan_imports (id) {
        id -> Uuid,
        plan_id -> Uuid,
        organization_id -> Uuid,
        format -> Text,
        content -> Jsonb,
        sha256 -> Text,
        mode -> Text,
        imported_by -> Nullable<Uuid>,
        imported_at -> Timestamptz,
        assignments_applied -> Bool,
    }
}

diesel::table! {
    plan_item_documents (plan_item_id, document_id) {
        plan_item_id -> Uuid,
        document_id -> Uuid,
        position -> Int4,
    }
}

diesel::table! {
    plan_items (id) {
        id -> Uuid,
        plan_id -> Uuid,
        organization_id -> Uuid,
        parent_id -> Nullable<Uuid>,
        position -> Int4,
        reference -> Text,
        kind -> Text,
        audience -> Nullable<Text>,
        channel -> Nullable<Text>,
        title -> Text,
        body -> Nullable<Text>,
        due_on -> Nullable<Date>,
        version -> Int4,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        deleted_at -> Nullable<Timestamptz>,
        search -> Nullable<Text>,
        implements_item_id -> Nullable<Uuid>,
    }
}

diesel::table! {
    plans (id) {
        id -> Uuid,
        organization_id -> Uuid,
        code -> Text,
        year -> Int4,
        title -> Text,
        status -> Text,
        period_from -> Nullable<Date>,
        period_to -> Nullable<Date>,
        decision -> Nullable<Jsonb>,
        parent_plan_id -> Nullable<Uuid>,
        implements_document_id -> Nullable<Uuid>,
        version -> Int4,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        deleted_at -> Nullable<Timestamptz>,
        search -> Nullable<Text>,
    }
}

diesel::table! {
    progress_reports (id) {
        id -> Uuid,
        organization_id -> Uuid,
        assignment_id -> Uuid,
        period -> Text,
        version_no -> Int4,
        summary -> Text,
        progress_percent -> Nullable<Int4>,
        activity_ids -> Array<Nullable<Uuid>>,
        status -> Text,
        due_on -> Date,
        late -> Bool,
        submitted_by -> Nullable<Uuid>,
        submitted_at -> Timestamptz,
        reviewed_by -> Nullable<Uuid>,
        reviewed_at -> Nullable<Timestamptz>,
        review_note -> Nullable<Text>,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        deleted_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    report_submissions (id) {
        id -> Uuid,
        organization_id -> Uuid,
        parent_organization_id -> Uuid,
        plan_id -> Uuid,
        period -> Text,
        period_from -> Date,
        period_to -> Date,
        version_no -> Int4,
        status -> Text,
        due_on -> Date,
        late -> Bool,
        body -> Text,
        sha256 -> Text,
        size_bytes -> Int8,
        note -> Nullable<Text>,
        decision_note -> Nullable<Text>,
        submitted_by -> Nullable<Uuid>,
        submitted_at -> Timestamptz,
        decided_by -> Nullable<Uuid>,
        decided_at -> Nullable<Timestamptz>,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        deleted_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    report_snapshots (id) {
        id -> Uuid,
        organization_id -> Uuid,
        plan_id -> Uuid,
        period -> Text,
        period_from -> Date,
        period_to -> Date,
        body -> Text,
        sha256 -> Text,
        size_bytes -> Int8,
        version -> Int4,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        deleted_at -> Nullable<Timestamptz>,
        reporting_periods -> Text,
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

diesel::table! {
    webhooks (id) {
        id -> Uuid,
        organization_id -> Uuid,
        url -> Text,
        event_types -> Array<Nullable<Text>>,
        description -> Nullable<Text>,
        active -> Bool,
        secret -> Text,
        previous_secret -> Nullable<Text>,
        previous_secret_expires_at -> Nullable<Timestamptz>,
        secret_rotated_at -> Timestamptz,
        disabled_reason -> Nullable<Text>,
        disabled_at -> Nullable<Timestamptz>,
        version -> Int4,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        deleted_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Uuid,
        webhook_id -> Uuid,
        organization_id -> Uuid,
        event_id -> Uuid,
        event_type -> Text,
        subject_key -> Text,
        payload -> Text,
        status -> Text,
        attempts -> Int4,
        last_status_code -> Nullable<Int4>,
        last_latency_ms -> Nullable<Int4>,
        last_error -> Nullable<Text>,
        next_attempt_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        delivered_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    notifications (id) {
        id -> Uuid,
        organization_id -> Uuid,
        user_id -> Uuid,
        kind -> Text,
        cause -> Text,
        subject_type -> Text,
        subject_id -> Nullable<Uuid>,
        title -> Text,
        created_at -> Timestamptz,
        read_at -> Nullable<Timestamptz>,
        title_en -> Nullable<Text>,
    }
}

diesel::table! {
    feedback_progress_notes (id) {
        id -> Uuid,
        feedback_id -> Uuid,
        organization_id -> Uuid,
        text -> Text,
        committed_on -> Date,
        written_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    feedback_extensions (id) {
        id -> Uuid,
        feedback_id -> Uuid,
        organization_id -> Uuid,
        working_days -> Int4,
        reason -> Text,
        previous_deadline -> Date,
        new_deadline -> Date,
        granted_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    feedback_tracking (feedback_id) {
        feedback_id -> Uuid,
        pin_hash -> Text,
        failures -> Int4,
        locked_until -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    feedback_reopenings (id) {
        id -> Uuid,
        feedback_id -> Uuid,
        organization_id -> Uuid,
        reason -> Text,
        previous_deadline -> Date,
        new_deadline -> Date,
        reopened_at -> Timestamptz,
    }
}

diesel::table! {
    feedback_locations (feedback_id) {
        feedback_id -> Uuid,
        organization_id -> Uuid,
        lat -> Nullable<Float8>,
        long -> Nullable<Float8>,
        address -> Nullable<Text>,
    }
}

diesel::table! {
    feedback_attachments (id) {
        id -> Uuid,
        organization_id -> Uuid,
        feedback_id -> Uuid,
        sha256 -> Text,
        size_bytes -> Int8,
        content_type -> Text,
        file_name -> Text,
        location_removed -> Bool,
        publishable -> Bool,
        uploaded_by -> Nullable<Uuid>,
        version -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        deleted_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    feedback_sender_keys (feedback_id, key) {
        feedback_id -> Uuid,
        organization_id -> Uuid,
        key -> Bytea,
    }
}

diesel::table! {
    feedback_merges (feedback_id) {
        feedback_id -> Uuid,
        organization_id -> Uuid,
        parent_id -> Uuid,
        status_before -> Text,
        merged_by -> Nullable<Uuid>,
        merged_at -> Timestamptz,
    }
}

diesel::table! {
    feedback_suggestions (feedback_id, kind, rank) {
        feedback_id -> Uuid,
        organization_id -> Uuid,
        kind -> Text,
        rank -> Int2,
        suggested_id -> Uuid,
        score -> Float4,
        basis -> Jsonb,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    feedback_triage (feedback_id) {
        feedback_id -> Uuid,
        organization_id -> Uuid,
        suggested_at -> Timestamptz,
        chosen_category_id -> Nullable<Uuid>,
        chosen_department_id -> Nullable<Uuid>,
        chosen_at -> Nullable<Timestamptz>,
        assigned_by_suggestion -> Bool,
    }
}

diesel::joinable!(activities -> assignments (assignment_id));
diesel::joinable!(activities -> departments (department_id));
diesel::joinable!(activities -> organizations (organization_id));
diesel::joinable!(activities -> plans (plan_id));
diesel::joinable!(activity_attendees -> activities (activity_id));
diesel::joinable!(activity_attendees -> users (user_id));
diesel::joinable!(activity_items -> activities (activity_id));
diesel::joinable!(activity_items -> plan_items (plan_item_id));
diesel::joinable!(assignments -> departments (department_id));
diesel::joinable!(assignments -> organizations (organization_id));
diesel::joinable!(assignments -> plan_items (plan_item_id));
diesel::joinable!(assignments -> plans (plan_id));
diesel::joinable!(departments -> organizations (organization_id));
diesel::joinable!(documents -> organizations (organization_id));
diesel::joinable!(evidence -> activities (activity_id));
diesel::joinable!(evidence -> organizations (organization_id));
diesel::joinable!(feedback -> departments (department_id));
diesel::joinable!(feedback -> feedback_categories (category_id));
diesel::joinable!(feedback -> organizations (organization_id));
diesel::joinable!(feedback -> plan_items (plan_item_id));
diesel::joinable!(feedback -> service_clients (source_client_id));
diesel::joinable!(feedback_answers -> feedback (feedback_id));
diesel::joinable!(feedback_attachments -> feedback (feedback_id));
diesel::joinable!(feedback_attachments -> organizations (organization_id));
diesel::joinable!(feedback_locations -> feedback (feedback_id));
diesel::joinable!(feedback_sender_keys -> feedback (feedback_id));
diesel::joinable!(feedback_suggestions -> feedback (feedback_id));
diesel::joinable!(feedback_triage -> feedback (feedback_id));
diesel::joinable!(feedback_locations -> organizations (organization_id));
diesel::joinable!(feedback_answers -> organizations (organization_id));
diesel::joinable!(feedback_categories -> departments (default_department_id));
diesel::joinable!(feedback_categories -> organizations (organization_id));
diesel::joinable!(feedback_counters -> organizations (organization_id));
diesel::joinable!(feedback_filings -> feedback (feedback_id));
diesel::joinable!(feedback_history -> feedback (feedback_id));
diesel::joinable!(feedback_publications -> feedback (feedback_id));
diesel::joinable!(feedback_publications -> organizations (organization_id));
diesel::joinable!(feedback_senders -> feedback (feedback_id));
diesel::joinable!(feedback_tracking -> feedback (feedback_id));
diesel::joinable!(holidays -> organizations (organization_id));
diesel::joinable!(webhook_deliveries -> webhooks (webhook_id));
diesel::joinable!(webhooks -> organizations (organization_id));
diesel::joinable!(indicators -> organizations (organization_id));
diesel::joinable!(indicators -> plan_items (plan_item_id));
diesel::joinable!(indicators -> plans (plan_id));
diesel::joinable!(measurements -> indicators (indicator_id));
diesel::joinable!(measurements -> organizations (organization_id));
diesel::joinable!(plan_documents -> documents (document_id));
diesel::joinable!(plan_documents -> plans (plan_id));
diesel::joinable!(plan_imports -> organizations (organization_id));
diesel::joinable!(plan_imports -> plans (plan_id));
diesel::joinable!(plan_item_documents -> documents (document_id));
diesel::joinable!(plan_item_documents -> plan_items (plan_item_id));
diesel::joinable!(plan_items -> organizations (organization_id));
diesel::joinable!(plan_items -> plans (plan_id));
diesel::joinable!(plans -> documents (implements_document_id));
diesel::joinable!(plans -> organizations (organization_id));
diesel::joinable!(progress_reports -> assignments (assignment_id));
diesel::joinable!(progress_reports -> organizations (organization_id));
diesel::joinable!(report_snapshots -> organizations (organization_id));
diesel::joinable!(report_snapshots -> plans (plan_id));
diesel::joinable!(service_clients -> organizations (organization_id));
diesel::joinable!(users -> departments (department_id));
diesel::joinable!(users -> organizations (organization_id));

diesel::allow_tables_to_appear_in_same_query!(
    budget_allocations,
    budget_lines,
    budget_spendings,
    activities,
    activity_attendees,
    activity_items,
    assignments,
    audit_events,
    departments,
    documents,
    evidence,
    feedback,
    feedback_answers,
    feedback_attachments,
    feedback_categories,
    feedback_counters,
    feedback_filings,
    feedback_extensions,
    feedback_history,
    feedback_locations,
    feedback_merges,
    feedback_sender_keys,
    feedback_suggestions,
    feedback_triage,
    feedback_progress_notes,
    feedback_reopenings,
    feedback_publications,
    feedback_senders,
    feedback_tracking,
    holidays,
    idempotency_keys,
    indicators,
    login_throttle,
    measurements,
    national_days,
    notifications,
    organizations,
    plan_documents,
    plan_imports,
    plan_item_documents,
    plan_items,
    plans,
    progress_reports,
    report_snapshots,
    report_submissions,
    service_clients,
    users,
    webhook_deliveries,
    webhooks,
);
