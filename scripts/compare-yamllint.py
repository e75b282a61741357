#!/usr/bin/env python3
"""Compare gitops-lint with yamllint on the same fixture files.

yamllint runs with only the rules gitops-lint claims to cover: `indentation`, `key-duplicates`
and `truthy` (plus its always-on syntax check, shown for information). gitops-lint runs the
way users run it: each fixture case's sub-directories as PATHs, so tier templates, chart
templates and workflows are classified as in real use.

Prints, per file, the lines each tool flagged, grouped by what they check. Exits 1 if yamllint
flags a line on one of the three rules that gitops-lint does not flag with the matching rule:
"everything yamllint finds, we find". gitops-lint runs with the `style` preset on (a config
with `presets: [style]` is passed with `--config`): yamllint's `indentation` judges layout,
which gitops-lint only reports when a team opts in. Lines only gitops-lint flags are listed; the README
explains each kind.

Usage: scripts/compare-yamllint.sh (installs yamllint into target/yamllint-venv, builds the
binary, and runs this script), or: compare-yamllint.py BINARY [CASE...]
"""

import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# The yamllint side of the comparison. Widths and list styles are learned per file, as
# gitops-lint does by default. `True`/`TRUE`/`False`/`FALSE` are allowed: they are booleans in
# YAML 1.1 and 1.2 alike, so no tool disagrees on them (yamllint's default allows only
# lowercase, a style preference). Workflows are skipped for truthy because GitHub reads them
# with a YAML 1.2 parser, where `on:` is the string "on".
YAMLLINT_CONFIG = """
rules:
  indentation:
    spaces: consistent
    indent-sequences: consistent
    check-multi-line-strings: false
  key-duplicates: enable
  truthy:
    allowed-values: ['true', 'false', 'True', 'False', 'TRUE', 'FALSE']
    check-keys: true
    ignore: |
      **/.github/workflows/*
"""

# yamllint rule -> the gitops-lint rules that cover it.
COVERS = {
    # yamllint itself fails on the file (it cannot decode it): shown, never matched.
    "crash": set(),
    "indentation": {
        "yaml/indentation",
        "yaml/indent-width",
        "yaml/list-style",
        "yaml/continued-list-item",
    },
    "key-duplicates": {"yaml/duplicate-key"},
    # Where the field is typed (ConfigMap data, labels), schema/invalid-type reports the value
    # ("must be a string, YAML reads `yes` as a boolean") instead of the generic finding.
    "truthy": {"yaml/ambiguous-scalar", "schema/invalid-type"},
    "syntax": {
        "yaml/syntax",
        "yaml/indentation",
        "yaml/tab",
        "yaml/bom-or-encoding",
        "yaml/continued-list-item",
    },
}
CHECKED = ("indentation", "key-duplicates", "truthy")

# Default fixture cases: every YAML rule's fail/pass case, the realistic example pair and the
# hostile corpus.
DEFAULT_CASES = sorted(
    [p.parent for p in (ROOT / "fixtures/rules/yaml").glob("*/*/expected.txt")]
) + [ROOT / "fixtures/example", ROOT / "fixtures/broken"]


# gitops-lint's side: the style preset on, nothing else changed.
GITOPS_LINT_CONFIG = "presets: [style]\n"


def gitops_lint(binary, case, config_path):
    """Findings of gitops-lint on one case: {relative file: {(line, rule)}}."""
    repos = sorted(p.name for p in case.iterdir() if p.is_dir())
    out = subprocess.run(
        [binary, "--format", "json", "--config", str(config_path), *repos],
        cwd=case,
        capture_output=True,
        text=True,
    )
    if out.returncode not in (0, 1):
        sys.exit(f"gitops-lint failed on {case}: {out.stderr}")
    found = defaultdict(set)
    for f in json.loads(out.stdout)["findings"]:
        found[f["file"]].add((f["line"], f["rule"]))
    return found


def is_go_template(rel):
    # Helm chart templates are Go templates, not YAML; neither tool should parse them.
    return "/templates/" in f"/{rel}" and "/tier-templates/" not in f"/{rel}"


def yamllint(case, config_path):
    """yamllint's findings on every YAML file of a case: {relative file: {(line, rule)}}."""
    files = sorted(
        str(p.relative_to(case))
        for p in case.rglob("*")
        if p.suffix in (".yaml", ".yml") and p.is_file()
    )
    files = [f for f in files if not is_go_template(f)]
    found = defaultdict(set)
    lines = []
    for f in files:
        # One file per run: yamllint stops the whole run on a file it cannot decode.
        out = subprocess.run(
            [sys.executable, "-m", "yamllint", "-c", str(config_path), "-f", "parsable", f],
            cwd=case,
            capture_output=True,
            text=True,
        )
        if "Traceback" in out.stderr:
            found[f].add((1, "crash"))
        lines.extend(out.stdout.splitlines())
    for line in lines:
        # file:line:col: [level] message (rule)   -- syntax errors have no "(rule)"
        try:
            path, lineno, _col, rest = line.split(":", 3)
        except ValueError:
            continue
        rule = rest.rsplit("(", 1)[-1].rstrip(")") if rest.endswith(")") else "syntax"
        if "syntax error" in rest:
            rule = "syntax"
        if rule in COVERS:
            found[path].add((int(lineno), rule))
    for f, items in found.items():
        if (1, "crash") in items:
            items.discard((1, "crash"))
            items.add((0, "crash"))
    return found, files


def main(argv):
    binary = str(Path(argv[1]).resolve()) if len(argv) > 1 else str(ROOT / "target/debug/gitops-lint")
    cases = [Path(c).resolve() for c in argv[2:]] or DEFAULT_CASES
    config_path = ROOT / "target" / "yamllint-compare.yaml"
    config_path.parent.mkdir(exist_ok=True)
    config_path.write_text(YAMLLINT_CONFIG)
    ours_config = ROOT / "target" / "gitops-lint-style.yaml"
    ours_config.write_text(GITOPS_LINT_CONFIG)

    missed = []
    only_us = defaultdict(int)
    agreed = 0
    for case in cases:
        ours = gitops_lint(binary, case, ours_config)
        theirs, files = yamllint(case, config_path)
        rel_case = case.relative_to(ROOT)
        for rel in files:
            t = theirs.get(rel, set())
            o = {
                (line, rule)
                for line, rule in ours.get(rel, set())
                if rule.startswith("yaml/") or rule == "schema/invalid-type"
            }
            if not t and not o:
                continue
            print(f"{rel_case}/{rel}")
            # Where both tools say the file stops parsing: yamllint's token rules go on past
            # that point and report consequences of the same mistake.
            broken_at = min(
                (l for (l, r) in t if r == "syntax" and any(ol == l for (ol, _) in o)),
                default=None,
            )
            for line, rule in sorted(t):
                match = [r for (l, r) in o if l == line and r in COVERS[rule]]
                if match:
                    agreed += 1
                    print(f"  line {line:>4}  both         yamllint {rule:<15} gitops-lint {match[0]}")
                elif broken_at is not None and line > broken_at:
                    agreed += 1
                    print(f"  line {line:>4}  both         yamllint {rule:<15} after the parse error on line {broken_at}, which both report")
                elif rule in CHECKED:
                    missed.append(f"{rel_case}/{rel}:{line} {rule}")
                    print(f"  line {line:>4}  YAMLLINT ONLY yamllint {rule}  <-- missed")
                else:
                    print(f"  line {line:>4}  yamllint only yamllint {rule} (not one of the compared rules)")
            for line, rule in sorted(o):
                if rule == "schema/invalid-type":
                    continue
                if not any(l == line and rule in COVERS[r] for (l, r) in t):
                    only_us[rule] += 1
                    print(f"  line {line:>4}  gitops-lint only                         {rule}")
    print()
    print(f"agreed: {agreed} lines; only gitops-lint: "
          + ", ".join(f"{r} {n}" for r, n in sorted(only_us.items())))
    if missed:
        print(f"gitops-lint missed {len(missed)} lines that yamllint flags:")
        for m in missed:
            print(f"  {m}")
        return 1
    print("every line yamllint flags (indentation, key-duplicates, truthy) gitops-lint flags too")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
