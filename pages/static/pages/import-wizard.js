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
  excluded: new Set(),
  documents: new Map(),
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
    if (stepState !== "done") delete node.dataset.open;
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

/** Every stage from `GET import` (after a (re)subscription or a reload). */
async function resync() {
  if (!state.courseId) return;
  try {
    const record = await api(`${base()}/import`);
    const url = byId("repo-url");
    if (record.repo_url && !url.value) url.value = record.repo_url;
    for (const row of record.stages || []) {
      const number = stageNumber(row.stage);
      if (number !== null) setStage(number, row);
    }
    if (stage(1).status === "SUCCESS" && !state.selectionSaved) {
      // A selection saved before the reload: its estimate lists documents.
      const estimate = await loadEstimate();
      state.selectionSaved = Boolean(estimate?.document_count || estimate?.excluded_documents?.length);
      renderSteps();
    }
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
  // The status routes keep the bars moving while a stage runs and events cannot arrive: the
  // socket is down (reconnecting, offline), or the server has no shared channel layer (no
  // Redis: a worker's events stay in the worker).
  const shared = root.dataset.events === "shared";
  setInterval(() => {
    const live = byId("live-status")?.dataset.status === "ready";
    const running = [1, 2, 3, 4].some((n) => started(n) && !["SUCCESS", "FAILURE"].includes(stage(n).status));
    if (running && (!live || !shared)) resync();
  }, shared ? 4000 : 2000);
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
    showError(["documents-error", "analysis-error", "pathways-error", "course-error"][number - 1],
      error.message);
  }
}

// Step 2: folders, overview document and the files left out.

function docsUnder(folder) {
  const prefix = folder ? `${folder}/` : "";
  return state.files.files.filter((f) => f.is_documentation && f.path.startsWith(prefix)).length;
}

function summary(step, content) {
  document.querySelector(`[data-summary="${step}"]`).textContent = content;
}

function plural(count, noun) {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

function renderFiles(data) {
  state.files = data;
  const commit = data.commit ? ` at ${data.commit.slice(0, 10)}` : "";
  summary(1, `Read ${byId("repo-url").value || "the repository"}${commit}: `
    + `${plural(data.files.length, "file")}, ${data.skipped?.length || 0} left out.`);
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
    radio.checked = index === 0;
    label.append(radio, text("span", path, "path"));
    item.append(label);
    overviews.append(item);
  });
  const none = document.createElement("li");
  const label = document.createElement("label");
  const radio = document.createElement("input");
  radio.type = "radio";
  radio.name = "overview_document";
  radio.value = "";
  radio.checked = !candidates.length;
  label.append(radio, text("span", candidates.length ? "None" : "None (no README or overview found)"));
  none.append(label);
  overviews.append(none);
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

function overviewDocument() {
  return document.querySelector("#overview-list input:checked")?.value || null;
}

/** What stage 2 will read: the documentation in the selected folders, and the overview. */
function summariseSelection() {
  if (!state.files) return;
  const folders = selectedFolders();
  const prefixes = folders.map((f) => (f ? `${f}/` : ""));
  const overview = overviewDocument();
  const count = state.files.files.filter(
    (f) => (f.is_documentation && prefixes.some((p) => f.path.startsWith(p))) || f.path === overview,
  ).length;
  byId("selection-summary").textContent = folders.length
    ? `${count} document${count === 1 ? "" : "s"} selected.`
    : "Pick at least one folder.";
}

/** Saves the folders, overview and documents left out (which clears stages 2 to 4). */
async function saveSelection(errorId) {
  showError(errorId, "");
  const folders = selectedFolders();
  if (!folders.length) {
    showError(errorId, "Pick at least one folder.");
    return;
  }
  try {
    await api(`${base()}/stage1-selections`, {
      method: "POST",
      body: {
        selected_folders: folders,
        overview_document: overviewDocument(),
        excluded_documents: [...state.excluded],
      },
    });
    state.selectionSaved = true;
    for (const later of [2, 3, 4]) if (started(later)) clearStage(later);
    renderSteps();
    await loadEstimate();
  } catch (error) {
    showError(errorId, error.message);
  }
}

/** What stage 2 will cost (documents, estimated tokens, the caps), each document with a box
 * to leave it out; the answer, or null when the server has none. */
async function loadEstimate() {
  const estimate = await api(`${base()}/stage2/estimate`).catch(() => null);
  const box = byId("estimate");
  box.hidden = !estimate;
  if (!estimate) return null;
  state.excluded = new Set(estimate.excluded_documents || []);
  const tokens = (n) => Number(n || 0).toLocaleString("en");
  const count = estimate.document_count;
  summary(2, `${plural(count, "document")} selected.`);
  byId("estimate-summary").textContent =
    `${count} document${count === 1 ? "" : "s"} to analyse, about ${tokens(estimate.estimated_tokens)} tokens.`;
  const caps = byId("estimate-caps");
  caps.hidden = estimate.within_caps !== false;
  caps.textContent = `This is over the import's limit of ${estimate.max_documents} documents or `
    + `${tokens(estimate.max_estimated_tokens)} tokens: leave some documents out.`;
  const rows = [
    ...estimate.documents.map((doc) => ({ ...doc, included: true })),
    ...[...state.excluded].map((path) => ({ path, included: false })),
  ].sort((a, b) => a.path.localeCompare(b.path));
  byId("estimate-list").replaceChildren(...rows.map((doc) => {
    const item = document.createElement("li");
    const label = document.createElement("label");
    const box = document.createElement("input");
    box.type = "checkbox";
    box.name = "document";
    box.value = doc.path;
    box.checked = doc.included;
    const cost = doc.included ? `~${tokens(doc.estimated_tokens)} tokens` : "left out";
    label.append(box, text("span", doc.path, "path"), text("span", cost, "muted count"));
    item.append(label);
    return item;
  }));
  return estimate;
}

async function toggleDocument(box) {
  if (box.checked) state.excluded.delete(box.value);
  else state.excluded.add(box.value);
  await saveSelection("analysis-error");
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
  state.documents = new Map(documents.map((doc) => [doc.id, doc.file_path]));
  const box = byId("analyzed");
  box.hidden = false;
  byId("analyzed-summary").textContent = `${plural(documents.length, "document")} analysed`;
  byId("analyzed-list").replaceChildren(...documents.map((doc) => {
    const item = text("li", "");
    const cut = doc.cut ? " · cut to fit the model (long document)" : "";
    item.append(text("strong", doc.title || doc.file_path), " ",
      text("span", `${doc.file_path} · ${doc.doc_type} · ${doc.complexity_level}${cut}`, "muted"));
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
    const leftOut = pathway.left_out || [];
    if (leftOut.length) {
      const details = document.createElement("details");
      details.className = "left-out";
      details.append(text("summary", `${leftOut.length} document${leftOut.length === 1 ? "" : "s"} left out`));
      const list = document.createElement("ul");
      for (const row of leftOut) {
        const item = text("li", "");
        item.append(text("span", state.documents.get(row.document_id) || `#${row.document_id}`, "path"),
          " ", text("span", row.reason, "muted"));
        list.append(item);
      }
      details.append(list);
      card.append(modules, details);
    }
    const choose = text("button", "Build this course", "btn");
    choose.type = "button";
    choose.dataset.action = "choose-pathway";
    choose.dataset.pathwayId = String(pathway.id);
    if (!leftOut.length) card.append(modules);
    card.append(choose);
    return card;
  }));
  if (state.chosen) markChosen(state.chosen);
  renderSteps();
}

async function choosePathway(button) {
  showError("pathways-error", "");
  button.disabled = true;
  try {
    await api(`${base()}/stage3-selections`, {
      method: "POST", body: { selected_pathway_id: Number(button.dataset.pathwayId) },
    });
    state.chosen = Number(button.dataset.pathwayId);
    markChosen(state.chosen);
    await startStage(4);
  } catch (error) {
    showError("pathways-error", error.message);
  } finally {
    renderSteps();
  }
}

function markChosen(pathwayId) {
  for (const card of document.querySelectorAll(".pathway")) {
    card.dataset.chosen = String(card.dataset.pathwayId === String(pathwayId));
    if (card.dataset.chosen === "true") summary(4, `Pathway: ${card.querySelector("h3").textContent}.`);
  }
}

function renderCourse(generated) {
  byId("done").hidden = false;
  state.chosen = generated.pathway_id;
  markChosen(generated.pathway_id);
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
byId("documents-form").addEventListener("submit", (event) => {
  event.preventDefault();
  state.excluded.clear();
  saveSelection("documents-error");
});
byId("estimate-list").addEventListener("change", (event) => {
  if (event.target.name === "document") toggleDocument(event.target);
});
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
  if (button.dataset.action === "change") {
    const step = button.closest("[data-step]");
    if (step.dataset.open) delete step.dataset.open;
    else step.dataset.open = "true";
  }
  if (button.dataset.action === "choose-pathway") choosePathway(button);
});

const level = root.dataset.level;
const levelInput = document.querySelector(`#analysis-form input[value="${level}"]`);
if (levelInput) levelInput.checked = true;
renderSteps();
if (state.courseId) startFollowing();
else byId("live-status")?.setAttribute("hidden", "");
