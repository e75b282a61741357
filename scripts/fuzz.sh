#!/usr/bin/env bash
# Runs every fuzz target briefly from its committed seed corpus (fuzz/corpus/<target>), on the
# stable toolchain (`--sanitizer none`). A crash, a timeout (-timeout) or a memory blow-up
# (-rss_limit_mb) fails the script and leaves the input in fuzz/artifacts/<target>/.
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET]   (default 20): explore, with a random seed
#        scripts/fuzz.sh --ci                     a fixed seed and a fixed number of runs per
#                                                 target (about 20 s each on 2 cores), so that
#                                                 CI gives the same answer on the same commit
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
ci=false
seconds="${1:-20}"
if [ "${1:-}" = "--ci" ]; then
  ci=true
  seconds=120 # only a safety net: the run counts below end each target first
fi
# Runs per target for --ci, from their speeds (executions per second differ 100-fold: `world`
# loads and derives a whole repository per input).
runs_for() {
  case "$1" in
    yaml) echo 40000 ;;
    hcl_json) echo 200000 ;;
    gotemplate) echo 100000 ;;
    matchers) echo 100000 ;;
    world) echo 1500 ;;
  esac
}
if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked --version 0.13.2
fi
targets=(yaml hcl_json gotemplate matchers world)
cargo fuzz build --sanitizer none
for target in "${targets[@]}"; do
  # A scratch copy: what the fuzzer learns stays out of the committed seeds.
  work="$(mktemp -d)"
  cp corpus/"$target"/* "$work"/
  mode=(-max_total_time="$seconds")
  if $ci; then
    mode+=(-seed=1 -runs="$(runs_for "$target")")
    echo "== fuzz $target: $(runs_for "$target") runs, seed 1"
  else
    echo "== fuzz $target for ${seconds}s"
  fi
  log="$work.log"
  status=0
  cargo fuzz run --sanitizer none "$target" "$work" -- \
    "${mode[@]}" -timeout=10 -rss_limit_mb=3072 -max_len=65536 \
    -print_final_stats=1 >"$log" 2>&1 || status=$?
  grep -E '^(#[0-9]+.*DONE|stat::number_of_executed_units|SUMMARY|thread .* panicked|==[0-9]+== ERROR)' "$log" || true
  if [ "$status" -ne 0 ]; then
    tail -n 40 "$log" >&2
  fi
  rm -f "$log"
  rm -rf "$work"
  if [ "$status" -ne 0 ]; then
    echo "fuzz target $target failed (exit $status); the input is in fuzz/artifacts/$target/" >&2
    exit 1
  fi
done
echo "all fuzz targets ran without a crash"
