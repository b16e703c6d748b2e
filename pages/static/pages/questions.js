// Questions on lessons, as the lesson page and the teacher's course page show them: a list kept
// from a room's snapshot and `question` events, each question with its answers, and an answer
// form for those who teach the course. Server data reaches the page through textContent only.

const WHEN = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

export class QuestionList {
  /**
   * @param {HTMLElement} list the <ul> to fill
   * @param {{canAnswer: boolean, onAnswer: (id: number, text: string) => void,
   *          keep?: (q: object) => boolean, showLesson?: boolean, empty?: HTMLElement}} options
   */
  constructor(list, { canAnswer, onAnswer, keep = () => true, showLesson = false, empty }) {
    Object.assign(this, { list, canAnswer, onAnswer, keep, showLesson, empty });
    this.items = new Map();
  }

  reset(questions) {
    this.items.clear();
    for (const q of questions || []) if (this.keep(q)) this.items.set(q.id, q);
    this.render();
  }

  put(question) {
    if (this.keep(question)) this.items.set(question.id, question);
    else this.items.delete(question.id);
    this.render();
  }

  remove(id) {
    this.items.delete(id);
    this.render();
  }

  /** A `question` event of a followed room. */
  event(frame) {
    if (frame.event !== "question") return;
    if (frame.action === "delete") this.remove(frame.payload.id);
    else this.put(frame.payload);
  }

  /** An answer was taken: empty its form. */
  answered(id) {
    const form = this.list.querySelector(`[data-question-id="${Number(id)}"] form`);
    if (!form) return;
    form.querySelector("textarea").value = "";
    form.querySelector("button").disabled = false;
    form.querySelector(".form-error").textContent = "";
  }

  /** An answer failed: enable its form again with the reason. */
  failed(id, message) {
    const form = this.list.querySelector(`[data-question-id="${Number(id)}"] form`);
    if (!form) return;
    form.querySelector("button").disabled = false;
    form.querySelector(".form-error").textContent = message;
  }

  render() {
    // Answers being typed survive a re-render (another question arriving).
    const drafts = new Map(
      [...this.list.querySelectorAll("textarea")].map((t) => [t.id, [t.value, t === document.activeElement]]),
    );
    const sorted = [...this.items.values()].sort((a, b) => b.id - a.id);
    this.list.replaceChildren(...sorted.map((q) => this.item(q)));
    for (const [id, [value, focused]] of drafts) {
      const text = document.getElementById(id);
      if (!text) continue;
      text.value = value;
      if (focused) text.focus();
    }
    if (this.empty) this.empty.hidden = sorted.length > 0;
  }

  item(q) {
    const item = el("li", undefined, "question");
    item.dataset.questionId = String(q.id);
    item.dataset.state = q.answered_at ? "answered" : "open";
    const head = el("div", undefined, "question-head");
    head.append(el("strong", q.learner_name, "who"));
    if (this.showLesson) {
      const lesson = el("a", q.lesson_title, "lesson-link");
      lesson.href = `/lessons/${Number(q.lesson_id)}/`;
      head.append(el("span", " on ", "muted"), lesson);
    }
    head.append(el("span", WHEN.format(new Date(q.created_at)), "muted when"));
    head.append(el("span", q.answered_at ? "answered" : "open", `badge-q ${item.dataset.state}`));
    item.append(head, el("p", q.text, "question-text"));
    if (q.answers.length) {
      const answers = el("ul", undefined, "answers");
      for (const a of q.answers) {
        const answer = el("li", undefined, "answer");
        answer.dataset.answerId = String(a.id);
        answer.append(el("strong", a.author_name, "who"), el("p", a.text, "answer-text"));
        answers.append(answer);
      }
      item.append(answers);
    }
    if (this.canAnswer) item.append(this.form(q));
    return item;
  }

  form(q) {
    const form = el("form", undefined, "answer-form");
    const label = el("label", q.answered_at ? "Add to the answer" : "Your answer", "sr-only");
    const text = el("textarea");
    text.rows = 2;
    text.maxLength = 2000;
    text.required = true;
    text.id = label.htmlFor = `answer-${q.id}`;
    text.placeholder = q.answered_at ? "Add to the answer…" : "Answer this question…";
    const button = el("button", "Answer", "btn small");
    button.type = "submit";
    form.append(label, text, button, el("p", "", "form-error"));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const value = text.value.trim();
      if (!value) return;
      button.disabled = true;
      this.onAnswer(q.id, value);
    });
    return form;
  }
}
