"""The isotonic fit behind inferred times, against scikit-learn's estimator."""

import numpy as np
from sklearn.isotonic import IsotonicRegression

from livedesk.align.times import REAL, fit


def test_the_fit_is_the_estimators_to_the_last_bit():
    rng = np.random.default_rng(7)
    for _ in range(500):
        n = int(rng.integers(1, 400))
        ranks = np.sort(rng.choice(2 * n, n, replace=False))
        noise = float(rng.choice([0.0, 10.0, 1000.0, 30000.0]))
        values = 1.7e9 + np.sort(rng.uniform(0, 1e5, n)) + rng.normal(0, noise, n)
        values[rng.random(n) < 0.1] = values[0]  # ties
        weights = np.where(rng.random(n) < 0.5, REAL, 1.0)
        expected = IsotonicRegression(increasing=True).fit(ranks, values, sample_weight=weights).predict(ranks)
        assert np.array_equal(fit(values, weights), expected)
