import type { TenantSettings } from './tenant-settings.js';

/** A group of keys whose budgets and limits bound them together. */
export interface Team extends TenantSettings {
  /** `team_…`, stable for the team's life. */
  id: string;
  /** Unique among teams. */
  name: string;
  createdAt: Date;
  updatedAt: Date;
}
