import 'uplot/dist/uPlot.min.css';
import './styles.css';
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { loadSession, type Session } from './api.js';
import { CallsPage } from './calls.js';
import { KeysPage } from './keys.js';
import { LivePage } from './live.js';
import { OverviewPage } from './overview.js';
import { PromptsPage } from './prompts.js';
import { ErrorNote } from './widgets.js';

const PAGES = [
  ['overview', 'Overview'],
  ['live', 'Live'],
  ['calls', 'Calls'],
  ['keys', 'Keys and teams'],
  ['prompts', 'Prompts'],
] as const;

type PageName = (typeof PAGES)[number][0];

function currentPage(): PageName {
  const name = window.location.hash.replace(/^#\/?/, '');
  return PAGES.some(([page]) => page === name) ? (name as PageName) : 'overview';
}

function App() {
  const [page, setPage] = useState<PageName>(currentPage());
  const [session, setSession] = useState<Session | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  useEffect(() => {
    const onHash = () => setPage(currentPage());
    window.addEventListener('hashchange', onHash);
    loadSession().then(setSession, setError);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);
  return (
    <div class="shell">
      <nav class="sidebar" aria-label="Dashboard">
        <div class="brand">
          <span class="brand-mark" aria-hidden="true" />
          Groundwork
        </div>
        <ul>
          {PAGES.map(([name, label]) => (
            <li>
              <a href={`#/${name}`} class={page === name ? 'active' : ''} aria-current={page === name ? 'page' : undefined}>
                {label}
              </a>
            </li>
          ))}
        </ul>
        {session?.loginRequired ? (
          <form method="post" action="/ui/logout" class="logout">
            <button type="submit">Sign out</button>
          </form>
        ) : null}
      </nav>
      <main class="content">
        <ErrorNote error={error} />
        {session === undefined ? null : page === 'overview' ? (
          <OverviewPage />
        ) : page === 'live' ? (
          <LivePage />
        ) : page === 'calls' ? (
          <CallsPage />
        ) : page === 'keys' ? (
          <KeysPage tenants={session.tenants} />
        ) : (
          <PromptsPage />
        )}
      </main>
    </div>
  );
}

const root = document.getElementById('app');
if (root !== null) render(<App />, root);
