"""`manage.py notify` on the embedded defaults (no Redis): a page open on a real server hears it.

The command runs in its own process, whose in-memory channel layer no socket listens to; the
server finds the stored row and sends it to the user's room.
"""

import asyncio
import json

from websockets.asyncio.client import connect

from tests.e2e.server import session_cookie


async def test_notify_reaches_a_page_open_on_the_server(lectern_server):
    live = lectern_server
    ana = live.users["ana"]
    cookie = await asyncio.to_thread(session_cookie, live, "ana", "pw-ana-123")
    async with connect(
        f"{live.ws_url}/ws/events/", additional_headers={"Cookie": cookie, "Origin": live.url}
    ) as ws:
        assert json.loads(await ws.recv())["type"] == "auth_success"
        await ws.send(json.dumps({"type": "subscribe", "room": f"user:{ana}"}))
        assert json.loads(await ws.recv())["type"] == "subscribed"

        output = await asyncio.to_thread(
            live.manage, "notify", str(ana), "--title", "Course published", "--body", "Java"
        )
        assert "no REDIS_URL: a running server sends it to their open pages" in output
        async with asyncio.timeout(30):
            frame = json.loads(await ws.recv())
        assert (frame["type"], frame["event"], frame["action"]) == (
            "event",
            "notification",
            "create",
        )
        assert frame["payload"]["title"] == "Course published"
        assert frame["payload"]["body"] == "Java"
        assert output.startswith(f"notification {frame['payload']['id']} stored for user:{ana}")
