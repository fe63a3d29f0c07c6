import {describe, expect, it} from 'vitest'
import {validateThresholds} from '../../../src/checks/thresholds.js'
import type {SourceRow} from '../../../src/brain/sources.js'
import {judgeConnection} from '../../../src/checks/connection.js'
import {judgeSlots} from '../../../src/checks/connection-slots.js'
import {judgeCycleFreshness} from '../../../src/checks/cycle-freshness.js'
import type {ConnectionFacts} from '../../../src/checks/facts/database.js'
import {detectPooler} from '../../../src/checks/facts/database.js'
import {judgeIdleTransactions} from '../../../src/checks/idle-transactions.js'
import {judgeSyncFreshness} from '../../../src/checks/sync-freshness.js'

const NOW = Date.parse('2026-11-28T12:00:00Z')
const T = validateThresholds({})
const ago = (h: number): string => new Date(NOW - h * 3_600_000).toISOString()

function src(id: string, config: unknown, extra: Partial<SourceRow> = {}): SourceRow {
  return {id, name: id, local_path: `/vault/${id}`, last_sync_at: null, config, archived: false, created_at: null, ...extra}
}

describe('cycle_freshness ladder (gbrain-compatible)', () => {
  it.each([
    [2, 'ok', 'fresh'],
    [10, 'warn', 'stale'],
    [48, 'fail', 'stale'],
    [6, 'ok', 'fresh'], // strict greater-than
    [24, 'warn', 'stale'],
  ])('cycled %d h ago → %s', (hours, status, state) => {
    const r = judgeCycleFreshness([src('a', {last_full_cycle_at: ago(hours)})], NOW, T)
    expect(r.status).toBe(status)
    expect((r.details!.sources as {state: string}[])[0]!.state).toBe(state)
  })

  it('never cycled, future and unparseable timestamps each warn with their own wording', () => {
    const never = judgeCycleFreshness([src('n', {})], NOW, T)
    expect(never.status).toBe('warn')
    expect(never.message).toContain('n never cycled')
    const future = judgeCycleFreshness([src('f', {last_full_cycle_at: new Date(NOW + 3 * 3_600_000).toISOString()})], NOW, T)
    expect(future.status).toBe('warn')
    expect(future.message).toContain('in the future')
    for (const bad of [12345, 'garbage', {nested: true}]) {
      const r = judgeCycleFreshness([src('u', {last_full_cycle_at: bad})], NOW, T)
      expect(r.status).toBe('warn')
      expect((r.details!.sources as {state: string}[])[0]!.state).toBe('unparseable')
    }
  })

  it('reads double-encoded config JSON, and treats a non-object config as unparseable', () => {
    expect(judgeCycleFreshness([src('d', JSON.stringify({last_full_cycle_at: ago(1)}))], NOW, T).status).toBe('ok')
    const r = judgeCycleFreshness([src('x', [1, 2])], NOW, T)
    expect((r.details!.sources as {state: string}[])[0]!.state).toBe('unparseable')
  })

  it('no sources → ok; archived and path-less sources are ignored; the worst source decides and every bad one is named', () => {
    expect(judgeCycleFreshness([], NOW, T)).toMatchObject({status: 'ok', message: 'no sources to cycle'})
    expect(judgeCycleFreshness([src('a', {}, {archived: true}), src('b', {}, {local_path: null})], NOW, T).status).toBe('ok')
    const r = judgeCycleFreshness(
      [src('ok1', {last_full_cycle_at: ago(1)}), src('w', {last_full_cycle_at: ago(10)}), src('f', {last_full_cycle_at: ago(30)})],
      NOW,
      T,
    )
    expect(r.status).toBe('fail')
    expect(r.message).toMatch(/w 10\.0 h ago.*f 30\.0 h ago/)
    expect(r.fix!.commands).toEqual(['gbrain cycle --source w', 'gbrain cycle --source f'])
    expect(r.observed_value).toBe(30)
    expect(r.threshold).toEqual({warn: 6, fail: 24})
  })

  it('--source limits the check to one source, and env thresholds change the verdict', () => {
    const two = [src('a', {last_full_cycle_at: ago(30)}), src('b', {last_full_cycle_at: ago(1)})]
    expect(judgeCycleFreshness(two, NOW, T, 'b').status).toBe('ok')
    expect(judgeCycleFreshness(two, NOW, {...T, cycleFreshness: {...T.cycleFreshness, failHours: 48}}, undefined).status).toBe('warn')
  })
})

describe('sync_freshness ladder', () => {
  it.each([
    [10, 'ok'],
    [30, 'warn'],
    [80, 'fail'],
  ])('synced %d h ago → %s', (h, status) => {
    expect(judgeSyncFreshness([src('a', {}, {last_sync_at: ago(h)})], NOW, T).status).toBe(status)
  })
  it('never synced → fail; future → warn', () => {
    expect(judgeSyncFreshness([src('a', {})], NOW, T).status).toBe('fail')
    expect(judgeSyncFreshness([src('a', {}, {last_sync_at: new Date(NOW + 7_200_000).toISOString()})], NOW, T).status).toBe('warn')
  })
})

describe('connection_slots and idle_transactions', () => {
  it.each([
    [50, 'ok'],
    [78, 'warn'],
    [93, 'fail'],
  ])('%d of 97 usable slots → %s', (used, status) => {
    expect(judgeSlots({available: true, used, max_connections: 100, superuser_reserved: 3}, T).status).toBe(status)
  })
  it('skipped with the reason where it cannot be read', () => {
    expect(judgeSlots({available: false, reason: 'behind a pooler'}, T)).toMatchObject({
      status: 'skipped',
      message: 'skipped: behind a pooler',
    })
  })
  it('idle transactions warn with pid, application and age, and the SQL to end them', () => {
    const r = judgeIdleTransactions(
      {available: true, sessions: [{pid: 42, application_name: 'app', age_s: 600, state: 'idle in transaction'}]},
      T,
    )
    expect(r.status).toBe('warn')
    expect(r.message).toContain('pid 42 (app, 10 min)')
    expect(r.fix!.commands).toEqual(['psql -c "select pg_terminate_backend(42)"'])
    expect(judgeIdleTransactions({available: true, sessions: []}, T).status).toBe('ok')
  })
})

describe('connection', () => {
  const base: ConnectionFacts = {
    status: 'ok',
    engine: 'postgres',
    database: 'postgres://***@127.0.0.1:5432/db',
    database_source: 'flag',
    connect_ms: 4.2,
    rtt_ms: 0.3,
    server_version: '15.18 (Debian)',
    pooler: 'none',
    pooler_reason: '',
    prepare: {value: true, reason: 'default'},
    pool_size: 2,
  }
  it('ok names the server, connect time and round trip', () => {
    expect(judgeConnection(base).message).toBe('Connected to Postgres 15.18 in 4 ms (round trip 0.3 ms)')
  })
  it('a failure carries the classified cause and a fix for that cause', () => {
    const r = judgeConnection({
      ...base,
      status: 'failed',
      error: {kind: 'refused', code: 'ECONNREFUSED', hint: 'h', message: 'connect ECONNREFUSED', retryable: true},
    })
    expect(r.status).toBe('fail')
    expect(r.message).toContain('refused')
    expect(r.details!.cause).toBe('refused')
    expect(r.fix!.commands).toContain('gbrain repair --reconnect')
  })
  it('no embedded brain → skipped with gbrain init', () => {
    expect(judgeConnection({...base, engine: 'pglite', status: 'not_configured'})).toMatchObject({
      status: 'skipped',
      fix: {commands: ['gbrain init']},
    })
  })
  it('prepared statements on behind a pooler → warn (fail on the transaction port)', () => {
    expect(judgeConnection({...base, pooler: 'unknown', pooler_reason: 'dialled 6432'}).status).toBe('warn')
    expect(judgeConnection({...base, pooler: 'pgbouncer-transaction'}).status).toBe('fail')
    expect(judgeConnection({...base, pooler: 'unknown', prepare: {value: false, reason: 'url'}}).status).toBe('ok')
  })
  it('detects a pooler by the server port', () => {
    expect(detectPooler(5432, 5432).pooler).toBe('none')
    expect(detectPooler(6432, 5432).pooler).toBe('unknown')
    expect(detectPooler(6543, 5432).pooler).toBe('pgbouncer-transaction')
  })
})
