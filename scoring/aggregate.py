"""Combining expert reviews into criterion scores (DESIGN §8 rules 1–3 and 5).

Scores are held as integers in a unit fine enough for every step of the rubric (``10**-score_places``),
so sums are exact and the mean of the retained reviews is rounded half-up with integer arithmetic — no
float ever decides a rounding.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property, lru_cache

import numpy as np

from .rubric import Rubric

__all__ = ["ExpertAggregate", "aggregate_reviews", "score_places", "round_mean_units"]


# Review rows per matrix product (and per block of the float copy): large enough that the per-block calls
# cost little, small enough that a block's copy is read again from the cache rather than from memory and
# that the product of a block runs on the calling thread (of 8,192–65,536 rows, measured on 140,000
# reviews, 16,384–32,768 were quickest; above about 21,000 rows numpy's BLAS splits one product over two
# threads, which then compete with the engine's own second thread)
BLOCK_ROWS = 16384

# Reading int64 scores as float64 gives the subnormals x · 2**-1074, exactly (see _packed_sums). Factors
# scaled by 2**946 make every product of a non-zero score a normal float; the results are then the true
# values times 2**-128, a power of two that is multiplied out exactly.
_FACTOR_SCALE = 2.0**946
_RESULT_SCALE = 2.0**128


def word_bits(n_criteria: int) -> int:
    """Bits of packed criterion sums per float64 word (see :func:`_packed_sums`): a word below 2**b whose
    ``n_criteria`` products and sums each round once stays within (n_criteria + 2) · 2**-53 · 2**b < 1/2
    of the exact integer."""
    return min(48, 52 - (n_criteria + 2).bit_length())


def subnormals_honoured() -> bool:
    """Whether this thread computes with subnormal operands as IEEE 754 requires.

    False in the "denormals are zero" mode that code built for fast floating-point math may switch on,
    where every subnormal operand reads as 0."""
    least = np.ones(1, dtype=np.int64).view(np.float64)  # 2**-1074, the least subnormal
    return bool(np.multiply(least, 2.0**1000)[0] == 2.0**-74)


@lru_cache(maxsize=1)
def subnormal_product_is_quick() -> bool:
    """Whether the matrix product of rules 1–2 reads the integer scores as subnormal floats quicker here
    than it converts them to floats first (see :func:`_packed_sums`).

    Both give the same numbers; only the time differs. Converting int64 to float64 is a separate pass
    over every score; reading the scores in place skips it, but some processors slow down on subnormal
    operands (microcode assists), and there the conversion wins. Measured once per process on a fixed
    sample (best of three each)."""
    if not subnormals_honoured():
        return False
    scores = np.asfortranarray(np.random.default_rng(0).integers(0, 301, (BLOCK_ROWS, 6)))
    factors = np.asfortranarray(np.random.default_rng(1).random((6, 2)))
    scaled = factors * _FACTOR_SCALE
    buffer = np.empty((BLOCK_ROWS, 6), order="F")
    out = np.empty((BLOCK_ROWS, 2), order="F")
    best_read = best_convert = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        np.matmul(scores.view(np.float64), scaled, out=out)
        t1 = time.perf_counter()
        np.copyto(buffer, scores, casting="unsafe")
        np.matmul(buffer, factors, out=out)
        t2 = time.perf_counter()
        best_read, best_convert = min(best_read, t1 - t0), min(best_convert, t2 - t1)
    return best_read <= best_convert


def score_places(rubric: Rubric) -> int:
    """Decimal places needed to hold every expert score exactly (e.g. 1 for step 0.5)."""
    return rubric.score_places


def round_mean_units(sums: np.ndarray, counts: np.ndarray, places: int, decimals: int) -> np.ndarray:
    """Round sums/counts half-up, from units of ``10**-places`` to units of ``10**-decimals``.

    All arguments are non-negative integers; the result is exact: ``floor(N / D)`` with N = 2·num + den and
    D = 2·den. While N < 2**53 the division may be done in float64 and is still exact: N and D are exact
    floats; an integer quotient is represented exactly; any other quotient lies at least 1/D from every
    integer, while the error of one correctly rounded division is at most (N/D)·2**-53 < 1/D.
    """
    sums = np.asarray(sums, dtype=np.int64)
    counts = np.asarray(counts, dtype=np.int64)
    if decimals >= places:
        num = sums * (10 ** (decimals - places))
        den = counts
    else:
        num = sums
        den = counts * (10 ** (places - decimals))
    den = np.where(den == 0, 1, den) if (counts == 0).any() else den
    if int(num.max(initial=0)) < 2**50 and int(den.max(initial=0)) < 2**20:
        result = np.floor((2 * num + den) / (2.0 * den)).astype(np.int64)
    else:
        result = (2 * num + den) // (2 * den)
    return np.where(counts == 0, 0, result) if (counts == 0).any() else result


def rounding_tables(
    max_units: list[int], kept: np.ndarray, places: int, decimals: int
) -> list[tuple[np.ndarray, np.ndarray] | None]:
    """Rule 5 by table look-up: for each criterion, the rounded mean of every possible sum.

    Returns, per criterion, ``(table, offsets)`` with ``table[offsets[app] + sum]`` the rounded mean of
    ``sum`` over ``kept[app]`` reviews (in units of ``10**-decimals``); None where the table would be
    too large (then :func:`round_mean_units` is used directly).
    """
    kept = np.asarray(kept, dtype=np.int64)
    m_values = np.flatnonzero(np.bincount(kept)) if kept.size else np.zeros(1, dtype=np.int64)
    lookup = np.zeros(int(m_values.max()) + 1, dtype=np.int64)
    lookup[m_values] = np.arange(m_values.size)
    m_code = lookup[kept]
    out: list[tuple[np.ndarray, np.ndarray] | None] = []
    for mu in max_units:
        width = int(m_values.max()) * mu + 1
        if width * m_values.size > 4_000_000:
            out.append(None)
            continue
        sums = np.arange(width, dtype=np.int64)[np.newaxis, :]
        table = round_mean_units(sums, m_values[:, np.newaxis], places, decimals).reshape(-1)
        out.append((table, m_code * width))
    return out


@dataclass(frozen=True)
class ExpertAggregate:
    """Rules 1–3 for all applications at once.

    Attributes
    ----------
    n_reviews : ndarray of int
        Reviews per application.
    ranked : ndarray of bool
        Per application: n_reviews >= min_experts.
    criterion_units : ndarray of int64, shape (n_applications, n_expert_criteria)
        Rounded criterion scores in units of ``10**-decimals`` (0 where not ranked).
    high_disagreement : ndarray of bool
        Reviewer totals spread more than 25% of the expert maximum.
    """

    n_reviews: np.ndarray
    ranked: np.ndarray
    criterion_units: np.ndarray
    high_disagreement: np.ndarray
    app: np.ndarray = field(repr=False)
    expert: np.ndarray = field(repr=False)
    units: np.ndarray = field(repr=False)
    n_experts: int = 1
    method: str = "mean"
    trim_min_experts: int | None = None
    first_row: np.ndarray | None = field(default=None, repr=False)
    last_row: np.ndarray | None = field(default=None, repr=False)

    @cached_property
    def starts(self) -> np.ndarray:
        """Offset of each application's first row in ``order``."""
        return np.cumsum(self.n_reviews) - self.n_reviews

    @cached_property
    def totals(self) -> np.ndarray:
        """Reviewer total t per review row (input order), in score units."""
        return self.units.sum(axis=1)

    @cached_property
    def order(self) -> np.ndarray:
        """Review rows sorted by (application, t, expert)."""
        return sort_reviews(self.app, self.totals, self.expert, self.n_experts)

    @cached_property
    def retained(self) -> np.ndarray:
        """Per review row (input order): kept by rule 2."""
        n = self.app.shape[0]
        if self.method == "median":
            order = self.order
            app_sorted = self.app[order]
            n_of = self.n_reviews[app_sorted]
            pos = np.arange(n) - self.starts[app_sorted]
            keep = np.zeros(n, dtype=bool)
            keep[order] = (pos == (n_of - 1) // 2) | (pos == n_of // 2)
        else:
            keep = np.ones(n, dtype=bool)
            if self.method == "trimmed_mean":
                trimmed = np.flatnonzero(self.n_reviews >= self.trim_min_experts)
                keep[self.first_row[trimmed]] = False
                keep[self.last_row[trimmed]] = False
        return keep & self.ranked[self.app]


def sort_reviews(app: np.ndarray, totals: np.ndarray, expert: np.ndarray, n_experts: int) -> np.ndarray:
    """Permutation sorting review rows by (application, t, expert code), all ascending."""
    n = app.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    t_range = int(totals.max()) + 1
    a_range = int(app.max()) + 1
    e_range = max(n_experts, 1)
    index_bits = _bits(n)
    if _bits(a_range) + _bits(t_range) + _bits(e_range) + index_bits <= 62:
        # one packed int64 sort (SIMD) instead of a three-key lexsort; the row number rides in the low bits
        key = (app * t_range + totals) * e_range + expert
        key <<= index_bits
        key |= np.arange(n, dtype=np.int64)
        key.sort()
        return key & ((1 << index_bits) - 1)
    return np.lexsort((expert, totals, app))


def _bits(n: int) -> int:
    return max(int(n - 1).bit_length(), 1)


def pack_layout(
    max_units: list[int] | tuple[int, ...], max_count: int, word_bits: int
) -> list[list[tuple[int, int, int]]]:
    """Bit fields wide enough for a sum of ``max_count`` scores of each criterion, grouped into words.

    Returns words, each a list of (criterion index, shift, width)."""
    words: list[list[tuple[int, int, int]]] = [[]]
    used = 0
    for c, mu in enumerate(max_units):
        width = max(int(mu * max(max_count, 1)).bit_length(), 1)
        if used + width > word_bits and words[-1]:
            words.append([])
            used = 0
        words[-1].append((c, used, width))
        used += width
    return words


def pack_rows(units: np.ndarray, layout: list[list[tuple[int, int, int]]]) -> list[np.ndarray]:
    """Each row's scores packed into one integer per word of ``layout``."""
    words = []
    for word in layout:
        c, shift, _ = word[0]
        w = units[:, c] << shift
        for c, shift, _ in word[1:]:
            part = units[:, c] << shift
            w += part
        words.append(w)
    return words


def aggregate_reviews(
    rubric: Rubric,
    app: np.ndarray,
    expert: np.ndarray,
    units: np.ndarray,
    n_applications: int,
    n_experts: int,
    *,
    subnormal: bool | None = None,
) -> ExpertAggregate:
    """Apply rules 1–3 and round (rule 5) for every application.

    Parameters
    ----------
    rubric : Rubric
    app : ndarray of int, shape (n_reviews,)
        Application code of each review, in ``range(n_applications)``.
    expert : ndarray of int, shape (n_reviews,)
        Expert code; codes must follow the order of the expert ids (the tie order of rule 2), and an
        expert reviews an application at most once.
    units : ndarray of int64, shape (n_reviews, n_expert_criteria)
        Scores in units of ``10**-score_places(rubric)``, each within 0..max and on its criterion's step
        (as :func:`scoring.engine.rank_applications` checks). Column-major is fastest.
    n_applications, n_experts : int
    subnormal : bool, optional
        For the mean and the trimmed mean: read the scores in place as subnormal floats (True) or convert
        them to floats first (False). The result is the same; the default takes whichever
        :func:`subnormal_product_is_quick` finds quicker on this machine.

    Returns
    -------
    ExpertAggregate

    Notes
    -----
    For the mean and the trimmed mean every per-review quantity is an integer that a float64 holds
    exactly, so the work over the review rows is a few memory-bound passes (see :func:`_packed_sums`);
    the median, and campaigns too large for those exact floats, take a plainer integer path.
    """
    agg = rubric.aggregation
    places = score_places(rubric)
    criteria = rubric.expert_criteria
    n_crit = len(criteria)
    app = np.asarray(app, dtype=np.int64)
    n = app.shape[0]
    expert = np.asarray(expert, dtype=np.int64)
    units = np.asarray(units, dtype=np.int64).reshape(n, n_crit)
    max_units, step_units = rubric.expert_units
    max_steps = [m // s for m, s in zip(max_units, step_units, strict=True)]
    e_range = max(n_experts, 1)
    trimming = agg.method == "trimmed_mean"

    packed = None
    if agg.method != "median":
        packed = _packed_sums(
            app,
            expert,
            units,
            n_applications,
            e_range,
            max_units,
            step_units,
            agg.trim_min_experts if trimming else None,
            subnormal=subnormal,
        )
    if packed is not None:
        counts, first_row, last_row, spread, sums = packed
    else:
        counts = np.bincount(app, minlength=n_applications)
        has = counts > 0
        totals = units.sum(axis=1)
        order = sort_reviews(app, totals, expert, e_range)
        starts = np.cumsum(counts) - counts
        if n:
            first_row = np.where(has, order[np.minimum(starts, n - 1)], 0)
            last_row = np.where(has, order[np.maximum(starts + counts - 1, 0)], 0)
            spread = np.where(has, totals[last_row] - totals[first_row], 0)
        else:
            first_row = last_row = spread = np.zeros(n_applications, dtype=np.int64)
        sums = np.zeros((n_crit, n_applications), dtype=np.int64)
        if agg.method == "median":
            lo = order[np.where(has, starts + (counts - 1) // 2, 0)] if n else first_row
            hi = order[np.where(has, starts + counts // 2, 0)] if n else first_row
            two = counts % 2 == 0
            for c in range(n_crit):
                sums[c] = units[lo, c] + np.where(two, units[hi, c], 0) if n else 0
        else:
            for c in range(n_crit):
                np.add.at(sums[c], app, units[:, c])
                if trimming and n:
                    trim = counts >= agg.trim_min_experts
                    sums[c] -= np.where(trim, units[first_row, c] + units[last_row, c], 0)
        for c in range(n_crit):
            sums[c] //= step_units[c]  # the packed path counts in steps too
    ranked = counts >= agg.min_experts
    least = int(counts.min()) if n_applications else 0
    kept_count: np.ndarray | int
    if n_applications and least == int(counts.max()):
        # every application has the same number of reviews (the usual case): one retained count
        kept_count = _kept_reviews(least, agg.method, agg.trim_min_experts) if least >= agg.min_experts else 0
    else:
        if agg.method == "median":
            kept_count = np.where(counts % 2 == 0, 2, 1)
        elif trimming:
            kept_count = np.where(counts >= agg.trim_min_experts, counts - 2, counts)
        else:
            kept_count = counts
        kept_count = np.where(ranked, kept_count, 0)  # unranked: no retained reviews, every criterion 0
    if least < agg.min_experts:
        sums[:, ~ranked] = 0
    criterion_units = _round_step_means(sums, kept_count, step_units, max_steps, places, agg.decimals).T
    expert_max_units = int(rubric.expert_max.scaleb(places))
    high = 4 * spread > expert_max_units

    return ExpertAggregate(
        n_reviews=counts,
        ranked=ranked,
        criterion_units=criterion_units,
        high_disagreement=high,
        app=app,
        expert=expert,
        units=units,
        n_experts=e_range,
        method=agg.method,
        trim_min_experts=agg.trim_min_experts,
        first_row=first_row,
        last_row=last_row,
    )


def _kept_reviews(n: int, method: str, trim_min: int | None) -> int:
    """How many of an application's ``n`` reviews rule 2 retains."""
    if method == "median":
        return 2 if n % 2 == 0 else 1
    if method == "trimmed_mean" and trim_min is not None and n >= trim_min:
        return n - 2
    return n


def _packed_sums(
    app: np.ndarray,
    expert: np.ndarray,
    units: np.ndarray,
    n_applications: int,
    e_range: int,
    max_units: list[int],
    step_units: list[int],
    trim_min: int | None,
    *,
    subnormal: bool | None = None,
) -> tuple[np.ndarray, ...] | None:
    """Rules 1–2 for the mean and trimmed mean in exact float64 arithmetic.

    * One matrix product per block of review rows packs each review's criteria, counted in steps, into
      bit fields wide enough for the sum over an application's reviews (a word below 2**b,
      :func:`word_bits`). A step that is not a power of two is divided out through a rounded factor,
      so the product is within 1/2 of the exact packed integer and ``rint`` restores it exactly. A
      count field on top (every review adds one) gives each application's number of reviews from the
      same weighted bincount that sums every criterion.
    * Another column of the same product gives each review's rule 2 key ``(t, expert, row)`` packed
      into an exact float below 2**53 (each field on whole bits, so shifts take it apart); its
      per-application minimum and maximum name the first and the last review of rule 2.
    * The product reads the scores in one of two ways, with the same result (``subnormal``, by default
      whichever :func:`subnormal_product_is_quick` finds quicker). Either each block of scores, with
      the expert code and the row number, is converted into a column-major float64 buffer that stays in
      the cache; or the int64 scores are read in place as float64: a score x below 2**52 reads as the
      subnormal x · 2**-1074, exactly, and with factors scaled by 2**946 every product is the same
      correctly rounded value as after the conversion, times 2**-128 (no product of a non-zero score is
      subnormal, since every factor is at least 2**946 / step > 2**52). That skips the conversion
      pass. The expert code and the row number are then added to the key afterwards. IEEE 754 makes
      this exact, but a thread in the "denormals are zero" mode would read every score as 0: the
      calling thread is checked first, and the product of a sample of rows is compared with exact
      arithmetic on the converted scores afterwards (for any other thread the matrix product may use);
      either failing, the scores are converted as in the first way.
    * The fields are sized for a guessed largest number of reviews per application (the mean rounded up,
      and as many more as fit the same words). An application with more reviews would overflow into the
      count field, which then reads more than the guess: that is checked, and the words are rebuilt for
      the true largest count.

    Returns (counts, first_row, last_row, spread of t, criterion sums in steps), or None when the
    campaign is too large for exact floats (the caller then takes the integer path).
    """
    n, n_crit = units.shape
    row_bits = _bits(n)
    expert_bits = _bits(e_range)
    t_bound = sum(max_units) + 1
    if n == 0 or n_crit == 0 or _bits(t_bound) + _bits(e_range) + row_bits > 53:
        return None
    max_steps = tuple(m // s for m, s in zip(max_units, step_units, strict=True))
    cap = _count_guess(max_steps, -(-n // max(n_applications, 1)))
    if cap is None:
        return None

    read_in_place = max(max_units) < 2**52 and (
        subnormal_product_is_quick() if subnormal is None else subnormal
    )
    key_shift = expert_bits + row_bits

    def words_and_key(plan: _WordPlan) -> tuple[np.ndarray, list[np.ndarray], float]:
        """Each review's packed words (count field included) and their sums per application, with each
        review's rule 2 key in the last column of the first result, and the key's unit (a power of two:
        the key is an integer times it)."""
        n_words = len(plan.layout)
        out = np.empty((n, n_words + 1), order="F")
        words = out[:, :n_words]
        if read_in_place and subnormals_honoured() and _in_place_products(units, expert, plan, row_bits, out):
            key_unit = 1.0 / _RESULT_SCALE
        else:
            _converted_products(units, expert, plan.factors, row_bits, out)
            key_unit = 1.0
        words[:, -1] += plan.count_unit  # the count field
        sums = [np.bincount(app, weights=out[:, i], minlength=n_applications) for i in range(n_words)]
        return out, sums, key_unit

    plan = _word_plan(max_steps, tuple(step_units), cap, key_shift)
    assert plan is not None  # the guess fits by construction
    out, word_sums, key_unit = words_and_key(plan)
    counts_f = np.floor(word_sums[-1] / plan.count_unit)
    if counts_f.max() > cap:
        # some application has more reviews than the guess: size the fields for the true largest count
        most = int(np.bincount(app, minlength=n_applications).max())
        plan = _word_plan(max_steps, tuple(step_units), most, key_shift)
        if plan is None:
            return None
        out, word_sums, key_unit = words_and_key(plan)
        counts_f = np.floor(word_sums[-1] / plan.count_unit)
    word_sums[-1] -= counts_f * plan.count_unit
    counts = counts_f.astype(np.int64)
    has = counts > 0

    key = out[:, -1]
    kmin = np.full(n_applications, np.inf)
    kmax = np.full(n_applications, -np.inf)
    np.minimum.at(kmin, app, key)
    np.maximum.at(kmax, app, key)
    every = bool(has.all())
    if key_unit != 1.0:
        kmin /= key_unit  # a power of two: exact
        kmax /= key_unit
    kmin = (kmin if every else np.where(has, kmin, 0.0)).astype(np.int64)
    kmax = (kmax if every else np.where(has, kmax, 0.0)).astype(np.int64)
    row_mask = (1 << row_bits) - 1
    first_row, last_row = kmin & row_mask, kmax & row_mask
    kmax >>= key_shift
    kmin >>= key_shift
    spread = np.subtract(kmax, kmin, out=kmax)

    sums = np.empty((n_crit, n_applications), dtype=np.int64)
    trim = None if trim_min is None else counts >= trim_min
    trim_all = trim is not None and bool(trim.all())
    last_word = len(plan.layout) - 1
    for i, (s, (first, size, shifts, masks)) in enumerate(zip(word_sums, plan.unpack, strict=True)):
        if trim is not None:
            w = out[:, i]
            dropped = np.take(w, first_row, mode="clip")  # rows in range by construction
            dropped += np.take(w, last_row, mode="clip")
            if i == last_word:
                dropped -= 2 * plan.count_unit  # the count field is not a score
            s -= dropped if trim_all else np.where(trim, dropped, 0.0)
        # a word holds consecutive criteria (pack_layout fills words in order): unpack them together
        np.right_shift(s.astype(np.int64), shifts, out=sums[first : first + size])
        sums[first : first + size] &= masks
    return counts, first_row, last_row, spread, sums


@dataclass(frozen=True)
class _WordPlan:
    """The packed words of :func:`_packed_sums` for one rubric and largest review count.

    Attributes
    ----------
    layout : list
        :func:`pack_layout`: per word, (criterion, shift, width) of each field.
    factors : ndarray, shape (n_criteria, n_words + 1)
        Score to word (1/step · 2**shift) and, in the last column, score to the key's t field.
    scaled : ndarray
        ``factors`` · 2**946, for scores read in place as subnormals.
    count_unit : float
        The count field's unit (2**bits used by the last word).
    unpack : tuple
        Per word: its first criterion, its number of criteria, their shifts and masks (column vectors).
    packing : ndarray, shape (n_criteria, n_words + 1)
        Step counts to words and to the key (still times 2**-128), powers of two, for the sample check.
    steps : ndarray of float
        Each criterion's step in score units.
    """

    layout: list
    factors: np.ndarray
    scaled: np.ndarray
    count_unit: float
    unpack: tuple
    packing: np.ndarray
    steps: np.ndarray


@lru_cache(maxsize=64)
def _word_plan(
    max_steps: tuple[int, ...], step_units: tuple[int, ...], count: int, key_shift: int
) -> _WordPlan | None:
    """The :class:`_WordPlan` for sums of up to ``count`` reviews, or None if they do not fit exact
    floats (a field wider than a word, or no room left for the count field)."""
    bits = word_bits(len(max_steps))
    layout = pack_layout(list(max_steps), count, bits)
    if any(_word_width(word) > bits for word in layout) or _word_width(layout[-1]) + (
        count + 1
    ).bit_length() + 1 > 53:
        return None
    n_words = len(layout)
    factors = np.zeros((len(max_steps), n_words + 1), order="F")
    packing = np.zeros((len(max_steps), n_words + 1))
    unpack = []
    for i, word in enumerate(layout):
        for c, shift, _ in word:
            factors[c, i] = (1 << shift) / step_units[c]
            packing[c, i] = float(1 << shift)
        shifts = np.array([shift for _, shift, _ in word], dtype=np.int64)[:, np.newaxis]
        masks = np.array([(1 << width) - 1 for _, _, width in word], dtype=np.int64)[:, np.newaxis]
        unpack.append((word[0][0], len(word), shifts, masks))
    factors[:, n_words] = float(1 << key_shift)
    steps = np.array(step_units, dtype=np.float64)
    packing[:, n_words] = steps * float(1 << key_shift) / _RESULT_SCALE
    scaled = factors * _FACTOR_SCALE
    for array in (factors, packing, scaled, steps, *(a for u in unpack for a in u[2:])):
        array.flags.writeable = False
    return _WordPlan(
        layout, factors, scaled, float(1 << _word_width(layout[-1])), tuple(unpack), packing, steps
    )


def _in_place_products(
    units: np.ndarray, expert: np.ndarray, plan: _WordPlan, row_bits: int, out: np.ndarray
) -> bool:
    """The product of :func:`_packed_sums` with the int64 scores read in place as subnormal floats.

    Fills ``out`` with the rounded words and the key times 2**-128, and returns True; returns False
    (``out`` is then to be filled again) when a sample of rows disagrees with exact arithmetic, as it
    does where subnormals are read as 0."""
    n = units.shape[0]
    n_words = len(plan.layout)
    scores = units.view(np.float64)
    for start in range(0, n, BLOCK_ROWS):
        np.matmul(scores[start : start + BLOCK_ROWS], plan.scaled, out=out[start : start + BLOCK_ROWS])
    words = out[:, :n_words]
    words *= _RESULT_SCALE
    np.rint(words, out=words)
    if not _products_agree(units, out, plan):
        return False
    key = out[:, n_words]
    key += np.multiply(expert.view(np.float64), _FACTOR_SCALE * (1 << row_bits))
    key += _row_numbers(n)
    return True


def _converted_products(
    units: np.ndarray, expert: np.ndarray, factors: np.ndarray, row_bits: int, out: np.ndarray
) -> None:
    """The product of :func:`_packed_sums` with the scores converted to floats, block by block: each
    block holds the scores, then the expert code and the row number (which only the key uses). Fills
    ``out`` with the rounded words and the key (exact integers)."""
    n, n_crit = units.shape
    n_words = factors.shape[1] - 1
    full = np.zeros((n_crit + 2, n_words + 1), order="F")
    full[:n_crit] = factors
    full[n_crit, n_words] = float(1 << row_bits)
    full[n_crit + 1, n_words] = 1.0
    block_rows = min(n, BLOCK_ROWS)
    buffer = np.empty((block_rows, n_crit + 2), order="F")
    buffer[:, n_crit + 1] = np.arange(-block_rows, 0)
    for start in range(0, n, block_rows):
        stop = min(start + block_rows, n)
        block = buffer[: stop - start]
        np.copyto(block[:, :n_crit], units[start:stop], casting="unsafe")
        np.copyto(block[:, n_crit], expert[start:stop], casting="unsafe")
        block[:, n_crit + 1] += block_rows
        np.matmul(block, full, out=out[start:stop])
    words = out[:, :n_words]
    np.rint(words, out=words)


def _products_agree(units: np.ndarray, out: np.ndarray, plan: _WordPlan, samples: int = 256) -> bool:
    """Whether the product of :func:`_packed_sums` read in place (words rounded and unscaled, key still
    scaled by 2**-128, before the expert code and row number are added) equals exact arithmetic on
    about ``samples`` evenly spaced rows. A thread that read subnormal scores as 0 would give 0 for
    every score of its share of the rows."""
    rows = slice(0, None, max(units.shape[0] // samples, 1))
    # scores converted to floats are whole multiples of their step, so every step count, power-of-two
    # product and sum here is exact
    exact = (units[rows] / plan.steps) @ plan.packing
    return bool((out[rows] == exact).all())


@lru_cache(maxsize=2)
def _row_numbers(n: int) -> np.ndarray:
    """0 .. n − 1 as float64 times 2**-128 (the row field of a key read in place; read-only, cached)."""
    rows = np.arange(n, dtype=np.float64)
    rows /= _RESULT_SCALE
    rows.flags.writeable = False
    return rows


def _word_width(word: list[tuple[int, int, int]]) -> int:
    """Bits used by one word of a :func:`pack_layout` (0 for an empty word)."""
    return word[-1][1] + word[-1][2] if word else 0


@lru_cache(maxsize=64)
def _count_guess(max_steps: tuple[int, ...], mean_count: int) -> int | None:
    """The largest number of reviews per application the packed words can hold in as few words as the
    mean count needs, with a count field on top that stays exact (see :func:`_packed_sums`)."""

    bits = word_bits(len(max_steps))

    def fits(cap: int) -> list | None:
        layout = pack_layout(max_steps, cap, bits)
        if any(_word_width(word) > bits for word in layout):
            return None
        if _word_width(layout[-1]) + (cap + 1).bit_length() + 1 > 53:
            return None
        return layout

    cap = max(mean_count, 1)
    layout = fits(cap)
    if layout is None:
        return None
    words = len(layout)
    # fitting in the same words is monotone in the count: binary search up to 2**20 reviews
    low, high = cap, 1 << 20
    while low < high:
        mid = (low + high + 1) // 2
        wider = fits(mid)
        if wider is not None and len(wider) == words:
            low = mid
        else:
            high = mid - 1
    return low


def _round_step_means(
    sums: np.ndarray,
    kept: np.ndarray | int,
    step_units: list[int],
    max_steps: list[int],
    places: int,
    decimals: int,
) -> np.ndarray:
    """Rule 5 for every criterion: half-up rounded means of step sums.

    ``sums`` (n_criteria, n_applications) counts steps over ``kept`` reviews per application (each sum at
    most ``kept * max_steps``; one int when every application retains as many); the result is in units
    of ``10**-decimals``. A table of every possible (criterion, kept count, sum) is looked up when it is
    small, else the means are rounded directly. ``sums`` is used as scratch space."""
    n_crit, n_apps = sums.shape
    if isinstance(kept, int):
        width = kept * max(max_steps, default=0) + 1
        if n_crit * width <= 4_000_000:
            table = _mean_table(tuple(step_units), (kept,), width, places, decimals)
            out = np.empty((n_crit, n_apps), dtype=np.int64)
            for c in range(n_crit):
                np.take(table[c * width : (c + 1) * width], sums[c], out=out[c], mode="clip")
            return out
        kept = np.full(n_apps, kept, dtype=np.int64)
    kept = np.asarray(kept, dtype=np.int64)
    low = int(kept.min()) if n_apps else 0
    high = int(kept.max()) if n_apps else 0
    width = high * max(max_steps, default=0) + 1
    if n_crit * (high - low + 1) * width <= 4_000_000:
        m_values = np.arange(low, high + 1)  # every count between the least and the most: no search
        code = kept - low
    else:
        m_values = np.flatnonzero(np.bincount(kept))
        if n_crit * m_values.size * width > 4_000_000:
            steps = np.array(step_units, dtype=np.int64)[:, np.newaxis]
            return round_mean_units(sums * steps, kept, places, decimals)
        lookup = np.zeros(high + 1, dtype=np.int64)
        lookup[m_values] = np.arange(m_values.size)
        code = lookup[kept]
    table = _mean_table(tuple(step_units), tuple(m_values.tolist()), width, places, decimals)
    span = m_values.size * width  # one criterion's part of the table
    out = np.empty((n_crit, n_apps), dtype=np.int64)
    if m_values.size > 1:
        code *= width
    for c in range(n_crit):
        index = sums[c]
        if m_values.size > 1:  # else every application has the same count: the sum alone
            index += code
        # every index is in range by construction
        np.take(table[c * span : (c + 1) * span], index, out=out[c], mode="clip")
    return out


@lru_cache(maxsize=32)
def _mean_table(
    step_units: tuple[int, ...], m_values: tuple[int, ...], width: int, places: int, decimals: int
) -> np.ndarray:
    """Flat table of ``round_mean_units(s * step, m)`` for each criterion's step, each count m and each
    step sum s below ``width``: entry ``(c · len(m_values) + i) · width + s``."""
    steps = np.array(step_units, dtype=np.int64)[:, np.newaxis, np.newaxis]
    counts = np.array(m_values, dtype=np.int64)[np.newaxis, :, np.newaxis]
    table = round_mean_units(np.arange(width, dtype=np.int64) * steps, counts, places, decimals).reshape(-1)
    table.flags.writeable = False
    return table


def decimal_to_units(value: Decimal, places: int) -> int:
    """A Decimal as an integer count of ``10**-places`` (exact; raises if it does not fit)."""
    scaled = value.scaleb(places)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{value} has more than {places} decimal places")
    return int(scaled)
