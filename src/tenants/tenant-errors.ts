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

/** One bad field of a key's or team's input, and what to fix. */
export interface TenantInputProblem {
  field: string;
  message: string;
}

/**
 * A setting is out of range or malformed; `field` names it. Input with several bad fields is
 * refused by one error naming each: `field` lists them, comma-separated, and the message gives
 * each its own reason (`a: …; b: …`).
 */
export class TenantInputError extends GroundworkError {
  readonly field: string;
  /** Each bad field with its reason, in the order they were checked. */
  readonly problems: readonly TenantInputProblem[];

  constructor(field: string, message: string);
  constructor(problems: readonly TenantInputProblem[]);
  constructor(fieldOrProblems: string | readonly TenantInputProblem[], message = '') {
    const problems = typeof fieldOrProblems === 'string' ? [{ field: fieldOrProblems, message }] : [...fieldOrProblems];
    super('tenant_invalid', problems.map((problem) => `${problem.field}: ${problem.message}`).join('; '));
    this.field = problems.map((problem) => problem.field).join(', ');
    this.problems = problems;
  }
}
