import { renderParts, replacementFor, type Region } from './regions.js';
import type { Piece } from './noise.js';

/**
 * Operations on tokenized output (raw bytes plus the view the matcher sees, see noise.ts): joining the
 * held piece with new input, cutting off what was emitted, and writing raw bytes with view regions
 * replaced. Most output has no skipped bytes, and then raw and view are one buffer and all of this is
 * a slice.
 */

export const EMPTY_PIECE: Piece = { raw: Buffer.alloc(0), view: Buffer.alloc(0), segV: [], segR: [] };
const ESC = 0x1b;

const identity = (p: Piece): boolean => p.view === p.raw;

/** Raw index of view byte v (v < view.length), or raw.length for v === view.length. */
export function toRaw(p: Piece, v: number): number {
  if (v >= p.view.length) return p.raw.length;
  if (identity(p)) return v;
  // The segment holding v: the last one starting at or before it (segV[0] is 0).
  const k = Math.max(0, segmentsAfter(p.segV, v) - 1);
  return p.segR[k]! + (v - p.segV[k]!);
}

/**
 * The first k with segV[k] > v (segV.length when there is none), by binary search: colour-heavy output
 * has a segment every few dozen bytes, so walking them from the start for each cut was linear per write.
 */
function segmentsAfter(segV: readonly number[], v: number): number {
  let lo = 0;
  let hi = segV.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (segV[mid]! <= v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function concatPieces(a: Piece, b: Piece): Piece {
  if (a.raw.length === 0) return b;
  if (b.raw.length === 0) return a;
  const raw = Buffer.concat([a.raw, b.raw]);
  if (identity(a) && identity(b)) return { raw, view: raw, segV: [0], segR: [0] };
  const view = Buffer.concat([a.view, b.view]);
  const segV = [...a.segV];
  const segR = [...a.segR];
  const last = segV.length - 1;
  // b's first segment continues a's last one when nothing was skipped between them.
  const contiguous = last >= 0 && segR[last]! + (a.view.length - segV[last]!) === a.raw.length && b.segV[0] === 0 && b.segR[0] === 0;
  for (let k = contiguous ? 1 : 0; k < b.segV.length; k++) {
    segV.push(b.segV[k]! + a.view.length);
    segR.push(b.segR[k]! + a.raw.length);
  }
  return { raw, view, segV, segR };
}

/** A copy of p from view byte `from` on (raw from that byte's position), for holding across pushes. */
export function slicePiece(p: Piece, from: number): Piece {
  if (from >= p.view.length) return EMPTY_PIECE;
  if (identity(p)) {
    const raw = Buffer.from(p.raw.subarray(from));
    return { raw, view: raw, segV: [0], segR: [0] };
  }
  const r0 = toRaw(p, from);
  const raw = Buffer.from(p.raw.subarray(r0));
  const view = Buffer.from(p.view.subarray(from));
  const k0 = segmentsAfter(p.segV, from);
  const segV = shifted(p.segV, k0, p.segV.length, from);
  const segR = shifted(p.segR, k0, p.segV.length, r0);
  return { raw, view, segV, segR };
}

/** [first, xs[k0] - by, ..., xs[k1 - 1] - by] with `first` 0 (a piece's first segment), made at its size. */
function shifted(xs: readonly number[], k0: number, k1: number, by: number): number[] {
  const out = new Array<number>(1 + k1 - k0);
  out[0] = 0;
  for (let k = k0; k < k1; k++) out[1 + k - k0] = xs[k]! - by;
  return out;
}

/**
 * p from view byte `from` to `to`, sharing memory (no copy): raw bytes skipped between view[from-1] and
 * view[from] belong to the part before. For scanning one write in two steps; never held across writes.
 */
export function subPiece(p: Piece, from: number, to: number): Piece {
  if (identity(p)) {
    const b = p.raw.subarray(from, to);
    return { raw: b, view: b, segV: [0], segR: [0] };
  }
  const r0 = from === 0 ? 0 : toRaw(p, from);
  const r1 = toRaw(p, to);
  const k0 = segmentsAfter(p.segV, from);
  const k1 = Math.max(k0, segmentsAfter(p.segV, to - 1));
  const segV = shifted(p.segV, k0, k1, from);
  const segR = shifted(p.segR, k0, k1, r0);
  segR[0] = toRaw(p, from) - r0;
  return { raw: p.raw.subarray(r0, r1), view: p.view.subarray(from, to), segV, segR };
}

/** Escape sequences skipped inside view[vs, ve): written after a region's replacement so colours survive. */
function escapesWithin(p: Piece, vs: number, ve: number): Buffer[] {
  const out: Buffer[] = [];
  for (let k = Math.max(1, segmentsAfter(p.segV, vs)); k < p.segV.length; k++) {
    const at = p.segV[k]!;
    if (at >= ve) break;
    const gapStart = p.segR[k - 1]! + (at - p.segV[k - 1]!);
    const gap = p.raw.subarray(gapStart, p.segR[k]!);
    // A gap is an optional skipped wrap break then escape sequences; the break goes with the value.
    const e = gap.indexOf(ESC);
    if (e !== -1) out.push(gap.subarray(e));
  }
  return out;
}

/**
 * raw up to the position of view byte `to`, with each region (view coordinates, all before `to`)
 * replaced, as parts to write in order (some may be empty): joining them would copy the whole write.
 */
export function renderPiece(p: Piece, regions: readonly Region[], to: number): Buffer[] {
  if (identity(p)) return renderParts(p.raw, regions, to);
  const rawTo = toRaw(p, to);
  if (regions.length === 0) return [p.raw.subarray(0, rawTo)];
  const parts: Buffer[] = [];
  let at = 0;
  for (const r of regions) {
    const rs = toRaw(p, r.start);
    const re = toRaw(p, r.end - 1) + 1;
    if (rs > at) parts.push(p.raw.subarray(at, rs));
    parts.push(Buffer.from(replacementFor(r), 'utf8'));
    parts.push(...escapesWithin(p, r.start, r.end));
    at = re;
  }
  if (rawTo > at) parts.push(p.raw.subarray(at, rawTo));
  return parts;
}
