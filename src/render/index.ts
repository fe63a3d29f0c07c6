/**
 * The doctor's renderers: sibling pure functions `(report, options) → string`, one per output
 * format. Every string that came from check data is redacted again here (defence in depth), and
 * every output ends with a newline, so a command writes it as is (stdout or `--output-file`).
 */
import type {Report} from '../checks/types.js'
import type {Format} from './formats.js'
import {renderGithub} from './github.js'
import {renderJson} from './json.js'
import {renderJunit} from './junit.js'
import {renderNagios} from './nagios.js'
import {renderPrometheus} from './prometheus.js'
import {renderTable, type TableOptions} from './table.js'

export {GITHUB_ANNOTATIONS_PER_LEVEL, githubData, githubProperty, markdownCode, markdownText, renderGithub, renderGithubStepSummary} from './github.js'
export {jsonError, jsonReport, jsonSafe, renderJson, renderJsonError, type JsonCheck, type JsonErrorDocument, type JsonErrorInput, type JsonReport} from './json.js'
export {renderJunit, xmlAttr, xmlLegal, xmlText} from './junit.js'
export {NAGIOS_STATES, nagiosLabel, nagiosNumber, nagiosUom, renderNagios} from './nagios.js'
export {PROMETHEUS_STATUS_CODE, promLabelValue, promNumber, renderPrometheus} from './prometheus.js'
export {DEFAULT_TABLE_OPTIONS, decideColor, decideUnicode, renderDebugStacks, renderTable, type Env, type TableOptions} from './table.js'
export {summaryLine} from './summary.js'

export {FORMATS, isFormat, type Format} from './formats.js'

/** Options of the human format; the machine formats take none and ignore them. */
export type RenderOptions = Partial<TableOptions>

/** Render the report in a format. Pure; the output ends with a newline. */
export function render(format: Format, report: Report, options: RenderOptions = {}): string {
  switch (format) {
    case 'table':
      return renderTable(report, options)
    case 'json':
      return renderJson(report)
    case 'junit':
      return renderJunit(report)
    case 'github':
      return renderGithub(report)
    case 'nagios':
      return renderNagios(report)
    case 'prometheus':
      return renderPrometheus(report)
  }
}
