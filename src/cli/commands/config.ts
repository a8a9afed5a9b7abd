import { ConfigSource } from '../../config/load-config.js';
import { maskUrlCredentials } from '../../config/urls.js';
import { VARIABLES } from '../../config/variables.js';
import type { CommandIo } from '../output.js';

/** The README's configuration table, generated from the schema's documentation. */
export function configMarkdownTable(): string {
  const rows = ['| Variable | Default | Description |', '| --- | --- | --- |'];
  let section = '';
  for (const [name, definition] of Object.entries(VARIABLES)) {
    if (definition.section !== section) {
      section = definition.section;
      rows.push(`| **${section}** | | |`);
    }
    const secret = 'secret' in definition && definition.secret === true ? ' Secret: also read from `' + name + '_FILE`.' : '';
    rows.push(
      `| \`${name}\` | ${definition.default.startsWith('(') ? definition.default : `\`${definition.default}\``} | ${definition.description}${secret} |`,
    );
  }
  rows.push(
    '| `FEATURE_FLAG_<NAME>` | `false` | `true`/`false`; exposed as `config.featureFlags.<camelCaseName>` (`FEATURE_FLAG_NEW_UI` → `newUi`). |',
  );
  return rows.join('\n');
}

/**
 * A URL's password and credential query parameters masked: a provider's base URL or endpoint is no
 * `Secret` (its client needs it whole), yet may carry a proxy's credentials (`https://user:pass@proxy/v1`).
 */
const maskUrls = (_key: string, value: unknown): unknown => (typeof value === 'string' ? maskUrlCredentials(value) : value);

/**
 * `groundwork config [--markdown]`: the resolved configuration with secrets redacted (and the
 * credentials of every URL in it masked), or the variable table.
 */
export async function configCommand(args: { markdown: boolean }, io: CommandIo): Promise<number> {
  if (args.markdown) {
    io.out(configMarkdownTable());
    return 0;
  }
  const source = new ConfigSource({ env: io.env, isTty: io.isTty });
  const status = source.validate();
  if (!status.isValid) {
    for (const error of status.errors)
      io.err(`✘ ${error.variable}: ${error.message}${error.example === undefined ? '' : ` (e.g. ${error.example})`}`);
    return 1;
  }
  io.out(JSON.stringify(source.load(), maskUrls, 2));
  return 0;
}
