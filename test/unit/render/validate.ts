/**
 * Small, strict checkers for the renderer tests, since no JSON Schema validator or XML parser is
 * installed: a JSON Schema (2020-12) validator for exactly the keywords docs/report.schema.json
 * uses (any other keyword throws, so the subset cannot silently grow), an XML 1.0
 * well-formedness checker, and the Prometheus text exposition line grammar.
 */

type Schema = Record<string, unknown> | boolean

const ANNOTATIONS = new Set(['$schema', '$id', '$defs', 'title', 'description', '$comment', 'examples'])
const SUPPORTED = new Set([
  '$ref',
  'oneOf',
  'type',
  'const',
  'enum',
  'required',
  'properties',
  'additionalProperties',
  'items',
  'minimum',
  'maximum',
  'pattern',
  'format',
])

function typeOf(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'array'
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number'
  return typeof v
}

function typeMatches(v: unknown, t: string): boolean {
  const actual = typeOf(v)
  return actual === t || (t === 'number' && actual === 'integer')
}

// RFC 3339 date-time.
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/

/** Validate `value` against `schema` (resolving `#/$defs/…` in `root`); returns the errors. */
export function validateSchema(schema: Schema, value: unknown, root: Schema = schema, path = '$'): string[] {
  if (schema === true) return []
  if (schema === false) return [`${path}: not allowed`]
  for (const key of Object.keys(schema)) {
    if (!ANNOTATIONS.has(key) && !SUPPORTED.has(key)) throw new Error(`validator does not support keyword ${key}`)
  }
  const errors: string[] = []
  const s = schema
  if (typeof s.$ref === 'string') {
    const m = /^#\/\$defs\/([\w]+)$/.exec(s.$ref)
    const target = m && typeof root === 'object' ? (root.$defs as Record<string, Schema> | undefined)?.[m[1] ?? ''] : undefined
    if (target === undefined) throw new Error(`unresolvable $ref ${s.$ref}`)
    errors.push(...validateSchema(target, value, root, path))
  }
  if (Array.isArray(s.oneOf)) {
    const passing = (s.oneOf as Schema[]).filter((sub) => validateSchema(sub, value, root, path).length === 0).length
    if (passing !== 1) errors.push(`${path}: matches ${passing} of oneOf, expected exactly 1`)
  }
  if (s.type !== undefined) {
    const types = Array.isArray(s.type) ? (s.type as string[]) : [s.type as string]
    if (!types.some((t) => typeMatches(value, t))) return [...errors, `${path}: expected ${types.join('|')}, got ${typeOf(value)}`]
  }
  if ('const' in s && JSON.stringify(value) !== JSON.stringify(s.const)) errors.push(`${path}: expected ${JSON.stringify(s.const)}`)
  if (Array.isArray(s.enum) && !s.enum.some((e) => JSON.stringify(e) === JSON.stringify(value)))
    errors.push(`${path}: ${JSON.stringify(value)} not in enum`)
  if (typeof value === 'number') {
    if (typeof s.minimum === 'number' && value < s.minimum) errors.push(`${path}: below minimum ${s.minimum}`)
    if (typeof s.maximum === 'number' && value > s.maximum) errors.push(`${path}: above maximum ${s.maximum}`)
  }
  if (typeof value === 'string') {
    if (typeof s.pattern === 'string' && !new RegExp(s.pattern, 'u').test(value))
      errors.push(`${path}: ${JSON.stringify(value)} does not match ${s.pattern}`)
    if (s.format === 'date-time' && !DATE_TIME.test(value)) errors.push(`${path}: not a date-time`)
  }
  if (Array.isArray(value) && s.items !== undefined)
    value.forEach((v, i) => errors.push(...validateSchema(s.items as Schema, v, root, `${path}[${i}]`)))
  if (typeOf(value) === 'object') {
    const obj = value as Record<string, unknown>
    for (const key of (s.required as string[] | undefined) ?? []) if (!(key in obj)) errors.push(`${path}: missing ${key}`)
    const props = (s.properties as Record<string, Schema> | undefined) ?? {}
    for (const [key, v] of Object.entries(obj)) {
      if (key in props) errors.push(...validateSchema(props[key] as Schema, v, root, `${path}.${key}`))
      else if (s.additionalProperties !== undefined)
        errors.push(...validateSchema(s.additionalProperties as Schema, v, root, `${path}.${key}`))
    }
  }
  return errors
}

const XML_CHARS = /^[\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]*$/u
const NAME = /^[A-Za-z_:][\w.:-]*/
const ENTITY = /^&(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/

function checkRefs(text: string, where: string, errors: string[]): void {
  for (let i = text.indexOf('&'); i !== -1; i = text.indexOf('&', i + 1)) {
    if (!ENTITY.test(text.slice(i))) errors.push(`${where}: bare & at ${i}`)
  }
  if (text.includes('<')) errors.push(`${where}: raw <`)
}

/**
 * XML 1.0 well-formedness for the subset our JUnit uses (declaration, elements, attributes, text,
 * character and predefined entity references): legal characters only, tags balanced, one root,
 * attributes quoted and unique, no raw `<` or bare `&` in text or attribute values.
 */
export function xmlErrors(xml: string): string[] {
  const errors: string[] = []
  if (!XML_CHARS.test(xml)) errors.push('illegal XML 1.0 character')
  let rest = xml
  const decl = /^<\?xml version="1\.0" encoding="UTF-8"\?>/.exec(rest)
  if (decl) rest = rest.slice(decl[0].length)
  const stack: string[] = []
  let roots = 0
  while (rest.length > 0) {
    const lt = rest.indexOf('<')
    const text = lt === -1 ? rest : rest.slice(0, lt)
    if (text !== '') {
      if (stack.length === 0 && text.trim() !== '') errors.push('text outside the root element')
      checkRefs(text, 'text', errors)
    }
    if (lt === -1) break
    rest = rest.slice(lt)
    const end = /^<(\/?)([^\s/>]*)([^>]*?)(\/?)>/.exec(rest)
    if (!end) {
      errors.push(`unterminated tag near ${JSON.stringify(rest.slice(0, 40))}`)
      break
    }
    const [whole, closing, name = '', attrs = '', selfClosing] = end
    if (!NAME.test(name) || NAME.exec(name)?.[0] !== name) errors.push(`bad element name ${JSON.stringify(name)}`)
    if (closing) {
      if (attrs.trim() !== '') errors.push(`attributes on closing tag ${name}`)
      const open = stack.pop()
      if (open !== name) errors.push(`</${name}> closes <${open ?? 'nothing'}>`)
    } else {
      if (stack.length === 0) roots += 1
      const seen = new Set<string>()
      let a = attrs
      while (a.trim() !== '') {
        const m = /^\s+([A-Za-z_:][\w.:-]*)="([^"]*)"/.exec(a)
        if (!m) {
          errors.push(`bad attribute syntax in <${name}>: ${JSON.stringify(a.slice(0, 40))}`)
          break
        }
        const [all, attr = '', v = ''] = m
        if (seen.has(attr)) errors.push(`duplicate attribute ${attr} in <${name}>`)
        seen.add(attr)
        checkRefs(v, `attribute ${attr}`, errors)
        a = a.slice(all.length)
      }
      if (!selfClosing) stack.push(name)
    }
    rest = rest.slice(whole.length)
  }
  if (stack.length > 0) errors.push(`unclosed: ${stack.join(', ')}`)
  if (roots !== 1) errors.push(`${roots} root elements`)
  return errors
}

const LABEL_VALUE = String.raw`"(?:[^"\\\n]|\\[\\"n])*"`
const LABEL = String.raw`[a-zA-Z_][a-zA-Z0-9_]*=${LABEL_VALUE}`
const VALUE = String.raw`(?:NaN|[+-]Inf|[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)`
/** A sample line of the text exposition format, without a timestamp. */
export const PROM_SAMPLE = new RegExp(String.raw`^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{${LABEL}(?:,${LABEL})*\})? ${VALUE}$`)
export const PROM_HELP = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (?:[^\\\n]|\\[\\n])*$/
export const PROM_TYPE = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/
