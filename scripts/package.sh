#!/usr/bin/env bash
# Build dist/landfuse-<version>.zip for plugins.qgis.org: one top folder `landfuse`, tracked files only,
# no caches, no virtual environment, no tests, no file over 8 MB.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
version="$(sed -n 's/^version=//p' "$root/metadata.txt")"
out_dir="${PACKAGE_DIR:-$root/dist}"
out="$out_dir/landfuse-$version.zip"
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
mkdir -p "$out_dir" "$stage/landfuse"
cd "$root"
git ls-files -z --cached --others --exclude-standard -- . ':!tests' ':!bench' ':!.ci' ':!scripts' ':!docs/*.png' \
  | while IFS= read -r -d '' f; do
      [ -f "$f" ] || continue
      if [ "$(stat -c %s "$f")" -gt 8388608 ]; then echo "package: leaving out $f (over 8 MB)" >&2; continue; fi
      mkdir -p "$stage/landfuse/$(dirname "$f")" && cp "$f" "$stage/landfuse/$f"
    done
rm -f "$out"
(cd "$stage" && python3 -m zipfile -c "$out" landfuse)
echo "package: $out ($(du -h "$out" | cut -f1))"
