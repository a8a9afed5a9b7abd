// Loader hooks (see delay-kysely-load.mjs): Kysely's ES entry is loaded 300 ms late, and the main
// thread hears when that load starts, so an import() of it stays under way long enough to be seen.
let port;

export function initialize(data) {
  port = data.port;
}

export async function load(url, context, nextLoad) {
  if (/\/node_modules\/kysely\/dist\/esm\/index\.js$/.test(url)) {
    port.postMessage('kysely');
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  return nextLoad(url, context);
}
