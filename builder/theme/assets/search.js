// The /search/ page: Pagefind's JS API over the date-sharded bundles in pagefind/shards.json.
//
// Each shard is its own Pagefind bundle (see builder/search/shards.py). The newest is loaded as
// the primary index and the others are merged into it with mergeIndex, so one WebAssembly
// module and one worker serve them all. Each bundle gets a synthetic "shard" filter
// (mergeFilter), which is how "newest first" works across bundles: mergeIndex orders merged
// results by score only, but shards are consecutive date ranges, so searching one shard at a
// time with Pagefind's date sort, newest shard first, yields the global order. Everything loads
// from this site, and every URL is resolved from the page's own address, so the site works
// under any sub-path.

const FACETS = [
  ["topic", "Topic"],
  ["source", "Source"],
  ["tag", "Tag"],
  ["year", "Year"],
];
const PAGE = 20;
const FACET_PREVIEW = 8;

function start(section) {
  const root = new URL(section.dataset.root || "../", location.href);
  const pagefindBase = new URL("pagefind/", root);
  const form = section.querySelector(".search-form");
  const input = section.querySelector("#search-q");
  const sortSelect = section.querySelector("#search-sort");
  const status = section.querySelector(".search-status");
  const list = section.querySelector(".search-results");
  const facetBox = section.querySelector(".search-facets");
  const facetPanel = section.querySelector(".search-filters");
  // Beside the results on a wide screen; folded under "Narrow the results" on a phone.
  const wide = window.matchMedia("(min-width: 52rem)");
  const fitPanel = () => { if (wide.matches) facetPanel.open = true; };
  fitPanel();
  wide.addEventListener("change", fitPanel);
  const more = section.querySelector(".search-more");
  const clear = section.querySelector(".search-clear");

  const state = readUrl();
  input.value = state.q;
  sortSelect.value = state.sort;

  let backend = null; // { pagefind, shards } once loaded
  let loading = null;
  let generation = 0;
  let listing = null; // the result list being shown: { total, next(n) -> results }

  function readUrl() {
    const params = new URLSearchParams(location.search);
    const filters = {};
    for (const [key] of FACETS) {
      const values = params.getAll(key).filter(Boolean);
      if (values.length) filters[key] = values;
    }
    return {
      q: (params.get("q") || "").trim(),
      sort: params.get("sort") === "newest" ? "newest" : "relevance",
      filters,
    };
  }

  function writeUrl(push) {
    const params = new URLSearchParams();
    if (state.q) params.set("q", state.q);
    if (state.sort === "newest") params.set("sort", "newest");
    for (const [key] of FACETS) for (const v of state.filters[key] || []) params.append(key, v);
    const query = params.toString();
    const url = location.pathname + (query ? "?" + query : "");
    if (url !== location.pathname + location.search) {
      history[push ? "pushState" : "replaceState"](null, "", url);
    }
  }

  async function load() {
    if (backend) return backend;
    if (!loading) {
      loading = (async () => {
        const response = await fetch(new URL("shards.json", pagefindBase), { cache: "no-cache" });
        if (!response.ok) throw new Error(`search index missing (${response.status})`);
        const manifest = await response.json();
        const shards = manifest.shards || [];
        if (!shards.length) return (backend = { pagefind: null, shards: [] });
        const common = { baseUrl: root.pathname, excerptLength: 32 };
        const path = (s) => new URL(s.path, pagefindBase).pathname;
        const pagefind = await import(new URL(shards[0].path + "pagefind.js", pagefindBase).href);
        await pagefind.options({ ...common, basePath: path(shards[0]), mergeFilter: { shard: shards[0].id } });
        await pagefind.init();
        await Promise.all(shards.slice(1).map((s) =>
          pagefind.mergeIndex(path(s), { ...common, mergeFilter: { shard: s.id } })));
        // Loads every facet's values; until then searches count only the facets they filter by.
        await pagefind.filters();
        return (backend = { pagefind, shards });
      })();
      loading.catch(() => { loading = null; });
    }
    return loading;
  }

  // Pagefind filter object: any value within a facet, every facet at once.
  function pagefindFilters(filters, without) {
    const out = {};
    for (const [key, values] of Object.entries(filters)) {
      if (key !== without && values.length) out[key] = { any: values };
    }
    return out;
  }

  // Relevance: one merged search, results by score.
  function byRelevance(results) {
    let at = 0;
    return { total: results.length, next: async (n) => results.slice(at, (at += n)) };
  }

  // Newest first: shard by shard, newest shard first, each with Pagefind's date sort.
  function byDate({ pagefind, shards }, term, filters, total) {
    let shard = 0;
    let pending = [];
    return {
      total,
      next: async (n) => {
        while (pending.length < n && shard < shards.length) {
          const id = shards[shard++].id;
          const r = await pagefind.search(term, { filters: { ...filters, shard: id }, sort: { date: "desc" } });
          pending = pending.concat(r.results);
        }
        return pending.splice(0, n);
      },
    };
  }

  async function run({ push = false } = {}) {
    const mine = ++generation;
    writeUrl(push);
    document.title = (state.q ? `${state.q} – ` : "") + section.dataset.title;
    clear.hidden = !Object.keys(state.filters).length;
    if (!state.q) {
      list.replaceChildren();
      renderFacets({});
      more.hidden = true;
      setStatus("Type a word, a name or a place, then press Enter.");
      return;
    }
    setStatus("Searching…");
    let response;
    let facetCounts;
    try {
      const loaded = await load();
      if (!loaded.pagefind) throw new Error("the search index is empty");
      const filters = pagefindFilters(state.filters);
      response = await loaded.pagefind.search(state.q, { filters });
      // Counts for a facet ignore that facet's own selection, so its other values stay useful.
      facetCounts = { ...response.filters };
      for (const [key] of FACETS) {
        if (!(state.filters[key] || []).length) continue;
        const others = await loaded.pagefind.search(state.q, { filters: pagefindFilters(state.filters, key) });
        facetCounts[key] = others.filters[key] || {};
      }
      listing = state.sort === "newest"
        ? byDate(loaded, state.q, filters, response.results.length)
        : byRelevance(response.results);
    } catch (error) {
      if (mine !== generation) return;
      section.dataset.error = String((error && error.message) || error);
      list.replaceChildren();
      renderFacets({});
      more.hidden = true;
      setStatus("Search is not available right now: the search index could not be loaded. " +
        "Browse the topics or the archive instead.", true);
      return;
    }
    if (mine !== generation) return;
    renderFacets(facetCounts);
    list.replaceChildren();
    shown = 0;
    if (!listing.total) {
      renderEmpty();
      more.hidden = true;
      return;
    }
    const total = listing.total;
    setStatus(`${total.toLocaleString()} result${total === 1 ? "" : "s"} for “${state.q}”` +
      (state.sort === "newest" ? ", newest first" : ""));
    await showMore(mine);
  }

  let shown = 0;
  async function showMore(mine) {
    more.disabled = true; // one batch at a time keeps "newest first" in order
    const batch = await listing.next(PAGE);
    const data = await Promise.all(batch.map((r) => r.data()));
    more.disabled = false;
    if (mine !== generation) return;
    shown += batch.length;
    more.hidden = shown >= listing.total;
    const frag = document.createDocumentFragment();
    for (const item of data) frag.append(renderResult(item));
    list.append(frag);
  }

  function setStatus(text, isError = false) {
    status.textContent = text;
    status.classList.toggle("search-error", isError);
  }

  function renderEmpty() {
    const filtered = Object.keys(state.filters).length > 0;
    setStatus(`No results for “${state.q}”.`);
    const li = el("li", "search-empty");
    li.append(el("p", "search-empty-title", `Nothing here matches “${state.q}”${filtered ? " with these filters" : ""}.`));
    const tips = el("ul");
    if (filtered) tips.append(el("li", null, "Remove a filter, or clear them all."));
    tips.append(el("li", null, "Check the spelling, or try a shorter or different word."));
    tips.append(el("li", null, "Names may be spelled several ways: try another spelling."));
    li.append(tips);
    const browse = el("p");
    browse.append("Or browse ", link(new URL("topics/", root), "all topics"), " and the ",
      link(new URL("archive/", root), "archive"), ".");
    li.append(browse);
    list.append(li);
  }

  function renderResult(item) {
    const meta = item.meta || {};
    const li = el("li", "search-result" + (meta.kind === "topic" ? " is-topic" : ""));
    const body = el("div", "search-result-body");
    if (meta.kind === "topic") body.append(el("p", "kicker", "Topic"));
    const h = el("h2", "search-result-title");
    h.append(link(item.url, meta.title || item.url));
    body.append(h);
    const line = el("p", "meta");
    if (meta.iso && meta.iso !== "0000-00-00") {
      const t = el("time", null, meta.date || meta.iso);
      t.dateTime = meta.iso;
      line.append(t);
    }
    for (const extra of [meta.source, meta.count]) {
      if (!extra) continue;
      if (line.childNodes.length) line.append(" · ");
      line.append(extra);
    }
    if (line.childNodes.length) body.append(line);
    const excerpt = el("p", "search-excerpt");
    excerpt.append(...highlighted(item.excerpt || ""));
    body.append(excerpt);
    li.append(body);
    if (meta.image && !/^([a-z]+:)?\/\//i.test(meta.image)) {
      const img = el("img", "search-thumb");
      img.src = new URL(meta.image.replace(/^\/+/, ""), root).href;
      img.alt = "";
      img.loading = "lazy";
      img.decoding = "async";
      li.append(img);
    }
    return li;
  }

  // Pagefind's excerpt is text with <mark> around matches (and < > escaped): rebuild it from
  // text nodes and <mark> elements only, so no markup from an article can ever get in.
  function highlighted(html) {
    const doc = new DOMParser().parseFromString(`<p>${html}</p>`, "text/html");
    const out = [];
    for (const node of doc.body.firstChild ? doc.body.firstChild.childNodes : []) {
      if (node.nodeType === Node.ELEMENT_NODE && node.nodeName === "MARK") out.push(el("mark", null, node.textContent));
      else out.push(document.createTextNode(node.textContent));
    }
    return out;
  }

  function renderFacets(counts) {
    facetBox.replaceChildren();
    facetPanel.classList.remove("has-facets");
    for (const [key, label] of FACETS) {
      const selected = state.filters[key] || [];
      const values = Object.entries(counts[key] || {}).filter(([v, n]) => n > 0 || selected.includes(v));
      for (const v of selected) if (!values.some(([x]) => x === v)) values.push([v, 0]);
      if (!values.length) continue;
      if (key === "year") values.sort((a, b) => b[0].localeCompare(a[0]));
      else values.sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
      const box = el("fieldset", "search-facet");
      box.append(el("legend", null, label));
      const ul = el("ul");
      values.forEach(([value, count], i) => {
        const li = el("li");
        if (i >= FACET_PREVIEW && !selected.includes(value)) li.className = "facet-extra";
        const lab = el("label");
        const check = el("input");
        check.type = "checkbox";
        check.name = key;
        check.value = value;
        check.checked = selected.includes(value);
        check.addEventListener("change", () => toggle(key, value, check.checked));
        lab.append(check, " ", el("span", "facet-value", value), " ", el("span", "count", `(${count.toLocaleString()})`));
        li.append(lab);
        ul.append(li);
      });
      box.append(ul);
      const extra = values.length - FACET_PREVIEW;
      if (extra > 0) {
        box.classList.add("is-collapsed");
        const toggleAll = el("button", "facet-toggle", `Show ${extra} more`);
        toggleAll.type = "button";
        toggleAll.setAttribute("aria-expanded", "false");
        toggleAll.addEventListener("click", () => {
          const open = box.classList.toggle("is-collapsed") === false;
          toggleAll.textContent = open ? "Show fewer" : `Show ${extra} more`;
          toggleAll.setAttribute("aria-expanded", String(open));
        });
        box.append(toggleAll);
      }
      facetBox.append(box);
      facetPanel.classList.add("has-facets");
    }
  }

  function toggle(key, value, on) {
    const values = new Set(state.filters[key] || []);
    if (on) values.add(value);
    else values.delete(value);
    if (values.size) state.filters[key] = [...values];
    else delete state.filters[key];
    run({ push: true });
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function link(href, text) {
    const a = el("a", null, text);
    a.href = String(href);
    return a;
  }

  let timer = null;
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      state.q = input.value.trim();
      run();
    }, 300);
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    clearTimeout(timer);
    state.q = input.value.trim();
    run({ push: true });
  });
  sortSelect.addEventListener("change", () => {
    state.sort = sortSelect.value === "newest" ? "newest" : "relevance";
    run({ push: true });
  });
  clear.addEventListener("click", () => {
    state.filters = {};
    run({ push: true });
  });
  more.addEventListener("click", () => showMore(generation));
  window.addEventListener("popstate", () => {
    Object.assign(state, readUrl());
    input.value = state.q;
    sortSelect.value = state.sort;
    run();
  });
  run();
}

const section = document.querySelector("[data-search]");
if (section) start(section);
