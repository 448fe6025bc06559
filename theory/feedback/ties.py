"""Preference data with ties: three outcomes per compared pair, and the win-rate convention.

For each prompt ``x`` and responses ``i != j``, a compared pair ends in one of three outcomes:
``win[x, i, j] = Pr(i preferred to j | the pair {i, j} is compared at x)``, ``win[x, j, i]``,
and a tie with ``tie[x, i, j] = tie[x, j, i]``; ``win[i, j] + win[j, i] + tie[i, j] = 1``.
Pairs are drawn as in :class:`theory.data.PreferenceData`: ``x ~ rho``, ``y0 ~ mu0(.|x)``,
``y1 ~ mu1(.|x)``.  A win rate needs a preference matrix ``P``, hence a **tie convention**
(docs/zoo_data.md):

* ``"half"`` (the project's default, docs/theory.md: ties count as half a win):
  ``P[i, j] = win[i, j] + tie[i, j] / 2``;
* ``"drop"`` (ties discarded): ``P[i, j] = win[i, j] / (win[i, j] + win[j, i])``, and ``1/2``
  for a pair that always ties (no decisive outcome: no preference).

Both give a valid ``P`` (``P + P^T = 1``), but different ones.  Two tie models with strengths
``s > 0`` (``r = log s``):

* Rao-Kupper (1967), ``theta >= 1``: ``win[i, j] = s_i / (s_i + theta s_j)``;
* Davidson (1970), ``nu >= 0``: ``win[i, j] = s_i / (s_i + s_j + nu sqrt(s_i s_j))``,
  ``tie[i, j] = nu sqrt(s_i s_j) / (s_i + s_j + nu sqrt(s_i s_j))``.

Davidson with ties dropped is Bradley-Terry with the same strengths; with half credit it is not
(``K >= 3``); claim ``ties-convention``.  The diagonal of ``win`` and ``tie`` is not read (a
response compared with itself has ``P[i, i] = 1/2`` under both conventions); the constructors
here set ``win[i, i] = 0``, ``tie[i, i] = 1``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Literal

import numpy as np

from .._validate import data_marginals, frozen
from ..data import PreferenceData, check_rng
from ..errors import InvalidParameterError, NotAThreeOutcomeModelError, ShapeMismatchError
from ..numbers import as_array, common_kind, format_number, is_exact, to_float
from ..preferences import PREF_TOL, validate_preference_stack
from ..simplex import check_K, random_model
from .common import check_count, unit_interval

__all__ = [
    "TIE_CONVENTIONS",
    "TieConvention",
    "Y0_WINS",
    "Y1_WINS",
    "TIE",
    "TieData",
    "TieDataset",
    "check_convention",
    "validate_outcomes",
    "rao_kupper_outcomes",
    "davidson_outcomes",
    "tie_preferences",
    "tie_preference_data",
    "random_tie_outcomes",
    "random_tie_data",
    "sample_ties",
    "empirical_tie_preferences",
]

TieConvention = Literal["half", "drop"]
#: The two win-rate conventions for ties (``"half"`` is the default everywhere).
TIE_CONVENTIONS: tuple[str, ...] = ("half", "drop")
#: Outcome codes of a sampled comparison.
Y0_WINS, Y1_WINS, TIE = 0, 1, 2
#: The tie models :func:`random_tie_outcomes` draws from.
TIE_MODELS = ("rao_kupper", "davidson", "general")


def check_convention(convention: Any) -> str:
    """``convention`` when it is ``"half"`` or ``"drop"``, else
    :class:`~theory.errors.InvalidParameterError`."""
    if convention not in TIE_CONVENTIONS:
        raise InvalidParameterError(
            f"tie convention {convention!r}, expected one of {list(TIE_CONVENTIONS)}"
        )
    return str(convention)


def _stack(a: Any, name: str) -> np.ndarray:
    arr = unit_interval(a, name)
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3 or arr.shape[1] != arr.shape[2] or 0 in arr.shape:
        raise ShapeMismatchError(f"{name} has shape {arr.shape}, expected (K, K) or (M, K, K)")
    return arr


def _off_diagonal_bad(diff: np.ndarray, exact: bool) -> np.ndarray:
    """Positions ``(x, i, j)``, ``i != j``, where ``diff`` is not zero (exactly or to tolerance)."""
    K = diff.shape[1]
    off = ~np.eye(K, dtype=bool)[None]
    bad = (diff != 0) if exact else (np.abs(to_float(diff)) > PREF_TOL)
    return np.argwhere(bad & off)


def validate_outcomes(win: Any, tie: Any) -> tuple[np.ndarray, np.ndarray]:
    """``(win, tie)`` as validated ``(M, K, K)`` arrays of one kind, diagonal set to ``win = 0``,
    ``tie = 1`` (module docstring).  Raises :class:`~theory.errors.NotAProbabilityVectorError`
    (an entry outside ``[0, 1]``), :class:`~theory.errors.NotAThreeOutcomeModelError` (an
    asymmetric tie or three outcomes not summing to 1, naming the pair) or
    :class:`~theory.errors.ShapeMismatchError`.

    >>> F = Fraction
    >>> win = [[0, F(1, 2)], [F(1, 4), 0]]
    >>> validate_outcomes(win, [[1, F(1, 4)], [F(1, 4), 1]])[1][0, 0, 1]
    Fraction(1, 4)
    >>> validate_outcomes(win, [[1, F(1, 3)], [F(1, 3), 1]])
    Traceback (most recent call last):
    ...
    theory.errors.NotAThreeOutcomeModelError: win[0, 1] + win[1, 0] + tie[0, 1] = 13/12, expected 1
    """
    w, t = _stack(win, "win"), _stack(tie, "tie")
    if w.shape != t.shape:
        raise ShapeMismatchError(f"win has shape {w.shape} but tie has shape {t.shape}")
    w, t = common_kind(w, t)
    exact = is_exact(w)
    where = (lambda x: f"[{x}]") if w.shape[0] > 1 else (lambda x: "")
    for x, i, j in _off_diagonal_bad(t - np.swapaxes(t, 1, 2), exact):
        raise NotAThreeOutcomeModelError(
            f"tie{where(x)}[{i}, {j}] = {format_number(t[x, i, j])} but tie{where(x)}[{j}, {i}] = "
            f"{format_number(t[x, j, i])}, expected equal"
        )
    total = w + np.swapaxes(w, 1, 2) + t
    for x, i, j in _off_diagonal_bad(total - 1, exact):
        raise NotAThreeOutcomeModelError(
            f"win{where(x)}[{i}, {j}] + win{where(x)}[{j}, {i}] + tie{where(x)}[{i}, {j}] = "
            f"{format_number(total[x, i, j])}, expected 1"
        )
    w, t = w.copy(), t.copy()
    one, zero = (Fraction(1), Fraction(0)) if exact else (1.0, 0.0)
    idx = np.arange(w.shape[1])
    w[:, idx, idx], t[:, idx, idx] = zero, one
    return w, t


@dataclass(frozen=True)
class TieData:
    """A validated tie data distribution: ``win`` and ``tie`` ``(M, K, K)`` (module docstring),
    ``mu0``, ``mu1`` ``(M, K)`` and ``rho`` ``(M,)`` as in :class:`theory.data.PreferenceData`
    (``mu1`` defaults to ``mu0``, ``rho`` to uniform); all exact or all float, read-only.

    >>> F = Fraction
    >>> win, tie = davidson_outcomes([1, 4, 9], nu=1)
    >>> D = TieData(win, tie, mu0=[F(1, 3)] * 3)
    >>> D.M, D.K, D.win[0, 0, 1], D.tie[0, 0, 1]
    (1, 3, Fraction(1, 7), Fraction(2, 7))
    """

    win: Any
    tie: Any
    mu0: Any
    mu1: Any = None
    rho: Any = None
    M: int = field(init=False)
    K: int = field(init=False)

    def __post_init__(self) -> None:
        w, t = validate_outcomes(self.win, self.tie)
        M, K = w.shape[0], w.shape[1]
        mu0, mu1, rho = data_marginals(self.mu0, self.mu1, self.rho, M, K, is_exact(w), "the data")
        w, t, mu0, mu1, rho = common_kind(w, t, mu0, mu1, rho)
        for name, value in (("win", w), ("tie", t), ("mu0", mu0), ("mu1", mu1), ("rho", rho)):
            object.__setattr__(self, name, frozen(value))
        object.__setattr__(self, "M", M)
        object.__setattr__(self, "K", K)

    @property
    def exact(self) -> bool:
        """True when every array is exact (Fractions)."""
        return is_exact(self.win)


def _strengths(s: Any) -> np.ndarray:
    arr = as_array(s, name="s")
    if arr.ndim != 1 or arr.shape[0] == 0:
        raise ShapeMismatchError(f"s has shape {arr.shape}, expected (K,) with K >= 1")
    bad = np.argwhere(arr <= 0)
    if len(bad):
        i = int(bad[0][0])
        raise InvalidParameterError(f"s[{i}] = {format_number(arr[i])}, expected > 0")
    return arr


def _parameter(v: Any, name: str, low: int, strict: bool = False) -> Any:
    arr = as_array(v, name=name)
    if arr.ndim != 0 or (arr[()] <= low if strict else arr[()] < low):
        rel = ">" if strict else ">="
        raise InvalidParameterError(f"{name} = {format_number(arr)}, expected a number {rel} {low}")
    return arr[()] if is_exact(arr) else float(arr[()])


def _finish(win: np.ndarray, exact: bool) -> tuple[np.ndarray, np.ndarray]:
    """Complete ``win`` (off-diagonal) with ``tie = 1 - win - win^T`` and the diagonal."""
    tie = 1 - win - win.T
    one, zero = (Fraction(1), Fraction(0)) if exact else (1.0, 0.0)
    idx = np.arange(win.shape[0])
    win[idx, idx], tie[idx, idx] = zero, one
    return win, tie


def rao_kupper_outcomes(s: Any, theta: Any = 2) -> tuple[np.ndarray, np.ndarray]:
    """Rao-Kupper outcomes ``win[i, j] = s_i / (s_i + theta s_j)``, ``tie = 1 - win - win^T``
    (``(K, K)`` each; exact for rational ``s``, ``theta``).  ``theta >= 1`` (``theta = 1``:
    Bradley-Terry, no ties).

    >>> win, tie = rao_kupper_outcomes([1, 2], theta=2)
    >>> win[0, 1], win[1, 0], tie[0, 1]
    (Fraction(1, 5), Fraction(1, 2), Fraction(3, 10))
    """
    arr = _strengths(s)
    th = _parameter(theta, "theta", 1)
    arr, th_arr = common_kind(arr, as_array(th))
    th = th_arr[()]
    win = arr[:, None] / (arr[:, None] + th * arr[None, :])
    return _finish(win, is_exact(arr))


def _exact_sqrt(v: Fraction) -> Fraction | None:
    """``sqrt(v)`` when it is rational, else None."""
    n, d = v.numerator, v.denominator
    rn, rd = math.isqrt(n), math.isqrt(d)
    return Fraction(rn, rd) if rn * rn == n and rd * rd == d else None


def davidson_outcomes(s: Any, nu: Any = 1) -> tuple[np.ndarray, np.ndarray]:
    """Davidson outcomes (module docstring), ``(K, K)`` each; ``nu >= 0`` (``nu = 0``:
    Bradley-Terry).  Exact when ``s`` and ``nu`` are rational and every ``sqrt(s_i s_j)`` is
    rational (e.g. ``s`` perfect squares); otherwise float.

    >>> win, tie = davidson_outcomes([1, 4], nu=1)
    >>> win[0, 1], win[1, 0], tie[0, 1]
    (Fraction(1, 7), Fraction(4, 7), Fraction(2, 7))
    """
    arr = _strengths(s)
    n = _parameter(nu, "nu", 0)
    arr, n_arr = common_kind(arr, as_array(n))
    n = n_arr[()]
    K = arr.shape[0]
    if is_exact(arr):
        roots = [[_exact_sqrt(arr[i] * arr[j]) for j in range(K)] for i in range(K)]
        if any(r is None for row in roots for r in row):
            arr, n = to_float(arr), float(n)
            root = np.sqrt(arr[:, None] * arr[None, :])
        else:
            root = np.array(roots, dtype=object)
    else:
        root = np.sqrt(arr[:, None] * arr[None, :])
    win = arr[:, None] / (arr[:, None] + arr[None, :] + n * root)
    return _finish(win, is_exact(win))


def tie_preferences(win: Any, tie: Any, convention: TieConvention = "half") -> np.ndarray:
    """The preference matrix (stack) of three-outcome data under a tie convention (module
    docstring): ``"half"`` ``P = win + tie / 2``; ``"drop"`` ``P = win / (win + win^T)``
    (``1/2`` where a pair always ties).  Same shape as ``win``; validated (``P + P^T = 1``).

    >>> win, tie = davidson_outcomes([1, 4], nu=1)
    >>> tie_preferences(win, tie)[0, 1], tie_preferences(win, tie, "drop")[0, 1]
    (Fraction(2, 7), Fraction(1, 5))
    """
    conv = check_convention(convention)
    single = as_array(win, name="win").ndim == 2
    w, t = validate_outcomes(win, tie)
    if conv == "half":
        P = w + t / 2
    else:
        decisive = w + np.swapaxes(w, 1, 2)
        half: Any = Fraction(1, 2) if is_exact(w) else 0.5
        safe = np.where(decisive == 0, 1, decisive)
        P = np.where(decisive == 0, half, w / safe)
        if is_exact(w):
            P = np.array(P, dtype=object)
    idx = np.arange(P.shape[1])
    P[:, idx, idx] = Fraction(1, 2) if is_exact(P) else 0.5
    P = validate_preference_stack(P)
    return P[0] if single else P


def tie_preference_data(data: TieData, convention: TieConvention = "half") -> PreferenceData:
    """The :class:`~theory.data.PreferenceData` a win rate sees: ``P`` =
    :func:`tie_preferences` under ``convention``, the same ``mu0``, ``mu1``, ``rho``.

    >>> win, tie = davidson_outcomes([1, 4], nu=1)
    >>> D = tie_preference_data(TieData(win, tie, mu0=[Fraction(1, 2)] * 2), "drop")
    >>> D.P[0].tolist()
    [[Fraction(1, 2), Fraction(1, 5)], [Fraction(4, 5), Fraction(1, 2)]]
    """
    if not isinstance(data, TieData):
        raise InvalidParameterError(
            f"data is {data!r:.60} (type {type(data).__name__}), expected a TieData"
        )
    P = tie_preferences(data.win, data.tie, convention)
    return PreferenceData(P=P, mu0=data.mu0, mu1=data.mu1, rho=data.rho)


def _random_strengths(rng: np.random.Generator, K: int, exact: bool, square: bool) -> Any:
    if exact:
        v = [Fraction(int(a)) for a in rng.integers(1, 7, size=K)]
        return [a * a for a in v] if square else v
    return np.exp(rng.normal(0.0, 1.0, size=K))


def random_tie_outcomes(
    rng: np.random.Generator, K: int, model: str = "general", *, exact: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Random ``(win, tie)`` ``(K, K)``: ``"rao_kupper"`` (``theta`` in ``{3/2, 2, 3}``),
    ``"davidson"`` (``nu`` in ``{1/2, 1, 2}``, exact strengths perfect squares) or ``"general"``
    (each pair's three outcomes uniform on the simplex; exact: integer weights ``1..6``)."""
    check_rng(rng)
    check_K(K)
    if model not in TIE_MODELS:
        raise InvalidParameterError(f"tie model {model!r}, expected one of {list(TIE_MODELS)}")
    if model == "rao_kupper":
        theta = [Fraction(3, 2), Fraction(2), Fraction(3)][int(rng.integers(3))]
        return rao_kupper_outcomes(
            _random_strengths(rng, K, exact, False), theta if exact else float(theta)
        )
    if model == "davidson":
        nu = [Fraction(1, 2), Fraction(1), Fraction(2)][int(rng.integers(3))]
        return davidson_outcomes(_random_strengths(rng, K, exact, True), nu if exact else float(nu))
    win = np.zeros((K, K), dtype=object if exact else float)
    for i in range(K):
        for j in range(i + 1, K):
            if exact:
                a = [int(v) for v in rng.integers(1, 7, size=3)]
                p = [Fraction(v, sum(a)) for v in a]
            else:
                p = list(rng.dirichlet(np.ones(3)))
            win[i, j], win[j, i] = p[0], p[1]
    return _finish(win, exact)


def random_tie_data(
    rng: np.random.Generator,
    M: int,
    K: int,
    *,
    model: str = "general",
    exact: bool = False,
    symmetric: bool = True,
) -> TieData:
    """A random :class:`TieData`: outcomes from :func:`random_tie_outcomes` per prompt, ``mu0``
    (and ``mu1 = mu0`` when ``symmetric``) and ``rho`` random of the same kind."""
    check_rng(rng)
    check_K(M)
    pairs = [random_tie_outcomes(rng, K, model, exact=exact) for _ in range(M)]
    win, tie = np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs])
    exact = is_exact(win)
    mu0 = random_model(rng, M, K, exact=exact)
    mu1 = None if symmetric else random_model(rng, M, K, exact=exact)
    rho = random_model(rng, 1, M, exact=exact)[0]
    return TieData(win, tie, mu0=mu0, mu1=mu1, rho=rho)


@dataclass(frozen=True)
class TieDataset:
    """``n`` sampled comparisons with ties: prompts ``x``, responses ``y0``, ``y1`` and
    ``outcome`` (:data:`Y0_WINS`, :data:`Y1_WINS` or :data:`TIE`), integer arrays of length
    ``n``; ``M`` and ``K`` the sizes of the distribution drawn from."""

    x: np.ndarray
    y0: np.ndarray
    y1: np.ndarray
    outcome: np.ndarray
    M: int
    K: int

    @property
    def n(self) -> int:
        return int(len(self.x))


def _draw(rng: np.random.Generator, probs: np.ndarray, rows: np.ndarray) -> np.ndarray:
    cdf = np.cumsum(probs, axis=1)
    u = rng.random(len(rows))
    return np.minimum((u[:, None] >= cdf[rows]).sum(axis=1), probs.shape[1] - 1)


def sample_ties(data: TieData, n: int, rng: np.random.Generator) -> TieDataset:
    """Draw ``n`` comparisons from ``data`` with the seeded generator ``rng``: ``x ~ rho``,
    ``y0 ~ mu0``, ``y1 ~ mu1``, then the outcome (``y1`` wins with ``win[x, y1, y0]``, ``y0``
    with ``win[x, y0, y1]``, a tie otherwise; a response against itself always ties).

    >>> win, tie = davidson_outcomes([1, 4], nu=1)
    >>> ds = sample_ties(TieData(win, tie, mu0=[Fraction(1, 2)] * 2), 4, np.random.default_rng(0))
    >>> ds.n, set(ds.outcome.tolist()) <= {Y0_WINS, Y1_WINS, TIE}
    (4, True)
    """
    if not isinstance(data, TieData):
        raise InvalidParameterError(
            f"data is {data!r:.60} (type {type(data).__name__}), expected a TieData"
        )
    n = check_count(n)
    check_rng(rng)
    win, mu0, mu1, rho = (to_float(a) for a in (data.win, data.mu0, data.mu1, data.rho))
    x = rng.choice(data.M, size=n, p=rho)
    y0, y1 = _draw(rng, mu0, x), _draw(rng, mu1, x)
    u = rng.random(n)
    a, b = win[x, y1, y0], win[x, y0, y1]
    outcome = np.where(u < a, Y1_WINS, np.where(u < a + b, Y0_WINS, TIE))
    outcome = np.where(y0 == y1, TIE, outcome).astype(np.int64)
    return TieDataset(x=x, y0=y0, y1=y1, outcome=outcome, M=data.M, K=data.K)


def empirical_tie_preferences(
    dataset: TieDataset, convention: TieConvention = "half"
) -> np.ndarray:
    """The exact empirical ``P`` ``(M, K, K)`` of a sampled dataset under ``convention``:
    per pair, (wins + ties/2) / comparisons (``"half"``) or wins / decisive comparisons
    (``"drop"``); ``1/2`` for a pair with no comparison (no decisive one)."""
    if not isinstance(dataset, TieDataset):
        raise InvalidParameterError(
            f"dataset of type {type(dataset).__name__}, expected TieDataset"
        )
    conv = check_convention(convention)
    M, K = dataset.M, dataset.K
    wins = np.zeros((M, K, K), dtype=np.int64)
    ties = np.zeros((M, K, K), dtype=np.int64)
    w = dataset.outcome != TIE
    winner = np.where(dataset.outcome == Y1_WINS, dataset.y1, dataset.y0)
    loser = np.where(dataset.outcome == Y1_WINS, dataset.y0, dataset.y1)
    np.add.at(wins, (dataset.x[w], winner[w], loser[w]), 1)
    t = ~w
    np.add.at(ties, (dataset.x[t], dataset.y0[t], dataset.y1[t]), 1)
    ties = ties + np.swapaxes(ties, 1, 2)
    decisive = wins + np.swapaxes(wins, 1, 2)
    num = 2 * wins + ties if conv == "half" else wins
    den = 2 * (decisive + ties) if conv == "half" else decisive
    P = np.empty((M, K, K), dtype=object)
    for idx in np.ndindex(M, K, K):
        P[idx] = Fraction(int(num[idx]), int(den[idx])) if den[idx] else Fraction(1, 2)
    diag = np.arange(K)
    P[:, diag, diag] = Fraction(1, 2)
    return validate_preference_stack(P)
