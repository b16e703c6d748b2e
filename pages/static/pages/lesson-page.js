// The lesson page: the lesson rendered from sanitised markdown (the playground's renderer:
// DOM nodes and textContent only), its sources, and for a lesson not written yet, its
// generation started on opening and followed live on `lesson:{id}` until the content appears.

import { renderMarkdownInto, safeHref } from "../ai_chat/markdown.js";
import { api } from "./api.js";
import { follow } from "./live.js";
import { QuestionList } from "./questions.js";

const root = document.getElementById("lesson");
const lessonId = Number(root.dataset.lessonId);
const generationOn = root.dataset.generation === "on";
const $ = (id) => document.getElementById(id);
let lesson = JSON.parse($("lesson-data").textContent);
let asked = false;

function renderSources(sources) {
  const list = $("source-list");
  list.replaceChildren();
  for (const source of sources || []) {
    const item = document.createElement("li");
    const href = safeHref(source.uri);
    const node = document.createElement(href ? "a" : "span");
    node.textContent = source.title || source.uri;
    if (href) {
      node.href = href;
      node.rel = "noopener noreferrer";
      node.target = "_blank";
    }
    item.append(node);
    if (source.path) {
      // a repository document: where it is, so a reader can find it without a link
      const where = document.createElement("code");
      where.className = "source-path";
      where.textContent = source.heading ? `${source.path} › ${source.heading}` : source.path;
      item.append(" ", where);
    }
    list.append(item);
  }
  // Google's search suggestions, required beside grounded content: its own sandboxed document
  // (pages.views.lesson_search_suggestions says why), reloaded when the lesson was regenerated.
  const frame = $("search-suggestions");
  const suggested = Boolean(lesson.search_suggestions);
  const src = suggested ? `${frame.dataset.src}?v=${encodeURIComponent(lesson.updated_at || "")}` : "";
  if (suggested && frame.getAttribute("src") !== src) frame.setAttribute("src", src);
  if (!suggested) frame.removeAttribute("src");
  frame.hidden = !suggested;
  $("sources").hidden = !list.children.length && !suggested;
}

function render() {
  const status = lesson.generation_status;
  root.dataset.status = status;
  $("lesson-badge").dataset.status = status;
  $("lesson-badge").textContent = status;
  $("progress").hidden = status !== "generating" && !(status === "pending" && asked);
  $("failed").hidden = status !== "failed";
  $("failed-reason").textContent = lesson.generation_error || "";
  $("retry").hidden = !generationOn;
  $("unavailable").hidden = !(status === "pending" && !generationOn);
  if (status === "completed") renderMarkdownInto($("content"), lesson.content);
  else $("content").replaceChildren();
  renderSources(lesson.sources);
}

async function refresh() {
  try {
    lesson = await api(`/api/lessons/${lessonId}`);
  } catch (error) {
    $("progress-detail").textContent = error.message;
  }
  render();
}

async function generate() {
  asked = true;
  render();
  try {
    const answer = await api(`/api/lessons/${lessonId}/generate`, {
      method: "POST", body: { force: false },
    });
    if (answer?.lesson) lesson = answer.lesson;
  } catch (error) {
    asked = false;
    lesson = { ...lesson, generation_status: "failed", generation_error: error.message };
  }
  render();
}

// --- questions: asked here, answered here by those who teach the course ----------------------

const canAnswer = root.dataset.canAnswer === "true";
const asking = new Map(); // request_id -> what the ask or answer was about
const questions = new QuestionList($("question-list"), {
  canAnswer,
  empty: $("no-questions"),
  onAnswer(id, text) {
    asking.set(client.request({ type: "answer_question", question_id: id, text }), id);
  },
});

function ask(event) {
  event.preventDefault();
  const text = $("ask-text").value.trim();
  $("ask-error").textContent = "";
  if (!text) {
    $("ask-error").textContent = "Write your question first.";
    return;
  }
  $("ask").disabled = true;
  asking.set(client.request({ type: "ask_question", lesson_id: lessonId, text }), "ask");
}

function onFrame(frame) {
  const about = asking.get(frame.request_id);
  if (about === undefined) return;
  asking.delete(frame.request_id);
  if (about === "ask") {
    $("ask").disabled = false;
    if (frame.type === "ack") {
      $("ask-text").value = "";
      questions.put(frame.question);
      $("ask-done").textContent = "Asked: the course's teachers see it now. You will be notified of the answer.";
    } else {
      $("ask-error").textContent = frame.message;
    }
  } else if (frame.type === "ack") {
    questions.put(frame.question);
    questions.answered(about);
  } else {
    questions.failed(about, frame.message);
  }
}

function onEvent(frame) {
  const payload = frame.payload || {};
  if (frame.event === "question") {
    questions.event(frame);
    return;
  }
  if (frame.event !== "generation" || Number(payload.lesson_id) !== lessonId) return;
  if (payload.generation_status === "completed") {
    refresh(); // the event carries the status; the content comes from the API
    return;
  }
  lesson = { ...lesson, ...payload, generation_status: payload.generation_status };
  render();
}

$("retry").addEventListener("click", generate);
$("ask-form").addEventListener("submit", ask);
render();
const client = follow([`lesson:${lessonId}`], {
  onEvent,
  onFrame,
  onResync: async (room, snapshot) => {
    questions.reset(snapshot.questions);
    await refresh();
    if (lesson.generation_status === "pending" && generationOn && !asked) generate();
  },
});
