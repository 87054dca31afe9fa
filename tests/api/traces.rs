//! Traces: with `OTEL_EXPORTER_OTLP_ENDPOINT` set, the real binary sends OTLP/HTTP
//! (protobuf) to a receiver started here — a span per request with its request id, a
//! span per database statement under it without the values bound, a span per job.
use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use actix_web::{App, HttpResponse, HttpServer, web};
use opentelemetry_proto::tonic::{
    collector::trace::v1::ExportTraceServiceRequest,
    common::v1::{KeyValue, any_value::Value as Any},
    trace::v1::Span,
};
use prost::Message;

use crate::helpers::{TestApp, test_settings};

type Received = Arc<Mutex<Vec<(Vec<KeyValue>, Span)>>>;

async fn receive(body: web::Bytes, got: web::Data<Received>) -> HttpResponse {
    let Ok(request) = ExportTraceServiceRequest::decode(body.as_ref()) else {
        return HttpResponse::BadRequest().finish();
    };
    let mut got = got.lock().unwrap();
    for resource_spans in request.resource_spans {
        let resource = resource_spans.resource.map(|r| r.attributes).unwrap_or_default();
        for scope in resource_spans.scope_spans {
            got.extend(scope.spans.into_iter().map(|span| (resource.clone(), span)));
        }
    }
    HttpResponse::Ok().content_type("application/x-protobuf").finish()
}

fn attribute(attributes: &[KeyValue], key: &str) -> Option<String> {
    let value = attributes.iter().find(|kv| kv.key == key)?.value.as_ref()?.value.as_ref()?;
    Some(match value {
        Any::StringValue(s) => s.clone(),
        Any::IntValue(i) => i.to_string(),
        Any::BoolValue(b) => b.to_string(),
        other => format!("{other:?}"),
    })
}

#[actix_web::test]
async fn requests_statements_and_jobs_are_traced_to_an_otlp_receiver() {
    let got: Received = Arc::default();
    let data = web::Data::new(got.clone());
    let receiver =
        HttpServer::new(move || App::new().app_data(data.clone()).route("/v1/traces", web::post().to(receive)))
            .workers(1)
            .disable_signals()
            .bind("127.0.0.1:0")
            .unwrap();
    let endpoint = format!("http://{}", receiver.addrs()[0]);
    actix_web::rt::spawn(receiver.run());

    // The in-process instance works no jobs: the binary's runner does them all.
    let mut settings = test_settings();
    settings.jobs.workers = 0;
    let app = TestApp::spawn_with(settings).await;
    let admin = app.admin_token().await;
    let binary = app
        .start_binary(&[("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()), ("OTEL_BSP_SCHEDULE_DELAY", "100")])
        .await;
    let res = app.at(&binary.base).get("/api/v1/users?q=kim-chi-secret").token(&admin).send().await;
    assert_eq!(res.status, 200, "{}", res.text());
    let request_id = res.header("x-request-id").expect("a request id");

    let deadline = Instant::now() + Duration::from_secs(20);
    let (request, statements, job) = loop {
        let spans = got.lock().unwrap().clone();
        let request =
            spans.iter().find(|(_, s)| attribute(&s.attributes, "request_id").as_deref() == Some(&request_id));
        let statements: Vec<_> = match request {
            Some((_, r)) => spans.iter().filter(|(_, s)| s.trace_id == r.trace_id && s.span_id != r.span_id).collect(),
            None => Vec::new(),
        };
        let job = spans.iter().find(|(_, s)| s.name.starts_with("job "));
        if let (Some(request), false, Some(job)) = (request, statements.is_empty(), job) {
            break (request.clone(), statements.into_iter().cloned().collect::<Vec<_>>(), job.clone());
        }
        assert!(Instant::now() < deadline, "not all spans arrived: {} so far", spans.len());
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    };

    // The request: named by its route template, with route, status and request id.
    let (resource, request) = request;
    assert_eq!(attribute(&resource, "service.name").as_deref(), Some("cchc-outreach"));
    assert_eq!(request.name, "GET /api/v1/users");
    assert_eq!(attribute(&request.attributes, "http.route").as_deref(), Some("/api/v1/users"));
    assert_eq!(attribute(&request.attributes, "http.response.status_code").as_deref(), Some("200"));
    assert!(request.end_time_unix_nano > request.start_time_unix_nano);
    // Its statements, in its trace, with their SQL and timings but not the search text.
    let users = statements
        .iter()
        .find(|(_, s)| attribute(&s.attributes, "db.query.text").is_some_and(|q| q.contains("\"users\"")))
        .expect("the statement that read the people");
    assert_eq!(attribute(&users.1.attributes, "db.system").as_deref(), Some("postgresql"));
    assert_eq!(users.1.name, "SELECT");
    assert!(users.1.end_time_unix_nano >= users.1.start_time_unix_nano);
    let everything = format!("{:?}", got.lock().unwrap());
    assert!(!everything.contains("kim-chi-secret"), "a bound value reached the traces");
    // A job, as a trace of its own.
    let (_, job) = job;
    assert!(job.parent_span_id.is_empty(), "a job is a root span");
    assert!(attribute(&job.attributes, "job.kind").is_some_and(|k| job.name.ends_with(&k)));
    drop(binary);
}
