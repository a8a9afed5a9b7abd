import { GroundworkError } from '../errors/groundwork-error.js';

/** Which kind of tenant a message is about. */
export type TenantKind = 'key' | 'team';

/** No key or team has that name or id. */
export class TenantNotFoundError extends GroundworkError {
  readonly kind: TenantKind;
  readonly reference: string;

  constructor(kind: TenantKind, reference: string) {
    super('tenant_not_found', `No ${kind} is named or has the id "${reference}"; list them with \`groundwork ${kind}s list\`.`);
    this.kind = kind;
    this.reference = reference;
  }
}

/** The change would break a rule: a name already taken, a team that still has keys, a revoked key. */
export class TenantConflictError extends GroundworkError {
  constructor(message: string) {
    super('tenant_conflict', message);
  }
}

/** A setting is out of range or malformed; `field` names it. */
export class TenantInputError extends GroundworkError {
  readonly field: string;

  constructor(field: string, message: string) {
    super('tenant_invalid', `${field}: ${message}`);
    this.field = field;
  }
}
