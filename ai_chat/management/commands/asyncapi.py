"""`manage.py asyncapi`: print, write or check the AsyncAPI description of the WebSocket API."""

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ai_chat.asyncapi import DOCUMENT_PATH, build, render_json


class Command(BaseCommand):
    help = (
        "Print the AsyncAPI 3.0 document built from the pydantic frame models; --write updates "
        f"{DOCUMENT_PATH.parent.name}/{DOCUMENT_PATH.name}, --check fails when it is out of date."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--format",
            choices=["json", "yaml"],
            default="json",
            help="Output format when printing (yaml needs PyYAML; JSON is valid YAML 1.2).",
        )
        action = parser.add_mutually_exclusive_group()
        action.add_argument("--write", action="store_true", help=f"Write {DOCUMENT_PATH}.")
        action.add_argument(
            "--check", action="store_true", help=f"Exit non-zero if {DOCUMENT_PATH} is stale."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        document = build()
        text = render_json(document)
        if options["check"]:
            try:
                committed = DOCUMENT_PATH.read_text(encoding="utf-8")
            except FileNotFoundError:
                raise CommandError(
                    f"{DOCUMENT_PATH} is missing; run `python manage.py asyncapi --write`."
                ) from None
            if committed != text:
                raise CommandError(
                    f"{DOCUMENT_PATH} is out of date with the frame models; run "
                    "`python manage.py asyncapi --write` and commit the result."
                )
            self.stdout.write(f"{DOCUMENT_PATH} is up to date.")
        elif options["write"]:
            DOCUMENT_PATH.parent.mkdir(parents=True, exist_ok=True)
            DOCUMENT_PATH.write_text(text, encoding="utf-8")
            self.stdout.write(f"Wrote {DOCUMENT_PATH}.")
        elif options["format"] == "yaml":
            self.stdout.write(_yaml(document), ending="")
        else:
            self.stdout.write(text, ending="")


def _yaml(document: dict[str, Any]) -> str:
    try:
        import yaml  # type: ignore[import-untyped]
    except ImportError:
        raise CommandError(
            "--format yaml needs PyYAML, which is not installed; use --format json "
            "(JSON is valid YAML 1.2, and AsyncAPI tools read it)."
        ) from None
    # Round-trip through JSON so that the YAML holds plain types only.
    return str(yaml.safe_dump(json.loads(render_json(document)), sort_keys=True))
