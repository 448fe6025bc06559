"""SPPO / DNO (ideal form): self-play multiplicative weights, its time average and its regret bound.

**The update.**  SPPO (arXiv 2405.00675) and DNO (arXiv 2404.03715) in their ideal, exact
population form move the model ``pi_t`` (one prompt, ``K`` responses, preference matrix ``P``)
by the multiplicative step

    pi_{t+1}(y) ∝ pi_t(y) exp(eta_t W_{pi_t}(y)),    W_pi(y) = (P pi)(y) = sum_j P[y, j] pi(j),

Hedge (multiplicative weights) on the payoff vector ``g_t = W_{pi_t}`` (entries in ``[0, 1]``)
played against itself.  Step sizes: ``eta_t = eta_0 / sqrt(t)`` (``schedule="sqrt"``) or a
constant ``eta_t = eta_0`` (``schedule="constant"``), ``t = 1, 2, ...``.

**Fixed points.**  ``pi`` is fixed exactly when ``W_pi`` is constant on the support of ``pi``;
since ``pi^T P pi = 1/2`` that constant is 1/2.  Every point mass is one, and so is every
maximal lottery of full support: the dynamic does not select the maximal lottery by its fixed
points.

**Self-play as two no-regret learners** (docs/zoo_online.md, "SPPO"; claim
``SPPO-average-is-maximal-lottery``).  The regret of the sequence ``pi_1..pi_t`` against a
response ``y`` is ``R_t(y) = sum_{s<=t} (W_{pi_s}(y) - 1/2)`` (``pi_s^T P pi_s = 1/2``), and
the exploitability of the time average ``avg_t = (1/t) sum_{s<=t} pi_s`` is

    expl(avg_t) = max_y W_{avg_t}(y) - 1/2 = 1/2 - min_y WR(avg_t; e_y) = max_y R_t(y) / t,

(``W`` is linear in ``pi``), so any regret bound divided by ``t`` bounds it.  Two bounds hold
at every ``t`` for a non-increasing step (derivation: docs/zoo_online.md):

* trajectory form (:func:`regret_bound_trajectory`)
  ``R_t(y) <= max_{s<=t} ln(1 / pi_s(y)) / eta_t + sum_{s<=t} eta_s / 8``;
* a priori form (:func:`regret_bound_a_priori`), for a maximal lottery ``m`` of full support:
  ``KL(m || pi_s) <= D_s = KL(m || pi_1) + sum_{r<s} eta_r^2 / 8`` and
  ``ln(1 / pi_s(y)) <= (D_s + h2(m_y)) / m_y`` (``h2`` the binary entropy in nats), so
  ``R_t(y) <= (D_t + h2(m_y)) / (m_y eta_t) + sum_{s<=t} eta_s / 8``, which is
  ``O(ln t / sqrt t)`` after dividing by ``t`` when ``eta_t = eta_0 / sqrt t``.

The last iterate does not converge: for a maximal lottery ``m`` of full support
``KL(m || pi_{t+1}) - KL(m || pi_t) = ln E_{pi_t} exp(eta_t W_{pi_t}) - eta_t / 2 >= 0`` (Jensen,
strict unless ``W_{pi_t}`` is constant), so the iterate moves away from ``m`` at every step; with
a constant step on rock-paper-scissors it drifts to the boundary (:class:`SPPORun`'s
``kl_to``).

Everything here is float (``exp`` of a rational is not rational); many instances run together
(``P`` ``(N, K, K)``): the time loop is sequential, each step a few numpy operations on
``(N, K)`` arrays (``10^5`` steps in well under a second).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from ..errors import InvalidParameterError, ShapeMismatchError
from ..numbers import to_float
from ..preferences import validate_preference_matrix, validate_preference_stack
from ..simplex import validate_distribution, validate_model
from .core import Trajectory, check_steps

__all__ = [
    "Schedule",
    "step_sizes",
    "sppo_step",
    "sppo_trajectory",
    "SPPORun",
    "sppo_run",
    "regret_bound_trajectory",
    "regret_bound_a_priori",
    "binary_entropy",
]

Schedule = Literal["sqrt", "constant"]


def step_sizes(eta0: Any, steps: int, schedule: Schedule = "sqrt") -> np.ndarray:
    """The steps ``eta_1..eta_T`` (``(T,)``): ``eta_0 / sqrt(t)`` or the constant ``eta_0``.

    >>> step_sizes(1.0, 4).tolist()
    [1.0, 0.7071067811865475, 0.5773502691896258, 0.5]
    """
    T = check_steps(steps)
    e0 = float(eta0)
    if not np.isfinite(e0) or e0 <= 0:
        raise InvalidParameterError(f"eta0 = {eta0!r}, expected a positive finite number")
    if schedule == "sqrt":
        return e0 / np.sqrt(np.arange(1, T + 1, dtype=float))
    if schedule == "constant":
        return np.full(T, e0)
    raise InvalidParameterError(f"schedule = {schedule!r}, expected 'sqrt' or 'constant'")


def _one(P: Any, pi: Any) -> tuple[np.ndarray, np.ndarray]:
    P_f = to_float(validate_preference_matrix(P))
    p = to_float(validate_distribution(pi, name="pi"))
    if p.shape[0] != P_f.shape[0]:
        raise ShapeMismatchError(f"pi has {p.shape[0]} entries but P is {P_f.shape}")
    return P_f, p


def sppo_step(P: Any, pi: Any, eta: Any) -> np.ndarray:
    """One ideal SPPO step ``pi'(y) ∝ pi(y) exp(eta W_pi(y))``, ``W_pi = P pi`` (one prompt,
    ``P`` ``(K, K)``, ``pi`` ``(K,)``, ``eta > 0``; float).  A point mass, and any ``pi`` with
    ``W_pi = 1/2`` on its support, is fixed.

    >>> from theory.preferences import rock_paper_scissors
    >>> sppo_step(rock_paper_scissors(), [1/3] * 3, 0.5).round(12).tolist()
    [0.333333333333, 0.333333333333, 0.333333333333]
    >>> sppo_step(rock_paper_scissors(), [1, 0, 0], 0.5).tolist()
    [1.0, 0.0, 0.0]
    """
    P_f, p = _one(P, pi)
    e = float(eta)
    if not np.isfinite(e) or e <= 0:
        raise InvalidParameterError(f"eta = {eta!r}, expected a positive finite number")
    w = p * np.exp(e * (P_f @ p - np.max(P_f @ p)))
    return w / w.sum()


@dataclass(frozen=True)
class SPPORun:
    """``N`` SPPO runs of ``T`` steps made together (:func:`sppo_run`).

    ``P`` ``(N, K, K)``; ``etas`` ``(T,)`` (``eta_1..eta_T``); ``models`` ``(T + 1, N, K)``:
    ``models[s - 1] = pi_s`` (``pi_1`` the start, ``pi_{T+1}`` after the last step);
    ``payoffs`` ``(T, N, K)``: ``payoffs[s - 1] = W_{pi_s} = P pi_s``; ``log_models``
    ``(T + 1, N, K)``: ``ln pi_s`` accumulated as ``ln pi_1 + sum eta g - sum ln Z`` (no
    underflow to ``-inf`` however small a mass becomes; ``-inf`` off the start's support).
    """

    P: np.ndarray
    etas: np.ndarray
    models: np.ndarray
    payoffs: np.ndarray
    log_models: np.ndarray

    @property
    def steps(self) -> int:
        return int(self.etas.shape[0])

    def averages(self) -> np.ndarray:
        """``avg_t = (1/t) sum_{s<=t} pi_s`` for ``t = 1..T`` (``(T, N, K)``)."""
        t = np.arange(1, self.steps + 1, dtype=float)[:, None, None]
        return np.cumsum(self.models[:-1], axis=0) / t

    def regrets(self) -> np.ndarray:
        """``R_t(y) = sum_{s<=t} (W_{pi_s}(y) - 1/2)`` for ``t = 1..T`` (``(T, N, K)``)."""
        return np.cumsum(self.payoffs - 0.5, axis=0)

    def exploitability(self) -> np.ndarray:
        """``expl(avg_t) = max_y W_{avg_t}(y) - 1/2 = max_y R_t(y) / t`` (``(T, N)``)."""
        t = np.arange(1, self.steps + 1, dtype=float)[:, None]
        return np.max(self.regrets(), axis=2) / t

    def kl_to(self, m: Any) -> np.ndarray:
        """``KL(m_n || pi_s)`` for ``s = 1..T+1`` (``(T + 1, N)``), ``m`` ``(N, K)`` (e.g. the
        maximal lotteries); ``inf`` where ``m`` puts mass off the support of ``pi_s``."""
        m_arr = np.asarray(m, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(m_arr > 0, m_arr * (np.log(m_arr) - self.log_models), 0.0)
        return np.sum(terms, axis=2)

    def trajectory(self, n: int = 0) -> Trajectory:
        """Run ``n`` as a :class:`~theory.online.core.Trajectory` (``points[0] = pi_1``)."""
        return Trajectory(self.models[:, n, :], self.steps)


def _prepare_run(P: Any, pi0: Any) -> tuple[np.ndarray, np.ndarray, bool]:
    single = np.ndim(P) == 2
    P3 = to_float(validate_preference_stack(np.asarray(P)[None] if single else P))
    p = to_float(validate_model(np.atleast_2d(np.asarray(pi0)), name="pi0", K=P3.shape[1]))
    if p.shape[0] != P3.shape[0]:
        raise ShapeMismatchError(f"pi0 has {p.shape[0]} rows but P has {P3.shape[0]} matrices")
    return P3, p, single


def sppo_run(P: Any, pi0: Any, etas: Any) -> SPPORun:
    """Run the ideal SPPO dynamic ``pi_{s+1} ∝ pi_s exp(eta_s P pi_s)`` for every step of
    ``etas`` (``(T,)``, from :func:`step_sizes`), on ``N`` instances at once: ``P``
    ``(N, K, K)`` (or one ``(K, K)``), ``pi0`` ``(N, K)`` (or ``(K,)``), the starts ``pi_1``.

    The loop is over time only; each step is a batched ``P pi``, an ``exp``, a product and a
    normalisation on ``(N, K)`` arrays, written into preallocated storage.

    >>> from theory.preferences import rock_paper_scissors
    >>> run = sppo_run(rock_paper_scissors(), [0.6, 0.3, 0.1], step_sizes(1.0, 2000))
    >>> run.models.shape, bool(run.exploitability()[-1, 0] < 0.05)
    ((2001, 1, 3), True)
    """
    P3, p, _ = _prepare_run(P, pi0)
    eta = np.asarray(etas, dtype=float)
    if eta.ndim != 1 or not np.all(np.isfinite(eta)) or np.any(eta <= 0):
        raise InvalidParameterError("etas must be a 1-d array of positive finite step sizes")
    T, (N, K) = eta.shape[0], p.shape
    models = np.empty((T + 1, N, K))
    payoffs = np.empty((T, N, K))
    Z = np.empty((T, N))
    Pm1 = P3 - 1.0  # (P - 1) pi = P pi - 1 on the simplex: exp(eta (g - 1)) <= 1, no overflow
    pi = p.copy()
    w = np.empty((N, K))
    for s in range(T):  # sequential in time; every operation writes in place
        models[s] = pi
        g = payoffs[s]
        np.matmul(Pm1, pi[:, :, None], out=g[:, :, None])
        np.multiply(g, eta[s], out=w)
        np.exp(w, out=w)
        np.multiply(pi, w, out=pi)
        z = np.sum(pi, axis=1, out=Z[s])
        pi /= z[:, None]
    models[T] = pi
    payoffs += 1.0
    with np.errstate(divide="ignore"):
        log0 = np.log(p)
    increments = eta[:, None, None] * (payoffs - 1.0) - np.log(Z)[:, :, None]
    steps = np.cumsum(increments, axis=0)
    log_models = np.concatenate([log0[None], log0[None] + steps], axis=0)
    return SPPORun(P3, eta, models, payoffs, log_models)


def sppo_trajectory(
    P: Any, pi0: Any, *, eta0: Any = 1.0, steps: int = 1000, schedule: Schedule = "sqrt"
) -> Trajectory:
    """The SPPO trajectory of one instance (``points[0] = pi0``; :func:`sppo_run`).

    >>> from theory.preferences import rock_paper_scissors
    >>> tr = sppo_trajectory(rock_paper_scissors(), [0.6, 0.3, 0.1], eta0=0.1, steps=3,
    ...                      schedule="constant")
    >>> tr.points.shape, tr.steps
    ((4, 3), 3)
    """
    P_f, p = _one(P, pi0)
    return sppo_run(P_f, p, step_sizes(eta0, steps, schedule)).trajectory(0)


def _check_etas(etas: Any) -> np.ndarray:
    eta = np.asarray(etas, dtype=float)
    if eta.ndim != 1 or np.any(eta <= 0) or np.any(np.diff(eta) > 0):
        raise InvalidParameterError("the regret bounds need positive, non-increasing step sizes")
    return eta


def regret_bound_trajectory(etas: Any, log_models: Any) -> np.ndarray:
    """``B_t(y) = max_{s<=t} ln(1 / pi_s(y)) / eta_t + sum_{s<=t} eta_s / 8`` (``(T, N, K)``):
    a bound on ``R_t(y)`` for Hedge with non-increasing steps and payoffs in ``[0, 1]``.

    ``etas`` ``(T,)``, ``log_models`` ``(T + 1, N, K)`` (:attr:`SPPORun.log_models`; only
    ``pi_1..pi_T`` are used).  Derivation (docs/zoo_online.md): with ``L_s = ln(1/pi_s(y))``,
    ``eta_s (g_s(y) - pi_s . g_s) = L_s - L_{s+1} + (ln E_{pi_s} e^{eta_s g_s} - eta_s pi_s . g_s)``
    and Hoeffding's lemma bounds the bracket by ``eta_s^2 / 8``; divide by ``eta_s``, sum, and
    sum by parts (``1/eta_s`` non-decreasing, ``L >= 0``).

    >>> import numpy as np
    >>> logs = np.log([[[0.5, 0.5]], [[0.25, 0.75]], [[0.5, 0.5]]])
    >>> regret_bound_trajectory([1.0, 0.5], logs)[:, 0, :].round(4).tolist()
    [[0.8181, 0.8181], [2.9601, 1.5738]]
    """
    eta = _check_etas(etas)
    L = -np.asarray(log_models, dtype=float)[: eta.shape[0]]
    Lmax = np.maximum.accumulate(L, axis=0)
    return Lmax / eta[:, None, None] + (np.cumsum(eta) / 8)[:, None, None]


def binary_entropy(u: Any) -> np.ndarray:
    """``h2(u) = -u ln u - (1 - u) ln(1 - u)`` (nats, ``0 ln 0 = 0``), elementwise.

    >>> float(binary_entropy(0.5)) == float(np.log(2))
    True
    """
    a = np.asarray(u, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        t1 = np.where(a > 0, -a * np.log(a), 0.0)
        t2 = np.where(a < 1, -(1 - a) * np.log1p(-a), 0.0)
    return t1 + t2


def regret_bound_a_priori(etas: Any, m: Any, kl0: Any) -> np.ndarray:
    """``A_t(y) = (D_t + h2(m_y)) / (m_y eta_t) + sum_{s<=t} eta_s / 8`` with
    ``D_t = KL(m || pi_1) + sum_{s<t} eta_s^2 / 8`` (``(T, N, K)``; ``inf`` where ``m_y = 0``).

    ``etas`` ``(T,)`` non-increasing; ``m`` ``(N, K)`` a maximal lottery of each instance;
    ``kl0`` ``(N,)`` the values ``KL(m || pi_1)``.  Known before the run: ``m`` wins at least
    half the time against every ``pi_s``, so ``KL(m || pi_s)`` grows by at most
    ``eta_s^2 / 8`` per step, and ``m_y ln(1/pi_s(y)) <= KL(m || pi_s) + h2(m_y)`` (log-sum
    inequality on the other responses); then :func:`regret_bound_trajectory`.

    >>> A = regret_bound_a_priori([1.0], [[0.5, 0.5]], [0.0])
    >>> bool(abs(A[0, 0, 0] - (2 * np.log(2) + 1 / 8)) < 1e-15)
    True
    """
    eta = _check_etas(etas)
    m_arr = np.asarray(m, dtype=float)
    D = (
        np.asarray(kl0, dtype=float)[None, :]
        + np.concatenate([[0.0], np.cumsum(eta**2 / 8)[:-1]])[:, None]
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        per = (D[:, :, None] + binary_entropy(m_arr)[None]) / m_arr[None]
    per = np.where(m_arr[None] > 0, per, np.inf)  # no bound off the lottery's support
    return per / eta[:, None, None] + (np.cumsum(eta) / 8)[:, None, None]
