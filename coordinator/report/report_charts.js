/*  Troupe run report: numbers as people read them, and charts as inline SVG.
 *
 *  Knows nothing of logs: every chart takes categories and series of numbers
 *  and returns an <svg data-chart="ID" role="img"> with a <title>. Colours
 *  come from CSS classes (report.css), so light and dark themes both work.
 *  Labels reach the SVG as text nodes only. Everything charted is a count,
 *  milliseconds or tokens, so axes step in whole numbers.
 */
const ttCharts = (() => {
  'use strict';

  const SVG_NS = 'http://www.w3.org/2000/svg'; /* a namespace name, never fetched */
  const W = 480; /* chart width in user units, about its width on a laptop; wide: twice */
  const H = 230;
  const M = { l: 46, r: 12, t: 14, b: 36 };

  /* ------------------------------------------------------------- numbers */

  const nf = new Intl.NumberFormat('en-US');
  const num = (n) => nf.format(n || 0);
  const plural = (n, one, many) => num(n) + ' ' + (n === 1 ? one : many || one + 's');
  const r1 = (x) => Math.round(x * 10) / 10;

  function ms(n) {
    n = n || 0;
    if (n < 1000) return num(n) + ' ms';
    if (n < 60000) return (n / 1000).toFixed(n < 10000 ? 2 : 1) + ' s';
    return Math.floor(n / 60000) + ' min ' + Math.round((n % 60000) / 1000) + ' s';
  }

  function short(n) {
    if (n >= 1e6) return r1(n / 1e6) + 'M';
    if (n >= 1e4) return Math.round(n / 1e3) + 'k';
    if (n >= 1e3) return r1(n / 1e3) + 'k';
    return String(r1(n));
  }

  /* 1, 2, 2.5 or 5 times a power of ten, at least v. */
  function nice(v) {
    if (!(v > 0)) return 1;
    const p = Math.pow(10, Math.floor(Math.log10(v)));
    for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
    return 10 * p;
  }

  /* An axis from 0 to peak in at most 4 nice, whole steps. */
  function axis(peak) {
    const step = Math.max(1, nice(peak / 4));
    const n = Math.max(1, Math.ceil(peak / step));
    return { step, n, max: step * n };
  }

  /* ---------------------------------------------------------------- SVG */

  function el(tag, attrs, ...texts) {
    const e = document.createElementNS(SVG_NS, tag);
    for (const k in attrs || {}) if (attrs[k] != null) e.setAttribute(k, String(attrs[k]));
    for (const t of texts) e.append(document.createTextNode(String(t)));
    return e;
  }

  function svg(id, label, width, height) {
    const e = el('svg', {
      viewBox: '0 0 ' + width + ' ' + height, 'data-chart': id, role: 'img', 'aria-label': label,
    });
    e.append(el('title', null, label));
    return e;
  }

  /* A shape with a tooltip. */
  function shape(tag, attrs, tip) {
    const e = el(tag, attrs);
    if (tip) e.append(el('title', null, tip));
    return e;
  }

  const text = (x, y, anchor, words, cls) =>
    el('text', { x: r1(x), y: r1(y), 'text-anchor': anchor, class: cls }, words);

  /* Grid lines and y labels for ax; the plot's height is H - M.t - M.b. */
  function yGrid(e, ax, fmtY, width) {
    const ph = H - M.t - M.b;
    for (let k = 0; k <= ax.n; k++) {
      const y = r1(M.t + ph - (ph * k) / ax.n);
      e.append(el('line', { class: k ? 'grid' : 'axis', x1: M.l, x2: width - M.r, y1: y, y2: y }));
      e.append(text(M.l - 7, y + 4, 'end', fmtY(ax.step * k)));
    }
  }

  /* Category labels under the plot, thinned to about a dozen. */
  function xLabels(e, cats, x) {
    const every = Math.ceil(cats.length / 12);
    cats.forEach((c, i) => {
      if (i % every === 0) e.append(text(x(i), H - M.b + 16, 'middle', c.label));
    });
  }

  function finish(e, o, width, peak) {
    if (o.xTitle) e.append(text(width - M.r, H - 4, 'end', o.xTitle));
    if (!peak) e.append(text(width / 2, (H - M.b + M.t) / 2, 'middle', o.empty, 'nodata'));
    return e;
  }

  /* ------------------------------------------------------------- charts */

  /* Stacked bars. cats: [{label, title}]; series: [{name, cls, values}];
   * opts: fmtY, xTitle, empty, width. */
  function bars(id, label, cats, series, opts) {
    const o = Object.assign({ fmtY: short, empty: 'nothing to show', width: W }, opts);
    const total = (i) => series.reduce((sum, se) => sum + (se.values[i] || 0), 0);
    const peak = cats.reduce((m, _, i) => Math.max(m, total(i)), 0);
    const ax = axis(peak);
    const e = svg(id, label, o.width, H);
    yGrid(e, ax, o.fmtY, o.width);
    const ph = H - M.t - M.b;
    const bw = (o.width - M.l - M.r) / Math.max(1, cats.length);
    cats.forEach((c, i) => {
      let acc = 0;
      for (const se of series) {
        const v = se.values[i] || 0;
        if (!v) continue;
        e.append(shape('rect', {
          class: se.cls, x: r1(M.l + i * bw + bw * 0.17), width: r1(Math.max(1, bw * 0.66)),
          y: r1(M.t + ph - ((acc + v) / ax.max) * ph), height: r1(Math.max(0.5, (v / ax.max) * ph)),
        }, c.title + ': ' + num(v) + ' ' + se.name));
        acc += v;
      }
    });
    xLabels(e, cats, (i) => M.l + i * bw + bw / 2);
    return finish(e, o, o.width, peak);
  }

  /* Lines with points. series: [{name, cls, values}], a null value is unknown
   * (the line breaks there); opts as for bars, plus fmtTip for tooltips. */
  function lines(id, label, cats, series, opts) {
    const o = Object.assign({ fmtY: short, fmtTip: num, empty: 'nothing to show', width: W },
      opts);
    let peak = 0;
    for (const se of series) for (const v of se.values) if (v != null) peak = Math.max(peak, v);
    const ax = axis(peak);
    const e = svg(id, label, o.width, H);
    yGrid(e, ax, o.fmtY, o.width);
    const ph = H - M.t - M.b;
    const bw = (o.width - M.l - M.r) / Math.max(1, cats.length);
    const X = (i) => r1(M.l + i * bw + bw / 2);
    const Y = (v) => r1(M.t + ph - (v / ax.max) * ph);
    xLabels(e, cats, X);
    for (const se of series) {
      let d = '';
      let pen = 'M';
      se.values.forEach((v, i) => {
        d += v == null ? '' : pen + X(i) + ' ' + Y(v) + ' ';
        pen = v == null ? 'M' : 'L';
      });
      if (d) e.append(el('path', { class: se.cls, d: d.trim() }));
      if (cats.length > 60) continue;
      se.values.forEach((v, i) => {
        if (v != null)
          e.append(shape('circle', { class: se.cls, cx: X(i), cy: Y(v), r: 3.5 },
            cats[i].title + ': ' + se.name + ' ' + o.fmtTip(v)));
      });
    }
    return finish(e, o, o.width, peak);
  }

  /* Horizontal stacked bars, one row each: rows [{label, parts: [{cls,
   * value, tip}], note}]; opts: width, left (label column), right (note
   * column), axis (draw a value axis), empty. */
  function hbars(id, label, rows, opts) {
    const o = Object.assign({ width: W, left: 120, right: 110, axis: true, empty: 'nothing' },
      opts);
    const rowH = 24;
    const height = 10 + rows.length * rowH + (o.axis ? 26 : 4);
    const sum = (r) => r.parts.reduce((s, p) => s + p.value, 0);
    const peak = rows.reduce((m, r) => Math.max(m, sum(r)), 0);
    const ax = axis(peak);
    const pw = o.width - o.left - o.right;
    const e = svg(id, label, o.width, Math.max(height, 34));
    if (o.axis) {
      const base = height - 22;
      for (let k = 0; k <= ax.n; k++) {
        const x = r1(o.left + (pw * k) / ax.n);
        e.append(el('line', { class: k ? 'grid' : 'axis', x1: x, x2: x, y1: 6, y2: base }));
        e.append(text(x, base + 15, 'middle', short(ax.step * k)));
      }
    }
    rows.forEach((r, k) => {
      const y = 10 + k * rowH;
      const name = r.label.length > 18 ? r.label.slice(0, 17) + '\u2026' : r.label;
      e.append(text(o.left - 8, y + 13, 'end', name));
      let x = o.left;
      for (const p of r.parts) {
        if (!p.value) continue;
        const w = (p.value / ax.max) * pw;
        const box = { class: p.cls, x: r1(x), y, width: r1(Math.max(0.5, w)), height: rowH - 8 };
        e.append(shape('rect', box, p.tip));
        x += w;
      }
      if (r.note) e.append(text(x + 6, y + 13, 'start', r.note));
    });
    if (!rows.length) e.append(text(o.width / 2, 24, 'middle', o.empty, 'nodata'));
    return e;
  }

  /* One bar split into shares of a whole: parts [{name, cls, value}]. */
  function shares(id, label, parts, empty) {
    const total = parts.reduce((s, p) => s + p.value, 0);
    const e = svg(id, label, W, 74);
    let x = 0;
    for (const p of parts) {
      if (!p.value) continue;
      const w = (p.value / total) * W;
      e.append(shape('rect', { class: p.cls, x: r1(x), y: 10, width: r1(w), height: 26 },
        p.name + ': ' + num(p.value)));
      const pct = Math.round((p.value / total) * 100);
      if (w > 70) e.append(text(x + 6, 56, 'start', p.name + ' ' + pct + '%'));
      x += w;
    }
    if (!total) e.append(text(W / 2, 30, 'middle', empty, 'nodata'));
    return e;
  }

  /* Bars side by side, one per series in each category (runs compared).
   * cats, series and opts as for bars. */
  function grouped(id, label, cats, series, opts) {
    const o = Object.assign({ fmtY: short, empty: 'nothing to show', width: W }, opts);
    let peak = 0;
    for (const se of series) for (const v of se.values) peak = Math.max(peak, v || 0);
    const ax = axis(peak);
    const e = svg(id, label, o.width, H);
    yGrid(e, ax, o.fmtY, o.width);
    const ph = H - M.t - M.b;
    const bw = (o.width - M.l - M.r) / Math.max(1, cats.length);
    const sw = (bw * 0.76) / Math.max(1, series.length);
    cats.forEach((c, i) => {
      series.forEach((se, k) => {
        const v = se.values[i] || 0;
        if (!v) return;
        e.append(shape('rect', {
          class: se.cls, x: r1(M.l + i * bw + bw * 0.12 + k * sw), width: r1(Math.max(1, sw - 1)),
          y: r1(M.t + ph - (v / ax.max) * ph), height: r1(Math.max(0.5, (v / ax.max) * ph)),
        }, c.title + ': ' + se.name + ' ' + (o.fmtTip || num)(v)));
      });
    });
    xLabels(e, cats, (i) => M.l + i * bw + bw / 2);
    return finish(e, o, o.width, peak);
  }

  /* Bins for a histogram of numbers: whole numbers over a short range get a
   * bin each, anything else about ten of a nice width. Returns {cats, of(v)}. */
  function bins(values) {
    const xs = values.filter((v) => typeof v === 'number' && isFinite(v));
    if (!xs.length) return { cats: [], of: () => -1 };
    const lo = Math.min(...xs);
    const hi = Math.max(...xs);
    if (xs.every(Number.isInteger) && hi - lo <= 20) {
      const cats = [];
      for (let v = lo; v <= hi; v++) cats.push({ label: String(v), title: String(v) });
      return { cats, of: (v) => v - lo };
    }
    const width = nice((hi - lo) / 10 || 1);
    const base = Math.floor(lo / width) * width;
    const n = Math.floor((hi - base) / width) + 1;
    const cats = [];
    for (let k = 0; k < n; k++) {
      const a = r1(base + k * width);
      cats.push({ label: short(a), title: a + ' to ' + r1(a + width) });
    }
    return { cats, of: (v) => Math.min(n - 1, Math.floor((v - base) / width)) };
  }

  /* A heat-map: rows x cols cells, value(r, c) a count, shaded by its share of
   * the largest. labels are names; opts: width, left (label column), cell. */
  function heat(id, label, rows, cols, value, opts) {
    const o = Object.assign({ left: 130, top: 110, cell: 14 }, opts);
    const width = o.left + cols.length * o.cell + 12;
    const height = o.top + rows.length * o.cell + 8;
    const e = svg(id, label, width, height);
    let peak = 0;
    const grid = rows.map((_, r) => cols.map((_, c) => {
      const v = value(r, c);
      peak = Math.max(peak, v);
      return v;
    }));
    const cut = (s) => (s.length > 18 ? s.slice(0, 17) + '\u2026' : s);
    rows.forEach((name, r) => {
      e.append(text(o.left - 6, o.top + r * o.cell + o.cell * 0.75, 'end', cut(name), 'heat-label'));
    });
    cols.forEach((name, c) => {
      const x = o.left + c * o.cell + o.cell * 0.7;
      const t = text(x, o.top - 6, 'start', cut(name), 'heat-label');
      t.setAttribute('transform', 'rotate(-60 ' + r1(x) + ' ' + (o.top - 6) + ')');
      e.append(t);
    });
    grid.forEach((line, r) => line.forEach((v, c) => {
      const box = { class: v ? 'heat' : 'heat zero', x: o.left + c * o.cell, y: o.top + r * o.cell,
        width: o.cell - 1, height: o.cell - 1 };
      if (v) box['fill-opacity'] = r1(0.15 + (0.85 * v) / peak);
      e.append(shape('rect', box, rows[r] + ' \u2192 ' + cols[c] + ': ' + num(v)));
    }));
    if (!peak) e.append(text(width / 2, height / 2, 'middle', o.empty || 'no talk', 'nodata'));
    return e;
  }

  return { W, num, plural, ms, short, nice, bars, lines, hbars, shares, grouped, bins, heat };
})();
