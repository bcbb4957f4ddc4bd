// The Hypercall Profile panel's model: per domain, hypercalls by name (with the growth since
// the previous stop), guest → hypervisor transitions against page-table updates and the
// batching ratio between them, and a timeline of hypercalls over machine time from the
// hypercall log; all as bar geometry for plain SVG.

import type { DomainsBody, HypercallLogEntry } from '../../../../protocol/src/index.js';
import { count, delta } from './format.js';

/** Horizontal bar charts: a label column, then bars up to this width. */
export const BAR_CHART = { labelWidth: 150, barWidth: 260, valueWidth: 110, rowHeight: 20, barHeight: 14 } as const;
/** The timeline's size and number of columns. */
export const TIMELINE = { width: 520, height: 90, buckets: 48 } as const;

export interface Bar {
  label: string;
  value: number;
  /** The value as shown, with the growth since the previous stop. */
  valueText: string;
  x: number; y: number; width: number; height: number;
  /** Grew since the previous stop. */
  changed: boolean;
}

export interface BarChart {
  title: string;
  width: number;
  height: number;
  bars: Bar[];
}

export interface TimelineColumn {
  x: number; y: number; width: number; height: number;
  count: number;
  title: string;
}

export interface DomainProfile {
  domain: number;
  name: string;
  summary: string;
  byHypercall: BarChart;
  /** Transitions and page-table updates side by side: the batching lesson in two bars. */
  batching: BarChart;
  timeline: { width: number; height: number; columns: TimelineColumn[]; caption: string };
}

export interface ProfileModel {
  domains: DomainProfile[];
  /** Batching ratio of every domain, side by side. */
  ratios: BarChart;
}

function barChart(title: string, rows: { label: string; value: number; before?: number; text?: string }[], scaleMax?: number): BarChart {
  const { labelWidth, barWidth, valueWidth, rowHeight, barHeight } = BAR_CHART;
  const max = scaleMax ?? Math.max(1, ...rows.map((r) => r.value));
  const bars = rows.map((r, i) => ({
    label: r.label, value: r.value, valueText: r.text ?? `${count(r.value)}${delta(r.value, r.before)}`,
    x: labelWidth, y: i * rowHeight + (rowHeight - barHeight) / 2,
    width: r.value > 0 ? Math.max(1, Math.round((r.value / max) * barWidth * 10) / 10) : 0, height: barHeight,
    changed: r.before !== undefined && r.before !== r.value,
  }));
  return { title, width: labelWidth + barWidth + valueWidth, height: Math.max(1, rows.length) * rowHeight, bars };
}

/** Hypercalls per time bucket from the log's entries of one domain, between the first entry kept and `now`. */
function timeline(entries: HypercallLogEntry[], from: number, now: number): DomainProfile['timeline'] {
  const { width, height, buckets } = TIMELINE;
  const span = Math.max(1, now - from);
  const counts = new Array<number>(buckets).fill(0);
  for (const e of entries) counts[Math.min(buckets - 1, Math.floor(((e.time - from) / span) * buckets))]++;
  const max = Math.max(1, ...counts);
  const w = width / buckets;
  const columns = counts.map((n, i) => {
    const h = n > 0 ? Math.max(1, Math.round((n / max) * height * 10) / 10) : 0;
    const t0 = from + (span * i) / buckets, t1 = from + (span * (i + 1)) / buckets;
    return { x: Math.round(i * w * 100) / 100, y: Math.round((height - h) * 10) / 10, width: Math.round((w - 1) * 100) / 100, height: h, count: n, title: `${count(n)} hypercalls between ${microseconds(t0)} and ${microseconds(t1)}` };
  });
  const range = `${microseconds(from)} to ${microseconds(now)}`;
  const caption = entries.length ? `hypercalls over machine time, ${range} (${count(entries.length)} in the log; the tallest column is ${count(max)})` : `no hypercall in the log, ${range}`;
  return { width, height, columns, caption };
}

const microseconds = (ns: number) => `${count(Math.round(ns / 1000))} µs`;

/**
 * The profile of a stop from the domains' counters and the hypercall log (as much of it as
 * the host kept); `before` is the previous stop's domains body (the growth of each count).
 */
export function profileModel(now: DomainsBody, log: readonly HypercallLogEntry[], before?: DomainsBody): ProfileModel {
  const from = log.length ? log[0].time : 0;
  const domains = now.domains.map((d): DomainProfile => {
    const c = d.counters, b = before?.domains.find((x) => x.id === d.id)?.counters;
    const names = Object.entries(c.byHypercall).sort((x, y) => y[1] - x[1] || x[0].localeCompare(y[0]));
    return {
      domain: d.id, name: `dom${d.id} (${d.name})`,
      summary: `${count(c.hypercalls)} hypercalls${delta(c.hypercalls, b?.hypercalls)} · ${count(c.transitions)} transitions · ${count(c.ptUpdates)} page-table updates · batching ratio ${c.batchingRatio.toFixed(2)}`,
      byHypercall: barChart('Hypercalls by name', names.map(([label, value]) => ({ label, value, ...(b ? { before: b.byHypercall[label] ?? 0 } : {}) }))),
      batching: barChart('Transitions and page-table updates', [
        { label: 'transitions', value: c.transitions, ...(b ? { before: b.transitions } : {}) },
        { label: 'page-table updates', value: c.ptUpdates, ...(b ? { before: b.ptUpdates } : {}) },
      ]),
      timeline: timeline(log.filter((e) => e.domain === d.id), from, now.now),
    };
  });
  const ratios = barChart('Batching ratio (page-table updates per transition)', now.domains.map((d) => {
    const b = before?.domains.find((x) => x.id === d.id)?.counters.batchingRatio;
    return { label: `dom${d.id} (${d.name})`, value: d.counters.batchingRatio, text: d.counters.batchingRatio.toFixed(2), ...(b !== undefined ? { before: b } : {}) };
  }));
  return { domains, ratios };
}
