//! `GET /openapi.json`: an OpenAPI 3.1 document listing every route the router has,
//! whose schemas describe the JSON the server really sends.

use std::path::Path;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

async fn document(app: &TestApp) -> Value {
    let resp = app.get("/openapi.json").await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "application/json");
    resp.json().await.unwrap()
}

/// The schema the document gives the JSON body of `method path` answering `status`.
fn response_schema(doc: &Value, method: &str, path: &str, status: u16) -> Value {
    let schema = &doc["paths"][path][method]["responses"][status.to_string()]["content"]["application/json"]["schema"];
    assert!(schema.is_object(), "no JSON schema for {method} {path} {status}");
    schema.clone()
}

/// Checks `body` against `schema`, whose `$ref`s point into the document: the
/// document itself is the root the references resolve against (OpenAPI 3.1 schemas
/// are JSON Schema 2020-12).
fn conforms(doc: &Value, schema: &Value, body: &Value) -> Result<(), Vec<String>> {
    let mut root = doc.clone();
    root.as_object_mut().unwrap().insert("allOf".into(), json!([schema]));
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .build(&root)
        .expect("the document's schemas compile");
    let errors: Vec<String> = validator
        .iter_errors(body)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    if errors.is_empty() { Ok(()) } else { Err(errors) }
}

#[tokio::test]
async fn the_document_is_openapi_3_1_and_lists_every_rest_route() {
    let app = spawn_app().await;
    // Unauthenticated even where guests are off: the token is not asked for.
    let resp = app
        .request(Method::GET, "/openapi.json", None)
        .bearer_auth("bc_not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let doc = document(&app).await;
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1."),
        "{}",
        doc["openapi"]
    );
    let routes = [
        ("get", "/boards"),
        ("post", "/boards"),
        ("get", "/boards/{board_id}"),
        ("patch", "/boards/{board_id}"),
        ("delete", "/boards/{board_id}"),
        ("get", "/boards/{board_id}/tasks"),
        ("post", "/tasks"),
        ("get", "/tasks/{task_id}"),
        ("patch", "/tasks/{task_id}"),
        ("delete", "/tasks/{task_id}"),
        ("patch", "/tasks/{task_id}/move"),
        ("post", "/boards/{board_id}/lists"),
        ("patch", "/lists/{list_id}"),
        ("patch", "/lists/{list_id}/move"),
        ("delete", "/lists/{list_id}"),
        ("get", "/boards/{board_id}/members"),
        ("post", "/boards/{board_id}/members"),
        ("patch", "/boards/{board_id}/members/{user_id}"),
        ("delete", "/boards/{board_id}/members/{user_id}"),
        ("get", "/boards/{board_id}/labels"),
        ("post", "/boards/{board_id}/labels"),
        ("patch", "/labels/{label_id}"),
        ("delete", "/labels/{label_id}"),
        ("get", "/boards/{board_id}/activity"),
        ("post", "/auth/signup"),
        ("post", "/auth/login"),
        ("post", "/auth/logout"),
        ("get", "/me"),
        ("get", "/me/tokens"),
        ("post", "/me/tokens"),
        ("delete", "/me/tokens/{token_id}"),
        ("get", "/boards/{board_id}/events"),
        ("get", "/events"),
        ("get", "/boards/{board_id}/changes"),
        ("get", "/boards/{board_id}/poll"),
        ("get", "/boards/{board_id}/updates"),
        ("get", "/dev/users"),
        ("get", "/openapi.json"),
    ];
    for (method, path) in routes {
        let op = &doc["paths"][path][method];
        assert!(op.is_object(), "{method} {path} is not in the document");
        assert!(
            op["responses"].as_object().is_some_and(|r| !r.is_empty()),
            "{method} {path}"
        );
    }
    // Errors are the one ErrorResponse; streams say what they stream.
    let bad = response_schema(&doc, "post", "/tasks", 400);
    assert_eq!(bad["$ref"], "#/components/schemas/ErrorResponse");
    for status in ["400", "401", "403", "404", "409", "412", "413", "415", "422", "503"] {
        assert!(
            doc["paths"]["/tasks/{task_id}"]["patch"]["responses"][status].is_object(),
            "PATCH /tasks/{{task_id}} does not document {status}"
        );
    }
    let sse = &doc["paths"]["/boards/{board_id}/events"]["get"];
    assert!(sse["responses"]["200"]["content"]["text/event-stream"].is_object());
    let headers: Vec<&str> = sse["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert!(headers.contains(&"Last-Event-ID"), "{headers:?}");
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    assert_eq!(schemes["cookie"]["in"], "cookie");
    assert_eq!(schemes["cookie"]["name"], "boardcast_token");
}

/// The router and the document agree: each documented operation reaches its handler
/// (never the fallback's "route not found" or 405), and every other method on a
/// documented path is the router's 405.
#[tokio::test]
async fn every_documented_operation_is_routed_and_no_other_method_is() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let paths = doc["paths"].as_object().unwrap();
    for (template, item) in paths {
        // Ids that exist nowhere: each handler answers for itself (a 404 naming the
        // board or task), never with the route fallback. A module that does not exist
        // is answered as an unknown route, so `/js/` gets one that does.
        let path = template
            .replace("{file}", "api.js")
            .replace('{', "nope-")
            .replace('}', "");
        for method in ["get", "post", "put", "patch", "delete"] {
            let mut req = app.request(method.to_uppercase().parse().unwrap(), &path, None);
            if path == "/ws" {
                req = req.header("connection", "upgrade").header("upgrade", "websocket");
            }
            if method != "get" && method != "delete" {
                req = req.json(&json!({}));
            }
            let resp = req.send().await.unwrap();
            let status = resp.status();
            let body = if status.is_success() {
                String::new()
            } else {
                resp.text().await.unwrap()
            };
            if item.get(method).is_some() {
                assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}: {body}");
                assert!(
                    !body.contains("route `"),
                    "{method} {path} is documented but not routed: {body}"
                );
            } else {
                assert_eq!(
                    status,
                    StatusCode::METHOD_NOT_ALLOWED,
                    "{method} {path} is routed but not documented"
                );
            }
        }
    }
}

/// Routes are added only with `routes!` over an annotated handler: a plain
/// `.route(...)` would be served but missing from the document.
#[test]
fn routes_are_registered_only_through_their_annotations() {
    fn scan(dir: &Path, found: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                scan(&path, found);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                for (n, line) in text.lines().enumerate() {
                    if [".route(", ".route_service(", ".nest(", ".nest_service("]
                        .iter()
                        .any(|call| line.contains(call))
                    {
                        found.push(format!("{}:{}: {}", path.display(), n + 1, line.trim()));
                    }
                }
            }
        }
    }
    let mut found = Vec::new();
    scan(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src/gateway"), &mut found);
    assert!(found.is_empty(), "routes outside the document:\n{}", found.join("\n"));
}

/// Real answers, one of each kind, validate against the schema the document gives
/// them: events of several types, timestamps, roles, nulls, errors.
#[tokio::test]
async fn real_responses_validate_against_their_schemas() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let alice = Some("alice");
    let send = |method: Method, path: &str, body: Option<Value>| {
        let req = app.request(method, path, alice);
        async move {
            let req = match body {
                Some(b) => req.json(&b),
                None => req,
            };
            let resp = req.send().await.unwrap();
            let status = resp.status().as_u16();
            (status, resp.json::<Value>().await.unwrap())
        }
    };
    let (status, task) = send(
        Method::POST,
        "/tasks",
        Some(json!({"title": "Documented", "listId": "list-todo", "dueAt": "2026-12-24T17:00:00Z"})),
    )
    .await;
    assert_eq!(status, 201);
    let id = task["id"].as_str().unwrap().to_owned();
    let (_, label) = send(
        Method::POST,
        "/boards/board-1/labels",
        Some(json!({"name": "urgent", "color": "#ff0000"})),
    )
    .await;
    let patch = json!({"labelIds": [label["id"]], "assigneeIds": ["bob"], "dueAt": null});
    let mut checked = vec![("post".to_owned(), "/tasks", 201, task)];
    for (method, path, template, body) in [
        (Method::PATCH, format!("/tasks/{id}"), "/tasks/{task_id}", Some(patch)),
        (Method::GET, format!("/tasks/{id}"), "/tasks/{task_id}", None),
        (Method::GET, "/boards/board-1".into(), "/boards/{board_id}", None),
        (Method::GET, "/boards".into(), "/boards", None),
        (
            Method::GET,
            "/boards/board-1/changes?after=0".into(),
            "/boards/{board_id}/changes",
            None,
        ),
        (
            Method::GET,
            "/boards/board-1/poll?timeout=0".into(),
            "/boards/{board_id}/poll",
            None,
        ),
        (
            Method::GET,
            "/boards/board-1/updates?since=0".into(),
            "/boards/{board_id}/updates",
            None,
        ),
        (
            Method::GET,
            "/boards/board-1/activity".into(),
            "/boards/{board_id}/activity",
            None,
        ),
        (
            Method::GET,
            "/boards/board-1/members".into(),
            "/boards/{board_id}/members",
            None,
        ),
        (
            Method::GET,
            "/boards/board-1/labels".into(),
            "/boards/{board_id}/labels",
            None,
        ),
        (Method::GET, "/me".into(), "/me", None),
        (
            Method::POST,
            "/me/tokens".into(),
            "/me/tokens",
            Some(json!({"name": "ci"})),
        ),
        (Method::GET, "/me/tokens".into(), "/me/tokens", None),
        (Method::GET, "/boards/nope".into(), "/boards/{board_id}", None),
        (
            Method::POST,
            "/tasks".into(),
            "/tasks",
            Some(json!({"title": "", "listId": "list-todo"})),
        ),
    ] {
        let name = method.as_str().to_lowercase();
        let (status, body) = send(method, &path, body).await;
        checked.push((name, template, status, body));
    }
    // The changes include task, label and board events of several types.
    let changes = &checked.iter().find(|c| c.1 == "/boards/{board_id}/changes").unwrap().3;
    assert!(changes["events"].as_array().unwrap().len() >= 3, "{changes}");
    for (method, template, status, body) in &checked {
        let schema = response_schema(&doc, method, template, *status);
        if let Err(errors) = conforms(&doc, &schema, body) {
            panic!(
                "{method} {template} {status}: {body}\ndoes not match its schema:\n{}",
                errors.join("\n")
            );
        }
    }
    // The check can fail: the same task with its version as a string, or an unknown
    // event type, is refused.
    let task_schema = response_schema(&doc, "get", "/tasks/{task_id}", 200);
    let mut wrong = checked[0].3.clone();
    wrong["version"] = json!("1");
    assert!(conforms(&doc, &task_schema, &wrong).is_err());
    let changes_schema = response_schema(&doc, "get", "/boards/{board_id}/changes", 200);
    let mut wrong = changes.clone();
    wrong["events"][0]["type"] = json!("task_teleported");
    assert!(conforms(&doc, &changes_schema, &wrong).is_err());
}
