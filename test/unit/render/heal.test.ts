/**
 * The auto-heal section: its lines for a person (exact), and `heal` in the JSON report, redacted
 * and valid against docs/report.schema.json, hostile text included.
 */
import {readFileSync} from 'node:fs'
import {describe, expect, it} from 'vitest'
import {healLines} from '../../../src/render/heal.js'
import {renderJson} from '../../../src/render/json.js'
import type {HealSection} from '../../../src/repair/heal.js'
import {warningsReport} from './fixtures.js'
import {validateSchema} from './validate.js'

const schema = JSON.parse(readFileSync(new URL('../../../docs/report.schema.json', import.meta.url), 'utf8')) as Record<string, unknown>

const section = (over: Partial<HealSection> = {}): HealSection => ({
  dry_run: false,
  min_interval_s: 21_600,
  actions: [
    {
      name: 'replay',
      status: 'applied',
      detail: 'replayed 2 of 2 entries (7 rows, 7 new)',
      data: {replayed: 2},
      concerns: ['dead_letter', 'batch_retry_health'],
    },
    {name: 'prune-audit', status: 'applied', detail: 'deleted 1 file', concerns: ['audit_log']},
  ],
  checks: [
    {name: 'dead_letter', before: 'warn', after: 'ok'},
    {name: 'batch_retry_health', before: 'warn', after: 'warn'},
    {name: 'audit_log', before: 'warn', after: 'ok'},
  ],
  skipped: [
    {
      action: 'unlock',
      reason: 'healed_recently',
      detail: 'healed at 2026-01-07T10:00:00.000Z, within the minimum interval',
      last_healed_at: '2026-01-07T10:00:00.000Z',
    },
  ],
  needs_attention: [
    {check: 'connection', status: 'fail', message: 'refused', command: 'gbrain repair --reconnect'},
    {check: 'cycle_freshness', status: 'fail', message: 'stale', command: null},
  ],
  ...over,
})

describe('healLines', () => {
  it('says per action fixed or still warning with its checks before → after, the skips, and what needs attention', () => {
    expect(healLines(section())).toEqual([
      'Auto-heal:',
      '  ! still warning  replay       replayed 2 of 2 entries (7 rows, 7 new) (dead_letter warn → ok, batch_retry_health warn → warn)',
      '  ✓ fixed          prune-audit  deleted 1 file (audit_log warn → ok)',
      '  - skipped        unlock       healed at 2026-01-07T10:00:00.000Z, within the minimum interval',
      'Needs attention (failures are never healed automatically):',
      '  ✗ connection: gbrain repair --reconnect',
      '  ✗ cycle_freshness: gbrain doctor -v',
    ])
  })

  it('a dry run says what would be healed; nothing to heal says so', () => {
    const dry = section({
      dry_run: true,
      actions: [{name: 'replay', status: 'would_apply', detail: 'would replay 2 entries', concerns: ['dead_letter']}],
      skipped: [],
      needs_attention: [],
    })
    expect(healLines(dry)).toEqual(['Auto-heal (dry run, nothing changed):', '  → would heal     replay       would replay 2 entries'])
    expect(healLines(section({actions: [], checks: [], skipped: [], needs_attention: []}))).toEqual([
      'Auto-heal:',
      '  nothing to heal: no warning a repair action fixes',
    ])
  })

  it('hostile detail text (newlines, escapes) stays on its line', () => {
    const lines = healLines(section({actions: [{name: 'replay', status: 'failed', detail: 'x\n\u001b[2Jy; $(rm -rf /)', concerns: []}]}))
    expect(lines[1]).toMatch(/^ {2}✗ failed {9}replay {7}x.*y; \$\(rm -rf \/\)$/)
    expect(lines.join('\n')).not.toContain('\u001b')
    expect(lines).toHaveLength(6)
  })
})

describe('heal in the JSON report', () => {
  it('is present only when healing ran, validates against the schema, and is redacted', () => {
    expect(JSON.parse(renderJson(warningsReport()))).not.toHaveProperty('heal')
    const report = {
      ...warningsReport(),
      heal: section({
        needs_attention: [{check: 'connection', status: 'fail', message: 'postgres://u:hunter2@h/db refused', command: null}],
      }) as unknown as Record<string, unknown>,
    }
    const json = JSON.parse(renderJson(report)) as {heal: HealSection}
    expect(validateSchema(schema, json)).toEqual([])
    expect(json.heal.actions[0]).toMatchObject({name: 'replay', status: 'applied', concerns: ['dead_letter', 'batch_retry_health']})
    expect(JSON.stringify(json)).not.toContain('hunter2')
  })
})
