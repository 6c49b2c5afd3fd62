import { applyDecorators } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { ValidateBy, ValidateIf, ValidationOptions } from 'class-validator';
import { canonicalJson } from './canonical-json';

export const MAX_URL_LENGTH = 2048;

/** An absolute http(s) URL with a host, no credentials, and no whitespace or control characters anywhere. */
export function isHttpUrl(value: unknown): boolean {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_URL_LENGTH) return false;
  // The WHATWG parser silently drops tabs and newlines; refuse them rather than store a different URL.
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused here
  if (/[\s\u0000-\u001f\u007f]/.test(value)) return false;
  try {
    const url = new URL(value);
    return (
      (url.protocol === 'http:' || url.protocol === 'https:') &&
      url.hostname.length > 0 &&
      !url.username &&
      !url.password
    );
  } catch {
    return false;
  }
}

export function IsHttpUrl(options?: ValidationOptions): PropertyDecorator {
  return applyDecorators(ApiProperty({ format: 'uri', maxLength: MAX_URL_LENGTH }), isHttpUrlValidator(options));
}

function isHttpUrlValidator(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isHttpUrl',
      validator: {
        validate: isHttpUrl,
        defaultMessage: (args) =>
          `${args?.property} must be an absolute http(s) URL of at most ${MAX_URL_LENGTH} characters, without credentials or whitespace`,
      },
    },
    options,
  );
}

/** Caps a JSON value by its serialised size. */
export function MaxJsonBytes(maxBytes: number, options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'maxJsonBytes',
      validator: {
        validate: (value: unknown) =>
          value === undefined || Buffer.byteLength(canonicalJson(value), 'utf8') <= maxBytes,
        defaultMessage: (args) => `${args?.property} must serialise to at most ${maxBytes} bytes of JSON`,
      },
    },
    options,
  );
}

/** Anything JSON can carry except undefined: objects, arrays, strings, numbers, booleans, null. */
export function IsJsonValue(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isJsonValue',
      validator: {
        validate: (value: unknown) => value !== undefined && typeof value !== 'function',
        defaultMessage: (args) => `${args?.property} must be a JSON value`,
      },
    },
    options,
  );
}

/**
 * Optional, but not nullable: the property may be left out, and when present it is validated (null included).
 * class-validator's IsOptional would let null through unchecked.
 */
export function IsOptionalNotNull(options?: ValidationOptions): PropertyDecorator {
  return ValidateIf((_object, value) => value !== undefined, options);
}

const FREE_FORM_FIELDS = new WeakMap<object, string[]>();

/**
 * Marks a field as the users' free-form JSON: validation checks it, nothing transforms it. The request pipe hands
 * the handler the parsed value itself, with every key (`constructor`, `__proto__`, …) exactly as sent.
 */
export function FreeFormJson(): PropertyDecorator {
  return (target, property) => {
    const fields = FREE_FORM_FIELDS.get(target.constructor) ?? [];
    FREE_FORM_FIELDS.set(target.constructor, [...fields, String(property)]);
  };
}

export function freeFormFields(dtoClass: object): readonly string[] {
  const fields: string[] = [];
  for (let current = dtoClass; current && current !== Function.prototype; current = Object.getPrototypeOf(current)) {
    fields.push(...(FREE_FORM_FIELDS.get(current) ?? []));
  }
  return fields;
}
