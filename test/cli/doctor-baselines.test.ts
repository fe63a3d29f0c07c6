/**
 * Acknowledgements through the built binary, on a brain with a standing warning made the way
 * gbrain's engine leaves one (exhausted batch-retry rows in the audit trail): --acknowledge turns
 * it ok (exit 0 also under --fail-on warn), new findings beyond the baseline warn again, an
 * acknowledgement gbrain wrote (its shape: no status, no expiry) expires after 30 days, a failure
 * is acknowledged only for at most 7 days, and a damaged file is a warning, never a crash, and is
 * never overwritten. File-only checks (--fast) keep it quick.
 */
import {chmodSync, mkdirSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {gbrain} from '../helpers/cli.js'
import {brainPaths, check, LOCALE_ENV, parseReport, plantExhausted, removeHomes, tempDir} from '../helpers/doctor-kit.js'

afterAll(removeHomes)

const RUN = ['doctor', '--fast', '--only', 'batch_retry_health,dead_letter']
const CHECK = 'batch_retry_health'

async function warningBrain(exhausted = 3): Promise<{env: Record<string, string>; paths: ReturnType<typeof brainPaths>; file: string}> {
  const home = tempDir('gbrain-baselines-')
  const paths = brainPaths(home)
  mkdirSync(paths.gbrain, {mode: 0o700})
  // One site at the per-site threshold (3): a warning, not a failure.
  await plantExhausted(paths.audit, exhausted, {site: 'cycle.links'})
  return {env: {...LOCALE_ENV, GBRAIN_HOME: home}, paths, file: path.join(paths.gbrain, 'doctor-baselines.json')}
}

describe('doctor --acknowledge', () => {
  it('turns a standing warning ok (also under --fail-on warn) until new findings go beyond the baseline', async () => {
    const b = await warningBrain()
    const before = await gbrain([...RUN, '--fail-on', 'warn', '--json'], b.env)
    expect(before.code).toBe(1)
    expect(check(parseReport(before), CHECK).status).toBe('warn')

    const ack = await gbrain(['doctor', '--acknowledge', CHECK, '--reason', 'NAS blip; $(reboot) `known` "ok"'], b.env)
    expect(ack.code).toBe(0)
    expect(ack.stdout).toMatch(
      /^Acknowledged batch_retry_health \(3 exhausted batches known\) until \d{4}-\d{2}-\d{2}: NAS blip; \$\(reboot\)/,
    )
    expect(statSync(b.file).mode & 0o777).toBe(0o600)
    const saved = JSON.parse(readFileSync(b.file, 'utf8')) as Record<string, Record<string, unknown>>
    expect(saved[CHECK]).toMatchObject({count: 3, status: 'warn', reason: 'NAS blip; $(reboot) `known` "ok"'})
    const days = (Date.parse(saved[CHECK]!.expires_at as string) - Date.parse(saved[CHECK]!.acknowledged_at as string)) / 86_400_000
    expect(days).toBe(30)

    const gate = await gbrain([...RUN, '--fail-on', 'warn', '--json'], b.env)
    expect(gate.code).toBe(0)
    const acked = check(parseReport(gate), CHECK)
    expect(acked).toMatchObject({status: 'ok', acknowledged: {state: 'active', was: 'warn', count: 3, observed: 3}})
    expect(acked.message).toMatch(/^3 exhausted batches known, acknowledged \d{4}-\d{2}-\d{2}: NAS blip/)
    const table = await gbrain([...RUN, '--fail-on', 'warn'], b.env)
    expect(table.code).toBe(0)
    expect(table.stdout).toMatch(/✓ ack +│ batch_retry_health/)
    expect(table.stdout).toMatch(/^healthy: 2 ok \(1 acknowledged\)/m)

    await plantExhausted(b.paths.audit, 2, {site: 'cycle.links'})
    const beyond = await gbrain([...RUN, '--fail-on', 'warn', '--json'], b.env)
    expect(beyond.code).toBe(1)
    const again = check(parseReport(beyond), CHECK)
    expect(again).toMatchObject({status: 'warn', acknowledged: {state: 'exceeded', count: 3, observed: 5}})
    expect(again.message).toMatch(/^2 new beyond the baseline of 3 \(acknowledged \d{4}-\d{2}-\d{2}\)\. /)

    const list = await gbrain(['doctor', '--baselines', '--json'], b.env)
    expect(list.code).toBe(0)
    expect(JSON.parse(list.stdout)).toMatchObject({acknowledgements: [{check: CHECK, count: 3, expired: false, known: true}], problems: []})
    const un = await gbrain(['doctor', '--unacknowledge', CHECK], b.env)
    expect(un.stdout.trim()).toBe('Removed the acknowledgement of batch_retry_health.')
    expect(JSON.parse(readFileSync(b.file, 'utf8'))).toEqual({})
    expect((await gbrain(['doctor', '--unacknowledge', CHECK], b.env)).stdout).toMatch(/was not acknowledged: nothing to remove/)
  }, 120_000)

  it('reads gbrain’s own entries (count, acknowledged_at, reason): 30 days later they expire and re-alert', async () => {
    const b = await warningBrain()
    const daysAgo = (d: number): string => new Date(Date.now() - d * 86_400_000).toISOString()
    writeFileSync(b.file, JSON.stringify({[CHECK]: {count: 3, acknowledged_at: daysAgo(29), reason: '18 advisories'}}), {mode: 0o600})
    expect(check(parseReport(await gbrain([...RUN, '--json'], b.env)), CHECK).status).toBe('ok')

    writeFileSync(b.file, JSON.stringify({[CHECK]: {count: 3, acknowledged_at: daysAgo(31), reason: '18 advisories'}}), {mode: 0o600})
    const r = await gbrain([...RUN, '--fail-on', 'warn', '--json'], b.env)
    expect(r.code).toBe(1)
    const c = check(parseReport(r), CHECK)
    expect(c).toMatchObject({status: 'warn', acknowledged: {state: 'expired'}})
    expect(c.message).toMatch(/^The acknowledgement of \d{4}-\d{2}-\d{2} expired \d{4}-\d{2}-\d{2}\. /)
    expect((await gbrain(['doctor', '--baselines'], b.env)).stdout).toMatch(
      /batch_retry_health {2}warn, 3 exhausted batches known, .*EXPIRED/,
    )
  }, 60_000)

  it('a failure only with --for of at most 7 days, and it shows as ack-fail', async () => {
    const b = await warningBrain(20)
    expect(check(parseReport(await gbrain([...RUN, '--json'], b.env)), CHECK).status).toBe('fail')
    const bare = await gbrain(['doctor', '--acknowledge', CHECK], b.env)
    expect(bare.code).toBe(64)
    expect(bare.stderr).toMatch(/a failure is acknowledged only for an explicit time of at most 7d/)
    expect((await gbrain(['doctor', '--acknowledge', CHECK, '--for', '8d'], b.env)).code).toBe(64)
    const ok = await gbrain(['doctor', '--acknowledge', CHECK, '--for', '2d'], b.env)
    expect(ok.code).toBe(0)
    const r = await gbrain(RUN, b.env)
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/✓ ack-fail │ batch_retry_health/)
  }, 60_000)

  it('refuses what it cannot acknowledge, in one line each', async () => {
    const b = await warningBrain()
    const cases: [string[], RegExp][] = [
      [['--acknowledge', 'dead_letter'], /dead_letter is ok: nothing to acknowledge/],
      [['--acknowledge', 'no_such_check'], /unknown check "no_such_check" in --acknowledge/],
      [['--reason', 'why'], /--reason needs --acknowledge/],
      [['--acknowledge', CHECK, '--trend'], /--trend and --acknowledge cannot be used together/],
      [['--acknowledge', CHECK, '--reason', 'two\nlines'], /--reason contains a line break/],
      [['--acknowledge', CHECK, '--for', 'soon'], /--for "soon" is not a duration/],
    ]
    for (const [args, message] of cases) {
      const r = await gbrain(['doctor', ...args], b.env)
      expect(r.code, args.join(' ')).toBe(64)
      expect(r.stderr, args.join(' ')).toMatch(message)
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1)
    }
  }, 60_000)

  it('a damaged, or world-writable, file is a warning, never a crash, and is never overwritten', async () => {
    const b = await warningBrain()
    writeFileSync(b.file, '{"batch_retry_health": {"count": 3, ', {mode: 0o600})
    const r = await gbrain([...RUN, '--json'], b.env)
    expect(r.code).toBe(0)
    const report = parseReport(r)
    expect(check(report, 'doctor_baselines')).toMatchObject({status: 'warn', message: expect.stringMatching(/not JSON/)})
    expect(check(report, CHECK).status).toBe('warn')
    const write = await gbrain(['doctor', '--acknowledge', CHECK], b.env)
    expect(write.code).toBe(1)
    expect(write.stderr).toMatch(/is not used as it is \(not JSON.*\); it is left untouched/)
    expect(readFileSync(b.file, 'utf8')).toBe('{"batch_retry_health": {"count": 3, ')

    writeFileSync(b.file, JSON.stringify({[CHECK]: {count: 3, acknowledged_at: new Date().toISOString()}}))
    chmodSync(b.file, 0o666)
    const open = parseReport(await gbrain([...RUN, '--json'], b.env))
    expect(check(open, 'doctor_baselines').message).toMatch(/other users may write it/)
    expect(check(open, CHECK).status).toBe('warn')
  }, 60_000)
})
