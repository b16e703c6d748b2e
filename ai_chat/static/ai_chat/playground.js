// The playground page: one LecternClient per endpoint, a frame log, and resume after reload.
// Server data only ever reaches the page through textContent, never through innerHTML.

import { LecternClient } from "./lectern-client.js";
import { renderMarkdownInto } from "./markdown.js";

const STORE_KEY = "lectern.playground";
const OFFLINE_MODEL = "offline-placeholder";
const LOG_LIMIT = 1000;

const $ = (id) => document.getElementById(id);
const endpoints = JSON.parse($("endpoints").textContent);
const byKind = Object.fromEntries(endpoints.map((e) => [e.kind, e]));

/**
 * What survives a reload (sessionStorage): the endpoint, the form, and the generation being
 * followed with the text received so far and the last `streaming` index seen.
 */
let state = load();
/** @type {LecternClient|null} */
let client = null;

function load() {
  try {
    return JSON.parse(sessionStorage.getItem(STORE_KEY)) || {};
  } catch {
    return {};
  }
}

function persist() {
  sessionStorage.setItem(STORE_KEY, JSON.stringify(state));
}

// --- connection -----------------------------------------------------------------------------

function wsUrl(path) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${location.host}${path}`;
}

function connect(kind) {
  if (client) client.close();
  client = new LecternClient(wsUrl(byKind[kind].path), {
    // Signed in with the Django session cookie: no token needed. A Firebase frontend would pass
    // getToken: () => firebase.auth().currentUser.getIdToken().
    onFrame: (frame) => {
      logFrame("in", frame);
      handle(frame);
    },
    onSend: (frame) => logFrame("out", frame),
    onStatus: (status, detail) => {
      const el = $("status");
      el.dataset.status = status;
      el.textContent = detail?.code ? `${status} (close ${detail.code})` : status;
    },
  });
  client.connect().catch(() => {});
  if (state.streaming && state.conversation_id) {
    // A reload in the middle of a generation: pick it up after the last chunk kept.
    client.request({
      type: "resume",
      conversation_id: state.conversation_id,
      message_id: state.message_id,
      after_index: state.index ?? -1,
    });
  }
}

// --- frames ---------------------------------------------------------------------------------

function handle(frame) {
  switch (frame.type) {
    case "auth_success":
      $("status").title = `signed in as ${frame.user.display_name || frame.user.email}`;
      break;
    case "conversation":
      if (frame.conversation_id !== state.conversation_id) {
        state.completed_message_id = null;
        $("saved").replaceChildren();
        $("history-list").replaceChildren();
      }
      Object.assign(state, { conversation_id: frame.conversation_id, title: frame.title });
      break;
    case "started":
      Object.assign(state, {
        message_id: frame.message_id, index: -1, text: "", preview: null, streaming: true,
        feedback: "",
      });
      setError("");
      break;
    case "streaming":
      if (frame.message_id !== state.message_id || frame.index <= (state.index ?? -1)) break;
      state.text = (state.text || "") + frame.chunk;
      state.index = frame.index;
      if (frame.partial) state.preview = frame.partial;
      break;
    case "complete":
      Object.assign(state, {
        preview: frame.data, model: frame.model, usage: frame.usage, streaming: false,
        completed_message_id: frame.message_id,
      });
      break;
    case "cancelled":
      state.streaming = false;
      break;
    case "typing": // the tutor chat only
      state.typing = Boolean(frame.active);
      break;
    case "feedback_saved":
      state.feedback = `Feedback saved for ${frame.message_id}`;
      break;
    case "saved":
      showSaved(frame);
      break;
    case "history":
      showHistory(frame);
      break;
    case "error":
    case "auth_error":
      setError(`${frame.code}: ${frame.message}`);
      break;
  }
  // The client knows when a followed generation ended (its final frame, error included).
  if (state.streaming && !client.isFollowing(state.message_id)) state.streaming = false;
  persist();
  render();
}

function logFrame(direction, frame) {
  const shown = frame.type === "auth" ? { ...frame, token: "…" } : frame;
  const item = document.createElement("li");
  item.className = `${direction} type-${frame.type}`;
  Object.assign(item.dataset, { direction, type: frame.type });
  if (frame.code) item.dataset.code = frame.code;
  const details = document.createElement("details");
  const summary = document.createElement("summary");
  const parts = [direction === "in" ? "←" : "→", frame.type];
  if (frame.type === "streaming") parts.push(`#${frame.index}`);
  if (frame.code) parts.push(frame.code);
  if (frame.request_id) parts.push(`rid=${frame.request_id}`);
  if (frame.message) parts.push(`· ${frame.message}`);
  summary.textContent = parts.join(" ");
  const body = document.createElement("pre");
  body.textContent = JSON.stringify(shown, null, 2);
  details.append(summary, body);
  item.append(details);
  const log = $("frame-log");
  log.append(item);
  while (log.childElementCount > LOG_LIMIT) log.firstElementChild.remove();
  log.scrollTop = log.scrollHeight;
}

// --- rendering ------------------------------------------------------------------------------

function render() {
  const text = $("text");
  if (text.textContent !== (state.text || "")) {
    text.textContent = state.text || "";
    text.scrollTop = text.scrollHeight;
  }
  $("stream-state").textContent = state.streaming ? "streaming…" : "";
  $("conversation").textContent = state.conversation_id
    ? `${state.conversation_id} (${state.title || "untitled"})`
    : "none";
  $("message").textContent = state.message_id || "none";
  $("model").textContent = state.model || "unknown";
  $("usage").textContent = state.usage
    ? `${state.usage.input_tokens} in / ${state.usage.output_tokens} out`
    : "-";
  $("offline-banner").hidden = state.model !== OFFLINE_MODEL;
  const chat = state.kind === "chat";
  if (chat && typeof state.preview?.text === "string") {
    renderMarkdownInto($("preview"), state.preview.text); // sanitised: DOM nodes, no innerHTML
    $("preview").classList.add("markdown");
  } else {
    $("preview").classList.remove("markdown");
    $("preview").replaceChildren(
      state.preview ? tree(state.preview) : Object.assign(document.createElement("p"), {
        className: "empty", textContent: "Nothing yet.",
      }),
    );
  }
  $("typing").hidden = !(chat && state.typing);
  $("feedback").hidden = !(chat && state.completed_message_id && !state.streaming);
  $("feedback-status").textContent = state.feedback || "";
  const has = Boolean(state.conversation_id);
  $("refine").disabled = !has || state.streaming;
  $("save").disabled = !has || state.streaming;
  $("history").disabled = !has;
  $("cancel").disabled = !state.streaming;
}

/** A JSON value as nested lists, built with textContent only. */
function tree(value) {
  if (Array.isArray(value)) {
    const list = document.createElement("ol");
    list.start = 0;
    for (const item of value) {
      const li = document.createElement("li");
      li.append(tree(item));
      list.append(li);
    }
    return list;
  }
  if (value && typeof value === "object") {
    const dl = document.createElement("dl");
    for (const [key, item] of Object.entries(value)) {
      const dt = Object.assign(document.createElement("dt"), { textContent: key });
      const dd = document.createElement("dd");
      dd.append(tree(item));
      if (key === "title") dd.classList.add("title");
      dl.append(dt, dd);
    }
    return dl;
  }
  return Object.assign(document.createElement("span"), {
    className: `scalar ${value === null ? "null" : typeof value}`,
    textContent: typeof value === "string" ? value : JSON.stringify(value),
  });
}

function showSaved(frame) {
  const items = frame.objects.map((o) =>
    Object.assign(document.createElement("li"), { textContent: `${o.type} #${o.id}` }),
  );
  const note = Object.assign(document.createElement("li"), {
    className: "note",
    textContent: frame.created ? "created" : "already saved: nothing new written",
  });
  $("saved").replaceChildren(note, ...items);
}

function showHistory(frame) {
  $("history-list").replaceChildren(
    ...frame.messages.map((m) => {
      const li = document.createElement("li");
      const head = Object.assign(document.createElement("strong"), {
        textContent: `${m.role} · ${m.status} · ${m.created_at}`,
      });
      const body = Object.assign(document.createElement("pre"), {
        textContent: m.content.length > 400 ? `${m.content.slice(0, 400)}…` : m.content,
      });
      li.append(head, body);
      return li;
    }),
  );
}

function setError(text) {
  $("last-error").textContent = text;
}

// --- the form -------------------------------------------------------------------------------

function fillForm(kind, { keepValues = false } = {}) {
  const endpoint = byKind[kind];
  $("endpoint").value = kind;
  if (!keepValues || !state.prompt) $("prompt").value = endpoint.prompt;
  else $("prompt").value = state.prompt;
  // No example context when the user has no row the kind is about: the server says why.
  const example = endpoint.context ?? {};
  if (!keepValues || !state.context) $("context").value = JSON.stringify(example, null, 2);
  else $("context").value = state.context;
  $("local-error").textContent = endpoint.missing || "";
}

function readContext() {
  let context;
  try {
    context = JSON.parse($("context").value || "{}");
  } catch (error) {
    throw new Error(`The context is not valid JSON: ${error.message}`);
  }
  if (!context || typeof context !== "object" || Array.isArray(context)) {
    throw new Error("The context must be a JSON object.");
  }
  return context;
}

function act(build) {
  $("local-error").textContent = "";
  try {
    client.request(build());
  } catch (error) {
    $("local-error").textContent = error.message;
  }
}

function rememberForm() {
  state.prompt = $("prompt").value;
  state.context = $("context").value;
  persist();
}

$("endpoint").addEventListener("change", () => {
  const kind = $("endpoint").value;
  state = { kind };
  fillForm(kind);
  rememberForm();
  $("saved").replaceChildren();
  $("history-list").replaceChildren();
  setError("");
  render();
  connect(kind);
});
$("prompt").addEventListener("input", rememberForm);
$("context").addEventListener("input", rememberForm);
$("send").addEventListener("click", () =>
  act(() => ({ type: "message", content: $("prompt").value, conversation_id: null, context: readContext() })),
);
$("refine").addEventListener("click", () =>
  act(() => ({ type: "refinement", conversation_id: state.conversation_id, content: $("prompt").value })),
);
$("cancel").addEventListener("click", () =>
  act(() => ({ type: "cancel", conversation_id: state.conversation_id })),
);
$("save").addEventListener("click", () =>
  act(() => {
    const frame = { type: "save", conversation_id: state.conversation_id };
    if (state.completed_message_id) frame.message_id = state.completed_message_id;
    return frame;
  }),
);
$("history").addEventListener("click", () =>
  act(() => ({ type: "history", conversation_id: state.conversation_id, limit: 20 })),
);
for (const button of document.querySelectorAll("#feedback button.rate")) {
  button.addEventListener("click", () =>
    act(() => ({
      type: "feedback", message_id: state.completed_message_id,
      rating: Number(button.dataset.rating), comment: $("feedback-comment").value,
    })),
  );
}
$("clear-log").addEventListener("click", () => $("frame-log").replaceChildren());

// --- start ----------------------------------------------------------------------------------

const initial = byKind[state.kind] ? state.kind : endpoints[0].kind;
state.kind = initial;
state.typing = false; // the server says again if the tutor is still typing
fillForm(initial, { keepValues: true });
render();
connect(initial);
