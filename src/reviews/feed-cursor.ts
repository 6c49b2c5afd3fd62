import { InvalidCursorError } from '../common/domain-errors';

/** A reader's place in the catch-up feed: the last change it was given, as `change_seq` and job id. */
export interface ChangePosition {
  seq: number;
  id: string;
}

/** Before every change: where a reader without a cursor starts. */
export const FEED_START: ChangePosition = { seq: 0, id: '' };

/** `c` marks a feed cursor, so a list cursor (or a feed cursor given to the list) is refused, not misread. */
const POSITION = /^c(\d{1,16}):(job_[0-9a-f]{1,32})?$/;

/** Opaque to clients: base64url of `c<change_seq>:<job id>` (no id for the start). */
export function encodeFeedCursor(position: ChangePosition): string {
  return Buffer.from(`c${position.seq}:${position.id}`).toString('base64url');
}

export function decodeFeedCursor(cursor: string): ChangePosition {
  const match = /^[A-Za-z0-9_-]{1,200}$/.test(cursor)
    ? POSITION.exec(Buffer.from(cursor, 'base64url').toString('latin1'))
    : null;
  const seq = match ? Number(match[1]) : Number.NaN;
  if (!match || !Number.isSafeInteger(seq) || (match[2] === undefined && seq !== 0)) throw new InvalidCursorError();
  return { seq, id: match[2] ?? '' };
}
