/** A learner. `telegram_id` is set for learners who arrive through a Telegram bot, as in the seed. */
export interface UsersTable {
  id: string;
  username: string;
  telegram_id: number | null;
  /** ISO 8601, UTC. */
  created_at: string;
}

/** One learning session: a topic a user studies, with its generated questions. */
export interface LearningSessionsTable {
  id: string;
  user_id: string;
  topic: string;
  /** ISO 8601, UTC. */
  created_at: string;
}

/** One multiple-choice question of a learning session. */
export interface QuestionsTable {
  id: string;
  session_id: string;
  /** 0-based order within the session. */
  position: number;
  question: string;
  /** The options as a JSON array of strings. */
  options: string;
  correct_index: number;
  explanation: string;
}

/** The learning example's tables, as Kysely sees them (`createInfrastructure<LearningTables>()`). */
export interface LearningTables {
  users: UsersTable;
  learning_sessions: LearningSessionsTable;
  questions: QuestionsTable;
}
