/**
 * The output formats of `gbrain doctor --format`, in one table: a new format is one renderer file
 * and one entry here. The flag's choices, its help and its validation are this table's keys, and
 * what a format asks of the command (its exit status contract, a second rendering for a file an
 * env variable names) is said in its entry, so the command names no format.
 *
 * Each renderer is loaded only when asked for: `--json` or `--format prometheus` never load chalk
 * (cheap startup for a doctor run every minute from cron or CI). Every output leaves workflow-safe
 * (see workflowSafe): a CI runner reading it runs none of its data. `github`'s annotations are
 * workflow commands by design, their data escaped inside them; `table` makes itself safe.
 */
import type {AuditHours} from '../checks/facts/audit-hours.js'
import type {Report} from '../checks/types.js'
import type {Trend} from '../history/trend.js'
import type {TableOptions} from './table.js'
import {workflowSafe, type OutputKind} from './text.js'

/**
 * What a picture of the report needs besides the report (a format whose entry says `needs:
 * 'picture'`): the history's last runs as a trend, and the audit trail counted by hour.
 */
export interface Picture {
  trend: Trend
  /** Why the history shows no run (not kept, unreadable), when it shows none. */
  history_note?: string
  /** The audit trail by hour; absent when it could not be counted (`audit_note` says why). */
  audit?: AuditHours
  audit_note?: string
}

/** Options of the human formats; the machine formats take none and ignore them. */
export type RenderOptions = Partial<TableOptions> & {picture?: Picture}

/** A renderer: pure, `(report, options) → string`, the output ending with a newline. */
export type Renderer = (report: Report, options: RenderOptions) => string

/** What the command needs to know about a format. */
export interface FormatEntry {
  /** The renderer, imported when the format is asked for. */
  load: () => Promise<Renderer>
  /** The kind of text its output is made workflow-safe as, or `'itself'` when the renderer sees to it. */
  safe: OutputKind | 'itself'
  /** The exit status follows the Nagios plugin contract (0 OK … 3 UNKNOWN) instead of `--fail-on`. */
  nagiosExit?: true
  /** A second rendering, appended to the file this env variable names when it is set (best effort). */
  appendTo?: {env: string; load: () => Promise<(report: Report) => string>}
  /** The command gathers the {@link Picture} (history tail, hourly audit counts) and passes it in the options. */
  needs?: 'picture'
}

const TABLE = {
  table: {load: async () => (await import('./table.js')).renderTable, safe: 'itself'},
  json: {load: async () => (await import('./json.js')).renderJson, safe: 'json'},
  junit: {load: async () => (await import('./junit.js')).renderJunit, safe: 'xml'},
  github: {
    load: async () => (await import('./github.js')).renderGithub,
    safe: 'itself',
    // The job summary: a Markdown table of every check on the run's page.
    appendTo: {env: 'GITHUB_STEP_SUMMARY', load: async () => (await import('./github.js')).renderGithubStepSummary},
  },
  nagios: {load: async () => (await import('./nagios.js')).renderNagios, safe: 'text', nagiosExit: true},
  prometheus: {load: async () => (await import('./prometheus.js')).renderPrometheus, safe: 'text'},
  // A self-contained page; the XML neutraliser's character references are HTML's too.
  html: {load: async () => (await import('./html.js')).renderHtml, safe: 'xml', needs: 'picture'},
} satisfies Record<string, FormatEntry>

export type Format = keyof typeof TABLE

/** Every format, keyed by its `--format` name. */
export const RENDERERS: Readonly<Record<Format, FormatEntry>> = TABLE

/** The `--format` choices, in the order help lists them. */
export const FORMATS: readonly Format[] = Object.keys(TABLE) as Format[]

export function isFormat(value: string): value is Format {
  return Object.hasOwn(TABLE, value)
}

/** Render the report in a format, loading only its renderer. The output ends with a newline. */
export async function renderFormat(format: Format, report: Report, options: RenderOptions = {}): Promise<string> {
  const entry = RENDERERS[format]
  const out = (await entry.load())(report, options)
  return entry.safe === 'itself' ? out : workflowSafe(out, entry.safe)
}
