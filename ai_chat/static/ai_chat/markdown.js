// A tiny, sanitising markdown renderer: it builds DOM nodes with createElement and textContent
// only, never innerHTML. Supported: paragraphs, headings, **bold**, *italic*, `code`, fenced
// code blocks, bullet and numbered lists, and links with http(s) hrefs only. Images are never
// rendered (their alt text is shown instead) and raw HTML is shown as text.

const FENCE = /^\s*(```|~~~)/;
const HEADING = /^(#{1,6})\s+(.*?)\s*#*\s*$/;
const BULLET = /^\s*[-*+]\s+(.*)$/;
const NUMBERED = /^\s*(\d{1,9})[.)]\s+(.*)$/;
const RULE = /^\s*([-*_])(\s*\1){2,}\s*$/;
// One inline token: code span, image, link, bold, italic.
const INLINE =
  /(`+)([\s\S]*?[^`])\1(?!`)|!\[([^\]]*)\]\(([^()\s]*)(?:\s+"[^"]*")?\)|\[([^\]]+)\]\(([^()\s]*)(?:\s+"[^"]*")?\)|\*\*(\S(?:[\s\S]*?\S)?)\*\*|__(\S(?:[\s\S]*?\S)?)__|\*(\S(?:[^*]*?\S)?)\*|(?<![A-Za-z0-9])_(\S(?:[^_]*?\S)?)_(?![A-Za-z0-9])/;

const el = (tag, text) => {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  return node;
};

/** The href to use for a link, or null: absolute http(s) URLs only. */
export function safeHref(raw) {
  let url;
  try {
    url = new URL(raw);
  } catch {
    return null;
  }
  return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
}

/** Appends the inline markdown of `text` to `parent`. */
export function renderInline(parent, text) {
  let rest = text;
  let guard = 0;
  while (rest && guard++ < 10_000) {
    const match = INLINE.exec(rest);
    if (!match) break;
    if (match.index) parent.append(document.createTextNode(rest.slice(0, match.index)));
    rest = rest.slice(match.index + match[0].length);
    const [, ticks, code, alt, , label, href, bold1, bold2, em1, em2] = match;
    if (ticks) {
      parent.append(el("code", code.replace(/^ (.*) $/, "$1")));
    } else if (alt !== undefined) {
      // No images, ever: the alt text stands in for them.
      const span = el("span", alt);
      span.className = "md-image-alt";
      parent.append(span);
    } else if (label !== undefined) {
      const safe = safeHref(href);
      if (safe) {
        const a = el("a");
        a.href = safe;
        a.rel = "noopener noreferrer nofollow";
        a.target = "_blank";
        renderInline(a, label);
        parent.append(a);
      } else {
        const span = el("span");
        span.className = "md-unsafe-link";
        renderInline(span, label);
        parent.append(span);
      }
    } else if (bold1 !== undefined || bold2 !== undefined) {
      const strong = el("strong");
      renderInline(strong, bold1 ?? bold2);
      parent.append(strong);
    } else {
      const em = el("em");
      renderInline(em, em1 ?? em2);
      parent.append(em);
    }
  }
  if (rest) parent.append(document.createTextNode(rest));
  return parent;
}

/** The markdown `text` as a DocumentFragment of safe nodes. */
export function renderMarkdown(text) {
  const fragment = document.createDocumentFragment();
  const lines = String(text ?? "").replace(/\r\n?/g, "\n").split("\n");
  let paragraph = [];
  let list = null; // {node, ordered}

  const flushParagraph = () => {
    if (paragraph.length) fragment.append(renderInline(el("p"), paragraph.join(" ")));
    paragraph = [];
  };
  const endBlocks = () => {
    flushParagraph();
    list = null;
  };

  for (let i = 0; i < lines.length; i += 1) {
    const line = lines[i];
    const fence = FENCE.exec(line);
    if (fence) {
      endBlocks();
      const body = [];
      const language = line.trim().slice(3).trim();
      i += 1;
      while (i < lines.length && !lines[i].trim().startsWith(fence[1])) {
        body.push(lines[i]);
        i += 1;
      }
      const pre = el("pre");
      const code = el("code", body.join("\n"));
      if (/^[\w+-]{1,30}$/.test(language)) code.dataset.language = language;
      pre.append(code);
      fragment.append(pre);
      continue;
    }
    if (!line.trim()) {
      endBlocks();
      continue;
    }
    const heading = HEADING.exec(line);
    if (heading) {
      endBlocks();
      fragment.append(renderInline(el(`h${heading[1].length}`), heading[2]));
      continue;
    }
    if (RULE.test(line)) {
      endBlocks();
      fragment.append(el("hr"));
      continue;
    }
    const bullet = BULLET.exec(line);
    const numbered = bullet ? null : NUMBERED.exec(line);
    if (bullet || numbered) {
      flushParagraph();
      const ordered = Boolean(numbered);
      if (!list || list.ordered !== ordered) {
        list = { node: el(ordered ? "ol" : "ul"), ordered };
        if (ordered && numbered[1] !== "1") list.node.start = Number(numbered[1]);
        fragment.append(list.node);
      }
      list.node.append(renderInline(el("li"), bullet ? bullet[1] : numbered[2]));
      continue;
    }
    if (list && /^\s{2,}\S/.test(line)) {
      // A continuation line of the last list item.
      const last = list.node.lastElementChild;
      last.append(document.createTextNode(" "));
      renderInline(last, line.trim());
      continue;
    }
    list = null;
    paragraph.push(line.trim());
  }
  endBlocks();
  return fragment;
}

/** Replaces the children of `container` with the rendered markdown. */
export function renderMarkdownInto(container, text) {
  container.replaceChildren(renderMarkdown(text));
  return container;
}
