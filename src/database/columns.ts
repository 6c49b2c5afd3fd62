import { ValueTransformer } from 'typeorm';

/**
 * Times are stored as epoch milliseconds taken from the database clock, so leases and due times compare the same way
 * on SQLite and PostgreSQL and across replicas whose clocks differ. PostgreSQL returns bigint as a string.
 */
export const epochMs: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | number | null) => (value === null || value === undefined ? null : Number(value)),
};

/** JSON kept as text: portable across both databases and exact about what was received. */
export const jsonText: ValueTransformer = {
  to: (value: unknown) => (value === undefined ? null : JSON.stringify(value)),
  from: (value: string | null) => (value === null || value === undefined ? null : JSON.parse(value)),
};

/** A bigint counter read as a number (exact below 2^53); PostgreSQL returns bigint as a string. */
export const bigintNumber: ValueTransformer = {
  to: (value: number | undefined) => value,
  from: (value: string | number | null) => (value === null || value === undefined ? null : Number(value)),
};
