// The teacher's course page and the learner's home: lesson badges follow `generation` events
// of each course room live; Generate, Generate all and Retry call the background generation
// routes; "New course" creates a draft through the API.

import { api } from "./api.js";
import { follow } from "./live.js";

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

async function resync(room) {
  const [kind, id] = room.split(":");
  if (kind !== "course") return;
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
if (rooms.length) follow([...new Set(rooms)], { onEvent, onResync: resync });
else document.getElementById("live-status")?.setAttribute("hidden", "");
