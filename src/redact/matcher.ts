import type { Literal } from './literals.js';

/** Where literal number `literal` (an index into the matcher's list) spans buf[start, end). */
export interface Occurrence {
  start: number;
  end: number;
  literal: number;
}

/**
 * The matching engine, kept behind this seam so a q-gram engine for thousands of literals can replace
 * the simple one without touching the stream logic. Implementations must be pure over their input.
 */
export interface Matcher {
  readonly literals: readonly Literal[];
  /** Length of the longest literal (0 when there are none). */
  readonly maxLength: number;
  /** Every complete occurrence of every literal in `buf`, overlapping ones included, in any order. */
  findAll(buf: Buffer): Occurrence[];
  /** Earliest p such that buf[p..] is a non-empty proper prefix of some literal; buf.length if none. */
  pendingStart(buf: Buffer): number;
  /** Every (p, literal) with buf[p..] a non-empty proper prefix of that literal; `end` is buf.length. */
  partials(buf: Buffer): Occurrence[];
}

export type MatcherFactory = (literals: readonly Literal[]) => Matcher;
