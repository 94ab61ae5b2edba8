"""Document-level label consistency for proper names, applied to the NER's output.

A name the NER tags once in an article is usually the same entity every time it recurs there
("one sense per discourse"), but a transformer reads each window apart and misses some
repeats, most in long articles such as a day-long live blog. This component tags the other
occurrences of a name the NER found, with the label the NER gave it most often in the article.

Shipped with `spacy package --code`: keep it importable with spaCy alone (no project modules).
"""

from collections import Counter, defaultdict

from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

DEFAULT_LABELS = ["PER", "ORG", "LOC"]


@Language.factory("fr_news_label_consistency", default_config={"labels": DEFAULT_LABELS, "min_count": 2},
                  requires=["doc.ents"], assigns=["doc.ents"])
def make_label_consistency(nlp: Language, name: str, labels: list[str], min_count: int) -> "LabelConsistency":
    return LabelConsistency(labels, min_count)


class LabelConsistency:
    """Tags the untagged repeats of the names the NER found in the same document.

    Only names (first character upper case: common-noun spans such as POLICY_EVENT's « la
    réforme » may mean two different things in one article), matched case-sensitively on whole
    tokens, and only names the NER tagged at least `min_count` times with one label, more often
    than with any other: a name tagged once may be a one-off error, which this would spread
    (dev, 90 articles: P/O/L F 0.880 with no propagation, 0.881 from one tag, 0.882 from two).
    A repeat that overlaps an entity already there is left alone: the NER's own spans are never
    changed or removed.
    """

    def __init__(self, labels: list[str], min_count: int = 2) -> None:
        self.labels = set(labels)
        self.min_count = min_count

    def __call__(self, doc: Doc) -> Doc:
        labels = self.majority_labels(doc)
        if not labels:
            return doc
        matcher = PhraseMatcher(doc.vocab)
        for ent in doc.ents:  # the pattern is the name's own tokens, as tokenised here
            if ent.text in labels and ent.text not in matcher:
                matcher.add(ent.text, [Doc(doc.vocab, words=[token.text for token in ent])])
        tagged = {i for ent in doc.ents for i in range(ent.start, ent.end)}
        repeats = [Span(doc, start, end, label=labels[doc.vocab.strings[match_id]])
                   for match_id, start, end in matcher(doc)
                   if not tagged.intersection(range(start, end))]
        if repeats:
            doc.ents = [*doc.ents, *filter_spans(repeats)]
        return doc

    def majority_labels(self, doc: Doc) -> dict[str, str]:
        """Name -> the label the NER gave it most often in this document, at least min_count
        times (ties left out)."""
        votes: dict[str, Counter] = defaultdict(Counter)
        for ent in doc.ents:
            if ent.label_ in self.labels and len(ent.text) > 1 and ent.text[0].isupper():
                votes[ent.text][ent.label_] += 1
        majority = {}
        for name, counts in votes.items():
            (label, count), *others = counts.most_common()
            if count >= self.min_count and (not others or others[0][1] < count):
                majority[name] = label
        return majority

