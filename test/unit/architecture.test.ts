/**
 * The layers of src/, as docs/architecture.md draws them, checked on every import: a folder may
 * import only the folders below it, nothing outside the engine reaches past its index (the
 * drivers load lazily through `engine/open.ts`), and there is no cycle between top-level folders.
 * A failure names the importing file, the import and the rule it breaks.
 */
import {readdirSync, readFileSync, statSync} from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'

const SRC = path.resolve(import.meta.dirname, '../../src')

/** What each top-level folder may import (besides itself). */
const MAY_IMPORT: Record<string, readonly string[]> = {
  shared: [],
  engine: ['shared'],
  config: ['shared', 'engine'],
  brain: ['shared', 'engine'],
  baselines: ['shared'],
  checks: ['shared', 'engine', 'config', 'brain', 'baselines'],
  repair: ['shared', 'engine', 'config', 'brain', 'checks'],
  render: ['shared', 'brain'],
  history: ['shared'],
  cli: ['shared', 'engine', 'config', 'checks', 'render'],
  commands: ['shared', 'engine', 'config', 'brain', 'checks', 'repair', 'render', 'cli', 'history', 'baselines'],
  hooks: ['shared', 'cli'],
  // The bundle's entry points (src/entry): the CLI as oclif runs it, and the `--version` answer.
  entry: ['shared', 'engine', 'cli', 'commands', 'hooks'],
}

/** The engine's doors for the rest of the code: its index, and the lazy driver loader. */
const ENGINE_DOORS = new Set(['engine/index.ts', 'engine/open.ts'])

interface Edge {
  file: string
  spec: string
  target: string
  typeOnly: boolean
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name)
    return statSync(p).isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [p] : []
  })
}

function edges(): Edge[] {
  const found: Edge[] = []
  for (const file of sourceFiles(SRC)) {
    const text = readFileSync(file, 'utf8')
    const pattern = /^\s*(import|export)(\s+type)?[^'"]*?from\s+['"](\.[^'"]+)['"]|(?:import|require)\(\s*['"](\.[^'"]+)['"]\s*\)/gm
    for (const m of text.matchAll(pattern)) {
      const spec = (m[3] ?? m[4]) as string
      const target = path.relative(SRC, path.resolve(path.dirname(file), spec)).replace(/\.js$/, '.ts')
      found.push({file: path.relative(SRC, file), spec, target, typeOnly: m[2] !== undefined})
    }
  }
  return found
}

const top = (p: string): string => p.split(path.sep)[0] as string

describe('the layers of src/', () => {
  const all = edges()

  it('finds the imports it judges (the scan is not empty)', () => {
    expect(all.length).toBeGreaterThan(200)
    expect(new Set(all.map((e) => top(e.file)))).toEqual(new Set(Object.keys(MAY_IMPORT)))
  })

  it('lets each folder import only the folders below it', () => {
    const broken = all
      .filter((e) => top(e.file) !== top(e.target) && !e.typeOnly)
      .filter((e) => !(MAY_IMPORT[top(e.file)] ?? []).includes(top(e.target)))
      .map((e) => `${e.file}: ${e.spec} (${top(e.file)} may import ${MAY_IMPORT[top(e.file)]?.join(', ') || 'nothing'})`)
    expect(broken).toEqual([])
  })

  it('reaches the engine only through its index (drivers load lazily via engine/open.ts)', () => {
    const deep = all
      .filter((e) => top(e.file) !== 'engine' && top(e.target) === 'engine' && !ENGINE_DOORS.has(e.target))
      .map((e) => `${e.file}: ${e.spec}`)
    expect(deep).toEqual([])
  })

  it('has no cycle between top-level folders, type imports included', () => {
    const next = new Map<string, Set<string>>()
    for (const e of all) {
      const [a, b] = [top(e.file), top(e.target)]
      if (a !== b) next.set(a, (next.get(a) ?? new Set()).add(b))
    }
    const cycles: string[] = []
    const walk = (node: string, trail: string[]): void => {
      if (trail.includes(node)) {
        cycles.push([...trail.slice(trail.indexOf(node)), node].join(' → '))
        return
      }
      for (const n of next.get(node) ?? []) walk(n, [...trail, node])
    }
    for (const start of next.keys()) walk(start, [])
    expect([...new Set(cycles)]).toEqual([])
  })
})

describe('the size of a file in src/', () => {
  it('stays under 300 lines, or its header says why it is one concept all the same', () => {
    const long = sourceFiles(SRC)
      .map((file) => ({file: path.relative(SRC, file), text: readFileSync(file, 'utf8')}))
      .filter(({text}) => text.split('\n').length > 300)
      .filter(({text}) => !/^ \* Over 300 lines on purpose: /m.test(text.slice(0, 4000)))
      .map(({file, text}) => `${file}: ${text.split('\n').length} lines and no "Over 300 lines on purpose:" line in its header`)
    expect(long).toEqual([])
  })
})
