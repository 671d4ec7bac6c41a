// DOM helpers.  Text always goes in as text nodes, never as HTML.

// h('div', {class: 'x', lang: 'ko', onclick: f}, child, 'text', [more])
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else if (k === 'class') el.className = v;
      else if (k === 'dataset') Object.assign(el.dataset, v);
      else el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : String(c));
  }
}

// TEXT with the code point ranges SPANS ([start, end) pairs, as the API
// counts them) wrapped in <mark class=CLS>.  Overlapping spans merge.
export function marked(text, spans, cls = 'diff') {
  const cps = Array.from(text);
  const on = new Uint8Array(cps.length);
  for (const [s, e] of spans) {
    for (let i = Math.max(0, s); i < Math.min(e, cps.length); i++) on[i] = 1;
  }
  const frag = document.createDocumentFragment();
  let i = 0;
  while (i < cps.length) {
    let j = i;
    while (j < cps.length && on[j] === on[i]) j++;
    const piece = cps.slice(i, j).join('');
    frag.append(on[i] ? h('mark', { class: cls }, piece) : piece);
    i = j;
  }
  return frag;
}

// Folding good enough to find a typed prefix inside a term for display:
// compatibility forms, case, the Ukrainian apostrophes, stress marks.
export function fold(s) {
  return s.normalize('NFKC').toLowerCase()
    .replace(/[\u2019\u02BC\u02B9]/g, "'")
    .replace(/\u0301/g, '');
}

// Code point length of the longest prefix of TERM that, folded, equals the
// folded QUERY; 0 when the term does not start with the query.
export function prefixLength(term, query) {
  const q = fold(query.trim());
  if (!q) return 0;
  const cps = Array.from(term);
  let acc = '';
  for (let i = 0; i < cps.length; i++) {
    acc += cps[i];
    const f = fold(acc);
    if (f === q) return i + 1;
    if (!q.startsWith(f)) return 0;
  }
  return 0;
}
