/**
 * `connection_slots` (pool): client sessions against max_connections − superuser_reserved;
 * warn ≥ 80 %, fail ≥ 95 %. Skipped where it cannot be read honestly.
 */
import {defineCheck} from './check.js'
import type {SlotFacts} from './facts/database.js'
import type {Thresholds} from './thresholds.js'
import type {CheckOutcome} from './types.js'
import {ladder} from './listing.js'

export function judgeSlots(s: SlotFacts, thresholds: Thresholds): CheckOutcome {
  const t = thresholds.connectionSlots
  const threshold = {warn: t.warnPct, fail: t.failPct}
  if (!s.available) return {status: 'skipped', message: `skipped: ${s.reason}`, threshold}
  const usable = Math.max(1, (s.max_connections ?? 0) - (s.superuser_reserved ?? 0))
  const pct = Math.round(((s.used ?? 0) / usable) * 1000) / 10
  const status = pct >= t.failPct ? 'fail' : pct >= t.warnPct ? 'warn' : 'ok'
  return {
    status,
    message: `${s.used} of ${usable} connection slots in use (${pct}%)`,
    details: {used: s.used, usable, max_connections: s.max_connections, superuser_reserved: s.superuser_reserved},
    observed_value: pct,
    observed_unit: '%',
    threshold,
    ...(status !== 'ok'
      ? {
          fix: {
            text: 'close idle clients, put a pooler in front, or raise max_connections; lower GBRAIN_POOL_SIZE',
            commands: [
              'export GBRAIN_POOL_SIZE=5',
              'psql -c "select application_name, count(*) from pg_stat_activity group by 1 order by 2 desc"',
            ],
          },
        }
      : {}),
  }
}

export const connectionSlotsCheck = defineCheck({
  name: 'connection_slots',
  category: 'pool',
  gatedOnConnection: true,
  downstreamOf: ['connection'],
  needs: ['slots'],
  judge: (f, ctx) => judgeSlots(f.slots, ctx.thresholds),
  explain: {
    looksAt:
      'Client sessions against max_connections minus the slots reserved for superusers. Skipped behind a pooler (its numbers would be the pooler’s).',
    thresholds: () =>
      ladder('GBRAIN_CONN_SLOTS_WARN_PCT', 'GBRAIN_CONN_SLOTS_FAIL_PCT', {
        comparison: '≥',
        unit: '%',
        measure: 'of connection slots in use',
      }),
  },
})
