//! Reading MLflow requests: JSON bodies and query strings into one typed accessor.
//!
//! Accepts what MLflow accepts (snake_case or camelCase names, int64 as numbers or
//! decimal strings, doubles as numbers, numeric strings or "NaN"/"Infinity") and
//! rejects with a 400 what MLflow silently drops (floats for integers, unknown enums).

use super::error::HttpError;
use actix_web::http::Method;
use actix_web::HttpRequest;
use base64::Engine;
use cairn_schema::filter::{parse_order_by, Dialect, Expr, FilterError, OrderKey};
use cairn_schema::{ApiError, Tag};
use serde_json::{Map, Value};

/// A filter parser: MLflow's grammar on MLflow's paths, Cairn's extended one beside them.
pub type FilterParser = fn(Dialect, &str) -> Result<Option<Expr>, FilterError>;

/// The `filter`, `order_by`, `max_results` and `page_token` of a search request.
pub struct SearchParams {
    /// Parsed filter; `None` matches everything.
    pub filter: Option<Expr>,
    /// Parsed sort keys, in order.
    pub order_by: Vec<OrderKey>,
    /// Page size, checked against the endpoint's bounds.
    pub max_results: i64,
    /// Rows to skip, from the page token.
    pub offset: i64,
}

/// The fields of one request, from its JSON body or its query string.
pub struct Req {
    fields: Map<String, Value>,
    prefix: String,
}

impl Req {
    /// Reads the body of a POST/PATCH/DELETE, or the query of a GET.
    pub fn read(req: &HttpRequest, body: &[u8]) -> Result<Req, HttpError> {
        if req.method() == Method::GET {
            return Req::from_query(req.query_string());
        }
        // A POST must say it is JSON, as MLflow requires. A DELETE or PATCH that says
        // nothing is read as MLflow reads it; one that says it is something else is not.
        let declared = req
            .headers()
            .contains_key(actix_web::http::header::CONTENT_TYPE);
        if req.method() == Method::POST || (declared && !body.is_empty()) {
            check_content_type(req)?;
        }
        Req::from_json(body)
    }

    fn from_query(query: &str) -> Result<Req, HttpError> {
        let mut fields = Map::new();
        for (k, v) in url_pairs(query)? {
            match fields.get_mut(&k) {
                Some(Value::Array(items)) => items.push(Value::String(v)),
                Some(existing) => {
                    let first = existing.take();
                    *existing = Value::Array(vec![first, Value::String(v)]);
                }
                None => {
                    fields.insert(k, Value::String(v));
                }
            }
        }
        Ok(Req {
            fields,
            prefix: String::new(),
        })
    }

    pub(super) fn from_json(body: &[u8]) -> Result<Req, HttpError> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Req {
                fields: Map::new(),
                prefix: String::new(),
            });
        }
        let value: Value = serde_json::from_slice(body)
            .map_err(|e| ApiError::invalid(format!("Malformed JSON request body: {e}")))?;
        // Legacy clients double-encode: a JSON string holding the JSON object.
        let value = match value {
            Value::String(inner) => serde_json::from_str(&inner)
                .map_err(|e| ApiError::invalid(format!("Malformed JSON request body: {e}")))?,
            v => v,
        };
        if holds_nul(&value) {
            return Err(
                ApiError::invalid("Invalid request body: a string holds a NUL character.").into(),
            );
        }
        match value {
            Value::Object(fields) => Ok(Req {
                fields,
                prefix: String::new(),
            }),
            _ => Err(ApiError::invalid("The request body must be a JSON object.").into()),
        }
    }

    fn name(&self, field: &str) -> String {
        format!("{}{field}", self.prefix)
    }

    /// The value of a field under its snake_case or camelCase name, but not both.
    fn get(&self, field: &str) -> Result<Option<&Value>, HttpError> {
        let camel = to_camel(field);
        let (a, b) = (
            self.fields.get(field),
            if camel != field {
                self.fields.get(&camel)
            } else {
                None
            },
        );
        match (a, b) {
            (Some(_), Some(_)) => Err(ApiError::invalid(format!(
                "Request specifies both '{field}' and '{camel}'; provide only one of them."
            ))
            .into()),
            (Some(v), None) | (None, Some(v)) if !v.is_null() => Ok(Some(v)),
            _ => Ok(None),
        }
    }

    fn type_error(&self, field: &str, v: &Value) -> HttpError {
        // As MLflow shows it: strings quoted (`"abc"`), anything else as its JSON text.
        let shown = match v {
            Value::String(s) => cairn_schema::validate::quoted(s),
            other => cairn_schema::validate::truncate(&other.to_string(), 100),
        };
        ApiError::invalid(format!(
            "Invalid value {shown} for parameter '{}' supplied: Hint: Value was of type '{}'. See the API docs for more information about request parameters.",
            self.name(field),
            json_type(v)
        ))
        .into()
    }

    /// An optional string field.
    pub fn str_opt(&self, field: &str) -> Result<Option<String>, HttpError> {
        match self.get(field)? {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(v) => Err(self.type_error(field, v)),
        }
    }

    /// An optional enum, by name (`"FINISHED"`) or by number (`3`, or `"3"` from a query
    /// string), as MLflow accepts it; the caller maps the text to its variant.
    pub fn enum_opt(&self, field: &str) -> Result<Option<String>, HttpError> {
        match self.get(field)? {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) if n.is_i64() => Ok(Some(n.to_string())),
            Some(v) => Err(self.type_error(field, v)),
        }
    }

    /// A required, non-empty string field.
    pub fn str_req(&self, field: &str) -> Result<String, HttpError> {
        match self.str_opt(field)? {
            Some(s) if !s.is_empty() => Ok(s),
            _ => Err(ApiError::missing(&self.name(field)).into()),
        }
    }

    /// The first of several spellings that is present (`run_id`, then `run_uuid`), required.
    pub fn str_req_any(&self, fields: &[&str]) -> Result<String, HttpError> {
        for f in fields {
            if let Some(s) = self.str_opt(f)?.filter(|s| !s.is_empty()) {
                return Ok(s);
            }
        }
        Err(ApiError::missing(&self.name(fields[0])).into())
    }

    /// An optional int64: a JSON integer or a decimal string. Floats are refused.
    pub fn i64_opt(&self, field: &str) -> Result<Option<i64>, HttpError> {
        let Some(v) = self.get(field)? else {
            return Ok(None);
        };
        let parsed = match v {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse::<i64>().ok(),
            _ => None,
        };
        parsed.map(Some).ok_or_else(|| self.type_error(field, v))
    }

    /// A required int64.
    pub fn i64_req(&self, field: &str) -> Result<i64, HttpError> {
        self.i64_opt(field)?
            .ok_or_else(|| ApiError::missing(&self.name(field)).into())
    }

    /// A required double: number, numeric string, `"NaN"`, `"Infinity"`, `"-Infinity"`.
    pub fn f64_req(&self, field: &str) -> Result<f64, HttpError> {
        let v = self
            .get(field)?
            .ok_or_else(|| ApiError::missing(&self.name(field)))?;
        cairn_schema::parse_wire_f64(v).ok_or_else(|| self.type_error(field, v))
    }

    /// An optional boolean: JSON `true`/`false` or the strings `true`/`false` (any case).
    pub fn bool_opt(&self, field: &str) -> Result<Option<bool>, HttpError> {
        match self.get(field)? {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(v) => Err(self.type_error(field, v)),
        }
    }

    /// A list of strings; a single string (one query occurrence) is a one-element list.
    pub fn str_list(&self, field: &str) -> Result<Vec<String>, HttpError> {
        match self.get(field)? {
            None => Ok(Vec::new()),
            Some(Value::String(s)) => Ok(vec![s.clone()]),
            Some(Value::Array(items)) => items
                .iter()
                .map(|i| match i {
                    Value::String(s) => Ok(s.clone()),
                    v => Err(self.type_error(field, v)),
                })
                .collect(),
            Some(v) => Err(self.type_error(field, v)),
        }
    }

    /// A list of objects, each readable as a `Req` whose messages name `field[i].`.
    pub fn objects(&self, field: &str) -> Result<Vec<Req>, HttpError> {
        match self.get(field)? {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, item)| match item {
                    Value::Object(m) => Ok(Req {
                        fields: m.clone(),
                        prefix: format!("{}{field}[{i}].", self.prefix),
                    }),
                    v => Err(self.type_error(field, v)),
                })
                .collect(),
            Some(v) => Err(self.type_error(field, v)),
        }
    }

    /// A nested object, readable as a `Req`.
    pub fn object(&self, field: &str) -> Result<Option<Req>, HttpError> {
        match self.get(field)? {
            None => Ok(None),
            Some(Value::Object(m)) => Ok(Some(Req {
                fields: m.clone(),
                prefix: format!("{}{field}.", self.prefix),
            })),
            Some(v) => Err(self.type_error(field, v)),
        }
    }

    /// A list of `{key, value}` tags; `value` may be absent (empty).
    pub fn tags(&self, field: &str) -> Result<Vec<Tag>, HttpError> {
        self.objects(field)?
            .iter()
            .map(|t| {
                Ok(Tag {
                    key: t.str_req("key")?,
                    value: t.str_opt("value")?.unwrap_or_default(),
                })
            })
            .collect()
    }

    /// Reads a search request's common fields for `dialect`: `max_results` (default
    /// `default_max`, between 1 and `cap`), `filter` through `parse`, `order_by`, `page_token`.
    pub fn search_params(
        &self,
        dialect: Dialect,
        parse: FilterParser,
        default_max: i64,
        cap: i64,
    ) -> Result<SearchParams, HttpError> {
        let max_results = self.i64_opt("max_results")?.unwrap_or(default_max);
        if !(1..=cap).contains(&max_results) {
            return Err(ApiError::invalid(format!(
                "Invalid value {max_results} for parameter 'max_results' supplied. It must be between 1 and {cap}."
            ))
            .into());
        }
        let filter = match self.str_opt("filter")? {
            Some(f) => parse(dialect, &f).map_err(|e| ApiError::invalid(e.0))?,
            None => None,
        };
        let order_by = self
            .str_list("order_by")?
            .iter()
            .map(|o| parse_order_by(dialect, o).map_err(|e| ApiError::invalid(e.0)))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(SearchParams {
            filter,
            order_by,
            max_results,
            offset: self.page_offset()?,
        })
    }

    /// The page offset in `page_token`; 0 when absent.
    pub fn page_offset(&self) -> Result<i64, HttpError> {
        match self.str_opt("page_token")?.filter(|t| !t.is_empty()) {
            None => Ok(0),
            Some(token) => decode_page_token(&token).map_err(Into::into),
        }
    }
}

/// Whether any string or field name in `v` holds NUL, which no MLflow field means and
/// which C strings cut short and PostgreSQL cannot store.
fn holds_nul(v: &Value) -> bool {
    match v {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().any(holds_nul),
        Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || holds_nul(v)),
        _ => false,
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

pub(super) fn check_content_type(req: &HttpRequest) -> Result<(), HttpError> {
    let Some(ct) = req.headers().get(actix_web::http::header::CONTENT_TYPE) else {
        return Err(ApiError::invalid("Bad Request. Content-Type header is missing.").into());
    };
    let essence = ct
        .to_str()
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if essence != "application/json" {
        return Err(ApiError::invalid(
            "Bad Request. Content-Type must be one of ['application/json'].",
        )
        .into());
    }
    Ok(())
}

fn to_camel(snake: &str) -> String {
    let mut out = String::with_capacity(snake.len());
    let mut upper = false;
    for c in snake.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// Decodes `application/x-www-form-urlencoded` pairs (`+` is a space). Bytes that are
/// not UTF-8 are refused, not replaced, so that two different values never read as one.
fn url_pairs(query: &str) -> Result<Vec<(String, String)>, HttpError> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            Ok((percent_decode(k)?, percent_decode(v)?))
        })
        .collect()
}

fn percent_decode(s: &str) -> Result<String, HttpError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => match bytes.get(i + 1..i + 3) {
                Some(&[h, l]) if h.is_ascii_hexdigit() && l.is_ascii_hexdigit() => {
                    out.push((hex_value(h) << 4) | hex_value(l));
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    match String::from_utf8(out) {
        Ok(text) if !text.contains('\0') => Ok(text),
        _ => Err(ApiError::invalid(format!(
            "Invalid query parameter {}: once decoded it is not UTF-8 or holds NUL.",
            cairn_schema::validate::quoted(s)
        ))
        .into()),
    }
}

fn hex_value(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        _ => c - b'A' + 10,
    }
}

/// An opaque page token: base64 of `{"offset": N}`, as MLflow writes them.
pub fn encode_page_token(offset: i64) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{{\"offset\": {offset}}}"))
}

fn decode_page_token(token: &str) -> Result<i64, ApiError> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(token.trim())
        .map_err(|_| ApiError::invalid("Invalid page token, could not base64-decode"))?;
    let value: Value = serde_json::from_slice(&bytes)
        .map_err(|_| ApiError::invalid("Invalid page token, decoded value is not valid JSON"))?;
    value
        .get("offset")
        .and_then(Value::as_i64)
        .filter(|o| (0..=i64::from(u32::MAX)).contains(o))
        .ok_or_else(|| ApiError::invalid("Invalid page token, it holds no valid offset"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_tokens_round_trip_and_forgeries_are_refused() {
        assert_eq!(decode_page_token(&encode_page_token(42)).unwrap(), 42);
        assert!(decode_page_token("abc!").is_err());
        let negative = base64::engine::general_purpose::STANDARD.encode("{\"offset\": -5}");
        assert!(decode_page_token(&negative).is_err());
    }

    #[test]
    fn query_strings_decode_plus_and_percent_and_repeat_keys() {
        let r = Req::from_query("filter=name+LIKE+%27a%25%27&run_ids=a&run_ids=b&x=%zz").unwrap();
        assert_eq!(r.str_opt("filter").unwrap().unwrap(), "name LIKE 'a%'");
        assert_eq!(r.str_list("run_ids").unwrap(), vec!["a", "b"]);
        assert_eq!(r.str_opt("x").unwrap().unwrap(), "%zz");
        assert!(Req::from_query("name=%c0%ae").is_err());
        assert!(Req::from_query("name=a%00b").is_err());
    }

    #[test]
    fn both_spellings_of_a_field_are_refused() {
        let r = Req::from_json(br#"{"experiment_id": "1", "experimentId": "1"}"#).unwrap();
        assert!(r.str_opt("experiment_id").is_err());
    }

    #[test]
    fn nul_in_any_string_or_field_name_is_refused() {
        assert!(Req::from_json(br#"{"tags": [{"key": "k", "value": "a\u0000b"}]}"#).is_err());
        assert!(Req::from_json(br#"{"a\u0000": 1}"#).is_err());
        assert!(Req::from_json(br#"{"value": "line\nbreak"}"#).is_ok());
    }

    #[test]
    fn floats_are_not_integers() {
        let r = Req::from_json(br#"{"timestamp": 1.5, "step": "7"}"#).unwrap();
        assert!(r.i64_opt("timestamp").is_err());
        assert_eq!(r.i64_opt("step").unwrap(), Some(7));
    }

    #[test]
    fn deeply_nested_json_is_a_bad_request_not_a_crash() {
        let body = "[".repeat(10_000) + &"]".repeat(10_000);
        assert!(Req::from_json(body.as_bytes()).is_err());
    }

    mod fuzz {
        //! Request decoding at scale (`PROPTEST_CASES`): any body or query string reads
        //! into a `Req` or a 4xx, and no accessor panics or answers 5xx.
        use super::*;
        use actix_web::test::TestRequest;
        use proptest::prelude::*;

        const FIELDS: [&str; 12] = [
            "run_id",
            "experiment_id",
            "key",
            "value",
            "timestamp",
            "step",
            "metrics",
            "params",
            "tags",
            "max_results",
            "page_token",
            "experiment_ids",
        ];

        fn json() -> impl Strategy<Value = Value> {
            let leaf = prop_oneof![
                Just(Value::Null),
                any::<bool>().prop_map(Value::Bool),
                any::<i64>().prop_map(Value::from),
                any::<f64>().prop_map(
                    |f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)
                ),
                prop_oneof![
                    Just("NaN".to_owned()),
                    Just("Infinity".to_owned()),
                    any::<String>()
                ]
                .prop_map(Value::String),
            ];
            leaf.prop_recursive(4, 48, 6, |inner| {
                prop_oneof![
                    prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                    prop::collection::vec((prop::sample::select(FIELDS.to_vec()), inner), 0..6)
                        .prop_map(|kv| Value::Object(
                            kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
                        )),
                ]
            })
        }

        /// Calls every accessor on every field; every error must be the caller's (4xx).
        fn exercise(req: &Req) -> Result<(), TestCaseError> {
            let client_error = |r: Result<(), HttpError>| -> Result<(), TestCaseError> {
                if let Err(e) = r {
                    prop_assert!(e.0.code.http_status() < 500, "{:?}", e.0);
                }
                Ok(())
            };
            for f in FIELDS {
                client_error(req.str_opt(f).map(drop))?;
                client_error(req.i64_opt(f).map(drop))?;
                client_error(req.f64_req(f).map(drop))?;
                client_error(req.bool_opt(f).map(drop))?;
                client_error(req.str_list(f).map(drop))?;
                client_error(req.tags(f).map(drop))?;
                client_error(req.objects(f).map(|objects| {
                    for o in objects {
                        let _ = o.str_opt("key");
                        let _ = o.f64_req("value");
                        let _ = o.i64_opt("timestamp");
                    }
                }))?;
            }
            client_error(req.page_offset().map(drop))?;
            Ok(())
        }

        proptest! {
            #[test]
            fn any_json_body_reads_or_is_refused_with_a_4xx(body in json()) {
                let http = TestRequest::post().insert_header(("content-type", "application/json")).to_http_request();
                match Req::read(&http, body.to_string().as_bytes()) {
                    Ok(req) => exercise(&req)?,
                    Err(e) => prop_assert!(e.0.code.http_status() < 500),
                }
            }

            #[test]
            fn any_bytes_read_or_are_refused_with_a_4xx(body in prop::collection::vec(any::<u8>(), 0..256)) {
                let http = TestRequest::post().insert_header(("content-type", "application/json")).to_http_request();
                match Req::read(&http, &body) {
                    Ok(req) => exercise(&req)?,
                    Err(e) => prop_assert!(e.0.code.http_status() < 500),
                }
            }

            #[test]
            fn any_query_string_reads_or_is_refused_with_a_4xx(query in "[ -~]{0,120}") {
                match Req::from_query(&query) {
                    Ok(req) => exercise(&req)?,
                    Err(e) => prop_assert!(e.0.code.http_status() < 500),
                }
            }
        }
    }
}
