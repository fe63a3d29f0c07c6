import {mkdirSync, mkdtempSync, writeFileSync, chmodSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {describe, expect, it} from 'vitest'
import {resolveTarget} from '../../../src/config/resolve.js'
import {ConfigError} from '../../../src/shared/errors.js'

const PW = 'Pl4nted-S3cret!x'

function home(config?: unknown): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gbrain-cfg-'))
  if (config !== undefined) {
    mkdirSync(path.join(dir, '.gbrain'), {recursive: true})
    writeFileSync(path.join(dir, '.gbrain', 'config.json'), typeof config === 'string' ? config : JSON.stringify(config))
  }
  return dir
}

describe('resolveTarget: first hit wins', () => {
  const url = (db: string): string => `postgres://u:${encodeURIComponent(PW)}@127.0.0.1:5432/${db}`

  it('the flag beats every env var and the config file', () => {
    const h = home({engine: 'postgres', database_url: url('cfg')})
    const t = resolveTarget({databaseUrl: url('flag'), env: {GBRAIN_HOME: h, GBRAIN_DATABASE_URL: url('g'), DATABASE_URL: url('d')}})
    expect(t.engine).toBe('postgres')
    expect(t.source).toBe('flag')
    expect(t.engine === 'postgres' && t.url.database).toBe('flag')
  })

  it('GBRAIN_DATABASE_URL beats DATABASE_URL, which beats the config file', () => {
    const h = home({engine: 'postgres', database_url: url('cfg')})
    expect(resolveTarget({env: {GBRAIN_HOME: h, GBRAIN_DATABASE_URL: url('g'), DATABASE_URL: url('d')}}).source).toBe(
      'env:GBRAIN_DATABASE_URL',
    )
    expect(resolveTarget({env: {GBRAIN_HOME: h, DATABASE_URL: url('d')}}).source).toBe('env:DATABASE_URL')
    expect(resolveTarget({env: {GBRAIN_HOME: h, GBRAIN_DATABASE_URL: '  ', DATABASE_URL: url('d')}}).source).toBe('env:DATABASE_URL')
    const t = resolveTarget({env: {GBRAIN_HOME: h}})
    expect(t.source).toBe('config-file')
    expect(t.engine === 'postgres' && t.url.database).toBe('cfg')
  })

  it('the config file can name a PGlite data dir, relative to <home>', () => {
    const h = home({engine: 'pglite', database_path: 'mybrain'})
    const t = resolveTarget({env: {GBRAIN_HOME: h}})
    expect(t.engine).toBe('pglite')
    expect(t.engine === 'pglite' && t.dataDir).toBe(path.join(h, '.gbrain', 'mybrain'))
  })

  it('with nothing configured, the embedded default is <home>/brain.pglite', () => {
    const h = home()
    const t = resolveTarget({env: {GBRAIN_HOME: h}})
    expect(t).toMatchObject({engine: 'pglite', source: 'default', dataDir: path.join(h, '.gbrain', 'brain.pglite')})
    expect(t.paths.auditDir).toBe(path.join(h, '.gbrain', 'audit'))
  })

  it('GBRAIN_AUDIT_DIR and --audit-dir move the audit directory', () => {
    const h = home()
    expect(resolveTarget({env: {GBRAIN_HOME: h, GBRAIN_AUDIT_DIR: '/var/tmp/a'}}).paths.auditDir).toBe('/var/tmp/a')
    expect(resolveTarget({env: {GBRAIN_HOME: h, GBRAIN_AUDIT_DIR: '   '}}).paths.auditDir).toBe(path.join(h, '.gbrain', 'audit'))
    expect(resolveTarget({auditDir: '/var/tmp/b', env: {GBRAIN_HOME: h, GBRAIN_AUDIT_DIR: '/var/tmp/a'}}).paths.auditDir).toBe('/var/tmp/b')
  })

  it('never shows the password in what it displays', () => {
    const t = resolveTarget({databaseUrl: url('x'), env: {}})
    expect(t.display).not.toContain(PW)
    expect(t.display).not.toContain(encodeURIComponent(PW))
    expect(t.display).toContain('***@')
  })
})

describe('resolveTarget: bad input is a ConfigError with a fix', () => {
  const cases: [string, () => unknown][] = [
    ['relative GBRAIN_HOME', () => resolveTarget({env: {GBRAIN_HOME: 'rel/dir'}})],
    ['.. in GBRAIN_HOME', () => resolveTarget({env: {GBRAIN_HOME: '/tmp/../etc'}})],
    ['malformed URL', () => resolveTarget({databaseUrl: 'postgres://', env: {}})],
    ['unsupported scheme', () => resolveTarget({databaseUrl: 'mysql://u@h/db', env: {}})],
    ['missing host', () => resolveTarget({env: {DATABASE_URL: 'postgres:///db'}})],
    ['empty flag', () => resolveTarget({databaseUrl: '', env: {}})],
    ['invalid JSON config', () => resolveTarget({env: {GBRAIN_HOME: home('{not json')}})],
    ['config not an object', () => resolveTarget({env: {GBRAIN_HOME: home('[1,2]')}})],
    ['unknown engine in config', () => resolveTarget({env: {GBRAIN_HOME: home({engine: 'mysql'})}})],
    ['postgres engine without URL', () => resolveTarget({env: {GBRAIN_HOME: home({engine: 'postgres'})}})],
    ['bad GBRAIN_PREPARE', () => resolveTarget({databaseUrl: 'postgres://u@h/db', env: {GBRAIN_PREPARE: 'maybe'}})],
  ]
  it.each(cases)('%s', (_name, fn) => {
    let err: unknown
    try {
      fn()
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(ConfigError)
    expect((err as ConfigError).fix.length).toBeGreaterThan(5)
    expect((err as ConfigError).message).not.toContain(PW)
  })

  it('an unreadable config file is a ConfigError (a directory in its place)', () => {
    const h = home()
    mkdirSync(path.join(h, '.gbrain', 'config.json'), {recursive: true})
    expect(() => resolveTarget({env: {GBRAIN_HOME: h}})).toThrow(ConfigError)
    chmodSync(path.join(h, '.gbrain'), 0o700)
  })

  it('a password with @ : % percent-encoded is accepted and never displayed', () => {
    const pw = 'p@ss:w%rd/x'
    const t = resolveTarget({databaseUrl: `postgres://u:${encodeURIComponent(pw)}@127.0.0.1/db`, env: {}})
    expect(t.display).not.toContain(encodeURIComponent(pw))
    expect(t.engine === 'postgres' && t.url.prepare.value).toBe(true)
  })

  it('prepare is off for ?prepare=false (stripped from the client URL) and on port 6543', () => {
    const a = resolveTarget({databaseUrl: 'postgres://u@127.0.0.1:5432/db?prepare=false', env: {}})
    expect(a.engine === 'postgres' && a.url.prepare).toEqual({value: false, reason: 'url:prepare=false'})
    expect(a.engine === 'postgres' && a.url.clientUrl).not.toContain('prepare')
    const b = resolveTarget({databaseUrl: 'postgres://u@127.0.0.1:6543/db', env: {}})
    expect(b.engine === 'postgres' && b.url.prepare.value).toBe(false)
  })
})
