//! Engine tests: Go semantics the charts rely on, and the unsupported-construct errors.

use super::*;
use serde_json::json;

fn helm_set(files: &[(&str, &str)]) -> Result<Templates, Error> {
    let mut funcs = Funcs::builtins();
    helm_funcs::register(&mut funcs);
    let mut set = Templates::new(funcs, Options::default());
    for (name, text) in files {
        set.add_file(name, text)?;
    }
    Ok(set)
}

fn render(text: &str, dot: serde_json::Value) -> Result<String, Error> {
    helm_set(&[("t", text)])?.execute("t", &dot)
}

fn ok(text: &str, dot: serde_json::Value) -> String {
    render(text, dot).unwrap_or_else(|e| panic!("{text}: {e}"))
}

#[test]
fn text_actions_and_trimming() {
    assert_eq!(ok("a {{ .x }} b", json!({"x": 1})), "a 1 b");
    assert_eq!(ok("a  {{- .x -}}  b", json!({"x": "v"})), "avb");
    assert_eq!(ok("a {{/* c */}} b", json!({})), "a  b");
    assert_eq!(ok("a\n{{- /* c */ -}}\nb", json!({})), "ab");
    assert_eq!(ok("{{ .missing }}", json!({})), "<no value>");
    assert_eq!(
        ok(
            "{{ 3 }} {{ -2 }} {{ 1.5 }} {{ \"s\" }} {{ `r` }}",
            json!({})
        ),
        "3 -2 1.5 s r"
    );
}

#[test]
fn floats_print_as_go() {
    assert_eq!(format::go_float(123456789012.0), "1.23456789012e+11");
    assert_eq!(format::go_float(3.0), "3");
    assert_eq!(format::go_float(100000.0), "100000");
    assert_eq!(format::go_float(1234567.0), "1.234567e+06");
    assert_eq!(format::go_float(0.00001), "1e-05");
    assert_eq!(format::go_float(0.5), "0.5");
}

#[test]
fn control_structures() {
    let d = json!({"apps": {"b": {"on": true}, "a": {"on": false}, "c": {"on": true}}});
    let t =
        "{{ range $n, $a := .apps }}{{ if $a.on }}{{ $n }};{{ else }}-{{ $n }};{{ end }}{{ end }}";
    assert_eq!(ok(t, d.clone()), "-a;b;c;");
    assert_eq!(
        ok(
            "{{ range .l }}[{{ . }}]{{ else }}none{{ end }}",
            json!({"l": []})
        ),
        "none"
    );
    assert_eq!(
        ok(
            "{{ range $i, $v := .l }}{{ $i }}={{ $v }} {{ end }}",
            json!({"l": ["x", "y"]})
        ),
        "0=x 1=y "
    );
    assert_eq!(
        ok(
            "{{ with .a }}{{ .b }}{{ else }}no{{ end }}",
            json!({"a": {"b": 2}})
        ),
        "2"
    );
    assert_eq!(
        ok("{{ with .z }}{{ .b }}{{ else }}no{{ end }}", json!({})),
        "no"
    );
    assert_eq!(
        ok(
            "{{ if eq .x 1 }}one{{ else if eq .x 2 }}two{{ else }}many{{ end }}",
            json!({"x": 2})
        ),
        "two"
    );
    assert_eq!(
        ok(
            "{{ $x := 1 }}{{ if true }}{{ $x = 2 }}{{ end }}{{ $x }}",
            json!({})
        ),
        "2"
    );
    assert_eq!(
        ok(
            "{{ range .l }}{{ $.top }}{{ end }}",
            json!({"l": [1, 2], "top": "t"})
        ),
        "tt"
    );
    assert_eq!(
        ok("{{ and 1 0 }} {{ or 0 \"\" 3 }} {{ not 0 }}", json!({})),
        "0 3 true"
    );
    assert_eq!(
        ok("{{ if and .a .a.b }}y{{ else }}n{{ end }}", json!({})),
        "n"
    );
}

#[test]
fn defines_include_template_and_pipes() {
    let set = helm_set(&[
        ("_h.tpl", "{{- define \"lbl\" -}}\nname: {{ .app }}\nid: {{ .root.Values.id | quote }}\n{{- end }}"),
        ("m.yaml", "labels:\n  {{- include \"lbl\" (dict \"root\" $ \"app\" \"p\") | nindent 2 }}\n{{ template \"lbl\" (dict \"root\" . \"app\" \"q\") }}"),
    ])
    .unwrap_or_else(|e| panic!("{e}"));
    let out = set
        .execute("m.yaml", &json!({"Values": {"id": "t-1"}}))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        out,
        "labels:\n  name: p\n  id: \"t-1\"\nname: q\nid: \"t-1\""
    );
}

#[test]
fn include_and_tpl_given_the_dot_do_what_they_do_given_a_copy() {
    // `.` as the last argument is passed borrowed; `(.)` is a copy through the general path.
    // Both must render and fail alike.
    let dot = json!({"Values": {"id": "t-1"}, "a": "x"});
    let helpers = "{{- define \"id\" -}}{{ .Values.id }}{{- end }}";
    let run = |text: &str| {
        helm_set(&[("_h.tpl", helpers), ("t", text)])
            .and_then(|set| set.execute("t", &dot))
            .map_err(|e| (e.kind, e.template, e.offset, e.message))
    };
    for (borrowed, copied, expected) in [
        (
            "{{ include \"id\" . }}",
            "{{ include \"id\" (.) }}",
            Ok("t-1"),
        ),
        (
            "{{ tpl \"{{ .a }}\" . }}",
            "{{ tpl \"{{ .a }}\" (.) }}",
            Ok("x"),
        ),
        (
            "{{ include 1 . }}",
            "{{ include 1 (.) }}",
            Err("must be a string"),
        ),
        ("{{ include . }}", "{{ include (.) }}", Err("want 2 got 1")),
        (
            "{{ include \"id\" \"x\" . }}",
            "{{ include \"id\" \"x\" (.) }}",
            Err("want 2 got 3"),
        ),
        ("{{ tpl . }}", "{{ tpl (.) }}", Err("want 2 got 1")),
        (
            "{{ include \"nope\" . }}",
            "{{ include \"nope\" (.) }}",
            Err("no template"),
        ),
    ] {
        let got = run(borrowed);
        assert_eq!(got, run(copied), "{borrowed}");
        match (&got, expected) {
            (Ok(out), Ok(want)) => assert_eq!(out, want, "{borrowed}"),
            (Err((_, _, _, message)), Err(want)) => {
                assert!(message.contains(want), "{borrowed}: {message}")
            }
            _ => panic!("{borrowed}: {got:?}"),
        }
    }
    // `.` passed borrowed is paid for as its copy is: too large a context stops both forms.
    let limits = Limits {
        output_bytes: 64,
        ..Limits::default()
    };
    let big = json!({"Values": {"id": "x".repeat(100)}});
    let short = "{{- define \"short\" -}}ok{{- end }}";
    let stopped = |text: &str| {
        helm_set(&[("_h.tpl", short), ("t", text)])
            .and_then(|set| set.execute_within("t", &big, limits))
            .map_err(|e| (e.cause, e.message))
    };
    let borrowed = stopped("{{ include \"short\" . }}");
    assert!(
        matches!(&borrowed, Err((Cause::Budget(_), _))),
        "{borrowed:?}"
    );
    assert_eq!(borrowed, stopped("{{ include \"short\" (.) }}"));
    // The same template and context within the budget: only the copy ran out.
    assert_eq!(
        helm_set(&[("_h.tpl", short), ("t", "{{ include \"short\" . }}")])
            .and_then(|set| set.execute("t", &big))
            .ok()
            .as_deref(),
        Some("ok")
    );
    // Replacing `include` replaces its borrowed form too.
    let mut funcs = Funcs::builtins();
    helm_funcs::register(&mut funcs);
    funcs.insert("include", |_, _| Ok(json!("replaced")));
    let mut set = Templates::new(funcs, Options::default());
    for (name, text) in [("_h.tpl", helpers), ("t", "{{ include \"id\" . }}")] {
        set.add_file(name, text).unwrap_or_else(|e| panic!("{e}"));
    }
    assert_eq!(set.execute("t", &dot).ok().as_deref(), Some("replaced"));
}

#[test]
fn helm_functions() {
    assert_eq!(ok("{{ .a | default \"d\" }}", json!({"a": ""})), "d");
    assert_eq!(ok("{{ default \"d\" .a }}", json!({"a": "x"})), "x");
    assert_eq!(ok("{{ list 1 \"a\" }}", json!({})), "[1 a]");
    assert_eq!(
        ok("{{ index .m \"k\" 1 }}", json!({"m": {"k": [5, 6]}})),
        "6"
    );
    assert_eq!(
        ok(
            "{{ toYaml .r | nindent 2 }}",
            json!({"r": {"b": [1, "x"], "a": {"c": "true"}}})
        ),
        "\n  a:\n    c: \"true\"\n  b:\n  - 1\n  - x"
    );
    assert_eq!(ok("{{ printf \"%s-%d\" .a 3 }}", json!({"a": "x"})), "x-3");
    assert_eq!(
        ok(
            "{{ ternary \"y\" \"n\" true }} {{ .v | replace \"+\" \"_\" }}",
            json!({"v": "1+2"})
        ),
        "y 1_2"
    );
    assert_eq!(
        ok("{{ trunc 3 \"abcdef\" }}{{ \"x\" | upper }}", json!({})),
        "abcX"
    );
    assert_eq!(
        ok("{{ toJson .m }}", json!({"m": {"b": 1.0, "a": "<"}})),
        "{\"a\":\"\\u003c\",\"b\":1}"
    );
}

#[test]
fn errors_name_place_and_construct() {
    let e = render("a {{ lookup \"v1\" \"Secret\" \"ns\" \"n\" }}", json!({})).err();
    let e = e.unwrap_or_else(|| panic!("lookup must be unsupported"));
    assert_eq!(e.kind, ErrorKind::Unsupported("function `lookup`".into()));
    assert_eq!(e.offset, 5);
    let e = render("{{ range .l }}{{ break }}{{ end }}", json!({})).err();
    assert!(matches!(e.map(|e| e.kind), Some(ErrorKind::Unsupported(c)) if c == "break"));
    let e = render("{{ .Files.Get \"x\" }}", json!({"Files": {}})).err();
    assert!(
        matches!(e.map(|e| e.kind), Some(ErrorKind::Unsupported(c)) if c.contains("Files.Get"))
    );
    let e = render("x\n{{ required \"need id\" .id }}", json!({})).err();
    let e = e.unwrap_or_else(|| panic!("required must fail"));
    assert_eq!(e.kind, ErrorKind::Exec);
    assert!(e.message.contains("need id"), "{}", e.message);
    assert_eq!(
        e.line_col("x\n{{ required \"need id\" .id }}"),
        Some((2, 4))
    );
    assert!(render("{{ if .x }}", json!({})).is_err());
    assert!(render("{{ .a.b }}", json!({})).is_err());
}

#[test]
fn missing_key_error_option() {
    let mut set = Templates::new(
        Funcs::builtins(),
        Options {
            missing_key: MissingKey::Error,
            ..Options::default()
        },
    );
    set.add_file("t", "{{ .a }}")
        .unwrap_or_else(|e| panic!("{e}"));
    let e = set.execute("t", &json!({})).err();
    assert!(e.is_some_and(|e| e.message.contains("no entry for key")));
}

#[test]
fn hostile_input_does_not_hang_or_overflow() {
    let deep = "{{ if 1 }}".repeat(500);
    assert!(render(&deep, json!({})).is_err());
    let set = helm_set(&[(
        "t",
        "{{ define \"r\" }}{{ include \"r\" . }}{{ end }}{{ include \"r\" . }}",
    )])
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(set.execute("t", &json!({})).is_err());
    assert!(render("{{ range 1000000000 }}x{{ end }}", json!({})).is_err());
    assert!(render("{{ printf \"%.999999999f\" 1.5 }}", json!({})).is_ok());
    for bad in [
        "{{",
        "{{ \"x }}",
        "{{ ( }}",
        "{{ end }}",
        "{{ else }}",
        "}}{{",
        "{{- -}}",
        "{{ 'ab' }}",
    ] {
        let _ = render(bad, json!({}));
    }
}

#[test]
fn renders_the_example_chart() {
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/example/apps-repo/helm-charts/helm-tenant-chart/templates/"
    );
    let read = |f: &str| {
        std::fs::read_to_string(format!("{dir}{f}")).unwrap_or_else(|e| panic!("{f}: {e}"))
    };
    let files = [
        "_helpers.tpl",
        "serviceaccount.yaml",
        "deployment.yaml",
        "ingress.yaml",
        "service.yaml",
    ];
    let texts: Vec<(String, String)> = files
        .iter()
        .map(|f| (format!("templates/{f}"), read(f)))
        .collect();
    let refs: Vec<(&str, &str)> = texts
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let set = helm_set(&refs).unwrap_or_else(|e| panic!("{e}"));
    let mut dot = json!({
        "Values": {"tenantId": "tenant-1", "accountId": 123456789012u64, "region": "r",
                   "apps": {"producer": {"enabled": true, "image": {"repository": "p", "tag": "0.1"}},
                            "consumer": {"enabled": false}}},
        "Release": {"Name": "tenant-1-premium", "Namespace": "tenant-1", "Service": "Helm"},
        "Chart": {"Name": "helm-tenant-chart", "Version": "0.0.2"}
    });
    format::floats(&mut dot);
    let sa = set
        .execute("templates/serviceaccount.yaml", &dot)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        sa.contains("name: tenant-1-producer\n  namespace: tenant-1\n"),
        "{sa}"
    );
    assert!(
        sa.contains("arn:aws:iam::1.23456789012e+11:role/producer-role-tenant-1"),
        "{sa}"
    );
    assert!(sa.contains("    saas/tenant-id: \"tenant-1\"\n"), "{sa}");
    assert!(!sa.contains("tenant-1-consumer"), "{sa}");
    let dep = set
        .execute("templates/deployment.yaml", &dot)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        dep.contains("serviceAccountName: tenant-1-producer"),
        "{dep}"
    );
    assert!(
        dep.contains("image: 1.23456789012e+11.dkr.ecr.r.amazonaws.com/p:0.1"),
        "{dep}"
    );
}

/// Every fixture file, and every prefix cut of a chart template, parses and runs without a
/// panic (errors are fine).
#[test]
fn never_panics_on_arbitrary_text() {
    fn walk(dir: &std::path::Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = entry.path();
            if p.is_dir() {
                walk(&p, out);
            } else if let Ok(text) = std::fs::read_to_string(&p) {
                out.push(text);
            }
        }
    }
    let mut texts = Vec::new();
    walk(
        std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures")),
        &mut texts,
    );
    let chart = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/example/apps-repo/helm-charts/helm-tenant-chart/templates/deployment.yaml"
    );
    let text = std::fs::read_to_string(chart).unwrap_or_default();
    assert!(
        texts.len() > 10 && !text.is_empty(),
        "the fixtures are found"
    );
    for (i, _) in text.char_indices().step_by(7) {
        texts.push(text[..i].to_string());
        texts.push(text[i..].to_string());
    }
    let dot = json!({"Values": {"apps": {"a": {"enabled": true}}}, "Release": {}, "Chart": {}});
    for t in &texts {
        let _ = render(t, dot.clone());
    }
}

/// Runs `files`' template `t` within `limits`; the budget that stopped it, and where.
fn budget_hit(files: &[(&str, &str)], limits: Limits) -> Option<(Budget, String, usize)> {
    let set = helm_set(files).unwrap_or_else(|e| panic!("{e}"));
    match set.execute_within("t", &json!({"Values": {"n": 3}}), limits) {
        Err(Error {
            cause: Cause::Budget(b),
            kind: ErrorKind::Exec,
            template,
            offset,
            ..
        }) => Some((b, template, offset)),
        Err(e) => panic!("not a budget error: {e}"),
        Ok(_) => None,
    }
}

#[test]
fn an_include_fan_out_runs_out_of_steps_at_the_include() {
    // 40 defines, each including the previous twice and printing nothing: 2^40 calls.
    let mut helpers = String::from("{{- define \"d0\" }}x{{ end }}\n");
    for i in 1..=40 {
        helpers.push_str(&format!(
            "{{{{- define \"d{i}\" }}}}{{{{- $a := include \"d{}\" . }}}}{{{{- $b := include \"d{}\" . }}}}{{{{ end }}}}\n",
            i - 1,
            i - 1
        ));
    }
    let started = std::time::Instant::now();
    let hit = budget_hit(
        &[
            ("_helpers.tpl", &helpers),
            ("t", "a: {{ include \"d40\" . }}"),
        ],
        Limits::default(),
    );
    let (budget, template, offset) = hit.unwrap_or_else(|| panic!("2^40 calls finished"));
    assert_eq!(budget, Budget::Steps);
    // The action that ran out: an `include` in the helpers.
    assert_eq!(template, "_helpers.tpl");
    let at = helpers
        .get(offset..)
        .unwrap_or_else(|| panic!("no place: {offset}"));
    assert!(at.starts_with("include \"d"), "{at}");
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
}

#[test]
fn nested_ranges_run_out_of_steps_and_output_doubling_out_of_bytes() {
    let text = "{{ range $i := 100000 }}{{ range $j := 100000 }}{{ end }}{{ end }}";
    let (budget, template, offset) =
        budget_hit(&[("t", text)], Limits::default()).unwrap_or_else(|| panic!("10^10 ran"));
    assert_eq!((budget, template.as_str()), (Budget::Steps, "t"));
    assert!(text[offset..].starts_with("$j := 100000"), "{offset}");
    // Each define prints the previous twice: 2^30 bytes written.
    let mut helpers = String::from("{{- define \"d0\" }}x{{ end }}\n");
    for i in 1..=30 {
        helpers.push_str(&format!(
            "{{{{- define \"d{i}\" }}}}{{{{ include \"d{}\" . }}}}{{{{ include \"d{}\" . }}}}{{{{ end }}}}\n",
            i - 1,
            i - 1
        ));
    }
    let hit = budget_hit(
        &[("_helpers.tpl", &helpers), ("t", "{{ include \"d30\" . }}")],
        Limits {
            steps: u64::MAX,
            output_bytes: 1 << 20,
        },
    );
    assert_eq!(hit.map(|h| h.0), Some(Budget::OutputBytes));
}

#[test]
fn values_built_in_a_loop_are_paid_for() {
    // A list that doubles on every iteration: 2^40 values if nothing stopped it.
    let doubling =
        "{{ $l := list 1 }}{{ range $i := 40 }}{{ $l = list $l $l }}{{ end }}{{ len $l }}";
    let mib = Limits {
        steps: 1_000_000,
        output_bytes: 1 << 20,
    };
    let hit = budget_hit(&[("t", doubling)], mib);
    assert_eq!(hit.map(|h| h.0), Some(Budget::OutputBytes));
    // A string doubling through a variable.
    let strings =
        "{{ $s := \"xxxxxxxx\" }}{{ range $i := 60 }}{{ $s = printf \"%s%s\" $s $s }}{{ end }}";
    assert_eq!(
        budget_hit(&[("t", strings)], mib).map(|h| h.0),
        Some(Budget::OutputBytes)
    );
    // Copying a large value over and over costs steps by its size.
    let copies = "{{ $s := \"x\" }}{{ range $i := 14 }}{{ $s = printf \"%s%s\" $s $s }}{{ end }}{{ range $i := 10000 }}{{ $c := $s }}{{ end }}";
    assert_eq!(
        budget_hit(
            &[("t", copies)],
            Limits {
                steps: 100_000,
                output_bytes: 1 << 20
            }
        )
        .map(|h| h.0),
        Some(Budget::Steps)
    );
    // `indent` and `replace` pay for their result before building it.
    let text = "{{ $s := \"\\n\\n\\n\\n\\n\\n\\n\\n\" }}{{ range $i := 10 }}{{ $s = printf \"%s%s\" $s $s }}{{ end }}{{ indent 1000 $s }}";
    assert_eq!(
        budget_hit(&[("t", text)], mib).map(|h| h.0),
        Some(Budget::OutputBytes)
    );
    let text = "{{ $s := \"xxxxxxxx\" }}{{ range $i := 13 }}{{ $s = printf \"%s%s\" $s $s }}{{ end }}{{ replace \"\" \"yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy\" $s }}";
    assert_eq!(
        budget_hit(&[("t", text)], mib).map(|h| h.0),
        Some(Budget::OutputBytes)
    );
}

#[test]
fn budgets_are_per_execution_and_ordinary_templates_fit() {
    let small = Limits {
        steps: 50,
        output_bytes: 100,
    };
    // 10 iterations of a short body fit in 50 steps...
    assert_eq!(
        budget_hit(&[("t", "{{ range $i := 10 }}{{ $i }}{{ end }}")], small),
        None
    );
    // ...40 do not, and 200 bytes of output do not fit in 100.
    assert_eq!(
        budget_hit(&[("t", "{{ range $i := 40 }}{{ $i }}{{ end }}")], small).map(|h| h.0),
        Some(Budget::Steps)
    );
    assert_eq!(
        budget_hit(&[("t", &"y".repeat(200))], small).map(|h| h.0),
        Some(Budget::OutputBytes)
    );
    // Each execution starts afresh: the same set runs twice within the same budget.
    let set = helm_set(&[("t", "{{ range $i := 10 }}{{ $i }}{{ end }}")])
        .unwrap_or_else(|e| panic!("{e}"));
    for _ in 0..3 {
        assert!(set.execute_within("t", &json!({}), small).is_ok());
    }
}

#[test]
fn a_range_over_a_field_reads_it_in_place_as_a_copy_would() {
    let dot = json!({"Values": {
        "apps": {"b": {"on": true}, "a": {"on": false}},
        "list": [3, 1],
        "big": ["x".repeat(64 << 10)],
    }});
    // A field of the dot (and the dot) is read in place; a sub-pipeline is a copy. Both give
    // the same iterations, keys sorted as Go sorts a map's.
    let set = helm_set(&[
        (
            "in_place",
            "{{ range $k, $v := .Values.apps }}{{ $k }}={{ $v.on }};{{ end }}{{ range .Values.list }}{{ . }},{{ end }}{{ range . }}!{{ end }}{{ range .Values.none }}x{{ else }}empty{{ end }}",
        ),
        (
            "copied",
            "{{ range $k, $v := (.Values.apps) }}{{ $k }}={{ $v.on }};{{ end }}{{ range (.Values.list) }}{{ . }},{{ end }}{{ range (.) }}!{{ end }}{{ range (.Values.none) }}x{{ else }}empty{{ end }}",
        ),
    ])
    .unwrap_or_else(|e| panic!("{e}"));
    let run = |name| {
        set.execute_within(name, &dot, Limits::default())
            .unwrap_or_else(|e| panic!("{name}: {e}"))
    };
    assert_eq!(run("in_place"), "a=false;b=true;3,1,!empty");
    assert_eq!(run("in_place"), run("copied"));
    // Read in place, the collection is still paid for as a copy: 64 KiB is 64 steps, so 400
    // ranges over it run out of 20,000 steps (without the charge they take about 1,200).
    let ranges = "{{ range .Values.big }}{{ end }}".repeat(400);
    let set = helm_set(&[("t", ranges.as_str())]).unwrap_or_else(|e| panic!("{e}"));
    let limits = Limits {
        steps: 20_000,
        output_bytes: 1 << 20,
    };
    match set.execute_within("t", &dot, limits) {
        Err(Error {
            cause: Cause::Budget(b),
            ..
        }) => assert_eq!(b, Budget::Steps),
        other => panic!("expected the step budget to run out, got {other:?}"),
    }
    let limits = Limits {
        steps: 200_000,
        output_bytes: 1 << 20,
    };
    assert!(set.execute_within("t", &dot, limits).is_ok());
}
