import type { Role } from '@shop/platform/auth';
import type { PlatformTables } from '@shop/platform/db';
import type { ColumnType, Generated } from 'kysely';

export type UsersTable = {
  id: string;
  /** Trimmed and lower-cased before it is stored, so the unique index is case-insensitive. */
  email: string;
  name: string;
  role: Role;
  password_hash: string;
  created_at: ColumnType<Date, Date, never>;
  /** A disabled account cannot log in or refresh; its sessions were ended when it was disabled. */
  status: Generated<AccountStatus>;
  email_verified_at: Date | null;
};

export type AccountStatus = 'active' | 'disabled';

/** Why a login (refresh-token family) was ended. */
export type RevokeReason =
  | 'logout'
  | 'reuse'
  | 'password_changed'
  | 'password_reset'
  | 'disabled'
  | 'role_changed'
  | 'deleted';

/** One login: every refresh token issued from it belongs to its family. */
export type TokenFamiliesTable = {
  id: string;
  user_id: string;
  created_at: Generated<Date>;
  revoked_at: Date | null;
  revoke_reason: RevokeReason | null;
};

export type RefreshTokensTable = {
  /** SHA-256 of the token: the token itself is never stored. */
  token_hash: string;
  family_id: string;
  created_at: Generated<Date>;
  expires_at: Date;
  spent_at: Date | null;
};

/**
 * A device a user has logged in from (OWASP's device cookie): its logins are exempt from
 * the account-wide cap until it expires, is revoked or collects too many wrong passwords.
 */
export type DeviceTokensTable = {
  /** SHA-256 of the token: the token itself is never stored. */
  token_hash: string;
  user_id: string;
  created_at: Date;
  expires_at: Date;
  failures: Generated<number>;
  revoked_at: Date | null;
  revoke_reason: 'logout' | 'failures' | 'user' | null;
};

export type AccountTokenPurpose = 'password_reset' | 'email_verification';

/** A single-use token mailed to the account's owner: a password reset or an email verification. */
export type AccountTokensTable = {
  /** SHA-256 of the token: the token itself is never stored. */
  token_hash: string;
  user_id: string;
  purpose: AccountTokenPurpose;
  created_at: Date;
  expires_at: Date;
  used_at: Date | null;
};

/** Failed logins per account and per client address, for throttling. */
export type LoginThrottleTable = {
  key: string;
  failures: number;
  window_started_at: Date;
  blocked_until: Date | null;
  /** The window for which this account's lockout was reported to its owner. */
  lock_reported_for: Date | null;
};

export type UsersTables = PlatformTables & {
  users: UsersTable;
  token_families: TokenFamiliesTable;
  refresh_tokens: RefreshTokensTable;
  login_throttle: LoginThrottleTable;
  device_tokens: DeviceTokensTable;
  account_tokens: AccountTokensTable;
};
