// LecternClient: a small, dependency-free WebSocket client for the Lectern wire protocol
// (PROTOCOL.md). Any frontend can import it: `import { LecternClient } from "./lectern-client.js"`.

/**
 * @typedef {{id: number, email: string, display_name: string}} User
 * @typedef {{type: "auth", token: string, request_id?: string}} AuthFrame
 * @typedef {{type: "message", content: string, conversation_id?: string|null, context?: object, request_id?: string}} MessageFrame
 * @typedef {{type: "refinement", conversation_id: string, content: string, request_id?: string}} RefinementFrame
 * @typedef {{type: "save", conversation_id: string, message_id?: string, request_id?: string}} SaveFrame
 * @typedef {{type: "cancel", conversation_id: string, request_id?: string}} CancelFrame
 * @typedef {{type: "resume", conversation_id: string, message_id?: string, after_index?: number, request_id?: string}} ResumeFrame
 * @typedef {{type: "history", conversation_id: string, before?: string, limit?: number, request_id?: string}} HistoryFrame
 * @typedef {{type: "ping", request_id?: string}} PingFrame
 * @typedef {AuthFrame|MessageFrame|RefinementFrame|SaveFrame|CancelFrame|ResumeFrame|HistoryFrame|PingFrame} ClientFrame
 *
 * @typedef {{type: "auth_success", user: User, request_id?: string}} AuthSuccessFrame
 * @typedef {{type: "auth_error", code: "invalid_token"|"expired_token"|"revoked_token"|"user_disabled"|"auth_required"|"auth_timeout", message: string}} AuthErrorFrame
 * @typedef {{type: "conversation", conversation_id: string, kind: string, created: boolean, title: string, request_id?: string}} ConversationFrame
 * @typedef {{type: "started", conversation_id: string, message_id: string, request_id?: string}} StartedFrame
 * @typedef {{type: "streaming", conversation_id: string, message_id: string, index: number, chunk: string, partial?: object, request_id?: string}} StreamingFrame
 * @typedef {{type: "complete", conversation_id: string, message_id: string, data: object, usage: {input_tokens: number, output_tokens: number}, model: string, request_id?: string}} CompleteFrame
 * @typedef {{type: "saved", conversation_id: string, message_id: string, objects: {type: string, id: number}[], created: boolean, request_id?: string}} SavedFrame
 * @typedef {{type: "cancelled", conversation_id: string, message_id: string, request_id?: string}} CancelledFrame
 * @typedef {{id: string, role: "user"|"assistant", content: string, data: object|null, status: string, created_at: string}} HistoryMessage
 * @typedef {{type: "history", conversation_id: string, messages: HistoryMessage[], has_more: boolean, request_id?: string}} HistoryPageFrame
 * @typedef {{type: "error", code: string, message: string, retryable: boolean, retry_after?: number, details?: object[], conversation_id?: string, request_id?: string}} ErrorFrame
 * @typedef {{type: "pong", request_id?: string}} PongFrame
 * @typedef {AuthSuccessFrame|AuthErrorFrame|ConversationFrame|StartedFrame|StreamingFrame|CompleteFrame|SavedFrame|CancelledFrame|HistoryPageFrame|ErrorFrame|PongFrame} ServerFrame
 *
 * @typedef {"connecting"|"authenticating"|"ready"|"reconnecting"|"closed"} Status
 * @typedef {{
 *   getToken?: () => Promise<string>,
 *   onFrame?: (frame: ServerFrame) => void,
 *   onSend?: (frame: ClientFrame) => void,
 *   onStatus?: (status: Status, detail?: {code?: number, delay?: number}) => void,
 * }} Options
 * @typedef {{conversation_id: string, message_id: string, index: number, request_id: string}} Stream
 */

/** Close codes after which reconnecting cannot help (PROTOCOL.md, Authentication). */
export const FINAL_CLOSE_CODES = new Set([4401, 4429]);
export const PING_INTERVAL_MS = 25_000;
const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 30_000;
const ENDS = new Set(["complete", "cancelled", "error"]);

let counter = 0;
/** A request_id unique within this page. */
export function newRequestId() {
  counter += 1;
  return `r${Date.now().toString(36)}-${counter}`;
}

export class LecternClient {
  /** @param {string} url @param {Options} [options] */
  constructor(url, { getToken, onFrame, onSend, onStatus } = {}) {
    this.url = url;
    this.getToken = getToken;
    this.onFrame = onFrame || (() => {});
    this.onSend = onSend || (() => {});
    this.onStatus = onStatus || (() => {});
    /** @type {WebSocket|null} */ this.ws = null;
    this.ready = false;
    this.closed = false;
    this.attempt = 0;
    this.resumeOnReady = false;
    /** @type {ClientFrame[]} frames waiting for auth_success */ this.queue = [];
    /** @type {Map<string, {frame: ClientFrame, retried: boolean}>} awaiting their first answer */
    this.pending = new Map();
    /** @type {Map<string, Stream>} generations followed, by message_id */ this.streams = new Map();
    this.pingTimer = this.reconnectTimer = null;
  }

  /** Opens the socket; resolves on the first `auth_success`, rejects on `auth_error`. */
  connect() {
    this.closed = false;
    this.firstAuth = new Promise((resolve, reject) => {
      this.resolveAuth = resolve;
      this.rejectAuth = reject;
    });
    this.open();
    return this.firstAuth;
  }

  /** Sends a client frame (queued until signed in); returns its request_id. */
  request(/** @type {ClientFrame} */ frame) {
    const request_id = frame.request_id || newRequestId();
    const full = { ...frame, request_id };
    this.pending.set(request_id, { frame: full, retried: false });
    if (full.type === "resume") {
      // A resumed generation is followed like one this client started.
      const id = full.message_id || `conversation:${full.conversation_id}`;
      this.streams.set(id, {
        conversation_id: full.conversation_id, message_id: full.message_id || "",
        index: full.after_index ?? -1, request_id,
      });
    }
    if (this.ready) this.send(full);
    else this.queue.push(full);
    return request_id;
  }

  /** Whether a generation (by message_id) is still being followed to its final frame. */
  isFollowing(message_id) {
    return this.streams.has(message_id);
  }

  /** Closes for good: no reconnect. */
  close(code = 1000) {
    const already = this.closed;
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    this.stopPing();
    if (this.ws) this.ws.close(code);
    else if (!already) this.onStatus("closed", { code });
  }

  // --- internals ------------------------------------------------------------------------

  open() {
    this.ready = false;
    this.onStatus("connecting");
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.onopen = () => this.opened(ws);
    ws.onmessage = (event) => this.received(event.data);
    ws.onclose = (event) => this.lost(ws, event.code);
  }

  async opened(ws) {
    this.onStatus("authenticating");
    if (!this.getToken) return; // session-cookie sign-in: the server sends auth_success itself
    try {
      const token = await this.getToken();
      if (ws === this.ws) this.send({ type: "auth", token });
    } catch (error) {
      if (ws === this.ws) ws.close(4000, "no token");
    }
  }

  lost(ws, code) {
    if (ws !== this.ws) return;
    this.ws = null;
    this.ready = false;
    this.resumeOnReady = true;
    this.pending.clear(); // requests in flight are not resent; generations are resumed below
    this.stopPing();
    if (this.closed || FINAL_CLOSE_CODES.has(code)) {
      this.closed = true;
      this.onStatus("closed", { code });
      this.rejectAuth?.(new Error(`closed with code ${code}`));
      return;
    }
    // Exponential backoff, capped, with jitter: a random delay in [ceiling / 2, ceiling].
    const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** this.attempt);
    const delay = Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
    this.attempt += 1;
    this.onStatus("reconnecting", { code, delay });
    this.reconnectTimer = setTimeout(() => this.open(), delay);
  }

  send(frame) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) {
      if (frame.type !== "ping" && frame.type !== "auth") this.queue.push(frame);
      return;
    }
    this.ws.send(JSON.stringify(frame));
    this.onSend(frame);
  }

  received(text) {
    let frame;
    try { frame = JSON.parse(text); } catch { return; }
    if (frame.type === "auth_success") {
      this.onFrame(frame);
      return this.signedIn();
    }
    if (frame.type === "auth_error") this.rejectAuth?.(Object.assign(new Error(frame.message), frame));
    if (this.tokenExpired(frame)) return;
    if (!this.track(frame)) return;
    if (frame.request_id) this.pending.delete(frame.request_id);
    this.onFrame(frame);
  }

  signedIn() {
    const reconnected = this.resumeOnReady;
    this.resumeOnReady = false;
    this.ready = true;
    this.attempt = 0;
    this.startPing();
    this.onStatus("ready");
    this.resolveAuth?.();
    if (reconnected) {
      // Pick up every generation that was streaming where this client left it.
      const streams = [...this.streams.values()];
      this.streams.clear(); // request() tracks each again under its new request_id
      for (const stream of streams) {
        const { conversation_id, message_id, index } = stream;
        this.request({ type: "resume", conversation_id, after_index: index, ...(message_id && { message_id }) });
      }
    }
    this.flush();
  }

  flush() {
    const queued = this.queue;
    this.queue = [];
    queued.forEach((frame) => this.send(frame));
  }

  /** On `token_expired`, get a fresh token, send `auth`, retry the request once. */
  tokenExpired(frame) {
    if (frame.type !== "error" || frame.code !== "token_expired" || !this.getToken) return false;
    const entry = this.pending.get(frame.request_id);
    if (!entry || entry.retried) return false;
    entry.retried = true;
    this.queue.push(entry.frame);
    if (!this.ready) return true; // a refresh is under way: this retry waits for it too
    this.ready = false; // hold other requests until the fresh auth_success
    this.getToken().then(
      (token) => this.send({ type: "auth", token }),
      () => {
        this.ready = true;
        this.onFrame(frame);
        this.flush();
      },
    );
    return true;
  }

  /** Follows generation state; returns false for a duplicate chunk (already seen). */
  track(frame) {
    const rid = frame.request_id;
    if (frame.type === "started") {
      const { conversation_id, message_id } = frame;
      this.streams.set(message_id, { conversation_id, message_id, index: -1, request_id: rid });
      return true;
    }
    let key = frame.message_id;
    if (!this.streams.has(key)) {
      // A resume sent without message_id is keyed by its conversation until frames name it.
      const byRequest = [...this.streams].find(([, s]) => s.request_id && s.request_id === rid);
      if (byRequest) key = byRequest[0];
    }
    const stream = this.streams.get(key);
    if (!stream) return true;
    if (frame.message_id && key !== frame.message_id) {
      this.streams.delete(key);
      stream.message_id = frame.message_id;
      this.streams.set(frame.message_id, stream);
      key = frame.message_id;
    }
    if (frame.type === "streaming") {
      if (frame.index <= stream.index) return false;
      stream.index = frame.index;
    } else if (ENDS.has(frame.type) && (frame.message_id || rid === stream.request_id)) {
      this.streams.delete(key);
    }
    return true;
  }

  startPing() {
    this.stopPing();
    this.pingTimer = setInterval(() => this.send({ type: "ping" }), PING_INTERVAL_MS);
  }

  stopPing() {
    clearInterval(this.pingTimer);
  }
}
