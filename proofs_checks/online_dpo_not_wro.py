"""online-DPO-not-WRO: with a non-BT judge, online DPO's fixed point is no WRO optimum nor NLHF's.

Online DPO's semi-gradient fixed point (:func:`theory.online.dpo.online_dpo_fixed_point`) is
``pi ∝ pi_ref exp(r_pi / beta)`` with ``r_pi`` the Bradley-Terry fit of the judge under
``pi ⊗ pi``.  With a judge that is not Bradley-Terry the fit depends on ``pi`` and the fixed point
is neither the fixed-anchor WRO optimum ``pi_ref exp(h(P) pi_ref / beta)`` (anchor and reference
``pi_ref``, the same ``beta``) for any ``h`` of the registry :data:`theory.hfuncs.H_REGISTRY`,
nor NLHF's regularized Nash equilibrium ``pi = softmax(log pi_ref + P pi / beta)``.

Each instance draws ``K`` in 3..8 (every 2 x 2 judge is Bradley-Terry), ``beta`` in
:data:`BETAS` (:func:`cells`), a general judge with entries in ``(0, 1)`` and ``pi_ref`` of full
support.  An instance is a witness when the library's fixed point has residual ``<= 1e-12`` and
its total-variation distance to every WRO optimum and to the regularized Nash equilibrium
(:func:`theory.online.core.references`) exceeds :data:`SEPARATION`.  The reported (smallest)
witness is re-verified in :func:`reverify` from the instance alone, by code written here: the
stationarity equation ``sum_j pi_j (P_kj - sigma(beta (d_k - d_j))) = 0`` at the reported model,
the WRO optima from their closed form (h applied here), and the regularized Nash *equation*
evaluated at the reported model (the equilibrium is unique, so a model violating its equation is
not it).  The method zoo's worked instance (``K = 3``, ``beta = 1/2``; fixed point
``(.474, .179, .347)``) is checked first, and its numbers reported.

Positive controls: (1) the worked instance must be detected as a witness; (2) on a
Bradley-Terry judge the detector must *not* report one (the fixed point is the logit-WRO
optimum there).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import expit

from theory.hfuncs import H_REGISTRY, apply_h
from theory.online.core import references
from theory.online.dpo import online_dpo_fixed_point

from .scaffold import (
    CheckContext,
    CheckResult,
    Claim,
    Control,
    Max,
    Min,
    Tally,
    cells,
    chunked,
    maximum,
    minimum,
)

ID = "online-DPO-not-WRO"
STATEMENT = (
    "With a non-Bradley-Terry judge, online DPO's fixed point differs from the fixed-anchor WRO "
    "optimum (anchor pi_ref, same beta) for every registered h, and from the regularized Nash "
    "equilibrium"
)
MAX_K = 8
BETAS = (0.1, 0.5, 2.0)
#: Total-variation distance that counts as "differs" (far above the solvers' 1e-12 residuals).
SEPARATION = 1e-6
RESIDUAL_TOL = 1e-12
CHUNK = 100
#: The method zoo's worked instance.
WORKED_P = np.array([[0.5, 0.8, 0.3], [0.2, 0.5, 0.7], [0.7, 0.3, 0.5]])
WORKED_REF = np.array([0.5, 0.3, 0.2])
WORKED_BETA = 0.5
WORKED_PI = (0.474, 0.179, 0.347)


@dataclass
class Stats(Tally):
    witnesses: int = 0
    not_separated: int = 0
    max_residual: Max = maximum()
    min_distance: Min = minimum()


def _separation(P: np.ndarray, ref: np.ndarray, beta: float) -> tuple[np.ndarray, float, dict]:
    """The fixed point, its residual and its TV distance to each reference point."""
    fp = online_dpo_fixed_point(P, ref, beta)
    dist = {x.name: x.tv for x in references(fp.pi, P, ref, beta)}
    return fp.pi, float(fp.residual), dist


def _is_witness(residual: float, dist: dict) -> bool:
    return residual <= RESIDUAL_TOL and min(dist.values()) > SEPARATION


def reverify(case: dict[str, Any]) -> dict[str, float]:
    """Independent re-verification of a reported witness, from ``P``, ``pi_ref``, ``beta`` and
    the reported model ``pi`` alone: the stationarity residual, the TV distance to each WRO
    closed form (computed here), and the regularized Nash equation's residual at ``pi``."""
    P, ref, beta = np.array(case["P"]), np.array(case["pi_ref"]), float(case["beta"])
    pi = np.array(case["pi"])
    d = np.log(pi) - np.log(ref)
    S = 1.0 / (1.0 + np.exp(-beta * (d[:, None] - d[None, :])))
    out = {"stationarity": float(np.max(np.abs((P - S) @ pi)))}
    for name in H_REGISTRY:
        z = np.log(ref) + apply_h(name, P) @ ref / beta
        w = np.exp(z - z.max())
        out[f"tv WRO[{name}]"] = 0.5 * float(np.sum(np.abs(pi - w / w.sum())))
    z = np.log(ref) + P @ pi / beta
    e = np.exp(z - z.max())
    out["nash equation residual"] = float(np.max(np.abs(pi - e / e.sum())))
    return out


def _confirmed(check: dict[str, float]) -> bool:
    others = [v for k, v in check.items() if k != "stationarity"]
    return check["stationarity"] <= 1e-10 and min(others) > SEPARATION


def chunk(ctx: CheckContext) -> Stats:
    rng, stats = ctx.rng, Stats()
    done = 0
    for cell in cells(rng, ctx.instances, K=range(3, MAX_K + 1), beta=BETAS):
        for i in cell.index:
            n = ctx.start + int(i)
            u = rng.uniform(0.02, 0.98, size=(cell.K, cell.K))
            P = np.triu(u, 1) + np.tril(1.0 - u.T, -1) + 0.5 * np.eye(cell.K)
            ref = rng.dirichlet(np.ones(cell.K))
            pi, res, dist = _separation(P, ref, cell.beta)
            stats.max_residual.add(res)
            stats.min_distance.add(min(dist.values()))
            if _is_witness(res, dist):
                stats.witnesses += 1
                case = {"K": cell.K, "beta": cell.beta, "P": P.tolist(), "pi_ref": ref.tolist()}
                stats.witness.offer((cell.K, n), {**case, "pi": pi.tolist(), "tv": dist})
            else:
                stats.not_separated += 1
            done += 1
            ctx.progress(done)
    return stats


def finish(stats: Stats, ctx: CheckContext) -> CheckResult:
    pi, res, dist = _separation(WORKED_P, WORKED_REF, WORKED_BETA)
    worked = {
        "P": WORKED_P.tolist(),
        "pi_ref": WORKED_REF.tolist(),
        "beta": WORKED_BETA,
        "pi": pi.tolist(),
    }
    worked_ok = bool(np.allclose(np.round(pi, 3), WORKED_PI) and _is_witness(res, dist))
    check = reverify(stats.witness.value) if stats.witness.value is not None else None
    confirmed = check is not None and _confirmed(check)
    result = stats.result(
        ctx.instances,
        "",
        worked_example=worked,
        worked_tv=dist,
        worked_matches_zoo=worked_ok,
        reverification=check,
    )
    result.found = confirmed and worked_ok
    w = stats.witness.value
    if result.found and w is not None:
        result.observed = (
            f"{stats.witnesses} of {ctx.instances} non-BT judges: fixed point differs from every "
            f"WRO optimum and the regularized Nash equilibrium (re-verified); smallest: K = "
            f"{w['K']}, beta = {w['beta']}, min TV {min(w['tv'].values()):.3g}; worked instance "
            f"fixed point {tuple(round(float(v), 3) for v in pi)}"
        )
    else:
        result.observed = (
            f"no re-verified witness ({stats.witnesses} candidates; worked instance "
            f"{'matches' if worked_ok else 'does not match'} the zoo's numbers)"
        )
    return result


def _control_worked(rng: np.random.Generator) -> bool:
    """The worked instance is a witness, and its re-verification confirms it."""
    pi, res, dist = _separation(WORKED_P, WORKED_REF, WORKED_BETA)
    case = {"P": WORKED_P, "pi_ref": WORKED_REF, "beta": WORKED_BETA, "pi": pi}
    return _is_witness(res, dist) and _confirmed(reverify(case))


def _control_bt(rng: np.random.Generator) -> bool:
    """A Bradley-Terry judge: the detector must not report a witness (it is logit-WRO)."""
    r = rng.normal(0.0, 1.0, size=4)
    P = expit(r[:, None] - r[None, :])
    _, res, dist = _separation(P, np.full(4, 0.25), 0.5)
    return not _is_witness(res, dist) and dist["WRO[logit]"] < SEPARATION


CLAIM = Claim(
    ID,
    STATEMENT,
    "counterexample",
    chunked(chunk, finish, size=CHUNK),
    None,
    default_instances=200,
    quick_instances=20,
    controls=(
        Control("the zoo's worked instance is detected", _control_worked),
        Control("a BT judge is not reported", _control_bt),
    ),
)
