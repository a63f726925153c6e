"use strict";
// The sandbox's Slack-like client. It holds no workspace state of its own: everything shown comes
// from /api/* (rendered HTML per person), and everything done goes back there, where it is sent to
// the app exactly as Slack would send it. Live updates come from a long poll on /api/changes.

const state = {
  user: null,
  channel: null,
  thread: null, // {channel, ts} while the thread pane is open
  revision: -1,
  modal: null, // {view_id, key} of the modal on screen
  home: null, // {view_id, key} of the App Home view on screen, while the Home tab is open
  shown: new Map(), // container id -> last rendered JSON, to leave unchanged lists alone
  clock: null, // {tz, offset}: the person's zone, for the ticking clock in the sidebar
  awaiting: new Map(), // ts of a message clicked -> when: its private answer is brought into view
  answered: new Set(), // ts of answers already brought into view (or there before the click)
  highlight: null, // {ts, until}: the answer marked as such
  offline: false, // the sandbox does not answer
};

const ANSWER_WAIT_MS = 60_000; // a click's answer that comes later than this is not scrolled to
const ANSWER_MARK_MS = 10_000;

// --- small helpers --------------------------------------------------------------------------

const byId = (id) => document.getElementById(id);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "text") node.textContent = value;
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

let toastTimer = null;
function toast(message) {
  const box = byId("toast");
  box.textContent = emojiAsText(message);
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { box.hidden = true; }, 6000);
}

// --- talking to the sandbox -----------------------------------------------------------------

// The sandbox did not answer at all (stopped, or restarting): the page says so in a banner.
class Offline extends Error {}

async function request(path, options) {
  let response;
  try {
    response = await fetch(path, { cache: "no-store", ...options });
  } catch {
    wentOffline();
    throw new Offline("the sandbox is not running");
  }
  if (state.offline) backOnline();
  let body = null;
  try { body = await response.json(); } catch { body = null; }
  if (!response.ok) {
    throw new Error((body && body.error) || `${path} answered HTTP ${response.status}`);
  }
  return body;
}

function getJSON(path, params = {}) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== null && value !== undefined) query.set(key, String(value));
  }
  return request(`${path}?${query}`);
}

function postJSON(path, body) {
  return request(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ user: state.user, ...body }),
  });
}

// Runs an action and reports its failure instead of throwing it into the event loop.
async function attempt(work) {
  try {
    const result = await work();
    if (result && result.ok === false && result.error) toast(result.error);
    return result;
  } catch (error) {
    if (!(error instanceof Offline)) toast(error.message); // the banner already says it
    return null;
  }
}

function startCommand() {
  const port = location.port || (location.protocol === "https:" ? "443" : "80");
  return port === "8080" ? "cutover sandbox" : `cutover sandbox --port ${port}`;
}

function wentOffline() {
  if (state.offline) return;
  state.offline = true;
  const banner = byId("offline");
  banner.replaceChildren(
    el("strong", { text: "The sandbox is not running" }),
    ` (nothing answers at ${location.host}). Start it again in a terminal with `,
    el("code", { text: startCommand() }),
    " (with ", el("code", { text: "--demo" }), " for the demo release); this page reconnects by itself.",
  );
  banner.hidden = false;
}

let recovering = null;
function backOnline() {
  state.offline = false;
  byId("offline").hidden = true;
  // It may be a new sandbox, with a new workspace: everything is read again.
  recovering ??= (async () => {
    try {
      await switchUser(state.user, state.channel);
    } catch (error) {
      if (!(error instanceof Offline)) toast(error.message);
    } finally {
      recovering = null;
    }
  })();
}

// --- workspace and sidebar ------------------------------------------------------------------

async function switchUser(user, channel) {
  let workspace;
  try {
    workspace = await getJSON("/api/state", { user });
  } catch {
    workspace = await getJSON("/api/state"); // an unknown or stale id: start as the first person
  }
  state.user = workspace.me.id;
  localStorage.setItem("sandbox.user", state.user);
  const conversations = [...workspace.channels, ...workspace.dms];
  const keep = conversations.find((c) => c.id === (channel || state.channel));
  state.channel = (channel || state.channel) === HOME ? HOME : keep ? keep.id : workspace.default_channel;
  state.home = null;
  if (state.thread && !conversations.some((c) => c.id === state.thread.channel)) closeThread();
  state.modal = null;
  state.shown.clear();
  state.awaiting.clear();
  await loadEmojiLabels();
  renderWorkspace(workspace);
  if (state.channel === HOME) await attempt(() => postJSON("/api/home", {}));
  await refresh();
}

function personLabel(person) {
  return `${person.real_name} · ${person.role} · ${person.tz} (${person.tz_abbr})`;
}

function renderWorkspace(workspace) {
  byId("workspace-name").textContent = workspace.workspace;
  const switcher = byId("user-switcher");
  switcher.replaceChildren(
    ...workspace.people.map((p) => el("option", { value: p.id, text: personLabel(p), selected: p.id === state.user })),
  );
  const me = workspace.me;
  byId("me").textContent = `${me.role} in ${me.tz}`;
  state.clock = { tz: me.clock_tz, offset: me.utc_offset };
  const clock = byId("my-clock");
  clock.textContent = me.local_time;
  tick();
  renderConversationList(byId("channel-list"), workspace.channels, (c) => `# ${c.name}`);
  renderConversationList(byId("dm-list"), workspace.dms, (c) => c.name);
}

function renderConversationList(list, conversations, label) {
  list.replaceChildren(
    ...conversations.map((c) => el("li", {},
      el("button", {
        type: "button",
        class: "conversation-link",
        "data-channel": c.id,
        "data-testid": `conversation-${c.kind === "dm" ? "dm" : c.name}`,
        "aria-current": c.id === state.channel ? "page" : null,
        text: label(c),
      }))),
  );
}

function markCurrentConversation() {
  for (const link of document.querySelectorAll(".conversation-link")) {
    if (link.dataset.channel === state.channel) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

async function selectChannel(channel) {
  state.channel = channel;
  // Opening the Home tab is what Slack tells the app about: it publishes the person's Home then.
  if (channel === HOME) await attempt(() => postJSON("/api/home", {}));
  markCurrentConversation();
  rememberLocation();
  toggleSidebar(false);
  await refresh();
}

function rememberLocation() {
  const query = new URLSearchParams({ user: state.user, channel: state.channel });
  const emoji = new URLSearchParams(location.search).get("emoji");
  if (emoji) query.set("emoji", emoji);
  history.replaceState(null, "", `?${query}`);
}

// On a narrow screen the sidebar is folded away; the header's toggle opens it over the messages.
function toggleSidebar(open) {
  const app = document.querySelector(".app");
  const show = open ?? !app.classList.contains("sidebar-open");
  app.classList.toggle("sidebar-open", show);
  byId("sidebar-toggle").setAttribute("aria-expanded", String(show));
}

// --- the person's clock ---------------------------------------------------------------------

function clockText(now = new Date()) {
  const { tz, offset } = state.clock;
  try {
    return new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: tz })
      .format(now);
  } catch { // a zone this browser does not know: the sandbox's offset for it
    return new Date(now.getTime() + offset * 1000).toISOString().slice(11, 16);
  }
}

function tick() {
  if (!state.clock) return;
  const clock = byId("my-clock");
  const text = clockText();
  if (clock.textContent !== text) clock.textContent = text;
}

// --- emoji where the browser has no colour-emoji font ----------------------------------------

// Draws the checklist's state emoji on a canvas in the messages' font: a colour-emoji font paints them
// in colour; without one they come out as grey boxes or outlines, and look all alike.
function drawsColourEmoji() {
  try {
    const size = 32;
    const canvas = document.createElement("canvas");
    canvas.width = canvas.height = size;
    const ctx = canvas.getContext("2d", { willReadFrequently: true });
    if (!ctx) return true; // cannot tell: keep Slack's emoji
    ctx.font = `24px ${getComputedStyle(document.body).fontFamily}`;
    ctx.textBaseline = "top";
    ctx.fillStyle = "#000";
    for (const glyph of ["⏳", "✅", "⛔"]) {
      ctx.clearRect(0, 0, size, size);
      ctx.fillText(glyph, 2, 2);
      const pixels = ctx.getImageData(0, 0, size, size).data;
      let coloured = false;
      for (let i = 0; i < pixels.length && !coloured; i += 4) {
        const [r, g, b, a] = [pixels[i], pixels[i + 1], pixels[i + 2], pixels[i + 3]];
        coloured = a > 64 && Math.max(r, g, b) - Math.min(r, g, b) > 48;
      }
      if (!coloured) return false;
    }
    return true;
  } catch {
    return true;
  }
}

// ?emoji=text (or =color) decides instead of the canvas: for tests, and to see the labels by choice.
function settleEmoji() {
  const chosen = new URLSearchParams(location.search).get("emoji");
  const text = chosen === "text" || (chosen !== "color" && !drawsColourEmoji());
  document.documentElement.dataset.emoji = text ? "text" : "color";
}

const emojiText = { labels: null, pattern: null };

async function loadEmojiLabels() {
  if (document.documentElement.dataset.emoji !== "text" || emojiText.labels) return;
  let labels;
  try {
    ({ labels } = await getJSON("/api/emoji"));
  } catch (error) {
    if (error instanceof Offline) throw error;
    return; // an older sandbox: the emoji stay as they are
  }
  const known = Object.keys(labels).sort((a, b) => b.length - a.length).map((k) => k.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  // Known emoji by their labels; any other picture emoji (with its modifiers and joins) as [emoji].
  const other = "(?:\\p{Emoji_Presentation}|\\p{Extended_Pictographic}\\uFE0F)(?:\\p{Emoji_Modifier}|\\uFE0F|\\u200D\\p{Extended_Pictographic})*";
  emojiText.pattern = new RegExp(`(?:${known.join("|")})\\uFE0F?|${other}`, "gu");
  emojiText.labels = labels;
}

function emojiAsText(text) {
  if (!emojiText.pattern || !text) return text;
  return text.replace(emojiText.pattern, (found) =>
    emojiText.labels[found] ?? emojiText.labels[found.replace(/\uFE0F/g, "")] ?? "[emoji]");
}

// Rewrites the emoji in every text under ``root`` (messages, modals, dialogs) as their labels.
function textEmojiIn(root) {
  if (!emojiText.pattern) return;
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = emojiAsText(node.nodeValue);
    if (text !== node.nodeValue) node.nodeValue = text;
  }
}

// --- messages -------------------------------------------------------------------------------

function initials(name) {
  return name.split(/\s+/).filter(Boolean).slice(0, 2).map((w) => w[0].toUpperCase()).join("") || "?";
}

function messageElement(message, channel, inThread) {
  const body = el("div", { class: "msg-body" });
  body.innerHTML = message.html; // rendered and escaped by the server's Block Kit renderer
  const header = el("header", { class: "msg-header" },
    el("span", { class: "msg-author", text: message.author }),
    message.is_bot && !message.ephemeral ? el("span", { class: "app-badge", text: "APP" }) : null,
    el("time", { datetime: message.iso, title: `${message.date} ${message.time}`, text: message.time }),
    message.edited ? el("span", { class: "msg-edited", text: "(edited)" }) : null);
  const main = el("div", { class: "msg-main" }, header, body);
  if (message.ephemeral) {
    main.append(el("div", { class: "ephemeral-note" },
      el("span", { text: "Only visible to you" }),
      el("button", { type: "button", class: "link-button", "data-testid": "dismiss", text: "Dismiss" })));
  }
  if (!inThread && message.reply_count > 0) {
    const n = message.reply_count;
    main.append(el("button", {
      type: "button", class: "replies-link", "data-testid": "replies-link", text: `${n} ${n === 1 ? "reply" : "replies"}`,
    }));
  }
  const marked = state.highlight && state.highlight.ts === message.ts && Date.now() < state.highlight.until;
  return el("article", {
    class: `msg${message.ephemeral ? " ephemeral" : ""}${marked ? " answer" : ""}`,
    "data-testid": message.ephemeral ? "ephemeral" : "message",
    "data-ts": message.ts,
    "data-channel": channel,
    "data-answers": message.answers,
    "aria-label": `${message.ephemeral ? "Only visible to you: " : ""}${message.author} at ${message.time}`,
  }, el("div", { class: "avatar", "aria-hidden": "true", text: initials(message.author) }), main);
}

// Redraws the message lists of one scrolling area (the channel; a thread's parent and replies), each
// only when it changed, so open selects survive polls. What the person looks at stays in place: a
// new conversation starts at its end (a thread at its parent), one read at its end follows new
// messages, and otherwise the first message in sight keeps its place.
function renderMessages(scroller, key, lists) {
  const changed = lists.filter((list) => {
    const signature = JSON.stringify([key, state.user, list.messages]);
    if (state.shown.get(list.container.id) === signature) return false;
    state.shown.set(list.container.id, signature);
    return true;
  });
  if (!changed.length) return;
  const fresh = scroller.dataset.seen !== key;
  const atEnd = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 40;
  const anchor = fresh ? null : firstInSight(scroller);
  for (const { container, messages, channel, inThread, empty } of changed) {
    const items = messages.map((m) => messageElement(m, channel, inThread));
    container.replaceChildren(...(items.length ? items : empty ? [el("p", { class: "empty", text: empty })] : []));
    textEmojiIn(container);
  }
  if (fresh) scroller.scrollTop = scroller.dataset.start === "top" ? 0 : scroller.scrollHeight;
  else if (atEnd) scroller.scrollTop = scroller.scrollHeight;
  else if (anchor) keepInPlace(scroller, anchor);
  scroller.dataset.seen = key;
  revealAnswers(scroller);
}

function firstInSight(scroller) {
  const top = scroller.getBoundingClientRect().top;
  for (const message of scroller.querySelectorAll("article[data-ts]")) {
    const box = message.getBoundingClientRect();
    if (box.bottom > top) return { ts: message.dataset.ts, offset: box.top - top };
  }
  return null;
}

function keepInPlace(scroller, anchor) {
  const message = scroller.querySelector(`article[data-ts="${CSS.escape(anchor.ts)}"]`);
  if (!message) return;
  scroller.scrollTop += message.getBoundingClientRect().top - scroller.getBoundingClientRect().top - anchor.offset;
}

// A click's private answer (a refusal, say) lands at the end of the channel or thread, often far from
// the button: as Slack shows it in view, the page scrolls to it and marks it.
function revealAnswers(scroller) {
  const now = Date.now();
  for (const [ts, when] of state.awaiting) if (now - when > ANSWER_WAIT_MS) state.awaiting.delete(ts);
  for (const answer of scroller.querySelectorAll("article[data-answers]")) {
    if (!state.awaiting.has(answer.dataset.answers) || state.answered.has(answer.dataset.ts)) continue;
    state.answered.add(answer.dataset.ts);
    state.highlight = { ts: answer.dataset.ts, until: now + ANSWER_MARK_MS };
    unmarkAnswers();
    answer.classList.add("answer", "answer-new");
    answer.scrollIntoView({ block: "nearest" });
    setTimeout(unmarkAnswers, ANSWER_MARK_MS + 100);
  }
}

// One answer is marked at a time, for a while.
function unmarkAnswers() {
  const current = state.highlight && Date.now() < state.highlight.until ? state.highlight.ts : null;
  for (const marked of document.querySelectorAll(".msg.answer")) {
    if (marked.dataset.ts !== current) marked.classList.remove("answer", "answer-new");
  }
}

// Called as a message's button is clicked: the answers already shown for it are old news.
function awaitAnswer(ts) {
  for (const old of document.querySelectorAll(`article[data-answers="${CSS.escape(ts)}"]`)) state.answered.add(old.dataset.ts);
  state.awaiting.set(ts, Date.now());
}

const HOME = "home";

function showHome(open) {
  byId("home").hidden = !open;
  byId("messages").hidden = open;
  byId("composer").hidden = open;
}

async function loadHome() {
  const { home } = await getJSON("/api/home", { user: state.user });
  byId("conversation-title").textContent = "Cutover · Home";
  showHome(true);
  const box = byId("home");
  if (!home) {
    state.home = null;
    box.replaceChildren(el("p", { class: "empty", text: "The app has not published a Home tab for you yet." }));
    return;
  }
  const key = JSON.stringify([home.view_id, home.hash, state.user]);
  if (state.home && state.home.key === key) return;
  box.innerHTML = home.html; // rendered and escaped by the server's Block Kit renderer
  box.dataset.viewId = home.view_id;
  textEmojiIn(box);
  state.home = { view_id: home.view_id, key };
}

async function loadChannel() {
  if (state.channel === HOME) return loadHome();
  showHome(false);
  state.home = null;
  const data = await getJSON("/api/channel", { user: state.user, channel: state.channel });
  const title = data.channel.kind === "dm" ? data.channel.name : `# ${data.channel.name}`;
  byId("conversation-title").textContent = data.channel.kind === "dm" ? "Cutover (app)" : title;
  byId("composer-input").setAttribute("placeholder", `Message ${title}, or try /release help`);
  renderMessages(byId("messages"), data.channel.id, [
    { container: byId("messages"), messages: data.messages, channel: data.channel.id, inThread: false,
      empty: "No messages yet. Try /release help." },
  ]);
}

// --- threads --------------------------------------------------------------------------------

async function openThread(channel, ts) {
  state.thread = { channel, ts };
  byId("thread").hidden = false;
  await loadThread();
}

function closeThread() {
  state.thread = null;
  byId("thread").hidden = true;
  state.shown.delete("thread-parent");
  state.shown.delete("thread-messages");
  byId("thread-parent").replaceChildren();
  byId("thread-messages").replaceChildren();
  delete byId("thread-scroll").dataset.seen;
}

async function loadThread() {
  if (!state.thread) return;
  let data;
  try {
    data = await getJSON("/api/thread", { user: state.user, ...state.thread });
  } catch {
    closeThread(); // the parent was deleted, or the new person is not in the channel
    return;
  }
  byId("thread-channel").textContent = `in # ${data.channel.name}`;
  renderMessages(byId("thread-scroll"), `${data.channel.id}/${data.parent.ts}`, [
    { container: byId("thread-parent"), messages: [data.parent], channel: data.channel.id, inThread: true, empty: "" },
    { container: byId("thread-messages"), messages: data.replies, channel: data.channel.id, inThread: true,
      empty: "No replies yet." },
  ]);
}

// --- modals ---------------------------------------------------------------------------------

async function loadModal() {
  const { modal } = await getJSON("/api/modal", { user: state.user });
  showModal(modal);
}

function showModal(modal) {
  const layer = byId("modal-layer");
  const box = byId("modal");
  if (!modal) {
    state.modal = null;
    layer.hidden = true;
    box.replaceChildren();
    return;
  }
  const key = JSON.stringify([modal.view_id, modal.hash, modal.errors, state.user]);
  if (state.modal && state.modal.key === key) return;
  const sameView = state.modal && state.modal.view_id === modal.view_id;
  const typed = sameView ? collectForm(box) : null;
  box.innerHTML = modal.html; // rendered and escaped by the server's Block Kit renderer
  textEmojiIn(box);
  if (typed) restoreForm(box, typed);
  const title = box.querySelector(".bk-modal-title, h1, h2");
  box.setAttribute("aria-label", title ? title.textContent.trim() : "Modal");
  state.modal = { view_id: modal.view_id, key };
  layer.hidden = false;
  const firstError = box.querySelector(".bk-error");
  const focus = firstError ? firstError.closest(".bk-input") : null;
  if (!sameView) (box.querySelector("input, textarea, select") || box).focus();
  else if (focus) focus.scrollIntoView({ block: "nearest" });
}

// What the person typed, as {block_id: {action_id: string | string[] | null}}.
function collectForm(root) {
  const values = {};
  for (const control of root.querySelectorAll("input[data-action-id], select[data-action-id], textarea[data-action-id]")) {
    const block = control.closest("[data-block-id]");
    if (!block) continue;
    const entry = (values[block.dataset.blockId] ??= {});
    const action = control.dataset.actionId;
    if (control.type === "radio") {
      if (control.checked) entry[action] = control.value;
      else if (!(action in entry)) entry[action] = null;
    } else if (control.type === "checkbox") {
      entry[action] = [...(Array.isArray(entry[action]) ? entry[action] : []), ...(control.checked ? [control.value] : [])];
    } else if (control.tagName === "SELECT" && control.multiple) {
      entry[action] = [...control.selectedOptions].map((o) => o.value);
    } else {
      entry[action] = control.value === "" ? null : control.value;
    }
  }
  return values;
}

function restoreForm(root, values) {
  for (const control of root.querySelectorAll("input[data-action-id], select[data-action-id], textarea[data-action-id]")) {
    const block = control.closest("[data-block-id]");
    const entry = block ? values[block.dataset.blockId] : undefined;
    if (!entry || !(control.dataset.actionId in entry)) continue;
    const value = entry[control.dataset.actionId];
    const chosen = Array.isArray(value) ? value : [value];
    if (control.type === "radio" || control.type === "checkbox") control.checked = chosen.includes(control.value);
    else if (control.tagName === "SELECT") {
      for (const option of control.options) option.selected = chosen.includes(option.value);
    } else control.value = value ?? "";
  }
}

async function submitModal(button) {
  if (!state.modal) return;
  button.disabled = true;
  const result = await attempt(() => postJSON("/api/submit", {
    view_id: state.modal.view_id, values: collectForm(byId("modal")),
  }));
  button.disabled = false;
  if (result && result.problems && result.problems.length) toast(`Slack would refuse the app's answer: ${result.problems.join("; ")}`);
  await refresh();
}

async function closeModal() {
  if (!state.modal) return;
  await attempt(() => postJSON("/api/close", { view_id: state.modal.view_id }));
  await refresh();
}

// --- confirm dialogs ------------------------------------------------------------------------

function askConfirm(spec) {
  const layer = byId("confirm-layer");
  const ok = byId("confirm-ok");
  const deny = byId("confirm-deny");
  byId("confirm-title").textContent = emojiAsText(spec.title || "Are you sure?");
  byId("confirm-text").innerHTML = spec.text || ""; // server-rendered HTML
  textEmojiIn(byId("confirm-text"));
  ok.textContent = emojiAsText(spec.confirm || "Yes");
  deny.textContent = emojiAsText(spec.deny || "Cancel");
  ok.className = `bk-button ${spec.style === "danger" ? "bk-danger" : "bk-primary"}`;
  layer.hidden = false;
  ok.focus();
  return new Promise((resolve) => {
    const finish = (answer) => {
      layer.hidden = true;
      ok.onclick = deny.onclick = layer.onkeydown = null;
      resolve(answer);
    };
    ok.onclick = () => finish(true);
    deny.onclick = () => finish(false);
    layer.onkeydown = (event) => { if (event.key === "Escape") finish(false); };
  });
}

// --- clicks and selections on Block Kit elements --------------------------------------------

function whereIs(element) {
  if (element.closest("#modal")) return state.modal ? { view_id: state.modal.view_id } : null;
  if (element.closest("#home")) return state.home ? { view_id: state.home.view_id } : null;
  const message = element.closest("article[data-ts]");
  return message ? { channel: message.dataset.channel, ts: message.dataset.ts } : null;
}

function blockIdOf(element) {
  if (element.dataset.blockId) return element.dataset.blockId;
  const block = element.closest("[data-block-id]");
  return block ? block.dataset.blockId : null;
}

async function sendAction(element, selected) {
  const where = whereIs(element);
  if (!where) return;
  const body = { ...where, action_id: element.dataset.actionId, block_id: blockIdOf(element) };
  if (selected !== undefined) body.selected = selected;
  if (where.ts) awaitAnswer(where.ts);
  element.setAttribute("aria-busy", "true");
  await attempt(() => postJSON("/api/action", body));
  element.removeAttribute("aria-busy");
  await refresh();
}

function parseConfirm(text) {
  try { return JSON.parse(text); } catch { return {}; }
}

async function onBlockButton(button) {
  if (button.dataset.confirm && !(await askConfirm(parseConfirm(button.dataset.confirm)))) return;
  // A link button opens its page and still tells the app, as in Slack.
  if (button.dataset.url) window.open(button.dataset.url, "_blank", "noopener");
  const selected = button.dataset.type === "button" || !("value" in button.dataset) ? undefined : button.dataset.value;
  await sendAction(button, selected);
}

function selectionOf(control) {
  if (control.tagName === "SELECT" && control.multiple) return [...control.selectedOptions].map((o) => o.value);
  if (control.type === "checkbox") {
    const group = control.closest(".bk-checkboxes") || document;
    const same = group.querySelectorAll(`input[type=checkbox][data-action-id="${CSS.escape(control.dataset.actionId)}"]`);
    return [...same].filter((c) => c.checked).map((c) => c.value);
  }
  return control.value === "" ? null : control.value;
}

// --- wiring ---------------------------------------------------------------------------------

function onClick(event) {
  const target = event.target.closest("button, a, [role=button]");
  if (!target) return;
  if (target.classList.contains("conversation-link")) return void selectChannel(target.dataset.channel);
  if (target.id === "sidebar-toggle") return toggleSidebar();
  if (target.classList.contains("replies-link")) {
    const message = target.closest("article[data-ts]");
    return void openThread(message.dataset.channel, message.dataset.ts);
  }
  if (target.id === "close-thread") return closeThread();
  if (target.dataset.testid === "dismiss") return void dismiss(target.closest("article[data-ts]"));
  if (target.closest("#modal")) {
    if (target.classList.contains("bk-submit")) return void submitModal(target);
    if (target.classList.contains("bk-close")) return void closeModal();
  }
  if (target.dataset.actionId && target.tagName !== "A") {
    event.preventDefault();
    onBlockButton(target);
  }
}

async function onChange(event) {
  const control = event.target;
  // Inside a modal, inputs only change the form; Slack sends them on submit.
  if (!control.dataset || !control.dataset.actionId || control.closest("#modal")) return;
  const selected = selectionOf(control);
  if (control.dataset.type === "overflow") control.value = ""; // a menu, not a lasting choice
  if (control.dataset.confirm && !(await askConfirm(parseConfirm(control.dataset.confirm)))) return;
  await sendAction(control, selected);
}

async function dismiss(message) {
  await attempt(() => postJSON("/api/dismiss", { channel: message.dataset.channel, ts: message.dataset.ts }));
  await refresh();
}

async function sendComposer(event) {
  event.preventDefault();
  const input = byId("composer-input");
  const text = input.value.trim();
  if (!text) return;
  input.disabled = true;
  const result = await attempt(() => postJSON("/api/slash", { channel: state.channel, text }));
  input.disabled = false;
  if (result) input.value = "";
  input.focus();
  await refresh();
}

function bindEvents() {
  document.addEventListener("click", onClick);
  document.addEventListener("change", onChange);
  byId("composer").addEventListener("submit", sendComposer);
  byId("composer-input").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) sendComposer(event);
  });
  byId("user-switcher").addEventListener("change", async (event) => {
    await switchUser(event.target.value, state.channel);
    rememberLocation();
  });
  byId("modal-layer").addEventListener("keydown", (event) => {
    if (event.key === "Escape" && byId("confirm-layer").hidden) closeModal();
  });
  byId("sidebar-backdrop").addEventListener("click", () => toggleSidebar(false));
  byId("sidebar").addEventListener("keydown", (event) => {
    if (event.key === "Escape" && document.querySelector(".app.sidebar-open")) {
      toggleSidebar(false);
      byId("sidebar-toggle").focus();
    }
  });
}

// --- keeping up to date ---------------------------------------------------------------------

let refreshing = null;
let refreshAgain = false;

// One refresh at a time; a request for another while one runs yields exactly one more after it.
async function refresh() {
  if (refreshing) {
    refreshAgain = true;
    return refreshing;
  }
  refreshing = (async () => {
    do {
      refreshAgain = false;
      try {
        await Promise.all([loadChannel(), loadThread(), loadModal()]);
        document.body.dataset.revision = String(state.revision);
      } catch (error) {
        if (!(error instanceof Offline)) toast(error.message); // the banner says it
      }
    } while (refreshAgain);
  })();
  try { await refreshing; } finally { refreshing = null; }
}

async function watchChanges() {
  for (;;) {
    try {
      const change = await getJSON("/api/changes", { since: state.revision });
      if (change.revision !== state.revision) {
        state.revision = change.revision;
        await refresh();
      }
    } catch {
      await sleep(1000); // the sandbox is restarting or gone (the banner says so); keep trying
    }
  }
}

async function boot() {
  bindEvents();
  settleEmoji();
  setInterval(tick, 1000);
  const params = new URLSearchParams(location.search);
  try {
    await switchUser(params.get("user") || localStorage.getItem("sandbox.user"), params.get("channel"));
    rememberLocation();
  } catch (error) {
    // Gone between serving the page and its first question: the banner says so, and the
    // watch below reloads everything once it answers again.
    if (!(error instanceof Offline)) toast(error.message);
  }
  document.body.dataset.ready = "true";
  watchChanges();
}

document.addEventListener("DOMContentLoaded", boot);
