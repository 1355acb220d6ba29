"""Fixtures of the briefing tests: the workforce note over the sample reports, drafted once."""

from __future__ import annotations

import pytest
from briefing_checks import PREPARED

from assistant.briefing.draft import build_briefing
from assistant.briefing.model import Briefing


@pytest.fixture(scope="module")
def workforce(shared_engine) -> Briefing:
    return build_briefing(shared_engine, "workforce", councils=["West Sussex"], prepared=PREPARED)
