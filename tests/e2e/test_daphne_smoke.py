"""The real server: daphne on a free port, a real WebSocket client."""

import asyncio
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


async def test_clients_leaving_mid_stream_log_no_errors(lectern_server):
    """Clients that drop mid-generation end their relay quietly; the generations still finish.

    daphne raises autobahn's `Disconnected` from a send racing the close; that is a client
    leaving, not a server fault, so it must not reach the error log with a traceback.
    """
    cookie = session_cookie(lectern_server, "ana", "pw-ana-123")
    headers = {"Cookie": cookie, "Origin": lectern_server.url}
    url = f"{lectern_server.ws_url}/ws/ai/course-generation/"
    log_before = len(lectern_server.log())
    for _ in range(3):  # MAX_CONCURRENT_GENERATIONS: all three run on without their client
        ws = await connect(url, additional_headers=headers)
        assert json.loads(await ws.recv())["type"] == "auth_success"
        await ws.send(json.dumps({"type": "message", "content": "Java for kids"}))
        while json.loads(await ws.recv())["type"] != "streaming":
            pass
        await ws.close()  # frames are still in flight
    async with connect(url, additional_headers=headers) as ws:
        assert json.loads(await ws.recv())["type"] == "auth_success"
        frame = {"type": "error", "code": "busy"}
        for _ in range(100):  # the abandoned generations finish, freeing the user's slots
            if frame.get("code") != "busy":
                break
            await asyncio.sleep(0.1)
            await ws.send(json.dumps({"type": "message", "content": "Java for kids"}))
            frame = json.loads(await ws.recv())
        while frame["type"] not in ("complete", "error"):
            frame = json.loads(await ws.recv())
        assert frame["type"] == "complete"
    log = lectern_server.log()[log_before:]
    assert "Traceback" not in log and "relaying" not in log, log[-3000:]
