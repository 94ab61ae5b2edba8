"""Boundary rules of the shipped pipeline: the MONEY grammar, MoneyBoundaries and EntityBoundaries."""

import pytest
import spacy
from spacy.tokens import Doc, Span

from boundary_rules import EntityBoundaries
from money_normalizer import MoneyBoundaries, find_money

NLP = spacy.blank("fr")


def money_texts(text: str) -> list[str]:
    return [text[start:end] for start, end in find_money(text)]


@pytest.mark.parametrize(("text", "expected"), [
    # ANNOTATION.md's MONEY table.
    ("plus de 50 milliards de dollars", ["50 milliards de dollars"]),
    ("pas moins de 380 milliards de yuans (52,5 milliards de dollars)",
     ["380 milliards de yuans", "52,5 milliards de dollars"]),
    ("10 € / 340 000 € / 2500 $", ["10 €", "340 000 €", "2500 $"]),
    ("1,2 million d'euros et un milliard de dollars", ["1,2 million d'euros", "un milliard de dollars"]),
    ("3 000 francs CFA", ["3 000 francs CFA"]),
    ("estimé entre 20 et 30 millions de dollars", ["20 et 30 millions de dollars"]),
    ("de 2 à 3 millions d'euros", ["2 à 3 millions d'euros"]),
    ("1 milliard de dollars américains", ["1 milliard de dollars américains"]),
    ("600 millions $ ou 200 000 $ le pied", ["600 millions $", "200 000 $"]),
    ("une dette de 16 millions de francs suisses", ["16 millions de francs suisses"]),
    ("il a reçu 125 000 $US de la Norvège", ["125 000 $US"]),
    ("plus d'un demi-milliard d'euros", ["un demi-milliard d'euros"]),
    ("vendu 50 centimes", ["50 centimes"]),
    ("estimé à 120 M€.", ["120 M€"]),
    ("estimées respectivement à 15 000 et 12 000 euros", ["15 000 et 12 000 euros"]),
    # "et" without "entre"/"respectivement" joins two things, not a range.
    ("une arme de calibre 7,65 et 104 000 euros en liquide", ["104 000 euros"]),
    ("16 000 euros en août 2002 et 29 000 euros en 2013", ["16 000 euros", "29 000 euros"]),
    # Out: no currency, no number, percentages, "un livre", "une couronne".
    ("380 milliards, 8 %, des dizaines de milliards d'euros", []),
    ("il a publié un livre et remporté une couronne olympique", []),
])
def test_money_grammar(text: str, expected: list[str]):
    assert money_texts(text) == expected


def doc_with(text: str, entities: list[tuple[str, str]]) -> Doc:
    doc = NLP.make_doc(text)
    doc.ents = [doc.char_span(text.index(part), text.index(part) + len(part), label=label)
                for part, label in entities]
    return doc


def entities(doc: Doc) -> list[tuple[str, str]]:
    return [(ent.text, ent.label_) for ent in doc.ents]


def test_money_boundaries_extend_a_short_amount_and_add_a_missed_one():
    text = "Une dette de 16 millions de francs suisses et une amende de 300 euros pour la BCE."
    doc = doc_with(text, [("16 millions de francs", "MONEY"), ("BCE", "ORG")])
    assert entities(MoneyBoundaries()(doc)) == [
        ("16 millions de francs suisses", "MONEY"), ("300 euros", "MONEY"), ("BCE", "ORG")]


def test_money_boundaries_cut_a_policy_event_before_its_amount():
    text = "Le plan de relance de 750 milliards d'euros a été voté."
    doc = doc_with(text, [("plan de relance de 750 milliards d'euros", "POLICY_EVENT")])
    doc = EntityBoundaries(["POLICY_EVENT"])(MoneyBoundaries()(doc))
    assert entities(doc) == [("plan de relance", "POLICY_EVENT"), ("750 milliards d'euros", "MONEY")]


def test_money_boundaries_leave_other_labels_and_unknown_amounts():
    text = "Le Fonds 100 millions de dollars a versé 12 zorkmids."
    doc = doc_with(text, [("Fonds 100 millions de dollars", "ORG"), ("12 zorkmids", "MONEY")])
    assert entities(MoneyBoundaries()(doc)) == [("Fonds 100 millions de dollars", "ORG"), ("12 zorkmids", "MONEY")]
    doc = doc_with(text, [("12 zorkmids", "MONEY")])
    assert entities(MoneyBoundaries(keep_unmatched=False)(doc)) == [("100 millions de dollars", "MONEY")]


@pytest.mark.parametrize(("text", "predicted", "expected"), [
    ("Le cessez-le-feu qui a permis l'évacuation.", "cessez-le-feu qui", "cessez-le-feu"),
    ("une mesure de circulation alternée a été mise en place", "mesure de circulation alternée a été",
     "mesure de circulation alternée"),
    ("Japon : les élections\n\n22 octobre 2017 . – Le parti", "élections\n\n22 octobre 2017", "élections"),
    ("un accord de paix avec les rebelles. Ces infractions, qui", "accord de paix avec les rebelles. Ces",
     "accord de paix avec les rebelles"),
    ("la loi Travail a été votée", "loi Travail", "loi Travail"),
    ("signature d'un nouveau décret sur l'immigration", "nouveau décret sur l'immigration",
     "décret sur l'immigration"),
    ("le premier tour de la primaire", "le premier tour de la primaire", "premier tour de la primaire"),
    ("une loi réduisant la prescription", "loi réduisant la prescription", "loi"),
    ("la réforme constitutionnelle permettant à Pierre", "réforme constitutionnelle permettant à Pierre",
     "réforme constitutionnelle"),
    ("le plan important de relance", "plan important de relance", "plan important de relance"),
    # A conjugated auxiliary starts a clause.
    ("sur la liste noire sont les Bahamas", "liste noire sont les Bahamas", "liste noire"),
    # A date right after the entity identifies it and joins it; "en 2006" does not (the layers split on it).
    ("dans le projet de loi de finances 2019, ce", "projet de loi de finances", "projet de loi de finances 2019"),
    ("lors de la réunion du Conseil européen des 22 et 23 mars 2018 , les", "réunion du Conseil européen",
     "réunion du Conseil européen des 22 et 23 mars 2018"),
    ("la déclaration d'indépendance du 10 octobre 2017.", "déclaration d'indépendance",
     "déclaration d'indépendance du 10 octobre 2017"),
    ("l'accord de cessez-le-feu de mercredi.", "accord de cessez-le-feu", "accord de cessez-le-feu de mercredi"),
    ("les élections législatives de juin 2017 ont", "élections législatives", "élections législatives de juin 2017"),
    ("un accord de paix en 2006 a", "accord de paix", "accord de paix"),
    ("la loi de 2016 votée", "loi de 2016", "loi de 2016"),
    ("le budget 20190 est", "budget", "budget"),
])
def test_entity_boundaries_trim_policy_events(text: str, predicted: str, expected: str):
    doc = doc_with(text, [(predicted, "POLICY_EVENT")])
    assert entities(EntityBoundaries(["POLICY_EVENT"])(doc)) == [(expected, "POLICY_EVENT")]


def test_entity_boundaries_drop_an_empty_entity_and_keep_other_labels_and_links():
    text = "Il a vu de la BCE et qui."
    doc = NLP.make_doc(text)
    bce = doc.char_span(text.index("BCE"), text.index("BCE") + 3, label="ORG", kb_id="Q8901")
    qui = doc.char_span(text.index("qui"), text.index("qui") + 3, label="POLICY_EVENT")
    doc.ents = [bce, qui]
    doc = EntityBoundaries(["POLICY_EVENT"])(doc)
    assert [(e.text, e.label_, e.kb_id_) for e in doc.ents] == [("BCE", "ORG", "Q8901")]
    assert isinstance(doc.ents[0], Span)


def test_entity_boundaries_leave_a_date_that_another_entity_starts_in():
    text = "le sommet de 2018 Paris"
    doc = NLP.make_doc(text)
    doc.ents = [doc.char_span(3, 9, label="POLICY_EVENT"), doc.char_span(13, 17, label="LOC")]
    assert entities(EntityBoundaries(["POLICY_EVENT"])(doc)) == [("sommet", "POLICY_EVENT"), ("2018", "LOC")]


def test_components_load_by_name():
    nlp = spacy.blank("fr")
    nlp.add_pipe("ner")
    nlp.add_pipe("money_boundaries", after="ner")
    nlp.add_pipe("fr_news_entity_boundaries", after="money_boundaries")
    assert nlp.pipe_names == ["ner", "money_boundaries", "fr_news_entity_boundaries"]
