"""The real server: daphne on a free port, a real WebSocket client."""

import json

from websockets.asyncio.client import connect

from tests.e2e.server import session_cookie


async def test_session_user_generates_a_course_over_daphne(lectern_server):
    """A signed-in user streams a course over a real socket and gets `complete`."""
    cookie = session_cookie(lectern_server, "ana", "pw-ana-123")
    async with connect(
        f"{lectern_server.ws_url}/ws/ai/course-generation/",
        additional_headers={"Cookie": cookie, "Origin": lectern_server.url},
    ) as ws:
        assert json.loads(await ws.recv())["type"] == "auth_success"
        await ws.send(json.dumps({"type": "message", "content": "Java for kids"}))
        types = []
        while not types or types[-1] not in ("complete", "error"):
            types.append(json.loads(await ws.recv())["type"])
        assert types[:2] == ["conversation", "started"]
        assert types[-1] == "complete"
