"""theory.online.core: the shared result types, the Newton solver and the reference points."""

import numpy as np
import pytest

from theory.errors import InvalidParameterError, NotConvergedError, ShapeMismatchError
from theory.hfuncs import H_REGISTRY
from theory.methods.nlhf import regularized_nash
from theory.online.core import (
    FixedPoint,
    Trajectory,
    iterate,
    newton_root,
    online_problem,
    references,
    require_converged,
    total_variation,
)
from theory.wro import wro_optimum

P3 = np.array([[0.5, 0.8, 0.3], [0.2, 0.5, 0.7], [0.7, 0.3, 0.5]])
REF = np.array([0.5, 0.3, 0.2])


def test_trajectory_records_every_point():
    tr = iterate(lambda p: p[::-1], np.array([0.25, 0.75]), 3)
    assert isinstance(tr, Trajectory) and tr.steps == 3 and tr.points.shape == (4, 2)
    assert tr.final.tolist() == [0.75, 0.25]
    assert tr.moves().tolist() == [0.5, 0.5, 0.5]


def test_newton_root_handles_a_gauge_direction():
    # F(v) = softmax(v) - target: invariant under v -> v + c, Jacobian singular along 1
    target = np.array([0.2, 0.3, 0.5])

    def F(v):
        e = np.exp(v - v.max())
        return e / e.sum() - target

    def J(v):
        s = np.exp(v - v.max())
        s /= s.sum()
        return np.diag(s) - np.outer(s, s)

    v, its, ok = newton_root(F, J, np.zeros(3))
    assert ok and its < 50
    assert np.max(np.abs(F(v))) <= 1e-12


def test_newton_root_reports_failure():
    # x^2 + 1 = 0 has no real root: never converged, never claimed
    _, _, ok = newton_root(lambda v: v**2 + 1, lambda v: np.diag(2 * v), np.array([0.3]))
    assert not ok


def test_require_converged_raises_with_the_result():
    fp = FixedPoint(np.array([0.5, 0.5]), 1e-3, 7, False)
    with pytest.raises(NotConvergedError) as info:
        require_converged(fp, "demo", 1e-12)
    assert info.value.result is fp
    assert "residual 0.001" in str(info.value)
    ok = FixedPoint(np.array([0.5, 0.5]), 0.0, 1, True)
    assert require_converged(ok, "demo", 1e-12) is ok


def test_online_problem_validates():
    with pytest.raises(InvalidParameterError):
        online_problem(P3, REF, 0)
    with pytest.raises(ShapeMismatchError):
        online_problem(P3, [0.5, 0.5], 1.0)
    prob = online_problem(P3, [0.5, 0.5, 0.0], 1.0)
    assert prob.idx.tolist() == [0, 1] and prob.restricted()[0].shape == (2, 2)


def test_references_cover_the_registry_and_nash():
    pi = np.array([0.474, 0.179, 0.347])
    refs = references(pi, P3, REF, 0.5)
    names = {r.name for r in refs}
    assert names == {f"WRO[{h}]" for h in H_REGISTRY} | {"regularized-Nash"}
    assert [r.tv for r in refs] == sorted(r.tv for r in refs)
    by = {r.name: r for r in refs}
    wro = wro_optimum(P3, REF, 0.5, REF).pi
    assert np.allclose(by["WRO[identity]"].pi, wro)
    assert np.allclose(np.round(wro, 3), [0.547, 0.238, 0.215])  # the zoo's worked numbers
    assert np.allclose(by["regularized-Nash"].pi, regularized_nash(P3, 0.5, REF).pi)
    assert by["WRO[identity]"].tv == pytest.approx(total_variation(pi, wro))


def test_total_variation():
    assert total_variation([1, 0], [0, 1]) == 1.0
    assert total_variation([0.3, 0.7], [0.3, 0.7]) == 0.0
