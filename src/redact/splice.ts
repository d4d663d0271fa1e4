/**
 * buf[0, to) with each span (sorted, non-overlapping, all inside it) replaced: the one renderer behind
 * both the value stage (regions) and the shape stage (findings), so the two cannot disagree on cuts.
 */
export function splice<S extends { start: number; end: number }>(buf: Buffer, spans: readonly S[], replace: (span: S) => Buffer, to = buf.length): Buffer {
  if (spans.length === 0) return buf.subarray(0, to);
  return Buffer.concat(spliceParts(buf, spans, replace, to));
}

/** splice's output as the parts it is joined from (regions of buf and replacements), for a caller that writes parts. */
export function spliceParts<S extends { start: number; end: number }>(buf: Buffer, spans: readonly S[], replace: (span: S) => Buffer, to = buf.length): Buffer[] {
  const parts: Buffer[] = [];
  let at = 0;
  for (const s of spans) {
    if (s.start > at) parts.push(buf.subarray(at, s.start));
    parts.push(replace(s));
    at = s.end;
  }
  if (to > at) parts.push(buf.subarray(at, to));
  return parts;
}
