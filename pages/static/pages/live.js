// Follows rooms of /ws/events/ for a page: signs in with the session cookie, (re)subscribes
// after every (re)connect, and asks the page to resynchronise from the API whenever it may have
// missed events (a new subscription, or a gap in a room's seq). Shows the socket's state.

import { LecternClient } from "../ai_chat/lectern-client.js";

const LABELS = {
  connecting: "Connecting…",
  authenticating: "Connecting…",
  ready: "Live",
  reconnecting: "Reconnecting…",
  closed: "Offline: reload to reconnect",
};

function setStatus(status) {
  const node = document.getElementById("live-status");
  if (!node) return;
  node.dataset.status = status;
  node.textContent = LABELS[status] || status;
}

/**
 * @param {string[]} rooms e.g. ["course:12"]
 * @param {{onEvent: (frame: object) => void, onResync: (room: string) => void}} handlers
 */
export function follow(rooms, { onEvent, onResync }) {
  const seqs = new Map(rooms.map((room) => [room, null]));
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const client = new LecternClient(`${scheme}://${location.host}/ws/events/`, {
    onStatus: setStatus,
    onFrame(frame) {
      if (frame.type === "auth_success") {
        for (const room of seqs.keys()) {
          seqs.set(room, null);
          client.request({ type: "subscribe", room });
        }
      } else if (frame.type === "subscribed" && seqs.has(frame.room)) {
        seqs.set(frame.room, frame.seq ?? 0);
        onResync(frame.room);
      } else if (frame.type === "event" && seqs.has(frame.room)) {
        const last = seqs.get(frame.room);
        if (last === null || frame.seq <= last) return;
        if (frame.seq > last + 1) {
          seqs.set(frame.room, null);
          client.request({ type: "subscribe", room: frame.room });
          return;
        }
        seqs.set(frame.room, frame.seq);
        onEvent(frame);
      }
    },
  });
  client.connect().catch(() => setStatus("closed"));
  return client;
}
