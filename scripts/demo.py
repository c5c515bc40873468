"""The main job end to end, headless: `make demo`.

1. Inputs that need no download: a real Sentinel-1/2 pair (BigEarthNet, from the bigearthnet-common
   package) and a large synthetic cloudy scene from LandFuse's generator.
2. Classify each pair through QGIS Processing (`qgis_process.bin run landfuse:classify`) with the
   default demo model, then Explain the report (`landfuse:explain`).
3. Render each styled class map over its optical image, with a legend, to a PNG (QGIS's renderer).
4. Print where everything is and a one-paragraph summary.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
QGIS_PROCESS = "/usr/bin/qgis_process.bin"
DEFAULT_MODEL = "edc-lite"
SYNTHETIC_SIZE = 4096
REAL_SAMPLE = "S2A_MSIL2A_20170613T101031_87_48"


def step(message: str) -> None:
    print(f"\n== {message}", flush=True)


def run(cmd: list[str], env: dict | None = None) -> subprocess.CompletedProcess:
    """Run a command, streaming its output; stop the demo with its message when it fails."""
    result = subprocess.run(cmd, env=env, text=True, capture_output=True)
    if result.returncode != 0:
        sys.stderr.write(result.stdout[-4000:] + result.stderr[-4000:])
        raise SystemExit(f"demo: '{' '.join(cmd[:4])} ...' failed with exit code {result.returncode}")
    return result


def backend(*args: str) -> subprocess.CompletedProcess:
    return run([PYTHON, "-m", "landfuse.backend", *args])


def prepare_inputs(out: Path, size: int) -> dict[str, tuple[Path, Path]]:
    """``{name: (optical, sar)}`` for the real sample and the synthetic scene (cached between runs)."""
    inputs = out / "inputs"
    backend("samples", "--out", str(inputs / "bigearthnet"), "--cache", str(out / "cache"))
    real = inputs / "bigearthnet"
    synthetic = inputs / f"synthetic-{size}"
    scene = "synthetic-7.tif"
    if not (synthetic / "cloud_mask" / scene).exists():
        backend("synth", "--size", str(size), "--cloud-cover", "0.4", "--seed", "7", "--out", str(synthetic))
    return {
        "bigearthnet": (real / f"{REAL_SAMPLE}_optical.tif", real / f"{REAL_SAMPLE}_sar.tif"),
        "synthetic": (synthetic / "optical" / scene, synthetic / "sar" / scene),
    }


def qgis_env(profile: Path, plugins: Path) -> dict:
    """A private QGIS profile with the repository installed as the plugin ``landfuse``."""
    plugins.mkdir(parents=True, exist_ok=True)
    link = plugins / "landfuse"
    if not link.exists():
        link.symlink_to(ROOT, target_is_directory=True)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", QGIS_CUSTOM_CONFIG_PATH=str(profile))
    env["QGIS_PLUGINPATH"] = str(plugins)
    run([QGIS_PROCESS, "plugins", "enable", "landfuse"], env)
    return env


def qgis_algorithm(env: dict, algorithm: str, params: dict[str, str]) -> dict:
    """Run one Processing algorithm through qgis_process and return its outputs."""
    args = [f"--{key}={value}" for key, value in params.items()]
    result = run([QGIS_PROCESS, "--json", "run", f"landfuse:{algorithm}", *args], env)
    return json.loads(result.stdout[result.stdout.index("{") :])["results"]


def classify_and_explain(env: dict, name: str, optical: Path, sar: Path, model: str, out: Path) -> dict:
    job = out / name
    job.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    qgis_algorithm(
        env,
        "classify",
        {
            "OPTICAL": str(optical),
            "SAR": str(sar),
            "MODEL": model,
            "OUTPUT": str(job / "landcover.tif"),
            "CONFIDENCE": str(job / "confidence.tif"),
            "REPORT": str(job / "report.json"),
        },
    )
    classified = time.perf_counter()
    explained = qgis_algorithm(
        env, "explain", {"REPORT": str(job / "report.json"), "OUTPUT": str(job / "explanation.md")}
    )
    done = time.perf_counter()
    run([PYTHON, str(ROOT / "scripts" / "render_map.py"), str(optical), str(job / "landcover.tif"),
         str(job / "landcover.png"), "--title", f"LandFuse {model}: {name}"])  # fmt: skip
    report = json.loads((job / "report.json").read_text())
    return {
        "name": name,
        "folder": job,
        "report": report,
        "explanation": explained.get("TEXT") or (job / "explanation.md").read_text(),
        "grounded": explained.get("GROUNDED"),
        "fallback": explained.get("FALLBACK_USED"),
        "seconds": (classified - started, done - classified),
    }


def summary(job: dict) -> str:
    report = job["report"]
    classes = sorted(report["classes"], key=lambda c: c["share"], reverse=True)
    top = ", ".join(f"{c['name']} {100 * c['share']:.1f} %" for c in classes[:3])
    grid = report["grid"]
    return (
        f"{job['name']}: {grid['width']} x {grid['height']} px ({grid['crs']}) on {report['device']}; "
        f"dominant classes {top}; mean confidence {100 * report['mean_confidence']:.1f} %, "
        f"low-confidence share {100 * report['low_confidence_share']:.1f} %. "
        f"Classified in {job['seconds'][0]:.1f} s, explained in {job['seconds'][1]:.1f} s; "
        f"explanation grounded: {job['grounded']} (template fallback: {job['fallback']})."
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "demo-output")
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--synthetic-size", type=int, default=SYNTHETIC_SIZE, help="side of the synthetic scene (px)")
    args = parser.parse_args(argv)
    out = args.out.resolve()
    step("Preparing the embedded inputs (real BigEarthNet S1/S2 pair, synthetic cloudy scene)")
    inputs = prepare_inputs(out, args.synthetic_size)
    with tempfile.TemporaryDirectory(prefix="landfuse-demo-profile-") as profile:
        env = qgis_env(Path(profile), out / "plugins")
        jobs = []
        for name, (optical, sar) in inputs.items():
            step(f"Classifying and explaining '{name}' with {args.model} through QGIS Processing")
            jobs.append(classify_and_explain(env, name, optical, sar, args.model, out))
    step("Results")
    for job in jobs:
        folder = job["folder"]
        print(f"- {job['name']}: {folder / 'landcover.tif'} (+ .qml), {folder / 'confidence.tif'}, "
              f"{folder / 'report.json'}, {folder / 'explanation.md'}, {folder / 'landcover.png'}")  # fmt: skip
    for job in jobs:
        print(f"\n{summary(job)}\n\n{job['explanation'].strip()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
