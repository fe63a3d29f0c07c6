/** The audit trail: ISO-week files of JSON lines, written best effort and read by window. */
export * from './types.js'
export * from './iso-week.js'
export * from './guards.js'
export * from './writer.js'
export * from './reader.js'
export * from './fast-row.js'
