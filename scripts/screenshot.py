"""A screenshot of LandFuse in the real QGIS main window, for the README: ``docs/screenshot.png``.

    .venv/bin/python scripts/screenshot.py [--out docs/screenshot.png] [--model edc-lite]

Stage 1 (this interpreter): stack a real Sentinel-1/2 sample pair with the backend command line, make a
temporary QGIS profile and plugins folder holding this repository as the plugin ``landfuse``, and start
QGIS under Xvfb with this file as its ``--code`` script.
Stage 2 (inside QGIS): start the plugin, open the dock, pick the two layers and the model, click Run,
wait for the styled result and the explanation, zoom to it and save the main window as a PNG.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

STAGE_VARIABLE = "LANDFUSE_SCREENSHOT"
SAMPLE = "S2A_MSIL2A_20170613T101031_87_48"
TIME_LIMIT_S = 300


def prepare_and_launch(argv: list[str] | None = None) -> int:
    root = Path(__file__).resolve().parent.parent
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=root / "docs" / "screenshot.png")
    parser.add_argument("--model", default="edc-lite", help="demo model name or model file")
    args = parser.parse_args(argv)
    args.model = available_model(args.model, root / "resources" / "models")
    with tempfile.TemporaryDirectory(prefix="landfuse-screenshot-") as tmp:
        work = Path(tmp)
        samples = work / "samples"
        subprocess.run(
            [sys.executable, "-m", "landfuse.backend", "samples", "--out", str(samples)],
            check=True,
            capture_output=True,
        )
        (work / "plugins").mkdir()
        (work / "plugins" / "landfuse").symlink_to(root, target_is_directory=True)
        env = dict(os.environ, QGIS_CUSTOM_CONFIG_PATH=str(work / "profile"), QGIS_PLUGINPATH=str(work / "plugins"))
        env.pop("QT_QPA_PLATFORM", None)
        env[STAGE_VARIABLE] = "|".join(
            [
                str(args.out.resolve()),
                str(samples / f"{SAMPLE}_optical.tif"),
                str(samples / f"{SAMPLE}_sar.tif"),
                args.model,
                str(work / "results"),
            ]
        )
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.unlink(missing_ok=True)
        command = ["xvfb-run", "-a", "-s", "-screen 0 1280x800x24", "qgis", "--nologo", "--noversioncheck"]
        command += ["--code", str(Path(__file__).resolve())]
        qgis = subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            log, _ = qgis.communicate(timeout=TIME_LIMIT_S + 60)
        except subprocess.TimeoutExpired:
            os.killpg(qgis.pid, signal.SIGKILL)
            log, _ = qgis.communicate()
        if not args.out.is_file():
            sys.stderr.write(log.decode("utf-8", "replace")[-3000:])
            print(f"screenshot: QGIS exited ({qgis.returncode}) without writing {args.out}", file=sys.stderr)
            return 1
    print(f"screenshot: {args.out}")
    return 0


def available_model(wanted: str, demo_folder: Path) -> str:
    """``wanted``, or the first shipped demo model when ``wanted`` names a demo model that is not installed."""
    if Path(wanted).suffix or (demo_folder / f"{wanted}.onnx").is_file():
        return wanted
    shipped = sorted(path.stem for path in demo_folder.glob("*-lite.onnx"))
    if not shipped:
        raise SystemExit(f"screenshot: no demo model in {demo_folder}; pass --model PATH")
    print(f"screenshot: {wanted} is not installed, using {shipped[0]}", file=sys.stderr)
    return shipped[0]


def take_screenshot_in_qgis() -> None:
    """Runs inside QGIS (``qgis --code``): drive the dock through one run, then save the window and quit."""
    import qgis.utils
    from qgis.core import QgsProject, QgsRasterLayer, QgsSettings
    from qgis.PyQt.QtCore import Qt, QTimer
    from qgis.PyQt.QtWidgets import QDockWidget

    out, optical_path, sar_path, model, results = os.environ[STAGE_VARIABLE].split("|")
    iface = qgis.utils.iface
    window = iface.mainWindow()
    window.resize(1280, 800)
    window.showMaximized()
    QgsSettings().setValue("landfuse/output_folder", results)

    def finish(code: int, message: str = "") -> None:
        if message:
            print(f"screenshot: {message}", file=sys.stderr, flush=True)
        from landfuse.plugin import service

        service.shutdown()
        os._exit(code)

    QTimer.singleShot(TIME_LIMIT_S * 1000, lambda: finish(1, "timed out"))
    if not (qgis.utils.loadPlugin("landfuse") and qgis.utils.startPlugin("landfuse")):
        finish(1, "the plugin did not start")
    from landfuse.plugin.styling import apply_true_colour_style

    dock = qgis.utils.plugins["landfuse"].dock
    dock.show()
    for panel in window.findChildren(QDockWidget):
        if panel.objectName().startswith("Browser"):
            panel.hide()
    window.resizeDocks([dock], [480], Qt.Orientation.Horizontal)

    project = QgsProject.instance()
    optical = QgsRasterLayer(optical_path, "Sentinel-2 (true colour)")
    apply_true_colour_style(
        optical, [optical.bandName(band).split(": ")[-1] for band in range(1, optical.bandCount() + 1)]
    )
    sar = QgsRasterLayer(sar_path, "Sentinel-1 VV/VH (dB)")
    project.addMapLayers([sar, optical])
    project.layerTreeRoot().findLayer(sar.id()).setItemVisibilityChecked(False)
    dock.inputs_panel.optical_combo.setLayer(optical)
    dock.inputs_panel.sar_combo.setLayer(sar)
    dock.set_model(model)

    def save() -> None:
        iface.messageBar().clearWidgets()
        bar = dock.scroll.verticalScrollBar()
        bar.setValue(bar.maximum())  # the chart and the explanation
        window.repaint()
        window.grab().save(out)
        finish(0)

    def on_finished(state: str) -> None:
        if state != "done":
            finish(1, f"the run ended {state}: {dock.run_panel.status_label.text()}")
        layer, confidence = dock.result_layers[:2]
        layer.setOpacity(0.85)
        tree = project.layerTreeRoot()
        tree.findLayer(confidence.id()).setItemVisibilityChecked(False)
        for node in tree.findLayers():
            node.setExpanded(node.layer() is layer)
        group = tree.findLayer(layer.id()).parent()
        group.setExpanded(False)  # the view shows new groups collapsed while the node says expanded: toggle
        group.setExpanded(True)
        canvas = iface.mapCanvas()
        canvas.setExtent(layer.extent())
        canvas.refresh()
        QTimer.singleShot(4000, save)

    dock.run_finished.connect(on_finished)
    QTimer.singleShot(3000, dock.run_panel.run_button.click)


if __name__ == "__main__" and STAGE_VARIABLE not in os.environ:
    sys.exit(prepare_and_launch())
elif STAGE_VARIABLE in os.environ:
    try:
        take_screenshot_in_qgis()
    except Exception:  # noqa: BLE001 (inside QGIS: report and quit instead of leaving an error dialog open)
        import traceback

        traceback.print_exc()
        os._exit(1)
