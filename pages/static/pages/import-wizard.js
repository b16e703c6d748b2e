// The import wizard (docs/imports.md): a repository's documentation into a course in four
// background stages. Each stage's bar follows `import` events of the course room live, and the
// stage status routes after a (re)subscription or a reload; a failed stage shows its sentence
// and a Retry that starts it again with the step's current answers.

import { api } from "./api.js";
import { follow } from "./live.js";

const root = document.getElementById("wizard");
const STATUSES = new Set(["PENDING", "STARTED", "SUCCESS", "FAILURE", "RETRY"]);
const SKIP_REASONS = {
  binary: "binary file",
  too_large: "too large",
  symlink: "symbolic link",
  submodule: "submodule",
  secret: "looks like a secret",
  bad_name: "unsafe file name",
  lfs_pointer: "Git LFS file (not downloaded)",
  over_limit: "over the file limit",
  outside_selection: "outside the selection",
};
// The step whose bar shows each stage.
const STAGE_STEP = { 1: 1, 2: 3, 3: 4, 4: 5 };
const byId = (id) => document.getElementById(id);

const state = {
  courseId: Number(root.dataset.courseId) || null,
  stages: {},
  files: null,
  selectionSaved: false,
  loaded: {},
  client: null,
};

const base = () => `/api/courses/${state.courseId}`;

function text(tag, content, className) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  node.textContent = content ?? "";
  return node;
}

function showError(id, message) {
  const node = byId(id);
  if (node) node.textContent = message || "";
}

function stageNumber(value) {
  const number = Number(String(value ?? "").replace(/\D/g, ""));
  return number >= 1 && number <= 4 ? number : null;
}

function stage(number) {
  return state.stages[number] || { status: "PENDING", progress: 0, task_id: null };
}

function started(number) {
  const current = stage(number);
  return current.task_id != null || current.status !== "PENDING";
}

/** The step the instructor is on, from the stages' statuses. */
function currentStep() {
  if (started(4)) return 5;
  if (stage(2).status === "SUCCESS") return 4;
  if (started(2)) return 3;
  if (stage(1).status === "SUCCESS") return state.selectionSaved ? 3 : 2;
  return 1;
}

function renderSteps() {
  const current = currentStep();
  for (const node of document.querySelectorAll("[data-step], [data-step-tab]")) {
    const step = Number(node.dataset.step || node.dataset.stepTab);
    const stepState = step < current ? "done" : step === current ? "active" : "locked";
    node.dataset.state = stepState;
    if (node.dataset.stepTab) {
      if (step === current) node.setAttribute("aria-current", "step");
      else node.removeAttribute("aria-current");
    }
  }
  const busy = (number) => ["PENDING", "STARTED", "RETRY"].includes(stage(number).status)
    && started(number);
  const disable = (formId, off) => {
    for (const control of byId(formId).elements) control.disabled = off;
  };
  const available = root.dataset.available === "on";
  disable("repository-form", !available || busy(1) || busy(2) || busy(3) || busy(4));
  disable("documents-form", current < 2 || busy(2) || busy(3) || busy(4));
  disable("analysis-form", current < 3 || busy(2) || busy(3) || busy(4));
  disable("pathways-form", current < 4 || busy(3) || busy(4));
  for (const button of document.querySelectorAll("[data-action=choose-pathway]")) {
    button.disabled = busy(3) || busy(4);
  }
  byId("new-title-field").hidden = Boolean(byId("course-choice").value);
}

/** Moves stage `number`'s bar (and what depends on it) to `update`. */
function setStage(number, update) {
  if (!STATUSES.has(update.status)) return;
  const previous = stage(number);
  const next = { ...previous, ...update };
  next.progress = Math.max(0, Math.min(100, Number(next.progress) || 0));
  if (next.status === "SUCCESS") next.progress = 100;
  state.stages[number] = next;

  const bar = document.querySelector(`[data-stage-bar="${number}"]`);
  bar.hidden = !started(number);
  bar.dataset.status = next.status;
  bar.querySelector("[data-role=fill]").style.width = `${next.progress}%`;
  bar.querySelector("[role=progressbar]").setAttribute("aria-valuenow", String(next.progress));
  bar.querySelector("[data-role=percent]").textContent = `${next.progress}%`;
  const waiting = next.status === "PENDING" ? "Waiting for a worker…" : "";
  bar.querySelector("[data-role=step]").textContent = next.current_step || waiting;
  const failed = next.status === "FAILURE";
  bar.querySelector("[data-role=error]").hidden = !failed;
  if (failed) {
    bar.querySelector("[data-role=error-message]").textContent =
      next.error_message || "This stage failed; try again.";
  }
  // A stage that succeeded has results to show (once); one started again shows them afresh.
  if (next.status !== "SUCCESS") state.loaded[number] = false;
  else if (!state.loaded[number]) loadResults(number);
  renderSteps();
}

async function refreshStage(number) {
  const answer = await api(`${base()}/stage${number}/status`);
  setStage(number, answer);
}

async function resync() {
  if (!state.courseId) return;
  try {
    await Promise.all([1, 2, 3, 4].map(refreshStage));
    const record = await api(`${base()}/import`).catch(() => null);
    const url = byId("repo-url");
    if (record?.repo_url && !url.value) url.value = record.repo_url;
  } catch (error) {
    showError("repository-error", error.message);
  }
}

function onEvent(frame) {
  const payload = frame.payload || {};
  if (frame.event !== "import" || Number(payload.course_id) !== state.courseId) return;
  const number = stageNumber(payload.stage);
  if (number === null) return;
  setStage(number, {
    status: payload.status,
    progress: payload.progress,
    current_step: payload.current_step,
  });
  // The event has no error sentence and no times: the status route has them.
  if (payload.status === "FAILURE") refreshStage(number).catch(() => {});
}

function startFollowing() {
  if (state.client || !state.courseId) return;
  byId("live-status")?.removeAttribute("hidden");
  state.client = follow([`course:${state.courseId}`], { onEvent, onResync: resync });
  // Without the socket (reconnecting, offline), the status routes keep the bars moving.
  setInterval(() => {
    const live = byId("live-status")?.dataset.status;
    const running = [1, 2, 3, 4].some((n) => started(n) && !["SUCCESS", "FAILURE"].includes(stage(n).status));
    if (live !== "ready" && running) resync();
  }, 4000);
}

async function loadResults(number) {
  state.loaded[number] = true;
  try {
    if (number === 1) renderFiles(await api(`${base()}/repository-files`));
    if (number === 2) renderAnalyzed(await api(`${base()}/analyzed-documents`));
    if (number === 3) renderPathways(await api(`${base()}/pathways`));
    if (number === 4) renderCourse(await api(`${base()}/generated-course`));
  } catch (error) {
    state.loaded[number] = false;
    showError(["repository-error", "documents-error", "pathways-error", "course-error"][number - 1],
      error.message);
  }
}

// Step 2: folders, overview document and the files left out.

function docsUnder(folder) {
  const prefix = folder ? `${folder}/` : "";
  return state.files.files.filter((f) => f.is_documentation && f.path.startsWith(prefix)).length;
}

function renderFiles(data) {
  state.files = data;
  const folders = byId("folder-list");
  folders.replaceChildren();
  const defaults = new Set(data.selected_folders || [""]);
  for (const folder of ["", ...data.folders.filter((f) => f)]) {
    const count = docsUnder(folder);
    const item = document.createElement("li");
    item.style.paddingLeft = `${folder ? folder.split("/").length * 1.1 : 0}rem`;
    const label = document.createElement("label");
    const box = document.createElement("input");
    box.type = "checkbox";
    box.name = "folder";
    box.value = folder;
    box.checked = defaults.has(folder);
    label.append(box, text("span", folder ? `${folder}/` : "The whole repository", "path"),
      text("span", `${count} document${count === 1 ? "" : "s"}`, "muted count"));
    item.append(label);
    folders.append(item);
  }
  const overviews = byId("overview-list");
  overviews.replaceChildren();
  const candidates = data.overview_candidates || [];
  candidates.forEach((path, index) => {
    const item = document.createElement("li");
    const label = document.createElement("label");
    const radio = document.createElement("input");
    radio.type = "radio";
    radio.name = "overview_document";
    radio.value = path;
    radio.checked = data.overview_document ? data.overview_document === path : index === 0;
    label.append(radio, text("span", path, "path"));
    item.append(label);
    overviews.append(item);
  });
  if (!candidates.length) overviews.append(text("li", "No README or overview found.", "muted"));
  renderSkipped(data.skipped || []);
  summariseSelection();
}

function renderSkipped(skipped) {
  const box = byId("skipped");
  box.hidden = skipped.length === 0;
  byId("skipped-summary").textContent =
    `${skipped.length} file${skipped.length === 1 ? "" : "s"} left out, and why`;
  const list = byId("skipped-list");
  list.replaceChildren(...skipped.map((file) => {
    const item = text("li", "");
    item.append(text("span", file.path, "path"), " ",
      text("span", SKIP_REASONS[file.reason] || file.reason, "reason"));
    return item;
  }));
}

function selectedFolders() {
  return [...document.querySelectorAll("#folder-list input:checked")].map((box) => box.value);
}

function summariseSelection() {
  if (!state.files) return;
  const folders = selectedFolders();
  const prefixes = folders.map((f) => (f ? `${f}/` : ""));
  const count = state.files.files.filter(
    (f) => f.is_documentation && prefixes.some((p) => f.path.startsWith(p)),
  ).length;
  byId("selection-summary").textContent = folders.length
    ? `${count} document${count === 1 ? "" : "s"} selected.`
    : "Pick at least one folder.";
}

async function saveSelection(event) {
  event.preventDefault();
  showError("documents-error", "");
  const folders = selectedFolders();
  if (!folders.length) {
    showError("documents-error", "Pick at least one folder.");
    return;
  }
  const overview = document.querySelector("#overview-list input:checked")?.value ?? "";
  try {
    await api(`${base()}/stage1-selections`, {
      method: "POST", body: { selected_folders: folders, overview_document: overview },
    });
    state.selectionSaved = true;
    renderSteps();
    await loadEstimate();
  } catch (error) {
    showError("documents-error", error.message);
  }
}

/** What stage 2 will cost, when the server says (documents, estimated tokens). */
async function loadEstimate() {
  const box = byId("estimate");
  const estimate = await api(`${base()}/stage2/estimate`).catch(() => null);
  box.hidden = !estimate;
  if (!estimate) return;
  const tokens = Number(estimate.estimated_tokens || 0).toLocaleString("en");
  box.textContent = `${estimate.documents} documents, about ${tokens} tokens.`;
}

// Steps 3 to 5: start the stages.

async function startStage(number) {
  const forms = { 1: "repository-error", 2: "analysis-error", 3: "pathways-error", 4: "course-error" };
  showError(forms[number], "");
  try {
    let answer;
    if (number === 1) {
      answer = await api(`${base()}/analyze-repository`, {
        method: "POST", body: { repo_url: byId("repo-url").value.trim() },
      });
      state.selectionSaved = false;
    } else if (number === 2) {
      const form = byId("analysis-form");
      answer = await api(`${base()}/analyze-documents`, {
        method: "POST",
        body: {
          complexity_level: form.elements.complexity_level.value,
          additional_info: form.elements.additional_info.value,
        },
      });
    } else if (number === 3) {
      answer = await api(`${base()}/generate-pathways`, {
        method: "POST", body: { additional_info: byId("pathway-notes").value },
      });
    } else {
      answer = await api(`${base()}/generate-course`, { method: "POST" });
    }
    for (let later = number + 1; later <= 4; later += 1) clearStage(later);
    setStage(number, {
      status: "PENDING", progress: 0, current_step: "", error_message: "",
      task_id: answer?.task_id ?? "queued",
    });
  } catch (error) {
    showError(forms[number], error.message);
  }
}

function clearStage(number) {
  setStage(number, { status: "PENDING", progress: 0, current_step: "", task_id: null });
  if (number === 3) byId("pathways").replaceChildren();
  if (number === 2) byId("analyzed").hidden = true;
  if (number === 4) byId("done").hidden = true;
}

async function startImport(event) {
  event.preventDefault();
  showError("repository-error", "");
  const url = byId("repo-url").value.trim();
  if (!url) {
    showError("repository-error", "Enter the repository's URL.");
    return;
  }
  if (!state.courseId) {
    const title = byId("course-title").value.trim() || repositoryName(url);
    try {
      const course = await api("/api/courses", { method: "POST", body: { title } });
      state.courseId = Number(course.id);
    } catch (error) {
      showError("repository-error", error.message);
      return;
    }
    history.replaceState(null, "", `/courses/${state.courseId}/import/`);
    root.dataset.courseId = String(state.courseId);
    const option = new Option(title, String(state.courseId), true, true);
    byId("course-choice").append(option);
  }
  await startStage(1);
  startFollowing();
}

function repositoryName(url) {
  const name = url.replace(/\/+$/, "").split(/[/:]/).pop().replace(/\.git$/, "");
  return name ? `${name} documentation` : "Imported documentation";
}

function renderAnalyzed(documents) {
  const box = byId("analyzed");
  box.hidden = false;
  byId("analyzed-summary").textContent =
    `${documents.length} document${documents.length === 1 ? "" : "s"} analysed`;
  byId("analyzed-list").replaceChildren(...documents.map((doc) => {
    const item = text("li", "");
    item.append(text("strong", doc.title || doc.file_path), " ",
      text("span", `${doc.file_path} · ${doc.doc_type} · ${doc.complexity_level}`, "muted"));
    return item;
  }));
}

function renderPathways(pathways) {
  const holder = byId("pathways");
  holder.replaceChildren(...pathways.map((pathway) => {
    const card = document.createElement("article");
    card.className = "pathway";
    card.dataset.pathwayId = String(pathway.id);
    const meta = [pathway.complexity_level, pathway.estimated_duration].filter(Boolean).join(" · ");
    card.append(text("h3", pathway.title), text("p", meta, "eyebrow"),
      text("p", pathway.description, "muted"));
    const modules = document.createElement("ol");
    modules.className = "pathway-modules";
    const ordered = [...pathway.modules].sort((a, b) => a.sequence_order - b.sequence_order);
    for (const module of ordered) {
      const item = text("li", "");
      const docs = module.document_ids?.length || 0;
      item.append(text("strong", module.title),
        text("span", ` ${docs} document${docs === 1 ? "" : "s"}`, "muted"));
      modules.append(item);
    }
    const choose = text("button", "Build this course", "btn");
    choose.type = "button";
    choose.dataset.action = "choose-pathway";
    choose.dataset.pathwayId = String(pathway.id);
    card.append(modules, choose);
    return card;
  }));
  renderSteps();
}

async function choosePathway(button) {
  showError("pathways-error", "");
  button.disabled = true;
  try {
    await api(`${base()}/stage3-selections`, {
      method: "POST", body: { selected_pathway_id: Number(button.dataset.pathwayId) },
    });
    for (const card of document.querySelectorAll(".pathway")) {
      card.dataset.chosen = String(card.dataset.pathwayId === button.dataset.pathwayId);
    }
    await startStage(4);
  } catch (error) {
    showError("pathways-error", error.message);
  } finally {
    renderSteps();
  }
}

function renderCourse(generated) {
  byId("done").hidden = false;
  const course = generated.course || {};
  const modules = course.modules || [];
  const lessons = modules.reduce((sum, module) => sum + (module.lessons?.length || 0), 0);
  byId("done-title").textContent = course.title || "Your course";
  byId("done-summary").textContent =
    `${modules.length} module${modules.length === 1 ? "" : "s"}, ${lessons} lesson${lessons === 1 ? "" : "s"} ready to be written.`;
  byId("open-course").href = `/courses/${state.courseId}/`;
  const exported = byId("export");
  exported.href = generated.export_url || `${base()}/export`;
}

byId("repository-form").addEventListener("submit", startImport);
byId("documents-form").addEventListener("submit", saveSelection);
byId("documents-form").addEventListener("change", summariseSelection);
byId("analysis-form").addEventListener("submit", (event) => {
  event.preventDefault();
  startStage(2);
});
byId("pathways-form").addEventListener("submit", (event) => {
  event.preventDefault();
  startStage(3);
});
byId("course-choice").addEventListener("change", (event) => {
  const id = event.target.value;
  location.assign(id ? `/courses/${Number(id)}/import/` : "/courses/import/");
});
document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-action]");
  if (!button || button.disabled) return;
  if (button.dataset.action === "retry") startStage(Number(button.dataset.stage));
  if (button.dataset.action === "choose-pathway") choosePathway(button);
});

const level = root.dataset.level;
const levelInput = document.querySelector(`#analysis-form input[value="${level}"]`);
if (levelInput) levelInput.checked = true;
renderSteps();
if (state.courseId) startFollowing();
else byId("live-status")?.setAttribute("hidden", "");
