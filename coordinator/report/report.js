/*  Troupe run report: draws this page from the data block #tt-data, whose
 *  shape is described in coordinator/coord_report_data.h. Charts come from
 *  report_charts.js (ttCharts), which is inlined before this file.
 *
 *  Everything that comes from the log is agent text, so untrusted: it reaches
 *  the page only as text nodes, textContent and attribute values, never as
 *  HTML. A step builds its DOM the first time it is opened, and then its
 *  entries a chunk at a time, so a 1,000-agent run opens about as fast as a
 *  4-agent one. Filters work on the data, not on the DOM.
 */
(() => {
  'use strict';

  const D = JSON.parse(document.getElementById('tt-data').textContent);
  const S = D.strings;
  const RUN = D.run;
  const AGENTS = D.agents;
  const C = ttCharts;
  const { num, plural, ms, short } = C;

  const CHUNK = 120; /* entries a step draws at a time */
  const LONG = 600; /* characters of a text shown before "Show more" */
  const LIST = 150; /* agents listed in the sidebar before "type to find" */
  const TOP = 20; /* agents in the per-agent chart */
  const WORLD = '(world)'; /* filter keys beside the action types */
  const IV = '(intervention)';
  const DOT = ' \u00b7 ';

  /* ------------------------------------------------------------ helpers */

  const $ = (id) => document.getElementById(id);

  function add(el, kid) {
    if (kid == null || kid === false) return;
    if (Array.isArray(kid)) kid.forEach((k) => add(el, k));
    else el.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  }

  /* An HTML element. props: class, text (textContent), on<event>, attributes. */
  function h(tag, props, ...kids) {
    const el = document.createElement(tag);
    for (const k in props || {}) {
      const v = props[k];
      if (v == null || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k === 'text') el.textContent = v;
      else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : String(v));
    }
    add(el, kids);
    return el;
  }

  const when = (dt) => (dt ? dt.replace('T', ' ').slice(0, 16) : '');

  function duration(sec) {
    if (!sec) return '';
    const units = [[604800, 'week'], [86400, 'day'], [3600, 'h'], [60, 'min'], [1, 's']];
    for (const [size, name] of units) {
      if (sec % size) continue;
      return name.length > 3 ? plural(sec / size, name) : sec / size + ' ' + name;
    }
    return sec + ' s';
  }

  function hue(name) {
    let x = 7;
    for (const ch of name) x = (x * 31 + ch.codePointAt(0)) >>> 0;
    return x % 360;
  }

  function initials(name) {
    const parts = name.trim().split(/\s+/).filter(Boolean);
    if (!parts.length) return '?';
    const last = parts.length > 1 ? [...parts[parts.length - 1]][0] : '';
    return ([...parts[0]][0] + last).toUpperCase();
  }

  /* -------------------------------------------------------------- model */

  const nameOf = (i) => (AGENTS[i] && AGENTS[i].name) || 'agent #' + i;
  const byName = new Map();
  AGENTS.forEach((a, i) => {
    if (!byName.has(a.name)) byName.set(a.name, i);
  });
  const kindOf = (type) =>
    type === 'TALK' ? 'talk' : type === 'THINK' ? 'think' : type === 'DONE' ? 'done' : 'faculty';

  function groupByStep(list) {
    const m = new Map();
    for (const x of list) {
      if (!m.has(x.step)) m.set(x.step, []);
      m.get(x.step).push(x);
    }
    return m;
  }
  const stepByNo = new Map(D.steps.map((st) => [st.step, st]));
  const ivByNo = groupByStep(D.interventions);
  const cpByNo = groupByStep(D.checkpoints);
  const stepNos = [...new Set([...stepByNo.keys(), ...ivByNo.keys(), ...cpByNo.keys()])];
  stepNos.sort((a, b) => a - b);

  const typeCount = new Map(); /* string index of a type -> actions */
  let worldCount = 0;
  for (const st of D.steps) {
    worldCount += st.world.length;
    for (const t of st.turns)
      for (const a of t.act) typeCount.set(a[0], (typeCount.get(a[0]) || 0) + 1);
  }

  /* An intervention's effect reaches its targets as a stimulus in the same
   * step; it is shown once, with the intervention. */
  function effectKeys(no) {
    const keys = new Set();
    for (const iv of ivByNo.get(no) || [])
      for (const e of iv.effects) keys.add(e[0] + ':' + e[2]);
    return keys;
  }

  const insight = ttInsight({ D, S, AGENTS, h, nameOf, byName, card, legend });

  function turnOf(st, agent) {
    if (!st.byAgent) st.byAgent = new Map(st.turns.map((t) => [t.a, t]));
    return st.byAgent.get(agent);
  }

  /* ------------------------------------------------------------ filters */

  const F = { q: '', hidden: new Set(), follow: new Set(), thoughts: false };
  let hits = null; /* per string: 0 not known yet, 1 no, 2 contains F.q */
  const nameHits = new Map();

  function hit(i) {
    if (!i) return false;
    let v = hits[i];
    if (!v) v = hits[i] = S[i].toLowerCase().includes(F.q) ? 2 : 1;
    return v === 2;
  }
  function nameHit(i) {
    if (!nameHits.has(i)) nameHits.set(i, nameOf(i).toLowerCase().includes(F.q));
    return nameHits.get(i);
  }
  const filtering = () => F.q !== '' || F.hidden.size > 0 || F.follow.size > 0;
  const targetOf = (t) => (t ? byName.get(S[t]) : undefined);
  const followed = (i) => i !== undefined && F.follow.has(i);

  function actShown(t, a) {
    if (F.hidden.has(S[a[0]])) return false;
    if (F.follow.size && !F.follow.has(t.a) && !followed(targetOf(a[2]))) return false;
    return !F.q || hit(a[1]) || hit(a[2]) || hit(a[0]) || nameHit(t.a);
  }
  function failShown(t) {
    if (!t.st || (F.follow.size && !F.follow.has(t.a))) return false;
    return !F.q || hit(t.st) || hit(t.err) || nameHit(t.a);
  }
  function worldShown(w) {
    if (F.hidden.has(WORLD)) return false;
    if (F.follow.size && w[3] && !w[3].some((i) => F.follow.has(i))) return false;
    return !F.q || hit(w[0]) || hit(w[1]) || hit(w[2]);
  }
  function ivShown(iv) {
    if (F.hidden.has(IV)) return false;
    if (F.follow.size && iv.targets && !iv.targets.some((t) => followed(targetOf(t))))
      return false;
    return !F.q || iv.name.toLowerCase().includes(F.q) || hit(iv.why) ||
      iv.effects.some((e) => hit(e[1]) || hit(e[2]));
  }

  /* What a step shows under the current filters, in order. */
  function entries(no) {
    const out = [];
    const st = stepByNo.get(no);
    for (const iv of ivByNo.get(no) || []) if (ivShown(iv)) out.push({ k: 'iv', iv });
    if (st) {
      const effects = effectKeys(no);
      for (const w of st.world)
        if (!effects.has(w[0] + ':' + w[2]) && worldShown(w)) out.push({ k: 'world', w });
      for (const t of st.turns) {
        const acts = t.act.filter((a) => actShown(t, a));
        if (acts.length || failShown(t) || (!filtering() && !t.act.length))
          out.push({ k: 'turn', t, acts });
      }
    }
    if (!filtering()) for (const cp of cpByNo.get(no) || []) out.push({ k: 'cp', cp });
    return out;
  }

  /* --------------------------------------------------------------- text */

  /* text into el, with the search words marked. */
  function mark(el, text) {
    const low = F.q ? text.toLowerCase() : '';
    if (!F.q || low.length !== text.length) {
      el.append(text);
      return;
    }
    let at = 0;
    for (let i = low.indexOf(F.q); i >= 0; i = low.indexOf(F.q, at)) {
      if (i > at) el.append(text.slice(at, i));
      el.append(h('mark', { text: text.slice(i, i + F.q.length) }));
      at = i + F.q.length;
    }
    if (at < text.length) el.append(text.slice(at));
  }

  /* A paragraph of agent text; a long one is cut, with "Show more". */
  function textEl(text) {
    const el = h('p', { class: 'text' });
    let cut = text.length > LONG ? text.lastIndexOf(' ', LONG) : -1;
    if (text.length > LONG && cut < LONG * 0.6) cut = LONG;
    if (cut > 0 && /[\uD800-\uDBFF]/.test(text[cut - 1])) cut--;
    const found = F.q && text.toLowerCase().indexOf(F.q) + F.q.length > cut;
    if (cut < 0 || found) {
      mark(el, text);
      return el;
    }
    mark(el, text.slice(0, cut));
    el.append('\u2026 ');
    el.append(h('button', {
      type: 'button', class: 'more', 'aria-label': 'Show the whole text', text: 'Show more',
      onclick: () => {
        el.textContent = '';
        mark(el, text);
      },
    }));
    return el;
  }

  function avatar(i) {
    const name = nameOf(i);
    const el = h('span', { class: 'avatar', 'aria-hidden': 'true', text: initials(name) });
    el.style.setProperty('--hue', hue(name));
    return el;
  }
  const whoBtn = (i) => h('button', { type: 'button', class: 'who', 'data-a': i, text: nameOf(i) });
  const tag = (text) => h('span', { class: 'tag', text });
  const arrow = () => [h('span', { class: 'arrow', 'aria-hidden': 'true', text: '\u2192' }),
    h('span', { class: 'sr-only', text: 'to' })];

  /* A name from the log: an agent's opens the profile. */
  function nameEl(t) {
    const i = targetOf(t);
    return i !== undefined ? whoBtn(i) : h('strong', { text: S[t] });
  }

  function people(list) {
    if (list === null) return 'everyone';
    const names = list.slice(0, 3).map(nameOf).join(', ');
    return list.length > 3 ? names + ' and ' + plural(list.length - 3, 'other') : names;
  }

  /* ------------------------------------------------------------ entries */

  function actEl(t, a) {
    const type = S[a[0]];
    const kind = kindOf(type);
    const li = h('li', { class: 'act ' + kind, 'data-type': type });
    const content = S[a[1]];
    if (kind === 'think') {
      const open = F.thoughts || Boolean(F.q && hit(a[1]));
      const preview = h('span', { class: 'preview', 'aria-hidden': 'true' }, content.slice(0, 240));
      li.append(h('details', { open }, h('summary', null, tag(type), preview), textEl(content)));
      return li;
    }
    const head = h('div', { class: 'entry-head' }, tag(type));
    if (type === 'TALK')
      head.append(...arrow(), a[2] ? nameEl(a[2]) : h('span', { class: 'muted' }, 'everyone'));
    else if (a[2])
      head.append(h('span', { class: 'muted small', text: S[a[2]] }));
    li.append(head);
    if (content) li.append(textEl(content));
    return li;
  }

  function turnMeta(x) {
    const parts = [];
    if (x[0]) parts.push(plural(x[0], 'call'));
    if (x[1]) parts.push(ms(x[1]) + ' model');
    if (x[2]) parts.push(num(x[2]) + ' tokens');
    if (x[3]) parts.push('busy ' + ms(x[3]));
    return parts.join(DOT);
  }

  function mindEl(cs) {
    const el = h('p', { class: 'mind' });
    if (cs[1]) {
      el.append(h('b', { text: 'attention ' }));
      mark(el, S[cs[1]]);
    }
    if (cs[1] && cs[2]) el.append(DOT);
    if (cs[2]) {
      el.append(h('b', { text: 'feeling ' }));
      mark(el, S[cs[2]]);
    }
    return el;
  }

  /* The requests of a turn, on demand: served by `run --serve-report` (the
   * live report rebuilds them from the log), else the command that prints them. */
  function promptsEl(t, no) {
    const name = nameOf(t.a);
    if (/^https?:$/.test(location.protocol)) {
      const q = 'prompt?agent=' + encodeURIComponent(name) + '&step=' + no;
      return h('a', { class: 'prompts', href: q, target: '_blank', rel: 'noopener',
        text: 'prompts' });
    }
    const cmd = 'coordinator log prompt ' + RUN.log + " --agent '" + name.replace(/'/g, "'\\''") +
      "' --step " + no;
    return h('details', { class: 'prompts' }, h('summary', null, 'prompts'), h('code', { text: cmd }));
  }

  function turnEl(t, acts, no) {
    const cls = 'entry turn' + (t.st ? ' failed' : '');
    const el = h('article', { class: cls, 'data-agent': nameOf(t.a) });
    const head = h('header', { class: 'turn-head' }, avatar(t.a), whoBtn(t.a));
    if (t.x) head.append(h('span', { class: 'turn-meta', text: turnMeta(t.x) }));
    if (t.x && t.x[0]) head.append(promptsEl(t, no));
    el.append(head);
    if (t.cs && (t.cs[1] || t.cs[2])) el.append(mindEl(t.cs));
    const list = h('ol', { class: 'acts' });
    if (t.st) {
      const what = h('div', { class: 'entry-head' }, tag(S[t.st].toUpperCase()), 'turn failed');
      list.append(h('li', { class: 'act error' }, what, t.err ? textEl(S[t.err]) : null));
    }
    for (const a of acts) list.append(actEl(t, a));
    if (!t.act.length && !t.st)
      list.append(h('li', { class: 'act done muted small', text: 'no actions' }));
    el.append(list);
    return el;
  }

  function worldEl(w) {
    const type = S[w[0]];
    const cls = 'entry world' + (type === 'CONVERSATION' ? ' conversation' : '');
    const head = h('div', { class: 'entry-head' }, tag(type),
      h('strong', { text: S[w[1]] || 'The world' }), ...arrow(), h('span', { text: people(w[3]) }));
    return h('article', { class: cls, 'data-kind': 'world' }, head, textEl(S[w[2]]));
  }

  function ivEl(iv) {
    let targets = 'everyone';
    if (iv.targets && iv.targets.length > 3)
      targets = people(iv.targets.map(targetOf).filter((i) => i !== undefined));
    else if (iv.targets)
      targets = iv.targets.map((t) => S[t]).join(', ');
    const el = h('article', { class: 'entry intervention', 'data-kind': 'intervention' },
      h('div', { class: 'entry-head' }, tag('INTERVENTION'), h('strong', { text: iv.name }),
        ...arrow(), h('span', { text: targets })));
    for (const e of iv.effects) {
      const from = e[1] ? h('span', { class: 'muted small', text: 'from ' + S[e[1]] }) : null;
      el.append(h('div', { class: 'entry-head' }, tag(S[e[0]]), from), textEl(S[e[2]]));
    }
    if (iv.why) el.append(h('p', { class: 'why' }, 'Judged true: ', S[iv.why]));
    return el;
  }

  function entryEl(e, no) {
    if (e.k === 'turn') return turnEl(e.t, e.acts, no);
    if (e.k === 'world') return worldEl(e.w);
    if (e.k === 'iv') return ivEl(e.iv);
    return h('div', { class: 'entry checkpoint' }, 'Checkpoint \u201c' + e.cp.name + '\u201d');
  }

  /* ----------------------------------------------------------- timeline */

  let gen = 0; /* bumps when the filters change; older drawings are redone when seen */
  const shells = new Map();

  function stepMeta(no) {
    const st = stepByNo.get(no);
    if (!st) return 'not committed';
    const parts = [plural(st.turns.length, 'agent'), plural(st.actions, 'action'),
      plural(st.calls, 'model call')];
    if (st.replayed) parts.push(num(st.replayed) + ' replayed');
    if (st.wall_ms != null) parts.push('wall ' + ms(st.wall_ms));
    if (st.failed) parts.push(num(st.failed) + ' failed');
    return parts.join(DOT);
  }

  function draw(no, sh) {
    sh.drawn = gen;
    const list = entries(no);
    sh.body.textContent = '';
    if (!list.length) {
      const why = filtering() ? 'Nothing in this step matches the filters.'
        : 'Nothing happened in this step.';
      sh.body.append(h('p', { class: 'empty', text: why }));
      return;
    }
    let at = 0;
    const more = h('button', { type: 'button', class: 'btn chunk-more' });
    const next = () => {
      const frag = document.createDocumentFragment();
      for (const e of list.slice(at, at + CHUNK)) frag.append(entryEl(e, no));
      at = Math.min(at + CHUNK, list.length);
      more.remove();
      sh.body.append(frag);
      if (at < list.length) {
        const left = list.length - at;
        more.textContent = 'Show ' + num(Math.min(CHUNK, left)) + ' more (' + num(left) + ' left)';
        sh.body.append(more);
      }
    };
    more.addEventListener('click', next);
    next();
  }

  function stepShell(no) {
    const st = stepByNo.get(no);
    const det = h('details', { class: 'step', id: 'step-' + no, 'data-step': no });
    const match = h('span', { class: 'step-match' });
    const of = RUN.steps_planned ? ' of ' + RUN.steps_planned : '';
    det.append(h('summary', null, h('span', { class: 'step-no', text: 'Step ' + no + of }),
      st ? h('time', { class: 'step-time', datetime: st.datetime, text: when(st.datetime) }) : null,
      h('span', { class: 'step-meta', text: stepMeta(no) }), match));
    const sh = { det, match, body: h('div', { class: 'step-body' }), drawn: -1 };
    det.append(sh.body);
    det.addEventListener('toggle', () => {
      if (det.open && sh.drawn !== gen) draw(no, sh);
    });
    shells.set(no, sh);
    return det;
  }

  function endNote() {
    const note = (text, bad) => h('p', { class: 'end-note' + (bad ? ' bad' : ''), text });
    const steps = plural(RUN.steps, 'step');
    if (!RUN.has_begin) return note('No SimBegin record: agents are shown by index.', true);
    if (!RUN.complete)
      return note('No SimEnd: the run was interrupted, crashed or is still going. ' + steps +
        ' committed.', true);
    return note('The run ended (' + RUN.end_reason + ') after ' + steps + '.',
      RUN.end_reason !== 'completed');
  }

  function timeline() {
    const box = $('steps');
    for (const no of stepNos) box.append(stepShell(no));
    if (!stepNos.length) box.append(h('p', { class: 'end-note', text: 'No step was committed.' }));
    box.append(endNote());
    const first = shells.get(stepNos[0]);
    if (first) {
      first.det.open = true;
      draw(stepNos[0], first);
    }
    const openAll = (open) => shells.forEach((sh) => { sh.det.open = open; });
    $('steps-open').addEventListener('click', () => openAll(true));
    $('steps-close').addEventListener('click', () => openAll(false));
  }

  /* Redraw for new filters; with jump, open the first step that matches if
   * no open step does. */
  function refilter(jump) {
    gen++;
    hits = F.q ? new Uint8Array(S.length) : null;
    nameHits.clear();
    const active = filtering();
    let total = 0;
    let firstHit = null;
    let openHit = false;
    for (const no of stepNos) {
      const sh = shells.get(no);
      const n = active ? entries(no).length : 0;
      sh.match.textContent = active ? (n ? plural(n, 'match', 'matches') : 'no match') : '';
      sh.det.classList.toggle('nomatch', active && !n);
      total += n;
      if (n && !firstHit) firstHit = sh;
      if (n && sh.det.open) openHit = true;
      if (sh.det.open) draw(no, sh);
    }
    const words = active ? plural(total, 'entry', 'entries') + ' shown' : '';
    $('timeline-status').textContent = words;
    $('q-status').textContent = F.q ? (total ? words : 'Nothing matches.') : '';
    $('agents-clear').hidden = !F.follow.size;
    if (jump && firstHit && !openHit) firstHit.det.open = true;
  }

  /* ------------------------------------------------------------ sidebar */

  function typeFilters() {
    const box = $('type-filters');
    const colour = { talk: '--talk', think: '--think', done: '--done', faculty: '--faculty' };
    const items = [...typeCount.entries()].sort((x, y) => y[1] - x[1])
      .map(([t, n]) => [S[t], S[t], n, colour[kindOf(S[t])]]);
    if (worldCount) items.push([WORLD, 'World stimuli', worldCount, '--conversation']);
    if (D.interventions.length)
      items.push([IV, 'Interventions', D.interventions.length, '--intervention']);
    for (const [key, label, n, cssVar] of items) {
      const sw = h('span', { class: 'swatch', 'aria-hidden': 'true' });
      sw.style.setProperty('--c', 'var(' + cssVar + ')');
      const check = h('input', { type: 'checkbox', 'data-key': key, checked: true });
      box.append(h('label', null, check, sw, h('span', { text: label }),
        h('span', { class: 'n', text: num(n) })));
    }
    const show = (check) => {
      const key = check.getAttribute('data-key');
      if (check.checked) F.hidden.delete(key);
      else F.hidden.add(key);
    };
    box.addEventListener('change', (ev) => {
      show(ev.target);
      refilter(false);
    });
    const setAll = (on) => {
      for (const check of box.querySelectorAll('input')) {
        check.checked = on;
        show(check);
      }
      refilter(false);
    };
    $('types-all').addEventListener('click', () => setAll(true));
    $('types-none').addEventListener('click', () => setAll(false));
    $('thoughts-open').addEventListener('change', (ev) => {
      F.thoughts = ev.target.checked;
      gen++;
      shells.forEach((sh, no) => {
        if (sh.det.open) draw(no, sh);
      });
    });
  }

  function agentRow(a, i) {
    const check = h('input', { type: 'checkbox', id: 'follow-' + i, 'data-a': i });
    check.checked = F.follow.has(i);
    const label = h('label', { for: 'follow-' + i, class: 'sr-only', text: 'Follow ' + a.name });
    const sub = a.occupation ? h('span', { class: 'sub', text: a.occupation }) : null;
    return h('li', null, check, label, avatar(i),
      h('button', { type: 'button', class: 'who', 'data-a': i }, a.name, sub),
      h('span', { class: 'n', title: 'actions', text: num(a.actions) }));
  }

  function agentRows() {
    const find = $('agent-find').value.trim().toLowerCase();
    const list = $('agent-list');
    list.textContent = '';
    let shown = 0;
    let matched = 0;
    AGENTS.forEach((a, i) => {
      const occupation = (a.occupation || '').toLowerCase();
      if (find && !a.name.toLowerCase().includes(find) && !occupation.includes(find)) return;
      matched++;
      if (shown++ < LIST) list.append(agentRow(a, i));
    });
    shown = Math.min(shown, LIST);
    $('agent-list-note').textContent = matched > shown
      ? num(shown) + ' of ' + num(matched) + ' listed; type to find the others.'
      : matched ? '' : 'No agent matches.';
  }

  function sidebar() {
    typeFilters();
    agentRows();
    $('agent-find').addEventListener('input', agentRows);
    $('agent-list').addEventListener('change', (ev) => {
      const i = Number(ev.target.getAttribute('data-a'));
      if (ev.target.checked) F.follow.add(i);
      else F.follow.delete(i);
      refilter(true);
    });
    $('agents-clear').addEventListener('click', () => {
      F.follow.clear();
      agentRows();
      refilter(false);
    });
    let timer = 0;
    $('q').addEventListener('input', (ev) => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        F.q = ev.target.value.trim().toLowerCase();
        refilter(true);
      }, 160);
    });
    document.addEventListener('keydown', (ev) => {
      if (ev.key !== '/' || ev.ctrlKey || ev.metaKey) return;
      if (ev.target instanceof HTMLInputElement) return;
      ev.preventDefault();
      $('q').focus();
    });
    document.addEventListener('click', (ev) => {
      const b = ev.target.closest && ev.target.closest('button.who[data-a]');
      if (b) openAgent(Number(b.getAttribute('data-a')));
    });
  }

  /* ----------------------------------------------------------- identity */

  function fact(label, value) {
    if (value == null || value === '') return null;
    return h('div', null, h('dt', { text: label }), h('dd', { text: String(value) }));
  }

  function tile(value, label) {
    return h('div', { class: 'tile' }, h('div', { class: 'v', text: value }),
      h('div', { class: 'k', text: label }));
  }

  function banner(cls, strong, words) {
    return h('p', { class: 'banner ' + cls, role: 'note' }, h('strong', { text: strong }),
      h('span', { text: words }));
  }

  function badges() {
    const box = h('div', { class: 'badges' });
    const badge = (text, cls) => box.append(h('span', { class: 'badge-status ' + cls, text }));
    if (!RUN.complete) badge('Incomplete', 'warn');
    else if (RUN.end_reason === 'completed') badge('Complete', 'ok');
    else badge('Ended: ' + RUN.end_reason, 'bad');
    if (RUN.offline) badge('Offline model', 'warn');
    return box;
  }

  function banners(el) {
    const committed = plural(RUN.steps, 'step') + ' of ' + num(RUN.steps_planned) + ' committed.';
    if (RUN.offline)
      el.append(banner('offline', 'Offline model: a scripted stand-in, not an LLM. ',
        'Everything the agents say and think in this run was produced by Troupe\u2019s ' +
        'deterministic offline model, which speaks the real formats so the machinery can run ' +
        'without a key. It understands nothing: read nothing into its words.'));
    if (!RUN.complete)
      el.append(banner('incomplete', 'Incomplete. ', 'The log has no SimEnd record: the run ' +
        'was interrupted, crashed or is still going. ' + committed));
    else if (RUN.end_reason !== 'completed')
      el.append(banner('failed', 'The run ended: ' + RUN.end_reason + '. ', committed));
    if (RUN.torn_tail_bytes)
      el.append(banner('incomplete', 'Torn tail. ', num(RUN.torn_tail_bytes) + ' bytes at the ' +
        'end of the log were not a whole record and were ignored.'));
  }

  function identity() {
    const el = $('identity');
    const t = D.totals;
    const title = RUN.scenario || (RUN.has_begin ? 'Untitled scenario' : 'A log without SimBegin');
    document.title = title + DOT + 'Troupe run report';
    el.append(h('div', { class: 'id-top' },
      h('div', null, h('p', { class: 'eyebrow', text: 'Troupe run report' }),
        h('h1', { id: 'run-title', text: title })),
      badges()));
    banners(el);
    const planned = RUN.steps_planned != null ? ' of ' + num(RUN.steps_planned) : '';
    el.append(h('dl', { class: 'facts' },
      fact('Seed', RUN.seed), fact('Provider', RUN.provider), fact('Model', RUN.model),
      fact('Mode', RUN.mode), fact('Agents', num(AGENTS.length)),
      fact('Steps', num(RUN.steps) + planned), fact('World start', when(RUN.world_start)),
      fact('Step length', duration(RUN.step_seconds)), fact('Troupe', RUN.version),
      fact('Log', RUN.log), fact('Records', num(RUN.records))));
    el.append(h('div', { class: 'hash' }, h('span', { class: 'label', text: 'Final hash' }),
      h('code', { id: 'final-hash', text: RUN.final_hash })));
    const calls = t.replayed || t.cached
      ? 'model calls (' + num(t.replayed) + ' replayed, ' + num(t.cached) + ' cached apart)'
      : 'model calls';
    const tokens = 'tokens (' + short(t.prompt) + ' in, ' + short(t.completion) + ' out)';
    el.append(h('div', { class: 'tiles' },
      tile(num(t.actions), 'actions'), tile(num(t.calls), calls),
      tile(short(t.prompt + t.completion), tokens), tile(ms(t.wall_ms), 'step wall time'),
      tile(num(t.retried), 'retried calls'), tile(num(t.interventions), 'interventions')));
  }

  /* ------------------------------------------------------------- charts */

  function legend(items) {
    return h('div', { class: 'legend' }, items.map(([label, cssVar, line]) => {
      const sw = h('i', { class: line ? 'line' : null });
      sw.style.setProperty('--c', 'var(' + cssVar + ')');
      return h('span', null, sw, label);
    }));
  }

  function card(title, sub, svg, keys, wide) {
    return h('figure', { class: 'chart' + (wide ? ' wide' : '') },
      h('figcaption', { text: title }), sub ? h('p', { class: 'sub', text: sub }) : null,
      svg, keys ? legend(keys) : null);
  }

  const stepCats = () => D.steps.map((st) => ({ label: '' + st.step, title: 'Step ' + st.step }));
  const perStep = (key) => D.steps.map((st) => st[key] || 0);
  const SOURCES = [['live', '--live'], ['cached', '--cached'], ['replayed', '--replayed']];
  const TOKENS = [['prompt', '--prompt'], ['completion', '--completion']];

  function callsChart() {
    const t = D.totals;
    const svg = C.bars('calls-per-step', 'Model calls per step: live, cached and replayed',
      stepCats(), [
        { name: 'live', cls: 'live', values: perStep('calls') },
        { name: 'cached', cls: 'cached', values: perStep('cached') },
        { name: 'replayed', cls: 'replayed', values: perStep('replayed') },
      ], { xTitle: 'step', empty: 'no model exchanges' });
    const sub = num(t.calls) + ' live, ' + num(t.cached) + ' cached, ' + num(t.replayed) +
      ' replayed';
    return card('Model calls per step', sub, svg, SOURCES);
  }

  function tokensChart() {
    const t = D.totals;
    const svg = C.bars('tokens-per-step', 'Tokens per step: prompt and completion', stepCats(), [
      { name: 'prompt tokens', cls: 'prompt', values: perStep('prompt') },
      { name: 'completion tokens', cls: 'completion', values: perStep('completion') },
    ], { xTitle: 'step', empty: 'no tokens spent' });
    const sub = num(t.prompt) + ' prompt + ' + num(t.completion) +
      ' completion tokens, in calls made';
    return card('Tokens per step', sub, svg, TOKENS);
  }

  function agentsChart() {
    const rows = AGENTS.map((a, i) => ({ i, p: a.prompt || 0, c: a.completion || 0, a }))
      .sort((x, y) => y.p + y.c - (x.p + x.c) || y.a.exchanges - x.a.exchanges || x.i - y.i)
      .slice(0, TOP)
      .map((r) => ({
        label: nameOf(r.i),
        parts: [
          { cls: 'prompt', value: r.p, tip: nameOf(r.i) + ': ' + num(r.p) + ' prompt tokens' },
          { cls: 'completion', value: r.c, tip: nameOf(r.i) + ': ' + num(r.c) + ' completion' },
        ],
        note: plural(r.a.calls, 'call') + DOT + short(r.p + r.c),
      }));
    const svg = C.hbars('per-agent', 'Tokens and calls per agent', rows, { empty: 'no agents' });
    const sub = AGENTS.length > TOP
      ? 'The ' + TOP + ' agents that spent the most tokens, of ' + num(AGENTS.length) + '.'
      : 'Tokens of calls made, with the number of calls.';
    return card('Calls and tokens per agent', sub, svg, TOKENS);
  }

  function latencyChart() {
    const L = D.latencies.slice().sort((a, b) => a - b);
    const q = (p) => L[Math.min(L.length - 1, Math.floor(p * L.length))];
    const top = L.length ? L[L.length - 1] : 0;
    const width = Math.max(1, Math.ceil(C.nice((top + 1) / 12)));
    const bins = new Array(Math.floor(top / width) + 1).fill(0);
    for (const v of L) bins[Math.floor(v / width)]++;
    const cats = L.length ? bins.map((_, i) => ({
      label: short(i * width), title: num(i * width) + '\u2013' + num((i + 1) * width - 1) + ' ms',
    })) : [];
    const sub = L.length
      ? plural(L.length, 'live call') + DOT + 'median ' + ms(q(0.5)) + DOT + 'p95 ' + ms(q(0.95)) +
        DOT + 'max ' + ms(top)
      : 'No live model calls (everything was replayed or cached).';
    const svg = C.bars('latency-histogram', 'Histogram of model call latency in milliseconds', cats,
      [{ name: 'calls', cls: 'bar', values: bins }], { xTitle: 'ms', empty: 'no live calls' });
    return card('Latency of model calls', sub, svg);
  }

  function retriesChart() {
    const a = D.attempts;
    const many = (i) => (i + 1 === a.length && a.length >= 10 ? '10+' : String(i + 1));
    const parts = a.map((n, i) => (n ? plural(n, 'exchange') + ' in ' + many(i) +
      (i ? ' attempts' : ' attempt') : null)).filter(Boolean);
    const sub = D.totals.retried ? parts.join(DOT) : 'No call needed a second attempt.';
    const svg = C.bars('retries', 'Exchanges that needed more than one attempt, per step',
      stepCats(), [{ name: 'retried', cls: 'retry', values: perStep('retried') }],
      { xTitle: 'step', empty: 'no retries' });
    return card('Retries', sub, svg, [['retried exchanges', '--retry']]);
  }

  function sourcesChart() {
    const t = D.totals;
    const svg = C.shares('sources', 'Live, cached and replayed model exchanges', [
      { name: 'live', cls: 'live', value: t.calls },
      { name: 'cached', cls: 'cached', value: t.cached },
      { name: 'replayed', cls: 'replayed', value: t.replayed },
    ], 'no model exchanges');
    const sub = RUN.offline
      ? 'Live here means the offline model answered: no network, no tokens billed.'
      : 'Replayed exchanges come from a recorded log and cost nothing; cached ones from the ' +
        'API cache.';
    return card('Live or replayed', sub, svg, SOURCES);
  }

  function wallChart() {
    const known = D.steps.some((st) => st.wall_ms != null);
    const svg = C.lines('wall-vs-floor', 'Step wall time and model-latency floor per step',
      stepCats(), [
        { name: 'wall time', cls: 'wall', values: D.steps.map((st) => st.wall_ms ?? null) },
        { name: 'latency floor', cls: 'floor', values: perStep('floor_ms') },
      ], {
        fmtY: (v) => ms(Math.round(v)), fmtTip: ms, xTitle: 'step', width: 2 * C.W,
        empty: known ? 'all zero' : 'no telemetry',
      });
    const sub = 'Floor: the longest chain of model latency in the step (the agent whose calls ' +
      'took longest in sum). The gap above it is everything else.';
    return card('Step wall time against the model-latency floor', sub, svg,
      [['wall time', '--wall', true], ['latency floor', '--floor', true]], true);
  }

  function charts() {
    $('chart-grid').append(callsChart(), tokensChart(), agentsChart(), latencyChart(),
      retriesChart(), sourcesChart(), wallChart());
  }

  /* -------------------------------------------------------- agent panel */

  function actionsChart(a) {
    const rows = Object.entries(a.by_type || {}).sort((x, y) => y[1] - x[1]).map(([type, n]) => ({
      label: type, parts: [{ cls: 't-' + kindOf(type), value: n, tip: type + ': ' + num(n) }],
      note: num(n),
    }));
    return C.hbars('agent-actions', 'Actions of ' + a.name + ' by type', rows,
      { width: 360, left: 130, right: 40, axis: false, empty: 'no actions' });
  }

  function mindTable(i) {
    const body = h('tbody');
    let prev = [0, 0, 0];
    for (const st of D.steps) {
      const t = turnOf(st, i);
      if (!t) continue;
      const cs = t.cs || [0, 0, 0];
      const cell = (k) => (cs[k] && cs[k] === prev[k]
        ? h('td', { class: 'same', text: 'same' }) : h('td', { text: S[cs[k]] }));
      body.append(h('tr', null, h('td', { class: 'num', text: String(st.step) }),
        h('td', { class: 'num', text: when(st.datetime).slice(11) }), cell(0), cell(1), cell(2)));
      prev = cs;
    }
    const heads = ['Step', 'Time', 'Goals', 'Attention', 'Emotions'];
    return h('div', { class: 'mind-table-wrap' }, insight.csvTable(h('table',
      { class: 'mind-table' },
      h('caption', { class: 'sr-only', text: 'Cognitive state of ' + nameOf(i) + ' per step' }),
      h('thead', null, h('tr', null, heads.map((c) => h('th', { scope: 'col', text: c })))),
      body), 'cognitive-state-' + nameOf(i).replace(/[^\w.-]+/g, '_')));
  }

  function followButton(a, i) {
    const only = () => F.follow.size === 1 && F.follow.has(i);
    const words = () => (only() ? 'Follow everyone' : 'Follow only ' + a.name);
    const b = h('button', { type: 'button', class: 'btn', text: words() });
    b.addEventListener('click', () => {
      const was = only();
      F.follow.clear();
      if (!was) F.follow.add(i);
      b.textContent = words();
      agentRows();
      refilter(true);
    });
    return b;
  }

  function openAgent(i) {
    const a = AGENTS[i];
    if (!a) return;
    const p = $('agent-panel');
    p.textContent = '';
    const title = h('h2', { id: 'agent-panel-title', tabindex: '-1', text: a.name });
    const close = h('button', { type: 'button', class: 'btn', text: 'Close' });
    close.addEventListener('click', () => { p.hidden = true; });
    p.append(h('div', { class: 'top' }, avatar(i),
      h('div', null, title, a.bio ? h('p', { class: 'bio', text: a.bio }) : null),
      h('div', { class: 'tools' }, followButton(a, i), close)));
    p.append(h('dl', { class: 'facts' }, fact('Age', a.age), fact('Gender', a.gender),
      fact('Occupation', a.occupation), fact('Nationality', a.nationality),
      fact('Residence', a.residence)));
    if (a.traits && a.traits.length)
      p.append(h('ul', { class: 'chips', 'aria-label': 'Traits' },
        a.traits.map((x) => h('li', { text: x }))));
    if (a.about) p.append(h('p', { class: 'about', text: a.about }));
    const use = h('div', { class: 'tiles' },
      tile(num(a.calls), 'live calls'), tile(short(a.prompt + a.completion), 'tokens'),
      tile(ms(a.latency_ms), 'model latency'), tile(ms(a.busy_ms), 'busy'),
      tile(num(a.retried), 'retried'), tile(num(a.failed), 'failed steps'));
    p.append(h('div', { class: 'panel-grid' },
      h('div', null, h('h3', { text: 'Actions by type' }), actionsChart(a)),
      h('div', null, h('h3', { text: 'Model use' }), use)));
    p.append(h('h3', { class: 'mind-title', text: 'Cognitive state over time' }), mindTable(i));
    p.hidden = false;
    history.replaceState(null, '', '#agent=' + encodeURIComponent(a.name));
    p.scrollIntoView({ block: 'start' });
    title.focus({ preventScroll: true });
  }

  /* --------------------------------------------------------- deep links */

  /* Open step no, drawn, and bring it into view; false when there is none. */
  function openStep(no) {
    const sh = shells.get(no);
    if (!sh) return false;
    sh.det.open = true;
    if (sh.drawn !== gen) draw(no, sh);
    sh.det.scrollIntoView({ block: 'start' });
    return true;
  }

  /* #step-N opens that step, #agent=NAME that agent's profile, #slice=COLUMN
   * the results sliced by a persona column. */
  function follow() {
    let hash = '';
    try {
      hash = decodeURIComponent(location.hash.slice(1));
    } catch (e) {
      return;
    }
    const step = /^step-(\d+)$/.exec(hash);
    if (step) {
      openStep(Number(step[1]));
      return;
    }
    const agent = /^agent=(.+)$/.exec(hash);
    if (agent && byName.has(agent[1])) {
      openAgent(byName.get(agent[1]));
      return;
    }
    insight.follow(hash);
  }

  /* --------------------------------------------------------------- go */

  identity();
  sidebar();
  timeline();
  charts();
  insight.start();
  follow();
  window.addEventListener('hashchange', follow);
})();
