import type { ValidationError } from 'class-validator';

/**
 * The checks that say what a value fundamentally is. When a value fails one of them, the others (lengths, sizes,
 * ranges) only restate the same problem in terms the value never had, so a property reports one message: the first
 * of these that failed, else the first that failed at all.
 */
const FUNDAMENTAL_CHECKS = [
  'isBoolean',
  'isString',
  'isInt',
  'isNumber',
  'isArray',
  'isObject',
  'isJsonValue',
  'isIn',
  'isEnum',
  'isHttpUrl',
];

/** One message per offending field, each naming it by its full path (`file_refs[0].url`) and the rule it broke. */
export function validationMessages(errors: ValidationError[], parentPath = ''): string[] {
  const messages: string[] = [];
  for (const error of errors) {
    const path = joinPath(parentPath, error.property);
    if (error.constraints && Object.keys(error.constraints).length > 0) messages.push(messageFor(error, path));
    if (error.children?.length) messages.push(...validationMessages(error.children, path));
  }
  return messages;
}

function messageFor(error: ValidationError, path: string): string {
  const constraints = error.constraints!;
  if (constraints.whitelistValidation) return `${path} is not an accepted field`;
  if (error.value === undefined) return `${path} is required`;
  const check = FUNDAMENTAL_CHECKS.find((name) => constraints[name]) ?? Object.keys(constraints)[0];
  // class-validator's own wording for a nested value that is no object names neither the path nor the fix.
  if (check === 'nestedValidation' && constraints[check].includes('nested property'))
    return `${path} must be an object`;
  return `${path} ${stripSubject(constraints[check], error.property)}`;
}

/** class-validator starts its messages with the bare property name; the path replaces it. */
function stripSubject(message: string, property: string): string {
  return message.startsWith(`${property} `) ? message.slice(property.length + 1) : message;
}

function joinPath(parent: string, property: string): string {
  if (/^\d+$/.test(property)) return `${parent}[${property}]`;
  return parent ? `${parent}.${property}` : property;
}
