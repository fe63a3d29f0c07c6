/**
 * The doctor's renderers: sibling pure functions `(report, options) → string`, one per output
 * format, and the one dispatcher over them (formats.ts). Every string that came from check data
 * is redacted again here (defence in depth), and every output ends with a newline, so a command
 * writes it as is (stdout or `--output-file`).
 */
export {githubData, githubProperty, markdownCode, renderGithub, renderGithubStepSummary} from './github.js'
export {jsonReport, jsonSafe, renderJson, renderJsonError} from './json.js'
export {renderJunit, xmlAttr, xmlText} from './junit.js'
export {nagiosLabel, nagiosNumber, nagiosUom, renderNagios} from './nagios.js'
export {promLabelValue, renderPrometheus} from './prometheus.js'
export {decideColor, decideUnicode, renderDebugStacks, renderTable, type TableOptions} from './table.js'
export {summaryLine} from './summary.js'
export {FORMATS, isFormat, RENDERERS, renderFormat} from './formats.js'
