/**
 * Prometheus text exposition for node_exporter's textfile collector: `# HELP` / `# TYPE` then the
 * samples of each family, grouped; no timestamps (the collector stamps them); label values
 * escaped (`\\`, `"`, newline); ends with a newline. Write it with `--output-file` (atomic rename)
 * into the collector's directory.
 *
 * `gbrain_doctor_check_status` encodes the status as a number — 0 ok, 1 warn, 2 fail, 3 unknown,
 * 4 skipped — a fixed code, not a severity scale: alert on `== 2` (fail) and `== 3` (unknown), not
 * on `> 1`. `gbrain_doctor_checks{status=…}` always has all five statuses, zeros included.
 */
import type {CheckStatus, Report} from '../checks/types.js'
import {clean} from './text.js'

/** The numeric code of each status in `gbrain_doctor_check_status`. */
export const PROMETHEUS_STATUS_CODE: Record<CheckStatus, number> = {ok: 0, warn: 1, fail: 2, unknown: 3, skipped: 4}

/** Escape a label value: backslash, double quote and newline. */
export function promLabelValue(text: string): string {
  return text
    .replace(/\\/g, '\\\\')
    .replace(/"/g, '\\"')
    .replace(/\r\n?|\n/g, '\\n')
}

/** A sample value as Prometheus parses it (`NaN`, `+Inf`, `-Inf` included). */
export function promNumber(v: number): string {
  if (Number.isNaN(v)) return 'NaN'
  if (v === Infinity) return '+Inf'
  if (v === -Infinity) return '-Inf'
  return String(v)
}

type Labels = [string, string][]

function sample(name: string, labels: Labels, value: number): string {
  const l = labels.length > 0 ? `{${labels.map(([k, v]) => `${k}="${promLabelValue(v)}"`).join(',')}}` : ''
  return `${name}${l} ${promNumber(value)}`
}

interface Family {
  name: string
  help: string
  samples: string[]
}

/** The report as textfile-collector metrics, ending with a newline. */
export function renderPrometheus(report: Report): string {
  const checks = report.checks.map((c) => ({c, check: clean(c.name), category: clean(c.category)}))
  const generated = Date.parse(report.generated_at)
  const families: Family[] = [
    {name: 'gbrain_doctor_up', help: '1 when the doctor ran and wrote this report.', samples: [sample('gbrain_doctor_up', [], 1)]},
    {
      name: 'gbrain_doctor_database_checked',
      help: '1 when the database answered this run, 0 when it was asked about but not reached (no brain, held, connection failed); no sample when not asked (--fast).',
      samples:
        report.coverage.database === 'not_asked'
          ? []
          : [sample('gbrain_doctor_database_checked', [], report.coverage.database === 'checked' ? 1 : 0)],
    },
    {
      name: 'gbrain_doctor_info',
      help: 'The doctor that wrote this report and the engine it checked (always 1).',
      samples: [
        sample(
          'gbrain_doctor_info',
          [
            ['version', clean(report.tool.version)],
            ['engine', clean(report.target.engine)],
          ],
          1,
        ),
      ],
    },
    {
      name: 'gbrain_doctor_health_score',
      help: 'gbrain health score: 100 - 20 per failing check - 5 per warning, floor 0 (no sample when something asked about was not checked).',
      samples: report.health_score === null ? [] : [sample('gbrain_doctor_health_score', [], report.health_score)],
    },
    {
      name: 'gbrain_doctor_checks',
      help: 'Number of checks per status.',
      samples: (['ok', 'warn', 'fail', 'unknown', 'skipped'] as const).map((s) =>
        sample('gbrain_doctor_checks', [['status', s]], report.summary[s]),
      ),
    },
    {
      name: 'gbrain_doctor_check_status',
      help: 'Status of each check: 0 ok, 1 warn, 2 fail, 3 unknown, 4 skipped.',
      samples: checks.map(({c, check, category}) =>
        sample(
          'gbrain_doctor_check_status',
          [
            ['check', check],
            ['category', category],
          ],
          PROMETHEUS_STATUS_CODE[c.status],
        ),
      ),
    },
    {
      name: 'gbrain_doctor_check_acknowledged',
      help: 'Checks that report ok because their finding was acknowledged (gbrain doctor --acknowledge): 1, with the status that was acknowledged.',
      samples: checks
        .filter(({c}) => c.acknowledged?.state === 'active')
        .map(({c, check}) =>
          sample(
            'gbrain_doctor_check_acknowledged',
            [
              ['check', check],
              ['was', c.acknowledged!.was],
            ],
            1,
          ),
        ),
    },
    {
      name: 'gbrain_doctor_check_observed',
      help: 'The value a check observed, in the unit of its unit label.',
      samples: checks
        .filter(({c}) => c.observed_value !== undefined)
        .map(({c, check}) =>
          sample(
            'gbrain_doctor_check_observed',
            [
              ['check', check],
              ['unit', clean(c.observed_unit ?? '')],
            ],
            c.observed_value as number,
          ),
        ),
    },
    {
      name: 'gbrain_doctor_check_threshold',
      help: 'The thresholds a check judged its observed value against.',
      samples: checks.flatMap(({c, check}) =>
        (['warn', 'fail'] as const)
          .filter((level) => c.threshold?.[level] !== undefined)
          .map((level) =>
            sample(
              'gbrain_doctor_check_threshold',
              [
                ['check', check],
                ['level', level],
              ],
              c.threshold?.[level] as number,
            ),
          ),
      ),
    },
    {
      name: 'gbrain_doctor_check_duration_seconds',
      help: 'How long each check took.',
      samples: checks.map(({c, check}) => sample('gbrain_doctor_check_duration_seconds', [['check', check]], c.duration_ms / 1000)),
    },
    {
      name: 'gbrain_doctor_duration_seconds',
      help: 'How long the whole doctor run took.',
      samples: [sample('gbrain_doctor_duration_seconds', [], report.duration_ms / 1000)],
    },
    {
      name: 'gbrain_doctor_last_run_timestamp_seconds',
      help: 'When the report was generated (Unix time), to alert on a stale textfile.',
      samples: Number.isFinite(generated) ? [sample('gbrain_doctor_last_run_timestamp_seconds', [], generated / 1000)] : [],
    },
  ]
  const lines: string[] = []
  for (const f of families) {
    if (f.samples.length === 0) continue
    lines.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} gauge`, ...f.samples)
  }
  return `${lines.join('\n')}\n`
}
