import { timestamp } from 'drizzle-orm/pg-core';

/** Every instant is stored as timestamptz (UTC on the wire) and read as a Date. */
export const timestamptz = () => timestamp({ withTimezone: true, mode: 'date' });
