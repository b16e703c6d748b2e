// The notifications bell of every page: the unread notifications of `user:{id}` (its snapshot,
// then `notification` events), each linking to what it is about, marked read one by one or all
// at once with `mark_read`. Server data reaches the page through textContent only.

const WHEN = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/** Where a notification takes you, by its `data.kind`. */
function linkOf(data = {}) {
  if (data.lesson_id) return `/lessons/${Number(data.lesson_id)}/`;
  if (data.course_id) return "/learn/";
  return null;
}

export class Bell {
  constructor(client) {
    this.client = client;
    this.items = new Map(); // id -> notification, unread only
    this.root = document.getElementById("bell");
    if (!this.root) return;
    this.root.hidden = false;
    this.button = document.getElementById("bell-button");
    this.panel = document.getElementById("bell-panel");
    this.button.addEventListener("click", () => this.toggle());
    document.getElementById("bell-read-all").addEventListener("click", () => {
      const ids = [...this.items.keys()].slice(0, 100);
      if (ids.length) this.client.request({ type: "mark_read", notification_ids: ids });
    });
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && !this.panel.hidden) this.toggle(false);
    });
  }

  toggle(open = this.panel.hidden) {
    this.panel.hidden = !open;
    this.button.setAttribute("aria-expanded", String(open));
  }

  snapshot(snapshot) {
    this.items.clear();
    for (const n of snapshot.notifications || []) this.items.set(n.id, n);
    this.unread = snapshot.unread_count ?? this.items.size;
    this.render();
  }

  event(frame) {
    if (frame.event !== "notification") return;
    if (frame.action === "create" && !this.items.has(frame.payload.id)) {
      this.items.set(frame.payload.id, frame.payload);
      this.unread += 1;
    } else if (frame.action === "update") {
      this.read(frame.payload.notification_ids);
    }
    this.render();
  }

  read(ids = []) {
    for (const id of ids) {
      if (this.items.delete(id)) this.unread = Math.max(this.unread - 1, 0);
    }
    this.render();
  }

  render() {
    if (!this.root) return;
    const count = document.getElementById("bell-count");
    count.textContent = String(this.unread);
    count.hidden = !this.unread;
    this.root.dataset.unread = String(this.unread);
    const list = document.getElementById("bell-list");
    const sorted = [...this.items.values()].sort((a, b) => b.id - a.id);
    list.replaceChildren(...sorted.map((n) => this.item(n)));
    document.getElementById("bell-empty").hidden = sorted.length > 0;
  }

  item(n) {
    const item = document.createElement("li");
    item.className = "bell-item";
    item.dataset.notificationId = String(n.id);
    item.dataset.kind = n.data?.kind || "";
    const href = linkOf(n.data);
    const title = document.createElement(href ? "a" : "strong");
    title.className = "bell-title";
    title.textContent = n.title;
    if (href) title.href = href;
    item.append(title);
    if (n.body) {
      const body = document.createElement("p");
      body.className = "bell-body";
      body.textContent = n.body;
      item.append(body);
    }
    const foot = document.createElement("div");
    foot.className = "bell-foot";
    const when = document.createElement("span");
    when.className = "muted";
    when.textContent = WHEN.format(new Date(n.created_at));
    const read = document.createElement("button");
    read.type = "button";
    read.className = "link";
    read.textContent = "Mark read";
    read.addEventListener("click", () => {
      this.client.request({ type: "mark_read", notification_ids: [n.id] });
    });
    foot.append(when, read);
    item.append(foot);
    return item;
  }
}
