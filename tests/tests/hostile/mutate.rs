//! Taking a request apart and putting it back with one value changed, and which fields name something.

use serde_json::Value;

/// A step into a JSON value: an object's field or an array's element.
#[derive(Clone, Debug)]
pub enum Step {
    Field(String),
    Index(usize),
}

/// `tags[0].key`, for messages.
pub fn show(path: &[Step]) -> String {
    let mut out = String::new();
    for step in path {
        match step {
            Step::Field(f) if out.is_empty() => out.push_str(f),
            Step::Field(f) => out.push_str(&format!(".{f}")),
            Step::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// Every value below the root, with the path that leads to it, parents first.
pub fn nodes(root: &Value) -> Vec<(Vec<Step>, Value)> {
    fn visit(path: &mut Vec<Step>, v: &Value, out: &mut Vec<(Vec<Step>, Value)>) {
        if !path.is_empty() {
            out.push((path.clone(), v.clone()));
        }
        match v {
            Value::Object(map) => {
                for (k, child) in map {
                    path.push(Step::Field(k.clone()));
                    visit(path, child, out);
                    path.pop();
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    path.push(Step::Index(i));
                    visit(path, child, out);
                    path.pop();
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    visit(&mut Vec::new(), root, &mut out);
    out
}

/// `root` with the value at `path` replaced by `with`.
pub fn replaced(root: &Value, path: &[Step], with: Value) -> Value {
    let mut out = root.clone();
    let mut at = &mut out;
    for step in path {
        at = match step {
            Step::Field(f) => &mut at[f.as_str()],
            Step::Index(i) => &mut at[*i],
        };
    }
    *at = with;
    out
}

/// Placeholder for a token that is not JSON (`NaN`) or not a valid string, spliced in
/// by `splice` after serialising.
pub const RAW: &str = "\u{1}raw\u{1}";

/// The JSON text of `body` with the `RAW` placeholder replaced by `raw`.
pub fn splice(body: &Value, raw: &str) -> String {
    let placeholder = serde_json::to_string(RAW).unwrap();
    body.to_string().replacen(&placeholder, raw, 1)
}

/// Whether a string field of a write names something (an id, a key, a name, an alias,
/// a stage, a path, a location or source) rather than holding free text, which may span
/// lines: values, descriptions, run names (the `mlflow.runName` tag's value), users,
/// links, model types and what a dataset says of itself.
pub fn names_something(path: &[Step]) -> bool {
    if path
        .iter()
        .any(|s| matches!(s, Step::Field(f) if f == "dataset"))
    {
        return false;
    }
    let last = path.iter().rev().find_map(|s| match s {
        Step::Field(f) => Some(f.as_str()),
        Step::Index(_) => None,
    });
    !matches!(
        last,
        Some(
            "value"
                | "description"
                | "run_link"
                | "user_id"
                | "run_name"
                | "model_type"
                | "dataset_name"
                | "dataset_digest"
        ) | None
    )
}
