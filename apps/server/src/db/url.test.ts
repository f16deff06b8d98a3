import { describe, expect, it } from 'vitest';

import { parseDatabaseUrl } from './url.js';

describe('parseDatabaseUrl', () => {
  it('reads absolute SQLite file URLs', () => {
    expect(parseDatabaseUrl('sqlite:///var/lib/elizabeth/elizabeth.db')).toEqual({
      dialect: 'sqlite',
      filename: '/var/lib/elizabeth/elizabeth.db',
    });
    expect(parseDatabaseUrl('sqlite:///tmp/with space/a.db')).toEqual({
      dialect: 'sqlite',
      filename: '/tmp/with space/a.db',
    });
  });

  it('drops sqlx-style query options from SQLite URLs', () => {
    expect(parseDatabaseUrl('sqlite:///data/app.db?mode=rwc')).toEqual({
      dialect: 'sqlite',
      filename: '/data/app.db',
    });
  });

  it('reads in-memory SQLite URLs', () => {
    expect(parseDatabaseUrl('sqlite::memory:')).toEqual({ dialect: 'sqlite', filename: ':memory:' });
    expect(parseDatabaseUrl('sqlite://:memory:')).toEqual({ dialect: 'sqlite', filename: ':memory:' });
  });

  it('passes PostgreSQL URLs through unchanged', () => {
    const url = 'postgres://elz:s3cret@db.internal:5432/elizabeth?sslmode=require';
    expect(parseDatabaseUrl(url)).toEqual({ dialect: 'postgres', connectionString: url });
    expect(parseDatabaseUrl('postgresql://localhost/elz')).toEqual({
      dialect: 'postgres',
      connectionString: 'postgresql://localhost/elz',
    });
  });

  it('rejects relative SQLite paths', () => {
    expect(() => parseDatabaseUrl('sqlite:app.db')).toThrow(/absolute/);
    expect(() => parseDatabaseUrl('sqlite://app.db')).toThrow(/absolute/);
    expect(() => parseDatabaseUrl('sqlite://')).toThrow(/absolute/);
  });

  it('rejects other schemes and garbage, without echoing credentials', () => {
    expect(() => parseDatabaseUrl('mysql://root:pw@localhost/db')).toThrow(
      /Unsupported database URL scheme "mysql"/,
    );
    expect(() => parseDatabaseUrl('mysql://root:pw@localhost/db')).not.toThrow(/pw/);
    expect(() => parseDatabaseUrl('/var/lib/app.db')).toThrow(/Unsupported database URL/);
    expect(() => parseDatabaseUrl('')).toThrow(/Unsupported database URL/);
    expect(() => parseDatabaseUrl('postgres://user:pw@[bad')).toThrow('Invalid PostgreSQL database URL');
  });
});
