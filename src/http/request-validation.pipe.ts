import { ArgumentMetadata, Injectable, PipeTransform } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { DomainError } from '../common/domain-errors';
import { validationMessages } from '../common/validation-messages';
import { freeFormFields } from '../common/validators';

const PRIMITIVES = new Set<unknown>([String, Boolean, Number, Array, Object]);

/**
 * Validates bodies and queries against their DTO classes: unknown fields are refused, and each problem is named once.
 *
 * class-transformer copies objects key by key into new ones: keys named like Object.prototype members
 * (`constructor`, `toString`, …) are dropped and `__proto__` would rewrite a prototype. So it only ever sees the
 * DTO's own structure; the free-form fields (see FreeFormJson) are set on the instance as the parsed values
 * themselves, and structural keys that clash with Object.prototype are refused before class-transformer runs.
 */
@Injectable()
export class RequestValidationPipe implements PipeTransform {
  transform(value: unknown, { metatype, type }: ArgumentMetadata): unknown {
    if ((type !== 'body' && type !== 'query') || !metatype || PRIMITIVES.has(metatype)) return value;
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new DomainError('body_not_object', `The request ${type} must be a JSON object`);
    }
    const source = value as Record<string, unknown>;
    const freeForm = freeFormFields(metatype);
    const structure: Record<string, unknown> = {};
    for (const key of Object.keys(source)) if (!freeForm.includes(key)) defineOwn(structure, key, source[key]);
    const clashes = prototypeKeyPaths(structure);
    if (clashes.length > 0) throw invalid(clashes.map((path) => `${path} is not an accepted field`));

    const instance = plainToInstance(metatype as new () => object, structure) as Record<string, unknown>;
    for (const key of freeForm) {
      if (Object.hasOwn(source, key)) defineOwn(instance, key, source[key]);
    }
    const errors = validateSync(instance, { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true });
    if (errors.length > 0) throw invalid(validationMessages(errors));
    return instance;
  }
}

/** An own data property, even for `__proto__` (plain assignment would set the prototype instead). */
function defineOwn(target: object, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function invalid(messages: string[]): DomainError {
  return new DomainError('validation_failed', messages.join('; '), messages);
}

/** Paths of keys, at any depth of the DTO's own structure, that are Object.prototype members (or `__proto__`). */
function prototypeKeyPaths(value: unknown, path = ''): string[] {
  if (value === null || typeof value !== 'object') return [];
  const found: string[] = [];
  for (const key of Object.keys(value)) {
    const child = Array.isArray(value) ? `${path}[${key}]` : path ? `${path}.${key}` : key;
    if (!Array.isArray(value) && Object.hasOwn(Object.prototype, key)) found.push(child);
    else found.push(...prototypeKeyPaths((value as Record<string, unknown>)[key], child));
  }
  return found;
}
