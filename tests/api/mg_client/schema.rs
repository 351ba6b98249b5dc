//! Every request body the client sends, checked against the vendor's OpenAPI schema.

use super::operations::exercise_every_operation;
use super::*;

/// The vendor's OpenAPI document, turned into JSON Schemas for request bodies.
struct OpenApi {
    doc: Value,
    /// `components.schemas`, converted (see `convert`), under the same pointer.
    components: Value,
}

impl OpenApi {
    fn load() -> Self {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/protocol/mg-transport-api.openapi.json"
        );
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let mut schemas = Map::new();
        for (name, schema) in doc["components"]["schemas"].as_object().unwrap() {
            schemas.insert(name.clone(), convert(&doc, schema));
        }
        // The document's TemplateItem is a code-generation artefact (protocol/README.md);
        // the client sends the form MG's first client used: text, `{}` or `{"var": name}`.
        schemas.insert(
            "TemplateItem".into(),
            json!({"anyOf": [
                {"type": "string"},
                {"type": "object", "properties": {"var": {"enum": ["name", "first_name", "last_name"]}},
                 "additionalProperties": false}
            ]}),
        );
        Self {
            doc,
            components: json!({ "schemas": schemas }),
        }
    }

    /// `(operationId, method, path template)` of every operation.
    fn operations(&self) -> Vec<(String, Method, String)> {
        let mut all = Vec::new();
        for (path, item) in self.doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let Ok(m) = method.to_uppercase().parse::<Method>() else {
                    continue;
                };
                if let Some(id) = op.get("operationId").and_then(Value::as_str) {
                    all.push((id.to_owned(), m, path.clone()));
                }
            }
        }
        all
    }

    /// The operation a recorded request was made to.
    fn operation_of(&self, method: &Method, path: &str) -> Option<String> {
        let segments: Vec<&str> = path.split('/').collect();
        self.operations()
            .into_iter()
            .find(|(_, m, template)| {
                let parts: Vec<&str> = template.split('/').collect();
                m == method
                    && parts.len() == segments.len()
                    && parts
                        .iter()
                        .zip(&segments)
                        .all(|(p, s)| p.starts_with('{') || p == s)
            })
            .map(|(id, ..)| id)
    }

    /// The JSON Schema of an operation's JSON request body, if it has one.
    fn request_schema(&self, operation: &str) -> Option<Value> {
        let (_, method, path) = self
            .operations()
            .into_iter()
            .find(|(id, ..)| id == operation)
            .unwrap_or_else(|| panic!("no operation {operation}"));
        let op = &self.doc["paths"][&path][method.as_str().to_lowercase()];
        let mut body = op.get("requestBody")?.clone();
        if let Some(reference) = body.get("$ref").and_then(Value::as_str) {
            body = self.doc.pointer(&reference[1..]).unwrap().clone();
        }
        let schema = body.pointer("/content/application~1json/schema")?;
        let mut root = convert(&self.doc, schema);
        root["$schema"] = json!("https://json-schema.org/draft/2020-12/schema");
        root["components"] = self.components.clone();
        Some(root)
    }

    /// The schema violations of `body` as the request body of `operation`.
    fn violations(&self, operation: &str, body: &Value) -> Vec<String> {
        let schema = self
            .request_schema(operation)
            .unwrap_or_else(|| panic!("{operation} has no JSON body"));
        let validator = jsonschema::options()
            .should_validate_formats(true)
            .build(&schema)
            .unwrap_or_else(|e| panic!("the converted schema of {operation} is invalid: {e}"));
        validator
            .iter_errors(body)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect()
    }
}

/// Whether a property's `binding` tag makes it required (`required`, not `required_if=…`).
fn binding_requires(property: &Value) -> bool {
    property
        .pointer("/x-oapi-codegen-extra-tags/binding")
        .and_then(Value::as_str)
        .is_some_and(|b| b.split(',').any(|rule| rule.trim() == "required"))
}

/// An OpenAPI 3.0 schema as JSON Schema 2020-12: `$ref`s keep pointing into
/// `#/components/schemas`, `nullable` becomes a `null` alternative, `allOf` of objects is
/// merged into one object, `required` comes from the `binding` tags (the document's lists
/// are stricter than MG), and objects are closed so a wrong field name fails.
fn convert(doc: &Value, schema: &Value) -> Value {
    let converted = convert_inner(doc, schema);
    if schema.get("nullable") == Some(&Value::Bool(true)) {
        json!({"anyOf": [converted, {"type": "null"}]})
    } else {
        converted
    }
}

fn convert_inner(doc: &Value, schema: &Value) -> Value {
    if let Some(reference) = schema.get("$ref") {
        return json!({ "$ref": reference });
    }
    if let Some(parts) = schema.get("allOf").and_then(Value::as_array) {
        if parts.len() == 1 && schema.get("properties").is_none() {
            // A property wrapping a reference to carry its own tags.
            return convert_inner(doc, &parts[0]);
        }
        let mut properties = Map::new();
        let mut required = BTreeSet::new();
        for part in parts.iter().chain(std::iter::once(schema)) {
            collect_object(doc, part, &mut properties, &mut required);
        }
        return object_schema(properties, required);
    }
    let is_object =
        schema.get("type") == Some(&json!("object")) || schema.get("properties").is_some();
    if is_object {
        let mut properties = Map::new();
        let mut required = BTreeSet::new();
        collect_object(doc, schema, &mut properties, &mut required);
        return object_schema(properties, required);
    }
    let mut out = Map::new();
    for key in [
        "type",
        "enum",
        "format",
        "minimum",
        "maximum",
        "minLength",
        "maxLength",
        "minItems",
        "maxItems",
        "pattern",
    ] {
        if let Some(value) = schema.get(key) {
            out.insert(key.into(), value.clone());
        }
    }
    if let Some(items) = schema.get("items") {
        out.insert("items".into(), convert(doc, items));
    }
    Value::Object(out)
}

/// Adds the properties of an object schema (following `$ref`s and nested `allOf`s).
fn collect_object(
    doc: &Value,
    schema: &Value,
    properties: &mut Map<String, Value>,
    required: &mut BTreeSet<String>,
) {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let target = doc.pointer(&reference[1..]).unwrap();
        return collect_object(doc, target, properties, required);
    }
    for part in schema
        .get("allOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        collect_object(doc, part, properties, required);
    }
    for (name, property) in schema
        .get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        properties.insert(name.clone(), convert(doc, property));
        if binding_requires(property) {
            required.insert(name.clone());
        }
    }
}

fn object_schema(properties: Map<String, Value>, required: BTreeSet<String>) -> Value {
    json!({
        "type": "object",
        "properties": properties,
        "required": required.into_iter().collect::<Vec<_>>(),
        "additionalProperties": false,
    })
}

#[tokio::test]
async fn every_request_the_client_sends_validates_against_the_openapi_schema() {
    let fake = FakeMg::start().await;
    let client = MgClient::new(&settings(3, 5)).unwrap();
    let api = api_for(&fake, &client, TOKEN);
    exercise_every_operation(&fake, &api).await;

    let openapi = OpenApi::load();
    let mut called = BTreeSet::new();
    let mut validated = BTreeSet::new();
    for request in fake.requests() {
        let operation = openapi
            .operation_of(&request.method, &request.path)
            .unwrap_or_else(|| {
                panic!(
                    "{} {} is no Transport API operation",
                    request.method, request.path
                )
            });
        called.insert(operation.clone());
        if openapi.request_schema(&operation).is_some() && request.path != "/files/upload" {
            let body = request
                .body
                .unwrap_or_else(|| panic!("{operation} was sent without a JSON body"));
            let violations = openapi.violations(&operation, &body);
            assert!(
                violations.is_empty(),
                "{operation} body {body:#} breaks the schema:\n{}",
                violations.join("\n")
            );
            validated.insert(operation);
        }
    }
    let all: BTreeSet<String> = openapi
        .operations()
        .into_iter()
        .map(|(id, ..)| id)
        .collect();
    assert_eq!(called, all, "operations never called");
    assert_eq!(validated.len(), 15, "{validated:?}");
    // The template code travelled percent-escaped.
    assert!(fake
        .requests()
        .iter()
        .any(|r| r.path == "/channels/1/templates/ns%23order_shipped%23en"));
}

#[test]
fn the_schema_check_catches_wrong_field_names_and_values() {
    let openapi = OpenApi::load();
    let valid =
        serde_json::to_value(crate::fake_mg::text_message(MgChannelId(305), "m-1")).unwrap();
    assert_eq!(
        openapi.violations("SendMessage", &valid),
        Vec::<String>::new()
    );

    let rename = |value: &Value, from: &str, to: &str| {
        let mut value = value.clone();
        let moved = value.as_object_mut().unwrap().remove(from).unwrap();
        value[to] = moved;
        value
    };
    // `channel_id` where this endpoint says `channel`, and the other way round.
    let wrong = rename(&valid, "channel", "channel_id");
    assert!(!openapi.violations("SendMessage", &wrong).is_empty());
    let read = json!({"channel_id": 305, "message": {"id": 1}});
    assert!(openapi.violations("MarkMessageRead", &read).is_empty());
    let wrong = rename(&read, "channel_id", "channel");
    assert!(!openapi.violations("MarkMessageRead", &wrong).is_empty());
    // A misspelt optional field.
    let wrong = rename(&valid, "external_chat_id", "external_chat");
    assert!(!openapi.violations("SendMessage", &wrong).is_empty());
    // Values outside the enums.
    let mut wrong = valid.clone();
    wrong["message"]["type"] = json!("sticker");
    assert!(!openapi.violations("SendMessage", &wrong).is_empty());
    let activate = json!({"type": "telegram", "settings": {"text": {"creating": "both"}}});
    assert!(openapi.violations("ActivateChannel", &activate).is_empty());
    let mut wrong = activate.clone();
    wrong["type"] = json!("Telegram");
    assert!(!openapi.violations("ActivateChannel", &wrong).is_empty());
    let mut wrong = activate.clone();
    wrong["settings"]["text"]["creating"] = json!("any");
    assert!(!openapi.violations("ActivateChannel", &wrong).is_empty());
    // Formats: a timestamp that is not RFC 3339.
    let mut wrong = valid.clone();
    wrong["reply_deadline"] = json!("tomorrow");
    assert!(!openapi.violations("SendMessage", &wrong).is_empty());
    // A required field (by its binding tag) left out.
    let mut wrong = valid.clone();
    wrong["customer"]
        .as_object_mut()
        .unwrap()
        .remove("nickname");
    assert!(!openapi.violations("SendMessage", &wrong).is_empty());
    // ...while the document's stricter lists are not applied: activating needs no `id`, a
    // text message needs no `items`.
    let listed = &openapi.doc["components"]["requestBodies"]["ActivateChannelRequest"]["content"]
        ["application/json"]["schema"]["required"];
    assert!(listed.as_array().unwrap().contains(&json!("id")));
    assert!(valid["message"].get("items").is_none());
}
