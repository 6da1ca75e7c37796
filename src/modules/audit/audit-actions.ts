/**
 * Every action the audit trail records, `resource.verb`: the one list the writers are typed
 * against (recordAudit takes an AuditAction), the `action` filter accepts, and the OpenAPI
 * document and README show. An action missing here does not compile where it is written.
 */
export const AUDIT_ACTIONS = [
  'auth.login',
  'auth.login_failed',
  'auth.logout',
  'auth.refresh_reuse_detected',
  'user.registered',
  'user.created',
  'user.updated',
  'user.deleted',
  'user.account_updated',
  'user.password_reset_issued',
  'user.password_reset_completed',
  'user.platform_admin_granted',
  'user.platform_admin_revoked',
  'organization.created',
  'organization.updated',
  'organization.deleted',
  'organization.member_invited',
  'organization.invitation_accepted',
  'organization.invitation_declined',
  'organization.invitation_cancelled',
  'organization.member_role_changed',
  'organization.member_removed',
  'project.created',
  'project.updated',
  'project.deleted',
  'api_key.created',
  'api_key.updated',
  'api_key.revoked',
  'api_key.deleted',
  'api_key.rotated',
  'quota.created',
  'quota.updated',
  'quota.deleted',
  'rate_limits.updated',
  'api_version.created',
  'api_version.updated',
  'api_version.deleted',
  'webhook.created',
  'webhook.updated',
  'webhook.deleted',
  'webhook.disabled',
  'webhook.secret_rotated',
] as const;

export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** Who acts: a user, an API key, nobody yet (a failed login), or the operator (`system`). */
export const AUDIT_ACTOR_TYPES = ['user', 'api_key', 'anonymous', 'system'] as const;
export type AuditActorType = (typeof AUDIT_ACTOR_TYPES)[number];

/** What an entry is about. */
export const AUDIT_TARGET_TYPES = [
  'user',
  'organization',
  'project',
  'api_key',
  'quota',
  'rate_limits',
  'api_version',
  'refresh_token_family',
  'webhook',
] as const;
export type AuditTargetType = (typeof AUDIT_TARGET_TYPES)[number];

/**
 * The longest actor or target id an entry records: a UUID, a project id, a version name, the
 * operator's tool (`admin-cli`), or the scopes one rate-limit change wrote
 * (`global,tier:free,...,org:<uuid>`, about 105).
 */
export const AUDIT_PARTY_ID_MAX_LENGTH = 128;
