/*  Troupe run report: what the people concluded, runs side by side, who
 *  talked to whom, and CSV out of every table. report.js calls ttInsight
 *  once with what it knows of the page (ctx) and gets back csvTable and
 *  follow (deep links of its own: #slice=COLUMN).
 *
 *  Results are extraction.json as written (D.extraction): its table's
 *  columns are the fields, persona.* columns are what a reader slices by. A
 *  field whose answers are numbers is a histogram; one whose answers are a
 *  few short words (yes/no, a rating word) is bars; free text is only in the
 *  table of answers, where each agent's quotes (its TALK and THINK actions
 *  from the log) are one click away.
 *
 *  As in report.js, everything from the data is text: textContent, text
 *  nodes and attribute values only.
 */
const ttInsight = (ctx) => {
  'use strict';

  const { D, S, h, nameOf, byName, card, legend } = ctx;
  const C = ttCharts;
  const { num, plural } = C;
  const $ = (id) => document.getElementById(id);

  const GROUPS = 8; /* slices drawn; the rest are "other" */
  const CATS = 12; /* distinct short answers that still make a category */
  const SHORT = 40; /* characters of an answer that still make a category */
  const SLICE_LEN = 60; /* a persona column with longer values is not a slice */
  const QUOTES = 60; /* quotes listed per agent before "and N more" */
  const EDGES = 25; /* edges in the conversation table */
  const UNKNOWN = '(unknown)';
  const OTHER = 'other';
  const ALL = 'everyone';
  const DOT = ' \u00b7 ';

  /* ----------------------------------------------------------------- CSV */

  const csvCell = (s) => (/[",\r\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s);

  /* The table as CSV text: what it shows, row by row (quote rows left out). */
  function csvOf(table) {
    const lines = [];
    for (const tr of table.rows) {
      if (tr.classList.contains('quotes')) continue;
      const cells = [...tr.cells].map((c) => csvCell((c.getAttribute('data-csv') ??
        c.textContent).trim()));
      lines.push(cells.join(','));
    }
    return lines.join('\r\n') + '\r\n';
  }

  /* table in a box with a "CSV" button that downloads it as NAME.csv. */
  function csvTable(table, name) {
    const b = h('button', {
      type: 'button', class: 'btn csv', 'data-csv-for': name, text: 'CSV',
      'aria-label': 'Download this table as CSV (' + name + '.csv)',
      onclick: () => {
        const blob = new Blob(['\ufeff' + csvOf(table)], { type: 'text/csv;charset=utf-8' });
        const url = URL.createObjectURL(blob);
        const a = h('a', { href: url, download: name + '.csv', hidden: true });
        document.body.append(a);
        a.click();
        a.remove();
        setTimeout(() => URL.revokeObjectURL(url), 5000);
      },
    });
    return h('div', { class: 'table-wrap' }, h('div', { class: 'table-tools' }, b),
      h('div', { class: 'table-scroll' }, table));
  }

  /* A table from a head (strings) and rows (arrays of cells: a Node, a string
   * or {text, attrs}); attrs for the table. */
  function table(caption, head, rows, attrs) {
    const cell = (c) => {
      if (c instanceof Node) return h('td', null, c);
      if (c && typeof c === 'object') return h('td', c.attrs, c.node || c.text);
      return h('td', { text: c == null ? '' : String(c) });
    };
    const body = h('tbody');
    for (const r of rows) body.append(r instanceof Node ? r : h('tr', null, r.map(cell)));
    return h('table', Object.assign({ class: 'data-table' }, attrs),
      h('caption', { class: 'sr-only', text: caption }),
      h('thead', null, h('tr', null, head.map((c) => h('th', { scope: 'col', text: c })))),
      body);
  }

  /* ------------------------------------------------------------ slicing */

  const str = (v) => (v == null || v === '' ? UNKNOWN
    : Array.isArray(v) ? v.join('; ') : String(v));
  const isNum = (v) => v !== null && v !== '' && typeof v !== 'boolean' && isFinite(Number(v));
  const round = (x) => Math.round(x * 100) / 100;

  /* The persona columns a reader can slice by: short values only. An older
   * extraction without persona columns is sliced by the report's personas. */
  function sliceColumns(x) {
    const cols = x.table.columns;
    const rows = x.table.rows;
    const out = [];
    cols.forEach((c, j) => {
      if (!c.startsWith('persona.')) return;
      const vals = rows.map((r) => r[j]);
      if (vals.every((v) => v == null || v === '')) return;
      if (vals.some((v) => str(v).length > SLICE_LEN)) return;
      out.push({ key: c, label: c.slice(8), get: (r) => r[j] });
    });
    if (out.length) return out;
    const nameAt = cols.indexOf('name');
    for (const k of ['age', 'gender', 'occupation', 'nationality', 'residence']) {
      if (!ctx.AGENTS.some((a) => a[k] != null)) continue;
      out.push({ key: 'persona.' + k, label: k, get: (r) => {
        const i = byName.get(r[nameAt]);
        return i === undefined ? null : ctx.AGENTS[i][k];
      } });
    }
    return out;
  }

  /* rows into groups by col: numbers with many values in ranges, words by
   * count with the smallest as "other". Returns {keys (in order), of(row)}. */
  function grouping(rows, col) {
    if (!col) return { keys: [ALL], of: () => ALL };
    const raw = rows.map((r) => col.get(r));
    const known = raw.filter((v) => v != null && v !== '');
    const distinct = new Set(known.map(str));
    let label = str;
    let numeric = false;
    if (known.length && known.every(isNum) && distinct.size > GROUPS) {
      const xs = known.map(Number);
      const lo = Math.min(...xs);
      const w = C.nice((Math.max(...xs) - lo) / (GROUPS - 2) || 1);
      const whole = Number.isInteger(w) && xs.every(Number.isInteger);
      label = (v) => {
        if (!isNum(v)) return UNKNOWN;
        const a = Math.floor(Number(v) / w) * w;
        return round(a) + '\u2013' + round(whole ? a + w - 1 : a + w);
      };
      numeric = true;
    }
    const count = new Map();
    for (const v of raw) count.set(label(v), (count.get(label(v)) || 0) + 1);
    let keys = [...count.keys()];
    if (numeric) keys.sort((a, b) => (a === UNKNOWN) - (b === UNKNOWN) || parseFloat(a) -
      parseFloat(b));
    else keys.sort((a, b) => count.get(b) - count.get(a) || (a < b ? -1 : 1));
    if (keys.length > GROUPS) {
      const kept = new Set(keys.slice(0, GROUPS - 1));
      keys = [...kept, OTHER];
      return { keys, of: (r) => (kept.has(label(col.get(r))) ? label(col.get(r)) : OTHER) };
    }
    return { keys, of: (r) => label(col.get(r)) };
  }

  const isWorld = (x) => x.scope === 'world';

  /* The fields of an extraction table and how each is drawn. */
  function fieldsOf(x) {
    const out = [];
    x.table.columns.forEach((c, j) => {
      if (c === 'name' || c.startsWith('persona.')) return;
      const vals = x.table.rows.map((r) => r[j]).filter((v) => v != null && v !== '');
      let kind = 'text';
      if (vals.length && vals.every((v) => typeof v === 'number')) kind = 'number';
      else if (vals.length && vals.every((v) => typeof v === 'boolean' ||
        (typeof v === 'string' && v.length <= SHORT)) && new Set(vals.map(String)).size <= CATS)
        kind = 'category';
      out.push({ key: c, j, kind });
    });
    return out;
  }

  /* Answers of a category field by group: {cats, counts: Map(group -> Map)}. */
  function tally(rows, f, g) {
    const total = new Map();
    const counts = new Map(g.keys.map((k) => [k, new Map()]));
    for (const r of rows) {
      const v = str(r[f.j]);
      const m = counts.get(g.of(r));
      m.set(v, (m.get(v) || 0) + 1);
      total.set(v, (total.get(v) || 0) + 1);
    }
    const cats = [...total.keys()].sort((a, b) => total.get(b) - total.get(a) || (a < b ? -1 : 1));
    return { cats, counts, total };
  }

  function stats(values) {
    const xs = values.filter((v) => typeof v === 'number').sort((a, b) => a - b);
    if (!xs.length) return { n: 0 };
    const mid = xs.length >> 1;
    return {
      n: xs.length, mean: round(xs.reduce((s, v) => s + v, 0) / xs.length),
      median: xs.length % 2 ? xs[mid] : round((xs[mid - 1] + xs[mid]) / 2),
      min: xs[0], max: xs[xs.length - 1],
    };
  }

  const gcls = (k, g) => (g.keys[k] === OTHER ? 'g-other' : 'g' + (k % GROUPS));
  const groupLegend = (g) => (g.keys.length > 1
    ? legend(g.keys.map((k, i) => [k, '--' + gcls(i, g)])) : null);

  /* ------------------------------------------------------------ results */

  const R = { x: D.extraction, slice: null, cols: [] };

  function categoryCard(rows, f, g, col) {
    const sliceKey = col && col.label;
    const t = tally(rows, f, g);
    const cats = t.cats.map((c) => ({ label: c.length > 12 ? c.slice(0, 11) + '\u2026' : c,
      title: c }));
    const series = g.keys.map((k, i) => ({ name: k === ALL ? 'agents' : '(' + k + ')',
      cls: gcls(i, g), values: t.cats.map((c) => t.counts.get(k).get(c) || 0) }));
    const svg = C.bars('result-' + f.key, f.key + ': answers by ' + (sliceKey || 'everyone'),
      cats, series, { xTitle: f.key, empty: 'no answers' });
    const line = (k) => h('tr', { 'data-group': k }, h('th', { scope: 'row', text: k }),
      t.cats.map((c) => h('td', { class: 'num', 'data-cat': c,
        text: String(k === ALL ? t.total.get(c) || 0 : t.counts.get(k).get(c) || 0) })));
    const lines = g.keys.map(line);
    if (g.keys.length > 1) lines.push(line(ALL));
    const tab = table(f.key + ' by ' + (sliceKey || 'everyone'), [sliceKey || '', ...t.cats],
      lines, { 'data-field': f.key, 'data-slice': col ? col.key : '' });
    const sub = plural(rows.length, 'answer') + DOT + t.cats.map((c) => c + ' ' +
      num(t.total.get(c))).join(', ');
    const fig = card(f.key, sub, svg, null);
    fig.append(groupLegend(g) || '', csvTable(tab, 'results-' + f.key));
    return fig;
  }

  function numberCard(rows, f, g, col) {
    const sliceKey = col && col.label;
    const all = rows.map((r) => r[f.j]);
    const b = C.bins(all);
    const series = g.keys.map((k, i) => {
      const values = new Array(b.cats.length).fill(0);
      rows.forEach((r) => {
        if (g.of(r) === k && typeof r[f.j] === 'number') values[b.of(r[f.j])]++;
      });
      return { name: k === ALL ? 'agents' : '(' + k + ')', cls: gcls(i, g), values };
    });
    const svg = C.bars('result-' + f.key, f.key + ': distribution by ' + (sliceKey || 'everyone'),
      b.cats, series, { xTitle: f.key, empty: 'no numbers' });
    const line = (k) => {
      const s = stats(rows.filter((r) => k === ALL || g.of(r) === k).map((r) => r[f.j]));
      return h('tr', { 'data-group': k }, h('th', { scope: 'row', text: k }),
        ['n', 'mean', 'median', 'min', 'max'].map((key) => h('td', { class: 'num',
          'data-stat': key, text: s[key] == null ? '' : String(s[key]) })));
    };
    const lines = g.keys.map(line);
    if (g.keys.length > 1) lines.push(line(ALL));
    const tab = table(f.key + ' by ' + (sliceKey || 'everyone'),
      [sliceKey || '', 'n', 'mean', 'median', 'min', 'max'], lines,
      { 'data-field': f.key, 'data-slice': col ? col.key : '' });
    const s = stats(all);
    const sub = s.n ? 'n ' + s.n + DOT + 'mean ' + s.mean + DOT + 'median ' + s.median +
      DOT + 'range ' + s.min + '\u2013' + s.max : 'no numbers';
    const fig = card(f.key, sub, svg, null);
    fig.append(groupLegend(g) || '', csvTable(tab, 'results-' + f.key));
    return fig;
  }

  /* Agent i's TALK and THINK actions, in step order: one pass over the run
   * for every agent, the first time any is asked for. */
  let quoteIndex = null;
  function quotesOf(i) {
    if (!quoteIndex) {
      quoteIndex = new Map();
      for (const st of D.steps)
        for (const t of st.turns)
          for (const a of t.act) {
            const type = S[a[0]];
            if (type !== 'TALK' && type !== 'THINK') continue;
            if (!quoteIndex.has(t.a)) quoteIndex.set(t.a, []);
            quoteIndex.get(t.a).push([st.step, type, S[a[1]], S[a[2]]]);
          }
    }
    return quoteIndex.get(i) || [];
  }

  function quotesEl(i) {
    const qs = quotesOf(i);
    const list = h('ol', { class: 'quotes-list' });
    for (const [step, type, content, target] of qs.slice(0, QUOTES)) {
      list.append(h('li', { class: 'quote ' + type.toLowerCase() },
        h('a', { href: '#step-' + step, class: 'step-link', text: 'step ' + step }), ' ',
        h('span', { class: 'tag', text: type }), target ? ' \u2192 ' + target + ' ' : ' ',
        h('q', { text: content })));
    }
    if (qs.length > QUOTES) list.append(h('li', { class: 'muted', text: 'and ' +
      plural(qs.length - QUOTES, 'more') + ' in the timeline' }));
    if (!qs.length) list.append(h('li', { class: 'muted', text: 'No TALK or THINK in the log.' }));
    return list;
  }

  function answersTable(rows, fields, g, col) {
    const nameAt = R.x.table.columns.indexOf('name');
    const head = ['Agent', 'Quotes', ...(col ? [col.label] : []), ...fields.map((f) => f.key)];
    const body = [];
    for (const r of rows) {
      const name = str(r[nameAt]);
      const i = byName.get(name);
      const who = i !== undefined
        ? h('button', { type: 'button', class: 'who', 'data-a': i, text: name }) : name;
      const n = i !== undefined ? quotesOf(i).length : 0;
      const extra = h('tr', { class: 'quotes', hidden: true },
        h('td', { colspan: head.length }));
      const btn = h('button', { type: 'button', class: 'link quotes-btn', 'aria-expanded': 'false',
        text: plural(n, 'quote'), 'data-csv': String(n) });
      btn.addEventListener('click', () => {
        const open = extra.hidden;
        if (open && !extra.firstChild.firstChild) extra.firstChild.append(quotesEl(i));
        extra.hidden = !open;
        btn.setAttribute('aria-expanded', String(open));
      });
      const cells = [h('th', { scope: 'row' }, who),
        h('td', { 'data-csv': String(n) }, i !== undefined ? btn : '\u2014')];
      if (col) cells.push(h('td', { text: g.of(r) }));
      for (const f of fields) cells.push(h('td', { class: f.kind === 'number' ? 'num' : 'answer',
        text: r[f.j] == null ? '' : str(r[f.j]) }));
      body.push(h('tr', { 'data-agent': name }, cells), extra);
    }
    return table('Answers per agent', head, body, { class: 'data-table answers' });
  }

  function worldEl(w) {
    if (w == null) return null;
    if (typeof w !== 'object')
      return h('p', { class: 'world-answer', text: String(w) });
    const rows = Object.entries(w).map(([k, v]) => [k, typeof v === 'object' && v !== null
      ? JSON.stringify(v) : str(v)]);
    return csvTable(table('For the world', ['Field', 'Answer'], rows,
      { class: 'data-table world-extraction' }), 'world-extraction');
  }

  function drawResults() {
    const x = R.x;
    const box = $('results-body');
    box.textContent = '';
    const col = R.cols.find((c) => c.key === R.slice) || null;
    const rows = x.table.rows;
    const g = grouping(rows, col);
    const fields = fieldsOf(x);
    const grid = h('div', { class: 'chart-grid' });
    for (const f of isWorld(x) ? [] : fields) {
      if (f.kind === 'category') grid.append(categoryCard(rows, f, g, col));
      if (f.kind === 'number') grid.append(numberCard(rows, f, g, col));
    }
    if (grid.firstChild) box.append(grid);
    const w = worldEl(x.world_extraction);
    if (w) box.append(h('h3', { text: 'For the world' }), w);
    if (rows.length) {
      box.append(h('h3', { text: isWorld(x) ? 'Answers and counts' : 'Answers per agent' }),
        h('p', { class: 'sub', text: 'Each agent\u2019s answers as extracted; its quotes are ' +
          'what it said and thought in the run, from the log.' }),
        csvTable(answersTable(rows, fields, g, col), 'answers'));
    }
  }

  function results() {
    const x = R.x;
    const sec = $('results');
    if (!x || !sec) return;
    R.cols = isWorld(x) ? [] : sliceColumns(x); /* one answer for everyone: nothing to slice */
    const head = sec.querySelector('.section-head');
    const select = h('select', { id: 'slice' }, h('option', { value: '', text: 'nothing' }),
      R.cols.map((c) => h('option', { value: c.key, text: c.label })));
    select.addEventListener('change', () => {
      R.slice = select.value || null;
      drawResults();
    });
    if (R.cols.length) head.append(h('div', { class: 'section-tools' },
      h('label', { for: 'slice', class: 'field-label inline', text: 'Slice by ' }), select));
    const about = h('div', { class: 'results-about' });
    if (x.objective) about.append(h('p', { class: 'objective' }, h('b', { text: 'Asked: ' }),
      x.objective));
    const facts = [x.scope, x.model ? 'model ' + x.model : null,
      plural(x.table.rows.length, 'row'), x.file].filter(Boolean);
    about.append(h('p', { class: 'sub', text: facts.join(DOT) }));
    if (x.offline)
      about.append(h('p', { class: 'banner offline', role: 'note', text: 'Extracted by the ' +
        'offline model, a scripted stand-in: the answers show the machinery, not opinions.' }));
    if (!x.matches_run)
      about.append(h('p', { class: 'banner incomplete', role: 'note', text: 'This extraction ' +
        'was made from another log (its final hash is not this run\u2019s).' }));
    if (x.failures && x.failures.length)
      about.append(h('p', { class: 'banner failed', role: 'note', text: plural(
        x.failures.length, 'extraction') + ' failed; those agents have no answers.' }));
    sec.insertBefore(about, $('results-body'));
    sec.hidden = false;
    drawResults();
  }


  /* ------------------------------------------------------------ compare */

  const runName = (k) => 'Run ' + String.fromCharCode(65 + k);

  function runsTable(runs) {
    const rows = runs.map((r, k) => {
      const m = /step (\d+)/.exec(r.divergence || '');
      const said = (r.divergence || '').split('\n').filter((l) => l.startsWith('first'));
      const first = said.length ? said[said.length - 1] : (r.divergence || '').split('\n')[0];
      const against = k === 0 ? '(the run shown)'
        : r.identical ? 'identical' : h('span', null, first, m ? ' ' : '',
          m ? h('a', { href: '#step-' + m[1], text: 'open step ' + m[1] }) : '');
      return h('tr', { 'data-run': k, class: !k || r.identical ? null : 'differs' },
        h('th', { scope: 'row', text: runName(k) }),
        [r.run.scenario, String(r.run.seed), num(r.run.steps), num(r.agents),
          num(r.totals.actions), r.run.final_hash.slice(0, 16)]
          .map((t) => h('td', { text: t })),
        h('td', { class: 'divergence', 'data-csv': first }, against));
    });
    return table('The runs', ['Run', 'Scenario', 'Seed', 'Steps', 'Agents', 'Actions',
      'Final hash', 'Against run A'], rows, { class: 'data-table runs' });
  }

  /* rows (label, values per run) as a table that marks what differs. */
  function diffTable(caption, first, runs, lines, attrs) {
    const head = [...first, ...runs.map((_, k) => runName(k)), '\u0394 last \u2212 A'];
    const rows = lines.map(({ keys, values, attrs: a }) => {
      const differs = values.some((v) => v !== values[0]);
      const delta = typeof values[0] === 'number' && typeof values[values.length - 1] ===
        'number' ? round(values[values.length - 1] - values[0]) : '';
      return h('tr', Object.assign({ class: differs ? 'differs' : null }, a),
        keys.map((t, i) => (i ? h('td', { text: t }) : h('th', { scope: 'row', text: t }))),
        values.map((v, k) => h('td', { class: 'num', 'data-run': k, text: v == null ? '' :
          String(v) })),
        h('td', { class: 'num delta', text: delta === 0 ? '' : String(delta) }));
    });
    return table(caption, head, rows, attrs);
  }

  function typesPart(runs) {
    const total = new Map();
    for (const r of runs)
      for (const [t, n] of Object.entries(r.by_type)) total.set(t, (total.get(t) || 0) + n);
    const types = [...total.keys()].sort((a, b) => total.get(b) - total.get(a));
    const lines = types.map((t) => ({ keys: [t], values: runs.map((r) => r.by_type[t] || 0),
      attrs: { 'data-type': t } }));
    const svg = C.grouped('compare-types', 'Actions by type in each run',
      types.map((t) => ({ label: t, title: t })),
      runs.map((r, k) => ({ name: runName(k), cls: 'g' + k, values: types.map((t) =>
        r.by_type[t] || 0) })), { xTitle: 'action type', empty: 'no actions' });
    const fig = card('Actions by type', 'What each run\u2019s agents did, counted.', svg,
      runs.map((_, k) => [runName(k), '--g' + k]));
    fig.append(csvTable(diffTable('Actions by type per run', ['Type'], runs, lines,
      { class: 'data-table compare-types' }), 'compare-actions'));
    return fig;
  }

  /* Results of every run by segment: counts of each answer, or the mean. */
  function resultsPart(runs, segKey) {
    const box = h('div', { class: 'compare-results' });
    const x0 = runs[0].extraction;
    const seg = (x) => {
      const col = sliceColumns(x).find((c) => c.key === segKey) || null;
      return { col, g: grouping(x.table.rows, col) };
    };
    const parts = runs.map((r) => ({ x: r.extraction, s: seg(r.extraction) }));
    for (const f of fieldsOf(x0)) {
      if (f.kind === 'text') continue;
      const lines = [];
      const fj = parts.map((p) => p.x.table.columns.indexOf(f.key));
      const segs = [...new Set(parts.flatMap((p) => p.s.g.keys))];
      for (const sg of segs) {
        const rowsOf = (p) => p.x.table.rows.filter((r) => p.s.g.of(r) === sg);
        if (f.kind === 'number') {
          lines.push({ keys: [sg, 'mean'], attrs: { 'data-segment': sg, 'data-stat': 'mean' },
            values: parts.map((p, k) => (fj[k] < 0 ? null
              : stats(rowsOf(p).map((r) => r[fj[k]])).mean ?? null)) });
          continue;
        }
        const cats = [...new Set(parts.flatMap((p, k) => rowsOf(p).map((r) => str(r[fj[k]]))))];
        for (const c of cats.sort())
          lines.push({ keys: [sg, c], attrs: { 'data-segment': sg, 'data-cat': c },
            values: parts.map((p, k) => rowsOf(p).filter((r) => str(r[fj[k]]) === c).length) });
      }
      const tab = diffTable(f.key + ' per run by segment', [segKey ? segKey.slice(8) : '',
        f.kind === 'number' ? '' : 'answer'], runs, lines,
      { class: 'data-table compare-field', 'data-field': f.key });
      const differs = lines.filter((l) => l.values.some((v) => v !== l.values[0])).length;
      const cats = lines.map((l) => {
        const words = l.keys.filter((w) => w && w !== 'mean' && w !== ALL).join(' ') ||
          (f.kind === 'number' ? 'mean' : l.keys[1]);
        return { label: words, title: words };
      });
      const svg = C.grouped('compare-' + f.key, f.key + ' in each run', cats,
        runs.map((_, k) => ({ name: runName(k), cls: 'g' + k, values: lines.map((l) =>
          l.values[k] || 0) })), { fmtY: f.kind === 'number' ? String : C.short,
          fmtTip: String, width: Math.min(2 * C.W, Math.max(C.W, 60 * cats.length)),
          empty: 'no answers' });
      const fig = h('figure', { class: 'chart compare-chart' }, svg,
        legend(runs.map((_, k) => [runName(k), '--g' + k])));
      box.append(h('h4', { text: f.key }), h('p', { class: 'sub', text: differs
        ? plural(differs, 'line') + ' differ between the runs.' : 'The same in every run.' }),
      h('div', { class: 'compare-pair' }, fig, csvTable(tab, 'compare-' + f.key)));
    }
    return box;
  }

  function compare() {
    const runs = D.compare;
    const sec = $('compare');
    if (!runs || !sec) return;
    const box = $('compare-body');
    box.append(csvTable(runsTable(runs), 'runs'));
    for (const [k, r] of runs.entries())
      if (k && !r.identical && r.divergence)
        box.append(h('details', { class: 'divergence-words' }, h('summary', { text: runName(k) +
          ' against run A, as coordinator log diff says it' }), h('pre', { text: r.divergence })));
    const grid = h('div', { class: 'chart-grid' }, typesPart(runs));
    box.append(grid);
    if (runs.every((r) => r.extraction)) {
      const cols = sliceColumns(runs[0].extraction);
      const select = h('select', { id: 'segment' }, h('option', { value: '', text: 'nothing' }),
        cols.map((c) => h('option', { value: c.key, text: c.label })));
      const holder = h('div');
      const redraw = () => {
        holder.textContent = '';
        holder.append(resultsPart(runs, select.value || null));
      };
      select.addEventListener('change', redraw);
      box.append(h('h3', { text: 'Results side by side' }), h('div', { class: 'section-tools' },
        h('label', { for: 'segment', class: 'field-label inline', text: 'Segment by ' }), select),
      holder);
      redraw();
    } else {
      box.append(h('p', { class: 'sub', text: 'Not every run has an extraction.json: the runs ' +
        'are compared by what their agents did.' }));
    }
    sec.hidden = false;
  }

  /* -------------------------------------------------------------- graph */

  /* TALKs from agent to agent in steps [from, to]: {pairs: Map, deg, n, loose}. */
  function talks(from, to) {
    const n = ctx.AGENTS.length;
    const pairs = new Map();
    const deg = new Float64Array(n);
    let total = 0;
    let loose = 0;
    for (const st of D.steps) {
      if (st.step < from || st.step > to) continue;
      for (const t of st.turns)
        for (const a of t.act) {
          if (S[a[0]] !== 'TALK') continue;
          const j = a[2] ? byName.get(S[a[2]]) : undefined;
          if (j === undefined || t.a >= n) {
            loose++;
            continue;
          }
          const key = t.a * n + j;
          pairs.set(key, (pairs.get(key) || 0) + 1);
          deg[t.a]++;
          deg[j]++;
          total++;
        }
    }
    return { pairs, deg, n, total, loose };
  }

  function drawGraph(from, to, size) {
    const t0 = performance.now();
    const g = talks(from, to);
    const top = [...g.deg.keys()].filter((i) => g.deg[i] > 0)
      .sort((a, b) => g.deg[b] - g.deg[a] || a - b).slice(0, size);
    const names = top.map(nameOf);
    const svg = C.heat('talk-heatmap', 'Who talked to whom: the ' + top.length +
      ' most talkative agents', names, names, (r, c) => g.pairs.get(top[r] * g.n + top[c]) || 0,
    { empty: 'nobody talked to anybody by name' });
    const edges = [...g.pairs.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0])
      .slice(0, EDGES);
    const who = (i) => h('button', { type: 'button', class: 'who', 'data-a': i, text: nameOf(i) });
    const rows = edges.map(([key, count]) => h('tr', { 'data-edge': '' },
      h('td', null, who(Math.floor(key / g.n))), h('td', null, who(key % g.n)),
      h('td', { class: 'num', text: String(count) })));
    const speakers = new Set([...g.pairs.keys()].map((k) => Math.floor(k / g.n))).size;
    const box = $('graph-body');
    box.textContent = '';
    box.append(h('p', { class: 'sub', text: plural(g.total, 'TALK') + ' to a named agent in ' +
      'steps ' + from + '\u2013' + to + ', between ' + plural(g.pairs.size, 'pair') + '; ' +
      plural(speakers, 'agent') + ' spoke to someone by name' + (g.loose ? '; ' +
      plural(g.loose, 'TALK') + ' to everyone or to no agent are not edges.' : '.') }),
    h('div', { class: 'graph-grid' },
      h('figure', { class: 'chart heat-wrap' }, h('figcaption', { text: 'Heat-map: the ' +
        plural(top.length, 'most talkative agent') + ' (rows speak, columns listen)' }), svg),
      h('div', null, h('h3', { text: 'Most frequent pairs' }), csvTable(table(
        'Most frequent speaker and listener pairs', ['Speaker', 'Listener', 'TALKs'], rows,
        { class: 'data-table edges' }), 'conversation-pairs'))));
    const sec = $('graph');
    sec.setAttribute('data-ms', String(Math.round(performance.now() - t0)));
    sec.setAttribute('data-at', String(Math.round(performance.now())));
    sec.setAttribute('data-edges', String(g.pairs.size));
  }

  function graph() {
    const sec = $('graph');
    if (!sec || !D.steps.length) return;
    const last = D.steps[D.steps.length - 1].step;
    const first = D.steps[0].step;
    const input = (id, value) => h('input', { id, type: 'number', min: first, max: last, value,
      class: 'step-input' });
    const from = input('graph-from', first);
    const to = input('graph-to', last);
    const size = h('select', { id: 'graph-size' }, [10, 20, 30, 50].map((n) =>
      h('option', { value: n, text: String(n), selected: n === 30 })));
    const redraw = () => {
      const a = Math.max(first, Number(from.value) || first);
      const b = Math.min(last, Number(to.value) || last);
      drawGraph(Math.min(a, b), Math.max(a, b), Number(size.value));
    };
    for (const e of [from, to, size]) e.addEventListener('change', redraw);
    sec.querySelector('.section-head').append(h('div', { class: 'section-tools' },
      h('label', { for: 'graph-from', class: 'field-label inline', text: 'Steps ' }), from,
      h('label', { for: 'graph-to', class: 'field-label inline', text: ' to ' }), to,
      h('label', { for: 'graph-size', class: 'field-label inline', text: ' agents ' }), size));
    sec.hidden = false;
    redraw();
  }

  /* ---------------------------------------------------------- deep links */

  /* #slice=COLUMN: the results sliced by that persona column. */
  function follow(hash) {
    const m = /^slice=(.*)$/.exec(hash);
    if (!m || !R.x) return false;
    const sel = $('slice');
    if (!sel || !R.cols.some((c) => c.key === m[1])) return false;
    sel.value = m[1];
    R.slice = m[1];
    drawResults(); /* the results come first after the identity: no scrolling */
    return true;
  }

  function start() {
    for (const [id, on] of [['results', D.extraction], ['compare', D.compare]])
      document.querySelectorAll('a[href="#' + id + '"]').forEach((a) => { a.hidden = !on; });
    results();
    compare();
    graph();
  }

  return { csvTable, follow, start };
};
