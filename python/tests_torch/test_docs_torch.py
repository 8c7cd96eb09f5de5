"""The PyTorch programs of docs/python.md (``# needs: torch``) run as printed."""
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "tests"))
from test_docs import cases  # noqa: E402


def test_there_is_a_torch_program():
    assert cases(torch=True)


@pytest.mark.parametrize("code", cases(torch=True))
def test_doc_program_runs(code):
    exec(compile(code, "<doc>", "exec"), {"__name__": "__doc_example__"})
