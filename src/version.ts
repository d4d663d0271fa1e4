/** outloop's version, in one place for `--version`, the fast path and the commander program. */
export const VERSION = '0.1.0';
