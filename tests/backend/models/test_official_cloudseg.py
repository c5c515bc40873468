"""The published CloudSeg checkpoints: strict import and the official networks' outputs at 128 x 128.

A student checkpoint is written as the official code saves it (``{"network": {"module.*": ...},
"optimizer", "epoch"}``) with the fixture's ``hash`` fill; it is imported memory-mapped through
``landfuse import-official``, and the student's logits and cloud-removal output and the teacher's
logits must match the official networks' within 1e-5 through torch and through the exported ONNX.
One full-size model (203 M parameters) per network; the files live in a temporary folder.
"""

import numpy as np
import onnxruntime as ort
import pytest
import torch

from landfuse.backend.cli import main
from landfuse.backend.errors import MissingWeightsError
from landfuse.backend.models.export import export_onnx, read_card
from landfuse.backend.models.official import import_checkpoint, import_state_dict, official_card, official_key
from landfuse.backend.models.registry import build_model
from landfuse.backend.training import load_checkpoint
from landfuse.common.card import ModelCard
from tests.backend.models.official_fixture import (
    PREFIX,
    entries,
    facts,
    hash_state_dict,
    meta_state_dict,
    reference_inputs,
    reference_output,
)

TOLERANCE = 1e-5


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """One torch thread: on a busy 2-core machine spinning OpenMP threads make tracing several times slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _session(path) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


@pytest.fixture(scope="module")
def student_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("official") / "StudentNet.pth"
    torch.save({"network": hash_state_dict("student"), "optimizer": {"state": {}}, "epoch": 29}, path)
    yield path
    path.unlink()


@pytest.fixture(scope="module")
def student(student_file):
    return import_checkpoint(student_file, teacher=False)


@pytest.fixture(scope="module")
def teacher(student_file):
    """The teacher from the same file's tensors (its keys are a subset of the student's, same fill)."""
    network = torch.load(student_file, mmap=True, weights_only=True)["network"]
    return import_state_dict({key: network[key] for key, _, _ in entries("teacher")}, teacher=True, source="teacher")


def _max_difference(output: torch.Tensor | np.ndarray, reference: str) -> float:
    return float(np.abs(np.asarray(output) - reference_output(reference)).max())


def _mapped_files(tensors) -> set[str]:
    """The files whose memory maps hold the tensors' data (from /proc/self/maps)."""
    spans = []
    with open("/proc/self/maps", encoding="utf-8") as maps:
        for line in maps:
            fields = line.split(maxsplit=5)
            start, end = (int(x, 16) for x in fields[0].split("-"))
            spans.append((start, end, fields[5].strip() if len(fields) == 6 else ""))
    return {next((p for s, e, p in spans if s <= t.data_ptr() < e), "") for t in tensors}


def test_official_keys_are_landfuse_keys_one_to_one():
    for which in ("student", "teacher"):
        with torch.device("meta"):
            model = build_model(official_card(teacher=which == "teacher"))
        mapped = {official_key(key): tuple(value.shape) for key, value in model.state_dict().items()}
        official = {key.removeprefix(PREFIX): shape for key, shape, _ in entries(which)}
        assert mapped == official, which
        assert len(mapped) == facts(which)["n_state_dict_entries"]


def test_student_reproduces_the_official_logits_and_cloud_removal(student):
    optical, sar = reference_inputs()
    with torch.inference_mode():
        out = student.model(optical, sar)
    logits = _max_difference(out["logits"], "student_seg_logits")
    reconstruction = _max_difference(out["reconstruction"], "student_cr_output")
    assert logits <= TOLERANCE, f"student logits differ by {logits:.2e}"
    assert reconstruction <= TOLERANCE, f"student cloud removal differs by {reconstruction:.2e}"


def test_teacher_reproduces_the_official_logits(teacher):
    with torch.inference_mode():
        out = teacher.model(*reference_inputs())
    assert set(out) == {"logits"}
    difference = _max_difference(out["logits"], "teacher_seg_logits")
    assert difference <= TOLERANCE, f"teacher logits differ by {difference:.2e}"


def test_the_import_maps_the_file_instead_of_copying_it(student, student_file):
    assert _mapped_files([*student.model.parameters(), *student.model.buffers()]) == {str(student_file)}
    assert student.other_contents == ["epoch", "optimizer"]
    assert student.entries == 2758 and student.parameters == facts("student")["n_parameters"]


def test_unused_official_entries_are_accepted_and_listed(student, teacher):
    for result, which in ((student, "student"), (teacher, "teacher")):
        unused = facts(which)["unused_at_inference"]
        assert len(result.unused_at_inference) == unused["n_entries"]
        assert sorted({".".join(k.split(".")[:4]) for k in result.unused_at_inference}) == unused["prefixes"]
    assert "192 entries are never used at inference" in "\n".join(teacher.lines())


def test_import_official_to_onnx_reproduces_the_student(student_file, tmp_path, capsys):
    output = tmp_path / "cloudseg-m3m.onnx"
    try:
        assert main(["import-official", "cloudseg", str(student_file), str(output)]) == 0
        assert "132 entries are never used at inference" in capsys.readouterr().out
        card = read_card(output)
        session = _session(output)
        optical, sar = reference_inputs()
        feeds = {"optical": optical.numpy(), "sar": sar.numpy()}
        logits, reconstruction = session.run(["logits", "reconstruction"], feeds)
    finally:
        output.unlink(missing_ok=True)
    assert _max_difference(logits, "student_seg_logits") <= TOLERANCE
    assert _max_difference(reconstruction, "student_cr_output") <= TOLERANCE
    assert card.training_data == "M3M-CR (official CloudSeg release)" and card.tile_size == 160
    assert [b.name for b in card.optical_bands] == ["Blue", "Green", "Red", "NIR"]
    assert [(b.name, b.clip, b.mean, b.std) for b in card.sar_bands] == [
        ("VV", (-25.0, 0.0), -25.0, 25.0),
        ("VH", (-32.5, 0.0), -32.5, 32.5),
    ]
    assert card.num_classes == 6 and card.licence.startswith("not stated")


def test_exported_teacher_reproduces_the_official_logits(teacher, tmp_path):
    output = export_onnx(teacher.model, teacher.card, tmp_path / "teacher.onnx")
    try:
        session = _session(output)
        optical, sar = reference_inputs()
        (logits,) = session.run(None, {"optical": optical.numpy(), "sar": sar.numpy()})
    finally:
        output.unlink()
    assert _max_difference(logits, "teacher_seg_logits") <= TOLERANCE


def test_a_renamed_entry_is_an_error_naming_it():
    state = meta_state_dict("student")
    state["module.fuse_block_stage2.modality1_msc.conv.0.weights"] = state.pop(
        "module.fuse_block_stage2.modality1_msc.conv.0.weight"
    )
    with pytest.raises(MissingWeightsError) as error:
        import_state_dict(state, teacher=False)
    message = str(error.value)
    assert "1 missing, 1 unexpected" in message
    assert "missing module.fuse_block_stage2.modality1_msc.conv.0.weight [128, 384, 1, 1]" in message
    assert "unexpected module.fuse_block_stage2.modality1_msc.conv.0.weights" in message


def test_a_reshaped_entry_is_an_error_naming_it():
    state = meta_state_dict("teacher")
    key = "module.cross_modality_stream.encoder.block3.4.attn.kv.weight"
    state[key] = torch.empty(640, 321, device="meta")
    with pytest.raises(MissingWeightsError, match=rf"{key} is \[640, 321\], expected \[640, 320\]"):
        import_state_dict(state, teacher=True)


def test_student_and_teacher_files_are_told_apart():
    with pytest.raises(MissingWeightsError, match="holds a StudentNet.*drop --teacher"):
        import_state_dict(meta_state_dict("student"), teacher=True)
    with pytest.raises(MissingWeightsError, match="holds a TeacherNet.*add --teacher"):
        import_state_dict(meta_state_dict("teacher"), teacher=False)


def test_a_file_that_is_not_a_checkpoint_is_a_clear_error(tmp_path, capsys):
    path = tmp_path / "StudentNet.pth"
    torch.save({"weights": torch.zeros(3)}, path)
    assert main(["import-official", "cloudseg", str(path), str(tmp_path / "x.onnx")]) == 2
    assert "has no 'network' state dict (found weights)" in capsys.readouterr().err


def test_import_official_teacher_to_a_landfuse_checkpoint(student_file, tmp_path, capsys):
    network = torch.load(student_file, mmap=True, weights_only=True)["network"]
    teacher_file, output = tmp_path / "TeacherNet.pth", tmp_path / "cloudseg-m3m-teacher.pt"
    try:
        torch.save({"network": {key: network[key] for key, _, _ in entries("teacher")}}, teacher_file)
        assert main(["import-official", "cloudseg", str(teacher_file), str(output), "--teacher"]) == 0
        checkpoint = load_checkpoint(output)
    finally:  # two files of 0.8 GB
        teacher_file.unlink(missing_ok=True)
        output.unlink(missing_ok=True)
    assert "192 entries are never used at inference" in capsys.readouterr().out
    card = ModelCard.from_dict(checkpoint["card"])
    assert (card.variant, card.outputs, card.num_classes) == ("paper_teacher", ("logits",), 6)
    state = checkpoint["state_dict"]
    assert len(state) == 2730
    key = "fuse_blocks.2.update_cross_modality_block.excitation.0.weight"
    assert torch.equal(state[key], network[f"{PREFIX}{official_key(key)}"])
