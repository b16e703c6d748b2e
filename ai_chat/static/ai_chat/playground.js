// The playground page: one LecternClient per endpoint, a frame log, and resume after reload.
// Server data only ever reaches the page through textContent, never through innerHTML.

import { LecternClient } from "./lectern-client.js";
import {
  conversationItems, errorView, historyItems, logEntry, markOf, parseContext, renderTranscript,
  resultView, savedItems, transcriptOf,
} from "./playground-view.js";

const STORE_KEY = "lectern.playground";
const OFFLINE_MODEL = "offline-placeholder";
const LOG_LIMIT = 1000;
// Frames that answer a `message` or `refinement` for good (`conversation` comes before these).
const ANSWERS = new Set(["started", "complete", "cancelled", "error", "auth_error"]);

const $ = (id) => document.getElementById(id);
const endpoints = JSON.parse($("endpoints").textContent);
const adminUrls = JSON.parse($("admin-urls").textContent);
// The server says whether the offline provider answers, before any generation.
const serverOffline = $("offline-banner").dataset.serverOffline === "true";
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
      listConversations();
      break;
    case "welcome": // the tutor chat greets once the socket is ready
      state.welcome = frame.text;
      break;
    case "conversations":
      $("conversation-list").replaceChildren(...conversationItems(frame));
      break;
    case "conversation_updated":
      listConversations();
      break;
    case "conversation":
      if (frame.conversation_id !== state.conversation_id) {
        state.completed_message_id = null;
        state.transcript = [];
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
      if (frame.request_id && frame.request_id === state.awaiting && state.awaitingText) {
        state.transcript = [...(state.transcript || []), { role: "user", text: state.awaitingText }];
      }
      setError(null);
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
      if (state.kind === "chat" && typeof frame.data?.text === "string") addAnswer(frame);
      listConversations(); // a new conversation, or one that moved to the top
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
      $("saved").replaceChildren(...savedItems(frame, adminUrls));
      break;
    case "history":
      if (frame.conversation_id === state.opening) {
        // An old conversation opened from the list: its transcript, ready to continue.
        state.transcript = transcriptOf(frame);
        state.opening = null;
        break;
      }
      $("history-list").replaceChildren(...historyItems(frame));
      break;
    case "error":
    case "auth_error":
      setError(frame);
      break;
  }
  // Send stays disabled from the click until the request is answered (a double click sent two).
  if (frame.request_id && frame.request_id === state.awaiting && ANSWERS.has(frame.type)) {
    state.awaiting = state.awaitingText = null;
  }
  // The client knows when a followed generation ended (its final frame, error included).
  if (state.streaming && !client.isFollowing(state.message_id)) state.streaming = false;
  persist();
  render();
}

function logFrame(direction, frame) {
  const log = $("frame-log");
  log.append(logEntry(direction, frame));
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
  $("offline-banner").hidden = !serverOffline && state.model !== OFFLINE_MODEL;
  const chat = state.kind === "chat";
  if (chat) {
    const live = state.streaming ? (state.preview?.text ?? state.text ?? "") : null;
    renderTranscript($("preview"), state.transcript || [], live); // sanitised markdown, no innerHTML
    $("preview").classList.add("transcript");
  } else {
    $("preview").classList.remove("transcript");
    $("preview").replaceChildren(resultView(state.preview));
  }
  $("typing").hidden = !(chat && state.typing);
  $("welcome").hidden = !(chat && state.welcome);
  $("welcome").textContent = state.welcome || "";
  for (const row of $("conversation-list").querySelectorAll("li[data-conversation-id]")) {
    row.toggleAttribute("data-current", row.dataset.conversationId === state.conversation_id);
  }
  $("feedback").hidden = !(chat && state.completed_message_id && !state.streaming);
  $("feedback-status").textContent = state.feedback || "";
  const has = Boolean(state.conversation_id);
  const busy = Boolean(state.streaming || state.awaiting);
  $("send").disabled = busy;
  $("refine").disabled = !has || busy;
  $("new").disabled = !has || busy;
  $("save").disabled = !has || state.streaming;
  $("history").disabled = !has;
  $("cancel").disabled = !state.streaming;
}

function addAnswer(frame) {
  const turns = state.transcript || [];
  if (turns.some((t) => t.message_id === frame.message_id)) return; // a resume replays it
  state.transcript = [
    ...turns,
    { role: "assistant", text: frame.data.text, message_id: frame.message_id, mark: markOf(frame) },
  ];
}

/** Ask for this endpoint's conversations (the socket answers `conversations`). */
function listConversations() {
  if (!client) return;
  try {
    client.request({ type: "conversations", archived: $("conversations-archived").checked, page_size: 20 });
  } catch {
    // not connected yet: asked again on `auth_success`
  }
}

/** Open a conversation of the list: its messages replace the page's, and Send continues it. */
function openConversation(id, title) {
  state = {
    kind: state.kind, prompt: state.prompt, context: state.context, welcome: state.welcome,
    conversation_id: id, title, transcript: [], opening: id,
  };
  $("saved").replaceChildren();
  $("history-list").replaceChildren();
  setError(null);
  persist();
  render();
  act(() => ({ type: "history", conversation_id: id, limit: 100 }));
}

/** Show an error frame (code, message, retry_after, details), or clear with null. */
function setError(frame) {
  const view = frame ? errorView(frame) : { text: "", details: [] };
  $("last-error").textContent = view.text;
  $("error-details").replaceChildren(
    ...view.details.map((line) => Object.assign(document.createElement("li"), { textContent: line })),
  );
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

const readContext = () => parseContext($("context").value);

function act(build) {
  $("local-error").textContent = "";
  try {
    return client.request(build());
  } catch (error) {
    $("local-error").textContent = error.message;
    return null;
  }
}

/** Send a `message` or `refinement`; nothing more is sent until it is answered. */
function generate(build) {
  if (state.streaming || state.awaiting) return;
  const content = $("prompt").value;
  const requestId = act(build);
  if (!requestId) return;
  Object.assign(state, { awaiting: requestId, awaitingText: content });
  render();
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
  setError(null);
  render();
  connect(kind);
});
$("prompt").addEventListener("input", rememberForm);
$("context").addEventListener("input", rememberForm);
// The tutor chat continues its conversation (New starts over); other kinds start a new one.
const followUp = () => (state.kind === "chat" ? state.conversation_id || null : null);
$("send").addEventListener("click", () =>
  generate(() => ({ type: "message", content: $("prompt").value, conversation_id: followUp(), context: readContext() })),
);
$("refine").addEventListener("click", () =>
  generate(() => ({ type: "refinement", conversation_id: state.conversation_id, content: $("prompt").value })),
);
$("new").addEventListener("click", () => {
  state = { kind: state.kind, prompt: state.prompt, context: state.context };
  $("saved").replaceChildren();
  $("history-list").replaceChildren();
  setError(null);
  persist();
  render();
});
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
$("conversation-list").addEventListener("click", (event) => {
  const button = event.target.closest("button[data-conversation-id]");
  if (!button || state.streaming || state.awaiting) return;
  const id = button.dataset.conversationId;
  if (button.classList.contains("open")) openConversation(id, button.textContent);
  else act(() => ({ type: "update_conversation", conversation_id: id, archived: button.dataset.archived === "true" }));
});
$("conversations-refresh").addEventListener("click", listConversations);
$("conversations-archived").addEventListener("change", listConversations);

// --- start ----------------------------------------------------------------------------------

const initial = byKind[state.kind] ? state.kind : endpoints[0].kind;
state.kind = initial;
state.typing = false; // the server says again if the tutor is still typing
state.awaiting = state.awaitingText = null; // the page that sent it is gone
fillForm(initial, { keepValues: true });
render();
connect(initial);
