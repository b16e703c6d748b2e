"""`manage.py generate <kind> "<prompt>"`: one generation, streamed to the terminal."""

import asyncio
import json
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ai_chat.agent import get_agent
from ai_chat.generation.run import generation_run
from ai_chat.kinds import KINDS
from ai_chat.server_frames import CompleteFrame, StreamingFrame
from ai_chat.services.saving import result_save
from ai_chat.services.streams import StreamHub
from ai_chat.services.turns import turn_prepare
from ai_chat.services.workers import worker_id
from sockets.errors import ProtocolError
from sockets.server_frames import ServerFrame

CLI_USERNAME = "lectern-cli"


class Command(BaseCommand):
    help = "Generate a course, lesson, quiz, assignment or chat answer, streaming it here."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=sorted(KINDS))
        parser.add_argument("prompt")
        parser.add_argument("--context", default="{}", help="The kind's context, as JSON.")
        parser.add_argument("--user", help="E-mail of the user who owns it (default: a CLI user).")
        parser.add_argument("--conversation", help="Continue this conversation (uuid).")
        parser.add_argument("--save", action="store_true", help="Write the result's rows.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            context = json.loads(options["context"])
        except json.JSONDecodeError as exc:
            raise CommandError(f"--context is not JSON: {exc}") from None
        if not isinstance(context, dict):
            raise CommandError("--context must be a JSON object.")
        user = self._user(options["user"])
        agent = get_agent()
        try:
            prepared = turn_prepare(
                user=user,
                kind_name=options["kind"],
                content=options["prompt"],
                context=context,
                conversation_id=options["conversation"],
                refinement=False,
                model=agent.model,
                worker=worker_id(),
            )
        except ProtocolError as exc:
            raise CommandError(f"{exc.code}: {exc.message} {exc.details or ''}".strip()) from None
        job = prepared.job
        self.stderr.write(
            f"conversation {job.conversation_id} · message {job.message_id} · "
            f"provider {agent.name} ({agent.model})"
        )
        final = asyncio.run(self._stream(job, agent))
        if not isinstance(final, CompleteFrame):
            raise CommandError(
                f"{getattr(final, 'code', final.frame_type)}: {getattr(final, 'message', '')}"
            )
        self.stdout.write("\n\n" + json.dumps(final.data, indent=2, ensure_ascii=False))
        self.stderr.write(
            f"model {final.model} · tokens in {final.usage.input_tokens}, "
            f"out {final.usage.output_tokens}"
        )
        if options["save"]:
            outcome = result_save(
                user=user, conversation=prepared.conversation, message_id=job.message_id
            )
            written = ", ".join(f"{o['type']} {o['id']}" for o in outcome.objects)
            self.stdout.write(self.style.SUCCESS(f"saved: {written}"))

    async def _stream(self, job: Any, agent: Any) -> ServerFrame:
        """Run the generation here (no socket, no runner) and print its chunks as they come."""
        hub = StreamHub(ttl=60)
        hub.open(job.message_id)
        run = asyncio.ensure_future(generation_run(job=job, agent=agent, hub=hub))
        final: ServerFrame | None = None
        try:
            async for frame in hub.follow(job.message_id):
                if isinstance(frame, StreamingFrame):
                    self.stdout.write(frame.chunk, ending="")
                    self.stdout.flush()
                else:
                    final = frame
            await run
        finally:
            run.cancel()
            await agent.aclose()
        assert final is not None
        return final

    def _user(self, email: str | None) -> Any:
        User = get_user_model()
        if email:
            user = User.objects.filter(email__iexact=email).order_by("pk").first()
            if user is None:
                raise CommandError(f"No user with e-mail {email}.")
            return user
        user, _ = User.objects.get_or_create(
            username=CLI_USERNAME, defaults={"email": "cli@lectern.invalid"}
        )
        return user
