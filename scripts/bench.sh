#!/usr/bin/env bash
# The speed benchmark at every size the README reports: generated pairs of 1,000, 10,000 and
# 40,000 clean tenants and a 10,000-tenant pair with 16,704 findings (23,403 before one root
# cause gave one finding, 9e9b601) (`gen_repo --many-findings --service-accounts`). For each it prints the stages of the
# library run (`examples/bench`: best of RUNS, the read + parse floor of the same process,
# files/s, peak RSS), then the whole command as a user runs it (median of RUNS cold
# processes: wall, CPU, peak RSS, findings).
#
#   scripts/bench.sh [RUNS] [DIR]     (RUNS defaults to 3, DIR to /tmp/gitops-lint-bench)
#
# Budgets live here, as numbers to read, not in timed unit tests: the machine decides the
# digits, so compare a before/after pair run back to back.
set -euo pipefail

runs="${1:-3}"
dir="${2:-/tmp/gitops-lint-bench}"
root="$(cd "$(dirname "$0")/.." && pwd)"

cargo build --release --locked --quiet --bins --examples --manifest-path "$root/Cargo.toml"
bin="$root/target/release"
mkdir -p "$dir"

# name, gen_repo flags
cases=(
  "1k|--tenants 1000"
  "10k|--tenants 10000"
  "40k|--tenants 40000"
  "10k-many-findings|--tenants 10000 --many-findings --service-accounts"
)

# The median of a column of numbers.
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

summary=()
for case in "${cases[@]}"; do
  name="${case%%|*}"
  flags="${case#*|}"
  tree="$dir/$name"
  # shellcheck disable=SC2086 # the flags are words
  "$bin/examples/gen_repo" $flags --out "$tree" >/dev/null
  echo "== $name ($flags)"
  "$bin/examples/bench" "$tree" "$runs"
  walls=() cpus=() rss=()
  for _ in $(seq "$runs"); do
    # %e wall, %U+%S CPU, %M peak RSS (KiB); exit 1 means findings, not failure.
    stats="$({ /usr/bin/time -f '%e %U %S %M' "$bin/gitops-lint" --format json \
      "$tree/apps-repo" "$tree/infra-repo" >"$dir/$name.json" || [ $? -eq 1 ]; } 2>&1 | tail -1)"
    read -r wall user sys kib <<<"$stats"
    walls+=("$wall")
    cpus+=("$(awk -v u="$user" -v s="$sys" 'BEGIN {printf "%.2f", u + s}')")
    rss+=("$((kib / 1024))")
  done
  findings="$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["findings"]))' "$dir/$name.json")"
  line="$(printf '%-18s wall %5ss  CPU %5ss  peak %4s MiB  %6s findings' "$name" \
    "$(printf '%s\n' "${walls[@]}" | median)" "$(printf '%s\n' "${cpus[@]}" | median)" \
    "$(printf '%s\n' "${rss[@]}" | median)" "$findings")"
  echo "command: $line"
  summary+=("$line")
done

echo
echo "== the command, median of $runs cold runs (gitops-lint --format json APPS INFRA)"
printf '%s\n' "${summary[@]}"
