import { parseArgs } from 'node:util';
import { type CommandEntry, flagsNotTaken, UsageError } from './command-table.js';

/** The options keys and teams share, in their commands' usage. */
const TENANT_SETTING_OPTIONS = `  --models A,B|any       models the caller may use; a model group counts by its name
                         (its deployments' models do not admit it)
  --rpm N|none           requests per minute
  --tpm N|none           tokens per minute
  --concurrency N|none   calls in flight at once
  --daily USD|none       budget per UTC day
  --monthly USD|none     budget per UTC month
  --total USD|none       budget over the whole life
  --metadata JSON        free-form labels, a JSON object
  --enable, --disable    let it be used, or not
  --json                 print JSON
  -h, --help             show this help`;

const help = { help: { type: 'boolean', short: 'h', default: false } } as const;

function refuseExtra(positionals: readonly string[], allowed: number): void {
  const extra = positionals.slice(allowed);
  if (extra.length > 0)
    throw new UsageError(`Unexpected argument${extra.length === 1 ? '' : 's'}: ${extra.map((value) => `"${value}"`).join(' ')}.`);
}

/** The flags that set a key's or team's limits, budgets, models, labels and state. */
const SETTING_FLAGS = ['models', 'rpm', 'tpm', 'concurrency', 'daily', 'monthly', 'total', 'metadata', 'enable', 'disable'];

/** The flags each `keys`/`teams` action takes (`--json` and `--help` aside where listed). */
const TENANT_ACTION_FLAGS: Record<'keys' | 'teams', Record<string, readonly string[]>> = {
  keys: {
    create: ['name', 'team', 'expires', ...SETTING_FLAGS, 'json'],
    update: ['name', 'team', 'expires', ...SETTING_FLAGS, 'json'],
    list: ['team', 'json'],
    show: ['json'],
    revoke: ['json'],
    rotate: ['json'],
    'rebuild-budgets': ['json'],
  },
  teams: {
    create: ['name', ...SETTING_FLAGS, 'json'],
    update: ['name', ...SETTING_FLAGS, 'json'],
    list: ['json'],
    show: ['json'],
    delete: [],
    'rebuild-budgets': ['json'],
  },
};

/** Refuses, naming them, the flags given that `allowed` does not hold. */
function refuseFlags(command: string, values: Record<string, unknown>, allowed: readonly string[]): void {
  const problem = flagsNotTaken(command, values, allowed);
  if (problem !== undefined) throw new UsageError(`${problem}.`);
}

function parseTenantArgs(command: 'keys' | 'teams', argv: string[]) {
  const text = { type: 'string' } as const;
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      ...help,
      json: { type: 'boolean', default: false },
      name: text,
      team: text,
      models: text,
      rpm: text,
      tpm: text,
      concurrency: text,
      daily: text,
      monthly: text,
      total: text,
      expires: text,
      metadata: text,
      enable: { type: 'boolean' },
      disable: { type: 'boolean' },
    },
    allowPositionals: true,
    strict: true,
  });
  refuseExtra(positionals, 2);
  const action = positionals[0];
  if (action === undefined) throw new UsageError('Give an action, e.g. create or list.');
  const allowed = TENANT_ACTION_FLAGS[command][action];
  // An unknown action is named by the command itself, with the actions it takes.
  if (allowed !== undefined) refuseFlags(`${command} ${action}`, values, allowed);
  if (action === 'create' && positionals[1] !== undefined && values.name !== undefined)
    throw new UsageError(`Give the name once: ${command} create NAME, or ${command} create --name NAME.`);
  return { action, reference: positionals[1], flags: values };
}

/**
 * The command table. Each entry parses its own flags, then imports its command's module, so that
 * `groundwork --help` (and every other command) loads only what it uses.
 */
export const COMMANDS: Record<string, CommandEntry> = {
  doctor: {
    summary: 'doctor [--json]              check configuration and every dependency; exit 1 if a required one fails',
    usage: `Usage: groundwork doctor [--json]

Checks the configuration, then each dependency it describes (database, Redis, LLM providers),
each within a time limit. Exits 1 if a required check fails.

Options:
  --json      print the report as JSON
  -h, --help  show this help`,
    async run(argv, io) {
      const { values } = parseArgs({ args: argv, options: { ...help, json: { type: 'boolean', default: false } }, strict: true });
      const { doctorCommand } = await import('./commands/doctor.js');
      return doctorCommand({ json: values.json }, io);
    },
  },
  serve: {
    summary: 'serve                        run the HTTP service (health, metrics, OpenAI-compatible API) on PORT until SIGTERM/SIGINT',
    usage: `Usage: groundwork serve

Runs the HTTP service on HOST:PORT: /healthz, /readyz, /metrics, the OpenAI-compatible
/v1/chat/completions, /v1/embeddings, /v1/responses[/{id}[/cancel|/input_items]] and /v1/models[/{model}], the dashboard
at /ui with its JSON under /admin/api (loopback only unless GROUNDWORK_ADMIN_KEY is set), and, with
GROUNDWORK_ADMIN_KEY, the admin API under /admin, until SIGTERM or SIGINT, then shuts down gracefully.
Configured by environment variables (PORT, HOST, GROUNDWORK_API_KEYS, SERVER_*); see the README.

Options:
  -h, --help  show this help`,
    async run(argv, io) {
      parseArgs({ args: argv, options: help, strict: true });
      const { serveCommand } = await import('./commands/serve.js');
      return serveCommand(io);
    },
  },
  config: {
    summary: 'config [--markdown]          print the resolved configuration (secrets redacted), or the variable table',
    usage: `Usage: groundwork config [--markdown]

Prints the resolved configuration as JSON, secrets redacted.

Options:
  --markdown  print the table of every variable, its default and meaning, instead
  -h, --help  show this help`,
    async run(argv, io) {
      const { values } = parseArgs({ args: argv, options: { ...help, markdown: { type: 'boolean', default: false } }, strict: true });
      const { configCommand } = await import('./commands/config.js');
      return configCommand({ markdown: values.markdown }, io);
    },
  },
  migrate: {
    summary: 'migrate [up|down|status]     apply pending migrations (default), revert the latest, or list them [--json]',
    usage: `Usage: groundwork migrate [up|down|status] [--json]

  up      apply every pending migration, Groundwork's and the application's (DB_MIGRATIONS_DIR) (default)
  down    revert the latest migration
  status  list every migration and whether it has run

Options:
  --json      print the result as JSON
  -h, --help  show this help`,
    async run(argv, io) {
      const { values, positionals } = parseArgs({
        args: argv,
        options: { ...help, json: { type: 'boolean', default: false } },
        allowPositionals: true,
        strict: true,
      });
      refuseExtra(positionals, 1);
      const action = positionals[0] ?? 'up';
      if (action !== 'up' && action !== 'down' && action !== 'status')
        throw new UsageError(`Unknown migrate action "${action}": use up, down or status.`);
      const { migrateCommand } = await import('./commands/migrate.js');
      return migrateCommand({ action, json: values.json }, io);
    },
  },
  prompt: {
    summary: 'prompt "text" | --file PATH  send one prompt; print the answer, then tokens, cost and latency [--system TEXT] [--json]',
    usage: `Usage: groundwork prompt "text" [options]
       groundwork prompt --file PATH [options]

Sends one prompt through the configured provider (with its cache, retries, limits and ledger),
prints the answer on stdout, then tokens, cost and latency on stderr. When the usage ledger fails
to record the call, says so on stderr and exits 1.

Options:
  --file PATH        read the prompt from a file instead
  --system TEXT      a system message
  --provider NAME    use this provider instead of LLM_PROVIDER
  --model NAME       use this model instead of the provider's default
  --json             print the whole response (content, metadata, usage) as JSON
  -h, --help         show this help`,
    async run(argv, io) {
      const { values, positionals } = parseArgs({
        args: argv,
        options: {
          ...help,
          file: { type: 'string' },
          system: { type: 'string' },
          json: { type: 'boolean', default: false },
          provider: { type: 'string' },
          model: { type: 'string' },
        },
        allowPositionals: true,
        strict: true,
      });
      if (values.file !== undefined) refuseExtra(positionals, 0);
      const { promptCommandFromFlags } = await import('./commands/prompt.js');
      return promptCommandFromFlags({ ...values, text: positionals.join(' ') || undefined }, io);
    },
  },
  'fake-provider': {
    summary: 'fake-provider [--port N]     run the fake LLM provider (OpenAI, Azure and Anthropic wire formats) for tests and examples',
    usage: `Usage: groundwork fake-provider [--port N] [--host HOST]

Runs the fake LLM provider server that Groundwork's own tests use: it speaks OpenAI's, Azure
OpenAI's and Anthropic's wire formats (JSON and streamed) and answers "ok" to every chat request.
Point an application at it with OPENAI_BASE_URL=http://HOST:PORT/v1. Stops on SIGTERM or SIGINT.

Options:
  --port N     the port to listen on (default: 0, any free port)
  --host HOST  the address to bind (default: 127.0.0.1)
  -h, --help   show this help`,
    async run(argv, io) {
      const { values } = parseArgs({
        args: argv,
        options: { ...help, port: { type: 'string', default: '0' }, host: { type: 'string', default: '127.0.0.1' } },
        strict: true,
      });
      const port = Number(values.port);
      if (!/^\d+$/.test(values.port) || port > 65_535)
        throw new UsageError(`--port must be a whole number from 0 to 65535, not "${values.port}".`);
      const { fakeProviderCommand } = await import('./commands/fake-provider.js');
      return fakeProviderCommand({ port, host: values.host }, io);
    },
  },
  keys: {
    summary: 'keys create|list|show|update|revoke|rotate  manage virtual keys (models, limits, budgets) [--json]',
    usage: `Usage: groundwork keys create NAME [options]
       groundwork keys list [--team NAME] [--json]
       groundwork keys show|revoke|rotate NAME|ID [--json]
       groundwork keys update NAME|ID [options]
       groundwork keys rebuild-budgets NAME|ID [--json]

Manages the virtual keys \`groundwork serve\` accepts with GROUNDWORK_VIRTUAL_KEYS=true. A new or
rotated key is printed once, on stdout; only its SHA-256 digest is stored. Changes are audited,
and announced to running services over Redis when REDIS_URL is set. rebuild-budgets sets the
key's budget counters (day, month, total) to the spend the usage ledger holds.

Options (create and update):
  --name NAME            the name (update: rename)
  --team NAME|ID|none    the team whose budgets and limits also bound the key
  --expires DATE|never   when the key stops working (a later time: to stop it now, revoke it)
${TENANT_SETTING_OPTIONS}`,
    async run(argv, io) {
      const { action, reference, flags } = parseTenantArgs('keys', argv);
      const { keysCommand } = await import('./commands/tenants.js');
      return keysCommand(action, reference, flags, io);
    },
  },
  teams: {
    summary: 'teams create|list|show|update|delete       manage teams, whose budgets and limits bound their keys [--json]',
    usage: `Usage: groundwork teams create NAME [options]
       groundwork teams list [--json]
       groundwork teams show|delete NAME|ID
       groundwork teams update NAME|ID [options]
       groundwork teams rebuild-budgets NAME|ID [--json]

Options (create and update):
  --name NAME            the name (update: rename)
${TENANT_SETTING_OPTIONS}`,
    async run(argv, io) {
      const { action, reference, flags } = parseTenantArgs('teams', argv);
      const { teamsCommand } = await import('./commands/tenants.js');
      return teamsCommand(action, reference, flags, io);
    },
  },
  usage: {
    summary: 'usage --by key|team|model|prompt --since 7d  spend, calls and tokens from the usage ledger [--json]',
    usage: `Usage: groundwork usage [--by key|team|model|prompt] [--since 7d] [--json]

Sums the usage ledger (llm_usage) since a moment: calls, tokens and cost per group, costliest first.

Options:
  --by GROUP    key, team, model or prompt (default: key)
  --since AGE   30m, 24h, 7d, 4w… (default: 7d)
  --json        print JSON
  -h, --help    show this help`,
    async run(argv, io) {
      const { values, positionals } = parseArgs({
        args: argv,
        options: {
          ...help,
          json: { type: 'boolean', default: false },
          by: { type: 'string', default: 'key' },
          since: { type: 'string', default: '7d' },
        },
        allowPositionals: true,
        strict: true,
      });
      refuseExtra(positionals, 0);
      const by = values.by;
      if (by !== 'key' && by !== 'team' && by !== 'model' && by !== 'prompt')
        throw new UsageError(`--by ${by}: use key, team, model or prompt.`);
      const { usageCommand } = await import('./commands/usage.js');
      return usageCommand({ by, since: values.since, json: values.json }, io);
    },
  },
  dashboard: {
    summary: "dashboard rollup [--since 7d]  rebuild the dashboard's hourly roll-ups from the usage ledger [--json]",
    usage: `Usage: groundwork dashboard rollup [--since AGE] [--json]

Recomputes the dashboard's hourly roll-ups (llm_usage_hourly_model, _key and _prompt) from the
usage ledger (llm_usage). The ledger keeps them up to date as it
writes; run this after writing rows into llm_usage by other means (a backfill, a restore).

Options:
  --since AGE   only the hours since AGE: 30m, 24h, 7d, 4w… (default: every hour)
  --json        print JSON
  -h, --help    show this help`,
    async run(argv, io) {
      const { values, positionals } = parseArgs({
        args: argv,
        options: { ...help, json: { type: 'boolean', default: false }, since: { type: 'string' } },
        allowPositionals: true,
        strict: true,
      });
      if (positionals[0] !== 'rollup')
        throw new UsageError(`${positionals[0] === undefined ? 'No action' : `"${positionals[0]}"`}: use rollup.`);
      refuseExtra(positionals, 1);
      const { dashboardRollupCommand } = await import('./commands/dashboard.js');
      return dashboardRollupCommand({ since: values.since, json: values.json }, io);
    },
  },
  jobs: {
    summary: 'jobs status|list|retry|cancel|work|batches  the durable job queue: counts, jobs, dead letters, batches, a worker [--json]',
    usage: `Usage: groundwork jobs status|list|retry ID|cancel ID|work|batches [ID]|cancel-batch ID [options]

  status     counts per state and the age of the oldest job due to run (works on an empty queue)
  list       jobs, newest first [--state STATE] [--name NAME] [--limit N]
  retry ID   put a failed (dead-lettered) or cancelled job back in the queue
  cancel ID  cancel a job that has not finished
  work       run a worker until SIGTERM/SIGINT [--concurrency N] [--names A,B] [--module PATH]
             (the module exports \`prompts\` it can run and \`jobs\`, handlers by kind name)
  batches    provider Batch API batches, newest first [--limit N]; with an ID, one batch and its items
  cancel-batch ID  cancel a batch (before submission, or at the provider)

Options:
  --state STATE      created, retry, active, completed, cancelled or failed
  --name NAME        only jobs of this name
  --limit N          most jobs listed (default 50)
  --concurrency N    jobs run at once by the worker (default 4)
  --names A,B        job names the worker takes (default: every one its module knows)
  --module PATH      an ES module with the worker's prompts and job handlers
  --json             print JSON
  -h, --help         show this help`,
    async run(argv, io) {
      const text = { type: 'string' } as const;
      const { values, positionals } = parseArgs({
        args: argv,
        options: {
          ...help,
          json: { type: 'boolean', default: false },
          state: text,
          name: text,
          limit: text,
          concurrency: text,
          names: text,
          module: text,
        },
        allowPositionals: true,
        strict: true,
      });
      const { checkJobsArgs, jobsCommand } = await import('./commands/jobs.js');
      return jobsCommand(checkJobsArgs(positionals, values), io);
    },
  },
};

/** Whether `argv` asks for a command's help (checked before its other flags are validated). */
export function asksForHelp(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).some((value) => value === '--help' || value === '-h');
}
