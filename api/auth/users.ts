import type { Sql } from 'postgres';
import { AGENCIES, ROLES, type Agency, type Role } from '../../domain/index.ts';
import { newId } from '../../eventstore/eventIds.ts';
import { hashPassword } from './passwords.ts';

/** An account as the rest of the API sees it: never with its password hash. */
export interface User {
  id: string;
  username: string;
  displayName: string;
  role: Role;
  /** For admins and auditors the agency only labels their events: their scope is the whole city. */
  agency: Agency;
}

export interface StoredUser extends User {
  passwordHash: string;
}

export interface NewUser {
  username: string;
  password: string;
  role: Role;
  agency: Agency;
  displayName?: string;
  /** Defaults to a fresh UUID v7. */
  id?: string;
}

export const USERNAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;

export class UserExistsError extends Error {
  override readonly name = 'UserExistsError';
  constructor(readonly username: string) {
    super(`A user named ${username} already exists.`);
  }
}

interface UserRow {
  id: string;
  username: string;
  display_name: string;
  password_hash: string;
  role: string;
  agency: string;
}

function fromRow(row: UserRow): StoredUser {
  return {
    id: row.id,
    username: row.username,
    displayName: row.display_name,
    role: row.role as Role,
    agency: row.agency as Agency,
    passwordHash: row.password_hash,
  };
}

export function publicUser({ passwordHash: _, ...user }: StoredUser): User {
  return user;
}

/**
 * Creates an account with a scrypt-hashed password. With `ifExists: 'keep'` an existing username is returned
 * untouched (for seeds that run on every start); otherwise it is an error.
 */
export async function createUser(sql: Sql, input: NewUser, options: { ifExists?: 'error' | 'keep' } = {}): Promise<User> {
  const username = input.username.trim().toLowerCase();
  if (!USERNAME_PATTERN.test(username)) throw new RangeError(`Username ${JSON.stringify(input.username)} must be 1-64 lowercase letters, digits, '.', '_' or '-'.`);
  if (!(ROLES as readonly string[]).includes(input.role)) throw new RangeError(`Unknown role ${JSON.stringify(input.role)}; roles: ${ROLES.join(', ')}.`);
  if (!(AGENCIES as readonly string[]).includes(input.agency)) throw new RangeError(`Unknown agency ${JSON.stringify(input.agency)}; agencies: ${AGENCIES.join(', ')}.`);
  if (input.password.length === 0) throw new RangeError('A password must not be empty.');

  const passwordHash = await hashPassword(input.password);
  const rows = await sql<UserRow[]>`
    insert into users (id, username, display_name, password_hash, role, agency)
    values (${input.id ?? newId()}, ${username}, ${input.displayName ?? username}, ${passwordHash}, ${input.role}, ${input.agency})
    on conflict (username) do nothing
    returning id, username, display_name, password_hash, role, agency`;
  if (rows[0]) return publicUser(fromRow(rows[0]));
  const existing = await findUserByUsername(sql, username);
  if (options.ifExists === 'keep' && existing) return publicUser(existing);
  throw new UserExistsError(username);
}

export async function findUserByUsername(sql: Sql, username: string): Promise<StoredUser | undefined> {
  const rows = await sql<UserRow[]>`
    select id, username, display_name, password_hash, role, agency from users where username = ${username.trim().toLowerCase()}`;
  return rows[0] ? fromRow(rows[0]) : undefined;
}

export async function findUserById(sql: Sql, id: string): Promise<StoredUser | undefined> {
  const rows = await sql<UserRow[]>`select id, username, display_name, password_hash, role, agency from users where id = ${id}`;
  return rows[0] ? fromRow(rows[0]) : undefined;
}
