// Follows rooms of /ws/events/ for a page: signs in with the session cookie, (re)subscribes
// after every (re)connect, and asks the page to resynchronise whenever it may have missed
// events (a new subscription, with its snapshot, or a gap in a room's seq). Shows the socket's
// state. Every page also follows its user's room for the notifications bell (notifications.js).

import { LecternClient } from "../ai_chat/lectern-client.js";
import { Bell } from "./notifications.js";

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

/** The signed-in user's id (from the page), or null. */
export function myId() {
  return Number(document.body.dataset.userId) || null;
}

/**
 * @param {string[]} rooms e.g. ["course:12"]
 * @param {{onEvent?: (frame: object) => void, onResync?: (room: string, snapshot: object) => void,
 *          onFrame?: (frame: object) => void}} handlers  onFrame: `ack` and `error` frames
 */
export function follow(rooms, { onEvent = () => {}, onResync = () => {}, onFrame = () => {} } = {}) {
  const me = myId();
  const userRoom = me ? `user:${me}` : null;
  const seqs = new Map([...rooms, ...(userRoom ? [userRoom] : [])].map((room) => [room, null]));
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  let bell = null;
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
        if (frame.room === userRoom) bell?.snapshot(frame.snapshot);
        if (rooms.includes(frame.room)) onResync(frame.room, frame.snapshot || {});
      } else if (frame.type === "event" && seqs.has(frame.room)) {
        const last = seqs.get(frame.room);
        if (last === null || frame.seq <= last) return;
        if (frame.seq > last + 1) {
          seqs.set(frame.room, null);
          client.request({ type: "subscribe", room: frame.room });
          return;
        }
        seqs.set(frame.room, frame.seq);
        if (frame.room === userRoom) bell?.event(frame);
        if (rooms.includes(frame.room)) onEvent(frame);
      } else if (frame.type === "ack" || frame.type === "error") {
        if (frame.type === "ack" && frame.of === "mark_read") bell?.read(frame.notification_ids);
        else onFrame(frame);
      }
    },
  });
  if (userRoom) bell = new Bell(client);
  client.connect().catch(() => setStatus("closed"));
  return client;
}
