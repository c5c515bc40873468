"""Reference learning-rate schedules and label-aligned random crops."""

import numpy as np
import pytest

from landfuse.backend.data import Sample
from landfuse.backend.errors import BadParamsError
from landfuse.backend.training.batches import crop_sample
from landfuse.backend.training.schedules import lr_factor, reference_settings


def test_cloudseg_step_schedule_halves_after_epochs_9_14_19_24():
    factors = [lr_factor("step", epoch * 10, 10, 300) for epoch in range(30)]
    assert factors[:10] == [1.0] * 10
    assert factors[10:15] == [0.5] * 5 and factors[15] == 0.25 and factors[20] == 0.125 and factors[29] == 0.0625
    assert reference_settings("cloudseg").optimiser == "adam" and reference_settings("cloudseg").lr == 1e-4


def test_segformer_poly_schedule_warms_up_then_decays_to_zero():
    total = 100
    factors = [lr_factor("poly", i, 10, total) for i in range(total)]
    assert factors[0] == pytest.approx(0.1)  # warm-up over a tenth of a short run
    assert factors[9] == pytest.approx(0.91)
    assert factors[50] == pytest.approx(0.5) and factors[99] == pytest.approx(0.01)
    settings = reference_settings("specsar_former")
    assert (settings.optimiser, settings.lr, settings.weight_decay) == ("adamw", 6e-5, 0.01)


def test_crops_keep_a_coarser_label_grid_aligned():
    # 30 px image, 9 px label (the M3M-CR 300/90 ratio): label pixel (r, c) covers image block (r*10/3 ...).
    image = np.broadcast_to(np.arange(30, dtype=np.float32), (1, 30, 30)).copy()
    label = np.broadcast_to(np.arange(9, dtype=np.uint8), (9, 9)).copy()
    sample = Sample("s", optical=image, label=label)
    for seed in range(5):
        crop = crop_sample(sample, 20, np.random.default_rng(seed), flips=False)
        assert crop.optical.shape == (1, 20, 20) and crop.label.shape == (6, 6)
        assert crop.label[0, 0] * 10 // 3 == crop.optical[0, 0, 0]  # offsets on multiples of 10 px / 3 px
    with pytest.raises(BadParamsError, match="multiple of 10"):
        crop_sample(sample, 16, np.random.default_rng(0))


def test_small_images_are_padded_with_nodata_labels():
    sample = Sample("s", sar=np.ones((2, 20, 20), np.float32), label=np.zeros((20, 20), np.uint8))
    crop = crop_sample(sample, 32, np.random.default_rng(0), flips=False)
    assert crop.sar.shape == (2, 32, 32) and crop.sar[:, 20:].sum() == 0
    assert (crop.label[20:] == 255).all() and (crop.label[:20, :20] == 0).all()
