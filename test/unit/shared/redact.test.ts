import {describe, expect, it} from 'vitest'
import fc from 'fast-check'
import {
  REDACT_MAX_CHARS,
  redactForStorage as redact,
  redactForDisplay as redactFull,
  redactUrl,
  summarizeError,
} from '../../../src/shared/redact.js'

const PW = 'S3cr3t-PW!x'

describe('redact: connection URLs', () => {
  it.each([
    [`postgres://bob:${PW}@db.example.com:5432/brain?sslmode=require`],
    [`postgresql://bob:${PW}@10.1.2.3/brain`],
    [`POSTGRES://bob:${PW}@db/brain`],
    [`postgres://bob:p@ss:${PW}@db/brain`],
  ])('replaces %s as a whole', (url) => {
    expect(redact(url)).toBe('<REDACTED:pg_url>')
  })

  it('replaces a URL inside text and keeps the text around it', () => {
    expect(redact(`failed to reach postgres://bob:${PW}@db/brain after 3 tries`)).toBe('failed to reach <REDACTED:pg_url> after 3 tries')
  })

  it('catches a JDBC-style URL', () => {
    expect(redact(`jdbc:postgresql://db/brain?user=bob&password=${PW}`)).toBe('jdbc:<REDACTED:pg_url>')
  })
})

describe('redact: libpq key/value strings', () => {
  it('replaces host, user and password values and keeps the other keys', () => {
    expect(redact(`host=10.0.0.5 port=5432 user=bob password='${PW}' dbname=brain`)).toBe(
      'host=<REDACTED:host> port=5432 user=<REDACTED:user> password=<REDACTED:password> dbname=brain',
    )
  })

  it('handles quoted values with spaces, double quotes and escapes', () => {
    expect(redact(`password='a b ${PW}' user=x`)).toBe('password=<REDACTED:password> user=<REDACTED:user>')
    expect(redact(`password="a \\" ${PW}" sslmode=require`)).toBe('password=<REDACTED:password> sslmode=require')
    expect(redact(`password='it\\'s ${PW}' x=1`)).toBe('password=<REDACTED:password> x=1')
  })

  it('redacts an unterminated quoted value to the end of the text', () => {
    expect(redact(`password='${PW} and more`)).toBe('password=<REDACTED:password>')
  })

  it('handles pwd=, PGPASSWORD=, any case and spaces around =', () => {
    expect(redact(`pwd=${PW}`)).toBe('pwd=<REDACTED:password>')
    expect(redact(`PGPASSWORD=${PW} gbrain doctor`)).toBe('PGPASSWORD=<REDACTED:password> gbrain doctor')
    expect(redact(`Password = ${PW}`)).toBe('Password = <REDACTED:password>')
    expect(redact(`hostaddr=10.9.8.7 PGUSER=bob`)).toBe('hostaddr=<REDACTED:host> PGUSER=<REDACTED:user>')
  })

  it('also catches the password: and "password":"…" forms of logs, YAML and JSON', () => {
    expect(redact(`password: ${PW}`)).toBe('password: <REDACTED:password>')
    expect(redact(`{"user":"bob","password":"${PW}"}`)).toBe('{"user":"bob","password":<REDACTED:password>}')
    expect(redact('password authentication failed for user "bob"')).toBe('password authentication failed for user "bob"')
  })

  it('leaves words that merely end in user/host alone', () => {
    expect(redact('superuser=on localhost=yes')).toBe('superuser=on localhost=yes')
  })
})

describe('redact: IPv4 addresses', () => {
  it('replaces addresses, with or without a port', () => {
    expect(redact('connect ECONNREFUSED 127.0.0.1:5432')).toBe('connect ECONNREFUSED <REDACTED:ipv4>:5432')
    expect(redact('from 10.0.0.12, to 192.168.1.255.')).toBe('from <REDACTED:ipv4>, to <REDACTED:ipv4>.')
    expect(redact('::ffff:10.1.2.3')).toBe('::ffff:<REDACTED:ipv4>')
  })

  it.each(['v3.1.4.0', 'pkg@0.26.3.1', 'gbrain 0.40.4.0a', '1.2.3.4.5', 'node 20.19.4', 'x1.2.3.4', 'build_1.2.3.4'])(
    'leaves the version string %s untouched',
    (text) => {
      expect(redact(text)).toBe(text)
    },
  )
})

describe('redact: shape', () => {
  it('collapses whitespace runs to one space and trims', () => {
    expect(redact('  a \n\t b\r\n\r\nc  ')).toBe('a b c')
  })

  it(`cuts to ${REDACT_MAX_CHARS} characters`, () => {
    expect(redact('x'.repeat(500))).toBe('x'.repeat(REDACT_MAX_CHARS))
  })

  it('never cuts inside a redaction token', () => {
    const text = `${'a'.repeat(190)} 10.0.0.1 tail`
    const out = redact(text)
    expect(out).toBe('a'.repeat(190))
    expect(redact(out)).toBe(out)
  })

  it('keeps a token that ends exactly at the cut', () => {
    const text = `${'a'.repeat(REDACT_MAX_CHARS - 16)} 10.0.0.1 tail`
    expect(redact(text)).toBe(`${'a'.repeat(REDACT_MAX_CHARS - 16)} <REDACTED:ipv4>`)
  })

  it('does not split a surrogate pair at the cut', () => {
    const out = redact(`${'a'.repeat(REDACT_MAX_CHARS - 1)}😀`)
    expect(out).toBe('a'.repeat(REDACT_MAX_CHARS - 1))
  })

  it('stays idempotent when the cut turns a version tail into an address', () => {
    const text = `${'a'.repeat(REDACT_MAX_CHARS - 8)} 1.2.3.4.5`
    const once = redact(text)
    expect(redact(once)).toBe(once)
    expect(once).not.toContain('1.2.3.4')
  })
})

describe('redact: a planted password never survives', () => {
  it.each([
    ['a URL', `postgres://bob:${PW}@db.example.com/brain`],
    ['a libpq string', `host=db user=bob password=${PW} dbname=brain`],
    ['a quoted libpq value', `password='${PW} with spaces'`],
    ['an error message', `Error: connect failed for postgres://bob:${PW}@10.0.0.1:6543/brain (ECONNREFUSED)\n    at foo`],
    ['an env dump', `PGPASSWORD=${PW}\nGBRAIN_DATABASE_URL=postgresql://u:${PW}@h/db`],
  ])('in %s', (_label, text) => {
    expect(redact(text)).not.toContain(PW)
    expect(redact(text)).not.toContain('S3cr3t')
  })
})

// Generators for the property tests.
const secret = fc.stringMatching(/^[A-Za-z0-9!%*+,;=~-]{8,16}$/).map((s) => `PW${s}`)
const noise = fc.oneof(
  fc.string({maxLength: 30}),
  fc.constantFrom(
    ' ',
    '\n',
    '\t',
    "'",
    '"',
    '@',
    '.',
    'v',
    ':',
    '=',
    '<',
    '>',
    '<REDACTED:',
    'user=',
    'host=',
    '1.2.3.4',
    '.5',
    '10.0.0.1',
  ),
)
const embedded = secret.chain((pw) =>
  fc
    .tuple(
      fc.array(noise, {maxLength: 6}),
      fc.constantFrom(
        `postgres://bob:${pw}@db.example.com:5432/brain`,
        `postgresql://u:${pw}@10.0.0.1/db?x=1`,
        ` password=${pw} `,
        ` password='${pw} x y' `,
        ` pwd="${pw}" `,
        ` PGPASSWORD=${pw}\n`,
      ),
      fc.array(noise, {maxLength: 6}),
    )
    .map(([before, s, after]) => ({pw, text: [...before, s, ...after].join('')})),
)

describe('redact: properties', () => {
  it('no generated secret survives, wherever it is embedded', () => {
    fc.assert(
      fc.property(embedded, ({pw, text}) => {
        expect(redact(text)).not.toContain(pw)
      }),
      {numRuns: 2000},
    )
  })

  it('is idempotent on arbitrary text', () => {
    const text = fc.oneof(
      fc.string({unit: 'binary', maxLength: 400}),
      fc.array(noise, {maxLength: 40}).map((parts) => parts.join('')),
      embedded.map((e) => e.text),
      fc
        .array(
          fc.oneof(
            noise,
            embedded.map((e) => e.text),
          ),
          {maxLength: 20},
        )
        .map((p) => p.join(' ')),
    )
    fc.assert(
      fc.property(text, (t) => {
        const once = redact(t)
        expect(redact(once)).toBe(once)
        expect(once.length).toBeLessThanOrEqual(REDACT_MAX_CHARS)
        expect(once).not.toMatch(/\s\s|[\n\t\r]/)
      }),
      {numRuns: 3000},
    )
  })
})

describe('redactUrl', () => {
  it('keeps scheme, host, port, database and query; replaces the userinfo', () => {
    expect(redactUrl(`postgres://bob:${PW}@db.example.com:6543/brain?sslmode=require&prepare=false`)).toBe(
      'postgres://***@db.example.com:6543/brain?sslmode=require&prepare=false',
    )
  })

  it('hides passwords containing @, :, /, ? and #', () => {
    const out = redactUrl('postgresql://bob:p@ss:w/rd?#x@db:5432/brain')
    expect(out).toBe('postgresql://***@db:5432/brain')
  })

  it('hides a user without a password', () => {
    expect(redactUrl('postgres://bob@db/brain')).toBe('postgres://***@db/brain')
  })

  it('returns a URL without userinfo unchanged', () => {
    expect(redactUrl('postgres://db.example.com:5432/brain?sslmode=require')).toBe('postgres://db.example.com:5432/brain?sslmode=require')
  })

  it('masks secret query parameters', () => {
    expect(redactUrl(`postgres://db/brain?user=bob&password=${PW}&sslmode=require`)).toBe(
      'postgres://db/brain?user=***&password=***&sslmode=require',
    )
  })

  it.each(['not a url', '', 'db.example.com:5432/brain', '/var/lib/brain', 'postgres://bo b:x@h/db x'])(
    'turns unparseable input %j into the token',
    (input) => {
      expect(redactUrl(input)).toBe('<REDACTED:pg_url>')
    },
  )
})

describe('summarizeError', () => {
  it('gives the redacted message with the code when the message lacks it', () => {
    const e = Object.assign(new Error(`auth failed for postgres://bob:${PW}@db/x`), {code: '28P01'})
    expect(summarizeError(e)).toBe('auth failed for <REDACTED:pg_url> (28P01)')
  })

  it('does not repeat a code the message already names', () => {
    const e = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), {code: 'ECONNREFUSED'})
    expect(summarizeError(e)).toBe('connect ECONNREFUSED <REDACTED:ipv4>:5432')
  })

  it('names an error with an empty message (Node AggregateError)', () => {
    const e = Object.assign(new AggregateError([], ''), {code: 'ECONNREFUSED'})
    expect(summarizeError(e)).toBe('AggregateError (ECONNREFUSED)')
  })

  it('accepts anything without throwing', () => {
    const hostile = {
      get message(): string {
        throw new Error('nope')
      },
    }
    expect(summarizeError(null)).toBe('null')
    expect(summarizeError(undefined)).toBe('undefined')
    expect(summarizeError(`line1\nline2 password=${PW}`)).toBe('line1 line2 password=<REDACTED:password>')
    expect(summarizeError(42)).toBe('42')
    expect(summarizeError(hostile)).toBe('error')
    expect(summarizeError(Object.create(null))).toBe('error')
    fc.assert(
      fc.property(fc.anything(), (x) => {
        expect(typeof summarizeError(x)).toBe('string')
      }),
    )
  })
})

describe('redactFull (what a person is shown)', () => {
  it('masks a URL’s userinfo but keeps scheme, host, port, database and query', () => {
    expect(redactFull('cannot reach postgres://bob:Pl4nted-S3cret!x@127.0.0.1:5432/brain?sslmode=require now')).toBe(
      'cannot reach postgres://***@127.0.0.1:5432/brain?sslmode=require now',
    )
  })
  it('catches key/value secrets glued after a URL, and is idempotent', () => {
    const once = redactFull('"postgres://u:Pl4nted-S3cret!x@10.1.2.3:5432/db",(password=Pl4nted-S3cret!x)')
    expect(once).not.toContain('Pl4nted')
    expect(redactFull(once)).toBe(once)
  })
  it('applies the credential rules outside URLs, keeps host and address for the person, and never cuts', () => {
    const long = `host=10.0.0.1 password=Pl4nted-S3cret!x user=alice ${'x'.repeat(300)}`
    const out = redactFull(long)
    expect(out).not.toContain('Pl4nted')
    expect(out).not.toContain('alice')
    expect(out).toContain('host=10.0.0.1')
    expect(out.length).toBeGreaterThan(300)
    // What is stored keeps gbrain's rule: the address goes too.
    expect(redact(long)).not.toContain('10.0.0.1')
  })
})
