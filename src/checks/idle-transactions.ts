/**
 * `idle_transactions` (pool): sessions idle in a transaction longer than 5 min hold locks and
 * slots → warn, listing pid, application_name and age (never query text).
 */
import {defineCheck} from './check.js'
import type {IdleTxFacts} from './facts/database.js'
import type {Thresholds} from './thresholds.js'
import type {CheckOutcome} from './types.js'
import {plural} from './wording.js'
import {byEnv} from './listing.js'

export function judgeIdleTransactions(f: IdleTxFacts, thresholds: Thresholds): CheckOutcome {
  const t = thresholds.idleTransactions
  const threshold = {warn: t.warnMinutes}
  if (!f.available) return {status: 'skipped', message: `skipped: ${f.reason}`, threshold}
  const sessions = f.sessions ?? []
  if (sessions.length === 0) {
    return {
      status: 'ok',
      message: `no session idle in a transaction for more than ${t.warnMinutes} min`,
      details: {sessions: []},
      observed_value: 0,
      observed_unit: 'count',
      threshold,
    }
  }
  const list = sessions
    .slice(0, 5)
    .map((s) => `pid ${s.pid} (${s.application_name || 'no application_name'}, ${Math.round(s.age_s / 60)} min)`)
    .join(', ')
  return {
    status: 'warn',
    message: `${plural(sessions.length, 'session')} idle in a transaction over ${t.warnMinutes} min: ${list}${sessions.length > 5 ? ', …' : ''}`,
    details: {sessions},
    observed_value: sessions.length,
    observed_unit: 'count',
    threshold,
    fix: {
      text: 'end those transactions in their applications, or terminate the sessions',
      commands: sessions.slice(0, 5).map((s) => `psql -c "select pg_terminate_backend(${s.pid})"`),
    },
  }
}

export const idleTransactionsCheck = defineCheck({
  name: 'idle_transactions',
  category: 'pool',
  gatedOnConnection: true,
  downstreamOf: ['connection'],
  needs: ['idleTransactions'],
  judge: (f, ctx) => judgeIdleTransactions(f.idleTransactions, ctx.thresholds),
  counts: {noun: ['idle transaction', 'idle transactions']},
  explain: {
    looksAt: 'Sessions idle inside a transaction (they hold locks and slots), with pid, application name and age; never their query text.',
    thresholds: () => [
      byEnv('GBRAIN_IDLE_TX_WARN_MINUTES', {level: 'warn', comparison: '>', unit: 'min', measure: 'idle in a transaction'}),
    ],
  },
})
