// What the playground shows of frames: results as trees, saved rows as admin links, history,
// the tutor chat's transcript and errors with their details. textContent only, no innerHTML.

import { renderMarkdownInto } from "./markdown.js";

const el = (tag, props = {}) => Object.assign(document.createElement(tag), props);

/** A structured result as a tree, or a note that there is none yet. */
export function resultView(result) {
  return result ? tree(result) : el("p", { className: "empty", textContent: "Nothing yet." });
}

/** The context textarea's JSON object; throws with a message the page shows. */
export function parseContext(text) {
  let context;
  try {
    context = JSON.parse(text || "{}");
  } catch (error) {
    throw new Error(`The context is not valid JSON: ${error.message}`);
  }
  if (!context || typeof context !== "object" || Array.isArray(context)) {
    throw new Error("The context must be a JSON object.");
  }
  return context;
}

/** A JSON value as nested lists. */
export function tree(value) {
  if (Array.isArray(value)) {
    const list = el("ol", { start: 0 });
    for (const item of value) {
      const li = el("li");
      li.append(tree(item));
      list.append(li);
    }
    return list;
  }
  if (value && typeof value === "object") {
    const dl = el("dl");
    for (const [key, item] of Object.entries(value)) {
      const dd = el("dd");
      dd.append(tree(item));
      if (key === "title") dd.classList.add("title");
      dl.append(el("dt", { textContent: key }), dd);
    }
    return dl;
  }
  return el("span", {
    className: `scalar ${value === null ? "null" : typeof value}`,
    textContent: typeof value === "string" ? value : JSON.stringify(value),
  });
}

/**
 * The rows a `saved` frame names, each a link to its admin change page.
 * @param {{objects: {type: string, id: number}[], created: boolean}} frame
 * @param {Record<string, string>} adminUrls object type -> URL with `__id__` for the id
 */
export function savedItems(frame, adminUrls) {
  const items = frame.objects.map((o) => {
    const label = `${o.type} #${o.id}`;
    const url = adminUrls[o.type];
    const li = el("li");
    li.append(
      url
        ? el("a", { href: url.replace("__id__", String(o.id)), textContent: label, target: "_blank" })
        : label,
    );
    return li;
  });
  const note = el("li", {
    className: "note",
    textContent: frame.created ? "created" : "already saved: nothing new written",
  });
  return [note, ...items];
}

/** A `history` page as list items. */
export function historyItems(frame) {
  return frame.messages.map((m) => {
    const li = el("li");
    li.append(
      el("strong", { textContent: `${m.role} · ${m.status} · ${m.created_at}` }),
      el("pre", { textContent: m.content.length > 400 ? `${m.content.slice(0, 400)}…` : m.content }),
    );
    return li;
  });
}

/** How a `complete` frame or a history message marks an answer no model wrote this time. */
export const markOf = (m) => (m.cached ? "cached" : m.fallback ? "fallback" : null);

/**
 * A tutor transcript rebuilt from a `history` frame (newest first): questions and the answers
 * that completed, oldest first.
 */
export function transcriptOf(frame) {
  return [...frame.messages].reverse().flatMap((m) => {
    if (m.role === "user") return [{ role: "user", text: m.content }];
    if (m.status !== "completed") return [];
    const text = typeof m.data?.text === "string" ? m.data.text : m.content;
    return [{ role: "assistant", text, message_id: m.id, mark: markOf(m) }];
  });
}

/**
 * The user's conversations (a `conversations` frame) as rows: title, status, last activity,
 * an Open and an Archive (or Unarchive) button carrying the conversation's id.
 */
export function conversationItems(frame) {
  if (!frame.items.length) {
    return [el("li", { className: "empty", textContent: frame.archived ? "No archived conversations." : "No conversations yet." })];
  }
  return frame.items.map((c) => {
    const li = el("li", { className: "conversation-item" });
    li.dataset.conversationId = c.id;
    li.dataset.status = c.status;
    const when = new Date(c.last_activity).toLocaleString();
    const open = el("button", { type: "button", className: "open", textContent: c.title || "untitled" });
    open.dataset.conversationId = c.id;
    const archive = el("button", {
      type: "button", className: "archive quiet", textContent: c.status === "archived" ? "unarchive" : "archive",
    });
    archive.dataset.conversationId = c.id;
    archive.dataset.archived = String(c.status !== "archived");
    li.append(open, el("small", { textContent: ` ${c.status}${c.generating ? " · answering" : ""} · ${when} ` }), archive);
    return li;
  });
}

/**
 * The tutor chat as a transcript: every turn so far, then the answer being written.
 * @param {HTMLElement} container
 * @param {{role: "user"|"assistant", text: string}[]} turns
 * @param {string|null} current the streaming answer's text, if one is streaming
 */
export function renderTranscript(container, turns, current) {
  const shown = current === null ? turns : [...turns, { role: "assistant", text: current, live: true }];
  if (!shown.length) {
    container.replaceChildren(el("p", { className: "empty", textContent: "Nothing yet." }));
    return;
  }
  container.replaceChildren(
    ...shown.map((turn) => {
      const item = el("div", { className: `turn ${turn.role}${turn.live ? " live" : ""}` });
      item.dataset.role = turn.role;
      const body = el("div", { className: "markdown" });
      if (turn.role === "assistant") renderMarkdownInto(body, turn.text);
      else body.textContent = turn.text;
      item.append(el("span", { className: "who", textContent: turn.role === "user" ? "You" : "Tutor" }));
      if (turn.mark) {
        // Not the model's answer this time: from the answer cache, or built from the lesson.
        const mark = el("span", { className: `mark ${turn.mark}`, textContent: turn.mark });
        mark.dataset.mark = turn.mark;
        item.append(mark);
      }
      item.append(body);
      return item;
    }),
  );
}

/**
 * An `error` (or `auth_error`) frame as the page shows it: "code: message", when to retry,
 * and one line per detail.
 */
export function errorView(frame) {
  let text = `${frame.code}: ${frame.message}`;
  if (frame.retry_after != null) text += ` (retry after ${frame.retry_after} s)`;
  const details = (frame.details || []).map((d) =>
    d && typeof d === "object" && "message" in d
      ? `${d.field ?? d.loc ?? "request"}: ${d.message}`
      : JSON.stringify(d),
  );
  return { text, details };
}

/** One frame of the log: a summary line that opens on the whole frame. */
export function logEntry(direction, frame) {
  const shown = frame.type === "auth" ? { ...frame, token: "…" } : frame;
  const item = el("li", { className: `${direction} type-${frame.type}` });
  Object.assign(item.dataset, { direction, type: frame.type });
  if (frame.code) item.dataset.code = frame.code;
  const parts = [direction === "in" ? "←" : "→", frame.type];
  if (frame.type === "streaming") parts.push(`#${frame.index}`);
  if (frame.code) parts.push(frame.code);
  if (frame.request_id) parts.push(`rid=${frame.request_id}`);
  if (frame.message) parts.push(`· ${frame.message}`);
  const details = el("details");
  details.append(
    el("summary", { textContent: parts.join(" ") }),
    el("pre", { textContent: JSON.stringify(shown, null, 2) }),
  );
  item.append(details);
  return item;
}
