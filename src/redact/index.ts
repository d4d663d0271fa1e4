export { literalsFor, collectLiterals, type Literal, type LiteralsFn, type SecretValue } from './literals.js';
export type { Matcher, MatcherFactory, Occurrence } from './matcher.js';
export { LiteralMatcher } from './literal-matcher.js';
export { Redactor, type RedactorOptions } from './redactor.js';
export type { RedactorStream } from './stream.js';
export { redactTransform, type RedactTransformOptions } from './transform.js';
