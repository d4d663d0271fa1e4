import type { Literal } from './literals.js';
import type { Matcher, Occurrence } from './matcher.js';
import { splice, spliceParts } from './splice.js';

/** An occurrence that may take part in a region; `partial` marks an end-of-stream prefix. */
export interface Candidate extends Occurrence {
  partial: boolean;
}

/** A span replaced as one: its labels in order of first appearance, and how many occurrences it merged. */
export interface Region {
  start: number;
  end: number;
  labels: string[];
  count: number;
}

/** A tail this long is masked at end of stream: long enough to matter, too long to be a coincidence. */
export function endRuleMinimum(literalLength: number): number {
  return Math.min(8, Math.ceil(literalLength / 2));
}

const CR = 0x0d;
const LF = 0x0a;

/**
 * Which held prefixes the partial rule (below) may mask. `mask`: all of them (a child's output that
 * nobody but the child shaped). `off`: none, for input a caller supplies (`outloop redact`), where a
 * masked prefix would tell the caller that its guess starts a value. A function: only the tails it
 * allows (exec output, where a tail that lies inside a parameter the caller sent is caller-shaped).
 */
export type PartialRule = 'mask' | 'off' | ((tail: Buffer) => boolean);

/**
 * Every occurrence in `buf`, plus the prefixes the partial rule masks: a tail that is a proper prefix
 * of a literal and at least endRuleMinimum long, when `buf` ends the stream (or a pause releases it),
 * and likewise right before a bare `\r` (one not followed by `\n`): a progress line overwritten in place
 * (`token: sk_li\rtoken: sk_live_...`) must not show each growing prefix. With `atEnd`, a final `\r`
 * counts as bare; without it the caller holds a final `\r` until the next byte decides.
 */
export function candidatesIn(matcher: Matcher, buf: Buffer, atEnd: boolean, rule: PartialRule = 'mask'): Candidate[] {
  const out: Candidate[] = matcher.findAll(buf).map((o) => ({ ...o, partial: false }));
  if (rule === 'off') return out;
  const addPartials = (to: number): void => {
    for (const o of matcher.partials(to === buf.length ? buf : buf.subarray(0, to))) {
      const lit = matcher.literals[o.literal]!;
      if (o.end - o.start < endRuleMinimum(lit.bytes.length)) continue;
      if (rule !== 'mask' && !rule(buf.subarray(o.start, o.end))) continue;
      out.push({ ...o, partial: true });
    }
  };
  for (let cr = buf.indexOf(CR); cr !== -1; cr = buf.indexOf(CR, cr + 1)) {
    if (cr + 1 < buf.length ? buf[cr + 1] !== LF : atEnd) addPartials(cr);
  }
  if (atEnd) addPartials(buf.length);
  return out;
}

/** Leftmost first; at one start the longest; ties go to complete matches, then to the earlier literal. */
function order(a: Candidate, b: Candidate): number {
  return a.start - b.start || b.end - a.end || Number(a.partial) - Number(b.partial) || a.literal - b.literal;
}

/**
 * Walk candidates in order: the first opens a region, each later one that starts inside it and reaches
 * past its end extends it (and counts), one wholly inside adds nothing, one starting at or past the end
 * opens the next region. So overlapping secrets merge and no fragment of either is left in clear.
 */
export function selectRegions(candidates: Candidate[], literals: readonly Literal[]): Region[] {
  const regions: Region[] = [];
  let open: Region | undefined;
  for (const c of [...candidates].sort(order)) {
    const label = literals[c.literal]!.label;
    if (open !== undefined && c.start < open.end) {
      if (c.end <= open.end) continue;
      open.end = c.end;
      open.count++;
      if (!open.labels.includes(label)) open.labels.push(label);
      continue;
    }
    open = { start: c.start, end: c.end, labels: [label], count: 1 };
    regions.push(open);
  }
  return regions;
}

export function replacementFor(region: Region): string {
  return region.labels.map((label) => `[REDACTED:${label}]`).join('');
}

/** buf[0, to) with each region (all must lie inside it) replaced by its labels. */
export function render(buf: Buffer, regions: readonly Region[], to: number): Buffer {
  return splice(buf, regions, replacementBytes, to);
}

/** render's output in parts (see spliceParts). */
export function renderParts(buf: Buffer, regions: readonly Region[], to: number): Buffer[] {
  return spliceParts(buf, regions, replacementBytes, to);
}

const replacementBytes = (r: Region): Buffer => Buffer.from(replacementFor(r), 'utf8');
