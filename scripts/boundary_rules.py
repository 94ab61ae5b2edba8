"""Entity boundary rules from ANNOTATION.md, applied to the NER's output in the shipped pipeline.

Shipped with `spacy package --code`: keep it importable with spaCy alone (no project modules).
"""

from spacy.language import Language
from spacy.tokens import Doc, Span

# Words and marks that cannot end an entity under ANNOTATION.md's boundary rules: a span never
# ends on punctuation, a preposition, a determiner, a relative pronoun or an auxiliary. The NER
# sometimes runs past the end of a long POLICY_EVENT ("cessez-le-feu qui", "alternée a été").
TRAILING_NON_ENTITY = frozenset(
    "de du des d' d’ à au aux le la les l' l’ un une et ou qui que qu' qu’ dont a ont est sont été "
    "sera par pour sur en avec dans , . ; : « » ( ) - – —".split()
)
SENTENCE_END = frozenset(". ! ? ;".split())


@Language.factory("fr_news_entity_boundaries", default_config={"labels": ["POLICY_EVENT"]}, requires=["doc.ents"],
                  assigns=["doc.ents"])
def make_entity_boundaries(nlp: Language, name: str, labels: list[str]) -> "EntityBoundaries":
    return EntityBoundaries(labels)


class EntityBoundaries:
    """Trims predicted entities of the given labels to ANNOTATION.md's boundaries.

    An entity that crosses a sentence end, a line break or a run of spaces (a WiNER title followed
    by its date) keeps the part before it; trailing function words and punctuation are dropped.
    An entity left empty is removed.
    """

    def __init__(self, labels: list[str]) -> None:
        self.labels = set(labels)

    def __call__(self, doc: Doc) -> Doc:
        entities = []
        for ent in doc.ents:
            trimmed = self.trim(ent) if ent.label_ in self.labels else ent
            if trimmed is not None:
                entities.append(trimmed)
        doc.ents = entities
        return doc

    @staticmethod
    def trim(ent: Span) -> Span | None:
        doc, end = ent.doc, ent.end
        for i in range(ent.start, ent.end - 1):
            if doc[i].text in SENTENCE_END or doc[i + 1].is_space or "\n" in doc[i].whitespace_ + doc[i + 1].text:
                end = i + 1
                break
        while end > ent.start and doc[end - 1].lower_ in TRAILING_NON_ENTITY:
            end -= 1
        if end == ent.start:
            return None
        return ent if end == ent.end else Span(doc, ent.start, end, label=ent.label_, kb_id=ent.kb_id_)
