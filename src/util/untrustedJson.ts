import type { z } from 'zod';
import { formatBytes } from './format.js';
import { readCapped } from './fs.js';

/**
 * One way to read JSON that someone else wrote (another machine, a person with an editor): size and
 * nesting depth guarded before parsing, a BOM stripped, then parsed and validated. The answer is the
 * value or a reason, never a throw; reasons give a position and a kind, never the file's content.
 */

export interface JsonLimits {
  maxBytes: number;
  maxDepth: number;
}

/** Our own files are small and shallow; anything beyond these is damage, not data. */
export const UNTRUSTED_LIMITS: JsonLimits = { maxBytes: 4 * 1024 * 1024, maxDepth: 64 };

export type JsonRead<T> = { ok: true; value: T } | { ok: false; reason: string };

/** `line L, column C` of an offset, 1-based. */
export function lineAndColumn(text: string, offset: number): string {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return `line ${line}, column ${offset - lineStart + 1}`;
}

/** A character as an error message may show it: printable ones quoted, others by code point. */
export function describeChar(c: string | undefined): string {
  if (c === undefined) return 'the end of the file';
  const code = c.codePointAt(0)!;
  if (code < 0x20 || code === 0x7f || (code >= 0x80 && code < 0xa0) || code === 0xfffd) {
    return `the control character U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  }
  return `'${c}'`;
}

const WS = new Set([' ', '\t', '\n', '\r']);
const LITERALS = ['true', 'false', 'null'];
const ESCAPES = new Set(['"', '\\', '/', 'b', 'f', 'n', 'r', 't']);
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/**
 * Checks JSON syntax and depth without building anything, iteratively (no recursion, so a
 * 200,000-deep array is an answer, not a stack overflow). `undefined` when the text is valid.
 */
export function jsonProblem(text: string, maxDepth: number): { offset: number; message: string } | undefined {
  let i = 0;
  const stack: ('{' | '[')[] = [];
  const fail = (message: string) => ({ offset: i, message });
  const skipWs = () => {
    while (i < text.length && WS.has(text[i]!)) i++;
  };
  const readString = (): string | undefined => {
    i++;
    while (i < text.length) {
      const c = text[i]!;
      if (c === '"') {
        i++;
        return undefined;
      }
      if (c === '\\') {
        const e = text[i + 1];
        if (e === 'u' ? !/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6)) : !ESCAPES.has(e ?? ''))
          return 'an invalid escape in a string';
        i += e === 'u' ? 6 : 2;
      } else if (c.charCodeAt(0) < 0x20) return 'a control character inside a string';
      else i++;
    }
    return 'a string that never ends';
  };
  // expecting: 'value' | 'key' | 'after' (a value just ended)
  let expecting: 'value' | 'key' | 'after-value' | 'colon' = 'value';
  skipWs();
  if (i >= text.length) return fail('an empty document');
  for (;;) {
    skipWs();
    const c = text[i];
    if (expecting === 'value') {
      if (c === '{' || c === '[') {
        stack.push(c);
        if (stack.length > maxDepth) return fail(`nested deeper than ${maxDepth} levels`);
        i++;
        skipWs();
        if (text[i] === (c === '{' ? '}' : ']')) {
          stack.pop();
          i++;
          expecting = 'after-value';
        } else expecting = c === '{' ? 'key' : 'value';
        continue;
      }
      if (c === '"') {
        const bad = readString();
        if (bad) return fail(bad);
      } else if (c !== undefined && (c === '-' || (c >= '0' && c <= '9'))) {
        NUMBER.lastIndex = i;
        if (!NUMBER.test(text)) return fail(`unexpected ${describeChar(c)}`);
        i = NUMBER.lastIndex;
      } else {
        const lit = LITERALS.find((l) => text.startsWith(l, i));
        if (!lit) return fail(`expected a value, found ${describeChar(c)}`);
        i += lit.length;
      }
      expecting = 'after-value';
      continue;
    }
    if (expecting === 'key') {
      if (c !== '"') return fail(`expected a property name, found ${describeChar(c)}`);
      const bad = readString();
      if (bad) return fail(bad);
      expecting = 'colon';
      continue;
    }
    if (expecting === 'colon') {
      if (c !== ':') return fail(`expected ':', found ${describeChar(c)}`);
      i++;
      expecting = 'value';
      continue;
    }
    // after a value
    const top = stack[stack.length - 1];
    if (top === undefined)
      return c === undefined ? undefined : fail(`unexpected ${describeChar(c)} after the end of the document`);
    if (c === ',') {
      i++;
      skipWs();
      expecting = top === '{' ? 'key' : 'value';
      continue;
    }
    if (c === (top === '{' ? '}' : ']')) {
      stack.pop();
      i++;
      continue;
    }
    return fail(`expected ',' or '${top === '{' ? '}' : ']'}', found ${describeChar(c)}`);
  }
}

function kindOfValue(v: unknown): string {
  if (v === null) return 'null';
  return Array.isArray(v) ? 'a list' : `a ${typeof v}`;
}

/** What a non-UTF-8 text looks like, so the error can say how to fix it. */
function encodingProblem(text: string): string | undefined {
  if (text.includes('\u0000')) return 'holds NUL bytes: it looks like UTF-16; save it as UTF-8';
  return undefined;
}

/** Why a JSON text (BOM already stripped) cannot be parsed safely: too large, not UTF-8, bad syntax or too deep. */
export function jsonTextProblem(body: string, limits: JsonLimits = UNTRUSTED_LIMITS): string | undefined {
  if (body.length > limits.maxBytes) return `too large (${formatBytes(body.length)})`;
  const encoding = encodingProblem(body);
  if (encoding) return encoding;
  const problem = jsonProblem(body, limits.maxDepth);
  return problem && `not valid JSON at ${lineAndColumn(body, problem.offset)}: ${problem.message}`;
}

/** Parses text from elsewhere: guarded, BOM-tolerant, validated; a reason instead of a throw. */
export function parseUntrusted<T>(
  text: string,
  schema: z.ZodType<T>,
  limits: JsonLimits = UNTRUSTED_LIMITS,
): JsonRead<T> {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const problem = jsonTextProblem(body, limits);
  if (problem) return { ok: false, reason: problem };
  const value: unknown = JSON.parse(body);
  if (typeof value !== 'object' || value === null)
    return { ok: false, reason: `expected an object or a list, found ${kindOfValue(value)}` };
  const parsed = schema.safeParse(value);
  if (parsed.success) return { ok: true, value: parsed.data };
  const issue = parsed.error.issues[0]!;
  return { ok: false, reason: `${issue.path.join('.') || '(top level)'}: ${issue.message}` };
}

/** Text safe to show on a terminal: control characters and bidi overrides (which reorder what is shown) become `\uXXXX`. */
export function printable(text: string): string {
  return text.replace(
    /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

export type FileRead<T> = JsonRead<T> | { ok: false; missing: true; reason: string };

/** Reads a file from the shared state: never through a symbolic link, never more than `maxBytes`. */
export function readUntrustedFile<T>(
  file: string,
  schema: z.ZodType<T>,
  limits: JsonLimits = UNTRUSTED_LIMITS,
): FileRead<T> {
  const read = readCapped(file, limits.maxBytes);
  if ('missing' in read) return { ok: false, missing: true, reason: 'missing' };
  if ('unreadable' in read) return { ok: false, reason: read.unreadable };
  return parseUntrusted(read.text, schema, limits);
}
