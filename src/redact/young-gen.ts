/**
 * A large redactor's tables, built with V8's young generation held at its size.
 *
 * Hundreds of values make tens of thousands of literals (objects and Buffers that live as long as the
 * redactor). Surviving scavenges in bulk, they make V8 double the young generation up to its cap (16 MB
 * for the two semi-spaces), and those pages stay in RSS for the life of the process, though the objects
 * were promoted to the old generation long before: 1,000 values cost +45 MB of RSS for 4.5 MB of heap
 * (bench/redact.mjs, memory line). With growth off while they are built, they are promoted as they come
 * (a few more scavenges, no slower to build) and the young generation keeps its start size (2 MB). Growth
 * is on again afterwards, so output that needs a larger young generation still gets one.
 *
 * `--semi-space-growth-factor` is read at each growth decision, so setting it after start-up takes
 * effect (measured on Node 20, 22 and 24: RSS after the bench's construction and 16 MiB stream went from
 * 59-65 MB to 35-41 MB). A few values do not grow the young generation and are built as before, without
 * loading node:v8 (about 1.5 ms of an exec's start); so is everything when the factor was set on the
 * command line (NODE_OPTIONS or node's own flags), which is then left as it was.
 */

/** From this many values the literals are enough to grow the young generation (100 values: 2 MB more). */
export const HOLD_FROM_VALUES = 64;
/** V8's default factor (Node 20, 22 and 24), restored after the build. */
const DEFAULT_GROWTH = 2;
const FLAG = /--semi[-_]space[-_]growth[-_]factor/;

export function withYoungGenerationHeld<T>(values: number, build: () => T): T {
  if (values < HOLD_FROM_VALUES || FLAG.test(`${process.execArgv.join(' ')} ${process.env.NODE_OPTIONS ?? ''}`)) return build();
  const v8 = process.getBuiltinModule('node:v8');
  v8.setFlagsFromString('--semi-space-growth-factor=1');
  try {
    return build();
  } finally {
    v8.setFlagsFromString(`--semi-space-growth-factor=${DEFAULT_GROWTH}`);
  }
}
