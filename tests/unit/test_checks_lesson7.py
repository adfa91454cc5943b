"""Exercise checks of lesson 7: placeholders, right answers, the typical wrong answers.

The right answers are computed here from the phantom's truth (the generator's painted
organs, helpers.data.ct_labels.organ_maps), not from the label files the checks read.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from helpers.data.ct_labels import organ_maps, source_design
from helpers.data.ct_phantom import ORGANS
from helpers.lessons.checks import lesson7

VOXEL_MM3 = 0.7 * 0.7 * 3.0
NUMBER = {o.name: o.number for o in ORGANS}


@cache
def truth() -> np.ndarray:
    return organ_maps()          # [k, row, column], k = Instance Number - 1, head first


@pytest.mark.parametrize("check", [lesson7.check_liver_ml, lesson7.check_most_anterior,
                                   lesson7.check_shifted_dice, lesson7.check_first_frame_slice])
def test_placeholder(check):
    for placeholder in (..., None):
        fb = check(placeholder)
        assert not fb and "no answer yet" in str(fb)


def test_liver_ml():
    voxels = int((truth() == NUMBER["liver"]).sum())
    ml = voxels * VOXEL_MM3 / 1000
    assert lesson7.check_liver_ml(ml)
    assert lesson7.check_liver_ml(str(round(ml, 2)))
    assert "number of voxels" in str(lesson7.check_liver_ml(voxels))
    assert "mm3" in str(lesson7.check_liver_ml(ml * 1000))
    assert "litres" in str(lesson7.check_liver_ml(ml / 1000))
    assert "slice spacing" in str(lesson7.check_liver_ml(voxels * 0.49 / 1000))
    assert not lesson7.check_liver_ml(ml * 1.1)
    assert "number" in str(lesson7.check_liver_ml("a lot"))


def test_most_anterior():
    # the smallest row index an organ reaches (rows run towards +y, posterior)
    top_row = {o.name: int(np.nonzero((truth() == o.number).any(axis=(0, 2)))[0].min())
               for o in ORGANS}
    front = min(top_row, key=top_row.get)
    back = max(top_row, key=top_row.get)
    assert lesson7.check_most_anterior(front)
    assert lesson7.check_most_anterior(front.upper() + " ")  # names are forgiving
    assert "posterior" in str(lesson7.check_most_anterior(back))
    centre_y = {o.name: np.nonzero(truth() == o.number)[1].mean() for o in ORGANS}
    by_centre = min(centre_y, key=centre_y.get)
    assert by_centre != front
    assert "not its centre" in str(lesson7.check_most_anterior(by_centre))
    assert "no ROI" in str(lesson7.check_most_anterior("spleen"))
    assert "string" in str(lesson7.check_most_anterior(3))


def test_shifted_dice():
    heart = truth() == NUMBER["heart"]
    shifted = np.zeros_like(heart)
    shifted[:, 3:, :] = heart[:, :-3, :]
    both = (heart & shifted).sum()
    dice = 2 * both / (heart.sum() + shifted.sum())
    jaccard = both / (heart | shifted).sum()
    assert lesson7.check_shifted_dice(dice)
    assert "Jaccard" in str(lesson7.check_shifted_dice(jaccard))
    assert "percentage" in str(lesson7.check_shifted_dice(100 * dice))
    assert "1 - Dice" in str(lesson7.check_shifted_dice(1 - dice))
    assert not lesson7.check_shifted_dice(1.0)


def test_first_frame_slice():
    has_aorta = np.nonzero((truth() == NUMBER["aorta"]).any(axis=(1, 2)))[0]
    first_k = int(has_aorta.min())                  # highdicom writes frames in source order
    volume_index = source_design().slices - 1 - first_k   # the volume runs feet to head
    assert lesson7.check_first_frame_slice(volume_index)
    assert "Instance Number order" in str(lesson7.check_first_frame_slice(first_k))
    assert "frame order" in str(lesson7.check_first_frame_slice(0))
    assert "whole number" in str(lesson7.check_first_frame_slice(2.5))
    assert not lesson7.check_first_frame_slice(volume_index + 1)
