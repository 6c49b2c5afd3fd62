export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const TRUE = ['true', '1', 'yes', 'on'];
const FALSE = ['false', '0', 'no', 'off'];

/** Typed accessors over the environment that collect problems instead of throwing at the first. */
export class ConfigReader {
  private readonly problems: string[] = [];

  constructor(private readonly env: NodeJS.ProcessEnv) {}

  fail(name: string, problem: string): void {
    this.problems.push(`${name} ${problem}`);
  }

  throwIfInvalid(): void {
    if (this.problems.length > 0) throw new ConfigError(this.problems);
  }

  private raw(name: string): string | undefined {
    const value = this.env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  }

  string(name: string, fallback: string): string {
    return this.raw(name) ?? fallback;
  }

  optionalString(name: string): string | null {
    return this.raw(name) ?? null;
  }

  /** A value sent in an HTTP header: control characters (CR/LF above all) would split or forge headers. */
  headerValue(name: string): string | null {
    const value = this.raw(name) ?? null;
    // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused here
    if (value !== null && /[\u0000-\u001f\u007f]/.test(value)) {
      this.fail(name, 'must not contain control characters (it is sent in an HTTP header)');
      return null;
    }
    return value;
  }

  number(name: string, fallback: number, min: number, max: number): number {
    const raw = this.raw(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!/^[0-9]*\.?[0-9]+$/.test(raw) || !Number.isFinite(value) || value < min || value > max) {
      this.fail(name, `must be a number from ${min} to ${max} (got "${raw}")`);
      return fallback;
    }
    return value;
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const raw = this.raw(name);
    if (raw !== undefined && !/^[0-9]+$/.test(raw)) {
      this.fail(name, `must be a whole number from ${min} to ${max} (got "${raw}")`);
      return fallback;
    }
    return this.number(name, fallback, min, max);
  }

  bool(name: string, fallback: boolean): boolean {
    const raw = this.raw(name)?.toLowerCase();
    if (raw === undefined) return fallback;
    if (TRUE.includes(raw)) return true;
    if (FALSE.includes(raw)) return false;
    this.fail(name, `must be true or false (got "${raw}")`);
    return fallback;
  }

  oneOf<T extends string>(name: string, fallback: T, allowed: readonly T[]): T {
    const raw = this.raw(name)?.toLowerCase();
    if (raw === undefined) return fallback;
    if ((allowed as readonly string[]).includes(raw)) return raw as T;
    this.fail(name, `must be one of ${allowed.join(', ')} (got "${raw}")`);
    return fallback;
  }

  optionalUrl(name: string): string | null {
    const raw = this.raw(name);
    if (raw === undefined) return null;
    return this.checkUrl(name, raw);
  }

  url(name: string, fallback: string): string {
    return this.optionalUrl(name) ?? fallback;
  }

  path(name: string, fallback: string): string {
    return this.optionalPath(name) ?? fallback;
  }

  /** A URL path; `placeholders` (such as `{job_id}`) may appear in it, to be filled in later. */
  optionalPath(name: string, placeholders: string[] = []): string | null {
    const raw = this.raw(name);
    if (raw === undefined) return null;
    const filled = placeholders.reduce((path, placeholder) => path.replaceAll(placeholder, 'x'), raw);
    if (!/^\/[A-Za-z0-9._~!$&'()*+,;=:@/%-]*$/.test(filled)) {
      const allowed = placeholders.length > 0 ? ` (${placeholders.join(', ')} allowed)` : '';
      this.fail(name, `must be a URL path starting with "/"${allowed} (got "${raw}")`);
      return null;
    }
    return raw;
  }

  list(name: string): string[] {
    const raw = this.raw(name);
    if (raw === undefined) return [];
    return raw
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item.length > 0);
  }

  private checkUrl(name: string, raw: string): string | null {
    try {
      const url = new URL(raw);
      if (url.protocol === 'http:' || url.protocol === 'https:') return raw;
    } catch {
      // reported below
    }
    this.fail(name, `must be an absolute http(s) URL (got "${raw}")`);
    return null;
  }
}
