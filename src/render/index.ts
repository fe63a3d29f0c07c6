/**
 * The doctor's renderers: sibling pure functions `(report, options) → string`, one per output
 * format, and the one dispatcher over them (formats.ts). Every string that came from check data
 * is redacted again here (defence in depth), and every output ends with a newline, so a command
 * writes it as is (stdout or `--output-file`).
 */
export {GITHUB_ANNOTATIONS_PER_LEVEL, githubData, githubProperty, markdownCode, markdownText, renderGithub, renderGithubStepSummary} from './github.js'
export {jsonError, jsonReport, jsonSafe, renderJson, renderJsonError, type JsonCheck, type JsonErrorDocument, type JsonErrorInput, type JsonReport} from './json.js'
export {renderJunit, xmlAttr, xmlLegal, xmlText} from './junit.js'
export {NAGIOS_STATES, nagiosLabel, nagiosNumber, nagiosUom, renderNagios} from './nagios.js'
export {PROMETHEUS_STATUS_CODE, promLabelValue, promNumber, renderPrometheus} from './prometheus.js'
export {DEFAULT_TABLE_OPTIONS, decideColor, decideUnicode, renderDebugStacks, renderTable, type Env, type TableOptions} from './table.js'
export {summaryLine} from './summary.js'
export {FORMATS, isFormat, RENDERERS, renderFormat, type Format, type FormatEntry, type RenderOptions, type Renderer} from './formats.js'
