/**
 * JSON numbers the relay cannot pass on unchanged. JavaScript reads every JSON number as an IEEE-754 double:
 * `1.8e309` becomes Infinity (which JSON.stringify later writes as null) and `12345678901234567891` is written on as
 * `12345678901234567000`, a different integer to any receiver that reads integers exactly. Both would silently change
 * the users' data, so such bodies are refused instead. An integer passes when the relay writes it back with the
 * same digits (always true up to 15 digits; `1152921504606847000` = 2^60 passes, `9007199254740993` does not).
 */

const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
/** Integers of up to 15 digits are always exact; only longer runs need a closer look. */
const SAFE_DIGITS = 15;

/** The first integer literal in raw JSON text that would not be written back with the same digits, or null. */
export function firstInexactInteger(raw: Buffer): string | null {
  if (!hasLongDigitRun(raw)) return null;
  let inString = false;
  for (let i = 0; i < raw.length; i++) {
    const byte = raw[i];
    if (inString) {
      if (byte === BACKSLASH) i++;
      else if (byte === QUOTE) inString = false;
      continue;
    }
    if (byte === QUOTE) {
      inString = true;
      continue;
    }
    if (byte !== 0x2d && (byte < DIGIT_0 || byte > DIGIT_9)) continue;
    const end = numberEnd(raw, i);
    const token = raw.toString('latin1', i, end);
    if (/^-?\d+$/.test(token) && !integerSurvives(token)) return token;
    i = end - 1;
  }
  return null;
}

/** Path of the first number that is not finite (JSON.parse turns an overflowing literal into Infinity), or null. */
export function firstNonFiniteNumber(value: unknown): string | null {
  const stack: [unknown, string][] = [[value, '']];
  while (stack.length > 0) {
    const [current, path] = stack.pop()!;
    if (typeof current === 'number') {
      if (!Number.isFinite(current)) return path || '(body)';
    } else if (Array.isArray(current)) {
      current.forEach((child, index) => stack.push([child, `${path}[${index}]`]));
    } else if (current !== null && typeof current === 'object') {
      for (const key of Object.keys(current))
        stack.push([(current as Record<string, unknown>)[key], path ? `${path}.${key}` : key]);
    }
  }
  return null;
}

function integerSurvives(token: string): boolean {
  const digits = token.replace(/^-?0*/, '');
  return digits.length <= SAFE_DIGITS || String(Number(token)) === token;
}

function hasLongDigitRun(raw: Buffer): boolean {
  let run = 0;
  for (let i = 0; i < raw.length; i++) {
    const byte = raw[i];
    if (byte >= DIGIT_0 && byte <= DIGIT_9) {
      if (++run > SAFE_DIGITS) return true;
    } else run = 0;
  }
  return false;
}

function numberEnd(raw: Buffer, start: number): number {
  let end = start + 1;
  while (end < raw.length && isNumberByte(raw[end])) end++;
  return end;
}

function isNumberByte(byte: number): boolean {
  return (
    (byte >= DIGIT_0 && byte <= DIGIT_9) ||
    byte === 0x2e ||
    byte === 0x2d ||
    byte === 0x2b ||
    byte === 0x65 ||
    byte === 0x45
  );
}
