// The booth lookup page: search as you type over /api/v1/terms, sentence
// matches and concordance from the memories, a glossary browser in
// collation order, and contributing entries with a bearer token.
//
// Everything is keyboard-first (the search box keeps the focus) and works
// by touch.  Settings live in localStorage under "tm.*".

import { api, url } from './api.js';
import { h, marked, prefixLength } from './dom.js';

const $ = (id) => document.getElementById(id);
const input = $('q');
const list = $('results');
const statusLine = $('status');
const colhead = $('colhead');
const moreBtn = $('btn-more');
const fromSel = $('from');
const glossSel = $('glossary');
const sortSel = $('sort');

const LANG_NAMES = { en: 'English', ko: '한국어', uk: 'Українська' };
const MODES = ['terms', 'match', 'concordance', 'browse'];
const HOW = new Set(['exact', 'prefix', 'initials', 'inflection', 'transliteration', 'fuzzy']);

// ------------------------------------------------------------ settings

const store = {
  get(k, dflt) {
    try {
      const v = localStorage.getItem(`tm.${k}`);
      return v === null ? dflt : JSON.parse(v);
    } catch { return dflt; }
  },
  set(k, v) {
    try {
      if (v === null || v === undefined || v === '') localStorage.removeItem(`tm.${k}`);
      else localStorage.setItem(`tm.${k}`, JSON.stringify(v));
    } catch { /* private mode: settings last for this page only */ }
  },
};

function loadColumns() {
  const c = store.get('columns', null);
  if (c && Array.isArray(c.order) && c.order.length) {
    return { order: c.order.filter((l) => typeof l === 'string'), hidden: new Set(c.hidden || []) };
  }
  return { order: ['en', 'ko', 'uk'], hidden: new Set() };
}

const state = {
  mode: 'terms',
  items: [],        // what the list shows, normalised (see normEntry/normUnit)
  sel: -1,          // index of the selected item, -1 for none
  query: '',        // the query of the items shown
  seq: 0,           // number of the latest request; older answers are dropped
  ctrl: null,       // AbortController of the request in flight
  t0: 0,            // performance.now() of the input event being answered
  next: null,       // cursor for "more" in the glossary browser
  columns: loadColumns(),
  token: store.get('token', ''),
  glossaries: null, // [{name, entries}] once fetched
  lastPointer: 'mouse',
  editing: null,    // entry being corrected, or null when adding
};

// Reads are open unless the server runs with --private; then they carry
// the stored token, from the first 401 on.
let privateReads = false;
async function read(path, opts = {}) {
  try {
    return await api(path, { ...opts, token: privateReads ? state.token : undefined });
  } catch (e) {
    if (e.status === 401 && !privateReads && state.token) {
      privateReads = true;
      return api(path, { ...opts, token: state.token });
    }
    if (e.status === 401) e.message += ' — this server wants a token for lookups too: enter it in Settings (Alt+S).';
    throw e;
  }
}

const cache = new Map(); // request URL -> answer, for instant backspacing
const CACHE_MAX = 200;

function cols() {
  return state.columns.order.filter((l) => !state.columns.hidden.has(l));
}

function saveColumns() {
  store.set('columns', { order: state.columns.order, hidden: [...state.columns.hidden] });
}

// ------------------------------------------------------------ focus

// The search box gets the focus back after every action, except after a
// touch, where focusing would pop up the on-screen keyboard.
function refocus() {
  if (state.lastPointer === 'touch') return;
  if (document.querySelector('dialog[open]')) return;
  input.focus({ preventScroll: true });
}

document.addEventListener('pointerdown', (e) => { state.lastPointer = e.pointerType || 'mouse'; }, true);
document.addEventListener('keydown', () => { state.lastPointer = 'key'; }, true);

// ------------------------------------------------------------ normalising answers

function normTerm(t, i) {
  if (typeof t === 'string') return { text: t, status: i === 0 ? 'preferred' : 'admitted', type: 'full' };
  return {
    text: t.text || '',
    status: t.status || (i === 0 ? 'preferred' : 'admitted'),
    type: t.type || 'full',
    note: t.note || '',
    pos: t.pos || '',
  };
}

function normTerms(terms) {
  const out = {};
  if (Array.isArray(terms)) { // [{lang, text, ...}]
    for (const t of terms) (out[t.lang] ||= []).push(t);
  } else if (terms) {
    Object.assign(out, terms);
  }
  for (const k of Object.keys(out)) out[k] = (out[k] || []).map(normTerm);
  return out;
}

function normEntry(r) {
  return {
    kind: 'entry',
    id: r.entry ?? r.id,
    glossary: r.glossary || '',
    status: r.status || '',
    score: r.score,
    matched: r.matched || null,
    terms: normTerms(r.terms),
    definition: r.definition || '',
    note: r.note || '',
    domain: r.domain || '',
    source: r.source || '',
  };
}

function normUnit(m, from) {
  return {
    kind: 'unit',
    id: m.unit ?? m.id,
    memory: m.memory || '',
    score: m.score,
    from: m.from || m.source_lang || from,
    source: m.source || '',
    targets: m.targets || {},
    // Matches carry `changes`; concordance hits carry `hits`, [[start, end]].
    changes: Array.isArray(m.changes) ? m.changes
      : Array.isArray(m.hits) ? m.hits.map((h) => ({ op: 'hit', source: h })) : [],
    status: m.status || '',
    origin: m.origin || '',
  };
}

// ------------------------------------------------------------ languages

function detectLang(s) {
  if (/[\u1100-\u11FF\u3130-\u318F\uAC00-\uD7AF]/.test(s)) return 'ko';
  if (/\p{Script=Cyrillic}/u.test(s)) return 'uk';
  return 'en';
}

function fromLang() {
  return fromSel.value === 'auto' ? detectLang(input.value) : fromSel.value;
}

// ------------------------------------------------------------ requests

function requestFor(q) {
  switch (state.mode) {
    case 'terms':
      return url('/api/v1/terms', { q, limit: 15 });
    case 'match': {
      const from = fromLang();
      return url('/api/v1/tm/match', { q, from, to: cols().filter((l) => l !== from), min: 50, limit: 10 });
    }
    case 'concordance': {
      const from = fromLang();
      return url('/api/v1/tm/concordance', { q, lang: from, to: cols().filter((l) => l !== from), limit: 30 });
    }
    default:
      return null;
  }
}

function itemsOf(data) {
  if (state.mode === 'terms') return (data.results || []).map(normEntry);
  const from = data.from || fromLang();
  const arr = data.matches || data.units || data.results || data.hits || [];
  return arr.map((m) => normUnit(m, from));
}

// Answers the current box: the cached answer at once, else a request that
// supersedes (aborts) the previous one.  Old results stay on screen until
// the new ones are ready, so nothing flickers.
async function search() {
  const q = input.value.trim();
  const seq = ++state.seq;
  if (state.ctrl) state.ctrl.abort();
  state.ctrl = null;
  if (state.mode === 'browse') return;
  if (!q) {
    show([], '', null);
    return;
  }
  const req = requestFor(q);
  const hit = cache.get(req);
  if (hit) {
    show(itemsOf(hit), q, null, true);
    return;
  }
  const ctrl = new AbortController();
  state.ctrl = ctrl;
  list.setAttribute('aria-busy', 'true');
  try {
    const data = await read(req, { signal: ctrl.signal });
    if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value);
    cache.set(req, data);
    if (seq !== state.seq) return;
    show(itemsOf(data), q, null);
  } catch (e) {
    if (e.name === 'AbortError' || seq !== state.seq) return;
    show([], q, e);
  } finally {
    if (seq === state.seq) list.removeAttribute('aria-busy');
  }
}

function show(items, q, err, cached = false) {
  state.items = items;
  state.query = q;
  list.dataset.query = q;
  state.sel = -1;
  render();
  if (err) setStatus(`${err.message}${err.status ? ` (${err.status})` : ''}`, true);
  else if (!q) setStatus('Type to search · ? for keys');
  else if (!items.length) setStatus(`Nothing for “${q}”.`);
  else setStatus(`${items.length} ${items.length === 1 ? 'result' : 'results'}`);
  notifyRendered(q, cached);
}

// Tells whoever listens (the browser tests) that the list now shows the
// answer to Q; and, on the next frame, how long the keystroke took.
function notifyRendered(q, cached) {
  const t0 = state.t0;
  document.dispatchEvent(new CustomEvent('tm:rendered', { detail: { query: q, mode: state.mode, count: state.items.length, cached } }));
  if (!t0 || !q) return;
  state.t0 = 0;
  requestAnimationFrame(() => {
    const ms = performance.now() - t0;
    statusLine.dataset.ms = `${Math.round(ms)} ms`;
  });
}

function setStatus(text, error = false) {
  statusLine.textContent = text;
  statusLine.classList.toggle('error', error);
  delete statusLine.dataset.ms;
}

// ------------------------------------------------------------ rendering

function render() {
  const c = cols();
  colhead.replaceChildren(...(state.items.length && state.mode !== 'match' && state.mode !== 'concordance'
    ? c.map((l) => h('span', { lang: l }, LANG_NAMES[l] || l))
    : []));
  colhead.style.setProperty('--ncols', String(c.length || 1));
  const frag = document.createDocumentFragment();
  state.items.forEach((it, i) => frag.append(it.kind === 'entry' ? renderEntry(it, i, c) : renderUnit(it, i, c)));
  list.replaceChildren(frag);
  list.style.setProperty('--ncols', String(c.length || 1));
  input.setAttribute('aria-expanded', state.items.length ? 'true' : 'false');
  input.removeAttribute('aria-activedescendant');
  moreBtn.hidden = !(state.mode === 'browse' && state.next);
}

function termButton(t, { hit = false, query = '', lang }) {
  const cls = ['term', t.status === 'preferred' ? 'pref' : 'alt'];
  if (t.status === 'deprecated') cls.push('depr');
  if (hit) cls.push('hit');
  let body = t.text;
  if (hit && query) {
    const n = prefixLength(t.text, query);
    if (n) {
      const cps = Array.from(t.text);
      body = [h('mark', {}, cps.slice(0, n).join('')), cps.slice(n).join('')];
    }
  }
  const label = t.status === 'deprecated' ? `${t.text} (deprecated), copy` : `Copy ${t.text}`;
  return h('button', { type: 'button', class: cls.join(' '), lang, 'data-copy': t.text, 'aria-label': label, title: t.note || 'Copy' },
    t.status === 'deprecated' ? h('s', {}, body) : body);
}

function tags(t) {
  const out = [];
  if (t.status === 'deprecated') out.push(h('span', { class: 'tag depr' }, 'deprecated'));
  if (t.type === 'abbreviation') out.push(h('span', { class: 'tag' }, 'abbr.'));
  else if (t.type === 'variant') out.push(h('span', { class: 'tag' }, 'variant'));
  return out;
}

function renderEntry(it, i, c) {
  const m = it.matched;
  const cells = c.map((lang) => {
    const terms = it.terms[lang] || [];
    if (!terms.length) return h('div', { class: 'col empty', lang }, h('span', { class: 'lab' }, lang), '—');
    const [first, ...rest] = terms;
    const isHit = (t) => m && m.lang === lang && t.text === m.term;
    const badge = m && m.lang === lang && HOW.has(m.how) && terms.some(isHit)
      ? h('span', { class: `badge how-${m.how}`, title: `matched by ${m.how}` }, m.how) : null;
    return h('div', { class: 'col', lang },
      h('span', { class: 'lab', 'aria-hidden': 'true' }, lang),
      h('div', { class: 'main' }, termButton(first, { hit: isHit(first), query: state.query, lang }), ...tags(first),
        isHit(first) ? badge : null),
      rest.length ? h('div', { class: 'alts' }, rest.map((t) => h('span', { class: 'altwrap' },
        termButton(t, { hit: isHit(t), query: state.query, lang }), ...tags(t), isHit(t) ? badge : null))) : null);
  });
  // A match in a language that is not shown still says what matched.
  const elsewhere = m && !c.includes(m.lang)
    ? h('span', { class: 'elsewhere' }, `${m.lang}: ${m.term} `, h('span', { class: `badge how-${m.how}` }, m.how)) : null;
  const meta = h('div', { class: 'meta' },
    elsewhere,
    it.glossary ? h('span', {}, it.glossary) : null,
    it.domain ? h('span', {}, it.domain) : null,
    it.status && it.status !== 'approved' ? h('span', { class: `tag st-${it.status}` }, it.status) : null,
    it.definition || it.note || hasTermNotes(it) ? h('button', { type: 'button', class: 'mini', 'data-act': 'details', 'aria-label': 'Definition and notes' }, 'ⓘ') : null,
    h('button', { type: 'button', class: 'mini', 'data-act': 'open', 'aria-label': 'Open the entry' }, '⋯'));
  return h('li', { id: `r${i}`, class: 'res entry', role: 'option', 'aria-selected': 'false', dataset: { i } },
    h('div', { class: 'cols' }, cells), meta, details(it, c));
}

function hasTermNotes(it) {
  return Object.values(it.terms).some((ts) => ts.some((t) => t.note));
}

function details(it, c) {
  const notes = [];
  for (const lang of [...c, ...Object.keys(it.terms).filter((l) => !c.includes(l))]) {
    for (const t of it.terms[lang] || []) {
      if (t.note) notes.push(h('li', {}, h('b', { lang }, t.text), ' — ', t.note));
    }
  }
  return h('div', { class: 'details', hidden: true },
    it.definition ? h('p', { class: 'def' }, it.definition) : null,
    it.note ? h('p', { class: 'note' }, h('b', {}, 'Note: '), it.note) : null,
    notes.length ? h('ul', { class: 'tnotes' }, notes) : null,
    it.source ? h('p', { class: 'src' }, h('b', {}, 'Sources: '), it.source) : null);
}

function spansOf(changes, side) {
  return changes.map((ch) => ch[side]).filter((s) => Array.isArray(s) && s.length === 2);
}

function renderUnit(it, i, c) {
  const srcSpans = spansOf(it.changes, 'source');
  const qSpans = spansOf(it.changes, 'query');
  const isMatch = state.mode === 'match';
  const targets = c.filter((l) => l !== it.from);
  const shown = targets.length ? targets : Object.keys(it.targets);
  const tcols = h('div', { class: 'cols targets' }, shown.map((lang) => h('div', { class: 'col', lang },
      h('span', { class: 'lab', 'aria-hidden': 'true' }, lang),
      it.targets[lang]
        ? h('button', { type: 'button', class: 'seg term', lang, 'data-copy': it.targets[lang], 'aria-label': `Copy ${it.targets[lang]}` }, it.targets[lang])
        : h('span', { class: 'empty' }, '—'))));
  tcols.style.setProperty('--ncols', String(shown.length || 1));
  return h('li', { id: `r${i}`, class: 'res unit', role: 'option', 'aria-selected': 'false', dataset: { i } },
    h('div', { class: 'srcline' },
      it.score !== undefined && isMatch
        ? h('span', { class: `score${it.score === 100 ? ' full' : ''}`, title: 'match score' }, `${it.score}%`)
        : h('span', {}),
      h('span', { class: 'lab', 'aria-hidden': 'true' }, it.from),
      h('p', { class: 'seg', lang: it.from }, marked(it.source, srcSpans, isMatch ? 'diff' : 'hit'))),
    isMatch && qSpans.length ? h('div', { class: 'qline' },
      h('span', {}),
      h('span', { class: 'lab', title: 'your text' }, 'you'),
      h('p', { class: 'seg', lang: it.from }, marked(state.query, qSpans, 'diff q'))) : null,
    tcols,
    h('div', { class: 'meta' },
      it.memory ? h('span', {}, it.memory) : null,
      it.origin ? h('span', {}, it.origin) : null,
      it.status && it.status !== 'approved' ? h('span', { class: `tag st-${it.status}` }, it.status) : null,
      h('button', { type: 'button', class: 'mini', 'data-act': 'open', 'aria-label': 'Open the unit' }, '⋯')));
}

// ------------------------------------------------------------ selection

function select(i) {
  const n = state.items.length;
  if (!n) return;
  const prev = list.children[state.sel];
  if (prev) prev.setAttribute('aria-selected', 'false');
  state.sel = Math.max(-1, Math.min(n - 1, i));
  const cur = list.children[state.sel];
  if (cur) {
    cur.setAttribute('aria-selected', 'true');
    input.setAttribute('aria-activedescendant', cur.id);
    cur.scrollIntoView({ block: 'nearest' });
  } else {
    input.removeAttribute('aria-activedescendant');
    window.scrollTo({ top: 0 });
  }
  if (state.mode === 'browse' && state.sel === n - 1 && state.next) loadMore();
}

function current() {
  return state.items[state.sel >= 0 ? state.sel : 0] || null;
}

function toggleDetails(i) {
  const li = list.children[i];
  const d = li && li.querySelector('.details');
  if (!d) return;
  d.hidden = !d.hidden;
  li.classList.toggle('open', !d.hidden);
}

// ------------------------------------------------------------ copying

function preferred(terms) {
  if (!terms || !terms.length) return '';
  return (terms.find((t) => t.status === 'preferred') || terms.find((t) => t.status !== 'deprecated') || terms[0]).text;
}

// The term the interpreter wants: the preferred term of the first column
// in another language than the one typed.
function targetTerm(it) {
  if (!it) return '';
  const c = cols();
  if (it.kind === 'unit') {
    for (const l of c) if (l !== it.from && it.targets[l]) return it.targets[l];
    return Object.values(it.targets)[0] || '';
  }
  const typed = it.matched ? it.matched.lang : detectLang(state.query);
  for (const l of c) if (l !== typed && preferred(it.terms[l])) return preferred(it.terms[l]);
  return preferred(it.terms[typed]);
}

function columnTerm(it, n) {
  const l = cols()[n];
  if (!it || !l) return '';
  if (it.kind === 'unit') return l === it.from ? it.source : it.targets[l] || '';
  return preferred(it.terms[l]);
}

let pendingCopy = null;

document.addEventListener('copy', (e) => {
  let text = pendingCopy;
  if (text === null) {
    // Ctrl+C copies the target term unless some text is selected.
    if (document.activeElement === input && input.selectionStart !== input.selectionEnd) return;
    if (String(window.getSelection() || '')) return;
    text = targetTerm(current());
    if (!text) return;
    toast(`Copied: ${text}`);
  }
  e.clipboardData.setData('text/plain', text);
  e.preventDefault();
});

async function copyText(text) {
  if (!text) return;
  let ok = false;
  if (navigator.clipboard && window.isSecureContext) {
    try { await navigator.clipboard.writeText(text); ok = true; } catch { ok = false; }
  }
  if (!ok) { // plain http on a LAN address: the copy event still works
    pendingCopy = text;
    try { ok = document.execCommand('copy'); } catch { ok = false; }
    pendingCopy = null;
  }
  toast(ok ? `Copied: ${text}` : `Could not copy: ${text}`);
}

let toastTimer = 0;
function toast(text) {
  const t = $('toast');
  t.textContent = text;
  t.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { t.hidden = true; }, 1800);
}

// ------------------------------------------------------------ entry and unit dialog

const dlgEntry = $('dlg-entry');
const entryBody = $('entry-body');

function fmtTime(s) {
  if (!s) return '';
  const d = new Date(typeof s === 'number' ? s * 1000 : s);
  return Number.isNaN(d.getTime()) ? String(s) : d.toISOString().slice(0, 16).replace('T', ' ');
}

async function openCurrent() {
  const it = current();
  if (!it) return;
  if (state.sel < 0) select(0);
  dlgEntry.dataset.kind = it.kind;
  $('btn-edit').hidden = it.kind !== 'entry';
  $('entry-title').textContent = it.kind === 'entry' ? `Entry ${it.id}` : `Unit ${it.id}`;
  entryBody.replaceChildren(h('p', { class: 'hint' }, 'Loading…'));
  dlgEntry.showModal();
  try {
    if (it.kind === 'entry') {
      const e = normEntryFull(await read(`/api/v1/entries/${encodeURIComponent(it.id)}`));
      dlgEntry.entry = e;
      entryBody.replaceChildren(entryView(e));
    } else {
      const u = await read(`/api/v1/tm/units/${encodeURIComponent(it.id)}`);
      entryBody.replaceChildren(unitView(u));
    }
  } catch (err) {
    entryBody.replaceChildren(h('p', { class: 'err' }, err.message));
  }
}

function normEntryFull(d) {
  const e = normEntry(d);
  e.created = d.created; e.updated = d.updated; e.created_by = d.created_by; e.origin = d.origin || '';
  return e;
}

function langsOf(obj) {
  const c = cols();
  return [...c.filter((l) => l in obj), ...Object.keys(obj).filter((l) => !c.includes(l)).sort()];
}

function entryView(e) {
  const rows = langsOf(e.terms).map((lang) => h('div', { class: 'erow' },
    h('span', { class: 'lab' }, LANG_NAMES[lang] || lang),
    h('ul', { class: 'eterms' }, e.terms[lang].map((t) => h('li', {},
      termButton(t, { lang }), ...tags(t),
      t.status !== 'preferred' && t.status !== 'deprecated' ? h('span', { class: 'tag' }, t.status) : null,
      t.note ? h('span', { class: 'tnote' }, t.note) : null)))));
  const hist = h('details', { class: 'hist' }, h('summary', {}, 'History'));
  hist.addEventListener('toggle', () => loadHistory(hist, e.id), { once: true });
  return h('div', {},
    rows,
    e.definition ? h('p', { class: 'def' }, e.definition) : null,
    e.note ? h('p', { class: 'note' }, h('b', {}, 'Note: '), e.note) : null,
    h('dl', { class: 'facts' },
      fact('Glossary', e.glossary), fact('Domain', e.domain), fact('Status', e.status),
      fact('Sources', e.source), fact('Origin', e.origin), fact('By', e.created_by),
      fact('Created', fmtTime(e.created)), fact('Updated', fmtTime(e.updated))),
    hist);
}

function fact(k, v) {
  return v ? [h('dt', {}, k), h('dd', {}, v)] : null;
}

async function loadHistory(el, id) {
  try {
    const d = await read(`/api/v1/entries/${encodeURIComponent(id)}/history`);
    const ch = d.changes || [];
    el.append(ch.length ? h('ol', {}, ch.map((c) => h('li', {}, `${fmtTime(c.at)} · ${c.by || '?'} · ${c.action || ''}`)))
      : h('p', { class: 'hint' }, 'No changes recorded.'));
  } catch (err) {
    el.append(h('p', { class: 'err' }, err.message));
  }
}

function unitView(u) {
  const v = u.variants || {};
  return h('div', {},
    langsOf(v).map((lang) => h('div', { class: 'erow' },
      h('span', { class: 'lab' }, LANG_NAMES[lang] || lang),
      h('button', { type: 'button', class: 'seg term', lang, 'data-copy': v[lang] }, v[lang]))),
    u.note ? h('p', { class: 'note' }, h('b', {}, 'Note: '), u.note) : null,
    h('dl', { class: 'facts' },
      fact('Memory', u.memory), fact('Status', u.status), fact('Origin', u.origin),
      fact('By', u.created_by), fact('Created', fmtTime(u.created)), fact('Updated', fmtTime(u.updated))));
}

// ------------------------------------------------------------ contributing

const dlgEdit = $('dlg-edit');
const formEdit = $('form-edit');

// Terms are edited as the shipped glossaries write them:
//   "Київ | Kiev {deprecated; spelling from Russian}"
const STATUS_KW = new Set(['preferred', 'admitted', 'deprecated']);
const TYPE_KW = new Set(['full', 'abbreviation', 'variant']);

function formatTerms(terms) {
  return (terms || []).map((t, i) => {
    const kw = [];
    const dfltStatus = i === 0 ? 'preferred' : 'admitted';
    if (t.status && t.status !== dfltStatus) kw.push(t.status);
    if (t.type && t.type !== 'full') kw.push(t.type);
    if (!kw.length && !t.note) return t.text;
    return `${t.text} {${kw.join(', ')}${t.note ? `${kw.length ? '; ' : '; '}${t.note}` : ''}}`;
  }).join(' | ');
}

function parseTerms(s) {
  return s.split(/\s+\|\s+|\s*\|\s*/).map((x) => x.trim()).filter(Boolean).map((x, i) => {
    const m = /^(.*?)\s*\{([^{}]*)\}$/.exec(x);
    const t = { text: x };
    if (m) {
      const [kws, ...note] = m[2].split(';');
      const words = kws.split(',').map((w) => w.trim()).filter(Boolean);
      if (words.length === 0 ? note.length : words.every((w) => STATUS_KW.has(w) || TYPE_KW.has(w))) {
        t.text = m[1];
        for (const w of words) {
          if (STATUS_KW.has(w)) t.status = w;
          else t.type = w;
        }
        if (note.length) t.note = note.join(';').trim();
      }
    }
    if (!t.status) t.status = i === 0 ? 'preferred' : 'admitted';
    return t;
  });
}

function termFields(langs) {
  const box = $('f-terms');
  box.replaceChildren(...langs.map((lang) => h('div', { class: 'field' },
    h('label', { for: `f-term-${lang}` }, `${LANG_NAMES[lang] || lang} `, h('span', { class: 'hint' }, `(${lang})`)),
    h('input', { id: `f-term-${lang}`, name: `term-${lang}`, lang, autocomplete: 'off', spellcheck: 'false', 'data-lang': lang }),
    h('p', { class: 'err', id: `e-term-${lang}`, 'aria-live': 'polite' }))));
}

async function fillGlossaries(selected) {
  const sel = $('f-glossary');
  if (!state.glossaries) {
    try {
      const d = await read('/api/v1/glossaries');
      state.glossaries = (d.glossaries || []).map((g) => (typeof g === 'string' ? { name: g } : g));
    } catch { state.glossaries = [{ name: 'default' }]; }
  }
  const names = state.glossaries.map((g) => g.name);
  if (!names.includes('default')) names.unshift('default');
  sel.replaceChildren(...names.map((n) => h('option', { value: n }, n)));
  sel.value = names.includes(selected) ? selected : 'default';
}

function clearErrors() {
  for (const el of formEdit.querySelectorAll('.err')) el.textContent = '';
  for (const el of formEdit.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
}

async function openEdit(entry) {
  state.editing = entry || null;
  const langs = entry ? langsOf({ ...Object.fromEntries(cols().map((l) => [l, 1])), ...entry.terms }) : cols();
  termFields(langs.length ? langs : ['en', 'ko', 'uk']);
  clearErrors();
  $('edit-title').textContent = entry ? `Correct entry ${entry.id}` : 'Add an entry';
  $('f-glossary-wrap').hidden = !!entry;
  for (const k of ['definition', 'note', 'domain', 'source']) $(`f-${k}`).value = entry ? entry[k] || '' : '';
  $('f-token').value = state.token || '';
  if (entry) {
    for (const lang of langs) $(`f-term-${lang}`).value = formatTerms(entry.terms[lang]);
  } else if (input.value.trim() && state.mode === 'terms') {
    const lang = detectLang(input.value);
    const f = $(`f-term-${lang}`);
    if (f) f.value = input.value.trim();
  }
  if (dlgEntry.open) dlgEntry.close();
  dlgEdit.showModal();
  const firstEmpty = [...formEdit.querySelectorAll('#f-terms input')].find((x) => !x.value) || formEdit.querySelector('#f-terms input');
  (firstEmpty || $('f-definition')).focus();
  await fillGlossaries(entry ? entry.glossary : 'default');
}

// Which field an error from the server is about: the token for 401/403,
// else the field its message (or an explicit "field") names.
function fieldOf(err, langs) {
  if (err.status === 401 || err.status === 403) return 'token';
  const named = err.detail && (err.detail.field || err.detail.pointer);
  const m = `${named || ''} ${err.message || ''}`.toLowerCase();
  for (const lang of langs) {
    if (new RegExp(`(^|[^a-z])${lang.toLowerCase()}([^a-z-]|$)`).test(m)) return `term-${lang}`;
  }
  for (const k of ['definition', 'note', 'domain', 'source', 'glossary']) if (m.includes(k)) return k;
  if (/\bterms?\b/.test(m)) return `term-${langs[0]}`;
  if (err.status === 404 && !state.editing) return 'glossary';
  return 'form';
}

function explain(err) {
  switch (err.status) {
    case 401: return `${err.message} — a token is needed to contribute (ask an admin: tm token create --role contributor).`;
    case 403: return /revoked/.test(err.message)
      ? `${err.message} — ask an admin for a new token.`
      : `${err.message} — this token's role may not do that.`;
    case 413: return `${err.message} — the entry is too large.`;
    case 0: return err.message;
    default: return err.message;
  }
}

function showError(field, text) {
  const target = $(`e-${field}`) || $('e-form');
  target.textContent = text;
  const inputEl = $(`f-${field}`);
  if (inputEl) {
    inputEl.setAttribute('aria-invalid', 'true');
    inputEl.setAttribute('aria-describedby', `e-${field}`);
    inputEl.focus();
  }
}

formEdit.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  clearErrors();
  const langs = [...formEdit.querySelectorAll('#f-terms input')].map((x) => x.dataset.lang);
  // Terms go as objects with an explicit status (a bare string would leave
  // it to the server); a part of speech the entry had is kept.  Correcting,
  // a language emptied is removed (null).
  const terms = {};
  for (const lang of langs) {
    const orig = state.editing ? state.editing.terms[lang] || [] : [];
    const ts = parseTerms($(`f-term-${lang}`).value).map((t) => {
      const o = orig.find((x) => x.text === t.text);
      const out = { text: t.text, status: t.status };
      if (t.type) out.type = t.type;
      if (t.note) out.note = t.note;
      if (o && o.pos) out.pos = o.pos;
      return out;
    });
    if (ts.length) terms[lang] = ts;
    else if (orig.length) terms[lang] = null;
  }
  const body = { terms };
  for (const k of ['definition', 'note', 'domain', 'source']) {
    const v = $(`f-${k}`).value.trim();
    if (v || state.editing) body[k] = v;
  }
  const token = $('f-token').value.trim();
  const save = $('btn-save');
  // Not `disabled`: disabling the focused button loses the focus in ways
  // that leave the search box unable to take keystrokes afterwards.
  if (save.getAttribute('aria-busy') === 'true') return;
  save.setAttribute('aria-busy', 'true');
  try {
    let id;
    if (state.editing) {
      await api(`/api/v1/entries/${encodeURIComponent(state.editing.id)}`, { method: 'PUT', body, token });
      id = state.editing.id;
    } else {
      const g = $('f-glossary').value || 'default';
      const d = await api(`/api/v1/glossaries/${encodeURIComponent(g)}/entries`, { method: 'POST', body, token });
      id = d && (d.entry ?? d.id);
    }
    if (token) { state.token = token; store.set('token', token); }
    cache.clear();
    state.glossaries = null;
    dlgEdit.close();
    toast(state.editing ? `Entry ${id} corrected` : `Entry ${id} added`);
    search();
  } catch (err) {
    if (err.name === 'AbortError') return;
    showError(fieldOf(err, langs), explain(err));
  } finally {
    save.removeAttribute('aria-busy');
  }
});

for (const b of formEdit.querySelectorAll('[data-close]')) b.addEventListener('click', () => dlgEdit.close());

$('btn-edit').addEventListener('click', () => {
  if (dlgEntry.entry) openEdit(dlgEntry.entry);
});

async function editCurrent() {
  const it = current();
  if (!it || it.kind !== 'entry') return;
  try {
    openEdit(normEntryFull(await read(`/api/v1/entries/${encodeURIComponent(it.id)}`)));
  } catch (err) {
    setStatus(err.message, true);
  }
}

// ------------------------------------------------------------ settings dialog

const dlgSettings = $('dlg-settings');

function renderSettings() {
  const ol = $('set-columns');
  const order = state.columns.order;
  ol.replaceChildren(...order.map((lang, i) => h('li', {},
    h('label', {},
      h('input', { type: 'checkbox', checked: !state.columns.hidden.has(lang), dataset: { lang }, onchange: (e) => {
        if (e.target.checked) state.columns.hidden.delete(lang); else state.columns.hidden.add(lang);
        columnsChanged();
      } }),
      ` ${LANG_NAMES[lang] || lang} `, h('span', { class: 'hint' }, `(${lang})`)),
    h('button', { type: 'button', 'aria-label': `Move ${lang} left`, disabled: i === 0, onclick: () => moveCol(i, -1) }, '↑'),
    h('button', { type: 'button', 'aria-label': `Move ${lang} right`, disabled: i === order.length - 1, onclick: () => moveCol(i, 1) }, '↓'))));
  $('set-token').value = state.token || '';
}

function moveCol(i, d) {
  const o = state.columns.order;
  [o[i], o[i + d]] = [o[i + d], o[i]];
  columnsChanged();
  const btn = $('set-columns').children[i + d]?.querySelectorAll('button')[d < 0 ? 0 : 1];
  if (btn && !btn.disabled) btn.focus();
}

function columnsChanged() {
  saveColumns();
  renderSettings();
  fillSorts();
  if (state.mode === 'terms' || state.mode === 'browse') {
    const sel = state.sel;
    render();
    if (sel >= 0) select(sel);
  } else {
    search();
  }
}

$('set-addlang').addEventListener('click', () => {
  const v = $('set-newlang').value.trim().replace('_', '-');
  if (/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/.test(v) && !state.columns.order.includes(v)) {
    state.columns.order.push(v);
    $('set-newlang').value = '';
    columnsChanged();
  }
});
$('set-token').addEventListener('change', (e) => { state.token = e.target.value.trim(); store.set('token', state.token); });
$('set-forget').addEventListener('click', () => { state.token = ''; store.set('token', ''); $('set-token').value = ''; });

function openSettings() {
  renderSettings();
  dlgSettings.showModal();
}

// ------------------------------------------------------------ theme

function toggleTheme() {
  const light = document.documentElement.dataset.theme !== 'light';
  document.documentElement.dataset.theme = light ? 'light' : 'dark';
  try { localStorage.setItem('tm.theme', light ? 'light' : 'dark'); } catch { /* this page only */ }
}

// ------------------------------------------------------------ modes

function fillSorts() {
  const c = cols();
  const keep = sortSel.value;
  sortSel.replaceChildren(...c.map((l) => h('option', { value: l }, `${LANG_NAMES[l] || l} order`)));
  sortSel.value = c.includes(keep) ? keep : c[0] || 'en';
  const keepFrom = fromSel.value;
  fromSel.replaceChildren(h('option', { value: 'auto' }, 'auto'), ...c.map((l) => h('option', { value: l }, l)));
  fromSel.value = keepFrom === 'auto' || c.includes(keepFrom) ? keepFrom : 'auto';
}

function setMode(mode, { keepUrl = false } = {}) {
  if (!MODES.includes(mode)) mode = 'terms';
  const changed = mode !== state.mode;
  state.mode = mode;
  document.body.dataset.mode = mode;
  for (const b of document.querySelectorAll('.modes [data-mode]')) b.setAttribute('aria-selected', String(b.dataset.mode === mode));
  fromSel.hidden = !(mode === 'match' || mode === 'concordance');
  glossSel.hidden = sortSel.hidden = mode !== 'browse';
  input.placeholder = {
    terms: 'Type a term: ㅈㅈㅍㄹ, non-ref, військовопол…',
    match: 'Type or paste a sentence…',
    concordance: 'Words to find in the memories…',
    browse: 'Type to search terms',
  }[mode];
  if (mode === 'browse') input.value = ''; // typing there starts a new term search
  if (!keepUrl) syncUrl();
  if (mode === 'browse') browse();
  else if (changed) { state.items = []; render(); search(); }
  refocus();
}

for (const b of document.querySelectorAll('.modes [data-mode]')) b.addEventListener('click', () => setMode(b.dataset.mode));

// ------------------------------------------------------------ glossary browser

async function browse(append = false) {
  const seq = ++state.seq;
  if (state.ctrl) state.ctrl.abort();
  const ctrl = new AbortController();
  state.ctrl = ctrl;
  try {
    if (!glossSel.options.length) {
      const d = await read('/api/v1/glossaries', { signal: ctrl.signal });
      state.glossaries = (d.glossaries || []).map((g) => (typeof g === 'string' ? { name: g } : g));
      const want = new URLSearchParams(location.search).get('glossary');
      glossSel.replaceChildren(...state.glossaries.map((g) => h('option', { value: g.name },
        `${g.name}${(g.entries ?? g.records) !== undefined ? ` (${g.entries ?? g.records})` : ''}`)));
      const biggest = [...state.glossaries].sort((a, b) => (b.entries ?? b.records ?? 0) - (a.entries ?? a.records ?? 0))[0];
      glossSel.value = state.glossaries.some((g) => g.name === want) ? want : biggest ? biggest.name : '';
      syncUrl();
    }
    if (!glossSel.value) { show([], '', null); setStatus('No glossary yet.'); return; }
    const d = await read(url(`/api/v1/glossaries/${encodeURIComponent(glossSel.value)}/entries`,
      { sort: sortSel.value, limit: 50, after: append ? state.next : '' }), { signal: ctrl.signal });
    if (seq !== state.seq) return;
    const items = (d.entries || d.results || []).map(normEntry);
    state.next = d.next ?? null;
    if (append) {
      const at = state.items.length;
      state.items = state.items.concat(items);
      const frag = document.createDocumentFragment();
      const c = cols();
      items.forEach((it, k) => frag.append(renderEntry(it, at + k, c)));
      list.append(frag);
      moreBtn.hidden = !state.next;
    } else {
      state.items = items;
      state.sel = -1;
      state.query = '';
      render();
      window.scrollTo({ top: 0 });
    }
    setStatus(`${glossSel.value}: ${state.items.length} entries${state.next ? ' so far' : ''}, in ${LANG_NAMES[sortSel.value] || sortSel.value} order`);
    document.dispatchEvent(new CustomEvent('tm:rendered', { detail: { query: '', mode: 'browse', count: state.items.length } }));
  } catch (e) {
    if (e.name !== 'AbortError' && seq === state.seq) setStatus(e.message, true);
  }
}

let loadingMore = false;
async function loadMore() {
  if (loadingMore || !state.next) return;
  loadingMore = true;
  try { await browse(true); } finally { loadingMore = false; }
}

moreBtn.addEventListener('click', () => { loadMore(); refocus(); });
glossSel.addEventListener('change', () => { syncUrl(); browse(); refocus(); });
sortSel.addEventListener('change', () => { syncUrl(); browse(); refocus(); });
fromSel.addEventListener('change', () => { search(); refocus(); });

// ------------------------------------------------------------ URL

function syncUrl() {
  const p = new URLSearchParams();
  const q = input.value;
  if (state.mode !== 'browse' && q) p.set('q', q);
  if (state.mode !== 'terms') p.set('mode', state.mode);
  if (state.mode === 'browse') {
    if (glossSel.value) p.set('glossary', glossSel.value);
    if (sortSel.value) p.set('sort', sortSel.value);
  }
  const s = p.toString();
  document.title = state.mode !== 'browse' && q.trim() ? `${q.trim()} · tm booth` : 'tm · booth lookup';
  const next = `${location.pathname}${s ? `?${s}` : ''}`;
  if (next !== `${location.pathname}${location.search}`) history.replaceState(null, '', next);
}

// ------------------------------------------------------------ events

input.addEventListener('input', () => {
  state.t0 = performance.now();
  if (state.mode === 'browse') {
    setMode('terms');
    return;
  }
  syncUrl();
  search();
});

list.addEventListener('click', (e) => {
  const li = e.target.closest('li.res');
  if (!li) return;
  const i = Number(li.dataset.i);
  const copyBtn = e.target.closest('[data-copy]');
  const act = e.target.closest('[data-act]');
  if (state.sel !== i) select(i);
  if (copyBtn) copyText(copyBtn.dataset.copy);
  else if (act && act.dataset.act === 'open') openCurrent();
  else if (!e.target.closest('.details') || act) toggleDetails(i);
  refocus();
});

list.addEventListener('dblclick', (e) => {
  if (!e.target.closest('[data-copy]') && e.target.closest('li.res')) openCurrent();
});

entryBody.addEventListener('click', (e) => {
  const b = e.target.closest('[data-copy]');
  if (b) copyText(b.dataset.copy);
});

for (const d of document.querySelectorAll('dialog')) {
  // Chromium restores the focus to the box on close, yet typing may not
  // reach it until it is focused anew.
  d.addEventListener('close', () => setTimeout(() => {
    if (document.activeElement === input) input.blur();
    refocus();
  }, 0));
}

$('btn-add').addEventListener('click', () => openEdit(null));
$('btn-settings').addEventListener('click', openSettings);
$('btn-theme').addEventListener('click', () => { toggleTheme(); refocus(); });
$('btn-help').addEventListener('click', () => $('dlg-help').showModal());

function clearSearch() {
  input.value = '';
  state.t0 = 0;
  syncUrl();
  if (state.mode === 'browse') setMode('terms');
  else search();
}

document.addEventListener('keydown', (e) => {
  if (document.querySelector('dialog[open]')) return; // dialogs: Esc closes, Tab moves
  if (e.isComposing || e.keyCode === 229) return; // the Hangul IME owns Enter, Esc, arrows
  const inBox = document.activeElement === input;
  if (e.altKey && !e.ctrlKey && !e.metaKey) {
    const digit = /^Digit([1-9])$/.exec(e.code);
    const act = {
      KeyT: () => setMode('terms'),
      KeyM: () => setMode('match'),
      KeyK: () => setMode('concordance'),
      KeyG: () => setMode('browse'),
      KeyN: () => openEdit(null),
      KeyE: () => editCurrent(),
      KeyD: () => toggleTheme(),
      KeyS: () => openSettings(),
    }[e.code] || (digit && (() => copyText(columnTerm(current(), Number(digit[1]) - 1))));
    if (act) {
      e.preventDefault();
      act();
    }
    return;
  }
  if (e.ctrlKey || e.metaKey) return; // Ctrl+C: see the copy listener
  if (e.key === 'F1' || (e.key === '?' && (!inBox || input.value === ''))) {
    e.preventDefault();
    $('dlg-help').showModal();
    return;
  }
  switch (e.key) {
    case 'ArrowDown':
      e.preventDefault();
      select(state.sel + 1);
      break;
    case 'ArrowUp':
      e.preventDefault();
      select(state.sel - 1);
      break;
    case 'PageDown':
      if (state.items.length) { e.preventDefault(); select(state.sel + 5); }
      break;
    case 'PageUp':
      if (state.items.length) { e.preventDefault(); select(state.sel - 5); }
      break;
    case 'Enter':
      if (e.target.tagName === 'BUTTON' || e.target.tagName === 'SELECT') return;
      e.preventDefault();
      if (e.shiftKey) { if (state.sel < 0) select(0); toggleDetails(state.sel); } else openCurrent();
      break;
    case 'Escape':
      e.preventDefault();
      clearSearch();
      refocus();
      break;
    default:
      // Typing anywhere goes to the search box.
      if (!inBox && e.key.length === 1 && !/^(INPUT|SELECT|TEXTAREA)$/.test(e.target.tagName)) input.focus();
  }
});

// ------------------------------------------------------------ start

function start() {
  fillSorts();
  const p = new URLSearchParams(location.search);
  const mode = p.get('mode') || 'terms';
  if (p.get('sort')) sortSel.value = p.get('sort');
  input.value = p.get('q') || '';
  setMode(MODES.includes(mode) ? mode : 'terms', { keepUrl: true });
  if (mode === 'terms') search();
  if (mode !== 'browse' && input.value.trim()) document.title = `${input.value.trim()} · tm booth`;
  input.focus();
}

start();
