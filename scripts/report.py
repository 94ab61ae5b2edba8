"""Write the evaluation report: reports/evaluation.md, a self-contained evaluation.html,
plots, and reports/metrics.json (the machine-readable twin).

Reads what `evaluate` measured (metrics JSON + predicted Docs) and the training log; runs the
pipeline only on the seed article, for its rendering.
"""

import base64
import html
import json
from pathlib import Path

import matplotlib.pyplot as plt
import spacy
import typer
from spacy import displacy
from spacy.tokens import Doc, DocBin

from corpus_rules import WINER_LABELS

COLORS = {"PER": "#aa9cfc", "ORG": "#7aecec", "LOC": "#feca74", "MONEY": "#e4e7d2", "POLICY_EVENT": "#ffb3ba"}
WORST_ARTICLES = 3


def folder_size_mb(path: Path) -> float:
    return round(sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6, 1)


def twin_metrics(metrics: dict) -> dict:
    """The documented schema of reports/metrics.json, scores as fractions."""
    def pick(block: dict) -> dict:
        return {label: {k: s[k] for k in ("p", "r", "f")} for label, s in block.items()}

    linking = metrics.get("linking", {})
    return {
        "ner": pick(metrics["ner"]["all"]),
        "baseline_fr_core_news_md": pick(metrics["baseline_fr_core_news_md"]["all"]),
        "linking": {k: linking.get(k) for k in ("accuracy", "prior_baseline", "random_baseline", "oracle")},
        "speed": {k: metrics["speed"].get(k) for k in ("words_per_second", "baseline_words_per_second")},
    }


def score_table(block: dict, ci: dict | None = None) -> list[str]:
    rows = ["| label | P | R | F | 95% CI of F | gold spans |", "|---|---|---|---|---|---|"]
    for label, s in block.items():
        interval = f"{ci[label][0]:.3f}–{ci[label][1]:.3f}" if ci else ""
        rows.append(f"| {label} | {s['p']:.3f} | {s['r']:.3f} | {s['f']:.3f} | {interval} | {s['support']} |")
    return rows


def comparison_table(metrics: dict, cnn: dict | None) -> list[str]:
    columns = [("this pipeline", metrics["ner_per_org_loc"]),
               ("fr_core_news_md as shipped", metrics["baseline_fr_core_news_md"])]
    if cnn:
        columns.insert(1, ("CNN config (same WiNER PER/ORG/LOC spans; metrics/cnn_cpu.json)", cnn["ner_per_org_loc"]))
    rows = ["| subset | label | " + " | ".join(name for name, _ in columns) + " |",
            "|---|---|" + "---|" * len(columns)]
    for subset in ("all", "without_live_blog", "live_blog"):
        for label in (*WINER_LABELS, "overall"):
            cells = " | ".join(f"{block[subset][label]['f']:.3f}" for _, block in columns)
            rows.append(f"| {subset} | {label} | {cells} |")
    return rows


def error_table(errors: dict) -> list[str]:
    kinds = ["correct", "boundary_error", "type_error", "boundary_and_type_error", "missed", "spurious"]
    rows = ["| label | " + " | ".join(kinds) + " | type errors as |", "|---|" + "---|" * (len(kinds) + 1)]
    for label, row in errors.items():
        confused = ", ".join(f"{k.removeprefix('type_error_as_')} {v}" for k, v in row.items()
                             if k.startswith("type_error_as_"))
        rows.append(f"| {label} | " + " | ".join(str(row.get(k, 0)) for k in kinds) + f" | {confused} |")
    return rows


def novelty_lines(novelty: dict | None) -> list[str]:
    """Recall on gold mentions whose text the training articles hold with the same label, and on new ones."""
    if not novelty:
        return []
    rows = ["## New names and events versus those seen in training", "",
            "Recall of gold mentions whose text (lowercased) occurs with the same label in the training "
            "articles, and of the others. The share of new mentions shows how far the test articles are from the "
            "training articles (here 2018 news against 2016-2017).", "",
            "| label | gold mentions | new (unseen) | recall, seen | recall, new |", "|---|---|---|---|---|"]
    for label, kinds in novelty.items():
        total = kinds["seen"]["support"] + kinds["unseen"]["support"]
        share = kinds["unseen"]["support"] / total if total else 0.0
        rows.append(f"| {label} | {total} | {kinds['unseen']['support']} ({share:.0%}) | "
                    f"{kinds['seen']['r']:.3f} | {kinds['unseen']['r']:.3f} |")
    return rows + [""]


def f_bars(metrics: dict, path: Path) -> None:
    labels = list(metrics["ner"]["all"])
    values = [metrics["ner"]["all"][label]["f"] for label in labels]
    ci = metrics["ner"]["all_ci95"]
    errors = [[v - ci[label][0] for label, v in zip(labels, values, strict=True)],
              [ci[label][1] - v for label, v in zip(labels, values, strict=True)]]
    fig, ax = plt.subplots(figsize=(7, 3.2))
    ax.bar(labels, values, yerr=errors, capsize=4, color=[COLORS.get(label, "#cccccc") for label in labels])
    ax.set_ylim(0, 1)
    ax.set_ylabel("F (2018 test)")
    ax.set_title("F per label, 95% bootstrap interval over articles")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def read_training_log(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def learning_curve(log: list[dict], path: Path) -> bool:
    if not log:
        return False
    steps = [entry["step"] for entry in log]
    fig, ax = plt.subplots(figsize=(7, 3.2))
    ax.plot(steps, [entry["score"] for entry in log], marker="o", label="dev F (all labels)")
    ax.set_xlabel("training step")
    ax.set_ylabel("dev F")
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def render(doc: Doc, title: str) -> str:
    return displacy.render(doc, style="ent", page=False, options={"colors": COLORS}).replace(
        "<div class=\"entities\"", f"<h4>{html.escape(title)}</h4><div class=\"entities\"", 1)


def bracketed(doc: Doc, limit: int = 900) -> str:
    """A plain-text rendering for Markdown: [span]{LABEL}."""
    out, last = [], 0
    for ent in doc.ents:
        if ent.start_char >= limit:
            break
        out += [doc.text[last:ent.start_char], f"**[{ent.text}]**`{ent.label_}`"]
        last = ent.end_char
    out.append(doc.text[last:limit])
    return "".join(out).replace("\n", " ") + (" …" if len(doc.text) > limit else "")


def main(
    metrics_path: Path = typer.Argument(..., exists=True),
    predictions_path: Path = typer.Argument(..., exists=True),
    model: Path = typer.Argument(..., exists=True),
    seed: Path = typer.Argument(..., exists=True, help="Seed article in the project's JSONL format"),
    output_dir: Path = typer.Argument(Path("reports")),
    cnn_metrics: Path = typer.Option(None, help="Metrics of the CNN config, for the comparison"),
    linking_metrics: Path = typer.Option(None, help="Output of evaluate_linking.py"),
    training_log: Path = typer.Option(None, help="JSONL log of the training run (step, score, ...)"),
    code: list[Path] = typer.Option([], help="Custom code to import first"),
) -> None:
    """Write evaluation.md, evaluation.html, metrics.json and plots."""
    for path in code:
        spacy.util.import_file(path.stem, path)
    metrics = json.loads(metrics_path.read_text(encoding="utf-8"))
    if linking_metrics and linking_metrics.exists():
        metrics["linking"] = json.loads(linking_metrics.read_text(encoding="utf-8"))
    cnn = json.loads(cnn_metrics.read_text(encoding="utf-8")) if cnn_metrics and cnn_metrics.exists() else None
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / "metrics.json").write_text(json.dumps(twin_metrics(metrics), indent=2), encoding="utf-8")
    f_bars(metrics, output_dir / "f_per_label.png")
    log = read_training_log(training_log) if training_log else []
    has_curve = learning_curve(log, output_dir / "learning_curve.png")
    nlp = spacy.load(model)
    seed_record = json.loads(seed.read_text(encoding="utf-8").splitlines()[0])
    seed_doc = nlp(seed_record["text"])
    predicted = list(DocBin().from_disk(predictions_path).get_docs(nlp.vocab))
    by_id = {doc.user_data.get("doc_id"): doc for doc in predicted}
    worst = sorted((a for a in metrics["per_article"] if a["support"] >= 5), key=lambda a: a["f"])[:WORST_ARTICLES]
    sections = build_markdown(metrics, cnn, model, nlp.pipe_names, seed_doc, worst, by_id, has_curve)
    (output_dir / "evaluation.md").write_text("\n".join(sections) + "\n", encoding="utf-8")
    write_html(output_dir, sections, seed_doc, [(a, by_id[a["doc_id"]]) for a in worst])
    typer.echo(f"Wrote {output_dir}/evaluation.md, evaluation.html, metrics.json")


def speed_table(metrics: dict) -> list[str]:
    def f(block: dict, key: str) -> str:
        return f"{block[key]['overall']['f']:.3f}" if key in block else "—"

    speed = metrics["speed"]
    shipped = {"ner": metrics["ner"]["all"], "ner_per_org_loc": metrics["ner_per_org_loc"]["all"]}
    rows = [("this pipeline, as shipped", speed["words_per_second"], shipped)]
    if "float32" in metrics:
        rows.append(("the same, encoder in float32 (`fr_news_cpu_bf16` disabled)",
                     metrics["float32"]["words_per_second"], metrics["float32"]))
    if "baseline_fr_core_news_md" in metrics:
        rows.append(("fr_core_news_md", speed.get("baseline_words_per_second", 0),
                     {"ner_per_org_loc": metrics["baseline_fr_core_news_md"]["all"]}))
    return ["| pipeline | words per second | F PER/ORG/LOC | F all labels |", "|---|---|---|---|",
            *(f"| {name} | {wps:,} | {f(block, 'ner_per_org_loc')} | {f(block, 'ner')} |" for name, wps, block in rows)]


def rules_lines(metrics: dict) -> list[str]:
    """F of the NER alone, then after each rule component in turn, all measured in the evaluation run."""
    steps = metrics.get("rules_ablation")
    if not steps:
        return []
    labels = [label for label in metrics["ner"]["all"] if label in steps["ner"]["all"]]
    lines = ["What each rule after the NER changes (F, same run; each row adds one component to the row above):", "",
             "| step | subset | " + " | ".join(labels) + " | PER/ORG/LOC |", "|---|---|" + "---|" * (len(labels) + 1)]
    for step, block in steps.items():
        name = "NER alone" if step == "ner" else f"+ `{step[1:]}`"
        for subset in ("all", "without_live_blog", "live_blog"):
            cells = " | ".join(f"{block[subset][label]['f']:.3f}" for label in labels)
            lines.append(f"| {name} | {subset.replace('_', ' ')} | {cells} | {block['per_org_loc'][subset]['f']:.3f} |")
    return [*lines, ""]


def build_markdown(metrics, cnn, model, pipe_names, seed_doc, worst, by_id, has_curve) -> list[str]:
    speed = metrics["speed"]
    lines = ["# Evaluation report", "",
             f"Pipeline `{model}` on the {metrics['test_articles']} held-out 2018 Wikinews articles "
             f"({metrics['test_words']:,} words), exact-match spans (character offsets). "
             f"{metrics['live_blog_articles']} of them are the daily December 2018 \"Gilets jaunes\" live-blog "
             "posts, reported separately below.", "",
             f"Components, in order: {', '.join(f'`{name}`' for name in pipe_names)}.", "",
             "## Scores per label (all test articles)", "",
             *score_table(metrics["ner"]["all"], metrics["ner"]["all_ci95"]), "",
             *rules_lines(metrics),
             "![F per label](f_per_label.png)", "",
             "## Live-blog posts and the other test articles", "",
             "Without the live-blog posts:", "", *score_table(metrics["ner"]["without_live_blog"]), "",
             "Live-blog posts only:", "", *score_table(metrics["ner"]["live_blog"]), "",
             "## Errors: boundary versus type", "",
             "Per gold label: exact matches, boundary errors (overlapping prediction, same label), type errors "
             "(same span, other label), both, missed; spurious = predictions overlapping no gold span.", "",
             *error_table(metrics["errors"]), "",
             *novelty_lines(metrics.get("recall_by_novelty")),
             "## Comparison on PER / ORG / LOC (F, same articles, same scorer, MISC dropped)", "",
             *comparison_table(metrics, cnn), "",
             "## Entity linking", ""]
    lines += linking_section(metrics.get("linking"))
    lines += ["", "## Speed and size", ""] + speed_table(metrics) + [
              "", f"Measured side by side in one run over the test articles with `nlp.pipe(batch_size="
              f"{speed['batch_size']})` on {speed['machine']}; the shipped pipeline includes NER, linking and "
              "money normalisation, and runs its encoder in bfloat16 on CPUs with native bfloat16 (AMX or "
              f"AVX-512 BF16). Model size on disk: {folder_size_mb(model)} MB.", ""]
    if has_curve:
        lines += ["## Learning curve", "", "![learning curve](learning_curve.png)", ""]
    lines += ["## The seed article (never trained on)", "", bracketed(seed_doc), "",
              "## Worst-scored test articles (at least 5 gold spans)", ""]
    for article in worst:
        lines += [f"### {article['doc_id']} (F {article['f']:.3f})", "", bracketed(by_id[article["doc_id"]]), ""]
    lines += ["displaCy renderings of these articles are in `evaluation.html`."]
    return lines


def ambiguity_lines(ambiguous: dict | None) -> list[str]:
    if not ambiguous:
        return []
    if not ambiguous["mentions"]:
        return ["None of these mentions has two or more candidates in the knowledge base, so on this test set "
                "the linker cannot show that its context model beats the prior.", ""]
    return [f"On the {ambiguous['mentions']} of them with two or more candidates (one right): linker "
            f"{ambiguous['accuracy']:.3f}, highest prior {ambiguous['prior_baseline']:.3f} (expected accuracy: "
            "candidates tied at the highest prior, as for a surname never seen in train, chosen at random).", ""]


def linking_section(linking: dict | None) -> list[str]:
    if not linking:
        return ["Not measured in this run: the pipeline has no entity linker."]
    e2e, nil = linking["end_to_end"], linking["nil"]
    return [f"On the {linking['mentions_with_qid']} gold PER/ORG test mentions that have a QID (gold entities "
            "given to the linker; same mentions for every column):", "",
            "| linker | highest prior (ties at random) | random candidate | oracle (a correct candidate exists) |",
            "|---|---|---|---|",
            f"| {linking['accuracy']:.3f} | {linking['prior_baseline']:.3f} | {linking['random_baseline']:.3f} | "
            f"{linking['oracle']:.3f} |", "", *ambiguity_lines(linking.get("ambiguous")),
            f"NIL decisions over all {linking['gold_mentions']} gold PER/ORG mentions: precision {nil['p']:.3f}, "
            f"recall {nil['r']:.3f}. End to end (predicted entities, then links; exact span and QID): "
            f"P {e2e['p']:.3f}, R {e2e['r']:.3f}, F {e2e['f']:.3f}."]


def write_html(output_dir: Path, sections: list[str], seed_doc: Doc, worst: list[tuple[dict, Doc]]) -> None:
    """Self-contained: the Markdown tables as preformatted text, images inlined, displaCy markup."""
    body = []
    for line in sections:
        if line.startswith("!["):
            name = line.split("(")[1].rstrip(")")
            data = base64.b64encode((output_dir / name).read_bytes()).decode()
            body.append(f'<img src="data:image/png;base64,{data}" alt="{name}">')
        elif line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            body.append(f"<h{level}>{html.escape(line.lstrip('# '))}</h{level}>")
        elif line.startswith("|"):
            body.append(_table_row(line))
        elif line:
            body.append(f"<p>{html.escape(line)}</p>")
    body.append("<h2>displaCy renderings</h2>")
    body.append(render(seed_doc, "Seed article"))
    body += [render(doc, f"{article['doc_id']} (F {article['f']:.3f})") for article, doc in worst]
    page = ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Evaluation report</title>"
            "<style>body{font-family:sans-serif;max-width:1100px;margin:auto}table{border-collapse:collapse}"
            "td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}</style></head><body>"
            + _wrap_tables("\n".join(body)) + "</body></html>")
    (output_dir / "evaluation.html").write_text(page, encoding="utf-8")


def _table_row(line: str) -> str:
    cells = [c.strip() for c in line.strip("|").split("|")]
    if all(set(c) <= {"-"} for c in cells):
        return ""
    return "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>"


def _wrap_tables(markup: str) -> str:
    out, in_table = [], False
    for line in markup.split("\n"):
        is_row = line.startswith("<tr>")
        if is_row and not in_table:
            out.append("<table>")
        if not is_row and in_table and line != "":
            out.append("</table>")
        in_table = is_row or (in_table and line == "")
        out.append(line)
    if in_table:
        out.append("</table>")
    return "\n".join(out)


if __name__ == "__main__":
    typer.run(main)
