/** The output formats of `gbrain doctor --format`. */
export const FORMATS = ['table', 'json', 'junit', 'github', 'nagios', 'prometheus'] as const
export type Format = (typeof FORMATS)[number]

export function isFormat(value: string): value is Format {
  return (FORMATS as readonly string[]).includes(value)
}
