//! JSON with byte spans, for the JSON formats (`nftables-json`, `azure-nsg-json`,
//! `netfirewallrule-json`): a thin owned layer over `jsonc-parser`'s AST, strict JSON
//! (no comments, trailing commas or single quotes), keys looked up case-insensitively
//! because PowerShell's `ConvertTo-Json` and hand-written exports differ in case.

use jsonc_parser::ast;

use super::SourceError;
use crate::model::{SourceId, Span};

/// One JSON value and where it is written.
#[derive(Clone, Debug, PartialEq)]
pub struct JsonNode {
    pub value: Json,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    /// The number as written (`80`, `1.5e3`): readers parse what they expect.
    Number(String),
    String(String),
    Array(Vec<JsonNode>),
    /// Members in file order, each key with its span.
    Object(Vec<(String, Span, JsonNode)>),
}

/// Parses a whole file.
pub fn parse(id: SourceId, text: &str) -> Result<JsonNode, SourceError> {
    let options = jsonc_parser::ParseOptions {
        allow_comments: false,
        allow_loose_object_property_names: false,
        allow_trailing_commas: false,
        allow_missing_commas: false,
        allow_single_quoted_strings: false,
        allow_hexadecimal_numbers: false,
        allow_unary_plus_numbers: false,
        allow_bare_decimal_point_numbers: false,
        allow_extended_string_escapes: false,
        allow_non_finite_numbers: false,
    };
    let parsed =
        jsonc_parser::parse_to_ast(text, &jsonc_parser::CollectOptions::default(), &options)
            .map_err(|e| {
                let r = e.range();
                SourceError::at(
                    Span::new(id, r.start, r.end),
                    format!("invalid JSON: {}", e.kind()),
                )
            })?;
    match parsed.value {
        Some(v) => Ok(convert(id, v)),
        None => Err(SourceError::at(
            Span::new(id, 0, 0),
            "the file holds no JSON value",
        )),
    }
}

fn convert(id: SourceId, v: ast::Value<'_>) -> JsonNode {
    let span = |r: jsonc_parser::common::Range| Span::new(id, r.start, r.end);
    match v {
        ast::Value::NullKeyword(n) => JsonNode {
            value: Json::Null,
            span: span(n.range),
        },
        ast::Value::BooleanLit(b) => JsonNode {
            value: Json::Bool(b.value),
            span: span(b.range),
        },
        ast::Value::NumberLit(n) => JsonNode {
            value: Json::Number(n.value.to_owned()),
            span: span(n.range),
        },
        ast::Value::StringLit(s) => JsonNode {
            value: Json::String(s.value.into_owned()),
            span: span(s.range),
        },
        ast::Value::Array(a) => JsonNode {
            span: span(a.range),
            value: Json::Array(a.elements.into_iter().map(|e| convert(id, e)).collect()),
        },
        ast::Value::Object(o) => JsonNode {
            span: span(o.range),
            value: Json::Object(
                o.properties
                    .into_iter()
                    .map(|p| {
                        let key_span = match &p.name {
                            ast::ObjectPropName::String(s) => span(s.range),
                            ast::ObjectPropName::Word(w) => span(w.range),
                        };
                        let key = p.name.into_string();
                        (key, key_span, convert(id, p.value))
                    })
                    .collect(),
            ),
        },
    }
}

impl JsonNode {
    /// The member `key` of an object (ASCII case-insensitive; the first if repeated).
    pub fn get(&self, key: &str) -> Option<&JsonNode> {
        match &self.value {
            Json::Object(members) => members
                .iter()
                .find(|(k, _, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, _, v)| v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Json::String(s) => Some(s),
            _ => None,
        }
    }

    /// An integer written as a JSON number (not a string).
    pub fn as_i64(&self) -> Option<i64> {
        match &self.value {
            Json::Number(n) => n.parse().ok(),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match &self.value {
            Json::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[JsonNode]> {
        match &self.value {
            Json::Array(a) => Some(a),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.value, Json::Null)
    }

    /// A value PowerShell may write as one item or an array of items (`ConvertTo-Json`
    /// unwraps one-element arrays): always a slice, empty for `null`.
    pub fn items(&self) -> &[JsonNode] {
        match &self.value {
            Json::Array(a) => a,
            Json::Null => &[],
            _ => std::slice::from_ref(self),
        }
    }

    /// What the value is, for diagnostics: "a string", "an object".
    pub fn kind(&self) -> &'static str {
        match self.value {
            Json::Null => "null",
            Json::Bool(_) => "a boolean",
            Json::Number(_) => "a number",
            Json::String(_) => "a string",
            Json::Array(_) => "an array",
            Json::Object(_) => "an object",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_point_at_values_and_keys_match_in_any_case() {
        let text = r#"{"Name": "web", "LocalPort": ["80", "443"], "Enabled": true}"#;
        let doc = parse(SourceId(0), text).unwrap();
        let name = doc.get("name").unwrap();
        assert_eq!(name.as_str(), Some("web"));
        assert_eq!(&text[name.span.start..name.span.end], "\"web\"");
        let ports = doc.get("localport").unwrap().items();
        assert_eq!(ports.len(), 2);
        assert_eq!(doc.get("Enabled").and_then(JsonNode::as_bool), Some(true));
        assert_eq!(doc.get("missing"), None);
    }

    #[test]
    fn one_item_reads_as_a_list_of_one() {
        let doc = parse(SourceId(0), r#"{"p": "80", "q": null}"#).unwrap();
        assert_eq!(doc.get("p").unwrap().items().len(), 1);
        assert!(doc.get("q").unwrap().items().is_empty());
    }

    #[test]
    fn errors_have_a_span() {
        let e = parse(SourceId(0), "{\"a\": 1,}").unwrap_err();
        assert!(e.message.starts_with("invalid JSON"), "{e:?}");
        assert!(e.span.is_some());
    }
}
