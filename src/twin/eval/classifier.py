"""Authorship classifier: does a text read like the owner or like the people they talk to?

Character n-grams (within word boundaries, 1–5) catch spelling, casing, punctuation and emoji habits;
word 1–2-grams catch favourite phrases. TF-IDF over both, logistic regression with balanced classes
(there are usually fewer owner messages than others'). Measured on held-out conversations."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from twin.errors import InvalidInput, MissingDependency

MIN_PER_CLASS = 10


@dataclass
class Scores:
    accuracy: float
    balanced_accuracy: float
    n_train: int
    n_test: int
    owner_share_train: float


class AuthorshipClassifier:
    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self._pipe: Any = None

    def _pipeline(self) -> Any:
        try:
            from sklearn.feature_extraction.text import TfidfVectorizer
            from sklearn.linear_model import LogisticRegression
            from sklearn.pipeline import FeatureUnion, make_pipeline
        except ImportError:
            raise MissingDependency.for_extra("The style evaluation", "train", "scikit-learn") from None
        features = FeatureUnion(
            [
                (
                    "chars",
                    TfidfVectorizer(
                        analyzer="char_wb", ngram_range=(1, 5), sublinear_tf=True, min_df=2, lowercase=False
                    ),
                ),
                (
                    "words",
                    TfidfVectorizer(
                        analyzer="word",
                        ngram_range=(1, 2),
                        sublinear_tf=True,
                        min_df=2,
                        token_pattern=r"(?u)\b\w+\b|[^\w\s]",
                    ),
                ),
            ]
        )
        model = LogisticRegression(max_iter=2000, class_weight="balanced", C=4.0, random_state=self.seed)
        return make_pipeline(features, model)

    def fit(self, texts: Sequence[str], is_owner: Sequence[bool]) -> AuthorshipClassifier:
        owners = sum(is_owner)
        if owners < MIN_PER_CLASS or len(is_owner) - owners < MIN_PER_CLASS:
            raise InvalidInput(
                f"Too few messages to learn your style from ({owners} yours, {len(is_owner) - owners} others').",
                f"The evaluation needs at least {MIN_PER_CLASS} of each outside the validation conversations: "
                "import more conversations (twin ingest) and rebuild the dataset.",
            )
        self._pipe = self._pipeline().fit(list(texts), [int(x) for x in is_owner])
        return self

    def owner_probability(self, texts: Sequence[str]) -> list[float]:
        if self._pipe is None:
            raise RuntimeError("fit() first")
        if not texts:
            return []
        return [float(p) for p in self._pipe.predict_proba(list(texts))[:, 1]]

    def score(self, texts: Sequence[str], is_owner: Sequence[bool], n_train: int, owner_share: float) -> Scores:
        probs = self.owner_probability(texts)
        hits = [(p > 0.5) == y for p, y in zip(probs, is_owner, strict=True)]
        per_class = [
            sum(h for h, y in zip(hits, is_owner, strict=True) if y == cls)
            / max(1, sum(1 for y in is_owner if y == cls))
            for cls in (True, False)
        ]
        return Scores(
            accuracy=round(sum(hits) / max(1, len(hits)), 4),
            balanced_accuracy=round(sum(per_class) / 2, 4),
            n_train=n_train,
            n_test=len(hits),
            owner_share_train=round(owner_share, 4),
        )
