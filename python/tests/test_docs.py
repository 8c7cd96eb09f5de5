"""The Python programs in docs/python.md, python/README.md and docs/embedding.md run as printed (those marked
``# needs: torch`` run in python/tests_torch/test_docs_torch.py)."""
import os
import re

import pytest

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, os.pardir)
DOCS = ["docs/python.md", "python/README.md", "docs/embedding.md"]


def blocks(path, torch=False):
    with open(os.path.join(ROOT, path), encoding="utf-8") as fh:
        text = fh.read()
    found = re.findall(r"^```python\n(.*?)^```", text, re.M | re.S)
    return [b for b in found if b.startswith("# needs: torch") == torch]


def cases(torch=False):
    out = []
    for path in DOCS:
        for i, code in enumerate(blocks(path, torch)):
            out.append(pytest.param(code, id=f"{os.path.basename(path)}-{i + 1}"))
    return out


def test_the_docs_have_programs():
    assert len(blocks("docs/python.md")) >= 6 and len(blocks("docs/python.md", True)) >= 1


@pytest.mark.parametrize("code", cases())
def test_doc_program_runs(code, capsys):
    exec(compile(code, "<doc>", "exec"), {"__name__": "__doc_example__"})
