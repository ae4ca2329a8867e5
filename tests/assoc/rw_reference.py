"""Plain-Python Rescorla-Wagner, written for reading rather than speed.

Tests compare the Numba engine with these loops trial by trial.
"""


def rw_session(trials, alpha, beta_plus, beta_minus, lambda_, n_cues, n_us):
    """Run one subject through ``trials`` and return (before, final).

    trials : list of (cue indices, set of US indices, learn) tuples, in order.
    before[t][i][u] is V of cue i for US u before trial t's update.
    """
    strength = [[0.0] * n_us for _ in range(n_cues)]
    before = []
    for cues, us_present, learn in trials:
        before.append([row[:] for row in strength])
        if not learn:
            continue
        for u in range(n_us):
            prediction = sum(strength[i][u] for i in cues)
            if u in us_present:
                error = beta_plus[u] * (lambda_[u] - prediction)
            else:
                error = beta_minus[u] * (0.0 - prediction)
            for i in cues:
                strength[i][u] += alpha[i] * error
    return before, strength


def ndl_events(events, alpha, beta_plus, beta_minus, lambda_):
    """Learn (cues, outcomes) events the way ndl2 does; return {(cue, outcome): weight}.

    Every outcome seen so far is updated on each event, and a cue listed twice
    counts twice, in the prediction and in the update.
    """
    weights = {}
    outcomes_seen = []
    for cues, outcomes in events:
        for outcome in outcomes:
            if outcome not in outcomes_seen:
                outcomes_seen.append(outcome)
        for outcome in outcomes_seen:
            prediction = sum(weights.get((cue, outcome), 0.0) for cue in cues)
            if outcome in outcomes:
                step = beta_plus * (lambda_ - prediction)
            else:
                step = beta_minus * (0.0 - prediction)
            for cue in cues:
                weights[(cue, outcome)] = weights.get((cue, outcome), 0.0) + alpha * step
    return weights
