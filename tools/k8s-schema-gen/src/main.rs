//! Writes the strict JSON Schemas (draft 7) of every built-in Kubernetes kind that gitops-lint
//! validates, generated from k8s-openapi's schemars output and rewritten so that they mean what
//! the API server accepts:
//!
//! - every object with `properties` gets `additionalProperties: false` (unknown fields rejected,
//!   like `kubectl --validate=strict` and kubeconform `-strict`);
//! - every typed node also accepts `null` (Go's JSON decoder ignores `null` for any field);
//! - `Quantity` accepts strings and numbers (`cpu: 1`), `IntOrString` strings and integers, a
//!   CRD schema's `JSON` (`default`, `enum`) anything;
//! - `status` is open (controllers own it; manifests rarely carry it);
//! - descriptions, formats, `required` and other keywords are dropped: the linter checks only
//!   field names and JSON types.
//!
//! Two modes, driven by `generate.sh` (one build per Kubernetes minor version, since
//! k8s-openapi compiles exactly one):
//!
//! - `version 1.NN OUT.json`: the kinds of this build's version (`target/kinds.rs`, listed by
//!   `generate.sh` from k8s-openapi's sources) and their definitions;
//! - `pack OUT.deflate OUT.txt IN.json...`: every version in one zlib stream (miniz_oxide),
//!   each distinct definition stored once, and a readable list of the kinds per version.
//!
//! The packed text is one JSON document per line (compact JSON never holds a raw newline):
//! line 0 `{"versions": ["1.33", ...]}`; line 1 + v the index of version v,
//! `{"kinds": {"apps/v1/Deployment": "io.k8s.api.apps.v1.Deployment"}, "definitions":
//! {"io.k8s.api.apps.v1.Deployment": 17, ...}}`; line 1 + versions + n definition n. The linter
//! (`crates/rules/src/schema/builtin.rs`) parses only the lines it needs.

use k8s_openapi::schemars::JsonSchema;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};

struct Kinds {
    generator: schemars::SchemaGenerator,
    kinds: Map<String, Value>,
}

impl Kinds {
    fn add<T: JsonSchema + k8s_openapi::Resource>(&mut self) {
        let schema = self.generator.subschema_for::<T>();
        let reference = schema
            .get("$ref")
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("{} has no $ref", T::KIND));
        let name = reference.trim_start_matches("#/definitions/").to_string();
        self.kinds.insert(
            format!("{}/{}", T::API_VERSION, T::KIND),
            Value::String(name),
        );
    }
}

/// Rewrites one schema node (see the module docs).
fn rewrite(name: Option<&str>, node: &Value) -> Value {
    let Some(obj) = node.as_object() else {
        return node.clone();
    };
    if let Some(r) = obj.get("$ref") {
        return json!({ "$ref": r });
    }
    let mut out = Map::new();
    match name {
        Some("io.k8s.apimachinery.pkg.api.resource.Quantity") => {
            return json!({ "type": ["string", "number", "null"] });
        }
        Some("io.k8s.apimachinery.pkg.util.intstr.IntOrString") => {
            return json!({ "type": ["string", "integer", "null"] });
        }
        // "JSON represents any valid JSON value" (k8s.io/apiextensions-apiserver
        // pkg/apis/apiextensions/v1/types_jsonschema.go): a CRD's `default`, `example` and
        // `enum` entries. k8s-openapi's schemars impl says `object`, which would refuse
        // `enum: [a, b]` and `default: 1`.
        Some("io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON") => {
            return json!({});
        }
        _ => {}
    }
    if obj.get("x-kubernetes-int-or-string") == Some(&Value::Bool(true)) {
        return json!({ "type": ["string", "integer", "null"] });
    }
    match obj.get("type") {
        Some(Value::String(t)) => {
            out.insert("type".into(), json!([t, "null"]));
        }
        Some(Value::Array(ts)) => {
            let mut ts = ts.clone();
            if !ts.contains(&json!("null")) {
                ts.push(json!("null"));
            }
            out.insert("type".into(), Value::Array(ts));
        }
        _ => {}
    }
    if let Some(props) = obj.get("properties").and_then(Value::as_object) {
        let mut rewritten = Map::new();
        for (k, v) in props {
            let v = if k == "status" {
                json!({})
            } else {
                rewrite(None, v)
            };
            rewritten.insert(k.clone(), v);
        }
        out.insert("properties".into(), Value::Object(rewritten));
        if !obj.contains_key("additionalProperties") {
            out.insert("additionalProperties".into(), Value::Bool(false));
        }
    }
    if let Some(ap) = obj.get("additionalProperties") {
        out.insert("additionalProperties".into(), rewrite(None, ap));
    }
    if let Some(items) = obj.get("items") {
        out.insert("items".into(), rewrite(None, items));
    }
    // A union (k8s-openapi uses `oneOf` only for the CRD schema's `JSONSchemaPropsOrArray`,
    // `...OrBool` and `...OrStringArray`) accepts anything: the linter reports unknown fields and
    // wrong types, which a failed branch of a union does not say. Listed on stderr for review.
    for union in ["allOf", "anyOf", "oneOf"] {
        if obj.contains_key(union) {
            eprintln!("open (`{union}`): {}", name.unwrap_or("(inline)"));
            return json!({});
        }
    }
    Value::Object(out)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("version") if args.len() == 3 => version(&args[1], &args[2]),
        Some("pack") if args.len() >= 4 => pack(&args[1], &args[2], &args[3..]),
        _ => panic!("usage: k8s-schema-gen version 1.NN OUT.json | pack OUT.deflate OUT.txt IN.json..."),
    }
}

/// Writes this build's kinds and their rewritten definitions.
fn version(version: &str, out_path: &str) {
    let settings = schemars::generate::SchemaSettings::draft07();
    let mut k = Kinds {
        generator: settings.into_generator(),
        kinds: Map::new(),
    };
    // `k.add::<k8s_openapi::api::apps::v1::Deployment>();` for every kind (see generate.sh).
    include!(concat!(env!("CARGO_MANIFEST_DIR"), "/target/kinds.rs"));
    let mut definitions = Map::new();
    let mut names: Vec<(String, Value)> = k
        .generator
        .definitions()
        .iter()
        .map(|(n, v)| (n.clone(), v.clone()))
        .collect();
    names.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, schema) in names {
        let rewritten = rewrite(Some(&name), &schema);
        definitions.insert(name, rewritten);
    }
    let mut kinds: Vec<(String, Value)> = k.kinds.into_iter().collect();
    kinds.sort_by(|a, b| a.0.cmp(&b.0));
    let out = json!({
        "version": version,
        "kinds": Value::Object(kinds.into_iter().collect()),
        "definitions": Value::Object(definitions),
    });
    let text = serde_json::to_string(&out).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(out_path, text + "\n").unwrap_or_else(|e| panic!("{out_path}: {e}"));
}

/// Packs the versions' files into one deduplicated, compressed stream plus a readable summary.
fn pack(out_path: &str, summary_path: &str, inputs: &[String]) {
    let mut versions = Vec::new();
    let mut indexes = Vec::new();
    let mut lines: Vec<String> = Vec::new();
    let mut ids: HashMap<String, usize> = HashMap::new();
    let mut per_kind: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut counts = Vec::new();
    for input in inputs {
        let text = std::fs::read_to_string(input).unwrap_or_else(|e| panic!("{input}: {e}"));
        let file: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{input}: {e}"));
        let version = file["version"].as_str().unwrap_or_else(|| panic!("{input}: no version"));
        let kinds = file["kinds"].as_object().unwrap_or_else(|| panic!("{input}: no kinds"));
        let defs = file["definitions"].as_object().unwrap_or_else(|| panic!("{input}: no defs"));
        // Only the definitions some kind reaches: schemars also lists helper types.
        let mut reachable = BTreeSet::new();
        for name in kinds.values().filter_map(Value::as_str) {
            reach(defs, name, &mut reachable);
        }
        let mut index = Map::new();
        for name in &reachable {
            let text = serde_json::to_string(&defs[name.as_str()]).unwrap_or_else(|e| panic!("{e}"));
            let next = lines.len();
            let id = *ids.entry(text.clone()).or_insert_with(|| {
                lines.push(text);
                next
            });
            index.insert(name.clone(), json!(id));
        }
        for key in kinds.keys() {
            per_kind.entry(key.clone()).or_default().push(version.to_string());
        }
        counts.push((version.to_string(), kinds.len(), reachable.len()));
        versions.push(json!(version));
        indexes.push(json!({"kinds": kinds, "definitions": index}));
    }
    let mut text = serde_json::to_string(&json!({ "versions": versions })).unwrap_or_default();
    for line in indexes.iter().map(|i| serde_json::to_string(i).unwrap_or_default()).chain(lines.iter().cloned()) {
        text.push('\n');
        text.push_str(&line);
    }
    let packed = miniz_oxide::deflate::compress_to_vec_zlib(text.as_bytes(), 10);
    std::fs::write(out_path, &packed).unwrap_or_else(|e| panic!("{out_path}: {e}"));
    let mut summary = String::from(
        "# Generated by tools/k8s-schema-gen (generate.sh) from k8s-openapi 0.29. Do not edit.\n\
         # The built-in kinds gitops-lint validates, per Kubernetes minor version (`kubernetesVersion`).\n",
    );
    summary.push_str(&format!(
        "# schemas/k8s.deflate: {} bytes compressed, {} bytes of JSON, {} distinct definitions.\n#\n",
        packed.len(),
        text.len(),
        lines.len()
    ));
    for (version, kinds, defs) in &counts {
        summary.push_str(&format!("# {version}: {kinds} kinds, {defs} definitions\n"));
    }
    summary.push_str("#\n# apiVersion/kind, then the versions that have it\n");
    let all = versions.len();
    for (kind, vs) in per_kind {
        let which = if vs.len() == all { "all".to_string() } else { vs.join(" ") };
        summary.push_str(&format!("{kind} {which}\n"));
    }
    std::fs::write(summary_path, summary).unwrap_or_else(|e| panic!("{summary_path}: {e}"));
}

fn reach(defs: &Map<String, Value>, name: &str, seen: &mut BTreeSet<String>) {
    if !seen.insert(name.to_string()) {
        return;
    }
    let Some(schema) = defs.get(name) else {
        panic!("dangling $ref {name}");
    };
    let mut refs = Vec::new();
    collect_refs(schema, &mut refs);
    for r in refs {
        reach(defs, &r, seen);
    }
}

fn collect_refs(schema: &Value, out: &mut Vec<String>) {
    match schema {
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("$ref", Value::String(r)) => {
                        out.push(r.trim_start_matches("#/definitions/").to_string())
                    }
                    _ => collect_refs(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}
