// The status bar item while a xenolab session runs: the domains of the simulated machine
// as `xen/domains` reports them at the last stop, in a word ("dom1 hello: running",
// "3 domains: 2 running, 1 crashed") with `xl list`'s columns in the tooltip.

import type { DomainInfo, DomainStateName, DomainsBody } from '../../../protocol/src/index.js';

export interface StatusText {
  text: string;
  /** Markdown. */
  tooltip: string;
}

/** The order states are listed in: what needs attention first. */
const STATE_ORDER: readonly DomainStateName[] = ['crashed', 'shutdown', 'paused', 'blocked', 'running'];
const STATE_WORDS: Record<DomainStateName, string> = { running: 'running', blocked: 'blocked', paused: 'paused', shutdown: 'shut down', crashed: 'crashed' };

export function domainsStatus(body: DomainsBody): StatusText {
  const { domains } = body;
  const icon = domains.some((d) => d.state === 'crashed') ? '$(error)' : '$(server-process)';
  let text: string;
  if (domains.length === 0) text = `${icon} no domains`;
  else if (domains.length === 1) text = `${icon} dom${domains[0].id} ${domains[0].name}: ${stateOf(domains[0])}`;
  else {
    const counts = STATE_ORDER.map((s) => [s, domains.filter((d) => d.state === s).length] as const).filter(([, n]) => n > 0);
    text = `${icon} ${domains.length} domains: ${counts.map(([s, n]) => `${n} ${STATE_WORDS[s]}`).join(', ')}`;
  }
  return { text, tooltip: domainsTable(body) };
}

/** While the machine runs there is nothing to ask: the adapter answers when stopped. */
export function runningStatus(): StatusText {
  return { text: '$(sync~spin) Xen: running', tooltip: 'The simulated machine is running; the domains show at the next stop.' };
}

function stateOf(d: DomainInfo): string {
  if (d.state === 'shutdown' && d.shutdownReason) return `shut down (${d.shutdownReason})`;
  return STATE_WORDS[d.state];
}

function domainsTable(body: DomainsBody): string {
  const rows = body.domains.map((d) => {
    const hypercalls = d.counters.hypercalls.toLocaleString('en-US');
    const why = d.state === 'crashed' && d.crashReason ? ` — ${escape(d.crashReason)}` : '';
    return `| ${d.id} | ${escape(d.name)} | ${stateOf(d)}${why} | ${d.vcpus.length} | ${d.pages} / ${d.maxPages} | ${hypercalls} |`;
  });
  return [
    `**Simulated Xen** at ${(body.now / 1e6).toLocaleString('en-US', { maximumFractionDigits: 3 })} ms of machine time`,
    '',
    '| ID | Name | State | vCPUs | Pages | Hypercalls |',
    '| --: | --- | --- | --: | --: | --: |',
    ...rows,
  ].join('\n');
}

/** Markdown table cells: no pipes, no markup from guest-chosen names. */
function escape(s: string): string {
  return s.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, (c) => `\\${c}`);
}
