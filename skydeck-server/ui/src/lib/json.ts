/**
 * JSON that keeps flag values exact. `JSON.parse` turns the server's `3.0` into `3` (and so a
 * double into an integer on the next save) and rounds integers beyond 2^53; here every number
 * whose text is not a safe integer is kept as a {@link FlagNumber} holding its text, inside flag
 * values, and sent back byte for byte by {@link stringifyJson}. Elsewhere numbers are plain.
 */

/** A number kept as the text the server wrote: a decimal (`3.0`, `1e-05`) or a large integer. */
export class FlagNumber {
  constructor(readonly text: string) {}

  /** Whether it is a decimal (a double on the server), not a whole number. */
  get decimal(): boolean {
    return /[.eE]/.test(this.text);
  }

  valueOf(): number {
    return Number(this.text);
  }

  toString(): string {
    return this.text;
  }
}

/** Keys whose values are flag values (objects of them, lists of them, or one). */
const FLAG_OBJECTS = new Set(['flags', 'set_flags']);
const FLAG_LISTS = new Set(['observed_values', 'choices']);
const FLAG_SCALARS = new Set(['default_value']);

const SAFE_INTEGER = /^-?\d{1,15}$/;

/** Back to plain numbers, except under flag keys. */
function plain(key: string, value: unknown): unknown {
  if (value instanceof FlagNumber) return value;
  if (Array.isArray(value)) {
    if (!FLAG_LISTS.has(key)) {
      for (let i = 0; i < value.length; i++) {
        if (value[i] instanceof FlagNumber) value[i] = Number((value[i] as FlagNumber).text);
      }
    }
    return value;
  }
  if (value !== null && typeof value === 'object' && !FLAG_OBJECTS.has(key)) {
    const o = value as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      const v = o[k];
      if (v instanceof FlagNumber && !FLAG_SCALARS.has(k)) o[k] = Number(v.text);
    }
  }
  return value;
}

function number(source: string, value: number): number | FlagNumber {
  return SAFE_INTEGER.test(source) ? value : new FlagNumber(source);
}

interface SourceContext {
  source?: string;
}

let sourceTextSupported: boolean | null = null;

/** Whether `JSON.parse` hands revivers the source text of numbers (current browsers do). */
function hasSourceText(): boolean {
  if (sourceTextSupported === null) {
    let seen: string | undefined;
    JSON.parse('1.0', (_k, v: unknown, ctx?: SourceContext) => {
      seen = ctx?.source;
      return v;
    });
    sourceTextSupported = seen === '1.0';
  }
  return sourceTextSupported;
}

/** Parses a JSON text from the API, keeping flag numbers exact. */
export function parseJson(text: string): unknown {
  if (hasSourceText()) {
    return JSON.parse(text, function (this: unknown, key: string, value: unknown, ctx?: SourceContext) {
      if (typeof value === 'number') return number(ctx?.source ?? String(value), value);
      return plain(key, value);
    });
  }
  return new Parser(text).document();
}

/** A small parser with the same result, for runtimes without source text (Node before 21). */
class Parser {
  private i = 0;

  constructor(private readonly s: string) {}

  document(): unknown {
    const v = this.value('');
    this.ws();
    if (this.i !== this.s.length) this.fail('unexpected text after the value');
    return v;
  }

  private fail(what: string): never {
    throw new SyntaxError(`JSON: ${what} at ${this.i}`);
  }

  private ws() {
    while (this.i < this.s.length && ' \t\n\r'.includes(this.s[this.i]!)) this.i++;
  }

  private value(key: string): unknown {
    this.ws();
    const c = this.s[this.i];
    if (c === '{') return plain(key, this.object());
    if (c === '[') return plain(key, this.array(key));
    if (c === '"') return this.string();
    if (c === 't' || c === 'f' || c === 'n') return this.literal();
    return this.num();
  }

  private object(): Record<string, unknown> {
    const o: Record<string, unknown> = {};
    this.i++;
    this.ws();
    if (this.s[this.i] === '}') {
      this.i++;
      return o;
    }
    for (;;) {
      this.ws();
      const k = this.string();
      this.ws();
      if (this.s[this.i++] !== ':') this.fail("expected ':'");
      o[k] = this.value(k);
      this.ws();
      const c = this.s[this.i++];
      if (c === '}') return o;
      if (c !== ',') this.fail("expected ',' or '}'");
    }
  }

  private array(key: string): unknown[] {
    const a: unknown[] = [];
    this.i++;
    this.ws();
    if (this.s[this.i] === ']') {
      this.i++;
      return a;
    }
    for (;;) {
      a.push(this.value(key));
      this.ws();
      const c = this.s[this.i++];
      if (c === ']') return a;
      if (c !== ',') this.fail("expected ',' or ']'");
    }
  }

  private string(): string {
    if (this.s[this.i] !== '"') this.fail('expected a string');
    const start = this.i;
    this.i++;
    while (this.i < this.s.length && this.s[this.i] !== '"') this.i += this.s[this.i] === '\\' ? 2 : 1;
    this.i++;
    return JSON.parse(this.s.slice(start, this.i)) as string;
  }

  private literal(): boolean | null {
    for (const [word, v] of [['true', true], ['false', false], ['null', null]] as const) {
      if (this.s.startsWith(word, this.i)) {
        this.i += word.length;
        return v;
      }
    }
    return this.fail('unexpected literal');
  }

  private num(): number | FlagNumber {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?/.exec(this.s.slice(this.i, this.i + 400));
    if (!m) this.fail('expected a value');
    this.i += m[0].length;
    return number(m[0], Number(m[0]));
  }
}

/** JSON text for a request body: {@link FlagNumber}s are written as the text they hold. */
export function stringifyJson(value: unknown): string {
  if (value instanceof FlagNumber) return value.text;
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return `[${value.map((v) => stringifyJson(v ?? null)).join(',')}]`;
  if (typeof value === 'object') {
    const parts: string[] = [];
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (v !== undefined) parts.push(`${JSON.stringify(k)}:${stringifyJson(v)}`);
    }
    return `{${parts.join(',')}}`;
  }
  return JSON.stringify(value);
}
