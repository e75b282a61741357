#!/usr/bin/env bash
# The action's lint step (action.yml calls it; tests/action/run.sh runs it with the GitHub
# environment simulated). Inputs arrive as INPUT_* variables; the binary is $GITOPS_LINT_BIN.
#
# - annotations (`::error file=...`) go to stdout, where the runner turns them into PR annotations;
# - the Markdown summary is appended to $GITHUB_STEP_SUMMARY;
# - SARIF goes to $INPUT_SARIF_FILE when set;
# - `exit-code` and `sarif-file` go to $GITHUB_OUTPUT; the step fails when gitops-lint does.
set -uo pipefail

bin="${GITOPS_LINT_BIN:-gitops-lint}"
args=()

# Paths: split on whitespace (spaces or newlines in the input).
read -r -d '' -a paths <<<"${INPUT_PATHS:-.}" || true
if [ "${#paths[@]}" -eq 0 ]; then paths=(.); fi
args+=("${paths[@]}")
if [ -n "${INPUT_INFRA_PATH:-}" ]; then args+=("$INPUT_INFRA_PATH"); fi
if [ -n "${INPUT_CONFIG:-}" ]; then args+=(--config "$INPUT_CONFIG"); fi
args+=(--fail-on "${INPUT_FAIL_ON:-error}")

format="${INPUT_FORMAT:-github}"
case "$format" in
  github) args+=(--format github) ;;
  human | json | junit)
    # Annotations still go to the runner: the chosen format is printed to the log, and the
    # annotation commands are written through a file the step then prints.
    annotations="${RUNNER_TEMP:-/tmp}/gitops-lint-annotations.txt"
    args+=(--format "$format" --output "github=$annotations")
    ;;
  *)
    echo "::error title=gitops-lint::input format must be github, human, json or junit, not '$format'"
    exit 2
    ;;
esac
if [ -n "${INPUT_SARIF_FILE:-}" ]; then args+=(--output "sarif=$INPUT_SARIF_FILE"); fi
if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then args+=(--summary "$GITHUB_STEP_SUMMARY"); fi

echo "gitops-lint ${args[*]}" >&2
"$bin" "${args[@]}"
code=$?
if [ -n "${annotations:-}" ] && [ -f "$annotations" ]; then
  cat "$annotations"
fi

if [ -n "${GITHUB_OUTPUT:-}" ]; then
  {
    echo "exit-code=$code"
    echo "sarif-file=${INPUT_SARIF_FILE:-}"
  } >>"$GITHUB_OUTPUT"
fi
exit "$code"
