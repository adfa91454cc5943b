"""Every lesson is paced for a learner (issue 20, part 4).

Read from the committed notebooks: each lesson opens with a time estimate, its
prerequisites and a link to the glossary; asks at least one predict-then-run question
(a markdown question with a collapsed reveal, right before the code cell that shows the
answer) before its exercises; keeps expert detail in collapsed "Going further" blocks
that no exercise refers to; stays under about 3,000 words of prose; and links to the
next lesson, which exists. The glossary defines the terms the lessons lean on and its
links resolve.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
LESSONS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
GLOSSARY = NOTEBOOKS / "glossary.md"
#: "No lesson over about 3,000 words of prose": 5 % slack for a sentence of a fix.
MAX_PROSE_WORDS = 3150
PREDICT = "**Predict, then run.**"
GOING_FURTHER = "<details><summary><b>Going further"
EXERCISE = re.compile(r"^answer = \.\.\.$", re.MULTILINE)
#: Terms the lessons use before or without defining them (issue 20 names the first ones).
GLOSSARY_TERMS = ["VR", "VM", "IOD", "SOP Class", "UID", "LUT", "Transfer syntax",
                  "Modality LUT", "VOI LUT", "HU", "LPS", "Tag", "Module", "PHI",
                  "Photometric Interpretation", "Lossy Image Compression", "DICOMDIR",
                  "Frame of Reference", "Pixel Spacing", "AS", "DS", "PN", "Sequence"]


def prose_words(markdown: str) -> int:
    """Words of prose in markdown: fenced code, HTML tags and LaTeX left out."""
    text = re.sub(r"```.*?```", " ", markdown, flags=re.DOTALL)
    text = re.sub(r"<[^>]+>", " ", text)
    text = re.sub(r"\$[^$]*\$", " ", text)
    return len(re.findall(r"[A-Za-z0-9À-ÿ][\w'’−.-]*", text))


def cells(lesson: Path) -> list[nbformat.NotebookNode]:
    return nbformat.read(lesson, as_version=4).cells


def first_exercise(nb_cells: list) -> int:
    return next(i for i, c in enumerate(nb_cells)
                if c.cell_type == "code" and EXERCISE.search(c.source))


def test_lessons_found():
    assert [p.name[:2] for p in LESSONS] == [f"{n:02d}" for n in range(len(LESSONS))]
    assert len(LESSONS) >= 7


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_opens_with_time_prerequisites_glossary_then_objectives(lesson: Path):
    opening = cells(lesson)[0]
    assert opening.cell_type == "markdown"
    title, rest = opening.source.split("\n", 1)
    assert title == f"# Lesson {int(lesson.name[:2])} · " + title.split(" · ", 1)[1]
    assert re.search(r"\*\*Time:\*\* about \d+ minutes", rest), "no time estimate"
    assert re.search(r"\*\*Prerequisites:\*\* \S", rest), "no prerequisites"
    assert "](glossary.md)" in rest, "no link to the glossary"
    assert rest.index("**Time:**") < rest.index("**In this lesson you will**"), \
        "time and prerequisites come before the objectives"


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_predict_then_run_before_the_exercises(lesson: Path):
    nb_cells = cells(lesson)
    asked = [i for i, c in enumerate(nb_cells) if c.cell_type == "markdown"
             and c.source.startswith(PREDICT)]
    assert asked and asked[0] < first_exercise(nb_cells), \
        "at least one predict-then-run question before the exercises"
    for i in asked:
        question = nb_cells[i].source
        assert "?" in question.split("<details>")[0], f"cell {i}: no question asked"
        assert re.search(r"<details><summary>.+</summary>.+</details>\s*$", question,
                         re.DOTALL), f"cell {i}: the answer is not in a collapsed reveal"
        assert nb_cells[i + 1].cell_type == "code", f"cell {i}: no code cell runs after it"


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_going_further_is_collapsed_and_not_needed_by_exercises(lesson: Path):
    nb_cells = cells(lesson)
    start = first_exercise(nb_cells)
    for i, cell in enumerate(nb_cells):
        mentions = cell.source.count("Going further")
        if cell.cell_type == "markdown":
            assert mentions == cell.source.count(GOING_FURTHER), \
                f"cell {i}: 'Going further' outside a collapsed block"
        if i >= start - 1 and not cell.source.startswith("<details><summary><b>Solution"):
            assert mentions == 0, f"cell {i}: an exercise points to a Going further block"


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_prose_stays_under_about_3000_words(lesson: Path):
    words = prose_words("\n".join(c.source for c in cells(lesson) if c.cell_type == "markdown"))
    assert words <= MAX_PROSE_WORDS, f"{lesson.name}: {words} words of prose"


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_links_to_lessons_and_glossary_resolve(lesson: Path):
    text = "\n".join(c.source for c in cells(lesson) if c.cell_type == "markdown")
    for target in re.findall(r"\]\(([^)#\s]+\.(?:ipynb|md))", text):
        assert (NOTEBOOKS / target).exists(), f"{lesson.name} links to missing {target}"
    k = LESSONS.index(lesson)
    if k + 1 < len(LESSONS):
        closing = cells(lesson)[-1].source
        assert f"]({LESSONS[k + 1].name})" in closing, "the summary links to the next lesson"


def test_glossary_defines_the_terms_and_its_links_resolve():
    text = GLOSSARY.read_text(encoding="utf-8")
    defined = set(re.findall(r"^- \*\*([^*]+)\*\*", text, re.MULTILINE))
    heads = {re.split(r"[,(]", term)[0].strip().lower() for term in defined}
    missing = [t for t in GLOSSARY_TERMS
               if not any(h == t.lower() or h.startswith(t.lower() + " ") for h in heads)]
    assert not missing, f"the glossary does not define {missing}"
    for target in re.findall(r"\]\(([^)#\s]+\.ipynb)\)", text):
        assert (NOTEBOOKS / target).exists(), f"the glossary links to missing {target}"
