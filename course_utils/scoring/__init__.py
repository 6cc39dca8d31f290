"""Scoring generated samples: one import for everything notebook 05 and the other notebooks use.

The lecture's score, fixed (``course_utils.scoring.mmd``):

* ``compute_score(fake, real, sigma=1)`` -- the lecture's number exactly (biased MMD with the
  Gaussian kernel of bandwidth^2 = sigma^2 * mean squared real-real distance, square-rooted),
  returned, on any device, memory-bounded;
* ``MMDScorer(real, sigma=1).score(fake)`` -- the same number with the reals' part cached:
  milliseconds per call, for scoring after every epoch.

Estimators a careful user needs (``course_utils.scoring.mmd``, ``course_utils.scoring.two_sample``):

* ``mmd2(X, Y, kernel, bandwidth, estimator)`` -- MMD^2, unbiased or biased, Gaussian
  (number / list / ``"median"`` / ``"mean"`` bandwidth), polynomial or linear kernel;
* ``mmd_permutation_test(X, Y, n_permutations, seed)`` -- statistic and p-value;
* ``kid(X, Y, subsets, subset_size, seed)`` -- Kernel Inception Distance (mean, std);
* ``frechet_distance(X, Y)`` -- the FD of FID, float64, eigenvalue form;
* ``one_nn_accuracy(X, Y)`` -- balanced 1-NN two-sample accuracy (0.5 is ideal).

Feature spaces (``course_utils.scoring.features``): ``pixel_features``, ``classifier_features`` (the
project's small MNIST classifier, ``course_utils.scoring.classifier``), ``classify_samples`` (mean
confidence and class histogram of samples) and ``class_spread`` (the
histogram's normalised entropy).

Variety within a class (``course_utils.scoring.diversity``):
``within_class_distance(features, labels)``, the mean pairwise feature distance per class --
collapse within a digit, which the class histogram cannot see.

Conventions: X / ``real`` first in every estimator except ``compute_score(fake, real)``, which
keeps the lecture's order. Inputs are tensors or arrays (N, ...) of the same value range.
"""
from __future__ import annotations

from .checks import RangeMismatchWarning
from .diversity import within_class_distance
from .features import (
    ClassifierSummary,
    class_spread,
    classifier_features,
    classifier_probabilities,
    classify_samples,
    pixel_features,
)
from .mmd import (
    KIDResult,
    MMDScorer,
    PermutationTestResult,
    compute_score,
    kid,
    mmd2,
    mmd_permutation_test,
)
from .tiling import DEFAULT_MEMORY_BUDGET
from .two_sample import (
    OneNNResult,
    frechet_distance,
    frechet_distance_from_moments,
    one_nn_accuracy,
)

__all__ = [
    "DEFAULT_MEMORY_BUDGET",
    "RangeMismatchWarning",
    "compute_score",
    "MMDScorer",
    "mmd2",
    "mmd_permutation_test",
    "PermutationTestResult",
    "kid",
    "KIDResult",
    "frechet_distance",
    "frechet_distance_from_moments",
    "one_nn_accuracy",
    "OneNNResult",
    "pixel_features",
    "classifier_features",
    "classifier_probabilities",
    "classify_samples",
    "ClassifierSummary",
    "class_spread",
    "within_class_distance",
]
