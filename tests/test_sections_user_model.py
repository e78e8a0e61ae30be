"""The section contract of tests/test_sections.py with a student's own nn.Module from a file
(``arch = "models.py:StudentNet"``, tests/user_models/models.py) instead of a built-in model: every registered type."""

from __future__ import annotations

import json

import pytest

from reportgen.sections import SECTIONS
from tests.test_sections import compute_real, draw_all, real_groups


@pytest.mark.parametrize("kind", SECTIONS.names())
def test_every_type_takes_a_model_from_a_users_file(kind):
    """The same contract with a student's nn.Module (``arch = "models.py:StudentNet"``) instead of a built-in."""
    spec, groups, outputs = real_groups(kind, (0,), models=("student", "student_wide"))
    assert all(g.spec.arch == "models.py:StudentNet" for g in groups[:1])
    impl, result = compute_real(kind, spec, groups, outputs)
    assert json.loads(json.dumps(result, allow_nan=False)) == result
    draw_all(impl, result)
