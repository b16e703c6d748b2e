// The events panel: one LecternClient on /ws/events/, rooms with their last seq (a gap means
// subscribe again), a live list of events, notifications, and the learner / instructor actions
// on confusion, progress and questions (ask; answer the open ones of an instructor room). Server
// data reaches the page through textContent only.

import { LecternClient } from "./lectern-client.js";

const EVENT_LIMIT = 500;
const panel = document.getElementById("events-panel");
const $ = (id) => document.getElementById(id);
const el = (tag, text, className) => {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
};

/** room name -> last seq seen (null until `subscribed`) */
const rooms = new Map();
/** notification id -> item */
const notifications = new Map();
/** confusion id -> item, the instructor's open ones */
const alerts = new Map();
/** confusion id -> item, the learner's own */
const mine = new Map();
/** question id -> item, the instructor's unanswered ones */
const questions = new Map();
let me = Number(panel?.dataset.userId) || null;
let client = null;

function wsUrl(path) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${location.host}${path}`;
}

function setStatus(status, detail) {
  const status_ = $("events-status");
  status_.dataset.status = status;
  status_.textContent = detail?.code ? `${status} (close ${detail.code})` : status;
}

function send(frame) {
  $("events-error").textContent = "";
  client.request(frame);
}

function subscribe(room) {
  if (!room) return;
  if (!rooms.has(room)) rooms.set(room, null);
  renderRooms();
  send({ type: "subscribe", room });
}

function unsubscribe(room) {
  if (!room) return;
  rooms.delete(room);
  renderRooms();
  send({ type: "unsubscribe", room });
}

// --- frames ---------------------------------------------------------------------------------

function handle(frame) {
  switch (frame.type) {
    case "auth_success":
      me = frame.user.id;
      // Signed in (again, after a reconnect): the server forgot our rooms, join them anew.
      if (!rooms.has(`user:${me}`)) rooms.set(`user:${me}`, null);
      for (const room of rooms.keys()) send({ type: "subscribe", room });
      break;
    case "subscribed":
      rooms.set(frame.room, frame.seq);
      applySnapshot(frame.room, frame.snapshot);
      break;
    case "unsubscribed":
      rooms.delete(frame.room);
      break;
    case "event":
      onEvent(frame);
      break;
    case "ack":
      onAck(frame);
      break;
    case "error":
    case "auth_error":
      $("events-error").textContent = `${frame.code}: ${frame.message}`;
      break;
  }
  renderRooms();
  renderLists();
}

function onEvent(frame) {
  if (!rooms.has(frame.room)) return;
  const last = rooms.get(frame.room);
  if (last === null) return; // waiting for `subscribed`: its snapshot covers this event
  if (frame.seq <= last) return; // already in the snapshot
  if (frame.seq > last + 1) {
    // Missed events: subscribe again for a fresh snapshot and seq.
    logEvent(frame, `gap: expected seq ${last + 1}, re-subscribing`);
    rooms.set(frame.room, null);
    send({ type: "subscribe", room: frame.room });
    return;
  }
  rooms.set(frame.room, frame.seq);
  apply(frame.room, frame.event, frame.action, frame.payload);
  logEvent(frame);
}

function apply(room, event, action, payload) {
  const [kind] = room.split(":");
  if (event === "notification" && action === "create") notifications.set(payload.id, payload);
  if (event === "notification" && action === "update") {
    for (const id of payload.notification_ids) notifications.delete(id);
  }
  if (event === "question" && kind === "instructor") {
    if (action === "delete" || payload.answered_at) questions.delete(payload.id);
    else questions.set(payload.id, payload);
  }
  if (event === "confusion") {
    if (kind === "instructor") {
      if (payload.resolved_at) alerts.delete(payload.id);
      else alerts.set(payload.id, payload);
    } else if (kind === "user" && payload.learner_id === me) {
      mine.set(payload.id, payload);
    }
  }
}

function applySnapshot(room, snapshot) {
  const [kind] = room.split(":");
  if (kind === "user") {
    notifications.clear();
    for (const n of snapshot.notifications || []) notifications.set(n.id, n);
    mine.clear();
    for (const c of snapshot.confusions || []) mine.set(c.id, c);
  } else if (kind === "instructor") {
    alerts.clear();
    for (const c of snapshot.confusions || []) alerts.set(c.id, c);
    questions.clear();
    for (const q of snapshot.questions || []) questions.set(q.id, q);
  }
  logLine(`subscribed ${room} at seq ${rooms.get(room)}`, { room, type: "subscribed" });
}

function onAck(frame) {
  const parts = [`ack ${frame.of}`];
  if (frame.confusion) {
    parts.push(`confusion #${frame.confusion.id}`);
    if (frame.of === "confusion") mine.set(frame.confusion.id, frame.confusion);
    if (frame.of === "resolve_confusion") alerts.delete(frame.confusion.id);
  }
  if (frame.question) {
    parts.push(`question #${frame.question.id}`);
    if (frame.question.answered_at) questions.delete(frame.question.id);
  }
  if (frame.progress) parts.push(`lesson ${frame.progress.lesson_id} at ${frame.progress.percent}%`);
  if (frame.notification_ids) {
    parts.push(`${frame.notification_ids.length} marked read`);
    for (const id of frame.notification_ids) notifications.delete(id);
  }
  const ack = $("events-ack");
  ack.textContent = parts.join(" · ");
  ack.dataset.of = frame.of;
}

// --- rendering ------------------------------------------------------------------------------

function summary(event, payload) {
  if (event === "confusion") {
    const state = payload.resolved_at ? "resolved" : "open";
    return `#${payload.id} ${state} · ${payload.learner_name} · lesson ${payload.lesson_id}` +
      (payload.position ? ` @ ${payload.position}` : "") + (payload.note ? ` · “${payload.note}”` : "");
  }
  if (event === "question") {
    return `#${payload.id} ${payload.answered_at ? "answered" : "open"} · ${payload.learner_name} · ` +
      `lesson ${payload.lesson_id} · “${payload.text}”` + (payload.answers?.length ? ` · ${payload.answers.length} answer(s)` : "");
  }
  if (event === "notification") return payload.title || `${payload.notification_ids?.length} read`;
  if (event === "progress") return `lesson ${payload.lesson_id} · ${payload.percent}%`;
  if (event === "presence") return `${payload.display_name} (${payload.user_id})`;
  const text = JSON.stringify(payload);
  return text.length > 160 ? `${text.slice(0, 160)}…` : text;
}

function logLine(text, data) {
  const item = el("li", text, "note");
  Object.assign(item.dataset, data);
  pushEvent(item);
}

function logEvent(frame, problem) {
  const item = el("li", undefined, problem ? "gap" : `event-${frame.event}`);
  Object.assign(item.dataset, {
    room: frame.room, event: frame.event, action: frame.action, seq: String(frame.seq),
  });
  const head = el("span", `${frame.room} · ${frame.event} ${frame.action} · seq ${frame.seq}`, "head");
  const body = el("span", problem || summary(frame.event, frame.payload), "payload");
  item.append(head, " ", body);
  if (!problem && frame.event === "confusion" && frame.room.startsWith("instructor:")) {
    item.dataset.confusionId = String(frame.payload.id);
    if (!frame.payload.resolved_at) item.append(" ", resolveButton(frame.payload.id));
  }
  pushEvent(item);
}

function pushEvent(item) {
  const list = $("event-list");
  list.prepend(item);
  while (list.childElementCount > EVENT_LIMIT) list.lastElementChild.remove();
}

function resolveButton(id) {
  const button = el("button", "resolve", "resolve");
  button.type = "button";
  button.dataset.confusionId = String(id);
  button.addEventListener("click", () => {
    button.disabled = true;
    send({ type: "resolve_confusion", confusion_id: id });
  });
  return button;
}

function renderRooms() {
  $("rooms").replaceChildren(
    ...[...rooms].map(([room, seq]) => {
      const item = el("li", `${room} · seq ${seq ?? "…"}`);
      item.dataset.room = room;
      return item;
    }),
  );
}

function renderLists() {
  $("notifications").replaceChildren(
    ...[...notifications.values()].map((n) => {
      const item = el("li");
      item.dataset.notificationId = String(n.id);
      const button = el("button", "mark read", "quiet");
      button.type = "button";
      button.addEventListener("click", () => send({ type: "mark_read", notification_ids: [n.id] }));
      item.append(el("strong", n.title), " ", el("span", n.body), " ", button);
      return item;
    }),
  );
  $("confusion-alerts").replaceChildren(
    ...[...alerts.values()].map((c) => {
      const item = el("li", summary("confusion", c));
      item.dataset.confusionId = String(c.id);
      item.append(" ", resolveButton(c.id));
      return item;
    }),
  );
  $("question-alerts").replaceChildren(
    ...[...questions.values()].map((q) => {
      const item = el("li", summary("question", q));
      item.dataset.questionId = String(q.id);
      const answer = el("input");
      answer.type = "text";
      answer.maxLength = 2000;
      answer.placeholder = "answer";
      answer.setAttribute("aria-label", `Answer question ${q.id}`);
      const button = el("button", "answer", "resolve");
      button.type = "button";
      button.addEventListener("click", () => {
        const text = answer.value.trim();
        if (text) send({ type: "answer_question", question_id: q.id, text });
      });
      item.append(" ", answer, " ", button);
      return item;
    }),
  );
  $("my-confusions").replaceChildren(
    ...[...mine.values()].sort((a, b) => b.id - a.id).map((c) => {
      const item = el("li", summary("confusion", c));
      item.dataset.confusionId = String(c.id);
      item.dataset.state = c.resolved_at ? "resolved" : "open";
      return item;
    }),
  );
}

// --- the form -------------------------------------------------------------------------------

function lessonId() {
  const id = Number($("lesson-id").value);
  if (!Number.isInteger(id) || id < 1) {
    $("events-error").textContent = "Set a lesson id first.";
    return null;
  }
  return id;
}

function wire() {
  $("subscribe").addEventListener("click", () => subscribe($("room").value.trim()));
  $("unsubscribe").addEventListener("click", () => unsubscribe($("room").value.trim()));
  $("room").addEventListener("keydown", (e) => {
    if (e.key === "Enter") subscribe($("room").value.trim());
  });
  $("sub-user").addEventListener("click", () => subscribe(`user:${me}`));
  $("sub-instructor").addEventListener("click", () => subscribe(`instructor:${me}`));
  $("mark-all-read").addEventListener("click", () => {
    const ids = [...notifications.keys()].slice(0, 100);
    if (ids.length) send({ type: "mark_read", notification_ids: ids });
  });
  $("clear-events").addEventListener("click", () => $("event-list").replaceChildren());
  $("progress").addEventListener("input", () => {
    $("progress-value").textContent = $("progress").value;
  });
  $("progress").addEventListener("change", () => {
    const lesson_id = lessonId();
    if (lesson_id === null) return;
    send({
      type: "progress", lesson_id, percent: Number($("progress").value),
      position: $("position").value,
    });
  });
  $("ask-question").addEventListener("click", () => {
    const lesson_id = lessonId();
    const text = $("question-text").value.trim();
    if (lesson_id === null) return;
    if (!text) {
      $("events-error").textContent = "Write the question first.";
      return;
    }
    send({ type: "ask_question", lesson_id, text });
  });
  $("mark-confusing").addEventListener("click", () => {
    const lesson_id = lessonId();
    if (lesson_id === null) return;
    send({
      type: "confusion", lesson_id, position: $("position").value, note: $("confusion-note").value,
    });
  });
}

if (panel) {
  wire();
  client = new LecternClient(wsUrl("/ws/events/"), { onFrame: handle, onStatus: setStatus });
  client.connect().catch(() => {});
  window.lecternEvents = { rooms, client }; // for the console (and the browser tests)
}
