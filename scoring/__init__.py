"""The scoring engine of evalplatform (绩效评价计分引擎).

A pure library (numpy, scipy): numbers in, numbers out, no database, no web. It implements
the scoring model of DESIGN.md: weights (AHP, entropy, combined), TOPSIS, panel statistics (trimmed
mean, Kendall's W, ICC), survey statistics (Cronbach's alpha, confidence intervals, sample
size), the evaluation of a self-contained JSON package, one at a time or in vectorised
batches with the same results, and payment rules on exact decimals. See README.md.
"""

from .engine import (
    ENGINE,
    ENGINE_CHANGES,
    THRESHOLDS,
    Evaluation,
    Missing,
    NodeScore,
    PanelQuality,
    PartScore,
    Quality,
    RateQuality,
    SheetUse,
    TraceLine,
    evaluate,
    evaluate_many,
)
from .money import PaymentResult, apply_payment, parse_payment_rule, round_score
from .package import PackageError, validate_package, validate_scheme
from .stats import (
    RANDOM_INDEX,
    AHPResult,
    AlphaResult,
    CombinedWeightsResult,
    EntropyResult,
    ICCResult,
    IntervalResult,
    KendallWResult,
    TopsisResult,
    ahp,
    combined_weights,
    cronbach_alpha,
    entropy_weights,
    icc,
    kendall_w,
    mean_ci,
    pooled_mean_ci,
    pooled_rate_ci,
    proportion_ci,
    sample_size,
    topsis,
    trimmed_mean,
)
from .text import Text, render
from .trace import RATIO_UNITS, with_unit

__all__ = [
    # weights and statistics
    "ahp",
    "entropy_weights",
    "combined_weights",
    "topsis",
    "trimmed_mean",
    "kendall_w",
    "icc",
    "cronbach_alpha",
    "mean_ci",
    "proportion_ci",
    "pooled_mean_ci",
    "pooled_rate_ci",
    "sample_size",
    "RANDOM_INDEX",
    # evaluation
    "evaluate",
    "evaluate_many",
    "validate_package",
    "validate_scheme",
    "PackageError",
    "ENGINE",
    "ENGINE_CHANGES",
    "THRESHOLDS",
    # money
    "apply_payment",
    "parse_payment_rule",
    "round_score",
    # formatting, as the trace writes a value
    "with_unit",
    "RATIO_UNITS",
    # the trace and warnings in another language
    "Text",
    "render",
    # result types
    "AHPResult",
    "EntropyResult",
    "CombinedWeightsResult",
    "TopsisResult",
    "KendallWResult",
    "ICCResult",
    "AlphaResult",
    "IntervalResult",
    "PaymentResult",
    "Evaluation",
    "PartScore",
    "NodeScore",
    "SheetUse",
    "Missing",
    "Quality",
    "RateQuality",
    "PanelQuality",
    "TraceLine",
]
