"""The documents that describe configuration stay true to the settings that read it."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _settings_variables() -> set[str]:
    """Every variable read by the settings modules (settings.py and those it imports)."""
    source = "".join(
        (ROOT / "config" / name).read_text() for name in ("settings.py", "celery_settings.py")
    )
    return set(re.findall(r'env_(?:str|bool|int|float|list)\(\s*"([A-Z_]+)"', source))


def test_env_example_lists_every_variable_the_settings_read():
    """Each variable settings.py reads is in .env.example, and nothing else is."""
    listed = set(re.findall(r"^([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.MULTILINE))
    assert listed == _settings_variables()


def test_readme_and_compose_name_only_real_variables():
    """Variables in the README's table, compose and .env.production.example exist in settings."""
    known = _settings_variables()
    readme = (ROOT / "README.md").read_text()
    table = set(re.findall(r"^\| `([A-Z_]+)`", readme, re.MULTILINE))
    compose_text = (ROOT / "docker-compose.yml").read_text()
    # Lectern's own services (flower is a third-party image with its own variables).
    ours = compose_text[compose_text.index("\n  web:") : compose_text.index("\n  flower:")]
    compose = set(re.findall(r"^      ([A-Z_]+):", ours, re.MULTILINE))
    assert table and table <= known, table - known
    assert compose and compose <= known, compose - known
    production = (ROOT / ".env.production.example").read_text()
    example = set(re.findall(r"^([A-Z_]+)=", production, re.MULTILINE))
    assert example and example <= known, example - known


def test_env_example_documents_each_variable_of_a_provider_entry():
    """The per-entry variables of an OpenAI-compatible provider are all described."""
    from config.env import PROVIDER_ENTRY_SUFFIXES

    text = (ROOT / ".env.example").read_text()
    documented = set(re.findall(r"^#\s+AI_PROVIDER_<NAME>_([A-Z_]+)", text, re.MULTILINE))
    assert documented == set(PROVIDER_ENTRY_SUFFIXES)
