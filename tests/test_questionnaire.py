"""The mental-model check without code: the widget form writes the answer cell, the paper sheet is entered."""
from __future__ import annotations

import argparse
import json

import pytest

from course.delivery.workshop import cli
from course.science import beliefs, questionnaire

IDS = list(beliefs.IDS[:6])


class FakeShell:
    """Stands for IPython: records what set_next_input would write into the running cell."""

    def __init__(self):
        self.written = []

    def set_next_input(self, text, replace=False):
        self.written.append((text, replace))


def test_the_form_writes_the_answer_cell_that_grading_re_executes(monkeypatch):
    shell = FakeShell()
    import IPython

    monkeypatch.setattr(IPython, "get_ipython", lambda: shell)
    stub = {i: {"answer": None, "confidence": None} for i in IDS}
    form = questionnaire.Form(IDS)
    assert form.write(stub) == stub and shell.written == [], "an empty form must leave the cell alone"
    truth = {i: beliefs.BY_ID[i].answer for i in IDS}
    for k, i in enumerate(IDS):
        form.set(i, truth[i], 1 + k % 4)
    merged = form.write(stub)
    assert not beliefs.problems(merged, IDS), beliefs.problems(merged, IDS)
    (code, replace), = shell.written
    assert replace, "the form must replace the running cell, not add one"
    namespace = {}
    exec(code, namespace)  # noqa: S102 - what nbgrader does with the cell: the plain dict, no widget
    assert namespace["answers"] == merged
    assert beliefs.score(namespace["answers"]) == beliefs.score(merged)
    more = {}
    exec("answers = {}\n" + questionnaire.cell_code(merged, IDS, update=True), more)  # noqa: S102
    assert more["answers"] == merged


def test_the_form_starts_from_given_answers_and_only_changes_what_was_ticked():
    given = {IDS[0]: {"answer": True, "confidence": 2}}
    form = questionnaire.Form(IDS, given)
    assert form.answers() == given
    form.set(IDS[1], False, None)
    merged = form.write({IDS[1]: {"answer": None, "confidence": 4}})
    assert merged[IDS[1]] == {"answer": False, "confidence": 4}


def test_paper_codes_are_parsed_in_sheet_order_and_mistakes_are_named():
    answers = questionnaire.parse_codes("T3 f2 - T, 0", ["a01", "a02", "a03", "a04", "a05"])
    assert answers == {"a01": {"answer": True, "confidence": 3}, "a02": {"answer": False, "confidence": 2},
                       "a04": {"answer": True, "confidence": None}, "a05": {"answer": False, "confidence": None}}
    with pytest.raises(ValueError, match="2 entries for 3 statements"):
        questionnaire.parse_codes("T3 F2", ["a01", "a02", "a03"])
    with pytest.raises(ValueError, match="statement 2"):
        questionnaire.parse_codes("T3 X2", ["a01", "a02"])
    with pytest.raises(ValueError, match="statement 1"):
        questionnaire.parse_codes("T7", ["a01"])
    with pytest.raises(ValueError, match="unknown item"):
        questionnaire.parse_codes("T1", ["zz"])


def test_the_sheet_lists_every_statement_in_order():
    page = questionnaire.sheet(IDS, phase="after")
    positions = [page.index(f"({i})") for i in IDS]
    assert positions == sorted(positions)
    assert "Phase: <b>after</b>" in page and "Item order (for entering the sheet): " + " ".join(IDS) in page
    assert all(v in page for v in beliefs.CONFIDENCE.values())


def test_facilitators_print_enter_and_sum_up_sheets(tmp_path, capsys):
    parser = argparse.ArgumentParser(prog="course")
    cli.add_commands(parser.add_subparsers(dest="command", required=True))

    def run(*argv):
        args = parser.parse_args(["questionnaire", *argv])
        return args.func(args)

    items = ",".join(IDS)
    assert run("sheet", "--items", items, "--out", str(tmp_path / "sheet.html")) == 0
    assert "(a01)" in (tmp_path / "sheet.html").read_text()
    right = " ".join(("T" if beliefs.BY_ID[i].answer else "F") + "3" for i in IDS)
    wrong = " ".join(("F" if beliefs.BY_ID[i].answer else "T") + "4" for i in IDS)
    assert run("enter", "--items", items, "--learner", "ada", "--out", str(tmp_path), "--codes", right) == 0
    (tmp_path / "room.csv").write_text(f"learner,codes\nbob,{wrong}\n")
    assert run("enter", "--items", items, "--csv", str(tmp_path / "room.csv"), "--out", str(tmp_path)) == 0
    ada = json.loads((tmp_path / "before" / "ada.json").read_text())
    assert ada["format"] == beliefs.FORMAT and ada["phase"] == "before"
    assert beliefs.load(path=tmp_path / "before" / "ada.json") == {i: {"answer": beliefs.BY_ID[i].answer, "confidence": 3}
                                                                     for i in IDS}
    capsys.readouterr()
    assert run("summary", "--out", str(tmp_path)) == 0
    table = capsys.readouterr().out
    assert "2 sheet(s)" in table and " 50%" in table, table
    assert run("enter", "--items", items, "--learner", "cy", "--out", str(tmp_path), "--codes", "T3") == 2


def test_items_or_their_ids_are_accepted():
    items = [beliefs.BY_ID[i] for i in IDS]
    assert questionnaire.Form(items).ids == IDS
    assert questionnaire.cell_code({}, items) == questionnaire.cell_code({}, IDS)


@pytest.mark.slow
def test_in_a_real_kernel_the_form_asks_the_notebook_to_replace_the_running_cell():
    """What JupyterLab receives: an execute_reply whose payload replaces the cell's text with the dict."""
    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(kernel_name="python3")
    try:
        code = ("from course.science import questionnaire\n"
                f"form = questionnaire.Form({IDS[:2]!r})\n"
                f"form.set({IDS[0]!r}, True, 4)\nform.set({IDS[1]!r}, False, 2)\n"
                f"answers = {{i: {{'answer': None, 'confidence': None}} for i in {IDS[:2]!r}}}\n"
                "answers = form.write(answers)")
        reply = kc.execute_interactive(code, timeout=120, output_hook=lambda msg: None)
        assert reply["content"]["status"] == "ok", reply["content"]
        payloads = [p for p in reply["content"].get("payload", []) if p.get("source") == "set_next_input"]
        assert payloads and payloads[0]["replace"], reply["content"]
        namespace = {}
        exec(payloads[0]["text"], namespace)  # noqa: S102
        assert namespace["answers"] == {IDS[0]: {"answer": True, "confidence": 4}, IDS[1]: {"answer": False, "confidence": 2}}
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
