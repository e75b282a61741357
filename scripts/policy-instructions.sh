#!/usr/bin/env bash
# What each Rego package of a policy directory costs on a tree's real policy input, in
# instructions counted by valgrind (cachegrind without cache simulation). Wall times on a shared
# machine drift by a factor of two within an hour; instruction counts do not, so a change to a
# policy or to the input's facts shows up even when it is a few percent.
#
#   scripts/policy-instructions.sh TREE [POLICY_DIR]
#
# TREE holds `apps-repo/` and `infra-repo/` (as `examples/gen_repo` writes them; a 1,000-tenant
# tree keeps each count under half a minute). POLICY_DIR defaults to `policies/`: run it on a
# copy, edit, run again. Each package's line is the instructions of evaluating its `deny` and
# `warn` sets, each on a fresh engine, minus those of building the input alone (the `input`
# line); setting up the second engine is about 15 to 20 million of it. The input is built on one
# thread (`RAYON_NUM_THREADS=1`): an idle worker's spinning counts too, and made repeated runs
# disagree by up to 10 million; on one thread they agree within about 2 million.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  echo "usage: scripts/policy-instructions.sh TREE [POLICY_DIR]" >&2
  exit 2
fi
tree="$1"
policies="${2:-$root/policies}"
if [ ! -d "$tree/apps-repo" ] || [ ! -d "$tree/infra-repo" ]; then
  echo "policy-instructions: $tree has no apps-repo/ and infra-repo/ (see examples/gen_repo)" >&2
  exit 2
fi
if ! command -v valgrind > /dev/null; then
  echo "policy-instructions: valgrind is not installed (Debian: apt-get install valgrind)" >&2
  exit 2
fi

cargo build --release --locked --quiet -p gitops-lint-rules --example policy_timing \
  --manifest-path "$root/Cargo.toml"
bin="$root/target/release/examples/policy_timing"

log="$(mktemp)"
err="$(mktemp)"
trap 'rm -f "$log" "$err"' EXIT

# The instructions of one `policy_timing` run with the queries `Q`; a run that fails (a policy
# that does not compile, a query that errs) stops the script with its message.
instructions() {
  if ! RAYON_NUM_THREADS=1 Q="$1" valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null \
    --log-file="$log" "$bin" "$tree" "$policies" > /dev/null 2> "$err"; then
    cat "$err" >&2
    echo "policy-instructions: policy_timing failed on \`$1\`" >&2
    exit 2
  fi
  sed -n 's/.*I *refs: *//p' "$log" | tr -d ,
}

input="$(instructions true)"
printf '%-36s %8d M instructions\n' "input" "$((input / 1000000))"
for file in "$policies"/*.rego; do
  case "$file" in *_test.rego) continue ;; esac
  package="$(sed -n 's/^package[[:space:]]\{1,\}\([^[:space:]]*\).*/\1/p' "$file" | head -n 1)"
  [ -n "$package" ] || continue
  # Two queries, each on a fresh engine (`@@`): a package without `warn` leaves that one
  # undefined, and a sum of the two would be undefined too.
  total="$(instructions "count(data.$package.deny)@@count(data.$package.warn)")"
  printf '%-36s %8d M\n' "$package" "$(((total - input) / 1000000))"
done
