/**
 * Render loading only the renderer asked for: `--json` or `--format prometheus` never load
 * chalk (cheap startup for a doctor run every minute from cron or CI). Every format but `github`
 * (whose annotations are workflow commands by design, their data escaped inside them) leaves
 * through {@link workflowSafe}: a CI runner reading the output runs none of its data.
 */
import type {Report} from '../checks/types.js'
import type {Format} from './formats.js'
import type {TableOptions} from './table.js'
import {workflowSafe} from './text.js'

export async function renderFormat(format: Format, report: Report, options: Partial<TableOptions> = {}): Promise<string> {
  switch (format) {
    case 'table':
      return (await import('./table.js')).renderTable(report, options)
    case 'json':
      return workflowSafe((await import('./json.js')).renderJson(report), 'json')
    case 'junit':
      return workflowSafe((await import('./junit.js')).renderJunit(report), 'xml')
    case 'github':
      return (await import('./github.js')).renderGithub(report)
    case 'nagios':
      return workflowSafe((await import('./nagios.js')).renderNagios(report))
    case 'prometheus':
      return workflowSafe((await import('./prometheus.js')).renderPrometheus(report))
  }
}
