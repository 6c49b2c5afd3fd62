import { InvalidCursorError } from '../common/domain-errors';

/** A page boundary in the list's order (newest first): the last job of a page, as `created_at` ms and id. */
export interface ListPosition {
  createdAt: number;
  id: string;
}

const POSITION = /^(\d{1,15}):(job_[0-9a-f]{32})$/;

/** Opaque to clients: base64url of `<created_at ms>:<job id>`. */
export function encodeCursor(position: ListPosition): string {
  return Buffer.from(`${position.createdAt}:${position.id}`).toString('base64url');
}

export function decodeCursor(cursor: string): ListPosition {
  const match = /^[A-Za-z0-9_-]+$/.test(cursor)
    ? POSITION.exec(Buffer.from(cursor, 'base64url').toString('latin1'))
    : null;
  if (!match) throw new InvalidCursorError();
  return { createdAt: Number(match[1]), id: match[2] };
}
