"""Data sets for the course: small, offline, deterministic, and described.

Three kinds of data live here, all returned as plain numpy arrays or `sklearn.utils.Bunch`:

* bundled sets (`load_digits`, `load_breast_cancer`, `load_wine`) from scikit-learn's own
  files, so nothing is ever downloaded;
* 2-D toy data (`make_2d`) for pictures of decision boundaries and attacks;
* three synthetic tabular settings (`make_fraud`, `make_hiring`, `make_intrusion`), each
  simulated from a small generative story, with a `constraints` Bunch saying which features an
  attacker controls and within what bounds; `check_constraints` tells whether an adversarial
  example respects them.

Every generator takes `random_state` (an int, default 0): the same seed gives identical arrays.
"""
from __future__ import annotations

import textwrap
from typing import NamedTuple

import numpy as np
from sklearn import datasets as _skd
from sklearn.utils import Bunch

__all__ = [
    "load_digits",
    "load_breast_cancer",
    "load_wine",
    "make_2d",
    "make_fraud",
    "make_hiring",
    "make_intrusion",
    "check_constraints",
]

KINDS_2D = ("blobs", "moons", "circles")


# --------------------------------------------------------------------------- helpers


class _Feature(NamedTuple):
    """One column of a synthetic table: its name, unit, bounds, kind and meaning."""

    name: str
    unit: str
    lower: float
    upper: float
    integer: bool
    changeable: bool
    meaning: str


def validate_seed(random_state) -> int:
    """A data set's seed: a non-negative int, or a ValueError that says so."""
    if isinstance(random_state, bool) or not isinstance(random_state, (int, np.integer)) or random_state < 0:
        raise ValueError(f"random_state must be a non-negative int; got {random_state!r}")
    return int(random_state)


def validate_count(n_samples, minimum: int = 2) -> int:
    """A number of samples: an int of at least `minimum`, or a ValueError that says so."""
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or n_samples < minimum:
        raise ValueError(f"n_samples must be an int >= {minimum}; got {n_samples!r}")
    return int(n_samples)


def validate_rate(name: str, value) -> float:
    """A rate strictly between 0 and 0.5 (a minority class), or a ValueError that says so."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)) or not 0 < value < 0.5:
        raise ValueError(f"{name} must be in (0, 0.5); got {value!r}")
    return float(value)


def _exact_labels(rng: np.random.Generator, n: int, rate: float) -> np.ndarray:
    """A 0/1 label vector with exactly round(n * rate) ones (at least 1, at most n - 1), shuffled."""
    n_pos = int(min(max(round(n * rate), 1), n - 1))
    y = np.zeros(n, dtype=np.int64)
    y[rng.choice(n, size=n_pos, replace=False)] = 1
    return y


def _lognormal(rng: np.random.Generator, median, sigma, size) -> np.ndarray:
    return np.exp(rng.normal(np.log(median), sigma, size))


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _hour_profile(peak: float, width: float, floor: float) -> np.ndarray:
    """Probabilities of the 24 hours: a bump around `peak` (circular) on top of a `floor`."""
    h = np.arange(24)
    d = np.minimum(np.abs(h - peak), 24 - np.abs(h - peak))
    w = floor + np.exp(-0.5 * (d / width) ** 2)
    return w / w.sum()


def _constraints(spec, note: str) -> Bunch:
    return Bunch(
        changeable=np.array([f.changeable for f in spec], dtype=bool),
        lower=np.array([f.lower for f in spec], dtype=np.float64),
        upper=np.array([f.upper for f in spec], dtype=np.float64),
        integer=np.array([f.integer for f in spec], dtype=bool),
        note=" ".join(note.split()),
    )


def _fmt(v: float) -> str:
    return f"{v:g}" if abs(v) < 1e6 else f"{v:.0e}"


def _feature_table(spec) -> str:
    lines = ["Features (* = the attacker can change it; int = must stay integer):"]
    for f in spec:
        rng_txt = f"[{_fmt(f.lower)}, {_fmt(f.upper)}]"
        flags = ("*" if f.changeable else " ") + (" int" if f.integer else "    ")
        lines.append(f"  {f.name:<22} {f.unit:<14} {rng_txt:<14} {flags}  {f.meaning}")
    return "\n".join(lines)


def _paragraphs(text: str, width: int = 92) -> str:
    """Re-wrap a triple-quoted text: blank lines separate paragraphs."""
    return "\n\n".join(textwrap.fill(" ".join(p.split()), width=width) for p in text.strip().split("\n\n"))


def _describe(title: str, story: str, spec, target: str, note: str) -> str:
    """The DESCR text of a synthetic set: story, feature table, target and attacker note."""
    return "\n\n".join([
        title + "\n" + "=" * len(title),
        _paragraphs(story),
        _feature_table(spec),
        _paragraphs("Target: " + target),
        _paragraphs("Attacker: " + note),
    ])


def _add_description(func, descr: str) -> None:
    """Insert a generator's DESCR into its docstring, after the one-line summary."""
    doc = func.__doc__ or ""
    head, _, rest = doc.partition("\n")
    body = "\n".join("    " + line if line else "" for line in descr.split("\n")[3:])  # drop the title
    func.__doc__ = f"{head}\n\n{body}\n{rest}"


def _bunch(X, y, spec, target_names, descr, note, **extra) -> Bunch:
    return Bunch(
        X=np.ascontiguousarray(X, dtype=np.float64),
        y=np.asarray(y, dtype=np.int64),
        feature_names=[f.name for f in spec],
        units=[f.unit for f in spec],
        target_names=list(target_names),
        DESCR=descr,
        constraints=_constraints(spec, note),
        **extra,
    )


# --------------------------------------------------------------------------- bundled sets


def load_digits() -> Bunch:
    """The 8x8 handwritten digits (1797 images), pixels scaled to [0, 1].

    Returns
    -------
    Bunch with X (1797, 64) float64 in [0, 1], y (1797,) int in 0..9, images (1797, 8, 8)
    float64 in [0, 1], feature_names (list of 64 str), target_names ("0".."9"),
    bounds = (0.0, 1.0) (the valid pixel range an attack must respect) and DESCR.
    """
    raw = _skd.load_digits()
    return Bunch(
        X=raw.data.astype(np.float64) / 16.0,
        y=raw.target.astype(np.int64),
        images=raw.images.astype(np.float64) / 16.0,
        feature_names=list(raw.feature_names),
        target_names=[str(t) for t in raw.target_names],
        bounds=(0.0, 1.0),
        DESCR=(
            "Handwritten digits (UCI optical recognition, as bundled with scikit-learn)\n"
            "1797 grey-scale images of 8x8 pixels, classes 0..9 (about 180 each).\n"
            "Pixel values were counts 0..16; here they are divided by 16, so X and images lie in\n"
            "[0, 1], which is also the box an adversarial image must stay in (bounds)."
        ),
    )


def _load_table(loader, descr: str) -> Bunch:
    raw = loader()
    return Bunch(
        X=raw.data.astype(np.float64),
        y=raw.target.astype(np.int64),
        feature_names=[str(f) for f in raw.feature_names],
        target_names=[str(t) for t in raw.target_names],
        DESCR=descr,
    )


def load_breast_cancer() -> Bunch:
    """The Wisconsin diagnostic breast cancer data (569 tumours, 30 features), unscaled.

    Returns
    -------
    Bunch with X (569, 30) float64 (raw measurements), y (569,) int (0 = malignant,
    1 = benign, scikit-learn's coding), feature_names, target_names and DESCR.
    """
    return _load_table(_skd.load_breast_cancer, (
        "Breast cancer Wisconsin (diagnostic), as bundled with scikit-learn\n"
        "569 fine-needle aspirates, 30 features computed from cell-nucleus images (mean,\n"
        "standard error and worst value of radius, texture, perimeter, area, ...).\n"
        "Features are RAW and UNSCALED (areas in the hundreds, smoothness near 0.1): scale them\n"
        "(e.g. StandardScaler) before fitting a linear model or measuring perturbation sizes.\n"
        "y: 0 = malignant (212), 1 = benign (357) - scikit-learn's coding, kept as is."
    ))


def load_wine() -> Bunch:
    """The wine recognition data (178 wines, 13 chemical features, 3 cultivars), unscaled.

    Returns
    -------
    Bunch with X (178, 13) float64 (raw measurements), y (178,) int in 0..2, feature_names,
    target_names and DESCR.
    """
    return _load_table(_skd.load_wine, (
        "Wine recognition, as bundled with scikit-learn\n"
        "178 wines from three cultivars of the same Italian region, 13 results of chemical\n"
        "analysis (alcohol, malic acid, ash, ..., proline).\n"
        "Features are RAW and UNSCALED (proline in the hundreds, hue near 1): scale them first.\n"
        "y: 0, 1, 2 = class_0 (59), class_1 (71), class_2 (48)."
    ))


# --------------------------------------------------------------------------- 2-D toy data

_DEFAULT_NOISE = {"blobs": 1.2, "moons": 0.25, "circles": 0.1}
_BLOB_CENTRES = np.array([[-1.4, -1.4], [1.4, 1.4]])  # 3.96 apart: Bayes accuracy ~95% at std 1.2


def make_2d(kind: str = "blobs", n_samples: int = 200, noise: float | None = None, random_state: int = 0):
    """Two-class 2-D toy data: "blobs", "moons" or "circles", classes balanced.

    Parameters
    ----------
    kind : {"blobs", "moons", "circles"}
        Two Gaussian blobs (linearly separable up to overlap), two interleaving half moons,
        or a small circle inside a large one (factor 0.5).
    n_samples : int, default 200
        Total number of points; each class gets half (the first class one more if odd).
    noise : float or None
        The blobs' standard deviation, or the Gaussian noise added to moons / circles.
        None uses a sensible default: blobs 1.2 (a linear model gets about 95% accuracy),
        moons 0.25, circles 0.1.
    random_state : int, default 0

    Returns
    -------
    X : float64 array (n_samples, 2)
    y : int array (n_samples,) with values 0 and 1
    """
    if kind not in KINDS_2D:
        raise ValueError(f"kind must be one of {', '.join(map(repr, KINDS_2D))}; got {kind!r}")
    n = validate_count(n_samples)
    seed = validate_seed(random_state)
    if noise is None:
        noise = _DEFAULT_NOISE[kind]
    if isinstance(noise, bool) or not isinstance(noise, (int, float, np.floating, np.integer)) or noise < 0:
        raise ValueError(f"noise must be a non-negative number or None; got {noise!r}")
    if kind == "blobs":
        X, y = _skd.make_blobs(n_samples=n, centers=_BLOB_CENTRES, cluster_std=float(noise), random_state=seed)
    elif kind == "moons":
        X, y = _skd.make_moons(n_samples=n, noise=float(noise), random_state=seed)
    else:
        X, y = _skd.make_circles(n_samples=n, noise=float(noise), factor=0.5, random_state=seed)
    return X.astype(np.float64), y.astype(np.int64)


# --------------------------------------------------------------------------- constraints


def check_constraints(x_adv, x_orig, constraints, atol: float = 1e-6) -> np.ndarray:
    """Per row, whether an adversarial example respects a data set's attacker constraints.

    A row passes when (1) every feature the attacker does not control is unchanged from
    `x_orig`, (2) every feature lies within [lower, upper], and (3) every integer feature is
    an integer, each up to `atol`. NaN or infinite values fail.

    Parameters
    ----------
    x_adv : array (n, d) or (d,)
        The modified rows.
    x_orig : array of the same shape
        The rows they were made from.
    constraints : Bunch or dict
        With boolean arrays `changeable` and `integer` and float arrays `lower` and `upper`,
        each of length d (the `constraints` of `make_fraud`, `make_hiring`, `make_intrusion`).
    atol : float, default 1e-6
        Tolerance of every comparison.

    Returns
    -------
    ok : bool array (n,) (shape (1,) for a single row).
    """
    adv = np.asarray(x_adv, dtype=np.float64)
    orig = np.asarray(x_orig, dtype=np.float64)
    if adv.shape != orig.shape:
        raise ValueError(f"x_adv and x_orig must have the same shape; got {adv.shape} and {orig.shape}")
    if adv.ndim == 1:
        adv, orig = adv[None, :], orig[None, :]
    if adv.ndim != 2:
        raise ValueError(f"x_adv must be 1-D (one row) or 2-D (rows); got {adv.ndim} dimensions")
    try:
        changeable = np.asarray(constraints["changeable"], dtype=bool)
        integer = np.asarray(constraints["integer"], dtype=bool)
        lower = np.asarray(constraints["lower"], dtype=np.float64)
        upper = np.asarray(constraints["upper"], dtype=np.float64)
    except (KeyError, TypeError) as exc:
        raise ValueError(
            "constraints must have the keys 'changeable', 'integer', 'lower' and 'upper'; "
            f"got {type(constraints).__name__} without {exc}"
        ) from None
    d = adv.shape[1]
    for name, arr in (("changeable", changeable), ("integer", integer), ("lower", lower), ("upper", upper)):
        if arr.shape != (d,):
            raise ValueError(f"constraints['{name}'] must have shape ({d},) to match x's {d} columns; got {arr.shape}")
    finite = np.isfinite(adv)
    fixed_ok = changeable | (np.abs(adv - orig) <= atol)
    bounds_ok = (adv >= lower - atol) & (adv <= upper + atol)
    integer_ok = ~integer | (np.abs(adv - np.round(adv)) <= atol)
    return np.all(finite & fixed_ok & bounds_ok & integer_ok, axis=1)


# --------------------------------------------------------------------------- card fraud
# Each synthetic set is written as a story (_*_STORY), a feature table (_*_SPEC: name, unit,
# bounds, integer?, changeable?, meaning) and an attacker note (_*_NOTE). Its DESCR, its
# constraints and the description inserted into the generator's docstring are all built from
# these, so they cannot disagree.

MERCHANT_CATEGORIES = (
    "groceries", "fuel", "restaurants", "online retail",
    "electronics", "travel", "gift cards", "crypto / money transfer",
)

_FRAUD_SPEC = (
    _Feature("amount", "EUR", 1.0, 5000.0, False, True, "amount of this transaction, to the cent"),
    _Feature("hour", "hour of day", 0, 23, True, True, "local hour at the card holder's home"),
    _Feature("merchant_category", "category code", 0, len(MERCHANT_CATEGORIES) - 1, True, True,
             "0 groceries, 1 fuel, 2 restaurants, 3 online retail, 4 electronics, 5 travel, "
             "6 gift cards, 7 crypto / money transfer"),
    _Feature("distance_from_home_km", "km", 0.0, 20000.0, False, False,
             "terminal location or device/IP geolocation to the holder's home"),
    _Feature("online", "0/1 flag", 0, 1, True, True, "1 = card not present (online / phone order)"),
    _Feature("tx_count_24h", "count", 0, 60, True, False, "earlier transactions on the card in the last 24 h"),
    _Feature("avg_amount_30d", "EUR", 1.0, 2000.0, False, False, "the card's mean amount over the last 30 days"),
    _Feature("card_age_days", "days", 0, 3650, True, False, "days since the card was issued"),
)

_FRAUD_STORY = """
Card transactions with a fraud label, simulated card by card. There are n_samples // 20
cards (at least 20). Each card has a habitual spending level (log-normal, median 40 EUR),
an age (gamma, mean about 2.7 years, at most 10), a usual activity (gamma, mean 2
transactions a day) and a home location.

A legitimate transaction follows its card's habits: an amount around the card's level
(log-normal spread), daytime hours (peak mid-afternoon), everyday merchants (groceries,
restaurants, online retail, fuel), mostly in person close to home (median 4 km; travel
purchases occasionally hundreds of km away), and the card's usual number of transactions in
the preceding 24 h.

A fraudulent transaction is made by a fraudster with a stolen card, chosen with a preference
for new cards (intercepted in the post): amounts mostly several times the card's habit (15%
are tiny card-testing payments of 1 to 5 EUR), hours spread over the day and night (a third
at night), risky merchants (electronics, gift cards, crypto / money transfer, online retail),
mostly card-not-present, often far from home (the fraudster's device; 40% are local), and a
burst of extra transactions in the last 24 h. Legitimate and fraudulent distributions overlap
on every feature, so the classes are learnable but not separable.

Base rate: exactly round(n_samples * fraud_rate) transactions are fraudulent (1% by default),
shuffled among the others.
"""

_FRAUD_TARGET = "y = 1 fraud (a stolen card used by a fraudster), 0 legitimate."

_FRAUD_NOTE = """
The fraudster holds a stolen card and chooses what to buy, where and when: they can set the
amount (1 to 5000 EUR, the card's limit), the hour (0 to 23), the merchant category (any of
the 8 codes) and whether the purchase is made online (0/1). They cannot change the card's
history, which the bank computes from past transactions (avg_amount_30d, tx_count_24h,
card_age_days), and they cannot move distance_from_home_km, which comes from the terminal's
or device's geolocation relative to the card holder's registered home: the fraudster is
where they are, and spoofing that is outside this threat model. Integer features (hour,
merchant_category, online) must stay integers.
"""


def make_fraud(n_samples: int = 20000, fraud_rate: float = 0.01, random_state: int = 0) -> Bunch:
    """Synthetic card transactions labelled fraud / legitimate, with the fraudster's constraints.

    Parameters
    ----------
    n_samples : int, default 20000
        Number of transactions (at least 100).
    fraud_rate : float in (0, 0.5), default 0.01
        Share of fraudulent transactions.
    random_state : int, default 0

    Returns
    -------
    Bunch with X (n_samples, 8) float64, y (n_samples,) int (1 = fraud), feature_names,
    units, target_names, DESCR, constraints (changeable, lower, upper, integer, note) and
    card_id (n_samples,) int, the card each transaction belongs to (for grouped splits).
    """
    n = validate_count(n_samples, 100)
    rate = validate_rate("fraud_rate", fraud_rate)
    rng = np.random.default_rng(validate_seed(random_state))

    # Cards: habit, age, activity.
    n_cards = max(20, n // 20)
    card_habit = np.clip(_lognormal(rng, 40.0, 0.6, n_cards), 2.0, 1500.0)
    card_age = np.clip(np.round(rng.gamma(2.0, 500.0, n_cards)), 0, 3650)
    card_rate = rng.gamma(2.0, 1.0, n_cards)

    y = _exact_labels(rng, n, rate)
    fraud = y == 1
    n_fraud = int(fraud.sum())
    card = rng.integers(n_cards, size=n)
    victim_weight = np.exp(-card_age / 365.0) + 0.3
    card[fraud] = rng.choice(n_cards, size=n_fraud, p=victim_weight / victim_weight.sum())
    habit = card_habit[card]

    # Amount: around the habit; fraud mostly several times it, some card testing.
    amount = habit * _lognormal(rng, 1.0, 0.7, n)
    amount[fraud] = habit[fraud] * _lognormal(rng, 3.0, 0.8, n_fraud)
    testing = fraud & (rng.random(n) < 0.15)
    amount[testing] = rng.uniform(1.0, 5.0, testing.sum())
    amount = np.clip(np.round(amount, 2), 1.0, 5000.0)

    # Hour of day.
    hour = rng.choice(24, size=n, p=_hour_profile(peak=14, width=4, floor=0.05))
    night = 0.5 * _hour_profile(peak=3, width=2.5, floor=0.0) + 0.5 / 24
    hour[fraud] = rng.choice(24, size=n_fraud, p=night)

    # Merchant category.
    p_legit = np.array([0.30, 0.12, 0.20, 0.18, 0.06, 0.07, 0.04, 0.03])
    p_fraud = np.array([0.06, 0.05, 0.06, 0.22, 0.19, 0.10, 0.17, 0.15])
    category = rng.choice(8, size=n, p=p_legit)
    category[fraud] = rng.choice(8, size=n_fraud, p=p_fraud)

    # Online (card not present): mostly decided by the merchant; fraudsters prefer it.
    p_online_cat = np.array([0.05, 0.02, 0.08, 0.95, 0.40, 0.60, 0.50, 0.90])
    p_online = p_online_cat[category]
    p_online[fraud] = 1.0 - 0.4 * (1.0 - p_online[fraud])
    online = (rng.random(n) < p_online).astype(np.float64)

    # Distance from home: near home, trips for travel; fraudsters often far away.
    distance = _lognormal(rng, 4.0, 1.0, n)
    trip = (category == 5) & (rng.random(n) < 0.3) | (rng.random(n) < 0.02)
    distance[trip] = _lognormal(rng, 500.0, 1.0, trip.sum())
    far = fraud & (rng.random(n) < 0.6)
    distance[far] = _lognormal(rng, 300.0, 1.5, far.sum())
    distance = np.clip(np.round(distance, 1), 0.0, 20000.0)

    # Transactions in the last 24 h: the card's usual activity, plus a burst for fraud.
    count = rng.poisson(card_rate[card]).astype(np.float64)
    count[fraud] += rng.poisson(2.5, n_fraud)
    count = np.clip(count, 0, 60)

    avg_30d = np.clip(np.round(habit * _lognormal(rng, 1.0, 0.1, n), 2), 1.0, 2000.0)

    X = np.column_stack([amount, hour, category, distance, online, count, avg_30d, card_age[card]])
    return _bunch(X, y, _FRAUD_SPEC, ["legitimate", "fraud"], _FRAUD_DESCR, _FRAUD_NOTE,
                  card_id=card.astype(np.int64))


_FRAUD_DESCR = _describe("Card transactions with a fraud label (synthetic)", _FRAUD_STORY,
                         _FRAUD_SPEC, _FRAUD_TARGET, _FRAUD_NOTE)
_add_description(make_fraud, _FRAUD_DESCR)


# --------------------------------------------------------------------------- hiring

EDUCATION_LEVELS = ("secondary school", "vocational", "bachelor", "master", "doctorate")

_HIRING_SPEC = (
    _Feature("years_experience", "years", 0.0, 45.0, False, False, "relevant work experience, to 0.1 year"),
    _Feature("education_level", "ordinal code", 0, 4, True, False,
             "0 secondary school, 1 vocational, 2 bachelor, 3 master, 4 doctorate"),
    _Feature("skills_match", "share (0-1)", 0.0, 1.0, False, True,
             "share of the ad's required skills the CV claims"),
    _Feature("num_certifications", "count", 0, 10, True, True, "professional certificates listed"),
    _Feature("employment_gap_months", "months", 0, 120, True, False, "longest gap between jobs"),
    _Feature("cv_keyword_count", "count", 0, 60, True, True, "occurrences of the job ad's keywords in the CV"),
    _Feature("referral", "0/1 flag", 0, 1, True, False, "1 = referred by an employee"),
)

_HIRING_STORY = """
Applications to a job opening, screened by a recruiter helped by an automated CV screener.
Each applicant has a latent ability (standard normal) that the data never show directly.
Experience is gamma distributed (mean 6.6 years) and largely independent of ability;
education level is ability plus noise, cut into five levels; the share of required skills
the CV claims is a beta draw around a mean that rises with ability and experience;
certifications are Poisson with a rate rising with ability and experience; employment gaps
(in months) occur more often for lower ability; the keyword count is Poisson, driven by the
skills claimed and by how much the applicant tailored the CV to the ad (a latent share);
about 10% were referred, more often the able ones.

The label is the recruiter's shortlisting decision: a score from the applicant's true
ability (as the recruiter perceives it in the CV and a phone call), experience (up to 15
years counts), education, the screener's keyword matching, referral and gaps, plus logistic
noise, thresholded. Because the keyword count enters the decision directly, padding a CV
with keywords genuinely raises the odds of being shortlisted: the screener can be gamed.

Base rate: about 25% of applicants are shortlisted (each applicant independently, so the
share varies a little with the seed).
"""

_HIRING_THRESHOLD = 3.3  # the recruiter's bar on the noisy score: about 25% pass

_HIRING_TARGET = ("y = 1 shortlisted (the positive class: the outcome the applicant wants), "
                  "0 rejected.")

_HIRING_NOTE = """
The attacker is an applicant gaming the automated screener by rewriting their CV. They can
add job-ad keywords (cv_keyword_count, 0 to 60, integer), claim a larger share of the
required skills (skills_match, up to 1.0) and list more certifications (num_certifications,
integer, global cap 10; realistically at most 3 more than their own, which the global bounds
cannot express: check it separately if it matters). They cannot change facts that are
verified or recorded elsewhere: years_experience, education_level, employment_gap_months
and referral.
"""


def make_hiring(n_samples: int = 5000, random_state: int = 0) -> Bunch:
    """Synthetic job applications labelled shortlisted / rejected, with the applicant's constraints.

    Parameters
    ----------
    n_samples : int, default 5000
        Number of applicants (at least 10).
    random_state : int, default 0

    Returns
    -------
    Bunch with X (n_samples, 7) float64, y (n_samples,) int (1 = shortlisted), feature_names,
    units, target_names, DESCR and constraints (changeable, lower, upper, integer, note).
    """
    n = validate_count(n_samples, 10)
    rng = np.random.default_rng(validate_seed(random_state))

    ability = rng.normal(size=n)
    years = np.clip(np.round(rng.gamma(2.2, 3.0, n), 1), 0.0, 45.0)
    education = np.digitize(0.8 * ability + rng.normal(0.0, 0.8, n), [-1.3, -0.4, 0.6, 1.8]).astype(np.float64)
    m = _sigmoid(-0.4 + 0.9 * ability + 0.05 * np.minimum(years, 15))
    skills = np.clip(np.round(rng.beta(m * 8 + 1e-3, (1 - m) * 8 + 1e-3), 2), 0.0, 1.0)
    certs = np.clip(rng.poisson(np.exp(-0.2 + 0.35 * ability + 0.04 * np.minimum(years, 20))), 0, 10)
    has_gap = rng.random(n) < _sigmoid(-1.4 - 0.5 * ability)
    gap = np.where(has_gap, np.clip(np.ceil(rng.gamma(1.5, 6.0, n)), 1, 120), 0.0)
    tailoring = rng.beta(2.0, 2.0, n)
    keywords = np.clip(rng.poisson(2.0 + 14.0 * skills + 8.0 * tailoring), 0, 60)
    referral = (rng.random(n) < 0.08 + 0.07 * (ability > 1.0)).astype(np.float64)

    score = (1.3 * ability + 0.08 * np.minimum(years, 15) + 0.25 * education + 0.07 * keywords
             + 1.0 * referral - 0.03 * gap + rng.logistic(0.0, 0.6, n))
    y = (score > _HIRING_THRESHOLD).astype(np.int64)

    X = np.column_stack([years, education, skills, certs, gap, keywords, referral])
    return _bunch(X, y, _HIRING_SPEC, ["rejected", "shortlisted"], _HIRING_DESCR, _HIRING_NOTE)


_HIRING_DESCR = _describe("Job applications with a shortlisting label (synthetic)", _HIRING_STORY,
                          _HIRING_SPEC, _HIRING_TARGET, _HIRING_NOTE)
_add_description(make_hiring, _HIRING_DESCR)


# --------------------------------------------------------------------------- intrusion

FLOW_TYPES = ("benign web", "benign bulk transfer", "scan", "brute force", "exfiltration")
PORT_CLASSES = ("web", "ssh", "db", "other")

_INTRUSION_SPEC = (
    _Feature("duration_s", "s", 0.0, 3600.0, False, True, "flow duration, to the ms (exporter timeout 1 h)"),
    _Feature("bytes_out", "bytes", 0, 1e9, True, True, "bytes sent by the host that opened the flow"),
    _Feature("bytes_in", "bytes", 0, 1e9, True, False, "bytes it received"),
    _Feature("packets", "count", 1, 2e6, True, True, "packets in both directions"),
    _Feature("dst_port_class", "category code", 0, 3, True, False,
             "destination service: 0 web (80/443), 1 ssh (22), 2 db (1433/3306/5432), 3 other"),
    _Feature("failed_logins", "count", 0, 500, True, False, "failed authentications joined from the auth logs"),
    _Feature("distinct_dst_ports", "count", 1, 65535, True, False, "ports the source touched on the target"),
    _Feature("hour", "hour of day", 0, 23, True, True, "local hour at the flow's start"),
)

_INTRUSION_STORY = """
Network flow records from a company's perimeter, one per connection, simulated from the kind
of activity behind each flow. Benign flows are web browsing and API calls (80%: short,
small requests, larger responses, web ports, office hours, rarely a mistyped password) and
bulk transfers (20%: backups, updates and file sync, long and large, often uploads, often
scheduled at night). Malicious flows are port scans (40%: very short, tiny packets, many
distinct ports; a third are slow, stealthy scans touching only a few), brute-force logins
(35%: ssh / database / web login, many failed logins; 40% are low-and-slow with only a few),
and data exfiltration (25%: large uploads with little coming back, often tunnelled over
HTTPS, often at night). Byte counts are log-normal; packets follow from the bytes (about 1
KB of payload a packet plus the handshake; a scan costs about two packets a port).

Base rate: exactly round(n_samples * attack_rate) flows are malicious (10% by default),
shuffled among the benign ones. `flow_type` (codes into `flow_type_names`) keeps the latent
kind of every flow.
"""

_INTRUSION_TARGET = "y = 1 malicious (scan, brute force or exfiltration), 0 benign."

_INTRUSION_NOTE = """
The attacker (the intruder's tooling or malware) shapes its own traffic: it can stretch or
shorten the flow (duration_s, 0 to 3600 s), pad what it sends (bytes_out up to 1 GB, packets
up to 2 million, both integers) and choose when to act (hour, 0 to 23). Padding only ever
ADDS bytes and packets (the payload - the probe, the password guess, the stolen data - cannot
be removed), so a realistic attack keeps bytes_out and packets at or above their original
values; the global bounds cannot express that, so check it separately. It cannot change
what the other side sends back (bytes_in), the service it needs to reach (dst_port_class),
the failed logins its guesses cause (failed_logins) or the ports a scan must touch
(distinct_dst_ports): doing fewer guesses or probes would mean a weaker attack, which is a
different, slower attack rather than an evasion of this one.
"""


def make_intrusion(n_samples: int = 10000, attack_rate: float = 0.1, random_state: int = 0) -> Bunch:
    """Synthetic network flows labelled malicious / benign, with the intruder's constraints.

    Parameters
    ----------
    n_samples : int, default 10000
        Number of flows (at least 20).
    attack_rate : float in (0, 0.5), default 0.1
        Share of malicious flows.
    random_state : int, default 0

    Returns
    -------
    Bunch with X (n_samples, 8) float64, y (n_samples,) int (1 = malicious), feature_names,
    units, target_names, DESCR, constraints (changeable, lower, upper, integer, note),
    flow_type (n_samples,) int codes and flow_type_names.
    """
    n = validate_count(n_samples, 20)
    rate = validate_rate("attack_rate", attack_rate)
    rng = np.random.default_rng(validate_seed(random_state))

    y = _exact_labels(rng, n, rate)
    flow = np.where(y == 1, rng.choice([2, 3, 4], size=n, p=[0.40, 0.35, 0.25]),
                    rng.choice([0, 1], size=n, p=[0.80, 0.20]))

    duration = np.empty(n)
    out = np.empty(n)
    inn = np.empty(n)
    port = np.empty(n)
    failed = np.zeros(n)
    ports = np.ones(n)
    hour = rng.choice(24, size=n, p=_hour_profile(peak=13, width=3.5, floor=0.04)).astype(np.float64)
    anytime = np.full(24, 1 / 24)
    night = _hour_profile(peak=2.5, width=1.5, floor=0.0)

    def sel(code):
        idx = np.flatnonzero(flow == code)
        return idx, idx.size

    i, k = sel(0)  # benign web
    duration[i] = _lognormal(rng, 1.5, 1.2, k)
    out[i] = _lognormal(rng, 1200, 0.8, k)
    inn[i] = _lognormal(rng, 40000, 1.5, k)
    port[i] = rng.choice(4, size=k, p=[0.90, 0.01, 0.02, 0.07])
    typo = rng.random(k) < 0.03
    failed[i[typo]] = 1 + rng.poisson(0.7, typo.sum())
    ports[i] = 1 + rng.binomial(2, 0.1, k)

    i, k = sel(1)  # benign bulk transfer
    duration[i] = _lognormal(rng, 120, 1.0, k)
    upload = rng.random(k) < 0.5
    out[i] = np.where(upload, _lognormal(rng, 5e7, 1.2, k), _lognormal(rng, 5e4, 1.0, k))
    inn[i] = np.where(upload, _lognormal(rng, 2e5, 1.0, k), _lognormal(rng, 1e8, 1.2, k))
    port[i] = rng.choice(4, size=k, p=[0.40, 0.25, 0.20, 0.15])
    scheduled = rng.random(k) < 0.5
    hour[i[scheduled]] = rng.choice(24, size=scheduled.sum(), p=night)

    i, k = sel(2)  # scan
    slow = rng.random(k) < 0.33
    ports[i] = np.where(slow, 2 + rng.poisson(3, k), np.round(_lognormal(rng, 200, 1.0, k)))
    duration[i] = np.where(slow, _lognormal(rng, 20, 1.0, k), _lognormal(rng, 0.5, 1.5, k))
    out[i] = 60 * ports[i] * _lognormal(rng, 1.0, 0.3, k)
    inn[i] = 40 * ports[i] * rng.uniform(0.1, 0.6, k)
    port[i] = rng.choice(4, size=k, p=[0.20, 0.10, 0.10, 0.60])
    hour[i] = rng.choice(24, size=k, p=anytime)

    i, k = sel(3)  # brute force
    low = rng.random(k) < 0.4
    failed[i] = np.where(low, 1 + rng.poisson(2, k), 5 + rng.poisson(25, k))
    duration[i] = _lognormal(rng, 30, 1.0, k) * np.where(low, 3.0, 1.0)
    out[i] = 300 * (failed[i] + 1) * _lognormal(rng, 1.0, 0.3, k)
    inn[i] = 250 * (failed[i] + 1) * _lognormal(rng, 1.0, 0.3, k)
    port[i] = rng.choice(4, size=k, p=[0.15, 0.60, 0.25, 0.00])
    hour[i] = rng.choice(24, size=k, p=anytime)

    i, k = sel(4)  # exfiltration
    duration[i] = _lognormal(rng, 300, 1.0, k)
    out[i] = _lognormal(rng, 3e7, 1.3, k)
    inn[i] = _lognormal(rng, 2e4, 1.0, k)
    port[i] = rng.choice(4, size=k, p=[0.60, 0.10, 0.00, 0.30])
    at_night = rng.random(k) < 0.6
    hour[i[at_night]] = rng.choice(24, size=at_night.sum(), p=night)

    duration = np.clip(np.round(duration, 3), 0.0, 3600.0)
    out = np.clip(np.round(out), 0, 1e9)
    inn = np.clip(np.round(inn), 0, 1e9)
    scan = flow == 2
    packets = np.where(scan, 2 * ports, np.ceil((out + inn) / 1000.0)) + rng.integers(3, 11, n)
    packets = np.clip(packets, 1, 2e6)
    failed = np.clip(failed, 0, 500)
    ports = np.clip(ports, 1, 65535)

    X = np.column_stack([duration, out, inn, packets, port, failed, ports, hour])
    return _bunch(X, y, _INTRUSION_SPEC, ["benign", "malicious"], _INTRUSION_DESCR, _INTRUSION_NOTE,
                  flow_type=flow.astype(np.int64), flow_type_names=list(FLOW_TYPES))


_INTRUSION_DESCR = _describe("Network flows with an intrusion label (synthetic)", _INTRUSION_STORY,
                             _INTRUSION_SPEC, _INTRUSION_TARGET, _INTRUSION_NOTE)
_add_description(make_intrusion, _INTRUSION_DESCR)
