// Dispatch's web board: requests in flight as task graphs, agents as lanes, recent requests
// and their transcripts, kept live by the server's event stream (/api/events).
//
// No library: the graphs are laid out here (layers by longest dependency path, rows ordered
// by their parents' rows) and drawn as SVG. Text from requests and agents only ever goes in
// through textContent, never as markup. Cards are drawn when they come near the screen, so a
// thousand requests in flight cost a thousand empty boxes at first paint, not a thousand graphs.
"use strict";
(() => {
  const SVG = "http://www.w3.org/2000/svg";
  const NODE_W = 184;
  const NODE_H = 58;
  const GAP_X = 34;
  const GAP_Y = 10;
  const PAD = 3;
  const LABEL = {
    waiting: "queued", queued: "queued", running: "running", input_required: "asking",
    completed: "done", failed: "failed", timed_out: "timed out", cancelled: "cancelled",
    blocked: "blocked",
  };
  const LOOK = {
    waiting: "queued", queued: "queued", running: "running", input_required: "asking",
    completed: "done", failed: "failed", timed_out: "failed", cancelled: "cancelled",
    blocked: "blocked",
  };
  const FILTER_STATES = {
    queued: ["waiting", "queued"], running: ["running"], asking: ["input_required"],
    done: ["completed"], failed: ["failed"], timed_out: ["timed_out"],
    cancelled: ["cancelled"], blocked: ["blocked"],
  };
  const ACTIVE = new Set(["waiting", "queued", "running", "input_required"]);
  const RETRYABLE = new Set(["failed", "timed_out", "cancelled", "blocked"]);

  const state = {
    requests: new Map(), // id → request with tasks and edges
    cards: new Map(), // id → {root, graph, bar, drawn, ticks, selected}
    lanes: [],
    recent: [],
    offset: 0, // server clock − this clock, in seconds
    linger: 10,
    session: {},
    filters: { user: "", channel: "", agent: "", state: "" },
    detail: null, // the request whose transcript is open
    painted: false,
    pending: [], // older requests that came before the first paint
  };
  const $ = (id) => document.getElementById(id);

  // -- small helpers ---------------------------------------------------------------------

  function h(tag, attrs, ...kids) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "text") node.textContent = value;
      else if (key === "cls") node.className = value;
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const kid of kids) if (kid !== null && kid !== undefined) node.append(kid);
    return node;
  }

  function s(tag, attrs, ...kids) {
    const node = document.createElementNS(SVG, tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (key === "text") node.textContent = value;
      else node.setAttribute(key, String(value));
    }
    for (const kid of kids) if (kid) node.append(kid);
    return node;
  }

  const now = () => Date.now() / 1000 + state.offset;

  function duration(seconds) {
    let left = Math.max(0, Math.round(seconds));
    if (left < 60) return `${left}s`;
    const minutes = Math.floor(left / 60);
    left %= 60;
    if (minutes < 60) return `${minutes}m ${left}s`;
    const hours = Math.floor(minutes / 60);
    return `${hours}h ${minutes % 60}m`;
  }

  function clock(at) {
    const when = new Date((at - state.offset) * 1000);
    return when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  }

  function cut(text, chars) {
    return text.length <= chars ? text : `${text.slice(0, chars - 1)}…`;
  }

  function agentOf(task) {
    return (state.agents && state.agents.get(task.agent)) || { name: task.agent, emoji: "🤖" };
  }

  function stateLine(task) {
    const label = LABEL[task.state] || task.state;
    if (!task.started_at) return label;
    return `${label} · ${duration((task.finished_at || now()) - task.started_at)}`;
  }

  // -- the graph ---------------------------------------------------------------------------

  function layout(request) {
    const nodes = new Map();
    request.tasks.forEach((task, order) => {
      nodes.set(task.id, { task, order, deps: [], layer: 0, row: 0, x: 0, y: 0 });
    });
    for (const [from, to] of request.edges) {
      const node = nodes.get(to);
      if (node && nodes.has(from)) node.deps.push(nodes.get(from));
    }
    // A task's layer is the length of its longest chain of dependencies (bounded: a cycle,
    // which Dispatch never records, could not loop here).
    for (let pass = 0, moved = true; moved && pass <= nodes.size; pass += 1) {
      moved = false;
      for (const node of nodes.values()) {
        const layer = node.deps.length ? 1 + Math.max(...node.deps.map((d) => d.layer)) : 0;
        if (layer !== node.layer) {
          node.layer = Math.min(layer, nodes.size);
          moved = true;
        }
      }
    }
    const layers = [];
    for (const node of nodes.values()) (layers[node.layer] ||= []).push(node);
    const dense = layers.filter(Boolean);
    const centre = (node) =>
      node.deps.length ? node.deps.reduce((sum, d) => sum + d.row, 0) / node.deps.length : node.order;
    dense.forEach((layer, index) => {
      if (index) layer.sort((a, b) => centre(a) - centre(b) || a.order - b.order);
      layer.forEach((node, row) => { node.row = row; });
    });
    const rows = Math.max(1, ...dense.map((layer) => layer.length));
    dense.forEach((layer, index) => {
      const shift = ((rows - layer.length) * (NODE_H + GAP_Y)) / 2;
      for (const node of layer) {
        node.x = PAD + index * (NODE_W + GAP_X);
        node.y = PAD + shift + node.row * (NODE_H + GAP_Y);
      }
    });
    const columns = Math.max(1, dense.length);
    return {
      nodes,
      width: PAD * 2 + columns * NODE_W + (columns - 1) * GAP_X,
      height: PAD * 2 + rows * NODE_H + (rows - 1) * GAP_Y,
    };
  }

  function drawGraph(request, card) {
    const plan = layout(request);
    const svg = s("svg", {
      viewBox: `0 0 ${plan.width} ${plan.height}`, class: "dag", role: "group",
      "aria-label": `${request.tasks.length} tasks`,
    });
    svg.style.maxWidth = `${plan.width}px`;
    for (const node of plan.nodes.values()) {
      for (const dep of node.deps) {
        const x1 = dep.x + NODE_W;
        const y1 = dep.y + NODE_H / 2;
        const x2 = node.x - 5;
        const y2 = node.y + NODE_H / 2;
        const bend = (x2 - x1) / 2;
        svg.append(s("path", {
          class: `edge from-${LOOK[dep.task.state] || "queued"}`,
          d: `M${x1},${y1} C${x1 + bend},${y1} ${x2 - bend},${y2} ${x2},${y2}`,
          "data-from": dep.task.id, "data-to": node.task.id,
        }));
        svg.append(s("path", {
          class: "arrow", d: `M${x2},${y2 - 4} L${x2 + 5},${y2} L${x2},${y2 + 4} Z`,
        }));
      }
    }
    card.ticks = [];
    for (const node of plan.nodes.values()) {
      const task = node.task;
      const agent = agentOf(task);
      const line = s("text", { class: "st", x: 10, y: 49, text: stateLine(task) });
      const group = s("g", {
        class: `node st-${LOOK[task.state] || "queued"}${card.selected === task.id ? " selected" : ""}`,
        transform: `translate(${node.x},${node.y})`, tabindex: 0, role: "button",
        "data-task": task.id, "data-state": task.state,
        "aria-label": `${agent.name}: ${task.summary}, ${LABEL[task.state] || task.state}`,
      },
      s("title", { text: [`${agent.emoji} ${agent.name}`, task.summary, LABEL[task.state], task.note].filter(Boolean).join("\n") }),
      s("rect", { width: NODE_W, height: NODE_H, rx: 9 }),
      s("text", { class: "ag", x: 10, y: 17, text: cut(`${agent.emoji} ${agent.name}`, 24) }),
      s("text", { class: "sm", x: 10, y: 33, text: cut(task.summary, 27) }),
      line);
      if (task.state === "running" || task.state === "input_required") card.ticks.push([line, task]);
      svg.append(group);
    }
    card.graph.replaceChildren(svg);
  }

  // -- cards of requests in flight -------------------------------------------------------------

  const observer = "IntersectionObserver" in window
    ? new IntersectionObserver((entries) => {
      for (const entry of entries) {
        if (!entry.isIntersecting) continue;
        const id = entry.target.dataset.request;
        const card = state.cards.get(id);
        if (card && !card.drawn) draw(id);
      }
    }, { rootMargin: "600px 0px" })
    : null;

  function active(request) {
    return request.tasks.some((task) => ACTIVE.has(task.state));
  }

  function shape(request) {
    const plan = layout(request);
    return `${plan.width} / ${plan.height}`;
  }

  function makeCard(request, into) {
    const root = h("article", { cls: "card", "data-request": request.id });
    const graph = h("div", { cls: "graph" });
    const bar = h("div", { cls: "nodebar", hidden: true });
    const card = { root, graph, bar, drawn: false, ticks: [], selected: null, into };
    root.append(h("header", { cls: "card-head" }), graph, bar);
    root.addEventListener("click", (event) => onCardClick(event, card));
    root.addEventListener("keydown", (event) => {
      if ((event.key === "Enter" || event.key === " ") && event.target.closest("[data-task]")) {
        event.preventDefault();
        onCardClick(event, card);
      }
    });
    return card;
  }

  function drawHead(request, card) {
    const head = card.root.querySelector(".card-head");
    const where = request.dm ? "DM" : `#${request.channel}`;
    const since = (request.finished_at || now()) - request.created_at;
    const kids = [
      h("div", { cls: "who" },
        h("strong", { text: request.user_name }), " ",
        h("span", { cls: "where", text: `${where} · ${request.platform}` }), " ",
        h("span", { cls: "age", "data-created": request.created_at, text: duration(since) })),
      h("button", { cls: "text link", type: "button", "data-open": request.id, text: cut(request.text, 200) }),
    ];
    if (request.state === "clarifying" && request.question) {
      kids.push(h("p", { cls: "question", text: `Asked: ${request.question}` }));
    }
    if (request.state === "done") kids.push(h("p", { cls: "finished", text: "finished" }));
    if (state.session.admin && active(request)) {
      kids.push(h("button", { cls: "act danger", type: "button", "data-action": "cancel-request", text: "Cancel all" }));
    }
    head.replaceChildren(...kids);
  }

  function draw(id) {
    const request = state.requests.get(id);
    const card = state.cards.get(id);
    if (!request || !card) return;
    card.drawn = true;
    card.root.classList.toggle("done", request.state === "done");
    drawHead(request, card);
    if (request.tasks.length) drawGraph(request, card);
    else card.graph.replaceChildren();
    drawBar(request, card);
  }

  function drawBar(request, card) {
    const task = request.tasks.find((t) => t.id === card.selected);
    if (!task) {
      card.bar.hidden = true;
      card.bar.replaceChildren();
      return;
    }
    const agent = agentOf(task);
    const kids = [
      h("span", { cls: "bar-label", text: `${agent.emoji} ${agent.name} → ${task.summary}: ${LABEL[task.state]}` }),
    ];
    if (task.note) kids.push(h("span", { cls: "bar-note", text: task.note }));
    if (state.session.admin) {
      if (ACTIVE.has(task.state)) {
        kids.push(h("button", { cls: "act danger", type: "button", "data-action": "cancel", "data-task": task.id, text: "Cancel" }));
      }
      if (RETRYABLE.has(task.state)) {
        kids.push(h("button", { cls: "act", type: "button", "data-action": "retry", "data-task": task.id, text: "Retry" }));
      }
    }
    card.bar.replaceChildren(...kids);
    card.bar.hidden = false;
  }

  function onCardClick(event, card) {
    const request = state.requests.get(card.root.dataset.request) || state.detailRequest;
    if (!request) return;
    const button = event.target.closest("button");
    if (button && button.dataset.action) {
      event.stopPropagation();
      const kind = button.dataset.action;
      if (kind === "cancel-request") act(`/api/requests/${encodeURIComponent(request.id)}/cancel`);
      else act(`/api/tasks/${encodeURIComponent(button.dataset.task)}/${kind}`);
      return;
    }
    if (button && button.dataset.open) {
      openDetail(button.dataset.open);
      return;
    }
    const node = event.target.closest("[data-task]");
    if (node) {
      card.selected = card.selected === node.dataset.task ? null : node.dataset.task;
      if (card.into === "detail") drawDetailCard(request);
      else draw(request.id);
    }
  }

  function sizeGraph(card, request) {
    const plan = layout(request);
    card.graph.style.aspectRatio = `${plan.width} / ${plan.height}`;
    card.graph.style.maxWidth = `${plan.width}px`;
  }

  function newCard(request) {
    const card = makeCard(request, "flight");
    state.cards.set(request.id, card);
    sizeGraph(card, request);
    card.root.hidden = !matches(request);
    if (observer) observer.observe(card.root);
    return card;
  }

  function placeCard(request) {
    let card = state.cards.get(request.id);
    if (!card) {
      const flight = $("flight");
      card = newCard(request);
      // Newest first; a new request is usually the newest, so this stops at once.
      let before = null;
      for (const other of flight.children) {
        const mine = state.requests.get(other.dataset.request);
        if (mine && mine.created_at < request.created_at) { before = other; break; }
      }
      flight.insertBefore(card.root, before);
      if (!observer) draw(request.id);
      return;
    }
    card.root.hidden = !matches(request);
    if (card.drawn) draw(request.id);
    else sizeGraph(card, request);
  }

  function dropCard(id) {
    const card = state.cards.get(id);
    if (card) {
      if (observer) observer.unobserve(card.root);
      card.root.remove();
      state.cards.delete(id);
    }
    state.requests.delete(id);
  }

  function lingered(request) {
    return request.state === "done"
      && (!request.tasks.length || now() - (request.finished_at || 0) > state.linger);
  }

  // -- filters -------------------------------------------------------------------------------

  function matches(request) {
    const f = state.filters;
    if (f.user && request.user !== f.user && request.user_name !== f.user) return false;
    if (f.channel && request.channel !== f.channel) return false;
    const agents = request.tasks ? request.tasks.map((t) => t.agent) : request.agents || [];
    if (f.agent && !agents.includes(f.agent)) return false;
    if (f.state) {
      const wanted = FILTER_STATES[f.state] || [];
      const seen = request.tasks
        ? request.tasks.map((t) => t.state)
        : Object.keys(request.outcome || {});
      if (!seen.some((st) => wanted.includes(st))) return false;
    }
    return true;
  }

  function query() {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(state.filters)) if (value) params.set(key, value);
    return params;
  }

  let refetch = null;
  function onFilters() {
    const form = $("filters");
    for (const key of Object.keys(state.filters)) state.filters[key] = form.elements[key].value.trim();
    for (const [id, card] of state.cards) {
      const request = state.requests.get(id);
      if (request) card.root.hidden = !matches(request);
    }
    drawTotals();
    clearTimeout(refetch);
    refetch = setTimeout(loadRecent, 250);
  }

  // -- totals, lanes, recent -------------------------------------------------------------------

  function drawTotals() {
    const counts = {};
    let shown = 0;
    for (const request of state.requests.values()) {
      if (request.state === "done" || !matches(request)) continue;
      shown += 1;
      for (const task of request.tasks) {
        const look = LOOK[task.state] || task.state;
        counts[look] = (counts[look] || 0) + 1;
      }
    }
    $("flight-count").textContent = String(shown);
    $("flight-empty").hidden = state.requests.size > 0;
    const parts = ["running", "asking", "queued", "done", "failed", "cancelled", "blocked"]
      .filter((look) => counts[look])
      .map((look) => h("span", { cls: `pill st-${look}`, text: `${counts[look]} ${look}` }));
    $("totals").replaceChildren(...parts);
  }

  function drawLanes() {
    const select = $("filters").elements.agent;
    const chosen = select.value;
    select.replaceChildren(h("option", { value: "", text: "any agent" }),
      ...state.lanes.map((lane) => h("option", { value: lane.id, text: `${lane.emoji} ${lane.name}` })));
    select.value = chosen;
    const lanes = state.lanes.map((lane) => {
      const busy = lane.running + lane.asking;
      const status = lane.unavailable ? "down" : busy ? "busy" : "idle";
      const root = h("div", { cls: `lane ${status}`, "data-agent": lane.id },
        h("div", { cls: "lane-head" },
          h("span", { cls: "agent", text: `${lane.emoji} ${lane.name}` }),
          h("span", { cls: `status ${status}`, text: lane.unavailable ? "unavailable" : busy ? `busy (${busy})` : "idle" })));
      if (lane.unavailable) root.append(h("p", { cls: "why", text: lane.unavailable }));
      for (const task of lane.busy) {
        root.append(h("p", { cls: "busy-on" },
          `${task.state === "input_required" ? "asking on" : "on"} `,
          h("a", { cls: "link", href: `#${task.request}`, "data-open": task.request, text: cut(task.summary, 60) }),
          " for ",
          h("span", { cls: "since", "data-since": task.started_at || "", text: task.started_at ? duration(now() - task.started_at) : "–" })));
      }
      if (busy > lane.busy.length) root.append(h("p", { cls: "more", text: `+${busy - lane.busy.length} more` }));
      if (lane.queued) {
        const behind = lane.queue.length
          ? ` behind its main session: ${lane.queue.map((t) => cut(t.summary, 40)).join(", ")}${lane.queued > lane.queue.length ? ", …" : ""}`
          : "";
        root.append(h("p", { cls: "queue", text: `${lane.queued} queued${behind}` }));
      }
      const today = lane.today;
      root.append(h("p", { cls: "today" },
        "today ",
        h("span", { cls: "n-done", title: "done", text: `✓ ${today.completed}` }), " ",
        h("span", { cls: "n-failed", title: "failed", text: `✗ ${today.failed}` }), " ",
        h("span", { cls: "n-timed", title: "timed out", text: `⏱ ${today.timed_out}` })));
      return root;
    });
    $("lanes").replaceChildren(...lanes);
  }

  function outcomeText(head) {
    const outcome = head.outcome || {};
    const parts = [];
    const count = (st) => outcome[st] || 0;
    if (count("completed")) parts.push(["done", `✓ ${count("completed")}`]);
    if (count("failed") + count("timed_out")) parts.push(["failed", `✗ ${count("failed") + count("timed_out")}`]);
    if (count("cancelled")) parts.push(["cancelled", `⊘ ${count("cancelled")}`]);
    if (count("blocked")) parts.push(["blocked", `⏸ ${count("blocked")}`]);
    if (!parts.length) parts.push(["none", head.kind]);
    return parts;
  }

  function recentItem(head) {
    const where = head.dm ? "DM" : `#${head.channel}`;
    return h("li", { "data-request": head.id },
      h("button", { cls: "row", type: "button", "data-open": head.id },
        h("span", { cls: "when", text: clock(head.finished_at || head.created_at) }),
        h("span", { cls: "who", text: `${head.user_name} · ${where}` }),
        h("span", { cls: "what", text: cut(head.text, 140) }),
        h("span", { cls: "outcome" }, ...outcomeText(head).map(([look, text]) => h("span", { cls: `pill st-${look}`, text }))),
        h("span", { cls: "took", text: head.duration == null ? "" : duration(head.duration) })));
  }

  function drawRecent() {
    $("recent").replaceChildren(...state.recent.map(recentItem));
    $("recent-empty").hidden = state.recent.length > 0;
    $("older").hidden = state.recent.length < 50;
  }

  async function loadRecent(older) {
    const params = query();
    if (older && state.recent.length) params.set("before", state.recent[state.recent.length - 1].finished_at);
    const answer = await fetch(`/api/requests?${params}`, { credentials: "same-origin" });
    if (answer.status === 401) return signedOut();
    const body = await answer.json();
    state.recent = older ? state.recent.concat(body.recent) : body.recent;
    drawRecent();
    if (older) $("older").hidden = body.recent.length < 50;
  }

  // -- the transcript --------------------------------------------------------------------------

  function drawDetailCard(request) {
    state.detailRequest = request;
    let card = state.detailCard;
    if (!card || card.root.dataset.request !== request.id) {
      card = makeCard(request, "detail");
      state.detailCard = card;
      $("detail-card").replaceChildren(card.root);
    }
    card.drawn = true;
    card.root.classList.toggle("done", request.state === "done");
    drawHead(request, card);
    if (request.tasks.length) drawGraph(request, card);
    else card.graph.replaceChildren();
    drawBar(request, card);
  }

  async function openDetail(id) {
    state.detail = id;
    const answer = await fetch(`/api/requests/${encodeURIComponent(id)}`, { credentials: "same-origin" });
    if (answer.status === 401) return signedOut();
    if (!answer.ok || state.detail !== id) return;
    const body = await answer.json();
    const request = body.request;
    $("detail-title").textContent = `${request.user_name}: ${cut(request.text, 80)}`;
    const took = request.finished_at ? ` · took ${duration(request.finished_at - request.created_at)}` : "";
    $("detail-meta").textContent = `${request.dm ? "DM" : `#${request.channel}`} on ${request.platform} · ${request.state}${took}`;
    drawDetailCard(request);
    $("transcript").replaceChildren(...body.messages.map((message) => h("li",
      { cls: `msg by-${message.who} kind-${message.kind}`, "data-kind": message.kind },
      h("div", { cls: "by" },
        h("strong", { text: message.author }), " ",
        h("span", { cls: "kind", text: message.kind }), " ",
        h("span", { cls: "at", text: clock(message.at) }),
        message.delivery && message.delivery !== "sent"
          ? h("span", { cls: "pending", text: ` (${message.delivery === "dead" ? "never delivered" : "not sent yet"})` })
          : null),
      h("div", { cls: "body", text: message.text }))));
    const detail = $("detail");
    if (detail.hidden) {
      detail.hidden = false;
      $("detail-close").focus();
    }
  }

  function closeDetail() {
    state.detail = null;
    state.detailCard = null;
    state.detailRequest = null;
    $("detail").hidden = true;
  }

  // -- actions ---------------------------------------------------------------------------------

  function toast(text) {
    const box = $("toast");
    box.textContent = text;
    box.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(() => { box.hidden = true; }, 4000);
  }

  async function act(path) {
    const answer = await fetch(path, {
      method: "POST", credentials: "same-origin",
      headers: { "X-Dispatch-CSRF": state.session.csrf || "" },
    });
    if (answer.status === 401) return signedOut();
    const body = await answer.json().catch(() => ({}));
    toast(body.text || body.error || `failed (${answer.status})`);
  }

  // -- the live feed ---------------------------------------------------------------------------

  function upsert(request) {
    state.requests.set(request.id, request);
    if (lingered(request)) dropCard(request.id);
    else placeCard(request);
  }

  function onBoard(board) {
    state.offset = board.now - Date.now() / 1000;
    state.linger = board.linger || state.linger;
    state.session = board.session || {};
    state.lanes = board.lanes;
    state.agents = new Map(board.lanes.map((lane) => [lane.id, lane]));
    for (const id of [...state.cards.keys()]) dropCard(id);
    state.requests.clear();
    // Every card at once, in order: a thousand requests are one insertion, not a thousand.
    const cards = document.createDocumentFragment();
    for (const request of board.requests.sort((a, b) => b.created_at - a.created_at)) {
      state.requests.set(request.id, request);
      if (!lingered(request)) cards.append(newCard(request).root);
    }
    $("flight").replaceChildren(cards);
    if (!observer) for (const id of state.cards.keys()) draw(id);
    drawLanes();
    if (!Object.values(state.filters).some(Boolean)) {
      state.recent = board.recent;
      drawRecent();
    } else loadRecent();
    drawTotals();
    if (!state.painted) {
      state.painted = true;
      requestAnimationFrame(() => setTimeout(() => {
        performance.mark("board-painted");
        window.boardPaintedAt = performance.now();
        document.body.dataset.painted = "1";
        for (const more of state.pending.splice(0)) onMore(more);
      }, 0));
    }
  }

  function onMore(more) {
    // The older requests, after the first paint: all older than those drawn, so they go
    // at the end, in order.
    const cards = document.createDocumentFragment();
    for (const request of more.requests.sort((a, b) => b.created_at - a.created_at)) {
      if (state.requests.has(request.id)) continue;
      state.requests.set(request.id, request);
      if (!lingered(request)) cards.append(newCard(request).root);
    }
    $("flight").append(cards);
    if (!observer) for (const id of state.cards.keys()) draw(id);
    drawTotals();
  }

  function onDelta(delta) {
    state.offset = delta.now - Date.now() / 1000;
    if (delta.lanes) {
      state.lanes = delta.lanes;
      state.agents = new Map(delta.lanes.map((lane) => [lane.id, lane]));
      drawLanes();
    }
    for (const request of delta.requests || []) upsert(request);
    for (const id of delta.gone || []) dropCard(id);
    if (delta.recent) {
      const known = new Set(state.recent.map((head) => head.id));
      const fresh = delta.recent.filter((head) => !known.has(head.id) && matches(head));
      if (fresh.length) {
        state.recent = fresh.concat(state.recent).slice(0, 200);
        drawRecent();
      }
    }
    drawTotals();
    const touched = (delta.requests || []).some((r) => r.id === state.detail)
      || (delta.recent || []).some((r) => r.id === state.detail);
    if (touched) openDetail(state.detail);
  }

  function setLive(on) {
    const live = $("live");
    live.dataset.live = on ? "1" : "0";
    live.textContent = on ? "live" : "reconnecting…";
  }

  async function signedOut() {
    window.location.assign("/");
  }

  function connect() {
    performance.mark("board-connect");
    const feed = new EventSource("/api/events");
    feed.addEventListener("board", (event) => {
      performance.mark("board-received");
      const board = JSON.parse(event.data);
      performance.mark("board-parsed");
      onBoard(board);
      performance.mark("board-built");
      setLive(true);
    });
    feed.addEventListener("more", (event) => {
      const more = JSON.parse(event.data);
      if (document.body.dataset.painted) onMore(more);
      else state.pending.push(more); // drawn once the first screen is on it
    });
    feed.addEventListener("delta", (event) => onDelta(JSON.parse(event.data)));
    feed.addEventListener("error", async () => {
      setLive(false);
      if (feed.readyState !== EventSource.CLOSED) return; // the browser retries by itself
      const answer = await fetch("/api/board", { method: "HEAD", credentials: "same-origin" });
      if (answer.status === 401) return signedOut();
      setTimeout(connect, 2000);
    });
  }

  function tick() {
    const t = now();
    for (const request of [...state.requests.values()]) {
      if (lingered(request)) dropCard(request.id);
    }
    const cards = [...state.cards.values()];
    if (state.detailCard) cards.push(state.detailCard);
    for (const card of cards) {
      if (!card.drawn || card.root.hidden) continue;
      for (const [line, task] of card.ticks) line.textContent = stateLine(task);
      const age = card.root.querySelector(".age");
      const request = state.requests.get(card.root.dataset.request);
      if (age && request && !request.finished_at) age.textContent = duration(t - request.created_at);
    }
    for (const since of document.querySelectorAll(".lane [data-since]")) {
      if (since.dataset.since) since.textContent = duration(t - Number(since.dataset.since));
    }
    drawTotals();
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("filters").addEventListener("input", onFilters);
    $("filters").addEventListener("submit", (event) => event.preventDefault());
    $("older").addEventListener("click", () => loadRecent(true));
    $("detail-close").addEventListener("click", closeDetail);
    $("detail").addEventListener("click", (event) => { if (event.target === $("detail")) closeDetail(); });
    document.addEventListener("keydown", (event) => { if (event.key === "Escape") closeDetail(); });
    for (const id of ["recent", "lanes"]) {
      $(id).addEventListener("click", (event) => {
        const opener = event.target.closest("[data-open]");
        if (opener) {
          event.preventDefault();
          openDetail(opener.dataset.open);
        }
      });
    }
    connect();
    setInterval(tick, 1000);
  });
})();
