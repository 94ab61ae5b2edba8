"""Document-level label consistency: the repeats of a name the NER found get its label."""

import spacy
from spacy.tokens import Doc

from label_consistency import LabelConsistency

NLP = spacy.blank("fr")


def tagged(text: str, spans: list[tuple[str, str, int]]) -> Doc:
    """A doc with the entities (surface, label, occurrence number) set, as the NER would."""
    doc = NLP.make_doc(text)
    entities = []
    for surface, label, nth in spans:
        start = -1
        for _ in range(nth + 1):
            start = text.index(surface, start + 1)
        entities.append(doc.char_span(start, start + len(surface), label=label))
    doc.ents = entities
    return doc


def entities(doc: Doc) -> list[tuple[str, str, int]]:
    return [(e.text, e.label_, e.start_char) for e in doc.ents]


def test_repeats_of_a_found_name_get_its_label():
    doc = tagged("Les Gilets jaunes ont bloqué Brest. 500 Gilets jaunes à Paris, dit Macron.",
                 [("Gilets jaunes", "ORG", 0), ("Brest", "LOC", 0), ("Paris", "LOC", 0), ("Macron", "PER", 0)])
    out = entities(LabelConsistency(["PER", "ORG", "LOC"], min_count=1)(doc))
    assert ("Gilets jaunes", "ORG", 40) in out and len(out) == 5


def test_common_nouns_other_labels_and_case_variants_are_left_alone():
    text = "La réforme des retraites passe. Les gilets jaunes refusent la réforme. Gilets jaunes : acte IV."
    doc = tagged(text, [("réforme", "POLICY_EVENT", 0), ("gilets jaunes", "ORG", 0)])
    # Lower-case spans are not names; POLICY_EVENT is not a propagated label.
    assert entities(LabelConsistency(["PER", "ORG", "LOC", "POLICY_EVENT"], min_count=1)(doc)) == entities(doc)
    doc = tagged("Orange a publié. Orange est une ville.", [("Orange", "ORG", 0)])
    assert entities(LabelConsistency(["PER", "LOC"], min_count=1)(doc)) == [("Orange", "ORG", 0)]


def test_majority_label_wins_and_ties_and_overlaps_are_left_alone():
    text = "Jordan joue. Jordan marque. Jordan bat la Jordan. Orange et Orange. Orange."
    doc = tagged(text, [("Jordan", "PER", 0), ("Jordan", "PER", 1), ("Jordan", "LOC", 3),
                        ("Orange", "ORG", 0), ("Orange", "LOC", 1)])
    out = entities(LabelConsistency(["PER", "ORG", "LOC"], min_count=1)(doc))
    assert ("Jordan", "PER", text.index("Jordan bat")) in out  # 2 PER against 1 LOC
    assert ("Jordan", "LOC", text.rindex("Jordan")) in out  # the NER's own span is kept as it is
    assert ("Orange", "ORG", text.rindex("Orange")) not in out and len(out) == 6  # a tie: no repeat tagged


def test_a_repeat_inside_a_longer_entity_is_not_split_out():
    text = "Québec a voté. La Coalition avenir Québec gagne à Québec."
    doc = tagged(text, [("Québec", "LOC", 0), ("Coalition avenir Québec", "ORG", 0)])
    out = entities(LabelConsistency(["PER", "ORG", "LOC"], min_count=1)(doc))
    last = text.rindex("Québec")
    assert out == [("Québec", "LOC", 0), ("Coalition avenir Québec", "ORG", 18), ("Québec", "LOC", last)]


def test_a_name_tagged_fewer_than_min_count_times_is_not_spread():
    text = "SoHO observe. SoHO tourne. Macron parle. Macron part. Macron revient."
    doc = tagged(text, [("SoHO", "LOC", 0), ("Macron", "PER", 0), ("Macron", "PER", 1)])
    out = entities(LabelConsistency(["PER", "ORG", "LOC"], min_count=2)(doc))
    assert out == [("SoHO", "LOC", 0), ("Macron", "PER", text.index("Macron")),
                   ("Macron", "PER", text.index("Macron part")), ("Macron", "PER", text.rindex("Macron"))]


def test_in_a_pipeline_after_the_ner():
    nlp = spacy.blank("fr")
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns([{"label": "ORG", "pattern": [{"ORTH": "Alibaba"}, {"ORTH": "Cloud"}]}])
    nlp.add_pipe("fr_news_label_consistency")
    doc = nlp("Alibaba Cloud investit.")
    assert entities(doc) == [("Alibaba Cloud", "ORG", 0)]
    component = nlp.get_pipe("fr_news_label_consistency")
    assert component.labels == {"PER", "ORG", "LOC"} and component.min_count == 2
