/**
 * Help, version, unknown commands and shell completion, as the built binary (issue 12, item 2):
 * `--help`, `-h` and `gbrain help` for every command and topic, each summary said once, text that
 * oclif wraps (no hard line breaks), `gbrain version`/`--version` naming `gbrain`, one usage line
 * (exit 64) with the likely command for a mistyped one — never a prompt, even on a terminal — a
 * completion script that completes, and the doctor's `--output-file` directory checked up front
 * (its Prometheus example works when pasted, after the fix it prints).
 */
import {spawnSync} from 'node:child_process'
import {existsSync, mkdirSync, readFileSync, symlinkSync} from 'node:fs'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {BIN, capture, gbrain} from '../helpers/cli.js'
import {removeHomes, tempDir} from '../helpers/doctor-kit.js'

interface ManifestCommand {
  id: string
  summary?: string
  description?: string
}

const manifest = JSON.parse(readFileSync('oclif.manifest.json', 'utf8')) as {commands: Record<string, ManifestCommand>}
const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as {
  name: string
  version: string
  oclif: {topics: Record<string, {description: string}>}
}
/** Every command as typed: `sources add`, not oclif's `sources:add`. */
const COMMANDS = Object.keys(manifest.commands)
  .map((id) => id.replace(/:/g, ' '))
  .sort()
const summaryOf = (typed: string): string => manifest.commands[typed.replace(/ /g, ':')]?.summary ?? ''

let dir: string
let env: Record<string, string>

beforeAll(() => {
  dir = tempDir('gbrain-help-')
  env = {GBRAIN_HOME: path.join(dir, 'home'), HOME: path.join(dir, 'home'), OCLIF_COLUMNS: '', COLUMNS: ''}
})
afterAll(removeHomes)

const run = (args: string[], extra: Record<string, string> = {}) => gbrain(args, {...env, ...extra})
const count = (text: string, part: string): number => text.split(part).length - 1
/** The lines of one help section (after its title, up to the next title), as printed. */
function rawSection(help: string, title: string): string[] {
  const lines = help.split('\n')
  const start = lines.indexOf(title)
  if (start === -1) return []
  const end = lines.findIndex((l, i) => i > start && /^[A-Z][A-Z ]+$/.test(l))
  return lines.slice(start + 1, end === -1 ? undefined : end)
}
/** {@link rawSection} without the indent. */
const section = (help: string, title: string): string[] => rawSection(help, title).map((l) => l.trim())
/** Paragraphs of a section: its lines joined, split at blank lines. */
function paragraphs(lines: string[]): string[] {
  return lines
    .join('\n')
    .split(/\n\s*\n/)
    .map((p) => p.replace(/\s*\n\s*/g, ' ').trim())
    .filter(Boolean)
}

describe('help for every command and topic', () => {
  it('the commands are the ones this file knows, each with a summary', () => {
    expect(COMMANDS).toEqual(['autocomplete', 'cycle', 'doctor', 'help', 'init', 'repair', 'sources add', 'sources list', 'version'])
    // A summary is one line of an 80-column terminal: the details go in the description.
    for (const c of COMMANDS) expect(summaryOf(c).length, c).toBeGreaterThan(0)
    for (const c of COMMANDS) expect(summaryOf(c).length, c).toBeLessThanOrEqual(80)
  })

  it.each(COMMANDS)(
    'gbrain %s --help: exit 0, the summary first and once, usage `$ gbrain …`; -h and `gbrain help` print the same',
    async (command) => {
      const words = command.split(' ')
      const [long, short, viaHelp] = await Promise.all([run([...words, '--help']), run([...words, '-h']), run(['help', ...words])])
      expect(long.code).toBe(0)
      expect(long.stderr).toBe('')
      const summary = summaryOf(command)
      expect(long.stdout.split('\n')[0]).toBe(summary)
      expect(count(long.stdout, summary)).toBe(1)
      const usage = section(long.stdout, 'USAGE')
      expect(usage[0]).toMatch(new RegExp(`^\\$ gbrain ${command}( |$)`))
      for (const other of [short, viaHelp]) {
        expect(other.code).toBe(0)
        expect(other.stderr).toBe('')
        expect(other.stdout).toBe(long.stdout)
      }
    },
  )

  it('the sources topic has its own description (not `sources add`’s summary), lists its commands, and `gbrain sources` prints it', async () => {
    const topic = pkg.oclif.topics.sources?.description ?? ''
    expect(topic).not.toBe('')
    expect(topic).not.toBe(summaryOf('sources add'))
    const outs = await Promise.all([run(['sources']), run(['sources', '--help']), run(['sources', '-h']), run(['help', 'sources'])])
    for (const r of outs) {
      expect(r.code).toBe(0)
      expect(r.stdout).toBe(outs[0]?.stdout)
    }
    const help = outs[0]?.stdout ?? ''
    expect(help.split('\n')[0]).toBe(topic)
    expect(section(help, 'USAGE')[0]).toBe('$ gbrain sources COMMAND')
    for (const c of ['sources add', 'sources list']) {
      expect(count(help, summaryOf(c))).toBe(1)
      expect(section(help, 'COMMANDS').some((l) => l.startsWith(`${c} `))).toBe(true)
    }
  })

  it('gbrain, gbrain --help and gbrain help: the root help with every top-level command and topic, VERSION naming gbrain', async () => {
    const outs = await Promise.all([run([]), run(['--help']), run(['help'])])
    for (const r of outs) {
      expect(r.code).toBe(0)
      expect(r.stdout).toBe(outs[0]?.stdout)
    }
    const help = outs[0]?.stdout ?? ''
    // An entry starts at the indent; its wrapped summary continues further in.
    const listed = rawSection(help, 'COMMANDS')
      .filter((l) => /^ {2}\S/.test(l))
      .map((l) => l.trim().split(' ')[0])
    expect(listed).toEqual(COMMANDS.filter((c) => !c.includes(' ')))
    expect(section(help, 'TOPICS')[0]).toMatch(/^sources +The markdown sources/)
    expect(section(help, 'VERSION')[0]).toMatch(new RegExp(`^gbrain ${pkg.version.replace(/\./g, '\\.')} \\(${pkg.name}\\) `))
  })

  it('descriptions are paragraphs oclif wraps: one line each when wide, no line past 60 columns when narrow', async () => {
    const described = COMMANDS.filter((c) => manifest.commands[c.replace(/ /g, ':')]?.description)
    expect(described).toEqual(expect.arrayContaining(['cycle', 'doctor', 'init', 'repair']))
    for (const command of described) {
      const words = command.split(' ')
      const [wide, narrow] = await Promise.all([run([...words, '--help'], {COLUMNS: '1000'}), run([...words, '--help'], {COLUMNS: '60'})])
      const wideLines = section(wide.stdout, 'DESCRIPTION').filter(Boolean)
      const narrowLines = section(narrow.stdout, 'DESCRIPTION').filter(Boolean)
      // Wide: every paragraph is one line, so nothing in the text breaks a sentence.
      expect(wideLines, command).toEqual(paragraphs(section(wide.stdout, 'DESCRIPTION')))
      // Narrow: a paragraph longer than the room (60 less the indent) re-wraps onto more lines.
      if (wideLines.some((l) => l.length > 58)) expect(narrowLines.length, command).toBeGreaterThan(wideLines.length)
      else expect(narrowLines, command).toEqual(wideLines)
      if (['cycle', 'doctor', 'init', 'repair'].includes(command)) expect(narrowLines.length, command).toBeGreaterThan(wideLines.length)
      expect(paragraphs(section(narrow.stdout, 'DESCRIPTION')), command).toEqual(wideLines)
      // Every line but the summary heading the page (a title, at most 80) fits, examples included.
      for (const line of narrow.stdout.split('\n').slice(1)) expect(line.length, `${command}: ${line}`).toBeLessThanOrEqual(60)
      // The summary is not repeated under DESCRIPTION.
      expect(count(wide.stdout, summaryOf(command)), command).toBe(1)
    }
  }, 90_000)
})

describe('version', () => {
  const LINE = new RegExp(
    `^gbrain ${pkg.version.replace(/\./g, '\\.')} \\(${pkg.name}\\) ${process.platform}-${process.arch} node-${process.version.replace(/\./g, '\\.')}\n$`,
  )

  it('gbrain version and gbrain --version print the same line, starting with gbrain', async () => {
    const [a, b] = await Promise.all([run(['version']), run(['--version'])])
    for (const r of [a, b]) {
      expect(r.code).toBe(0)
      expect(r.stderr).toBe('')
      expect(r.stdout).toMatch(LINE)
    }
    expect(b.stdout).toBe(a.stdout)
  })

  it('gbrain version --json: the same facts as JSON', async () => {
    const r = await run(['version', '--json'])
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toEqual({
      name: 'gbrain',
      package: pkg.name,
      version: pkg.version,
      platform: process.platform,
      arch: process.arch,
      node: process.version,
    })
  })
})

describe('unknown commands: one line, the likely command, exit 64', () => {
  it.each([
    [['docter'], 'gbrain: unknown command "docter" — did you mean "doctor"? (fix: gbrain doctor; see: gbrain help)'],
    [['dcotor', '--fast'], 'gbrain: unknown command "dcotor" — did you mean "doctor"? (fix: gbrain doctor; see: gbrain help)'],
    [
      ['sources', 'lst'],
      'gbrain: unknown command "sources lst" — did you mean "sources list"? (fix: gbrain sources list; see: gbrain help sources)',
    ],
    [['help', 'repiar'], 'gbrain: unknown command "repiar" — did you mean "repair"? (fix: gbrain help repair; see: gbrain help)'],
    [['cylce', '--help'], 'gbrain: unknown command "cylce" — did you mean "cycle"? (fix: gbrain cycle --help; see: gbrain help)'],
    [['xyzzyplugh'], 'gbrain: unknown command "xyzzyplugh" (fix: see: gbrain help for the commands)'],
    [['sources', 'zzzzzz'], 'gbrain: unknown command "sources zzzzzz" (fix: see: gbrain help sources for the commands)'],
    [['doctor', 'extra'], 'gbrain: unexpected argument "extra" for gbrain doctor (fix: see: gbrain doctor --help)'],
    [
      ['--debug', 'doctor'],
      'gbrain: "--debug" comes before any command (fix: put it after the command: gbrain COMMAND --debug; see: gbrain help)',
    ],
  ])('gbrain %j', async (args, line) => {
    const r = await run(args)
    expect(r.code).toBe(64)
    expect(r.stdout).toBe('')
    expect(r.stderr).toBe(`${line}\n`)
  })

  it('with --json: the error envelope on stdout, nothing on stderr', async () => {
    const r = await run(['docter', '--json'])
    expect(r.code).toBe(64)
    expect(r.stderr).toBe('')
    expect(JSON.parse(r.stdout)).toEqual({
      schema_version: 2,
      status: 'error',
      error: {code: 'USAGE', message: 'unknown command "docter" — did you mean "doctor"?', hint: 'gbrain doctor; see: gbrain help'},
    })
  })

  it.each([
    ['escape sequences and a credential', `\u001b[31mdocter\u0007 postgres://u:hunter2@db.example/brain`],
    ['5,000 characters on two lines', `doc${'x'.repeat(5000)}\nmore`],
  ])('hostile input (%s) is shown as one clean, short line', async (_what, word) => {
    const r = await run([word])
    expect(r.code).toBe(64)
    expect(r.stdout).toBe('')
    expect(r.stderr).toMatch(/^gbrain: unknown command "[^\n]*\n$/)
    expect(r.stderr).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f]/)
    expect(r.stderr).not.toContain('hunter2')
    expect(r.stderr.length).toBeLessThan(200)
  })

  it('on a terminal it still prints the line and exits: no prompt', async () => {
    const r = await capture(
      'script',
      ['-qec', `'${process.execPath}' '${BIN}' docter`, '/dev/null'],
      {env: {...process.env, ...env, NO_COLOR: '1'}},
      30_000,
      'script gbrain docter',
    )
    expect(r.code).toBe(64)
    expect(r.stdout.replace(/\r/g, '')).toBe(
      'gbrain: unknown command "docter" — did you mean "doctor"? (fix: gbrain doctor; see: gbrain help)\n',
    )
  })
})

describe('shell completion', () => {
  /** What bash offers for the line (the last word is the one being completed). */
  function complete(script: string, line: string[]): string[] {
    const words = line.map((w) => `'${w}'`).join(' ')
    const r = spawnSync(
      'bash',
      [
        '--norc',
        '--noprofile',
        '-c',
        `${script}\nCOMP_WORDS=(${words}); COMP_CWORD=${line.length - 1}; _gbrain_complete; printf '%s\\n' "\${COMPREPLY[@]}"`,
      ],
      {encoding: 'utf8'},
    )
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    return r.stdout.split('\n').filter(Boolean).sort()
  }

  it('gbrain autocomplete bash: a valid script that completes commands, topics, flags and flag values', async () => {
    const r = await run(['autocomplete', 'bash'])
    expect(r.code).toBe(0)
    expect(r.stderr).toBe('')
    const script = r.stdout
    expect(spawnSync('bash', ['-n'], {input: script}).status).toBe(0)
    expect(script).toContain('complete -o default -F _gbrain_complete gbrain')
    expect(complete(script, ['gbrain', ''])).toEqual(
      COMMANDS.map((c) => c.split(' ')[0])
        .filter((c, i, a) => a.indexOf(c) === i)
        .sort(),
    )
    expect(complete(script, ['gbrain', 'do'])).toEqual(['doctor'])
    expect(complete(script, ['gbrain', 'sources', ''])).toEqual(['add', 'list'])
    expect(complete(script, ['gbrain', 'help', 'sources', 'l'])).toEqual(['list'])
    expect(complete(script, ['gbrain', 'doctor', '--form'])).toEqual(['--format'])
    expect(complete(script, ['gbrain', 'doctor', '--fo'])).toEqual(['--for', '--format'])
    expect(complete(script, ['gbrain', 'doctor', '--format', ''])).toEqual([
      'github',
      'html',
      'json',
      'junit',
      'nagios',
      'prometheus',
      'table',
    ])
    expect(complete(script, ['gbrain', 'doctor', '--fail-on', '=', 'w'])).toEqual(['warn'])
    expect(complete(script, ['gbrain', 'doctor', '--no-'])).toEqual(['--no-color', '--no-history'])
    // A value that is a path: nothing offered, so the shell completes file names.
    expect(complete(script, ['gbrain', 'doctor', '--output-file', ''])).toEqual([])
    expect(complete(script, ['gbrain', 'sources', 'add', 'notes', '--'])).toEqual(
      expect.arrayContaining(['--path', '--name', '--json', '--help']),
    )
    expect(complete(script, ['gbrain', 'sources', 'add', 'notes', '--'])).not.toContain('--format')
  })

  it('gbrain autocomplete zsh (and SHELL=…/zsh): the same completion through bashcompinit', async () => {
    const [zsh, fromShell, bash] = await Promise.all([
      run(['autocomplete', 'zsh']),
      run(['autocomplete'], {SHELL: '/usr/bin/zsh'}),
      run(['autocomplete', 'bash']),
    ])
    expect(zsh.code).toBe(0)
    expect(fromShell.stdout).toBe(zsh.stdout)
    expect(zsh.stdout).toMatch(/^# gbrain completion for zsh/)
    expect(zsh.stdout).toContain('autoload -U +X bashcompinit && bashcompinit\n')
    const body = (s: string) => s.slice(s.indexOf('_gbrain_ids='))
    expect(body(zsh.stdout)).toBe(body(bash.stdout))
  })

  it('an unknown shell is a usage error', async () => {
    const [named, fromShell] = await Promise.all([run(['autocomplete', 'fish']), run(['autocomplete'], {SHELL: '/usr/bin/fish'})])
    for (const r of [named, fromShell]) {
      expect(r.code).toBe(64)
      expect(r.stdout).toBe('')
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1)
      expect(r.stderr).toMatch(/^gbrain: .*fish.* \(fix: .*gbrain autocomplete( --help| bash)/)
    }
  })
})

describe('doctor --output-file', () => {
  it('a missing directory: exit 64, one line naming it with the mkdir fix, nothing created', async () => {
    const missing = path.join(dir, 'no', 'such')
    const file = path.join(missing, 'gbrain.prom')
    const r = await run(['doctor', '--format', 'prometheus', '--output-file', file])
    expect(r.code).toBe(64)
    expect(r.stdout).toBe('')
    expect(r.stderr).toBe(`gbrain: --output-file ${file}: the directory ${missing} does not exist (fix: mkdir -p ${missing})\n`)
    expect(existsSync(path.join(dir, 'no'))).toBe(false)
    const j = await run(['doctor', '--output-file', file, '--json'])
    expect(j.code).toBe(64)
    expect(JSON.parse(j.stdout)).toMatchObject({status: 'error', error: {code: 'USAGE', hint: `mkdir -p ${missing}`}})
  })

  it('a directory as the file: exit 64, one line, the directory untouched', async () => {
    const d = path.join(dir, 'is-a-dir')
    mkdirSync(d)
    const r = await run(['doctor', '--fast', '--output-file', d])
    expect(r.code).toBe(64)
    expect(r.stderr).toBe(
      `gbrain: --output-file ${d} is a directory (fix: name a file in it: --output-file ${path.join(d, 'gbrain.out')})\n`,
    )
  })

  it('the Prometheus example from --help, pasted (wrapped at 60 columns): its mkdir, then the report written; the doctor line alone prints that mkdir as the fix', async () => {
    const help = (await run(['doctor', '--help'], {COLUMNS: '60'})).stdout
    const block =
      section(help, 'EXAMPLES')
        .join('\n')
        .split('\n\n')
        .find((b) => b.includes('--format prometheus')) ?? ''
    // The example's lines as a person copies them: without the `$ ` prompt, continuations kept.
    const pasted = block
      .split('\n')
      .map((l) => l.replace(/^\$ /, ''))
      .join('\n')
    const [mkdir, doctor] = pasted.split(/\n(?=gbrain )/)
    const file = /--output-file\s+(?:\\\n\s*)?(\S+)/.exec(doctor ?? '')?.[1] ?? ''
    expect(file).toMatch(/^\/.+\.prom$/)
    expect(mkdir).toBe(`mkdir -p ${path.dirname(file)}`)

    // The same lines under a scratch root instead of `/`, in bash with `gbrain` on the PATH.
    const root = path.join(dir, 'root')
    const bin = path.join(dir, 'bin')
    mkdirSync(bin, {recursive: true})
    symlinkSync(BIN, path.join(bin, 'gbrain'))
    const relocate = (s: string) => s.split(path.dirname(file)).join(root + path.dirname(file))
    const bash = (script: string) =>
      capture(
        'bash',
        ['--norc', '--noprofile', '-c', script],
        {env: {...process.env, ...env, NO_COLOR: '1', PATH: `${bin}:${path.dirname(process.execPath)}:${process.env.PATH ?? ''}`}},
        60_000,
        script,
      )

    const alone = await bash(relocate(doctor ?? ''))
    expect(alone.code).toBe(64)
    expect(alone.stderr).toMatch(new RegExp(`^gbrain: --output-file .*: the directory .* does not exist \\(fix: (mkdir -p \\S+)\\)\n$`))
    expect(/\(fix: (mkdir -p \S+)\)/.exec(alone.stderr)?.[1]).toBe(relocate(mkdir ?? ''))
    expect(existsSync(root)).toBe(false)

    const whole = await bash(relocate(pasted))
    expect([0, 1, 3]).toContain(whole.code)
    expect(whole.stdout).toBe('')
    expect(readFileSync(root + file, 'utf8')).toMatch(/^gbrain_\w+/m)
  })
})
