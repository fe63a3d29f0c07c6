import * as net from 'node:net'
import {describe, expect, it} from 'vitest'
import fc from 'fast-check'
import postgres from 'postgres'
import {KIND_HINTS, classify, type Classified, type ErrorKind} from '../../../src/engine/classify.js'
import {AttemptTimeoutError, NoConnectionError} from '../../../src/engine/errors.js'
import {AbortedError, ConfigError} from '../../../src/shared/errors.js'

const PW = 'S3cr3t-PW!x'

/** A postgres.js server error (PostgresError: code = SQLSTATE, severity, message). */
function pgError(code: string, message = `server error ${code}`, severity = 'ERROR'): Error {
  return new postgres.PostgresError({code, message, severity} as never)
}

/** A postgres.js connection error, shaped as in postgres/src/errors.js. */
function pgConnError(code: string): Error {
  return Object.assign(new Error(`write ${code} 127.0.0.1:5432`), {code, errno: code, address: '127.0.0.1', port: 5432})
}

/** A Node system error. */
function sysError(code: string, syscall = 'connect', address = '127.0.0.1:5432'): Error {
  return Object.assign(new Error(`${syscall} ${code} ${address}`), {code, errno: -1, syscall})
}

type Expect = Partial<Pick<Classified, 'kind' | 'retryable' | 'inDoubt' | 'connectionLevel' | 'code'>>

const CORPUS: Array<[string, unknown, Expect]> = [
  // Node socket errors
  [
    'ECONNREFUSED',
    sysError('ECONNREFUSED'),
    {kind: 'refused', retryable: true, inDoubt: false, connectionLevel: true, code: 'ECONNREFUSED'},
  ],
  ['ECONNRESET', sysError('ECONNRESET', 'read'), {kind: 'reset', retryable: true, inDoubt: true, connectionLevel: true}],
  ['EPIPE', sysError('EPIPE', 'write'), {kind: 'reset', retryable: true, inDoubt: true, connectionLevel: true}],
  ['ETIMEDOUT on connect', sysError('ETIMEDOUT'), {kind: 'timeout', retryable: true, inDoubt: false}],
  ['ETIMEDOUT on read', sysError('ETIMEDOUT', 'read'), {kind: 'timeout', retryable: true, inDoubt: true}],
  ['EHOSTUNREACH', sysError('EHOSTUNREACH'), {kind: 'network', retryable: true, connectionLevel: true}],
  ['ENETUNREACH', sysError('ENETUNREACH'), {kind: 'network', retryable: true, connectionLevel: true}],
  ['EAI_AGAIN', sysError('EAI_AGAIN', 'getaddrinfo', 'db.example'), {kind: 'dns', retryable: true}],
  ['ENOTFOUND', sysError('ENOTFOUND', 'getaddrinfo', 'db.example'), {kind: 'dns', retryable: false, code: 'ENOTFOUND'}],
  // ...when only the message carries the code
  [
    'message connect ECONNREFUSED',
    new Error('connect ECONNREFUSED 127.0.0.1:5432'),
    {kind: 'refused', retryable: true, code: 'ECONNREFUSED'},
  ],
  ['message getaddrinfo ENOTFOUND', new Error('getaddrinfo ENOTFOUND db.example'), {kind: 'dns', retryable: false, code: 'ENOTFOUND'}],
  ['message read ECONNRESET', new Error('read ECONNRESET'), {kind: 'reset', inDoubt: true}],
  ['string connect ECONNREFUSED', 'connect ECONNREFUSED 10.0.0.1:6543', {kind: 'refused', retryable: true}],
  // postgres.js connection codes
  [
    'CONNECTION_CLOSED',
    pgConnError('CONNECTION_CLOSED'),
    {kind: 'connection_closed', retryable: true, inDoubt: true, connectionLevel: true},
  ],
  [
    'CONNECTION_DESTROYED',
    pgConnError('CONNECTION_DESTROYED'),
    {kind: 'connection_closed', retryable: true, inDoubt: true, code: 'CONNECTION_DESTROYED'},
  ],
  ['CONNECTION_ENDED', pgConnError('CONNECTION_ENDED'), {kind: 'connection_ended', retryable: true, inDoubt: false, connectionLevel: true}],
  ['CONNECT_TIMEOUT', pgConnError('CONNECT_TIMEOUT'), {kind: 'timeout', retryable: true, inDoubt: false, connectionLevel: true}],
  // SQLSTATE class 08 (incl. PgBouncer 08P01 texts)
  ['08000', pgError('08000'), {kind: 'network', retryable: true, connectionLevel: true}],
  ['08001', pgError('08001'), {kind: 'network', retryable: true, inDoubt: false}],
  ['08003', pgError('08003'), {kind: 'connection_closed', retryable: true, inDoubt: false}],
  ['08006', pgError('08006'), {kind: 'connection_closed', retryable: true, inDoubt: true}],
  ['08P01 protocol', pgError('08P01', 'protocol violation'), {kind: 'protocol', retryable: true, connectionLevel: true}],
  [
    '08P01 login failing',
    pgError('08P01', 'server login has been failing, try again later (server_login_retry)', 'FATAL'),
    {kind: 'pooler', retryable: true, code: '08P01'},
  ],
  ['08P01 database removed', pgError('08P01', 'database removed', 'FATAL'), {kind: 'pooler', retryable: true}],
  ['08P01 max_client_conn', pgError('08P01', 'no more connections allowed (max_client_conn)', 'FATAL'), {kind: 'pooler', retryable: true}],
  ['08XXX unknown subclass', pgError('08ZZZ'), {kind: 'network', retryable: true}],
  // shutdown / startup / timeouts
  [
    '57P01',
    pgError('57P01', 'terminating connection due to administrator command', 'FATAL'),
    {kind: 'shutdown', retryable: true, connectionLevel: true},
  ],
  [
    '57P02',
    pgError('57P02', 'terminating connection because of crash of another server process', 'FATAL'),
    {kind: 'shutdown', retryable: true},
  ],
  [
    '57P03 starting up',
    pgError('57P03', 'the database system is starting up', 'FATAL'),
    {kind: 'starting_up', retryable: true, inDoubt: false},
  ],
  ['57P03 shutting down', pgError('57P03', 'the database system is shutting down', 'FATAL'), {kind: 'shutdown', retryable: true}],
  [
    '57P05',
    pgError('57P05', 'terminating connection due to idle-session timeout', 'FATAL'),
    {kind: 'connection_closed', retryable: true, inDoubt: false},
  ],
  [
    '25P03',
    pgError('25P03', 'terminating connection due to idle-in-transaction timeout', 'FATAL'),
    {kind: 'connection_closed', retryable: true},
  ],
  [
    '53300',
    pgError('53300', 'sorry, too many clients already', 'FATAL'),
    {kind: 'too_many_connections', retryable: true, connectionLevel: true},
  ],
  // transient, not connection-level
  [
    '40001',
    pgError('40001', 'could not serialize access'),
    {kind: 'serialization', retryable: true, connectionLevel: false, inDoubt: false},
  ],
  ['40P01', pgError('40P01', 'deadlock detected'), {kind: 'serialization', retryable: true, connectionLevel: false}],
  // permanent
  ['28P01', pgError('28P01', 'password authentication failed for user "bob"', 'FATAL'), {kind: 'auth', retryable: false, inDoubt: false}],
  [
    '28000 pg_hba',
    pgError('28000', 'no pg_hba.conf entry for host "10.0.0.1", user "bob", database "brain", no encryption', 'FATAL'),
    {kind: 'auth', retryable: false},
  ],
  ['28000 role missing', pgError('28000', 'role "ghost" does not exist', 'FATAL'), {kind: 'unknown_role', retryable: false, code: '28000'}],
  ['28xxx other', pgError('28P99'), {kind: 'auth', retryable: false}],
  ['3D000', pgError('3D000', 'database "nope" does not exist', 'FATAL'), {kind: 'unknown_database', retryable: false}],
  ['57014', pgError('57014', 'canceling statement due to statement timeout'), {kind: 'statement_timeout', retryable: false}],
  ['55P03', pgError('55P03', 'canceling statement due to lock timeout'), {kind: 'lock_timeout', retryable: false}],
  ['23505', pgError('23505', 'duplicate key value violates unique constraint "pages_pkey"'), {kind: 'constraint', retryable: false}],
  [
    '23503 mentioning a circuit breaker',
    pgError('23503', 'Key (name)=(circuit breaker) is not present'),
    {kind: 'constraint', retryable: false},
  ],
  ['42P01', pgError('42P01', 'relation "pages" does not exist'), {kind: 'syntax', retryable: false}],
  ['42601', pgError('42601', 'syntax error at or near "SELEC"'), {kind: 'syntax', retryable: false}],
  ['22P02', pgError('22P02', 'invalid input syntax for type uuid'), {kind: 'data', retryable: false}],
  ['XX000 plain', pgError('XX000', 'internal error'), {kind: 'unknown', retryable: false, code: 'XX000'}],
  ['XX000 ECIRCUITBREAKER', pgError('XX000', '(ECIRCUITBREAKER) too many authentication errors'), {kind: 'pooler', retryable: true}],
  // TLS
  [
    'DEPTH_ZERO_SELF_SIGNED_CERT',
    Object.assign(new Error('self-signed certificate'), {code: 'DEPTH_ZERO_SELF_SIGNED_CERT'}),
    {kind: 'tls', retryable: false},
  ],
  [
    'SELF_SIGNED_CERT_IN_CHAIN',
    Object.assign(new Error('self-signed certificate in certificate chain'), {code: 'SELF_SIGNED_CERT_IN_CHAIN'}),
    {kind: 'tls', retryable: false},
  ],
  ['CERT_HAS_EXPIRED', Object.assign(new Error('certificate has expired'), {code: 'CERT_HAS_EXPIRED'}), {kind: 'tls', retryable: false}],
  [
    'ERR_TLS_CERT_ALTNAME_INVALID',
    Object.assign(new Error("Hostname/IP does not match certificate's altnames"), {code: 'ERR_TLS_CERT_ALTNAME_INVALID'}),
    {kind: 'tls', retryable: false},
  ],
  ['no SSL support message', new Error('The server does not support SSL connections'), {kind: 'tls', retryable: false}],
  [
    'EPROTO wrong version number',
    Object.assign(new Error('write EPROTO ... wrong version number'), {code: 'EPROTO'}),
    {kind: 'tls', retryable: false},
  ],
  // postgres.js usage errors
  [
    'UNDEFINED_VALUE',
    Object.assign(new Error('UNDEFINED_VALUE: Undefined values are not allowed'), {code: 'UNDEFINED_VALUE'}),
    {kind: 'usage', retryable: false},
  ],
  [
    'MAX_PARAMETERS_EXCEEDED',
    Object.assign(new Error('MAX_PARAMETERS_EXCEEDED: Max number of parameters (65534) exceeded'), {code: 'MAX_PARAMETERS_EXCEEDED'}),
    {kind: 'usage', retryable: false},
  ],
  [
    'SASL_SIGNATURE_MISMATCH',
    Object.assign(new Error('SASL_SIGNATURE_MISMATCH: The server did not return the correct signature'), {code: 'SASL_SIGNATURE_MISMATCH'}),
    {kind: 'auth', retryable: false},
  ],
  [
    'AUTH_TYPE_NOT_IMPLEMENTED',
    Object.assign(new Error('AUTH_TYPE_NOT_IMPLEMENTED'), {code: 'AUTH_TYPE_NOT_IMPLEMENTED'}),
    {kind: 'auth', retryable: false},
  ],
  // pooler / slot messages without a code
  [
    'EMAXCONNSESSION',
    new Error('(EMAXCONNSESSION) max clients reached in session mode'),
    {kind: 'pooler', retryable: true, connectionLevel: true},
  ],
  ['ECIRCUITBREAKER', new Error('(ECIRCUITBREAKER) too many failed attempts'), {kind: 'pooler', retryable: true}],
  ['circuit breaker text', new Error('circuit breaker open for tenant'), {kind: 'pooler', retryable: true}],
  [
    'reserved slots',
    new Error('remaining connection slots are reserved for non-replication superuser connections'),
    {kind: 'too_many_connections', retryable: true},
  ],
  ['too many clients', 'sorry, too many clients already', {kind: 'too_many_connections', retryable: true}],
  ['no more connections allowed', new Error('no more connections allowed (max_client_conn)'), {kind: 'pooler', retryable: true}],
  // our own errors
  [
    'NoConnectionError',
    new NoConnectionError(),
    {kind: 'no_connection', retryable: true, connectionLevel: true, inDoubt: false, code: 'NO_CONNECTION'},
  ],
  ['No database connection text', new Error('No database connection'), {kind: 'no_connection', retryable: true}],
  [
    'AttemptTimeoutError',
    new AttemptTimeoutError(5000),
    {kind: 'timeout', retryable: true, inDoubt: true, connectionLevel: true, code: 'ATTEMPT_TIMEOUT'},
  ],
  ['AbortedError', new AbortedError('SIGTERM'), {kind: 'aborted', retryable: false, inDoubt: false}],
  ['AbortedError with an Error reason', new AbortedError(sysError('ECONNRESET')), {kind: 'aborted', retryable: false}],
  ['DOMException AbortError', new DOMException('This operation was aborted', 'AbortError'), {kind: 'aborted', retryable: false}],
  [
    'DOMException TimeoutError',
    new DOMException('The operation was aborted due to timeout', 'TimeoutError'),
    {kind: 'aborted', retryable: false},
  ],
  ['ConfigError', new ConfigError('bad', 'export X=1'), {kind: 'usage', retryable: false}],
  // unknown things
  ['plain Error', new Error('boom'), {kind: 'unknown', retryable: false, connectionLevel: false}],
  ['null', null, {kind: 'unknown', retryable: false}],
  ['undefined', undefined, {kind: 'unknown', retryable: false}],
  ['number', 42, {kind: 'unknown', retryable: false}],
  ['empty object', {}, {kind: 'unknown', retryable: false}],
  ['array', [1, 2], {kind: 'unknown', retryable: false}],
  ['object with an unknown code', {code: 'WEIRD_THING', message: 'hm'}, {kind: 'unknown', retryable: false, code: 'WEIRD_THING'}],
  ['plain object with a known code', {code: 'ECONNRESET'}, {kind: 'reset', retryable: true}],
  ['object with a numeric code', {code: 53300}, {kind: 'unknown', retryable: false}],
]

describe('classify: corpus', () => {
  it.each(CORPUS)('%s', (_name, input, expected) => {
    const c = classify(input)
    expect(c).toMatchObject(expected)
    expect(c.hint.length).toBeGreaterThan(10)
    expect(typeof c.message).toBe('string')
  })

  it('every kind has a hint', () => {
    // The kinds come from this list, not from KIND_HINTS itself (iterating its own keys would
    // only prove that each key has a value): a kind added to the classifier without a hint, or
    // a hint left for a kind that no longer exists, fails here.
    const kinds: ErrorKind[] = [
      'refused',
      'reset',
      'timeout',
      'connection_closed',
      'connection_ended',
      'shutdown',
      'starting_up',
      'too_many_connections',
      'pooler',
      'no_connection',
      'network',
      'protocol',
      'serialization',
      'auth',
      'unknown_database',
      'unknown_role',
      'dns',
      'tls',
      'statement_timeout',
      'lock_timeout',
      'constraint',
      'syntax',
      'data',
      'usage',
      'aborted',
      'locked',
      'storage',
      'unknown',
    ]
    expect(Object.keys(KIND_HINTS).sort()).toEqual([...kinds].sort())
    for (const k of kinds) expect(KIND_HINTS[k], k).toMatch(/\S/)
    // Each kind says something of its own: no hint copied onto another kind.
    expect(new Set(kinds.map((k) => KIND_HINTS[k])).size).toBe(kinds.length)
    // And every kind the corpus produces is one of them.
    for (const [name, input] of CORPUS) expect(kinds, name).toContain(classify(input).kind)
  })

  it('classifies the embedded engine’s errors: a held lock and a foreign data dir are not retried', () => {
    const locked = classify(Object.assign(new Error('data dir is open in pid 123'), {code: 'PGLITE_LOCKED'}))
    expect(locked).toMatchObject({kind: 'locked', retryable: false})
    expect(classify(Object.assign(new Error('not a data dir'), {code: 'PGLITE_DATA_DIR'}))).toMatchObject({
      kind: 'storage',
      retryable: false,
    })
    expect(classify(new Error('PGlite failed to initialize properly'))).toMatchObject({kind: 'storage', retryable: false})
    expect(classify(Object.assign(new Error('close timed out'), {code: 'PGLITE_CLOSE_TIMEOUT'}))).toMatchObject({
      kind: 'timeout',
      retryable: true,
    })
  })

  it('gives the documented hints for refused, auth and too_many_connections', () => {
    expect(classify(sysError('ECONNREFUSED')).hint).toBe(
      'Nothing is listening at the configured host:port — start the database or fix the URL (GBRAIN_DATABASE_URL)',
    )
    expect(classify(pgError('28P01')).hint).toBe('The server rejected the credentials — fix the password in the URL or config file')
    expect(classify(pgError('53300')).hint).toBe(
      'The server is out of connection slots — close idle clients or raise max_connections; lower GBRAIN_POOL_SIZE',
    )
  })
})

describe('classify: unwrapping', () => {
  it('finds a SQLSTATE three causes deep', () => {
    const inner = pgError('57P01', 'terminating connection due to administrator command', 'FATAL')
    const err = new Error('batch pages failed', {cause: new Error('attempt 2', {cause: new Error('query', {cause: inner})})})
    expect(classify(err)).toMatchObject({kind: 'shutdown', retryable: true, code: '57P01'})
    expect(classify(err).message).toBe('terminating connection due to administrator command (57P01)')
  })

  it('prefers the real cause over the No database connection symptom', () => {
    const auth = pgError('28P01', 'password authentication failed for user "bob"', 'FATAL')
    expect(classify(new NoConnectionError('No database connection: auth failed', {cause: auth}))).toMatchObject({
      kind: 'auth',
      retryable: false,
    })
    const refused = new Error('connect ECONNREFUSED 127.0.0.1:5432') // message-only cause
    expect(classify(new NoConnectionError(undefined, {cause: refused}))).toMatchObject({kind: 'refused', retryable: true})
  })

  it('a known code beats an unknown wrapper', () => {
    const err = Object.assign(new Error('wrapped', {cause: sysError('EPIPE', 'write')}), {code: 'SOMETHING_ELSE'})
    expect(classify(err)).toMatchObject({kind: 'reset', code: 'EPIPE'})
  })

  it('an abort anywhere in the chain wins', () => {
    const err = new Error('batch failed', {cause: new AbortedError('SIGTERM')})
    expect(classify(err)).toMatchObject({kind: 'aborted', retryable: false})
  })

  it("unwraps Node's happy-eyeballs AggregateError", () => {
    const agg = Object.assign(
      new AggregateError([sysError('ECONNREFUSED', 'connect', '::1:5432'), sysError('ECONNREFUSED', 'connect', '127.0.0.1:5432')], ''),
      {code: 'ECONNREFUSED'},
    )
    const c = classify(agg)
    expect(c).toMatchObject({kind: 'refused', retryable: true, code: 'ECONNREFUSED'})
    expect(c.message).toMatch(/ECONNREFUSED/)
  })

  it('among sibling errors, the more telling one wins', () => {
    const agg = Object.assign(new AggregateError([sysError('ENETUNREACH', 'connect', '2001:db8::1:5432'), sysError('ECONNREFUSED')], ''), {
      code: 'ENETUNREACH',
    })
    expect(classify(agg).kind).toBe('refused')
  })

  it('an AggregateError inside a cause chain', () => {
    const agg = new AggregateError([new Error('nothing'), pgError('53300', 'sorry, too many clients already', 'FATAL')], 'all failed')
    expect(classify(new Error('outer', {cause: agg})).kind).toBe('too_many_connections')
  })

  it('survives cycles and very deep chains', () => {
    // classify() never throws: a failure inside falls back to {kind: 'unknown', message: 'error'}.
    // So each case asserts the walk's own verdict, which that fallback cannot give.
    const a: {message: string; cause?: unknown} = {message: 'a'}
    const b = {message: 'b', cause: a}
    a.cause = b
    expect(classify(a)).toMatchObject({kind: 'unknown', retryable: false, message: 'a'})
    // A cycle that holds a known code: the walk visits each node once and still finds it.
    const x: {message: string; code: string; cause?: unknown} = {message: 'x', code: 'ECONNRESET'}
    x.cause = {message: 'y', cause: x}
    expect(classify(x.cause)).toMatchObject({kind: 'reset', retryable: true, code: 'ECONNRESET'})
    // Within the walk's depth bound (16 causes) the root cause is found ...
    let within: unknown = sysError('ECONNRESET', 'read')
    for (let i = 0; i < 16; i++) within = new Error(`level ${i}`, {cause: within})
    expect(classify(within)).toMatchObject({
      kind: 'reset',
      retryable: true,
      code: 'ECONNRESET',
      message: 'read ECONNRESET <REDACTED:ipv4>:5432',
    })
    // ... 1000 causes deep it is out of reach by design (bounded work): the outermost error is
    // reported as unknown, summarised by the walk (not the fallback's 'error').
    let deep: unknown = sysError('ECONNRESET', 'read')
    for (let i = 0; i < 1000; i++) deep = new Error(`level ${i}`, {cause: deep})
    expect(classify(deep)).toMatchObject({kind: 'unknown', retryable: false, connectionLevel: false, message: 'level 999'})
  })

  it('survives hostile objects', () => {
    const hostile = new Proxy(
      {},
      {
        get() {
          throw new Error('trap')
        },
      },
    )
    expect(classify(hostile).kind).toBe('unknown')
    const getter = {
      get code(): string {
        throw new Error('trap')
      },
      message: 'connect ECONNREFUSED 127.0.0.1:5432',
    }
    expect(classify(getter).kind).toBe('refused')
  })
})

describe('classify: real errors', () => {
  async function closedPort(): Promise<number> {
    const server = net.createServer()
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const {port} = server.address() as net.AddressInfo
    await new Promise<void>((resolve) => server.close(() => resolve()))
    return port
  }

  it('a real Node ECONNREFUSED', async () => {
    const port = await closedPort()
    const err = await new Promise<unknown>((resolve) => {
      const socket = net.connect({host: '127.0.0.1', port})
      socket.on('error', resolve)
    })
    expect(classify(err)).toMatchObject({kind: 'refused', retryable: true, inDoubt: false, code: 'ECONNREFUSED'})
    expect(classify(err).message).not.toContain('127.0.0.1')
  })

  it('postgres.js against a closed port, and after end()', async () => {
    const port = await closedPort()
    const sql = postgres({host: '127.0.0.1', port, max: 1, connect_timeout: 2, onnotice: () => {}})
    const refused = await sql`select 1`.catch((e: unknown) => e)
    expect(classify(refused)).toMatchObject({kind: 'refused', retryable: true})
    await sql.end({timeout: 1})
    const ended = await sql`select 1`.catch((e: unknown) => e)
    expect(classify(ended)).toMatchObject({kind: 'connection_ended', retryable: true, code: 'CONNECTION_ENDED'})
  })
})

describe('classify: redaction and properties', () => {
  it('the message is redacted; the hint never carries error text', () => {
    const err = new Error(`could not connect to postgres://bob:${PW}@10.0.0.1:5432/brain: connect ECONNREFUSED 10.0.0.1:5432`)
    const c = classify(err)
    expect(c.kind).toBe('refused')
    expect(c.message).not.toContain(PW)
    expect(c.message).not.toContain('10.0.0.1')
    expect(c.hint).not.toContain(PW)
    expect(Object.values(KIND_HINTS).join(' ')).not.toMatch(/postgres(ql)?:\/\//)
  })

  it('a hostile code cannot smuggle text into the result', () => {
    const c = classify({code: `postgres://bob:${PW}@h/db`, message: 'x'})
    expect(JSON.stringify(c)).not.toContain(PW)
  })

  const KINDS = new Set(Object.keys(KIND_HINTS))
  const HINTS = new Set(Object.values(KIND_HINTS))

  it('never throws and always returns a kind and a hint, for anything', () => {
    fc.assert(
      fc.property(fc.anything({withBigInt: true, withDate: true, withMap: true, withSet: true, withNullPrototype: true}), (x) => {
        const c = classify(x)
        expect(KINDS.has(c.kind)).toBe(true)
        expect(c.hint).toMatch(/\S/)
        expect(typeof c.retryable).toBe('boolean')
        expect(typeof c.inDoubt).toBe('boolean')
        expect(typeof c.connectionLevel).toBe('boolean')
        expect(c.message.length).toBeLessThanOrEqual(200)
      }),
      {numRuns: 1000},
    )
  })

  const codes = fc.constantFrom(
    'ECONNREFUSED',
    'ECONNRESET',
    'EPIPE',
    'ENOTFOUND',
    'CONNECTION_CLOSED',
    'CONNECTION_ENDED',
    '08P01',
    '57P01',
    '28P01',
    '3D000',
    '23505',
    '40001',
    'ABORTED',
    'NO_CONNECTION',
    'WHATEVER',
    'ERR_TLS_CERT_ALTNAME_INVALID',
  )
  const secret = fc.stringMatching(/^[A-Za-z0-9!%*+-]{8,14}$/).map((s) => `PW${s}`)
  type Node = {code?: string; message: string; cause?: Node; errors?: Node[]}
  const errorTree = (pw: string): fc.Arbitrary<Node> =>
    fc.letrec<{node: Node}>((tie) => ({
      node: fc.record(
        {
          code: codes,
          message: fc.constantFrom(
            `postgres://bob:${pw}@db/brain refused`,
            `password=${pw} rejected`,
            `connect ECONNREFUSED 10.1.1.1:5432 (password='${pw}')`,
            'circuit breaker',
            'plain',
          ),
          cause: fc.option<Node, undefined>(tie('node'), {nil: undefined, depthSize: 'small'}),
          errors: fc.option<Node[], undefined>(fc.array(tie('node'), {maxLength: 2}), {nil: undefined, depthSize: 'small'}),
        },
        {requiredKeys: ['message']},
      ),
    })).node

  it('hints and messages never contain a planted password, in any nesting', () => {
    fc.assert(
      fc.property(
        secret.chain((pw) => errorTree(pw).map((tree) => ({pw, tree}))),
        ({pw, tree}) => {
          const c = classify(tree)
          expect(c.hint).not.toContain(pw)
          expect(c.message).not.toContain(pw)
          expect(c.code ?? '').not.toContain(pw)
          // The hint is one of the constant texts, never built from the error: none of the
          // generator's codes or messages has a code-specific hint, so it is its kind's hint.
          expect(HINTS.has(c.hint)).toBe(true)
          expect(c.hint).toBe(KIND_HINTS[c.kind])
        },
      ),
      {numRuns: 1000},
    )
  })
})
