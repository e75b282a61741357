#!/usr/bin/env bash
# Gathers the upstream CRD YAML named in sources.tsv into input/ (not committed), with
# input/sources.tsv recording the commit each release tag points to. Then
# `cargo run --release -- input ../../schemas/catalog` writes the committed catalog.
#
# Each source is read from a bare git clone of its GitHub repository, at its release tag:
#   MIRRORS=/some/dir ./fetch.sh     expects $MIRRORS/<owner>+<name>/repo (bare git dirs)
# Without MIRRORS the script clones them itself into ./mirrors:
#   git clone --bare --filter=blob:none https://github.com/<owner>/<name> mirrors/<owner>+<name>/repo
# (The committed catalog was made from the mirrors of the session's `fetch` tool,
# /work/.mirror/<owner>+<name>/repo, which are such bare clones.)
set -euo pipefail
cd "$(dirname "$0")"
MIRRORS="${MIRRORS:-}"
rm -rf input
mkdir -p input
printf '# id\tproject\trepo\ttag\tcommit\tfolder\tfiles\n' > input/sources.tsv
grep -v '^#' sources.tsv | while IFS=$'\t' read -r id project repo tag folder exclude; do
  [ -n "$id" ] || continue
  if [ -n "$MIRRORS" ]; then
    gitdir="$MIRRORS/${repo/\//+}/repo"
  else
    gitdir="mirrors/${repo/\//+}/repo"
    [ -d "$gitdir" ] || git clone --bare --filter=blob:none "https://github.com/$repo" "$gitdir"
  fi
  commit=$(git --git-dir="$gitdir" rev-parse "$tag^{commit}")
  mkdir -p "input/$id"
  files=()
  while read -r path; do
    name=${path##*/}
    case "$name" in *.yaml|*.yml) ;; *) continue ;; esac
    if [ "$exclude" != "-" ] && [[ "$name" =~ $exclude ]]; then continue; fi
    git --git-dir="$gitdir" show "$commit:$path" > "input/$id/$name"
    # Only files that hold CRDs (a folder's kustomization.yaml does not).
    if grep -q '^kind: CustomResourceDefinition' "input/$id/$name"; then
      files+=("$name")
    else
      rm "input/$id/$name"
    fi
  done < <(git --git-dir="$gitdir" ls-tree --name-only "$commit" "$folder/")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$id" "$project" "$repo" "$tag" "$commit" "$folder" "$(IFS=,; echo "${files[*]}")" >> input/sources.tsv
done
