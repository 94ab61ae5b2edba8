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

Shipped inside the packaged pipeline with `spacy package --code`: spaCy and numpy only.
"""

import math

import numpy
from spacy.language import Language
from spacy.tokens import Doc, Span

NIL = "NIL"
FEATURES = ("raw", "similarity", "prior")

if not Span.has_extension("kb_score"):
    Span.set_extension("kb_score", default=None)
if not Span.has_extension("kb_raw_score"):
    Span.set_extension("kb_raw_score", default=None)
if not Span.has_extension("kb_features"):
    Span.set_extension("kb_features", default=None)


@Language.factory(
    "fr_news_link_scorer",
    default_config={"linker": "entity_linker", "weights": {"raw": 1.0, "similarity": 0.0, "prior": 0.0},
                    "intercept": 0.0, "threshold": 0.0},
)
def make_link_scorer(nlp: Language, name: str, linker: str, weights: dict[str, float], intercept: float,
                     threshold: float) -> "LinkScorer":
    return LinkScorer(nlp, linker, weights, intercept, threshold)


class LinkScorer:
    def __init__(self, nlp: Language, linker: str, weights: dict[str, float], intercept: float, threshold: float):
        unknown = set(weights) - set(FEATURES)
        if unknown:
            raise ValueError(f"fr_news_link_scorer: unknown feature weights {sorted(unknown)}; known: {FEATURES}")
        self.nlp = nlp
        self.linker_name = linker
        self.weights = {name: float(weights.get(name, 0.0)) for name in FEATURES}
        self.intercept = intercept
        self.threshold = threshold

    def probability(self, features: dict[str, float]) -> float:
        logit = self.intercept + sum(self.weights[name] * features[name] for name in FEATURES)
        return 1.0 / (1.0 + math.exp(-max(min(logit, 500.0), -500.0)))

    def __call__(self, doc: Doc) -> Doc:
        linker = self.nlp.get_pipe(self.linker_name)
        entities = list(doc.ents)
        if not any(ent.label_ not in linker.labels_discard for ent in entities):
            return doc
        # The linker's encoder gives one context vector per entity (its sentence), as in
        # EntityLinker.predict.
        encodings = linker.model.ops.to_numpy(linker.model.predict([doc]))
        for ent, encoding in zip(entities, encodings, strict=True):
            if ent.label_ not in linker.labels_discard:
                self._score(ent, linker, encoding)
        return doc

    def _score(self, ent: Span, linker, sentence_vector: numpy.ndarray) -> None:
        candidates = list(linker.get_candidates(linker.kb, ent))
        if not candidates:
            _set_kb_id(ent, NIL)
            return
        priors = numpy.array([c.prior_prob for c in candidates]) if linker.incl_prior else numpy.zeros(len(candidates))
        vectors = numpy.array([c.entity_vector for c in candidates])
        norms = numpy.linalg.norm(vectors, axis=1) * (numpy.linalg.norm(sentence_vector) or 1.0)
        sims = vectors @ sentence_vector / numpy.where(norms == 0, 1.0, norms)
        scores = priors + sims - priors * sims
        best = int(scores.argmax())
        features = {"raw": float(scores[best]), "similarity": float(sims[best]), "prior": float(priors[best])}
        ent._.kb_raw_score = features["raw"]
        ent._.kb_features = features
        ent._.kb_score = self.probability(features)
        _set_kb_id(ent, candidates[best].entity_ if ent._.kb_score >= self.threshold else NIL)


def _set_kb_id(ent: Span, kb_id: str) -> None:
    for token in ent:
        token.ent_kb_id_ = kb_id
