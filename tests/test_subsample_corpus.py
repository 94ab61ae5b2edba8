"""The learning-curve subsample: stable, nested, whole articles."""

import pytest
import spacy

from subsample_corpus import subsample


def _articles(n: int) -> list:
    nlp = spacy.blank("fr")
    docs = []
    for i in range(n):
        doc = nlp(f"Article {i}.")
        doc.user_data["doc_id"] = f"2016_01_{i:02d}-001"
        docs.append(doc)
    return docs


def test_smaller_fractions_are_subsets_and_order_does_not_matter():
    docs = _articles(40)
    ids = {f: [d.user_data["doc_id"] for d in subsample(docs, f)] for f in (0.25, 0.5, 1.0)}
    assert (len(ids[0.25]), len(ids[0.5]), len(ids[1.0])) == (10, 20, 40)
    assert set(ids[0.25]) < set(ids[0.5]) < set(ids[1.0])
    assert [d.user_data["doc_id"] for d in subsample(docs[::-1], 0.5)] == ids[0.5]
    # Not simply the first articles of the corpus, and another seed keeps other articles.
    assert set(ids[0.5]) != {d.user_data["doc_id"] for d in docs[:20]}
    assert {d.user_data["doc_id"] for d in subsample(docs, 0.5, seed=1)} != set(ids[0.5])


@pytest.mark.parametrize("fraction", [0, -0.1, 1.5])
def test_fraction_outside_zero_one_is_refused(fraction):
    with pytest.raises(ValueError, match="fraction"):
        subsample(_articles(3), fraction)
