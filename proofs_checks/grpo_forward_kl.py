"""GRPO-forward-KL: GRPO's k3 penalty pulls by the forward KL; its fixed point solves that problem.

Population GRPO (:mod:`theory.online.grpo`; groups of size ``G -> infinity``) updates the logits
by ``g = pi A_pi - beta (pi - pi_ref)``, ``A_pi = (r - E_pi r) / sigma_pi``: on-policy, the
gradient of the k3 estimator ``pi_ref/pi - log(pi_ref/pi) - 1`` is that of the forward
``KL(pi_ref || pi)``.  A fixed point therefore solves the forward-KL problem
``max_p E_p A - beta KL(pi_ref || p)`` with its own advantage ``A = A_pi``:
``pi = pi_ref / (1 - A_pi / beta)``.  It fails to exist when ``r`` is constant on
``supp pi_ref`` (the advantage is ``0 / 0``), and, by our derivation (docs/zoo_online.md), exists
and is unique for every ``beta > 0`` otherwise: the method zoo's expectation that it fails at
small ``beta`` is tested here and not borne out.

Each instance draws ``K`` in 2..8, ``beta`` in :data:`BETAS` (:func:`cells`; down to ``1e-3``),
``r ~ N(0, 2^2)`` and ``pi_ref`` (some zeros; a support of one response makes ``r`` constant
there).  One instance in :data:`CONSTANT_EVERY` gets a reward constant on ``supp pi_ref``.
Checked per instance, by code written here unless said otherwise:
(1) the k3 surrogate's gradient (central differences of
``sum_y pi_old(y) k3_theta(y)`` at ``theta = log pi_old``, a random model) equals
``pi - pi_ref``, the gradient of ``KL(pi_ref || pi_theta)``, and the library's update
(:func:`theory.online.grpo.grpo_gradient`) equals the central-difference gradient of the whole
GRPO surrogate ``sum_y pi_old(y) [pi_theta(y)/pi_old(y) A_old(y) - beta k3_theta(y)]``;
(2) when ``r`` is not constant on ``supp pi_ref``: the library's fixed point has residual
``<= 1e-12``; the advantage recomputed here from it, and the forward-KL problem solved here by
bisection on its multiplier, give the same model (to :data:`TOL`) with multiplier ``beta``;
(3) when ``r`` is constant there, :class:`~theory.errors.NoFixedPointError` is raised.

Positive controls: (a) RLHF's reverse-KL optimum ``pi_ref exp(r / beta)`` fed to the forward-KL
detector (2) must be rejected; (b) a constant reward must raise ``NoFixedPointError``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import softmax

from theory.errors import NoFixedPointError
from theory.online.grpo import grpo_fixed_point, grpo_gradient

from .scaffold import (
    CheckContext,
    CheckResult,
    Claim,
    Control,
    Gallery,
    Max,
    Tally,
    cells,
    chunked,
    maximum,
)

ID = "GRPO-forward-KL"
STATEMENT = (
    "GRPO's k3 penalty follows the gradient of the forward KL(pi_ref || pi), so its fixed point "
    "solves max_p E_p A_pi - beta KL(pi_ref || p): pi = pi_ref / (1 - A_pi / beta); it does not "
    "exist when r is constant on supp pi_ref, and exists for every beta > 0 otherwise"
)
MAX_K = 8
BETAS = (1e-3, 1e-2, 0.1, 1.0, 10.0)
TOL = 1e-9
RESIDUAL_TOL = 1e-12
#: Central-difference step and the agreement required of finite-difference gradients.
FD_STEP = 1e-6
FD_TOL = 1e-7
CONSTANT_EVERY = 10
CHUNK = 100


@dataclass
class Stats(Tally):
    fixed_points: int = 0
    small_beta_fixed_points: int = 0
    no_fixed_point: int = 0
    max_residual: Max = maximum()
    max_forward_kl_error: Max = maximum()
    max_multiplier_error: Max = maximum()
    max_k3_gradient_error: Max = maximum()
    max_update_error: Max = maximum()


def advantage(r: np.ndarray, pi: np.ndarray) -> np.ndarray:
    """``(r - E_pi r) / sd_pi(r)``, centred at the mode of ``pi`` (written here)."""
    s = r - r[int(np.argmax(pi))]
    c = s - pi @ s
    return c / np.sqrt(pi @ c**2)


def forward_kl_solution(A: np.ndarray, ref: np.ndarray, beta: float) -> tuple[np.ndarray, float]:
    """``argmax_p E_p A - beta KL(ref || p)`` on ``supp ref``: ``p = beta ref / (lam - A)``,
    ``lam > max A`` with ``sum p = 1``, by bisection on ``lam`` (written here)."""
    a, q = A[ref > 0], ref[ref > 0]
    lo, hi = a.max(), a.max() + beta + 1.0
    while np.sum(beta * q / (hi - a)) > 1.0:
        hi = a.max() + 2.0 * (hi - a.max())
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if mid in (lo, hi):
            break
        lo, hi = (mid, hi) if np.sum(beta * q / (mid - a)) > 1.0 else (lo, mid)
    lam = 0.5 * (lo + hi)
    p = np.zeros_like(ref)
    p[ref > 0] = beta * q / (lam - a)
    return p / p.sum(), lam


def _fd_gradient(f, theta: np.ndarray) -> np.ndarray:
    g = np.zeros_like(theta)
    for k in range(len(theta)):
        e = np.zeros_like(theta)
        e[k] = FD_STEP
        g[k] = (f(theta + e) - f(theta - e)) / (2 * FD_STEP)
    return g


def gradient_errors(r, ref, beta, rng) -> tuple[float, float]:
    """(1) At a random model on ``supp ref``: the k3 surrogate's finite-difference gradient
    against ``pi - ref``, and the library's update against the whole surrogate's."""
    live = ref > 0
    q, rr = ref[live], r[live]
    old = rng.dirichlet(np.ones(len(q)))
    a_old = advantage(rr, old) if np.ptp(rr) > 0 else np.zeros_like(rr)

    def k3(theta):
        p = softmax(theta)
        return float(old @ (q / p - np.log(q / p) - 1.0))

    def surrogate(theta):
        return float(old @ (softmax(theta) / old * a_old)) - beta * k3(theta)

    theta = np.log(old)
    e_k3 = float(np.max(np.abs(_fd_gradient(k3, theta) - (old - q))))
    lib = grpo_gradient(r, _embed(old, live), ref, beta)[live]
    e_upd = float(np.max(np.abs(_fd_gradient(surrogate, theta) - lib))) / max(1.0, beta)
    return e_k3, e_upd


def _embed(sub: np.ndarray, live: np.ndarray) -> np.ndarray:
    out = np.zeros(len(live))
    out[live] = sub
    return out


def forward_kl_gap(r, ref, beta, pi) -> tuple[float, float]:
    """(2) ``max |pi - argmax forward-KL problem with A = A_pi|`` and ``|lam - beta|``."""
    A = np.zeros_like(r)
    live = ref > 0
    A[live] = advantage(r[live], pi[live])
    p, lam = forward_kl_solution(A, ref, beta)
    return float(np.max(np.abs(p - pi))), abs(lam - beta) / max(1.0, beta)


def _instance(rng, K: int, constant: bool) -> tuple[np.ndarray, np.ndarray]:
    r = rng.normal(0.0, 2.0, size=K)
    ref = rng.dirichlet(np.ones(K))
    if rng.random() < 1 / 3:
        ref[rng.choice(K, size=int(rng.integers(1, K)), replace=False)] = 0.0
        ref /= ref.sum()
    if constant:
        r = np.where(ref > 0, r[int(np.argmax(ref))], r)
    return r, ref


def _check_one(stats: Stats, n: int, K: int, beta: float, r, ref, rng) -> None:
    case = {"K": K, "beta": beta, "r": r.tolist(), "pi_ref": ref.tolist()}
    e_k3, e_upd = gradient_errors(r, ref, beta, rng)
    stats.max_k3_gradient_error.add(e_k3)
    stats.max_update_error.add(e_upd)
    if max(e_k3, e_upd) > FD_TOL:
        stats.witness.offer((K, n), {**case, "k3_gradient": e_k3, "update": e_upd})
    if np.ptp(r[ref > 0]) == 0:
        try:
            grpo_fixed_point(r, ref, beta)
        except NoFixedPointError:
            stats.no_fixed_point += 1
            return
        stats.witness.offer((K, n), {**case, "problem": "fixed point for a constant reward"})
        return
    fp = grpo_fixed_point(r, ref, beta)
    gap, lam_err = forward_kl_gap(r, ref, beta, fp.pi)
    stats.fixed_points += 1
    stats.small_beta_fixed_points += int(beta <= 1e-2 and fp.residual <= RESIDUAL_TOL)
    stats.max_residual.add(float(fp.residual))
    stats.max_forward_kl_error.add(gap)
    stats.max_multiplier_error.add(lam_err)
    if fp.residual > RESIDUAL_TOL or gap > TOL or lam_err > TOL:
        stats.witness.offer(
            (K, n), {**case, "residual": float(fp.residual), "gap": gap, "lam": lam_err}
        )


def chunk(ctx: CheckContext) -> Stats:
    rng, stats = ctx.rng, Stats()
    done = 0
    for cell in cells(rng, ctx.instances, K=range(2, MAX_K + 1), beta=BETAS):
        for i in cell.index:
            n = ctx.start + int(i)
            r, ref = _instance(rng, cell.K, n % CONSTANT_EVERY == 0)
            _check_one(stats, n, cell.K, cell.beta, r, ref, rng)
            done += 1
            ctx.progress(done)
    return stats


def finish(stats: Stats, ctx: CheckContext) -> CheckResult:
    if stats.witness:
        observed = f"GRPO fixed point / gradient not as claimed: {stats.witness.value}"
    else:
        observed = (
            f"k3 gradient = forward-KL gradient; {stats.fixed_points} fixed points solve the "
            f"forward-KL problem (max error {float(stats.max_forward_kl_error):.1e}), "
            f"{stats.small_beta_fixed_points} of them at beta <= 0.01; "
            f"{stats.no_fixed_point} constant rewards have none"
        )
    return stats.result(ctx.instances, observed)


def _control_reverse_kl(rng: np.random.Generator) -> bool:
    """RLHF's reverse-KL optimum is rejected by the forward-KL detector (2)."""
    r, ref, beta = rng.normal(0.0, 2.0, size=4), np.full(4, 0.25), 0.5
    rlhf = softmax(np.log(ref) + r / beta)
    return forward_kl_gap(r, ref, beta, rlhf)[0] > TOL


def _control_constant(rng: np.random.Generator) -> bool:
    """A reward constant on ``supp pi_ref`` raises NoFixedPointError."""
    try:
        grpo_fixed_point(np.array([1.0, 1.0, 0.0]), np.array([0.5, 0.5, 0.0]), 0.01)
    except NoFixedPointError:
        return True
    return False


#: The figure's instance.
FIG_R = np.array([0.0, 1.0, 0.5])
FIG_REF = np.array([0.6, 0.1, 0.3])


def figure(result: CheckResult, gallery: Gallery) -> None:
    betas = np.logspace(-3, 1, 40)
    grpo = np.array([grpo_fixed_point(FIG_R, FIG_REF, b).pi for b in betas])
    rlhf = np.array([softmax(np.log(FIG_REF) + FIG_R / b) for b in betas])
    note = (
        f"r = {FIG_R.tolist()}, pi_ref = {FIG_REF.tolist()}; GRPO in the population limit "
        "(groups of size G -> infinity).  The check: "
        f"{result.observed}"
    )
    with gallery.new("grpo_forward_kl", ncols=2, instance=note) as (_fig, (ax, bx)):
        ax.loglog(betas, 1 - grpo[:, 1], lw=2.5, label="GRPO (forward KL, k3)")
        ax.loglog(betas, 1 - rlhf[:, 1], lw=2.5, ls="--", label="RLHF / RLOO (reverse KL)")
        ax.loglog(betas[:15], betas[:15] ** 2, "k:", lw=1.5, label=r"$\propto \beta^2$")
        ax.set_xlabel(r"$\beta$")
        ax.set_ylabel(r"$1 - \pi(\arg\max r)$ at the fixed point")
        ax.set_ylim(1e-12, 3.0)
        ax.set_title(r"a fixed point exists for every $\beta > 0$")
        ax.legend(loc="lower right")
        for y in range(3):
            (line,) = bx.semilogx(betas, grpo[:, y], lw=2.5, label=rf"GRPO $\pi(y={y})$")
            bx.semilogx(betas, rlhf[:, y], ls="--", lw=2, color=line.get_color())
        bx.plot([], [], "k--", label="RLHF (dashed)")
        bx.set_xlabel(r"$\beta$")
        bx.set_ylabel("probability")
        bx.set_title(r"GRPO against RLHF: equal only as $\beta \to 0$")
        bx.legend(loc="center right")


CLAIM = Claim(
    ID,
    STATEMENT,
    "holds",
    chunked(chunk, finish, size=CHUNK),
    figure,
    default_instances=1000,
    quick_instances=50,
    controls=(
        Control("RLHF's reverse-KL optimum is rejected", _control_reverse_kl),
        Control("a constant reward has no fixed point", _control_constant),
    ),
)
