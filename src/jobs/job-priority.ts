/** A job's priority as the API names it, and as the database stores it (ascending order forwards first). */
export const PRIORITIES = ['high', 'normal', 'low'] as const;
export type Priority = (typeof PRIORITIES)[number];

export const DEFAULT_PRIORITY: Priority = 'normal';

export const priorityRank = (priority: Priority): number => PRIORITIES.indexOf(priority);

/** The stored rank's name; an unknown rank reads as normal. */
export const priorityName = (rank: number): Priority => PRIORITIES[rank] ?? DEFAULT_PRIORITY;
