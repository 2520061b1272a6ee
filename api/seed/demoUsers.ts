import { AGENCIES, AGENCY_NAMES, type Agency, type Role } from '../../domain/index.ts';

export const DEMO_PASSWORD = 'demo';

export interface DemoUser {
  username: string;
  password: string;
  role: Role;
  agency: Agency;
  displayName: string;
}

const ROLE_NAMES = {
  dispatcher: { en: 'dispatcher', zh: '调度员' },
  supervisor: { en: 'field supervisor', zh: '现场指挥' },
} as const;

function agencyUser(role: 'dispatcher' | 'supervisor', agency: Agency): DemoUser {
  const names = AGENCY_NAMES[agency];
  return {
    username: `${role}.${agency}`,
    password: DEMO_PASSWORD,
    role,
    agency,
    displayName: `${names.zh}${ROLE_NAMES[role].zh} · ${names.en} ${ROLE_NAMES[role].en}`,
  };
}

/**
 * The demo logins, for the start-up banner and the README. The auditor's and admin's agency only labels the
 * events they write; their view is the whole city.
 */
export const DEMO_USERS: readonly DemoUser[] = [
  ...AGENCIES.map((agency) => agencyUser('dispatcher', agency)),
  ...AGENCIES.map((agency) => agencyUser('supervisor', agency)),
  { username: 'auditor', password: DEMO_PASSWORD, role: 'auditor', agency: 'police', displayName: '审计员 · Auditor' },
  { username: 'admin', password: DEMO_PASSWORD, role: 'admin', agency: 'police', displayName: '城市大脑管理员 · City Brain administrator' },
];
