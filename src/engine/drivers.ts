/**
 * The engine's constructors and its retry policy from the environment, for code that builds an
 * engine itself (an embedder, the benchmarks). Loading this module loads both drivers. The CLI
 * never imports it; it opens engines through `open.ts`, which loads only the driver it needs.
 */
export {AuditWriter} from './audit/writer.js'
export {PGliteEngine} from './pglite-engine.js'
export {PostgresEngine} from './postgres-engine.js'
export {DeadLetterSpool} from './spool/dead-letter.js'
export {loadRetryPolicy} from './retry-policy.js'
