#!/usr/bin/env bash
# Build dist/landfuse-<version>.zip for plugins.qgis.org: one top folder `landfuse`, tracked and new (not ignored)
# files only, no caches, no virtual environment, no tests, no developer scripts.
# Fails, leaving no zip, when a file would have to be dropped (over 8 MB) or when the zip would not pass the
# checks of the plugin repository's upload validator: metadata fields, icon, LICENSE, size, names.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
version="$(sed -n 's/^version=//p' "$root/metadata.txt")"
out_dir="${PACKAGE_DIR:-$root/dist}"
out="$out_dir/landfuse-$version.zip"
max_file_bytes=$((8 * 1024 * 1024))
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
mkdir -p "$out_dir" "$stage/landfuse"
rm -f "$out"
cd "$root"
too_big=()
while IFS= read -r -d '' f; do
  [ -f "$f" ] || continue
  if [ "$(stat -c %s "$f")" -gt "$max_file_bytes" ]; then too_big+=("$f"); continue; fi
  mkdir -p "$stage/landfuse/$(dirname "$f")" && cp "$f" "$stage/landfuse/$f"
done < <(git ls-files -z --cached --others --exclude-standard -- . \
  ':!tests' ':!bench' ':!.ci' ':!scripts' ':!docs/*.png' ':!i18n/*.py')
if [ "${#too_big[@]}" -gt 0 ]; then
  printf 'package: %s is over 8 MB: it would be left out. Make it smaller, or keep it out of the repository.\n' \
    "${too_big[@]}" >&2
  exit 1
fi
(cd "$stage" && python3 -m zipfile -c "$out" landfuse)
if ! python3 - "$out" <<'EOF'
"""Check a plugin zip as plugins.qgis.org's upload validator does; print each problem, exit 1 if any."""
import configparser
import re
import sys
import zipfile
from urllib.parse import urlparse

MAX_ZIP_BYTES = 25_000_000  # the repository's PLUGIN_MAX_UPLOAD_SIZE
REQUIRED = ("name", "description", "version", "qgisMinimumVersion", "author", "email", "about", "tracker", "repository")
URLS = ("tracker", "repository", "homepage")
FORBIDDEN_FOLDERS = {"__MACOSX", ".git", "__pycache__"}

path = sys.argv[1]
problems = []
with open(path, "rb") as stream:
    size = len(stream.read())
if size > MAX_ZIP_BYTES:
    problems.append(f"the zip is {size:,} bytes; the plugin repository takes at most {MAX_ZIP_BYTES:,}")
with zipfile.ZipFile(path) as archive:
    names = archive.namelist()
    bad = archive.testzip()
    if bad:
        problems.append(f"{bad} is corrupt in the zip")
    tops = {name.split("/")[0] for name in names}
    if len(tops) != 1:
        problems.append(f"the zip must hold one top folder, not {sorted(tops)}")
    top = sorted(tops)[0]
    if not re.match(r"^[A-Za-z][A-Za-z0-9-_]+$", top):
        problems.append(f"the top folder {top!r} must start with a letter and hold only letters, digits, - and _")
    for name in names:
        if ".." in name or name.startswith("/") or name.endswith(".pyc"):
            problems.append(f"{name}: no parent references, absolute paths or .pyc files allowed")
        if FORBIDDEN_FOLDERS & set(name.split("/")):
            problems.append(f"{name}: no {', '.join(sorted(FORBIDDEN_FOLDERS))} folders allowed")
    for required_file in ("__init__.py", "metadata.txt", "LICENSE"):
        if f"{top}/{required_file}" not in names:
            problems.append(f"{top}/{required_file} is missing")
    metadata = configparser.ConfigParser()
    metadata.optionxform = str
    if f"{top}/metadata.txt" in names:
        metadata.read_string(archive.read(f"{top}/metadata.txt").decode("utf-8"))
    general = metadata["general"] if metadata.has_section("general") else {}
    missing = [key for key in REQUIRED if not general.get(key, "").strip()]
    if missing:
        problems.append(f"metadata.txt lacks {', '.join(missing)}")
    for key in URLS:
        url = urlparse(general.get(key, "").strip())
        if general.get(key) and not (url.scheme and url.netloc):
            problems.append(f"metadata.txt: {key} is not a URL: {general.get(key)!r}")
    if "/" in general.get("author", ""):
        problems.append("metadata.txt: the author may not contain '/'")
    icon = general.get("icon", "").strip().removeprefix("./")
    if not icon or f"{top}/{icon}" not in names:
        problems.append(f"metadata.txt: the icon {icon!r} is not in the zip")
for problem in problems:
    print(f"package: {problem}", file=sys.stderr)
sys.exit(1 if problems else 0)
EOF
then
  rm -f "$out"
  exit 1
fi
echo "package: $out ($(du -h "$out" | cut -f1))"
