import { GroundworkError } from '../errors/groundwork-error.js';

/** A dashboard query parameter that cannot be used; answered as a 400 naming the parameter. */
export class DashboardInputError extends GroundworkError {
  readonly parameter: string;

  constructor(parameter: string, problem: string) {
    super('dashboard_invalid', `Invalid ${parameter}: ${problem}.`);
    this.parameter = parameter;
  }
}
