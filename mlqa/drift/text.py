"""Text columns: descriptors tested as numerical columns, and the words whose shares moved.

A text column becomes numerical descriptors, one value per document, each then tested by
``check_drift``'s own exact tests in its one Holm/BH family with its materiality floor:

* ``length``: characters;
* ``words``: words (runs of letters);
* ``oov_share``: share of a document's words absent from the reference vocabulary. The
  vocabulary is built from a seeded half of the reference rows and the reference side of the
  test is the other half: a document cannot be out of the vocabulary it was built from, so
  comparing the reference's own documents would make every current document look new;
* ``non_letter_share``: share of characters that are not letters;
* ``empty``: whether the document is empty or blank (a binary column).

Words are lower-cased runs of Unicode letters (``[^\\W\\d_]+``), as in the descriptors.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

# Words: runs of letters (no digits or underscores).
WORD = r"(?u)[^\W\d_]+"
# Rows per side the descriptors are computed on (a seeded subsample above it, reported).
MAX_ROWS = 200_000
TOP_WORDS = 10  # words whose document share moved most, for the report
# Rows per side the word shares are counted on.
WORD_ROWS = 20_000


def documents(series: pd.Series) -> np.ndarray:
    """The non-missing values as a 1-D object array of strings."""
    values = series.dropna()
    return values.astype(str).to_numpy(dtype=object)


def descriptors(docs: np.ndarray, vocabulary: Any) -> dict[str, pd.Series]:
    """Each descriptor of each document (NaN where undefined: shares of an empty document).

    ``vocabulary`` is a fitted ``CountVectorizer`` over the reference's vocabulary half."""
    s = pd.Series(docs, dtype=object)
    length = s.str.len().astype(float)
    words = s.str.count(WORD).astype(float)
    letters = s.str.count(r"(?u)[^\W\d_]").astype(float)
    in_vocabulary = np.asarray(vocabulary.transform(docs).sum(axis=1)).ravel().astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        oov = pd.Series(np.where(words > 0, 1 - in_vocabulary / words.to_numpy(), np.nan))
        non_letter = pd.Series(np.where(length > 0, 1 - letters / length, np.nan))
    return {"length": length, "words": words, "oov_share": oov,
            "non_letter_share": non_letter,
            "empty": (s.str.strip() == "").astype(np.int8)}


def vocabulary(docs: np.ndarray) -> Any:
    """A ``CountVectorizer`` holding the words of ``docs`` (lower-cased), or of nothing."""
    from sklearn.feature_extraction.text import CountVectorizer

    counter = CountVectorizer(token_pattern=WORD, lowercase=True)
    try:
        return counter.fit(docs)
    except ValueError:  # no word at all in the vocabulary half: every word is out of it
        return CountVectorizer(token_pattern=WORD, vocabulary=["\0"])


def classifier() -> Any:
    """TF-IDF (sublinear term frequencies, words and word pairs) + logistic regression."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    return make_pipeline(
        TfidfVectorizer(token_pattern=WORD, sublinear_tf=True, max_features=50_000),
        LogisticRegression(C=1.0, class_weight="balanced", max_iter=1000))


def top_words(ref: np.ndarray, cur: np.ndarray, rng: np.random.Generator,
              k: int = TOP_WORDS) -> list[list[Any]]:
    """``[[word, reference share, current share], ...]``: the ``k`` words whose share of
    documents containing them moved most (at most ``WORD_ROWS`` documents per side)."""
    from sklearn.feature_extraction.text import CountVectorizer

    from mlqa.drift.domain import subsample

    ref = ref[subsample(len(ref), WORD_ROWS, rng)]
    cur = cur[subsample(len(cur), WORD_ROWS, rng)]
    counter = CountVectorizer(token_pattern=WORD, lowercase=True, binary=True,
                              max_features=20_000)
    try:
        counts = counter.fit_transform(np.concatenate([ref, cur]))
    except ValueError:  # no words on either side
        return []
    ref_share = np.asarray(counts[:len(ref)].mean(axis=0)).ravel()
    cur_share = np.asarray(counts[len(ref):].mean(axis=0)).ravel()
    order = np.argsort(-np.abs(cur_share - ref_share), kind="stable")[:k]
    names = counter.get_feature_names_out()
    return [[str(names[i]), round(float(ref_share[i]), 6), round(float(cur_share[i]), 6)]
            for i in order]
