#!/usr/bin/env bash
# Regenerates schemas/k8s.deflate and schemas/k8s-kinds.txt: builds tools/k8s-schema-gen once
# per Kubernetes minor version k8s-openapi offers as a feature, writes each version's strict
# schemas to target/versions/1.NN.json, then packs them (deduplicated, deflate-compressed).
#
# The kinds of a version are every type k8s-openapi implements `k8s_openapi::Resource` for in
# that version's module (`src/v1_NN/**`), except the `apimachinery` discovery types
# (APIGroup, APIVersions, Status, ...) and subresources (`type Scope = crate::SubResourceScope`:
# Scale, Eviction, TokenRequest). List types are `k8s_openapi::List<T>`, a generic the grep never
# sees.
#
# Run from the repository root: `tools/k8s-schema-gen/generate.sh`.
set -euo pipefail
root=$(pwd)
tool=tools/k8s-schema-gen
manifest=$tool/Cargo.toml
src=$(cargo metadata --format-version 1 --manifest-path "$manifest" |
  python3 -c 'import json,sys; m=json.load(sys.stdin); print(next(p["manifest_path"] for p in m["packages"] if p["name"]=="k8s-openapi").rsplit("/",1)[0])')
versions=$(ls -d "$src"/src/v1_* | sed 's|.*/v1_||' | sort -n)
out=$tool/target/versions
mkdir -p "$out"
for v in $versions; do
  kinds=$tool/target/kinds.rs
  echo "{" >"$kinds.tmp"
  (cd "$src/src/v1_$v" && grep -rl "^impl crate::Resource for " --include=*.rs . | sort) | while read -r f; do
    case "$f" in ./apimachinery/*) continue ;; esac
    file="$src/src/v1_$v/${f#./}"
    grep -q "type Scope = crate::SubResourceScope;" "$file" && continue
    ty=$(sed -n 's/^impl crate::Resource for \([A-Za-z0-9_]*\) {$/\1/p' "$file")
    module=$(dirname "${f#./}" | sed 's|/|::|g')
    echo "k.add::<k8s_openapi::$module::$ty>();" >>"$kinds.tmp"
  done
  echo "}" >>"$kinds.tmp"
  mv "$kinds.tmp" "$kinds"
  cargo run --quiet --manifest-path "$manifest" --no-default-features --features "v1_$v" -- \
    version "1.$v" "$root/$out/1.$v.json"
done
cargo run --quiet --manifest-path "$manifest" --no-default-features --features "v1_$(echo "$versions" | tail -1)" -- \
  pack "$root/schemas/k8s.deflate" "$root/schemas/k8s-kinds.txt" $(for v in $versions; do echo "$root/$out/1.$v.json"; done)
