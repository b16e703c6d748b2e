"""Each fetch test gets its own temporary folder, and checks that the fetch left nothing in it."""

import tempfile

import pytest

from imports.repository import FetchLimits


@pytest.fixture
def fetch_tmp(tmp_path, monkeypatch):
    """The folder fetch_repository makes its clone in; empty again after the test."""
    folder = tmp_path / "fetch-tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    yield folder
    assert list(folder.iterdir()) == [], "the fetch left files behind"


@pytest.fixture
def local_limits():
    """Default limits with local repositories allowed."""
    return FetchLimits(allow_local=True, timeout_seconds=60)
