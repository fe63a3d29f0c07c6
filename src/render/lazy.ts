/**
 * Render loading only the renderer asked for: `--json` or `--format prometheus` never load
 * chalk or cli-table3 (cheap startup for a doctor run every minute from cron or CI).
 */
import type {Report} from '../checks/types.js'
import type {Format} from './formats.js'
import type {TableOptions} from './table.js'

export async function renderFormat(format: Format, report: Report, options: Partial<TableOptions> = {}): Promise<string> {
  switch (format) {
    case 'table':
      return (await import('./table.js')).renderTable(report, options)
    case 'json':
      return (await import('./json.js')).renderJson(report)
    case 'junit':
      return (await import('./junit.js')).renderJunit(report)
    case 'github':
      return (await import('./github.js')).renderGithub(report)
    case 'nagios':
      return (await import('./nagios.js')).renderNagios(report)
    case 'prometheus':
      return (await import('./prometheus.js')).renderPrometheus(report)
  }
}
