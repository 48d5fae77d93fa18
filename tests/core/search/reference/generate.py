"""Expected values for tests/core/search (run by hand; the numbers are pasted into the tests).

Needs numpy, scipy and scikit-learn (Debian: python3-sklearn 1.2.1). bayes_opt itself is not
installed: `bayes_opt_1_4_3_suggest` restates what its `suggest` does (TargetSpace / acq_max of
release 1.4.3) with the same sklearn GP and scipy L-BFGS-B calls.

    /usr/bin/python3 tests/core/search/reference/generate.py
"""
import json

import numpy as np
from scipy.optimize import minimize
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import Matern


def r(x):
    return [float(v) for v in np.ravel(x)]


out = {}

# MT19937 streams.
out["rs0"] = r(np.random.RandomState(0).random_sample(3))
out["rs42"] = r(np.random.RandomState(42).random_sample(2))
out["rsMax"] = r(np.random.RandomState(2**32 - 1).random_sample(2))
out["rsArray"] = r(np.random.RandomState([1, 2, 3]).random_sample(2))
rs = np.random.RandomState(0)
rs.random_sample(1000)
out["rs0_1000"] = r(rs.random_sample(3))
out["uniformArrays"] = r(np.random.RandomState(5).uniform([0.0, -1.0, 10.0], [1.0, 1.0, 20.0], size=(2, 3)))

# TargetSpace.random_sample with random_state=0: one uniform(lo, hi, size=1) per sorted key.
space = np.random.RandomState(0)
bounds = np.array([[0.0, 0.5]] * 6)
init = []
for _ in range(60):
    data = np.empty((1, 6))
    for col, (lo, hi) in enumerate(bounds):
        data.T[col] = space.uniform(lo, hi, size=1)
    init.append(r(data))
out["initPoints_target03"] = {"first3": init[:3], "last": init[59]}

# sklearn GP on a fixed data set.
gen = np.random.RandomState(1)
X = gen.uniform(0, 1, size=(12, 3))
y = np.sin(3 * X[:, 0]) + X[:, 1] ** 2 - 0.5 * X[:, 2]
shared = np.random.RandomState(0)
gp = GaussianProcessRegressor(kernel=Matern(nu=2.5), alpha=1e-6, normalize_y=True,
                              n_restarts_optimizer=5, random_state=shared)
gp.fit(X, y)
Xs = gen.uniform(0, 1, size=(4, 3))
mean, std = gp.predict(Xs, return_std=True)
lml_at = {}
for th in [-2.0, -0.5, 0.0, 0.7, 2.0]:
    v, g = gp.log_marginal_likelihood(np.array([th]), eval_gradient=True)
    lml_at[str(th)] = [float(v), float(g[0])]
out["gp"] = {
    "X": [r(row) for row in X], "y": r(y), "Xs": [r(row) for row in Xs],
    "lengthScale": float(gp.kernel_.length_scale),
    "lml": float(gp.log_marginal_likelihood_value_),
    "mean": r(mean), "std": r(std), "lmlAt": lml_at,
    "nextDrawAfterFit": float(shared.random_sample()),
}


def bayes_opt_1_4_3_suggest(params, target, pbounds, rng):
    """BayesianOptimization.suggest: GP fit on the shared RNG, then acq_max with UCB(2.576)."""
    gp = GaussianProcessRegressor(kernel=Matern(nu=2.5), alpha=1e-6, normalize_y=True,
                                  n_restarts_optimizer=5, random_state=rng)
    gp.fit(params, target)

    def ucb(x):
        m, s = gp.predict(x, return_std=True)
        return m + 2.576 * s

    x_tries = rng.uniform(pbounds[:, 0], pbounds[:, 1], size=(10000, pbounds.shape[0]))
    ys = ucb(x_tries)
    x_max = x_tries[ys.argmax()]
    max_acq = ys.max()
    warm = (r(x_max), float(max_acq))
    x_seeds = rng.uniform(pbounds[:, 0], pbounds[:, 1], size=(10, pbounds.shape[0]))
    for x_try in x_seeds:
        res = minimize(lambda x: -ucb(x.reshape(1, -1)), x_try, bounds=pbounds, method="L-BFGS-B")
        if not res.success:
            continue
        if -np.squeeze(res.fun) >= max_acq:
            x_max = res.x
            max_acq = -np.squeeze(res.fun)
    return np.clip(x_max, pbounds[:, 0], pbounds[:, 1]), float(max_acq), warm, float(gp.kernel_.length_scale)


# First GP suggestion of a B-FPGM-shaped run (target 0.3): probe + 60 random points on a smooth
# stand-in objective, both RNG streams seeded 0 as BayesianOptimization(random_state=0) does.
def stand_in(x):
    return -float(np.sum((x - np.array([0.1, 0.2, 0.3, 0.35, 0.25, 0.15])) ** 2))


pts = [np.full(6, 0.34)] + [np.array(p) for p in init]
tg = [stand_in(p) for p in pts]
opt_rng = np.random.RandomState(0)
x_next, acq, warm, ls = bayes_opt_1_4_3_suggest(np.array(pts), np.array(tg), bounds, opt_rng)
out["firstSuggestion"] = {"x": r(x_next), "ucb": acq, "warmup": warm, "lengthScale": ls,
                          "nextDraw": float(opt_rng.random_sample())}

print(json.dumps(out, indent=1))
