// The teacher's course page and the learner's home: lesson badges follow `generation` events
// of each course room live; Generate, Generate all and Retry call the background generation
// routes; "New course" creates a draft through the API. On the teacher's page, the course's
// analytics (`course_analytics`) and its unanswered questions, answered in place.

import { api } from "./api.js";
import { follow, myId } from "./live.js";
import { QuestionList } from "./questions.js";

const STATUSES = new Set(["pending", "generating", "completed", "failed"]);

function showError(message) {
  const node = document.getElementById("page-error");
  if (node) node.textContent = message || "";
}

/** Moves one lesson row (there may be several on a page) to `status`, with its error. */
function setLesson(id, status, error) {
  if (!STATUSES.has(status)) return;
  for (const row of document.querySelectorAll(`.lesson[data-lesson-id="${Number(id)}"]`)) {
    row.dataset.status = status;
    const badge = row.querySelector("[data-role=badge]");
    badge.dataset.status = status;
    badge.textContent = status;
    const errorNode = row.querySelector("[data-role=error]");
    errorNode.textContent = status === "failed" ? error || "The generation failed." : "";
    errorNode.hidden = status !== "failed";
  }
}

// --- analytics and questions (the teacher's page) -----------------------------------------

const analyticsNode = document.getElementById("analytics");
const courseId = Number(document.getElementById("course")?.dataset.courseId) || null;
let numbers = {};
const answering = new Map(); // request_id -> question id
const openQuestions = analyticsNode && new QuestionList(document.getElementById("open-question-list"), {
  canAnswer: true,
  showLesson: true,
  empty: document.getElementById("no-open-questions"),
  keep: (q) => q.course_id === courseId && !q.answered_at,
  onAnswer(id, text) {
    answering.set(client.request({ type: "answer_question", question_id: id, text }), id);
  },
});

function seconds(value) {
  if (value === null || value === undefined) return "–";
  if (value < 90) return `${Math.round(value)} s`;
  if (value < 5400) return `${Math.round(value / 60)} min`;
  return `${(value / 3600).toFixed(1)} h`;
}

function renderAnalytics() {
  if (!analyticsNode || numbers.course_id === undefined) return;
  analyticsNode.hidden = false;
  const set = (id, text) => { document.getElementById(id).textContent = text; };
  set("stat-completion", `${Math.round((numbers.completion_rate || 0) * 100)}%`);
  set("stat-completion-detail",
    `${numbers.completions ?? 0} of ${(numbers.enrolled ?? 0) * (numbers.lessons ?? 0)} lesson completions`);
  set("stat-active", String(numbers.active_now ?? 0));
  set("stat-enrolled", `of ${numbers.enrolled ?? 0} enrolled`);
  const times = numbers.response_time || {};
  set("stat-p50", seconds(times.p50_seconds));
  set("stat-p90", times.samples ? `p90 ${seconds(times.p90_seconds)} · ${times.samples} answered` : "nothing answered yet");
  const list = document.getElementById("struggling");
  list.replaceChildren(...(numbers.struggling || []).map((row) => {
    const item = document.createElement("li");
    item.dataset.lessonId = String(row.lesson_id);
    const link = document.createElement("a");
    link.href = `/lessons/${Number(row.lesson_id)}/`;
    link.textContent = row.title;
    const counts = document.createElement("span");
    counts.className = "muted";
    const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;
    counts.textContent =
      ` ${plural(row.open_confusions, "open confusion")} · ${plural(row.open_questions, "open question")}`;
    item.append(link, counts);
    return item;
  }));
  document.getElementById("no-struggling").hidden = (numbers.struggling || []).length > 0;
}

function onFrame(frame) {
  const id = answering.get(frame.request_id);
  if (id === undefined) return;
  answering.delete(frame.request_id);
  if (frame.type === "ack") {
    openQuestions.answered(id);
    openQuestions.put(frame.question); // answered: it leaves the list
  } else {
    openQuestions.failed(id, frame.message);
  }
}

async function resync(room, snapshot = {}) {
  const [kind, id] = room.split(":");
  if (kind === "instructor") {
    openQuestions?.reset(snapshot.questions);
    return;
  }
  if (kind !== "course") return;
  if (analyticsNode && Number(id) === courseId && snapshot.analytics) {
    numbers = snapshot.analytics;
    renderAnalytics();
  }
  try {
    const course = await api(`/api/courses/${Number(id)}`);
    for (const module of course.modules) {
      for (const lesson of module.lessons) {
        setLesson(lesson.id, lesson.generation_status, lesson.generation_error);
      }
    }
  } catch (error) {
    showError(error.message);
  }
}

function onEvent(frame) {
  const payload = frame.payload || {};
  if (frame.event === "course_analytics" && payload.course_id === courseId && analyticsNode) {
    numbers = { ...numbers, ...payload };
    renderAnalytics();
  }
  if (frame.event === "question") openQuestions?.event(frame);
  if (frame.event === "generation" && payload.lesson_id) {
    setLesson(payload.lesson_id, payload.generation_status, payload.generation_error);
  }
}

async function generate(button) {
  showError("");
  button.disabled = true;
  try {
    if (button.dataset.action === "generate-module") {
      await api(`/api/modules/${Number(button.dataset.moduleId)}/generate`, {
        method: "POST", body: { force: false },
      });
    } else {
      const answer = await api(`/api/lessons/${Number(button.dataset.lessonId)}/generate`, {
        method: "POST", body: { force: false },
      });
      const lesson = answer?.lesson;
      if (lesson) setLesson(lesson.id, lesson.generation_status, lesson.generation_error);
    }
  } catch (error) {
    showError(error.message);
  } finally {
    button.disabled = false;
  }
}

async function createCourse(event) {
  event.preventDefault();
  const form = event.target;
  const errorNode = document.getElementById("new-course-error");
  errorNode.textContent = "";
  try {
    const course = await api("/api/courses", {
      method: "POST", body: { title: form.elements.title.value },
    });
    location.assign(`/courses/${Number(course.id)}/`);
  } catch (error) {
    errorNode.textContent = error.message;
  }
}

document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-action]");
  if (button && !button.disabled) generate(button);
});
document.getElementById("new-course")?.addEventListener("submit", createCourse);

const rooms = [...document.querySelectorAll("[data-course-id]")].map(
  (node) => `course:${Number(node.dataset.courseId)}`,
);
if (analyticsNode && myId()) rooms.push(`instructor:${myId()}`);
let client = null;
if (rooms.length) client = follow([...new Set(rooms)], { onEvent, onResync: resync, onFrame });
else document.getElementById("live-status")?.setAttribute("hidden", "");
