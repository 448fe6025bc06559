"""Tests of theory.search: witnesses, minimization, exact loss orders, disagreement rates."""

from fractions import Fraction

import numpy as np
import pytest

from theory.data import PreferenceData
from theory.errors import InvalidParameterError
from theory.methods.dpo import dpo_loss
from theory.methods.sft import sft_loss
from theory.preferences import bradley_terry_from_strengths, total_order
from theory.search import (
    DPO_CONTEST,
    SFT_CONTEST,
    SFT_DISPREFERRED_CONTEST,
    Instance,
    disagreement_rate,
    exact_log_order,
    fewest_responses,
    find_disagreement,
    judge,
    minimize_witness,
    random_instance,
    restrict,
    round_to_grid,
    rounded_witness,
    search_witness,
    simplex_grid,
    smallest_witness,
)
from theory.winrate import data_win_rate

half = Fraction(1, 2)


def _is_witness(contest, w):
    la = contest.loss(w.instance, w.pi_a)
    lb = contest.loss(w.instance, w.pi_b)
    return la < lb and contest.win_rate(w.instance, w.pi_a) < contest.win_rate(w.instance, w.pi_b)


@pytest.mark.parametrize("contest", [DPO_CONTEST, SFT_CONTEST, SFT_DISPREFERRED_CONTEST])
def test_found_witnesses_disagree(contest):
    rng = np.random.default_rng(0)
    found = 0
    for _ in range(15):
        inst = random_instance(rng, K=3)
        w = find_disagreement(contest, inst, rng, tries=200)
        if w is not None:
            found += 1
            assert _is_witness(contest, w)
    assert found >= 10


def test_minimized_dpo_witness_is_small_exact_and_certified():
    rng = np.random.default_rng(1)
    w = search_witness(DPO_CONTEST, random_instance(rng, K=5, family="general"), rng)
    assert w is not None and w.certified and w.instance.exact
    assert w.size[0] <= 3 and w.size[2] <= 8
    assert isinstance(w.win_rate_a, Fraction) and w.win_rate_a < w.win_rate_b
    # recompute independently from the public functions
    inst = w.instance
    assert dpo_loss(inst.data, w.pi_a, inst.pi_ref, inst.beta) < dpo_loss(
        inst.data, w.pi_b, inst.pi_ref, inst.beta
    )
    assert data_win_rate(inst.data, w.pi_a) == w.win_rate_a
    d = w.as_dict()
    assert d["K"] == w.size[0] and "reading" in d


def test_golden_k2_sft_witness_overshoots_the_target():
    # target p_w = (3/4, 1/4); the model (7/8, 1/8) overshoots: higher loss, higher win rate
    D = PreferenceData(P=total_order(2), mu0=[half, half])
    inst = Instance(D, [[half, half]], 1)
    a = np.array([[Fraction(3, 4), Fraction(1, 4)]], dtype=object)
    b = np.array([[Fraction(7, 8), Fraction(1, 8)]], dtype=object)
    assert sft_loss(D, a) < sft_loss(D, b)
    assert data_win_rate(D, a) < data_win_rate(D, b)
    assert SFT_CONTEST.loss(inst, a) == sft_loss(D, a)
    assert SFT_CONTEST.terms(inst, a) == ([Fraction(3, 4), Fraction(1, 4)], [a[0, 0], a[0, 1]])


def test_no_witness_for_a_deterministic_pair():
    # two responses, deterministic label: the DPO loss is monotone in the win rate
    D = PreferenceData(P=total_order(2, exact=False), mu0=[0.5, 0.5])
    rng = np.random.default_rng(2)
    assert find_disagreement(DPO_CONTEST, Instance(D, [[0.5, 0.5]], 1.0), rng, tries=300) is None


def test_exact_log_order():
    third = Fraction(1, 3)
    assert exact_log_order(([1], [half]), ([1], [third])) == -1
    assert exact_log_order(([1], [third]), ([1], [half])) == 1
    assert exact_log_order(([half, half], [half, half]), ([1], [half])) == 0
    # two terms: -(1/2)log(1/4) - (1/2)log(1)= log 2 vs -log(1/2) = log 2
    assert exact_log_order(([half, half], [Fraction(1, 4), 1]), ([1], [half])) == 0


def test_grids():
    assert [v.tolist() for v in simplex_grid(3, 3)] == [[Fraction(1, 3)] * 3]
    assert sum(1 for _ in simplex_grid(3, 5)) == 6
    v = round_to_grid([0.01, 0.99], 4)
    assert v.tolist() == [Fraction(1, 4), Fraction(3, 4)]
    assert round_to_grid([0.3, 0.3, 0.4], 2) is None


def test_disagreement_rate_bounds_and_bradley_terry():
    rng = np.random.default_rng(4)
    stats = disagreement_rate(DPO_CONTEST, rng, instances=10, pairs=10)
    assert 0 <= stats.rate <= 1 and stats.pairs == 100
    P = bradley_terry_from_strengths([1, 4])

    def sampler(r):
        return Instance(PreferenceData(P=P, mu0=[half, half]), [[half, half]], Fraction(1))

    s2 = disagreement_rate(DPO_CONTEST, rng, instances=3, pairs=20, sampler=sampler)
    assert s2.instances == 3
    with pytest.raises(InvalidParameterError):
        disagreement_rate(DPO_CONTEST, rng, instances=0)


def test_minimize_keeps_a_witness():
    rng = np.random.default_rng(6)
    inst = random_instance(rng, K=4, M=2, family="bradley_terry")
    w = find_disagreement(SFT_CONTEST, inst, rng)
    assert w is not None
    m = minimize_witness(SFT_CONTEST, w, rng)
    assert m.size <= w.size and _is_witness(SFT_CONTEST, m)


def test_smallest_witness_is_minimal_over_two_responses():
    w = smallest_witness(DPO_CONTEST, max_denominator=4)
    assert w is not None and w.certified and w.size[:3] == (2, 1, 3)
    assert smallest_witness(DPO_CONTEST, max_denominator=2) is None
    assert _is_witness(DPO_CONTEST, w)


def test_round_to_grid_takes_back_from_the_smallest_remainders():
    # floors (0, 0, 3) lifted to keep the support give 5 quarters: one is taken back from the
    # entry with room to spare, never from an entry at its floor of 1/4
    v = round_to_grid([0.01, 0.01, 0.98], 4)
    assert v.tolist() == [Fraction(1, 4), Fraction(1, 4), Fraction(1, 2)]
    assert round_to_grid([0.01, 0.01, 0.98], 4, positive=False).tolist() == [0, 0, 1]


def test_minimize_steps_compose():
    rng = np.random.default_rng(6)
    inst = random_instance(rng, K=4, M=2, family="general")
    found = fewest_responses(SFT_CONTEST, inst, rng, tries=300)
    assert found and all(_is_witness(SFT_CONTEST, w) for w in found)
    assert len({w.size[0] for w in found}) == 1 and found[0].instance.data.M == 1
    best = rounded_witness(SFT_CONTEST, found[0], found[0], 8, 60)
    assert best.size <= found[0].size and _is_witness(SFT_CONTEST, best)
    sub = restrict(inst, 1, (0, 2))
    assert sub is not None and sub.data.K == 2 and sub.data.M == 1


def test_judge_orients_and_certifies():
    # the smallest SFT witness (docs/dpo_sft.md): judged in either order, the same witness
    P = np.array([[half, Fraction(0)], [Fraction(1), half]], dtype=object)
    inst = Instance(PreferenceData(P=P, mu0=[Fraction(2, 3), Fraction(1, 3)]), [[half, half]])
    a = np.array([[half, half]], dtype=object)
    b = np.array([[Fraction(1, 3), Fraction(2, 3)]], dtype=object)
    w1, w2 = judge(SFT_CONTEST, inst, a, b), judge(SFT_CONTEST, inst, b, a)
    assert w1 is not None and w2 is not None and w1.certified
    assert (w1.win_rate_a, w1.win_rate_b) == (Fraction(7, 12), Fraction(2, 3))
    assert np.array_equal(w1.pi_a, w2.pi_a) and np.array_equal(w1.pi_b, b)
    assert judge(SFT_CONTEST, inst, a, a) is None  # tied win rates never disagree


def test_independent_reverification_of_contest_witnesses():
    """proofs_checks.common.contest.reverify: accepts the smallest witnesses of docs/dpo_sft.md
    (and random float ones), rejects them swapped, agrees with the library on random pairs."""
    from proofs_checks.common.contest import loss_below, reverify, win_rate_below
    from theory.search import DPO_CONTEST, find_disagreement, random_instance

    P = np.array([[half, Fraction(0)], [Fraction(1), half]], dtype=object)
    inst = Instance(PreferenceData(P=P, mu0=[Fraction(2, 3), Fraction(1, 3)]), [[half, half]])
    a = np.array([[half, half]], dtype=object)
    b = np.array([[Fraction(1, 3), Fraction(2, 3)]], dtype=object)
    w = judge(SFT_CONTEST, inst, a, b)
    assert w is not None and reverify(SFT_CONTEST, w)
    assert not loss_below(SFT_CONTEST, inst, b, a) and not win_rate_below(SFT_CONTEST, inst, b, a)
    rng = np.random.default_rng(3)
    for _ in range(10):
        for contest in (DPO_CONTEST, SFT_CONTEST):
            found = find_disagreement(contest, random_instance(rng, M=2), rng, tries=100)
            if found is not None:
                assert reverify(contest, found)
                assert not loss_below(contest, found.instance, found.pi_b, found.pi_a)
