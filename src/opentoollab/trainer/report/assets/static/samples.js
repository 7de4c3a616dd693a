/* OpenToolLab report: the sample browser. Data files are scripts (data/*.js) that call OTL.*, so the
   page works from file:// without a server. Filters live in the URL fragment (#g=0&cat=parallel&id=…).
   Sample text is only ever inserted as text (textContent), never as HTML. */
"use strict";

const OTL = (() => {
  const PAGE = 50;
  let I = null;               // the index (data/index.js)
  let byId = null;            // sample id -> position
  let search = null;          // lower-cased search text per sample (data/search.js, loaded on demand)
  const chunks = new Map();   // "samples:N" or "render:M:N" -> items
  const waiting = new Map();  // same keys -> [resolve, reject] lists
  let state = {};
  let shown = [];             // positions matching the filters
  let currentPage = 0;

  // ------------------------------------------------------------------ loading data scripts
  function script(src, key) {
    if (chunks.has(key)) return Promise.resolve(chunks.get(key));
    return new Promise((resolve, reject) => {
      const list = waiting.get(key);
      if (list) { list.push([resolve, reject]); return; }
      waiting.set(key, [[resolve, reject]]);
      const tag = document.createElement("script");
      tag.src = src;
      tag.onerror = () => {
        const fail = waiting.get(key) || [];
        waiting.delete(key);
        fail.forEach(([, no]) => no(new Error("cannot load " + src)));
      };
      document.body.appendChild(tag);
    });
  }
  function arrived(key, items) {
    chunks.set(key, items);
    (waiting.get(key) || []).forEach(([yes]) => yes(items));
    waiting.delete(key);
  }
  const pad = (n) => String(n).padStart(5, "0");
  const sampleChunk = (n) => script(`data/samples-${pad(n)}.js`, `samples:${n}`);
  const renderChunk = (m, n) => script(`data/render-${m}-${pad(n)}.js`, `render:${m}:${n}`);
  function searchText() {
    if (search) return Promise.resolve(search);
    return script("data/search.js", "search").then((s) => (search = s));
  }

  // ------------------------------------------------------------------ DOM helpers
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "class") node.className = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : v);
    }
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      node.appendChild(typeof child === "object" ? child : document.createTextNode(String(child)));
    }
    return node;
  }
  const $ = (id) => document.getElementById(id);
  const json = (v) => (typeof v === "string" ? v : JSON.stringify(v, null, 1));

  // ------------------------------------------------------------------ state in the URL fragment
  function readHash() {
    const params = new URLSearchParams(location.hash.slice(1));
    const out = {};
    for (const [k, v] of params) out[k] = v;
    return out;
  }
  function writeHash(next) {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(next)) if (v !== undefined && v !== null && v !== "") params.set(k, v);
    const text = params.toString();
    if (text !== location.hash.slice(1)) location.hash = text;
    else apply();
  }
  function update(changes, keepPage) {
    const next = Object.assign({}, state, changes);
    if (!keepPage) delete next.page;
    writeHash(next);
  }

  // ------------------------------------------------------------------ filters
  function fillSelect(select, options) {
    for (const [value, label] of options) select.appendChild(el("option", { value }, label));
  }
  function setupFilters() {
    const subs = [];
    I.groups.forEach((label, g) => {
      subs.push([`${g}|`, `${label} (all)`]);
      I.subsets.forEach((name, k) => { if (I.subsetGroup[k] === g) subs.push([`${g}|${name}`, `  ${name}`]); });
    });
    fillSelect($("f-sub"), subs);
    const present = I.cat.reduce((a, b) => a | b, 0);
    fillSelect($("f-cat"), I.categories.filter((c, k) => present & (1 << k)).map((c) => [c, c]));
    fillSelect($("f-lang"), I.languages.map((c) => [c, c]));
    fillSelect($("f-flag"), I.flags.map((f) => [f, f]));
    $("f-sub").addEventListener("change", (e) => {
      const [g, sub] = e.target.value ? e.target.value.split(/\|(.*)/s) : ["", ""];
      update({ g, sub });
    });
    for (const [id, key] of [["f-cat", "cat"], ["f-lang", "lang"], ["f-flag", "flag"]]) {
      $(id).addEventListener("change", (e) => update({ [key]: e.target.value }));
    }
    let timer = null;
    $("f-q").addEventListener("input", (e) => {
      clearTimeout(timer);
      timer = setTimeout(() => update({ q: e.target.value.trim() }), 200);
    });
    $("prev").addEventListener("click", () => update({ page: Math.max(0, currentPage - 1) }, true));
    $("next").addEventListener("click", () => update({ page: currentPage + 1 }, true));
  }
  function matching(st, texts) {
    const n = I.id.length, out = [];
    const g = st.g === undefined || st.g === "" ? null : +st.g;
    const sub = st.sub || null;
    const cat = st.cat ? I.categories.indexOf(st.cat) : -2;
    const lang = st.lang ? I.languages.indexOf(st.lang) : -2;
    const flag = st.flag && st.flag !== "*" && st.flag !== "-" ? I.flags.indexOf(st.flag) : -2;
    const q = (st.q || "").toLowerCase();
    for (let i = 0; i < n; i++) {
      const k = I.sub[i];
      if (g !== null && I.subsetGroup[k] !== g) continue;
      if (sub !== null && I.subsets[k] !== sub) continue;
      if (cat !== -2 && (cat < 0 || !(I.cat[i] & (1 << cat)))) continue;
      if (lang !== -2 && I.lang[i] !== lang) continue;
      const f = I.flag[i];
      if (st.flag === "*" && !(f && f.length)) continue;
      if (st.flag === "-" && f && f.length) continue;
      if (flag !== -2 && !(f && f.includes(flag))) continue;
      if (q && !texts[i].includes(q)) continue;
      out.push(i);
    }
    return out;
  }

  // ------------------------------------------------------------------ the list
  function chips(i) {
    const cats = I.categories.filter((c, k) => I.cat[i] & (1 << k));
    const flags = (I.flag[i] || []).map((k) => I.flags[k]);
    return [cats.map((c) => el("span", { class: "chip" }, c)), el("span", { class: "chip lang" }, I.languages[I.lang[i]]),
            flags.map((f) => el("span", { class: "chip flag" }, f))];
  }
  function showList() {
    const pages = Math.max(1, Math.ceil(shown.length / PAGE));
    let wanted = +state.page || 0;
    if (state.page === undefined && state.id && byId.has(state.id)) {  // open the page that holds the sample
      const at = shown.indexOf(byId.get(state.id));
      if (at >= 0) wanted = Math.floor(at / PAGE);
    }
    const page = Math.min(Math.max(0, wanted), pages - 1);
    currentPage = page;
    const list = $("list");
    list.textContent = "";
    for (const i of shown.slice(page * PAGE, page * PAGE + PAGE)) {
      const item = el("li", { "data-id": I.id[i], class: state.id === I.id[i] ? "current" : null,
                              onclick: () => update({ id: I.id[i] }, true) },
        el("span", { class: "sid" }, I.id[i]), " ",
        el("small", null, `${I.groups[I.subsetGroup[I.sub[i]]]} · ${I.subsets[I.sub[i]]} · ${I.turns[i]} turn(s), ${I.calls[i]} call(s)`),
        el("span", { class: "snip" }, I.snip[i]), chips(i));
      list.appendChild(item);
    }
    const current = list.querySelector("li.current");
    if (current) current.scrollIntoView({ block: "nearest" });
    $("count").textContent = `${shown.length.toLocaleString("en")} of ${I.id.length.toLocaleString("en")} samples`;
    $("pageinfo").textContent = `page ${page + 1} / ${pages}`;
    $("prev").disabled = page === 0;
    $("next").disabled = page >= pages - 1;
  }

  // ------------------------------------------------------------------ one sample
  function linkNode(body, ann) {
    const info = (ann.links || {})[body];
    if (!info) return el("span", { class: "link broken" }, `<link>${body}</link>`);
    if (info.error) return el("span", { class: "link broken", title: info.error }, `<link>${body}</link> `, el("span", { class: "from" }, "✗ " + info.error));
    const value = "value" in info ? JSON.stringify(info.value) : info.clipped + " …";
    return el("span", { class: "link", title: `<link>${body}</link>` }, value, " ",
              el("span", { class: "from" }, `← ${info.from}${info.path ? " · " + info.path : ""}`));
  }
  function valueNode(value, ann) {
    if (typeof value === "string" && value.includes("<link>")) {
      const parts = [];
      let last = 0;
      const re = /<link>([\s\S]*?)<\/link>/g;
      let m;
      while ((m = re.exec(value))) {
        if (m.index > last) parts.push(value.slice(last, m.index));
        parts.push(linkNode(m[1], ann));
        last = re.lastIndex;
      }
      if (last < value.length) parts.push(value.slice(last));
      return el("span", null, parts);
    }
    if (value && typeof value === "object" && JSON.stringify(value).includes("<link>")) {
      const rows = Array.isArray(value) ? value.map((v, k) => [k, v]) : Object.entries(value);
      return el("span", null, Array.isArray(value) ? "[" : "{", rows.map(([k, v], n) =>
        el("span", null, Array.isArray(value) ? "" : JSON.stringify(k) + ": ", valueNode(v, ann), n < rows.length - 1 ? ", " : "")),
        Array.isArray(value) ? "]" : "}");
    }
    return document.createTextNode(JSON.stringify(value));
  }
  function callCard(call, cid, truth, ann) {
    const params = call && typeof call.parameters === "object" && call.parameters ? call.parameters : {};
    const rows = Object.entries(params).map(([k, v]) => {
      const cell = truth && Array.isArray(v)
        ? v.map((c, n) => el("span", null, n ? " | " : "", c === "" ? el("i", null, "(omit)") : valueNode(c, ann)))
        : valueNode(v, ann);
      return el("tr", null, el("td", null, k), el("td", null, cell));
    });
    const deps = (call && call.depend_on) || [];
    return el("div", { class: "card", "data-call": cid },
      el("div", { class: "head" }, String(call && call.name), el("span", { class: "cid" }, cid)),
      deps.length ? el("div", { class: "deps" }, "⤷ after ", deps.join(", ")) : null,
      rows.length ? el("table", null, el("tbody", null, rows)) : el("div", { class: "deps" }, "no arguments"));
  }
  function callsNode(message, index, ann) {
    const info = (ann.calls || {})[index] || { ids: [], waves: [] };
    const calls = Array.isArray(message.content) ? message.content : [];
    const truth = message.role === "tool_call_ground_truth";
    const box = el("div", { class: "calls" });
    if (!calls.length) box.appendChild(el("i", null, truth ? "no call is the right answer" : "no calls"));
    const waves = info.waves && info.waves.length ? info.waves : [calls.map((c, k) => k)];
    waves.forEach((wave, w) => {
      box.appendChild(el("div", { class: "wave" }, waves.length > 1 ? el("span", { class: "wavelabel" }, `wave ${w + 1}`) : null,
        wave.map((k) => callCard(calls[k], info.ids[k] || "?", truth, ann))));
    });
    return box;
  }
  function resultsNode(message) {
    const content = message.content && typeof message.content === "object" ? message.content : {};
    return el("div", null, Object.entries(content).map(([cid, result]) => {
      const text = json(result);
      return el("details", { class: "result", open: text.length < 400 },
        el("summary", null, `result of ${cid} `, el("small", null, `${text.length.toLocaleString("en")} chars`)),
        el("pre", { class: "json" }, text));
    }));
  }
  function conversation(item) {
    const ann = item.a || {};
    const out = [];
    if (ann.error) out.push(el("p", { class: "error" }, `The calls of this sample cannot be laid out (${ann.error}); shown as stored.`));
    (Array.isArray(item.s) ? item.s : []).forEach((message, index) => {
      const role = message && message.role;
      if (role === "id") return;
      if (role === "meta") {
        out.push(el("details", { class: "msg" }, el("summary", { class: "role" }, "meta"), el("pre", { class: "json" }, json(message.content))));
      } else if (role === "candidate_tools") {
        const tools = Array.isArray(message.content) ? message.content : [];
        out.push(el("details", { class: "msg" },
          el("summary", { class: "role" }, `${tools.length} candidate tool(s): ${tools.map((t) => t && t.name).join(", ")}`),
          tools.map((t) => el("div", null, el("b", null, String(t && t.name)), " ", el("span", { class: "note" }, (t && t.description) || ""),
                               el("pre", { class: "json" }, json(t && t.parameters))))));
      } else if (role === "tool_call" || role === "tool_call_ground_truth") {
        out.push(el("div", { class: "msg " + role }, el("div", { class: "role" }, role === "tool_call" ? "tool calls" : "ground truth (acceptable values)"),
                    callsNode(message, index, ann)));
      } else if (role === "tool_response") {
        out.push(el("div", { class: "msg tool_response" }, el("div", { class: "role" }, "tool results"), resultsNode(message)));
      } else {
        const hidden = role === "assistant" && message.hidden;
        out.push(el("div", { class: `msg ${role}${hidden ? " hidden" : ""}` },
          el("div", { class: "role" }, hidden ? "assistant (hidden thought)" : String(role)),
          el("div", { class: "text" }, json(message && message.content))));
      }
    });
    return out;
  }
  function rendered(view, model) {
    if (view.skip) return el("p", { class: "error" }, `${model.name}'s template cannot express this sample: ${view.skip}. ${view.detail || ""}`);
    const text = view.t, parts = [];
    let last = 0;
    for (const [a, b] of view.s) {
      if (a > last) parts.push(text.slice(last, a));
      parts.push(el("mark", null, text.slice(a, b)));
      last = b;
    }
    if (last < text.length) parts.push(text.slice(last));
    const unit = view.exact ? "tokens" : "≈tokens";
    return el("div", null,
      el("p", { class: "note", id: "tokens" }, `${view.n.toLocaleString("en")} ${unit}, ${view.l.toLocaleString("en")} learned (highlighted)`),
      el("pre", { class: "rendered" }, parts));
  }
  function locate(i) {  // [data file number, position in it] of sample i
    let lo = 0, hi = I.chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (I.chunks[mid][1] <= i) lo = mid; else hi = mid - 1;
    }
    return [I.chunks[lo][0], i - I.chunks[lo][1]];
  }
  function showSample() {
    const box = $("detail");
    const i = state.id ? byId.get(state.id) : undefined;
    if (i === undefined) {
      box.textContent = "";
      box.appendChild(el("p", { class: "note" }, state.id ? `No sample ${state.id} in this report.` : "Pick a sample on the left."));
      return;
    }
    const [n, offset] = locate(i);
    const view = state.view && I.models.length ? Math.max(0, I.models.findIndex((m) => m.name === state.view)) : -1;
    const wanted = state.id;
    Promise.all([sampleChunk(n), view >= 0 ? renderChunk(view, n) : null]).then(([items, renders]) => {
      if (state.id !== wanted) return;
      const item = items[offset];
      const toolbar = el("div", { class: "toolbar" },
        el("button", { type: "button", id: "show-conversation", class: view < 0 ? "on" : null, onclick: () => update({ view: "" }, true) }, "Conversation"),
        I.models.map((m) => el("button", { type: "button", class: "show-template" + (I.models[view] === m ? " on" : ""),
                                           onclick: () => update({ view: m.name }, true) }, `Chat template: ${m.name}`)),
        I.models.length ? null : el("span", { class: "note" }, "(build with --model NAME for the chat-template view)"));
      box.textContent = "";
      box.appendChild(el("h2", { id: "sample-id" }, item.id));
      box.appendChild(el("p", null, el("small", null, `${I.groups[I.subsetGroup[I.sub[i]]]} · ${I.subsets[I.sub[i]]} · ${item.where} · ${I.turns[i]} turn(s), ${I.calls[i]} call(s), ${I.tools[i]} tool(s), ≈${I.tok[i]} tokens`)));
      box.appendChild(el("div", null, chips(i)));
      if (I.flag[i] === null) box.appendChild(el("p", { class: "note" }, "Not tagged: no rule flags (run `python tag run`)."));
      box.appendChild(toolbar);
      box.appendChild(el("div", { id: "body" }, view >= 0 ? rendered(renders[offset], I.models[view]) : conversation(item)));
    }).catch((error) => {
      box.textContent = "";
      box.appendChild(el("p", { class: "error" }, String(error.message || error)));
    });
  }

  // ------------------------------------------------------------------ putting it together
  function apply() {
    state = readHash();
    $("f-sub").value = state.g !== undefined && state.g !== "" ? `${state.g}|${state.sub || ""}` : "";
    $("f-cat").value = state.cat || "";
    $("f-lang").value = state.lang || "";
    $("f-flag").value = state.flag || "";
    if (document.activeElement !== $("f-q")) $("f-q").value = state.q || "";
    const done = (texts) => { shown = matching(state, texts); showList(); showSample(); };
    if (state.q) {
      $("count").textContent = "searching…";
      searchText().then(done).catch((e) => { $("count").textContent = String(e.message || e); });
    } else done(null);
  }

  return {
    index(data) {
      I = data;
      byId = new Map(I.id.map((id, i) => [id, i]));
      const start = () => { setupFilters(); window.addEventListener("hashchange", apply); apply(); };
      if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
    },
    chunk(n, items) { arrived(`samples:${n}`, items); },
    rendered(m, n, items) { arrived(`render:${m}:${n}`, items); },
    search(texts) { arrived("search", texts); },
    state: () => state,
    shown: () => shown.slice(),
  };
})();
