"""Web and worker processes see each other's heartbeats, with Redis or without (issue 11.8).

Without Redis the sweep used to take every other process for dead: under `make run` the web
process would mark the worker's running generations `interrupted`. Heartbeats are rows in the
database every process shares.
"""

import subprocess
import sys

from tests.e2e.server import ROOT

SWEEP = """
import django; django.setup()
from ai_chat.models import AIConversation, AIMessage
from ai_chat.services import workers
from django.contrib.auth import get_user_model
user = get_user_model().objects.create_user("ana")
conversation = AIConversation.objects.create(user=user, kind="lesson", title="Loops")
def streaming(worker):
    return AIMessage.objects.create(
        conversation=conversation, role="assistant", status="streaming", worker=worker
    )
live, dead = streaming("{live}"), streaming("gone-host:4242:deadbeef")
print(workers.sweep_interrupted())
for message in (live, dead):
    message.refresh_from_db(); print(message.status)
"""


def run(code: str, database: str) -> str:
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": f"sqlite:///{database}",
        "AI_PROVIDER": "offline",
    }
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout.strip()


def test_a_live_process_s_generation_is_left_alone_and_a_dead_one_s_is_interrupted(tmp_path):
    """Process A beats; process B (same database, no Redis) sweeps: A's generation is left
    streaming, the dead process's is interrupted."""
    database = str(tmp_path / "shared.sqlite3")
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v0"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "DATABASE_URL": f"sqlite:///{database}"},
        check=True,
        timeout=120,
    )
    live = run(
        "import django; django.setup(); from ai_chat.services import workers;"
        "workers.heartbeat(); print(workers.worker_id())",
        database,
    ).splitlines()[-1]
    swept = run(SWEEP.replace("{live}", live), database).splitlines()[-3:]
    assert swept == ["1", "streaming", "interrupted"]
