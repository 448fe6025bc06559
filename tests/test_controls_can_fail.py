"""Positive controls of issue 10 fire on the real library and miss on a broken one.

A control must be able to fail: it is built so that a broken library gives a wrong answer on it.
Each test runs the controls of a claim (they must all fire) and then breaks the library function
a control goes through (monkeypatched, one at a time) and checks that the control now misses,
which makes the claim's verdict ``invalid``.
"""

from __future__ import annotations

import numpy as np
import pytest

import proofs_checks.common.minimal as minimal
import proofs_checks.dpo_fixed_points as dfp
import proofs_checks.mitigations as mit
import proofs_checks.rlhf_is_wro as rlhf
import proofs_checks.sft_closed_form as sft
import theory.search.exhaustive as exhaustive
from proofs_checks.dpo_no_correspondence import CLAIM as DPO_NC
from proofs_checks.scaffold import Claim
from proofs_checks.sft_no_correspondence import CLAIM as SFT_NC
from theory.search import DPO_CONTEST


def _control(claim: Claim, start: str):
    return next(c for c in claim.controls if c.name.startswith(start))


@pytest.mark.parametrize(
    "claim", [dfp.CLAIM, sft.CLAIM, mit.CLAIM, rlhf.CLAIM, DPO_NC, SFT_NC], ids=lambda c: c.id
)
def test_every_control_fires_on_the_library(claim):
    for seed in range(3):
        for c in claim.controls:
            assert c.run(np.random.default_rng(seed)), c.name


def test_a_bradley_terry_detector_that_always_says_true_is_caught(monkeypatch):
    control = _control(rlhf.CLAIM, "is_bradley_terry")
    monkeypatch.setattr(rlhf, "is_bradley_terry", lambda P: True)
    assert not control.run(np.random.default_rng(0))
    monkeypatch.setattr(rlhf, "is_bradley_terry", lambda P: False)
    assert not control.run(np.random.default_rng(0))


def test_a_search_that_keeps_its_first_candidate_is_caught(monkeypatch):
    control = minimal.smallest_is_minimal(DPO_CONTEST, 4)
    monkeypatch.setattr(exhaustive, "_better", lambda a, b: b if a is None else a)
    assert not control.run(np.random.default_rng(0))


def test_a_best_of_n_off_by_one_is_caught(monkeypatch):
    control = _control(mit.CLAIM, "iterated SFT is not best-of")
    real = mit.best_of_n
    monkeypatch.setattr(mit, "best_of_n", lambda mu, r, n: real(mu, r, n - 1))
    assert not control.run(np.random.default_rng(0))


def test_a_library_win_rate_of_p_transposed_is_caught(monkeypatch):
    control = _control(sft.CLAIM, "a best response")
    real = sft.win_rate
    monkeypatch.setattr(sft, "win_rate", lambda P, pi, q: real(np.asarray(P).T, pi, q))
    assert not control.run(np.random.default_rng(0))


def test_a_minimizer_set_that_ignores_the_weights_is_caught(monkeypatch):
    control = _control(dfp.CLAIM, "the set of the transposed")
    real = dfp.dpo_minimizers
    monkeypatch.setattr(
        dfp, "dpo_minimizers", lambda w, ref, beta: real(dfp._transposed(w), ref, beta)
    )
    assert not control.run(np.random.default_rng(0))
