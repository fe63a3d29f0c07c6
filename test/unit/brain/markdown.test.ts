import {describe, expect, it} from 'vitest'
import {isValidDate, looksBinary, parseNote, slugify} from '../../../src/brain/markdown.js'

describe('parseNote', () => {
  it('extracts the title, timeline entries and wikilinks', () => {
    const note = parseNote(
      [
        '# Project Alpha',
        '',
        '- 2024-03-01: kickoff with [[Bob Smith]]',
        '* 2024-03-05: shipped v1',
        'See [[notes/Design Doc|the design]] and [[faq#install]].',
      ].join('\n'),
      'fallback',
    )
    expect(note.title).toBe('Project Alpha')
    expect(note.timeline).toEqual([
      {date: '2024-03-01', summary: 'kickoff with [[Bob Smith]]'},
      {date: '2024-03-05', summary: 'shipped v1'},
    ])
    expect(note.links).toEqual(['bob-smith', 'notes/design-doc', 'faq'])
    expect(note.invalidDates).toBe(0)
  })

  it('counts invalid dates instead of storing them', () => {
    const note = parseNote('- 2024-13-45: nope\n- 2023-02-29: not a leap year\n- 2024-02-29: leap day\n- 24-1-1: short', 'x')
    expect(note.timeline).toEqual([{date: '2024-02-29', summary: 'leap day'}])
    expect(note.invalidDates).toBe(3)
  })

  it('counts an unterminated [[ and keeps going', () => {
    const note = parseNote('broken [[link here\nfine [[ok]]\n[[a [[b]]', 'x')
    expect(note.links).toEqual(['ok', 'b'])
    expect(note.unterminatedLinks).toBe(2)
  })

  it('drops duplicate entries and links, counting them', () => {
    const note = parseNote('- 2024-01-01: same\n- 2024-01-01: same\n[[a]] [[A]] [[a|alias]]', 'x')
    expect(note.timeline).toHaveLength(1)
    expect(note.links).toEqual(['a'])
    expect(note.duplicates).toBe(3)
  })

  it('ignores fenced code and falls back to the file name for the title', () => {
    const note = parseNote('```\n- 2024-01-01: in code\n[[nope]]\n```\ntext', 'my-file')
    expect(note.timeline).toEqual([])
    expect(note.links).toEqual([])
    expect(note.title).toBe('my-file')
  })
})

describe('helpers', () => {
  it('slugify lower-cases, drops .md and joins words with -', () => {
    expect(slugify('Notes/My Page.md')).toBe('notes/my-page')
    expect(slugify(' a__b  c ')).toBe('a-b-c')
    expect(slugify('dir\\sub\\x.MD')).toBe('dir/sub/x')
  })

  it('isValidDate knows month lengths', () => {
    expect(isValidDate(2024, 2, 29)).toBe(true)
    expect(isValidDate(2023, 2, 29)).toBe(false)
    expect(isValidDate(2024, 4, 31)).toBe(false)
    expect(isValidDate(2024, 0, 1)).toBe(false)
  })

  it('looksBinary spots NUL bytes and invalid UTF-8', () => {
    expect(looksBinary(Buffer.from('plain text ✓'))).toBe(false)
    expect(looksBinary(Buffer.from([0x61, 0x00, 0x62]))).toBe(true)
    expect(looksBinary(Buffer.from([0xff, 0xfe, 0x41]))).toBe(true)
  })
})
