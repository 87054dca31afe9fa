//! Handlers with their request and response types, one module per resource.

pub mod activities;
pub mod assignments;
pub mod audit;
pub mod auth;
pub mod budget;
pub mod checks;
pub mod crud;
pub mod data_protection;
pub mod departments;
pub mod documents;
pub mod events;
pub mod evidence;
pub mod examples;
pub mod exports;
pub mod feedback;
pub mod health;
pub mod indicators;
pub mod message_templates;
pub mod notifications;
pub mod open311;
pub mod organizations;
pub mod plan_items;
pub mod plans;
pub mod public;
pub mod reports;
pub mod service_clients;
pub mod staff_reach;
pub mod submissions;
pub mod tracking;
pub mod users;
pub mod webhooks;

use utoipa_actix_web::{scope, service_config::ServiceConfig};

/// Every operation under `/api/v1`, one scope per collection (the first segment of the
/// path). Registered with `.service(...)` only, so each one is also in the OpenAPI
/// document.
///
/// The scopes are for the router: it tries a scope's static prefix, a string compare,
/// before any of its routes, so a request is matched against the patterns of its own
/// collection only, not every route's regular expression in turn (which was about a
/// sixth of a single read's time in a profile, bench/README.md). Within a scope, order
/// still matters where a static segment and a `{id}` could both match.
pub fn api(cfg: &mut ServiceConfig) {
    cfg.service(scope::scope("/auth").service(auth::issue_token));
    cfg.service(
        scope::scope("/me")
            .service(auth::me)
            .service(notifications::list_notifications)
            .service(notifications::read_all_notifications)
            .service(notifications::read_notification)
            .service(notifications::get_notification_preferences)
            .service(notifications::set_notification_preferences),
    );
    cfg.service(
        scope::scope("/organizations")
            .service(organizations::list_organizations)
            .service(organizations::create_organization)
            .service(organizations::get_organization)
            .service(organizations::update_organization)
            .service(organizations::delete_organization),
    );
    cfg.service(
        scope::scope("/departments")
            .service(departments::list_departments)
            .service(departments::create_department)
            .service(departments::get_department)
            .service(departments::update_department)
            .service(departments::delete_department)
            .service(assignments::list_department_assignments),
    );
    cfg.service(
        scope::scope("/users")
            .service(users::list_users)
            .service(users::create_user)
            .service(users::get_user)
            .service(users::update_user)
            .service(users::delete_user)
            .service(users::set_user_password),
    );
    cfg.service(
        scope::scope("/service-clients")
            .service(service_clients::list_service_clients)
            .service(service_clients::create_service_client)
            .service(service_clients::get_service_client)
            .service(service_clients::update_service_client)
            .service(service_clients::delete_service_client)
            .service(service_clients::rotate_service_client_secret),
    );
    cfg.service(scope::scope("/audit-events").service(audit::list_audit_events));
    cfg.service(scope::scope("/events").service(events::list_events));
    cfg.service(
        scope::scope("/webhooks")
            .service(webhooks::list_webhooks)
            .service(webhooks::create_webhook)
            .service(webhooks::get_webhook)
            .service(webhooks::update_webhook)
            .service(webhooks::delete_webhook)
            .service(webhooks::rotate_webhook_secret)
            .service(webhooks::list_webhook_deliveries)
            .service(webhooks::retry_webhook_delivery)
            .service(webhooks::ping_webhook),
    );
    cfg.service(
        scope::scope("/message-templates")
            .service(message_templates::list_message_templates)
            .service(message_templates::get_message_template)
            .service(message_templates::put_message_template)
            .service(message_templates::delete_message_template),
    );
    cfg.service(
        scope::scope("/documents")
            .service(documents::list_documents)
            .service(documents::create_document)
            .service(documents::get_document)
            .service(documents::update_document)
            .service(documents::delete_document),
    );
    cfg.service(
        scope::scope("/plans")
            .service(plans::list_plans)
            .service(plans::create_plan)
            .service(plans::import_plan)
            .service(plans::get_plan)
            .service(plans::update_plan)
            .service(plans::delete_plan)
            .service(plans::transition_plan)
            .service(plan_items::list_plan_items)
            .service(plan_items::create_plan_item)
            .service(indicators::list_indicators)
            .service(indicators::create_indicator)
            .service(assignments::list_plan_reporting_duties)
            .service(staff_reach::get_staff_reach),
    );
    cfg.service(
        scope::scope("/plan-items")
            .service(plan_items::get_plan_item)
            .service(plan_items::update_plan_item)
            .service(plan_items::delete_plan_item),
    );
    cfg.service(
        scope::scope("/indicators")
            .service(indicators::get_indicator)
            .service(indicators::update_indicator)
            .service(indicators::delete_indicator)
            .service(indicators::list_measurements)
            .service(indicators::create_measurement),
    );
    cfg.service(
        scope::scope("/assignments")
            .service(assignments::list_assignments)
            .service(assignments::create_assignment)
            .service(assignments::get_assignment)
            .service(assignments::update_assignment)
            .service(assignments::delete_assignment)
            .service(assignments::transition_assignment)
            .service(assignments::list_reporting_duties)
            .service(assignments::submit_progress_report)
            .service(assignments::get_progress_report)
            .service(assignments::update_progress_report)
            .service(assignments::list_progress_report_versions)
            .service(assignments::review_progress_report),
    );
    cfg.service(
        scope::scope("/activities")
            .service(activities::list_activities)
            .service(activities::create_activity)
            .service(activities::get_activity)
            .service(activities::update_activity)
            .service(activities::delete_activity)
            .service(activities::transition_activity)
            .service(evidence::list_evidence)
            .service(evidence::upload_evidence),
    );
    cfg.service(
        scope::scope("/evidence")
            .service(evidence::get_evidence)
            .service(evidence::download_evidence)
            .service(evidence::delete_evidence),
    );
    cfg.service(
        scope::scope("/budget-lines")
            .service(budget::list_budget_lines)
            .service(budget::create_budget_line)
            .service(budget::get_budget_line)
            .service(budget::update_budget_line)
            .service(budget::delete_budget_line)
            .service(budget::list_budget_allocations)
            .service(budget::create_budget_allocation)
            .service(budget::list_budget_spendings)
            .service(budget::create_budget_spending),
    );
    cfg.service(
        scope::scope("/budget-allocations")
            .service(budget::get_budget_allocation)
            .service(budget::update_budget_allocation)
            .service(budget::delete_budget_allocation),
    );
    cfg.service(
        scope::scope("/budget-spendings")
            .service(budget::get_budget_spending)
            .service(budget::update_budget_spending)
            .service(budget::delete_budget_spending)
            .service(budget::put_budget_receipt)
            .service(budget::download_budget_receipt),
    );
    cfg.service(
        scope::scope("/data-protection")
            .service(data_protection::get_register)
            .service(data_protection::export_subject_data)
            .service(data_protection::restrict_subject)
            .service(data_protection::erase_subject)
            .service(data_protection::get_retention_report)
            .service(data_protection::get_erasure_log)
            .service(data_protection::reapply_erasures),
    );
    cfg.service(
        scope::scope("/feedback")
            .service(data_protection::put_legal_hold)
            .service(data_protection::delete_legal_hold)
            .service(data_protection::get_feedback_consent)
            .service(data_protection::withdraw_feedback_consent)
            // Before `/{id}`, which would otherwise take "satisfaction" for an id.
            .service(feedback::get_satisfaction_rate)
            .service(feedback::list_feedback)
            .service(feedback::create_feedback)
            .service(feedback::get_feedback)
            .service(feedback::update_feedback)
            .service(feedback::delete_feedback)
            .service(feedback::transition_feedback)
            .service(feedback::list_feedback_history)
            .service(feedback::list_feedback_answers)
            .service(feedback::answer_feedback)
            .service(feedback::list_progress_notes)
            .service(feedback::create_progress_note)
            .service(feedback::list_feedback_extensions)
            .service(feedback::extend_feedback)
            .service(feedback::list_sender_messages)
            .service(feedback::get_similar_feedback)
            .service(feedback::get_feedback_suggestions)
            .service(feedback::merge_feedback)
            .service(feedback::unmerge_feedback)
            .service(feedback::upload_feedback_attachments)
            .service(feedback::list_feedback_attachments)
            .service(feedback::rate_feedback)
            .service(feedback::publish_feedback)
            .service(feedback::unpublish_feedback),
    );
    cfg.service(
        scope::scope("/feedback-categories")
            .service(feedback::list_feedback_categories)
            .service(feedback::create_feedback_category)
            .service(feedback::get_feedback_category)
            .service(feedback::update_feedback_category)
            .service(feedback::delete_feedback_category),
    );
    cfg.service(
        scope::scope("/holidays")
            .service(feedback::list_holidays)
            .service(feedback::create_holiday)
            .service(feedback::delete_holiday),
    );
    cfg.service(scope::scope("/calendar").service(feedback::get_calendar));
    cfg.service(
        scope::scope("/feedback-attachments")
            .service(feedback::get_feedback_attachment)
            .service(feedback::download_feedback_attachment)
            .service(feedback::update_feedback_attachment)
            .service(feedback::delete_feedback_attachment),
    );
    cfg.service(
        scope::scope("/public")
            .service(public::list_public_feedback)
            .service(tracking::get_feedback_status)
            .service(tracking::reopen_feedback)
            .service(tracking::set_feedback_notify_by)
            .service(public::get_public_feedback)
            .service(public::download_public_attachment),
    );
    cfg.service(
        scope::scope("/reports")
            .service(reports::get_plan_rollup)
            .service(submissions::submit_report)
            .service(submissions::list_plan_submissions)
            .service(submissions::list_submission_duties)
            .service(reports::get_plan_report)
            .service(reports::get_feedback_report)
            .service(reports::get_triage_report)
            .service(reports::create_report_snapshot)
            .service(reports::list_report_snapshots)
            .service(reports::get_report_snapshot)
            .service(reports::get_report_snapshot_content),
    );
    cfg.service(
        scope::scope("/report-submissions")
            .service(submissions::list_report_submissions)
            .service(submissions::get_report_submission)
            .service(submissions::get_report_submission_content)
            .service(submissions::acknowledge_report_submission)
            .service(submissions::return_report_submission),
    );
    cfg.service(scope::scope("/exports").service(exports::export_collection));
}

/// Operations outside `/api/v1`.
pub fn root(cfg: &mut ServiceConfig) {
    cfg.service(health::healthz).service(health::readyz).service(health::metrics);
}
